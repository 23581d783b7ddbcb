package main

// The commands that talk to a running Baton over HTTP: the admin API's
// workspaces, keys, bots, desks and agents (with an admin key), and the bot
// API's event stream (with a bot API key). Their entries in the command table
// (help.go) give their usage lines and summaries; apiCmds below gives their
// flags and how they run. run hands them to runAPICommand before its own flag parsing.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"text/tabwriter"
	"time"
	"unicode/utf8"
)

// The environment the admin commands read.
var (
	envURL       = envVar{"BATON_URL", "the running Baton's base URL (or --url; default\nhttp://127.0.0.1:8080)"}
	envAdminKey  = envVar{"BATON_ADMIN_KEY", "an admin key, badm_… (or --admin-key)"}
	envWorkspace = envVar{"BATON_WORKSPACE", "the workspace (or --workspace)"}
	envAPIKey    = envVar{"BATON_API_KEY", "a bot API key of the workspace (or --api-key)"}

	apiAdminEnv     = []envVar{envURL, envAdminKey}               // admin commands about workspaces
	apiWorkspaceEnv = []envVar{envURL, envAdminKey, envWorkspace} // admin commands inside one workspace
	apiBotEnv       = []envVar{envURL, envAPIKey}                 // bot API commands
)

const defaultBatonURL = "http://127.0.0.1:8080"

// Timeouts of the admin commands.
var (
	callTimeout = 30 * time.Second // one admin API call
	tailIdle    = 45 * time.Second // a stream silent this long (the server beats every 15 s) is dead
	tailRetry   = 2 * time.Second  // the first reconnection delay, until the server's retry: says
	tailMaxWait = 30 * time.Second // the longest reconnection delay
)

// apiOpts holds the admin commands' flags.
type apiOpts struct {
	url, adminKey, apiKey, workspace string
	json                             bool
	id, name, scope, bot             string
	force                            bool
	after                            int64
}

// apiCmd is how one admin command runs.
type apiCmd struct {
	key   string   // "admin" or "bot": the key it sends
	ws    bool     // inside one workspace: needs --workspace
	args  []string // its positional arguments, all required
	flags func(fs *flag.FlagSet, o *apiOpts)
	run   func(ctx context.Context, c *batonClient, o *apiOpts, args []string, out apiOut) error
}

// apiOut is where an admin command writes: its answer on stdout,
// remarks that are not the answer (the key's "not shown again", the
// stream's reconnections) on stderr, so that --json output stays JSON.
type apiOut struct {
	stdout, stderr io.Writer
	json           bool
}

// apiCmds are the admin commands by name, as in the command table.
var apiCmds = map[string]apiCmd{
	"workspaces": {key: "admin", flags: jsonFlag, run: cmdWorkspaces},
	"workspaces create": {key: "admin", run: cmdWorkspacesCreate, flags: func(fs *flag.FlagSet, o *apiOpts) {
		fs.StringVar(&o.name, "name", "", "the workspace's `NAME` (required)")
		fs.StringVar(&o.id, "id", "", "its `ID`, 1-64 of A-Z a-z 0-9 . _ - (default: one made, ws_…)")
		jsonFlag(fs, o)
	}},
	"workspaces delete": {key: "admin", args: []string{"ID"}, run: cmdWorkspacesDelete, flags: func(fs *flag.FlagSet, o *apiOpts) {
		fs.BoolVar(&o.force, "force", false, "delete it even with open handoffs, ending them bot_closed")
		jsonFlag(fs, o)
	}},
	"keys create": {key: "admin", ws: true, run: cmdKeysCreate, flags: func(fs *flag.FlagSet, o *apiOpts) {
		fs.StringVar(&o.name, "name", "", "the key's `NAME`, to know it by (required)")
		fs.StringVar(&o.scope, "scope", "", "the key's `SCOPE`: full; read for the bot API's GET routes only; bot for the bot API without MCP; mcp for MCP and the tools only (default full)")
		fs.StringVar(&o.bot, "bot", "", "limit the key to the conversations, handoffs and events of the bot `ID`")
		jsonFlag(fs, o)
	}},
	"keys list": {key: "admin", ws: true, flags: jsonFlag, run: cmdKeysList},
	"keys revoke": {key: "admin", ws: true, args: []string{"ID"}, run: cmdKeysRevoke, flags: func(fs *flag.FlagSet, o *apiOpts) {
		fs.BoolVar(&o.json, "json", false, "print nothing on success (the API answers 204 with no body), for scripts")
	}},
	"bots":        {key: "admin", ws: true, flags: jsonFlag, run: cmdBots},
	"desks":       {key: "admin", ws: true, flags: jsonFlag, run: cmdDesks},
	"desks check": {key: "admin", ws: true, args: []string{"ID"}, flags: jsonFlag, run: cmdDesksCheck},
	"agents":      {key: "admin", ws: true, flags: jsonFlag, run: cmdAgents},
	"events tail": {key: "bot", run: cmdEventsTail, flags: func(fs *flag.FlagSet, o *apiOpts) {
		fs.StringVar(&o.bot, "bot", "", "the bot `ID` whose events to show (optional when the workspace has one bot)")
		fs.Int64Var(&o.after, "after", 0, "start after the event `SEQ` (default: from the first event kept)")
		fs.BoolVar(&o.json, "json", false, "print each event's JSON envelope on a line of its own, as the API sends it")
	}},
}

