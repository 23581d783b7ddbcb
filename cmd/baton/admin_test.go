package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/sqlite"
)

// The admin commands' tests run a real Baton (run() serving
// testdata/serve.yaml on a fresh SQLite file) and drive the commands
// through run() against it, as a person at a terminal would.

// servedBaton starts Baton as the serve tests do and returns it with its environment.
func servedBaton(t *testing.T) (*instance, map[string]string) {
	t.Helper()
	env := serveEnv(t)
	env["BATON_DB"] = filepath.Join(t.TempDir(), "baton.db")
	in := start(t, env)
	dumpOnFailure(t, "baton", in)
	return in, env
}

// runCLI runs one baton command line with env and returns what it printed.
func runCLI(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var o, e bytes.Buffer
	err = run(t.Context(), append([]string{"baton"}, args...), getenv(env), &o, &e)
	return o.String(), e.String(), err
}

// background is a command of run() running until stopped (events tail).
type background struct {
	stdout, stderr *buffer
	stop           context.CancelFunc
	done           chan error
}

func runBackground(t *testing.T, env map[string]string, args ...string) *background {
	ctx, stop := context.WithCancel(t.Context())
	b := &background{stdout: &buffer{}, stderr: &buffer{}, stop: stop, done: make(chan error, 1)}
	go func() { b.done <- run(ctx, append([]string{"baton"}, args...), getenv(env), b.stdout, b.stderr) }()
	t.Cleanup(func() {
		stop()
		select {
		case <-b.done:
		case <-time.After(10 * time.Second):
			t.Errorf("baton %s did not return after its context ended", strings.Join(args, " "))
		}
	})
	return b
}

// end stops the command and returns what run returned.
func (b *background) end(t *testing.T) error {
	t.Helper()
	b.stop()
	select {
	case err := <-b.done:
		b.done <- err
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("the command did not return after its context ended")
		return nil
	}
}

// lines returns the lines printed so far.
func (b *background) lines() []string {
	return strings.Split(strings.TrimSuffix(b.stdout.String(), "\n"), "\n")
}

// cutter is a TCP proxy in front of a real Baton whose connections the
// test can cut, as a network or a load balancer would; it keeps the head of
// each request it carried.
type cutter struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
	heads  []*buffer
}

func newCutter(t *testing.T, target string) *cutter {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutter{ln: ln, target: strings.TrimPrefix(target, "http://")}
	t.Cleanup(func() { ln.Close(); p.cut() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			head := &buffer{}
			p.mu.Lock()
			p.conns, p.heads = append(p.conns, c, up), append(p.heads, head)
			p.mu.Unlock()
			go func() { io.Copy(up, io.TeeReader(c, limitWriter{head, 4096})); up.Close() }()
			go func() { io.Copy(c, up); c.Close() }()
		}
	}()
	return p
}

func (p *cutter) url() string { return "http://" + p.ln.Addr().String() }

// cut closes every connection carried so far.
func (p *cutter) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// requests returns the heads of the requests carried, oldest first.
func (p *cutter) requests() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, h := range p.heads {
		out = append(out, h.String())
	}
	return out
}

// limitWriter keeps the first n bytes written to it.
type limitWriter struct {
	b *buffer
	n int
}

func (w limitWriter) Write(p []byte) (int, error) {
	if left := w.n - len(w.b.String()); left > 0 {
		w.b.Write(p[:min(left, len(p))])
	}
	return len(p), nil
}

