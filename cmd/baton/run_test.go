package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/batonhq/baton/registry"
	"github.com/batonhq/baton/sqlite"
	"github.com/batonhq/baton/stdwebhook"
)

// buffer is a bytes.Buffer safe for the writers of a running run().
type buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func getenv(env map[string]string) func(string) string {
	return func(k string) string { return env[k] }
}

// instance is run() serving in the background.
type instance struct {
	base   string
	stdout *buffer
	stderr *buffer
	stop   context.CancelFunc
	done   chan error
}

// start calls run with args and env and waits for its "baton listening on" line.
func start(t *testing.T, env map[string]string, args ...string) *instance {
	t.Helper()
	in, err := launch(t, env, args...)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

// launch is start for any goroutine: it reports failure instead of failing the test.
func launch(t *testing.T, env map[string]string, args ...string) (*instance, error) {
	ctx, stop := context.WithCancel(t.Context())
	in := &instance{stdout: &buffer{}, stderr: &buffer{}, stop: stop, done: make(chan error, 1)}
	pr, pw := io.Pipe()
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			line := sc.Text()
			in.stdout.Write([]byte(line + "\n"))
			if a, ok := strings.CutPrefix(line, "baton listening on "); ok {
				addr <- a
			}
		}
	}()
	go func() {
		err := run(ctx, append([]string{"baton"}, args...), getenv(env), pw, in.stderr)
		pw.Close()
		in.done <- err
	}()
	t.Cleanup(func() {
		stop()
		select {
		case <-in.done:
		case <-time.After(20 * time.Second):
			t.Errorf("run did not return after its context was cancelled")
		}
	})
	select {
	case in.base = <-addr:
		return in, nil
	case err := <-in.done:
		in.done <- err
		return nil, fmt.Errorf("run returned before listening: %v\nstderr:\n%s", err, in.stderr)
	case <-time.After(30 * time.Second):
		return nil, fmt.Errorf("run did not start listening\nstderr:\n%s", in.stderr)
	}
}

// shutdown cancels the instance and checks it stops cleanly and quickly.
func (in *instance) shutdown(t *testing.T) {
	t.Helper()
	in.stop()
	select {
	case err := <-in.done:
		in.done <- err // for the cleanup
		if err != nil {
			t.Fatalf("run returned %v after shutdown\nstderr:\n%s", err, in.stderr)
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("run did not stop within 15s of its context ending")
	}
	// Nothing answers at the address, or something else does: another
	// test's listener may have been given the freed port, so an answer
	// counts only if this instance logged it.
	if c, err := net.DialTimeout("tcp", strings.TrimPrefix(in.base, "http://"), time.Second); err == nil {
		before := in.stderr.String()
		probe := "/after-shutdown-" + strconv.FormatInt(time.Now().UnixNano(), 10)
		c.SetDeadline(time.Now().Add(time.Second))
		fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", probe)
		io.Copy(io.Discard, c)
		c.Close()
		if after := in.stderr.String(); len(after) > len(before) && strings.Contains(after[len(before):], "after-shutdown") {
			t.Errorf("%s still serves after shutdown", in.base)
		}
	}
	if !strings.Contains(in.stderr.String(), `"msg":"stopped"`) {
		t.Errorf("no clean stop in the logs:\n%s", in.stderr)
	}
}

// get fetches path with an optional bearer key.
func (in *instance) get(t *testing.T, path, key string) (int, string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), "GET", in.base+path, nil)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func TestVersion(t *testing.T) {
	var out, errs bytes.Buffer
	if err := run(t.Context(), []string{"baton", "version"}, getenv(nil), &out, &errs); err != nil {
		t.Fatal(err)
	}
	if out.String() != "baton dev\n" {
		t.Errorf("version printed %q, want %q", out.String(), "baton dev\n")
	}
}

func TestUnknownCommand(t *testing.T) {
	var out, errs bytes.Buffer
	err := run(t.Context(), []string{"baton", "serv"}, getenv(nil), &out, &errs)
	if err == nil || !strings.Contains(err.Error(), `unknown command "serv"`) {
		t.Errorf("got %v", err)
	}
}

// fakeDesk is a company service speaking the webhook desk protocol well
// enough to pass Baton's check.
func fakeDesk(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/baton/conversation/establish" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{}`)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/baton"
}

// serveEnv is the environment of the serve tests, with the config's variables.
func serveEnv(t *testing.T) map[string]string {
	return map[string]string{
		"BATON_ADDR":       "127.0.0.1:0",
		"BATON_CONFIG":     filepath.Join("testdata", "serve.yaml"),
		"BATON_LOG_LEVEL":  "debug",
		"ACME_API_KEY":     "acme-test-key-0001",
		"ACME_DESK_SECRET": "desk-shared-secret-0123456789",
		"ACME_BOT_SECRET":  stdwebhook.NewSecret(),
		"ANA_KEY":          "ana-test-key-0001",
		"DESK_URL":         fakeDesk(t),
	}
}