// jsonFlag adds --json, the flag of nearly every admin command.
func jsonFlag(fs *flag.FlagSet, o *apiOpts) {
	fs.BoolVar(&o.json, "json", false, "print the API's JSON answer as it is, for scripts")
}

// isAPICommand reports whether word begins an admin command.
func isAPICommand(word string) bool {
	for name := range apiCmds {
		if first, _, _ := strings.Cut(name, " "); first == word {
			return true
		}
	}
	return false
}

// runAPICommand runs the command that begins with word, rest being the
// arguments that follow it.
func runAPICommand(ctx context.Context, word string, rest []string, getenv func(string) string, stdout, stderr io.Writer) error {
	name := word
	if len(rest) > 0 {
		if _, ok := apiCmds[word+" "+rest[0]]; ok {
			name, rest = word+" "+rest[0], rest[1:]
		}
	}
	ac, ok := apiCmds[name]
	if !ok { // a first word with no command of its own: keys, events
		if len(rest) > 0 && isHelp(rest[0]) {
			groupHelp(stdout, word)
			return nil
		}
		subs := group(word)
		return fmt.Errorf("usage: baton %s; try: baton %s --help", strings.TrimSpace(subs[0].name+" "+subs[0].args), word)
	}
	var o apiOpts
	fs := ac.flagSet(name, &o)
	args, err := parseInterleaved(fs, rest)
	// --help anywhere asks for help, whatever else the line holds (baton
	// events tail --after SEQ --help).
	flagArgs := rest
	if i := slices.Index(rest, "--"); i >= 0 {
		flagArgs = rest[:i]
	}
	if slices.ContainsFunc(flagArgs, isHelp) || errors.Is(err, flag.ErrHelp) {
		ac.help(stdout, name)
		return nil
	} else if err != nil {
		return fmt.Errorf("%s: %w; try: baton %s --help", name, err, name)
	}
	if len(args) > len(ac.args) {
		return fmt.Errorf("%s: unexpected argument %q; try: baton %s --help", name, args[len(ac.args)], name)
	} else if len(args) < len(ac.args) {
		return fmt.Errorf("%s: %s is required; try: baton %s --help", name, ac.args[len(args)], name)
	}

	c, err := newBatonClient(o.url, getenv("BATON_URL"))
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	switch ac.key {
	case "admin":
		if c.key = firstOf(o.adminKey, getenv("BATON_ADMIN_KEY")); c.key == "" {
			return fmt.Errorf("%s: no admin key: set BATON_ADMIN_KEY or pass --admin-key", name)
		}
	case "bot":
		if c.key = firstOf(o.apiKey, getenv("BATON_API_KEY")); c.key == "" {
			return fmt.Errorf("%s: no API key: set BATON_API_KEY or pass --api-key", name)
		}
	}
	if ac.ws {
		if o.workspace = firstOf(o.workspace, getenv("BATON_WORKSPACE")); o.workspace == "" {
			return fmt.Errorf("%s: no workspace: set BATON_WORKSPACE or pass --workspace", name)
		}
	}
	if err := ac.run(ctx, c, &o, args, apiOut{stdout: stdout, stderr: stderr, json: o.json}); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// flagSet returns the flags of the admin command name, filling o.
func (ac apiCmd) flagSet(name string, o *apiOpts) *flag.FlagSet {
	fs := flag.NewFlagSet("baton "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // runAPICommand reports the errors and prints the help
	fs.Usage = func() {}
	if ac.flags != nil {
		ac.flags(fs, o)
	}
	fs.StringVar(&o.url, "url", "", "the running Baton's base `URL` (default $BATON_URL, else "+defaultBatonURL+")")
	switch ac.key {
	case "admin":
		fs.StringVar(&o.adminKey, "admin-key", "", "an admin `KEY` (default $BATON_ADMIN_KEY, which keeps the key out of the process list)")
	case "bot":
		fs.StringVar(&o.apiKey, "api-key", "", "a bot API `KEY` (default $BATON_API_KEY, which keeps the key out of the process list)")
	}
	if ac.ws {
		fs.StringVar(&o.workspace, "workspace", "", "the workspace `ID` (default $BATON_WORKSPACE)")
	}
	return fs
}

// parseInterleaved parses args with fs, flags before and after the
// positional arguments (baton workspaces delete acme --force), which it
// returns; after "--" every argument is positional.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		left := fs.Args()
		if n := len(args) - len(left); n > 0 && args[n-1] == "--" {
			return append(pos, left...), nil
		}
		if len(left) == 0 {
			return pos, nil
		}
		pos, args = append(pos, left[0]), left[1:]
	}
}