// TestEventsTail: baton events tail prints the bot's events as they happen,
// one line each, keeps following through a dropped connection, resuming
// after the last event it printed (Last-Event-ID), so that nothing is lost
// or shown twice; --json prints the envelopes exactly as the API lists them.
func TestEventsTail(t *testing.T) {
	t.Parallel()
	in, env := servedBaton(t)
	api := apiClient{base: in.base, key: env["ACME_API_KEY"]}
	ana := inboxAgent{apiClient{base: in.base, key: env["ANA_KEY"]}}
	proxy := newCutter(t, in.base)
	tailEnv := map[string]string{"BATON_URL": proxy.url(), "BATON_API_KEY": env["ACME_API_KEY"]}
	pretty := runBackground(t, tailEnv, "events", "tail", "--bot", "inboxbot")
	raw := runBackground(t, tailEnv, "events", "tail", "--bot", "inboxbot", "--json")
	shows := func(b *background, what string, want *regexp.Regexp) {
		t.Helper()
		eventuallyWithin(t, e2eWait, what, func() (bool, string) { return want.MatchString(b.stdout.String()), b.stdout.String() },
			func() string { return "\nits stderr: " + b.stderr.String() })
	}

	var h apiHandoff
	api.must(t, 201, "POST", "/v1/handoffs", map[string]any{"bot_id": "inboxbot", "conversation_id": "conv-tail",
		"customer": walkCustomer, "question": "May I talk to a person?"}, &h)
	line := func(typ, summary string) *regexp.Regexp {
		return regexp.MustCompile(`(?m)^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ  ` + regexp.QuoteMeta(fmt.Sprintf("%-29s  %-27s  %s", typ, h.ID, summary)) + `$`)
	}
	shows(pretty, "the queued line", line("handoff.queued", "queued in desk inbox, wait timeout 60s"))
	// A second customer waits behind the first.
	var h2 apiHandoff
	api.must(t, 201, "POST", "/v1/handoffs", map[string]any{"bot_id": "inboxbot", "conversation_id": "conv-tail-2",
		"customer": walkCustomer, "question": "Me too, please."}, &h2)
	lineOf := func(typ, id, summary string) *regexp.Regexp { // summary: a regular expression
		return regexp.MustCompile(`(?m)^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ  ` + regexp.QuoteMeta(fmt.Sprintf("%-29s  %-27s  ", typ, id)) + summary + `$`)
	}
	shows(pretty, "the second queued line", lineOf("handoff.queued", h2.ID, `queued in desk inbox, wait timeout 60s`))
	ana.opened(t, h.ID)
	ana.reply(t, h.ID, "Hello, I am Ana.\nHow can I help?")
	shows(pretty, "Ana's message", line("handoff.agent_message", `Ana: "Hello, I am Ana. How can I help?"`))
	shows(pretty, "the second moving up", lineOf("handoff.queue_updated", h2.ID, `position 1 in desk inbox, about \d+s to wait`))
	shows(raw, "Ana's message as JSON", regexp.MustCompile(`"type":"handoff.agent_message"`))

	// The connection drops; the handoff ends meanwhile. Both tails resume
	// after the last event they printed.
	seen := len(proxy.requests())
	proxy.cut()
	ana.end(t, h.ID)
	shows(pretty, "the end", line("handoff.ended", "ended agent_closed; 0 customer and 1 agent message"))
	shows(raw, "the end as JSON", regexp.MustCompile(`"type":"handoff.ended"`))

	var page struct {
		Events []json.RawMessage `json:"events"`
	}
	api.must(t, 200, "GET", "/v1/events?bot_id=inboxbot", nil, &page)
	var want []string
	var lastBeforeCut int64
	for _, ev := range page.Events {
		want = append(want, string(ev))
		var e struct {
			Seq  int64  `json:"seq"`
			Type string `json:"type"`
		}
		json.Unmarshal(ev, &e)
		if e.Type == "handoff.agent_message" {
			lastBeforeCut = e.Seq
		}
	}
	if got := raw.lines(); !slices.Equal(got, want) {
		t.Errorf("events tail --json printed\n%s\nthe API lists\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	t.Logf("events tail printed:\n%s", pretty.stdout)
	if got := pretty.lines(); len(got) != len(want) {
		t.Errorf("events tail printed %d lines for %d events:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
	resumed := 0
	for _, r := range proxy.requests()[seen:] {
		if strings.HasPrefix(r, "GET /v1/events/stream?bot_id=inboxbot ") && strings.Contains(r, fmt.Sprintf("\r\nLast-Event-Id: %d\r\n", lastBeforeCut)) {
			resumed++
		}
	}
	if resumed < 2 {
		t.Errorf("%d of the 2 tails resumed with Last-Event-ID %d; requests after the cut:\n%q", resumed, lastBeforeCut, proxy.requests()[seen:])
	}
	for _, b := range []*background{pretty, raw} {
		if !strings.Contains(b.stderr.String(), "reconnecting in 2s, after event ") {
			t.Errorf("the tail did not say it reconnects: %q", b.stderr)
		}
		if err := b.end(t); err != nil {
			t.Errorf("events tail, interrupted: %v", err)
		}
		if strings.Contains(b.stdout.String()+b.stderr.String(), env["ACME_API_KEY"]) {
			t.Errorf("events tail printed its API key")
		}
	}

	// --after starts after a given event.
	after := runBackground(t, tailEnv, "events", "tail", "--bot", "inboxbot", "--json", "--after", fmt.Sprint(lastBeforeCut))
	eventually(t, "the events after the message", func() bool { return strings.Contains(after.stdout.String(), `"handoff.ended"`) })
	if got := after.lines(); !slices.Equal(got, want[len(want)-len(got):]) || strings.Contains(after.stdout.String(), `"type":"handoff.agent_message"`) {
		t.Errorf("events tail --after %d printed\n%s", lastBeforeCut, after.stdout)
	}
}

// TestEventsTailRefused: what the API refuses ends the tail at once with
// the problem's detail (and field), never retried, never printing the key.
func TestEventsTailRefused(t *testing.T) {
	t.Parallel()
	in, env, adminKey := adminBaton(t)
	for _, c := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"no key", map[string]string{"BATON_URL": in.base}, nil, "events tail: no API key: set BATON_API_KEY or pass --api-key"},
		{"wrong key", map[string]string{"BATON_URL": in.base, "BATON_API_KEY": "wrong-key-123"}, nil, "events tail: unknown API key (401 unauthorized)"},
		{"an admin key", map[string]string{"BATON_URL": in.base, "BATON_API_KEY": adminKey}, nil, "events tail: this is an admin key: the bot API takes a workspace API key (401 unauthorized)"},
		{"bad seq", map[string]string{"BATON_URL": in.base, "BATON_API_KEY": env["ACME_API_KEY"]}, []string{"--after", "-1"}, "events tail: after (--after): must be an event sequence number"},
		{"two bots, none named", map[string]string{"BATON_URL": in.base, "BATON_API_KEY": env["ACME_API_KEY"]}, nil, "events tail: bot_id (--bot): "},
		{"no Baton there", map[string]string{"BATON_URL": "http://127.0.0.1:1", "BATON_API_KEY": env["ACME_API_KEY"]}, nil,
			"events tail: cannot reach Baton at http://127.0.0.1:1 (set --url or BATON_URL): "},
	} {
		t.Run(c.name, func(t *testing.T) {
			done := make(chan struct{})
			var stdout, stderr string
			var err error
			go func() {
				defer close(done)
				stdout, stderr, err = runCLI(t, c.env, append([]string{"events", "tail"}, c.args...)...)
			}()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("events tail kept going")
			}
			if err == nil || !strings.HasPrefix(err.Error(), c.want) {
				t.Errorf("got %v, want %q…", err, c.want)
			}
			if out := stdout + stderr + fmt.Sprint(err); strings.Contains(out, env["ACME_API_KEY"]) || strings.Contains(out, adminKey) || strings.Contains(out, "wrong-key-123") {
				t.Errorf("a key was printed: %q %q %v", stdout, stderr, err)
			}
		})
	}
}

// TestAdminHelp: every admin command's --help (and baton help COMMAND)
// prints its usage, every flag it takes, the environment it reads, and, for
// a command that is also the first word of others, those; the overview
// lists every admin command.
func TestAdminHelp(t *testing.T) {
	t.Parallel()
	overview, _, _ := runArgs(t, "--help")
	for name, ac := range apiCmds {
		c, ok := lookup(name)
		if !ok {
			t.Errorf("%q is not in the command table", name)
			continue
		}
		if !strings.Contains(overview, "\n  "+strings.TrimSpace(c.name+" "+c.args)+"\n") {
			t.Errorf("baton --help does not list %q", name)
		}
		if len(c.env) == 0 {
			t.Errorf("%q reads no environment?", name)
		}
		for _, args := range [][]string{
			slices.Concat(strings.Fields(name), []string{"--help"}),
			slices.Concat([]string{"help"}, strings.Fields(name)),
			slices.Concat(strings.Fields(name), []string{"--json", "-h"}),
		} {
			stdout, stderr, err := runArgs(t, args...)
			if err != nil || stderr != "" || !strings.HasPrefix(stdout, "usage: baton "+name+"\n") && !strings.HasPrefix(stdout, "usage: baton "+name+" ") {
				t.Errorf("baton %s: %v %q\n%s", strings.Join(args, " "), err, stderr, stdout)
				continue
			}
			ac.flagSet(name, &apiOpts{}).VisitAll(func(f *flag.Flag) {
				if !strings.Contains(stdout, "\n  --"+f.Name) {
					t.Errorf("baton %s: flag --%s missing:\n%s", strings.Join(args, " "), f.Name, stdout)
				}
			})
			for _, flag := range []string{"--url", "--json"} {
				if !strings.Contains(stdout, "\n  "+flag) {
					t.Errorf("baton %s: %s missing:\n%s", strings.Join(args, " "), flag, stdout)
				}
			}
			for _, v := range c.env {
				if !strings.Contains(stdout, "\n  "+v.name+" ") {
					t.Errorf("baton %s: %s missing:\n%s", strings.Join(args, " "), v.name, stdout)
				}
			}
			for _, sub := range group(name) {
				if !strings.Contains(stdout, "\n  "+sub.name+" ") {
					t.Errorf("baton %s: %s missing:\n%s", strings.Join(args, " "), sub.name, stdout)
				}
			}
		}
	}
	for _, g := range []string{"keys", "events"} {
		stdout, _, err := runArgs(t, g, "--help")
		if err != nil || !strings.HasPrefix(stdout, "usage: baton "+g+" COMMAND") {
			t.Errorf("baton %s --help: %v\n%s", g, err, stdout)
		}
	}
}

// TestAdminUsageErrors: a wrong admin command line names the problem
// before any request (nothing listens at the URL).
func TestAdminUsageErrors(t *testing.T) {
	t.Parallel()
	env := map[string]string{"BATON_URL": "http://127.0.0.1:1", "BATON_ADMIN_KEY": "badm_x", "BATON_WORKSPACE": "acme"}
	for _, c := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"keys"}, env, "usage: baton keys create --name NAME [--scope SCOPE] [--bot BOT]; try: baton keys --help"},
		{[]string{"keys", "rotate"}, env, "usage: baton keys create --name NAME [--scope SCOPE] [--bot BOT]; try: baton keys --help"},
		{[]string{"events"}, env, "usage: baton events tail [--bot BOT] [--after SEQ]; try: baton events --help"},
		{[]string{"workspaces", "extra"}, env, `workspaces: unexpected argument "extra"; try: baton workspaces --help`},
		{[]string{"workspaces", "delete"}, env, "workspaces delete: ID is required; try: baton workspaces delete --help"},
		{[]string{"workspaces", "delete", "a", "b"}, env, `workspaces delete: unexpected argument "b"; try: baton workspaces delete --help`},
		{[]string{"keys", "revoke", "--bogus", "k"}, env, "keys revoke: flag provided but not defined: -bogus; try: baton keys revoke --help"},
		{[]string{"keys", "create"}, env, "keys create: --name is required; try: baton keys create --help"},
		{[]string{"workspaces", "create", "--id", "x"}, env, "workspaces create: --name is required; try: baton workspaces create --help"},
		{[]string{"bots"}, map[string]string{"BATON_URL": "http://127.0.0.1:1", "BATON_WORKSPACE": "acme"}, "bots: no admin key: set BATON_ADMIN_KEY or pass --admin-key"},
		{[]string{"desks"}, map[string]string{"BATON_ADMIN_KEY": "badm_x"}, "desks: no workspace: set BATON_WORKSPACE or pass --workspace"},
		{[]string{"agents", "--url", "ftp://x"}, env, `agents: the Baton URL "ftp://x" is not an http:// or https:// base URL, like http://127.0.0.1:8080`},
		{[]string{"workspaces"}, env, "workspaces: cannot reach Baton at http://127.0.0.1:1 (set --url or BATON_URL): "},
	} {
		stdout, _, err := runCLI(t, c.env, c.args...)
		if err == nil || !strings.HasPrefix(err.Error(), c.want) || stdout != "" {
			t.Errorf("baton %v: got %v (stdout %q), want %q", c.args, err, stdout, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "badm_x") {
			t.Errorf("baton %v printed the admin key: %v", c.args, err)
		}
	}
}