// checkServing exercises a running instance configured by testdata/serve.yaml.
func checkServing(t *testing.T, in *instance, env map[string]string) {
	t.Helper()
	if code, body := in.get(t, "/healthz", ""); code != 200 || body != "ok" {
		t.Errorf("/healthz: %d %q", code, body)
	}
	if code, body := in.get(t, "/readyz", ""); code != 200 || body != "ok" {
		t.Errorf("/readyz: %d %q", code, body)
	}
	code, body := in.get(t, "/metrics", "")
	for _, want := range []string{"# TYPE baton_handoffs gauge", `baton_handoffs{end_reason="",state="queued"} 0`,
		"baton_deliveries_total", "baton_handoffs_ended_total", `baton_desk_call_seconds_count{kind="webhook",op="check",result="ok"} 1`} {
		if code != 200 || !strings.Contains(body, want) {
			t.Errorf("/metrics (%d) lacks %q", code, want)
		}
	}

	if code, body := in.get(t, "/v1/availability?bot_id=helpbot", "wrong-key"); code != 401 {
		t.Errorf("availability with a wrong key: %d %s", code, body)
	}
	for _, c := range []struct{ query, status string }{
		{"bot_id=helpbot", "available"},
		{"bot_id=inboxbot", "available"},
		{"bot_id=helpbot&desk_id=later", "not_configured"},
	} {
		code, body := in.get(t, "/v1/availability?"+c.query, env["ACME_API_KEY"])
		var a struct {
			DeskID    string `json:"desk_id"`
			Status    string `json:"status"`
			LastError string `json:"last_error"`
			Zone      string `json:"zone"`
		}
		if code != 200 || json.Unmarshal([]byte(body), &a) != nil {
			t.Errorf("availability %s: %d %s", c.query, code, body)
			continue
		}
		if a.Status != c.status {
			t.Errorf("availability %s: status %q (%s), want %q", c.query, a.Status, a.LastError, c.status)
		}
		if c.query == "bot_id=helpbot" && a.Zone != "Europe/Paris" {
			t.Errorf("availability %s: zone %q, want the YAML policy's Europe/Paris", c.query, a.Zone)
		}
	}
	if code, body := in.get(t, "/v1/inbox/handoffs", env["ANA_KEY"]); code != 200 {
		t.Errorf("the YAML-declared agent key: %d %s", code, body)
	}
	logs := in.stderr.String()
	for _, secret := range []string{env["ACME_API_KEY"], env["ACME_DESK_SECRET"], env["ACME_BOT_SECRET"], env["ANA_KEY"]} {
		if strings.Contains(logs, secret) {
			t.Errorf("a secret is in the logs: %q", secret)
		}
	}
}

func TestServeSQLite(t *testing.T) {
	dir := t.TempDir()
	env := serveEnv(t)
	env["BATON_DB"] = filepath.Join(dir, "baton.db")

	in := start(t, env)
	if !strings.HasPrefix(in.base, "http://127.0.0.1:") {
		t.Fatalf("listening line gives %q", in.base)
	}
	checkServing(t, in, env)
	fi, err := os.Stat(env["BATON_DB"] + ".key")
	if err != nil {
		t.Fatalf("no secrets key file: %v", err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", fi.Mode().Perm())
	}
	in.shutdown(t)

	// A second start reads the same key file, so the sealed desk settings
	// open, and applying the same config again changes nothing.
	in = start(t, env)
	checkServing(t, in, env)
	in.shutdown(t)
}

func TestServeBadConfig(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "baton.yaml")
	os.WriteFile(cfg, []byte("workspaces:\n  - id: acme\n    desks:\n      - {id: d, kind: carrier-pigeon}\n"), 0o600)
	var out, errs bytes.Buffer
	err := run(t.Context(), []string{"baton", "serve", "--config", cfg},
		getenv(map[string]string{"BATON_DB": filepath.Join(dir, "baton.db"), "BATON_ADDR": "127.0.0.1:0"}), &out, &errs)
	want := cfg + `: workspaces[0].desks[0].kind (line 4): "carrier-pigeon" is not a desk kind this build serves; want ` + registry.Served()
	if err == nil || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "baton.db")); err == nil {
		t.Errorf("a bad config still created the database")
	}
}