// help prints the admin command's help as command.help prints the others'.
func (ac apiCmd) help(w io.Writer, name string) {
	c, _ := lookup(name)
	printHelp(w, c, ac.flagSet(name, &apiOpts{}))
}

func firstOf(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// --- the HTTP client ---------------------------------------------------------

// batonClient calls one Baton with one key.
type batonClient struct {
	base *url.URL
	key  string
	http *http.Client
}

// newBatonClient returns a client of the Baton at flagURL, or envURL, or the default.
func newBatonClient(flagURL, envURL string) (*batonClient, error) {
	raw := firstOf(flagURL, envURL, defaultBatonURL)
	u, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("the Baton URL %q is not an http:// or https:// base URL, like %s", raw, defaultBatonURL)
	}
	return &batonClient{base: u, http: &http.Client{}}, nil
}

// problemError is a problem the API answered.
type problemError struct {
	Status int    `json:"status"`
	Title  string `json:"title"`
	Code   string `json:"code"`
	Field  string `json:"field"`
	Detail string `json:"detail"`
}

// fieldFlags are the flags that set the API's fields, for error messages.
var fieldFlags = map[string]string{"id": "--id", "name": "--name", "scope": "--scope", "bot_id": "--bot", "after": "--after", "force": "--force"}

func (e *problemError) Error() string {
	var b strings.Builder
	if f, ok := fieldFlags[e.Field]; ok {
		fmt.Fprintf(&b, "%s (%s): ", e.Field, f)
	} else if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(firstOf(e.Detail, e.Title, http.StatusText(e.Status)))
	fmt.Fprintf(&b, " (%d %s)", e.Status, firstOf(e.Code, strings.ToLower(http.StatusText(e.Status))))
	return b.String()
}

// url returns the URL of path (its segments already escaped) with query.
func (c *batonClient) url(path string, query url.Values) string {
	s := c.base.String() + path
	if len(query) > 0 {
		s += "?" + query.Encode()
	}
	return s
}

// where names the Baton for messages, without credentials.
func (c *batonClient) where() string { return c.base.Redacted() }

// request builds a request of the API at path with the client's key.
func (c *batonClient) request(ctx context.Context, method, path string, query url.Values, body any) (*http.Request, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.url(path, query), r)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("User-Agent", "baton-cli/"+version)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, nil
}

// send sends req and returns a 2xx answer's body, the problem of any other,
// or why there was no answer.
func (c *batonClient) send(req *http.Request) ([]byte, error) {
	res, err := c.http.Do(req)
	if err != nil {
		if req.Context().Err() != nil {
			return nil, req.Context().Err()
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is said once, below
		}
		return nil, fmt.Errorf("cannot reach Baton at %s (set --url or BATON_URL): %w", c.where(), err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("reading the answer of %s %s: %w", req.Method, req.URL.Path, err)
	}
	if res.StatusCode/100 == 2 {
		return b, nil
	}
	return b, answerProblem(res, b)
}

// answerProblem is the error of a non-2xx answer with body b.
func answerProblem(res *http.Response, b []byte) error {
	mt, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type"))
	var p problemError
	if (mt == "application/problem+json" || mt == "application/json") && json.Unmarshal(b, &p) == nil && (p.Code != "" || p.Detail != "") {
		p.Status = res.StatusCode
		return &p
	}
	if res.StatusCode == http.StatusNotFound || res.StatusCode == http.StatusMethodNotAllowed {
		return fmt.Errorf("%s %s: %s: this server does not serve that route; is it a Baton, and one with the admin API?",
			res.Request.Method, res.Request.URL.Path, res.Status)
	}
	return &problemError{Status: res.StatusCode, Detail: strings.TrimSpace(string(clip(b, 200)))}
}

// call sends a request and decodes a 2xx answer into out (when not nil). In
// --json mode it prints the answer, or the problem, as it came.
func (c *batonClient) call(ctx context.Context, out apiOut, method, path string, query url.Values, body, into any) error {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	req, err := c.request(ctx, method, path, query, body)
	if err != nil {
		return err
	}
	b, err := c.send(req)
	if out.json && len(b) > 0 {
		var ae *problemError
		if err == nil || errors.As(err, &ae) {
			out.stdout.Write(b)
			if b[len(b)-1] != '\n' {
				fmt.Fprintln(out.stdout)
			}
		}
	}
	if err != nil {
		return err
	}
	if into != nil {
		if err := json.Unmarshal(b, into); err != nil {
			return fmt.Errorf("the answer of %s %s is not what this baton expects: %w", method, path, err)
		}
	}
	return nil
}

// wsPath is the admin API's path of a workspace's things: ws, then the
// segments, each escaped.
func adminPath(ws string, segs ...string) string {
	p := "/v1/admin/workspaces/" + url.PathEscape(ws)
	for _, s := range segs {
		p += "/" + url.PathEscape(s)
	}
	return p
}

// --- what the API answers ----------------------------------------------------

type workspaceView struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	CreatedAt string `json:"created_at"`
}