// adminBaton starts Baton serving testdata/serve.yaml with an admin key
// in its store, and returns it, its environment (the CLI's variables
// included) and the admin key.
func adminBaton(t *testing.T) (*instance, map[string]string, string) {
	t.Helper()
	env := serveEnv(t)
	env["BATON_DB"] = filepath.Join(t.TempDir(), "baton.db")
	secret := make([]byte, 32)
	rand.Read(secret)
	env["BATON_SECRET_KEY"] = base64.StdEncoding.EncodeToString(secret)
	store, err := sqlite.Open(t.Context(), env["BATON_DB"], secret)
	if err != nil {
		t.Fatal(err)
	}
	key := baton.NewKey(baton.PrefixAdminKey)
	err = store.Tx(t.Context(), func(tx baton.Tx) error {
		return tx.PutAdminKey(baton.AdminKey{ID: "adm_test", Hash: baton.HashKey(key), Name: "test", Prefix: baton.KeyPrefix(key), CreatedAt: time.Now()})
	})
	store.Close()
	if err != nil {
		t.Fatal(err)
	}
	in := start(t, env)
	dumpOnFailure(t, "baton", in)
	env["BATON_URL"], env["BATON_ADMIN_KEY"], env["BATON_WORKSPACE"] = in.base, key, "acme"
	return in, env, key
}

