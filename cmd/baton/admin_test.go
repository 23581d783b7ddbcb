package main

import (
	"bytes"
	"context"
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

// cli runs one baton command line with env and returns what it printed.
func cli(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, err error) {
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
	ana.opened(t, h.ID)
	ana.reply(t, h.ID, "Hello, I am Ana.\nHow can I help?")
	shows(pretty, "Ana's message", line("handoff.agent_message", `Ana: "Hello, I am Ana. How can I help?"`))
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
	if resumed != 2 {
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
	in, env := servedBaton(t)
	for _, c := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"no key", map[string]string{"BATON_URL": in.base}, nil, "events tail: no API key: set BATON_API_KEY or pass --api-key"},
		{"wrong key", map[string]string{"BATON_URL": in.base, "BATON_API_KEY": "wrong-key-123"}, nil, "events tail: unknown API key (401 unauthorized)"},
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
				stdout, stderr, err = cli(t, c.env, append([]string{"events", "tail"}, c.args...)...)
			}()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("events tail kept going")
			}
			if err == nil || !strings.HasPrefix(err.Error(), c.want) {
				t.Errorf("got %v, want %q…", err, c.want)
			}
			if strings.Contains(stdout+stderr+fmt.Sprint(err), env["ACME_API_KEY"]) || strings.Contains(fmt.Sprint(err), "wrong-key-123") {
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
	for name, ac := range adminCmds {
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
			ac.flagSet(name, &adminOpts{}).VisitAll(func(f *flag.Flag) {
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
		{[]string{"keys"}, env, "usage: baton keys create --name NAME [--scope read] [--bot BOT]; try: baton keys --help"},
		{[]string{"keys", "rotate"}, env, "usage: baton keys create --name NAME [--scope read] [--bot BOT]; try: baton keys --help"},
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
		stdout, _, err := cli(t, c.env, c.args...)
		if err == nil || !strings.HasPrefix(err.Error(), c.want) || stdout != "" {
			t.Errorf("baton %v: got %v (stdout %q), want %q", c.args, err, stdout, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "badm_x") {
			t.Errorf("baton %v printed the admin key: %v", c.args, err)
		}
	}
}