type keyView struct {
	ID         string  `json:"id"`
	Name       string  `json:"name"`
	Prefix     string  `json:"prefix"`
	Scope      string  `json:"scope"`
	BotID      string  `json:"bot_id"`
	CreatedAt  string  `json:"created_at"`
	LastUsedAt *string `json:"last_used_at"`
	Key        string  `json:"key"` // the secret, in the answer of a create only
}

type botView struct {
	ID                  string          `json:"id"`
	Name                string          `json:"name"`
	WebhookURL          string          `json:"webhook_url"`
	WebhookSecretSet    bool            `json:"webhook_secret_set"`
	PreviousSecretUntil *string         `json:"previous_secret_until"`
	DeskID              string          `json:"desk_id"`
	Policy              json.RawMessage `json:"policy"`
	CreatedAt           string          `json:"created_at"`
}

type deskView struct {
	ID        string            `json:"id"`
	Name      string            `json:"name"`
	Kind      string            `json:"kind"`
	Secrets   map[string]string `json:"secrets"`
	Policy    json.RawMessage   `json:"policy"`
	Status    string            `json:"status"`
	LastError string            `json:"last_error"`
	CheckedAt *string           `json:"checked_at"`
	CreatedAt string            `json:"created_at"`
}

type agentView struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Email       string `json:"email"`
	DeskID      string `json:"desk_id"`
	Disabled    bool   `json:"disabled"`
	PasswordSet bool   `json:"password_set"`
	KeySet      bool   `json:"key_set"`
	CreatedAt   string `json:"created_at"`
}

// --- the commands ------------------------------------------------------------

func cmdWorkspaces(ctx context.Context, c *batonClient, o *apiOpts, _ []string, out apiOut) error {
	var list struct {
		Workspaces []workspaceView `json:"workspaces"`
	}
	if err := c.call(ctx, out, "GET", "/v1/admin/workspaces", nil, nil, &list); err != nil || out.json {
		return err
	}
	if len(list.Workspaces) == 0 {
		fmt.Fprintln(out.stdout, "no workspaces")
		return nil
	}
	t := newTable(out.stdout, "ID", "NAME", "CREATED")
	for _, w := range list.Workspaces {
		t.row(w.ID, w.Name, showTime(w.CreatedAt))
	}
	return t.flush()
}

func cmdWorkspacesCreate(ctx context.Context, c *batonClient, o *apiOpts, _ []string, out apiOut) error {
	if o.name == "" {
		return errors.New("--name is required; try: baton workspaces create --help")
	}
	body := map[string]string{"name": o.name}
	if o.id != "" {
		body["id"] = o.id
	}
	var w workspaceView
	if err := c.call(ctx, out, "POST", "/v1/admin/workspaces", nil, body, &w); err != nil || out.json {
		return err
	}
	fmt.Fprintf(out.stdout, "created workspace %s (%s)\n", w.ID, w.Name)
	return nil
}

func cmdWorkspacesDelete(ctx context.Context, c *batonClient, o *apiOpts, args []string, out apiOut) error {
	var q url.Values
	if o.force {
		q = url.Values{"force": {"true"}}
	}
	var res struct {
		ID    string `json:"id"`
		Ended int    `json:"ended"`
	}
	if err := c.call(ctx, out, "DELETE", adminPath(args[0]), q, nil, &res); err != nil || out.json {
		return err
	}
	fmt.Fprintf(out.stdout, "deleted workspace %s", firstOf(res.ID, args[0]))
	if res.Ended > 0 {
		fmt.Fprintf(out.stdout, "; ended %d open %s bot_closed", res.Ended, plural(res.Ended, "handoff"))
	}
	fmt.Fprintln(out.stdout)
	return nil
}