// cliOutputs collects every command's output, to check that no secret is in any.
type cliOutputs struct{ all strings.Builder }

func (o *cliOutputs) runCLI(t *testing.T, env map[string]string, args ...string) (string, string, error) {
	t.Helper()
	stdout, stderr, err := runCLI(t, env, args...)
	o.all.WriteString(stdout + stderr + "\n")
	if err != nil {
		o.all.WriteString(err.Error() + "\n")
	}
	return stdout, stderr, err
}

// must runs a command that must succeed and returns its stdout.
func (o *cliOutputs) must(t *testing.T, env map[string]string, args ...string) string {
	t.Helper()
	stdout, stderr, err := o.runCLI(t, env, args...)
	if err != nil {
		t.Fatalf("baton %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, stdout, stderr)
	}
	return stdout
}

// refused runs a command that must fail with an error starting with want.
func (o *cliOutputs) refused(t *testing.T, want string, env map[string]string, args ...string) {
	t.Helper()
	stdout, _, err := o.runCLI(t, env, args...)
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("baton %s: got %v (stdout %q), want %q…", strings.Join(args, " "), err, stdout, want)
	}
}

// hasRow reports whether table has a line whose cells, split on runs of
// two spaces or more, begin with cells.
func hasRow(table string, cells ...string) bool {
	for _, line := range strings.Split(table, "\n") {
		got := regexp.MustCompile(`  +`).Split(strings.TrimSpace(line), -1)
		if len(got) >= len(cells) && strings.Join(got[:len(cells)], "|") == strings.Join(cells, "|") {
			return true
		}
	}
	return false
}