func TestSecretKey(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"postgres needs a key", map[string]string{"BATON_DATABASE_URL": "postgres://127.0.0.1:1/x"}, "BATON_SECRET_KEY is required with PostgreSQL"},
		{"short key", map[string]string{"BATON_DB": filepath.Join(dir, "a.db"), "BATON_SECRET_KEY": "c2hvcnQ="}, "BATON_SECRET_KEY: decodes to 5 bytes, want 32"},
		{"not base64", map[string]string{"BATON_DB": filepath.Join(dir, "b.db"), "BATON_SECRET_KEY": "not base64!"}, "BATON_SECRET_KEY: is not base64"},
		{"other database", map[string]string{"BATON_DATABASE_URL": "mysql://x"}, "only postgres:// URLs are supported"},
		{"bad log level", map[string]string{"BATON_LOG_LEVEL": "loud"}, `BATON_LOG_LEVEL: "loud" is not debug, info, warn or error`},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out, errs bytes.Buffer
			err := run(t.Context(), []string{"baton"}, getenv(c.env), &out, &errs)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v, want it to contain %q", err, c.want)
			}
		})
	}
}

func TestMigrateSQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "baton.db")
	for range 2 { // migrating twice is a no-op
		var out, errs bytes.Buffer
		if err := run(t.Context(), []string{"baton", "migrate"}, getenv(map[string]string{"BATON_DB": path}), &out, &errs); err != nil {
			t.Fatalf("migrate: %v\n%s", err, errs.String())
		}
		if want := "baton: sqlite " + path + " is migrated\n"; out.String() != want {
			t.Errorf("migrate printed %q, want %q", out.String(), want)
		}
	}
	db, err := sqlite.OpenDB(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('workspaces', 'handoffs', 'jobs')`).Scan(&n); err != nil || n != 3 {
		t.Errorf("after migrate: %d of the tables workspaces, handoffs, jobs (%v)", n, err)
	}
	if _, err := os.Stat(path + ".key"); err == nil {
		t.Errorf("migrate made a secrets key; it needs none")
	}
}

func TestDemoWalk(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a whole handoff")
	}
	var out, errs buffer
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	if err := run(ctx, []string{"baton", "demo", "--walk"}, getenv(nil), &out, &errs); err != nil {
		t.Fatalf("demo --walk: %v\nstdout:\n%s\nstderr:\n%s", err, out.String(), errs.String())
	}
	got := out.String()
	for _, want := range []string{
		"baton listening on http://127.0.0.1:",
		"bot ← handoff.queued (waiting in desk inbox)",
		"bot ← handoff.agent_joined: Ana took the handoff",
		`bot ← handoff.agent_message from Ana: "Hello Sam, this is Ana. Yes: which address should we use?"`,
		"→ 201: message relayed to the inbox",
		"bot ← handoff.ended (agent_closed)",
		"demo walk complete: the bot received handoff.ended",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
	if i, j := strings.Index(got, "handoff.agent_message"), strings.Index(got, "handoff.ended"); i < 0 || j < i {
		t.Errorf("events out of order")
	}
	if strings.Contains(got, "bot ✗") {
		t.Errorf("the bot refused a delivery")
	}
	if t.Failed() {
		t.Logf("stdout:\n%s\nstderr:\n%s", got, errs.String())
	}
}

func TestRedact(t *testing.T) {
	var b bytes.Buffer
	log, err := newLogger(&b, "debug")
	if err != nil {
		t.Fatal(err)
	}
	log.Info("hello", "desk", "support", "webhook_secret", "whsec_abc", "Password", "hunter2", "api_key", "k1",
		"authorization", "Bearer x", slog.Group("settings", "url", "https://x", "token", "t0k"), "access_token", "t1")
	got := b.String()
	for _, leak := range []string{"whsec_abc", "hunter2", "k1", "Bearer x", "t0k", "t1"} {
		if strings.Contains(got, leak) {
			t.Errorf("log leaks %q: %s", leak, got)
		}
	}
	for _, keep := range []string{`"desk":"support"`, `"url":"https://x"`, `"msg":"hello"`, `"webhook_secret":"[redacted]"`} {
		if !strings.Contains(got, keep) {
			t.Errorf("log lacks %s: %s", keep, got)
		}
	}
}

func TestReadyzFollowsTheStore(t *testing.T) {
	store, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "baton.db"), make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(t.Context())
	addr := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- serveOn(ctx, discard(), io.Discard, served{addr: "127.0.0.1:0", store: store, desks: registry.New(registry.Params{}),
			started: func(a string) { addr <- a }})
	}()
	in := &instance{base: "http://" + <-addr}
	if code, body := in.get(t, "/readyz", ""); code != 200 {
		t.Errorf("/readyz with the store open: %d %s", code, body)
	}
	store.Close()
	if code, body := in.get(t, "/readyz", ""); code != 503 {
		t.Errorf("/readyz with the store closed: %d %s", code, body)
	}
	if code, _ := in.get(t, "/healthz", ""); code != 200 {
		t.Errorf("/healthz with the store closed: %d, want 200 (the process is alive)", code)
	}
	stop()
	if err := <-done; err != nil {
		t.Errorf("serveOn: %v", err)
	}
}