func cmdKeysCreate(ctx context.Context, c *batonClient, o *apiOpts, _ []string, out apiOut) error {
	if o.name == "" {
		return errors.New("--name is required; try: baton keys create --help")
	}
	body := map[string]string{"name": o.name}
	if o.scope != "" {
		body["scope"] = o.scope
	}
	if o.bot != "" {
		body["bot_id"] = o.bot
	}
	var k keyView
	if err := c.call(ctx, out, "POST", adminPath(o.workspace, "keys"), nil, body, &k); err != nil {
		return err
	}
	const once = "The key is shown only this once: store it now (baton keys list shows its prefix only)."
	if out.json {
		fmt.Fprintln(out.stderr, once)
		return nil
	}
	t := newTable(out.stdout)
	t.row("id", k.ID)
	t.row("name", k.Name)
	t.row("workspace", o.workspace)
	t.row("scope", k.Scope)
	t.row("bot", orAll(k.BotID))
	t.row("prefix", k.Prefix)
	t.row("key", k.Key)
	if err := t.flush(); err != nil {
		return err
	}
	fmt.Fprintln(out.stdout, "\n"+once)
	return nil
}

func cmdKeysList(ctx context.Context, c *batonClient, o *apiOpts, _ []string, out apiOut) error {
	var list struct {
		Keys []keyView `json:"keys"`
	}
	if err := c.call(ctx, out, "GET", adminPath(o.workspace, "keys"), nil, nil, &list); err != nil || out.json {
		return err
	}
	if len(list.Keys) == 0 {
		fmt.Fprintf(out.stdout, "no keys in workspace %s\n", o.workspace)
		return nil
	}
	t := newTable(out.stdout, "ID", "NAME", "PREFIX", "SCOPE", "BOT", "CREATED", "LAST USED")
	for _, k := range list.Keys {
		used := "never"
		if k.LastUsedAt != nil {
			used = showTime(*k.LastUsedAt)
		}
		t.row(k.ID, k.Name, k.Prefix, k.Scope, orAll(k.BotID), showTime(k.CreatedAt), used)
	}
	return t.flush()
}

func cmdKeysRevoke(ctx context.Context, c *batonClient, o *apiOpts, args []string, out apiOut) error {
	if err := c.call(ctx, out, "DELETE", adminPath(o.workspace, "keys", args[0]), nil, nil, nil); err != nil || out.json {
		return err
	}
	fmt.Fprintf(out.stdout, "revoked key %s of workspace %s\n", args[0], o.workspace)
	return nil
}

func cmdBots(ctx context.Context, c *batonClient, o *apiOpts, _ []string, out apiOut) error {
	var list struct {
		Bots []botView `json:"bots"`
	}
	if err := c.call(ctx, out, "GET", adminPath(o.workspace, "bots"), nil, nil, &list); err != nil || out.json {
		return err
	}
	if len(list.Bots) == 0 {
		fmt.Fprintf(out.stdout, "no bots in workspace %s\n", o.workspace)
		return nil
	}
	t := newTable(out.stdout, "ID", "NAME", "DESK", "EVENTS", "SECRET", "POLICY", "CREATED")
	for _, b := range list.Bots {
		events, secret := "stream", "-"
		if b.WebhookURL != "" {
			events = b.WebhookURL
		}
		if b.WebhookSecretSet {
			secret = "set"
		}
		if b.PreviousSecretUntil != nil {
			secret += ", old until " + showTime(*b.PreviousSecretUntil)
		}
		t.row(b.ID, b.Name, dash(b.DeskID), events, secret, hasPolicy(b.Policy), showTime(b.CreatedAt))
	}
	return t.flush()
}

func cmdDesks(ctx context.Context, c *batonClient, o *apiOpts, _ []string, out apiOut) error {
	var list struct {
		Desks []deskView `json:"desks"`
	}
	if err := c.call(ctx, out, "GET", adminPath(o.workspace, "desks"), nil, nil, &list); err != nil || out.json {
		return err
	}
	if len(list.Desks) == 0 {
		fmt.Fprintf(out.stdout, "no desks in workspace %s\n", o.workspace)
		return nil
	}
	t := newTable(out.stdout, "ID", "NAME", "KIND", "STATUS", "CHECKED", "LAST ERROR")
	for _, d := range list.Desks {
		t.row(d.ID, d.Name, d.Kind, statusBadge(d.Status), showTimePtr(d.CheckedAt), dash(string(clip([]byte(oneLine(d.LastError)), 60))))
	}
	return t.flush()
}