// sameJSON reports whether a and b are the same JSON value.
func sameJSON(a, b string) bool {
	var x, y any
	return json.Unmarshal([]byte(a), &x) == nil && json.Unmarshal([]byte(b), &y) == nil && jsonString(x) == jsonString(y)
}

func jsonString(v any) string { b, _ := json.Marshal(v); return string(b) }

// TestAdminWorkspaces: baton workspaces lists, creates and deletes
// workspaces through the admin API; --json prints what the API answers.
func TestAdminWorkspaces(t *testing.T) {
	t.Parallel()
	in, env, key := adminBaton(t)
	var o cliOutputs
	admin := apiClient{base: in.base, key: key}

	list := o.must(t, env, "workspaces")
	if !hasRow(list, "ID", "NAME", "CREATED") || !hasRow(list, "acme", "Acme") {
		t.Errorf("baton workspaces:\n%s", list)
	}
	if got, want := o.must(t, env, "workspaces", "--json"), string(admin.must(t, 200, "GET", "/v1/admin/workspaces", nil, nil)); !sameJSON(got, want) {
		t.Errorf("baton workspaces --json printed\n%s\nthe API answers\n%s", got, want)
	}
	if got := o.must(t, env, "workspaces", "create", "--id", "beta", "--name", "Beta Corp"); got != "created workspace beta (Beta Corp)\n" {
		t.Errorf("workspaces create printed %q", got)
	}
	if list := o.must(t, env, "workspaces"); !hasRow(list, "beta", "Beta Corp") || !hasRow(list, "acme", "Acme") {
		t.Errorf("baton workspaces after a create:\n%s", list)
	}
	var made struct{ ID, Name string }
	if err := json.Unmarshal([]byte(o.must(t, env, "workspaces", "create", "--name", "Gamma", "--json")), &made); err != nil || !strings.HasPrefix(made.ID, "ws_") || made.Name != "Gamma" {
		t.Errorf("workspaces create --json without --id: %+v %v", made, err)
	}
	o.refused(t, "workspaces create: ", env, "workspaces", "create", "--id", "beta", "--name", "Again")
	o.refused(t, "workspaces create: id (--id): ", env, "workspaces", "create", "--id", "not ok!", "--name", "Bad")

	// A workspace with an open handoff is deleted only with --force.
	api := apiClient{base: in.base, key: env["ACME_API_KEY"]}
	api.must(t, 201, "POST", "/v1/handoffs", map[string]any{"bot_id": "inboxbot", "conversation_id": "conv-del",
		"customer": walkCustomer, "question": "A person, please"}, nil)
	_, _, err := o.runCLI(t, env, "workspaces", "delete", "acme")
	if err == nil || !strings.HasPrefix(err.Error(), "workspaces delete: force (--force): ") || !strings.HasSuffix(err.Error(), " (409 conflict)") {
		t.Errorf("workspaces delete with an open handoff: %v", err)
	}
	if got := o.must(t, env, "workspaces", "delete", "acme", "--force"); got != "deleted workspace acme; ended 1 open handoff bot_closed\n" {
		t.Errorf("workspaces delete --force printed %q", got)
	}
	if code, _ := in.get(t, "/v1/availability?bot_id=inboxbot", env["ACME_API_KEY"]); code != 401 {
		t.Errorf("the deleted workspace's key still answers %d", code)
	}
	if got := o.must(t, env, "workspaces", "delete", "beta"); got != "deleted workspace beta\n" {
		t.Errorf("workspaces delete printed %q", got)
	}
	if list := o.must(t, env, "workspaces"); hasRow(list, "acme") || hasRow(list, "beta") || !hasRow(list, made.ID, "Gamma") {
		t.Errorf("baton workspaces after the deletes:\n%s", list)
	}
	o.refused(t, "workspaces delete: ", env, "workspaces", "delete", "acme")

	// The wrong keys.
	o.refused(t, "workspaces: unknown admin key (401 unauthorized)", map[string]string{"BATON_URL": in.base, "BATON_ADMIN_KEY": "badm_wrong"}, "workspaces")
	if _, _, err := o.runCLI(t, map[string]string{"BATON_URL": in.base, "BATON_ADMIN_KEY": env["ACME_API_KEY"]}, "workspaces"); err == nil || !strings.HasSuffix(err.Error(), " (401 unauthorized)") {
		t.Errorf("workspaces with a bot API key: %v", err)
	}
	noSecrets(t, o.all.String(), env, key)
}

// TestAdminKeys: keys create prints the new key once, and it works at
// once with its scope and bot; keys list never shows a key; a revoked
// key stops working.
func TestAdminKeys(t *testing.T) {
	t.Parallel()
	in, env, adminKey := adminBaton(t)
	var o cliOutputs

	out := o.must(t, env, "keys", "create", "--name", "reader", "--scope", "read", "--bot", "inboxbot")
	m := regexp.MustCompile(`(?m)^key +(bk_[a-z0-9]+)$`).FindStringSubmatch(out)
	id := regexp.MustCompile(`(?m)^id +(\S+)$`).FindStringSubmatch(out)
	if m == nil || id == nil || !hasRow(out, "scope", "read") || !hasRow(out, "bot", "inboxbot") ||
		!strings.HasSuffix(out, "\nThe key is shown only this once: store it now (baton keys list shows its prefix only).\n") {
		t.Fatalf("keys create printed:\n%s", out)
	}
	key := m[1]
	if code, body := in.get(t, "/v1/availability", key); code != 200 {
		t.Errorf("the new read key on a GET: %d %s", code, body)
	}
	reader := apiClient{base: in.base, key: key}
	if code, body := reader.call(t, "POST", "/v1/handoffs", map[string]any{"conversation_id": "c", "customer": walkCustomer, "question": "?"}, nil); code != 403 {
		t.Errorf("the new read key on a POST: %d %s", code, body)
	}

	list := o.must(t, env, "keys", "list")
	if !hasRow(list, "ID", "NAME", "PREFIX", "SCOPE", "BOT", "CREATED", "LAST USED") ||
		!hasRow(list, id[1], "reader", baton.KeyPrefix(key), "read", "inboxbot") || !regexp.MustCompile(`(?m)^\S+ +prod +\S+ +full +all `).MatchString(list) {
		t.Errorf("keys list:\n%s", list)
	}
	if strings.Contains(list, key) || strings.Contains(list, env["ACME_API_KEY"]) {
		t.Errorf("keys list shows a key:\n%s", list)
	}
	js := o.must(t, env, "keys", "list", "--json")
	if strings.Contains(js, key) || !strings.Contains(js, `"keys"`) {
		t.Errorf("keys list --json:\n%s", js)
	}

	// --json: the API's answer, the key in it; the warning on stderr.
	stdout, stderr, err := o.runCLI(t, env, "keys", "create", "--name", "ci", "--json")
	var made struct {
		ID, Key, Scope string
	}
	if err != nil || json.Unmarshal([]byte(stdout), &made) != nil || !strings.HasPrefix(made.Key, "bk_") || made.Scope != "full" ||
		stderr != "The key is shown only this once: store it now (baton keys list shows its prefix only).\n" {
		t.Errorf("keys create --json: %v\nstdout %s\nstderr %s", err, stdout, stderr)
	}

	if got := o.must(t, env, "keys", "revoke", id[1]); got != "revoked key "+id[1]+" of workspace acme\n" {
		t.Errorf("keys revoke printed %q", got)
	}
	eventually(t, "the revoked key refused", func() bool { code, _ := in.get(t, "/v1/availability", key); return code == 401 })
	if got := o.must(t, env, "keys", "revoke", made.ID, "--json"); got != "" {
		t.Errorf("keys revoke --json printed %q", got)
	}
	o.refused(t, "keys revoke: ", env, "keys", "revoke", id[1])
	o.refused(t, "keys create: scope (--scope): ", env, "keys", "create", "--name", "x", "--scope", "write")
	o.refused(t, "keys list: ", env, "keys", "list", "--workspace", "nosuch")
	if strings.Count(o.all.String(), key) != 1 || strings.Count(o.all.String(), made.Key) != 1 {
		t.Errorf("a new key was printed more than once:\n%s", o.all.String())
	}
	noSecrets(t, strings.ReplaceAll(strings.ReplaceAll(o.all.String(), key, ""), made.Key, ""), env, adminKey)
}