func cmdDesksCheck(ctx context.Context, c *batonClient, o *apiOpts, args []string, out apiOut) error {
	var res struct {
		Status    string  `json:"status"`
		LastError string  `json:"last_error"`
		CheckedAt *string `json:"checked_at"`
	}
	if err := c.call(ctx, out, "POST", adminPath(o.workspace, "desks", args[0], "check"), nil, nil, &res); err != nil {
		return err
	}
	if !out.json {
		t := newTable(out.stdout, "ID", "STATUS", "CHECKED", "LAST ERROR")
		t.row(args[0], statusBadge(res.Status), showTimePtr(res.CheckedAt), dash(oneLine(res.LastError)))
		if err := t.flush(); err != nil {
			return err
		}
	}
	if res.Status == "unavailable" {
		return fmt.Errorf("desk %s is unavailable: %s", args[0], firstOf(oneLine(res.LastError), "no error given"))
	}
	return nil
}

func cmdAgents(ctx context.Context, c *batonClient, o *apiOpts, _ []string, out apiOut) error {
	var list struct {
		Agents []agentView `json:"agents"`
	}
	if err := c.call(ctx, out, "GET", adminPath(o.workspace, "agents"), nil, nil, &list); err != nil || out.json {
		return err
	}
	if len(list.Agents) == 0 {
		fmt.Fprintf(out.stdout, "no agents in workspace %s\n", o.workspace)
		return nil
	}
	t := newTable(out.stdout, "ID", "NAME", "EMAIL", "DESK", "STATE", "PASSWORD", "KEY", "CREATED")
	for _, a := range list.Agents {
		state, password, key := "enabled", "-", "-"
		if a.Disabled {
			state = "disabled"
		}
		if a.PasswordSet {
			password = "set"
		}
		if a.KeySet {
			key = "set"
		}
		t.row(a.ID, a.Name, dash(a.Email), a.DeskID, state, password, key, showTime(a.CreatedAt))
	}
	return t.flush()
}

// --- events tail ---------------------------------------------------------------

// sseEvent is one event of a server-sent event stream.
type sseEvent struct {
	id, event string
	data      []byte
}

// cmdEventsTail follows the bot's event stream, printing each event, and
// reconnects when the connection drops, resuming after the last event seen
// (Last-Event-ID), until ctx ends.
func cmdEventsTail(ctx context.Context, c *batonClient, o *apiOpts, _ []string, out apiOut) error {
	q := url.Values{}
	if o.bot != "" {
		q.Set("bot_id", o.bot)
	}
	if o.after != 0 {
		q.Set("after", strconv.FormatInt(o.after, 10))
	}
	last := ""         // the id of the last event printed
	retry := tailRetry // what the server asks for between attempts
	failures := 0      // attempts in a row that got no stream
	connected := false // a stream was ever open
	for {
		opened, err := c.stream(ctx, q, last, func(ev sseEvent) {
			if ev.event == "" && ev.id == "" && len(ev.data) == 0 {
				return
			}
			printEvent(out, ev)
			if ev.id != "" {
				last = ev.id
			}
		}, func(d time.Duration) { retry = d })
		if ctx.Err() != nil {
			return nil // interrupted: the normal way to stop
		}
		var ae *problemError
		if errors.As(err, &ae) && ae.Status/100 == 4 && ae.Status != http.StatusRequestTimeout && ae.Status != http.StatusTooManyRequests {
			return err // a wrong key, bot or seq: retrying will not mend it
		}
		if !connected && !opened {
			return err // never connected: most likely the wrong URL
		}
		connected = connected || opened
		wait := retry
		if opened {
			failures = 0
		} else {
			failures++
			wait = min(retry<<min(failures, 5), tailMaxWait)
		}
		after := "the start"
		if last != "" {
			after = "event " + last
		} else if o.after != 0 {
			after = "event " + strconv.FormatInt(o.after, 10)
		}
		why := "the stream ended"
		if err != nil {
			why = err.Error()
		}
		fmt.Fprintf(out.stderr, "baton: events tail: %s; reconnecting in %v, after %s\n", why, wait, after)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
}

// stream opens the event stream once and calls each for each event until
// the stream ends. opened says whether the server answered 200; setRetry is
// called with the reconnection delay the server asks for.
func (c *batonClient) stream(ctx context.Context, q url.Values, lastID string, each func(sseEvent), setRetry func(time.Duration)) (opened bool, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var silent atomic.Bool // the idle timer fired
	idle := time.AfterFunc(tailIdle, func() { silent.Store(true); cancel() })
	defer idle.Stop()
	req, err := c.request(ctx, "GET", "/v1/events/stream", q, nil)
	if err != nil {
		return false, err
	}
	req.Header.Set("Accept", "text/event-stream")
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	res, err := c.http.Do(req)
	if err != nil {
		if silent.Load() {
			return false, fmt.Errorf("no answer from %s in %v", c.where(), tailIdle)
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return false, fmt.Errorf("cannot reach Baton at %s (set --url or BATON_URL): %w", c.where(), err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
		return false, answerProblem(res, b)
	}
	if mt, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type")); mt != "text/event-stream" {
		return false, fmt.Errorf("%s answered %s, not an event stream", req.URL.Path, firstOf(mt, "no Content-Type"))
	}
	r := bufio.NewReaderSize(res.Body, 64<<10)
	var ev sseEvent
	var data bytes.Buffer
	for {
		line, err := r.ReadBytes('\n')
		if err != nil {
			if silent.Load() {
				return true, fmt.Errorf("the stream was silent for %v", tailIdle)
			}
			if errors.Is(err, io.EOF) {
				return true, nil
			}
			return true, err
		}
		idle.Reset(tailIdle)
		line = bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r"))
		if len(line) == 0 { // the end of an event
			if data.Len() > 0 {
				ev.data = bytes.TrimSuffix(data.Bytes(), []byte("\n"))
			}
			each(ev)
			ev, data = sseEvent{}, bytes.Buffer{}
			continue
		}
		if line[0] == ':' { // a comment: the heartbeat
			continue
		}
		field, value, _ := bytes.Cut(line, []byte(":"))
		value = bytes.TrimPrefix(value, []byte(" "))
		switch string(field) {
		case "id":
			ev.id = string(value)
		case "event":
			ev.event = string(value)
		case "data":
			data.Write(value)
			data.WriteByte('\n')
		case "retry":
			if ms, err := strconv.Atoi(string(value)); err == nil && ms >= 0 {
				setRetry(time.Duration(ms) * time.Millisecond)
			}
		}
	}
}

// streamData is what printEvent reads of every type of event's data.
type streamData struct {
	HandoffID          string `json:"handoff_id"`
	ConversationID     string `json:"conversation_id"`
	DeskID             string `json:"desk_id"`
	WaitTimeoutSeconds *int64 `json:"wait_timeout_seconds"`
	Position           int    `json:"position"`
	EstimatedWait      *int64 `json:"estimated_wait_seconds"`
	Decision           *struct {
		GroupID   string `json:"group_id"`
		GroupName string `json:"group_name"`
		Reason    string `json:"reason"`
		Router    string `json:"router"`
		Fallback  string `json:"fallback"`
	} `json:"decision"`
	Agent struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"agent"`
	Name          string            `json:"name"`
	Text          string            `json:"text"`
	Attachments   []json.RawMessage `json:"attachments"`
	WaitedSeconds int64             `json:"waited_seconds"`
	Choices       []string          `json:"choices"`
	GraceSeconds  int64             `json:"grace_seconds"`
	Attempt       int               `json:"attempt"`
	Attempts      int               `json:"attempts"`
	NextRetryAt   string            `json:"next_retry_at"`
	LastError     string            `json:"last_error"`
	Reason        string            `json:"reason"`
	Summary       struct {
		CustomerMessages int `json:"customer_messages"`
		AgentMessages    int `json:"agent_messages"`
	} `json:"summary"`
	Customer struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"customer"`
	By string `json:"by"`
}

// printEvent prints one event of the stream: its envelope as it came with
// --json, else one line of time, type, handoff and what happened.
func printEvent(out apiOut, ev sseEvent) {
	if out.json {
		fmt.Fprintf(out.stdout, "%s\n", bytes.ReplaceAll(ev.data, []byte("\n"), nil))
		return
	}
	var env struct {
		Type      string          `json:"type"`
		Timestamp time.Time       `json:"timestamp"`
		Data      json.RawMessage `json:"data"`
	}
	var d streamData
	if json.Unmarshal(ev.data, &env) != nil || json.Unmarshal(env.Data, &d) != nil {
		fmt.Fprintf(out.stdout, "%-20s  %-29s  %s\n", "-", firstOf(ev.event, "?"), clip(ev.data, 100))
		return
	}
	typ := firstOf(env.Type, ev.event)
	fmt.Fprintf(out.stdout, "%-20s  %-29s  %-27s  %s\n", env.Timestamp.UTC().Format(time.RFC3339), typ, dash(d.HandoffID), summarizeEvent(typ, d))
}

// summarize says in a few words what an event of type typ with data d says.
func summarizeEvent(typ string, d streamData) string {
	who := firstOf(d.Agent.Name, d.Name, d.Agent.ID, "an agent")
	var s string
	switch typ {
	case "handoff.queued":
		s = "queued in desk " + dash(d.DeskID)
		if d.WaitTimeoutSeconds != nil {
			s += fmt.Sprintf(", wait timeout %ds", *d.WaitTimeoutSeconds)
		}
		if d.Decision != nil {
			s += ", group " + firstOf(d.Decision.GroupName, d.Decision.GroupID)
			if d.Decision.Router != "" {
				s += " by " + d.Decision.Router
			}
			if d.Decision.Fallback != "" {
				s += " (" + d.Decision.Fallback + ")"
			}
			s += ": " + d.Decision.Reason
		}
	case "handoff.queue_updated":
		s = fmt.Sprintf("position %d in desk %s, ", d.Position, dash(d.DeskID))
		if d.EstimatedWait != nil {
			s += fmt.Sprintf("about %s to wait", time.Duration(*d.EstimatedWait)*time.Second)
		} else {
			s += "no estimate yet"
		}
	case "handoff.agent_joined":
		s = who + " joined"
	case "handoff.agent_message":
		s = who + ": " + quoteText(d.Text) + attachmentNote(len(d.Attachments))
	case "handoff.wait_timeout":
		s = fmt.Sprintf("nobody after %ds; %s within %ds", d.WaitedSeconds, strings.Join(d.Choices, " or "), d.GraceSeconds)
	case "handoff.opening_retry":
		s = fmt.Sprintf("attempt %d of %d failed: %s; next at %s", d.Attempt, d.Attempts, firstOf(oneLine(d.LastError), "?"), showTime(d.NextRetryAt))
	case "handoff.ended":
		s = fmt.Sprintf("ended %s; %d customer and %d agent %s", firstOf(d.Reason, "?"),
			d.Summary.CustomerMessages, d.Summary.AgentMessages, plural(d.Summary.AgentMessages, "message"))
	case "conversation.customer_message":
		s = firstOf(d.Customer.Name, d.Customer.ID, "the customer") + ": " + quoteText(d.Text) + attachmentNote(len(d.Attachments))
	case "conversation.closed":
		s = "closed by " + firstOf(d.By, "the desk")
	}
	if d.HandoffID == "" && d.ConversationID != "" {
		s = strings.TrimPrefix(s+" (conversation "+d.ConversationID+")", " ")
	}
	return s
}

// --- output --------------------------------------------------------------------

// textTable is an aligned table being written.
type textTable struct{ w *tabwriter.Writer }

// table starts a table on w with these column headings (none: no heading line).
func newTable(w io.Writer, heads ...string) textTable {
	t := textTable{tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)}
	if len(heads) > 0 {
		t.row(heads...)
	}
	return t
}

// row adds a line of cells; an empty cell shows as "-", so that every
// column of every line holds something.
func (t textTable) row(cells ...string) {
	for i, c := range cells {
		cells[i] = dash(strings.NewReplacer("\t", " ", "\n", " ").Replace(c))
	}
	fmt.Fprintln(t.w, strings.Join(cells, "\t"))
}

func (t textTable) flush() error { return t.w.Flush() }

// badge is a desk status with a mark that stands out in a column.
func statusBadge(status string) string {
	switch status {
	case "available":
		return "● available"
	case "unavailable":
		return "✗ unavailable"
	case "not_configured":
		return "○ not_configured"
	case "":
		return "? unknown"
	}
	return "? " + status
}

// when shows an RFC 3339 time of the API to the second, in UTC; "-" for none.
func showTime(s string) string {
	if s == "" {
		return "-"
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return s
	}
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func showTimePtr(s *string) string {
	if s == nil {
		return "-"
	}
	return showTime(*s)
}

func dash(s string) string { return firstOf(s, "-") }

func orAll(botID string) string { return firstOf(botID, "all") }

func hasPolicy(p json.RawMessage) string {
	if len(p) == 0 || string(p) == "null" {
		return "-"
	}
	return "own"
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

func attachmentNote(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(" (+%d %s)", n, plural(n, "attachment"))
}

// quote quotes a message's text, on one line and at most 60 characters.
func quoteText(s string) string {
	return strconv.Quote(string(clip([]byte(oneLine(s)), 60)))
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// truncate shortens b to at most n runes, marking the cut with "…".
func clip(b []byte, n int) []byte {
	if utf8.RuneCount(b) <= n {
		return b
	}
	r := []rune(string(b))
	return slices.Concat([]byte(string(r[:n-1])), []byte("…"))
}