// TestAdminBotsDesksAgents: the lists show what the workspace holds,
// with the desks' status badges, and never a secret; desks check checks
// now and fails for a desk that is down.
func TestAdminBotsDesksAgents(t *testing.T) {
	t.Parallel()
	in, env, key := adminBaton(t)
	var o cliOutputs
	admin := apiClient{base: in.base, key: key}

	bots := o.must(t, env, "bots")
	if !hasRow(bots, "ID", "NAME", "DESK", "EVENTS", "SECRET", "POLICY", "CREATED") ||
		!hasRow(bots, "helpbot", "Help bot", "support", "https://bot.acme.example/baton", "set", "-") ||
		!hasRow(bots, "inboxbot", "Inbox bot", "inbox", "stream", "-", "-") {
		t.Errorf("baton bots:\n%s", bots)
	}
	desks := o.must(t, env, "desks")
	if !hasRow(desks, "ID", "NAME", "KIND", "STATUS", "CHECKED", "LAST ERROR") ||
		!hasRow(desks, "support", "support", "webhook", "● available") ||
		!hasRow(desks, "inbox", "inbox", "inbox", "● available") ||
		!regexp.MustCompile(`(?m)^later +\S+ +webhook +○ not_configured +\S+ +settings\.url: required`).MatchString(desks) {
		t.Errorf("baton desks:\n%s", desks)
	}
	agents := o.must(t, env, "agents")
	if !hasRow(agents, "ID", "NAME", "EMAIL", "DESK", "STATE", "PASSWORD", "KEY", "CREATED") ||
		!hasRow(agents, "ana", "Ana", "ana@acme.example", "inbox", "enabled", "-", "set") {
		t.Errorf("baton agents:\n%s", agents)
	}
	for _, cmd := range []string{"bots", "desks", "agents"} {
		if got, want := o.must(t, env, cmd, "--json"), string(admin.must(t, 200, "GET", "/v1/admin/workspaces/acme/"+cmd, nil, nil)); !sameJSON(got, want) {
			t.Errorf("baton %s --json printed\n%s\nthe API answers\n%s", cmd, got, want)
		}
	}

	if got := o.must(t, env, "desks", "check", "support"); !hasRow(got, "support", "● available") {
		t.Errorf("desks check support:\n%s", got)
	}
	admin.must(t, 201, "POST", "/v1/admin/workspaces/acme/desks", map[string]any{"id": "down", "name": "Down", "kind": "webhook",
		"settings": map[string]string{"url": "http://127.0.0.1:1/baton", "secret": "down-desk-secret-0123456789"}}, nil)
	stdout, _, err := o.runCLI(t, env, "desks", "check", "down")
	if err == nil || !strings.HasPrefix(err.Error(), "desks check: desk down is unavailable: ") || !hasRow(stdout, "down", "✗ unavailable") {
		t.Errorf("desks check down: %v\n%s", err, stdout)
	}
	stdout, _, err = o.runCLI(t, env, "desks", "check", "down", "--json")
	if err == nil || !strings.Contains(stdout, `"unavailable"`) {
		t.Errorf("desks check down --json: %v\n%s", err, stdout)
	}
	if desks := o.must(t, env, "desks"); !hasRow(desks, "down", "Down", "webhook", "✗ unavailable") {
		t.Errorf("baton desks after the check:\n%s", desks)
	}
	o.refused(t, "desks check: ", env, "desks", "check", "nosuch")
	o.refused(t, "bots: ", env, "bots", "--workspace", "nosuch")
	noSecrets(t, o.all.String(), env, key)
}

// noSecrets fails if out holds any of the deployment's secrets.
func noSecrets(t *testing.T, out string, env map[string]string, adminKey string) {
	t.Helper()
	for _, s := range []string{adminKey, env["ACME_API_KEY"], env["ACME_DESK_SECRET"], env["ACME_BOT_SECRET"], env["ANA_KEY"], env["BATON_SECRET_KEY"], "down-desk-secret-0123456789"} {
		if strings.Contains(out, s) {
			t.Errorf("a secret was printed: %q", s)
		}
	}
}
