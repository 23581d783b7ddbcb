package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/app"
	"github.com/batonhq/baton/engine"
	"github.com/batonhq/baton/outbox"
	"github.com/batonhq/baton/postgres"
	"github.com/batonhq/baton/postgres/pgtest"
	"github.com/batonhq/baton/registry"
	"github.com/batonhq/baton/sqlite"
	"github.com/batonhq/baton/sqlstore"
	"github.com/batonhq/baton/webhookdesk"
)

// The seeded world every test starts from.
const (
	ws1, ws2       = "ws_one", "ws_two"
	key1, key2     = "bk_live_one_0123456789", "bk_live_two_0123456789"
	bot1, bot2     = "bot_one", "bot_two"
	inboxDesk      = "dk_inbox"
	closedDesk     = "dk_closed"
	emailDesk      = "dk_email"
	hookDesk       = "dk_hook"
	inboxDesk2     = "dk_inbox_two"
	agentKey1      = "ak_ada_0123456789"
	agentKey2      = "ak_bob_0123456789"
	agentKeyOther  = "ak_eve_0123456789"
	hookSecret     = "hook-secret-0123456789"
	closedReply    = "We are closed; we will write to you tomorrow."
	agentAda       = "ag_ada"
	agentAdaName   = "Ada"
	agentBob       = "ag_bob"
	defaultTimeout = 10 * time.Second
	adminKey       = "badm_test_0123456789"
)

// fixture is a whole Baton behind httptest: a SQLite store, a running engine,
// the API, and a client whose every exchange is checked against openapi.yaml.
type fixture struct {
	t       testing.TB
	store   *sqlstore.Store
	eng     *engine.Engine
	srv     *httptest.Server
	client  *http.Client
	logs    *syncBuffer
	company *company
	app     *app.App
	jobs    chan struct{} // a signal whenever the worker has recorded a job's outcome
	stop    func()
	dbURL   string // the PostgreSQL database, on postgres
}

type fixtureOption func(*fixtureConfig)

type fixtureConfig struct {
	ready       func(context.Context) error
	postgres    bool
	bodyTimeout time.Duration
}

// withStore runs the fixture on "sqlite" (the default) or "postgres" (a
// fresh database from pgtest).
func withStore(name string) fixtureOption {
	return func(c *fixtureConfig) { c.postgres = name == "postgres" }
}

// stores are the stores tests that touch storage run on.
var stores = []string{"sqlite", "postgres"}

// withBodyTimeout sets the server's request body deadline.
func withBodyTimeout(d time.Duration) fixtureOption {
	return func(c *fixtureConfig) { c.bodyTimeout = d }
}

func withReady(f func(context.Context) error) fixtureOption {
	return func(c *fixtureConfig) { c.ready = f }
}

func newFixture(t testing.TB, opts ...fixtureOption) *fixture {
	t.Helper()
	var cfg fixtureConfig
	for _, o := range opts {
		o(&cfg)
	}
	ctx := context.Background()
	key := bytes.Repeat([]byte{7}, 32)
	var (
		store *sqlstore.Store
		err   error
	)
	var dbURL string
	if cfg.postgres {
		dbURL = pgtest.Migrated(t)
		store, err = postgres.Open(ctx, dbURL, key)
	} else {
		store, err = sqlite.Open(ctx, filepath.Join(t.TempDir(), "baton.db"), key)
	}
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	f := &fixture{t: t, store: store, logs: &syncBuffer{}, company: newCompany(t), dbURL: dbURL}
	log := slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f.jobs = make(chan struct{}, 1)
	f.app = app.New(app.Params{Store: store, Log: log, Desks: f.desks(), Worker: outbox.Config{Poll: 20 * time.Millisecond},
		Ready: cfg.ready, BodyTimeout: cfg.bodyTimeout, Recorded: func(baton.Job, error) {
			select {
			case f.jobs <- struct{}{}:
			default:
			}
		}})
	f.eng = f.app.Engine
	f.seed()

	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		f.app.Run(runCtx)
	}()

	f.srv = httptest.NewServer(f.app.Handler)
	f.client = &http.Client{Transport: newContract(t, f.srv.URL, f.srv.Client().Transport), Timeout: 30 * time.Second}
	var once sync.Once
	f.stop = func() {
		once.Do(func() {
			f.srv.CloseClientConnections()
			f.srv.Close()
			cancel()
			<-done
			store.Close()
		})
	}
	t.Cleanup(f.stop)
	return f
}

// desks builds the desks the tests use: the inbox, and webhook desks that
// call the fixture's company.
func (f *fixture) desks() baton.Desks {
	return registry.New(registry.Params{Client: f.company.srv.Client(), Kinds: []registry.Kind{
		registry.Kinds()[0], registry.Kinds()[1], registry.Kinds()[2],
	}})
}

// seed writes two workspaces: the first with an inbox desk (the bot's), a desk
// that is never open, a desk that requires an email, a webhook desk and two
// inbox agents; the second with its own bot, inbox desk and agent.
func (f *fixture) seed() {
	f.t.Helper()
	now := time.Now().UTC()
	closed := &baton.Policy{Zone: "Europe/Paris", OutOfHoursReply: closedReply,
		Periods: []baton.Period{{Kind: baton.Custom, Date: "2001-01-01", Start: "09:00", End: "10:00"}}}
	err := f.store.Tx(context.Background(), func(tx baton.Tx) error {
		for _, step := range []func() error{
			func() error { return tx.CreateWorkspace(baton.Workspace{ID: ws1, Name: "One", CreatedAt: now}) },
			func() error {
				return tx.PutAdminKey(baton.AdminKey{Hash: baton.HashKey(adminKey), Name: "ops", Prefix: "badm_test", CreatedAt: now})
			},
			func() error { return tx.CreateWorkspace(baton.Workspace{ID: ws2, Name: "Two", CreatedAt: now}) },
			func() error {
				return tx.PutAPIKey(baton.APIKey{Hash: baton.HashKey(key1), WorkspaceID: ws1, Name: "one", CreatedAt: now})
			},
			func() error {
				return tx.PutAPIKey(baton.APIKey{Hash: baton.HashKey(key2), WorkspaceID: ws2, Name: "two", CreatedAt: now})
			},
			func() error {
				return tx.PutDesk(baton.DeskConfig{ID: inboxDesk, WorkspaceID: ws1, Name: "Inbox", Kind: baton.KindInbox, Status: baton.Available, CreatedAt: now})
			},
			func() error {
				return tx.PutDesk(baton.DeskConfig{ID: closedDesk, WorkspaceID: ws1, Name: "Closed", Kind: baton.KindInbox, Policy: closed, CreatedAt: now})
			},
			func() error {
				return tx.PutDesk(baton.DeskConfig{ID: emailDesk, WorkspaceID: ws1, Name: "Email", Kind: baton.KindInbox, Policy: &baton.Policy{RequireEmail: true}, CreatedAt: now})
			},
			func() error {
				return tx.PutDesk(baton.DeskConfig{ID: hookDesk, WorkspaceID: ws1, Name: "Hook", Kind: baton.KindWebhook, CreatedAt: now,
					Settings: map[string]string{webhookdesk.SettingURL: f.company.srv.URL, webhookdesk.SettingSecret: hookSecret}})
			},
			func() error {
				return tx.PutDesk(baton.DeskConfig{ID: inboxDesk2, WorkspaceID: ws2, Name: "Inbox", Kind: baton.KindInbox, CreatedAt: now})
			},
			func() error {
				return tx.PutBot(baton.Bot{ID: bot1, WorkspaceID: ws1, Name: "Bot one", DeskID: inboxDesk, CreatedAt: now})
			},
			func() error {
				return tx.PutBot(baton.Bot{ID: bot2, WorkspaceID: ws2, Name: "Bot two", DeskID: inboxDesk2, CreatedAt: now})
			},
			func() error {
				return tx.PutInboxAgent(baton.InboxAgent{ID: agentAda, WorkspaceID: ws1, DeskID: inboxDesk, Name: agentAdaName, KeyHash: baton.HashKey(agentKey1), CreatedAt: now})
			},
			func() error {
				return tx.PutInboxAgent(baton.InboxAgent{ID: agentBob, WorkspaceID: ws1, DeskID: inboxDesk, Name: "Bob", KeyHash: baton.HashKey(agentKey2), CreatedAt: now})
			},
			func() error {
				return tx.PutInboxAgent(baton.InboxAgent{ID: "ag_eve", WorkspaceID: ws2, DeskID: inboxDesk2, Name: "Eve", KeyHash: baton.HashKey(agentKeyOther), CreatedAt: now})
			},
		} {
			if err := step(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		f.t.Fatalf("seed: %v", err)
	}
}

// req is one request a test makes.
type req struct {
	method, path string
	key          string            // the bearer token; "" sends none
	body         any               // string or []byte: sent as is; io.Reader: sent chunked; other: JSON
	header       map[string]string // more headers
	offSpec      bool              // the request breaks the contract on purpose
}

// res is what came back.
type res struct {
	status int
	header http.Header
	body   []byte
}

func (f *fixture) do(r req) res {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), defaultTimeout)
	defer cancel()
	if r.offSpec {
		ctx = offSpec(ctx)
	}
	hr, err := http.NewRequestWithContext(ctx, r.method, f.srv.URL+r.path, bodyOf(f.t, r.body))
	if err != nil {
		f.t.Fatal(err)
	}
	if r.body != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	if r.key != "" {
		hr.Header.Set("Authorization", "Bearer "+r.key)
	}
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	resp, err := f.client.Do(hr)
	if err != nil {
		f.t.Fatalf("%s %s: %v", r.method, r.path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatalf("%s %s: reading the answer: %v", r.method, r.path, err)
	}
	return res{status: resp.StatusCode, header: resp.Header, body: body}
}

func bodyOf(t testing.TB, v any) io.Reader {
	switch b := v.(type) {
	case nil:
		return nil
	case string:
		return strings.NewReader(b)
	case []byte:
		return bytes.NewReader(b)
	case io.Reader:
		return struct{ io.Reader }{b} // hides the length: sent chunked
	}
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.NewReader(data)
}

// must checks the status and decodes the JSON body into a T.
func must[T any](t testing.TB, r res, status int) T {
	t.Helper()
	var v T
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.body)
	}
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("decoding %s: %v", r.body, err)
	}
	return v
}

// wantProblem checks that r is the problem with this status, code and field.
func wantProblem(t *testing.T, r res, status int, code, field string) problem {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type %q, want application/problem+json (status %d, body %s)", ct, r.status, r.body)
	}
	p := must[problem](t, r, status)
	if p.Status != status || p.Code != code || p.Field != field || p.Type != "about:blank" || p.Title != http.StatusText(status) {
		t.Errorf("problem %+v, want status %d code %q field %q", p, status, code, field)
	}
	if status == http.StatusUnauthorized && !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("401 without WWW-Authenticate: Bearer (got %q)", r.header.Get("WWW-Authenticate"))
	}
	return p
}

// The wire shapes, as a client reads them.
type (
	wireHandoff struct {
		ID             string          `json:"id"`
		ConversationID string          `json:"conversation_id"`
		BotID          string          `json:"bot_id"`
		DeskID         string          `json:"desk_id"`
		State          string          `json:"state"`
		EndReason      string          `json:"end_reason"`
		Epoch          int64           `json:"epoch"`
		NeedsEmail     bool            `json:"needs_email"`
		Reply          string          `json:"reply"`
		Agent          *baton.Agent    `json:"agent"`
		Routing        string          `json:"routing"`
		Question       string          `json:"question"`
		CreatedAt      *time.Time      `json:"created_at"`
		QueuedAt       *time.Time      `json:"queued_at"`
		ActiveAt       *time.Time      `json:"active_at"`
		EndedAt        *time.Time      `json:"ended_at"`
		Queue          *wirePlace      `json:"queue"`
		Summary        json.RawMessage `json:"summary"`
	}
	wirePlace struct {
		Position             int    `json:"position"`
		EstimatedWaitSeconds *int64 `json:"estimated_wait_seconds"`
	}
	wireMessage struct {
		ID             string             `json:"id"`
		ConversationID string             `json:"conversation_id"`
		HandoffID      string             `json:"handoff_id"`
		Seq            int64              `json:"seq"`
		Author         string             `json:"author"`
		AgentName      string             `json:"agent_name"`
		Text           string             `json:"text"`
		Attachments    []baton.Attachment `json:"attachments"`
		Epoch          int64              `json:"epoch"`
		Late           bool               `json:"late"`
	}
	wireConversation struct {
		ConversationID string        `json:"conversation_id"`
		Owner          string        `json:"owner"`
		Epoch          int64         `json:"epoch"`
		OpenHandoffID  *string       `json:"open_handoff_id"`
		Handoffs       []wireHandoff `json:"handoffs"`
	}
	wireEvent struct {
		ID        string         `json:"id"`
		Type      string         `json:"type"`
		Seq       int64          `json:"seq"`
		Timestamp time.Time      `json:"timestamp"`
		Data      map[string]any `json:"data"`
	}
	wireQueue struct {
		Waiting []wireHandoff `json:"waiting"`
		Mine    []wireHandoff `json:"mine"`
	}
	wireTranscript struct {
		Handoff  wireHandoff   `json:"handoff"`
		Messages []wireMessage `json:"messages"`
	}
	wireAvailability struct {
		DeskID     string     `json:"desk_id"`
		Status     string     `json:"status"`
		LastError  *string    `json:"last_error"`
		OpenNow    bool       `json:"open_now"`
		NextOpenAt *time.Time `json:"next_open_at"`
		Zone       string     `json:"zone"`
	}
	wireEvents struct {
		Events    []wireEvent `json:"events"`
		NextAfter int64       `json:"next_after"`
	}
)

// createBody is a valid create request for conversation cid.
func createBody(cid string) map[string]any {
	return map[string]any{
		"conversation_id": cid,
		"customer":        map[string]any{"id": "cu_" + cid, "name": "Grace", "email": "grace@example.com", "metadata": map[string]any{"plan": "pro"}},
		"history": []map[string]any{
			{"author": "customer", "text": "Hello"},
			{"author": "bot", "text": "Hi! How can I help?"},
		},
		"question": "Where is my parcel?",
		"routing":  "billing",
	}
}

// create asks for a human in conversation cid and returns the handoff.
func (f *fixture) create(cid string) wireHandoff {
	f.t.Helper()
	return must[wireHandoff](f.t, f.do(req{method: "POST", path: "/v1/handoffs", key: key1, body: createBody(cid)}), http.StatusCreated)
}

// handoff reads a handoff with workspace one's key.
func (f *fixture) handoff(id string) wireHandoff {
	f.t.Helper()
	return f.handoffAs(key1, id)
}

// handoffAs reads a handoff with an API key.
func (f *fixture) handoffAs(key, id string) wireHandoff {
	f.t.Helper()
	return must[wireHandoff](f.t, f.do(req{method: "GET", path: "/v1/handoffs/" + id, key: key}), http.StatusOK)
}

// waitState polls a handoff of workspace one until it reaches state.
func (f *fixture) waitState(id, state string) wireHandoff {
	f.t.Helper()
	return f.waitStateAs(key1, id, state)
}

// waitStateAs reads a handoff with an API key until it reaches state.
func (f *fixture) waitStateAs(key, id, state string) wireHandoff {
	f.t.Helper()
	var h wireHandoff
	if !f.afterJobs(func() bool { h = f.handoffAs(key, id); return h.State == state }) {
		f.t.Fatalf("handoff %s is %s, still not %s", id, h.State, state)
	}
	return h
}

// afterJobs checks cond now and again each time the worker has finished a
// job, until it holds (true) or defaultTimeout has passed (false).
func (f *fixture) afterJobs(cond func() bool) bool {
	deadline := time.NewTimer(defaultTimeout)
	defer deadline.Stop()
	for !cond() {
		select {
		case <-f.jobs:
		case <-deadline.C:
			return cond()
		}
	}
	return true
}

// queued creates a handoff on the inbox desk and waits until it is queued.
func (f *fixture) queued(cid string) wireHandoff {
	f.t.Helper()
	return f.waitState(f.create(cid).ID, "queued")
}

// events lists bot one's events after a sequence number.
func (f *fixture) events(after int64) []wireEvent {
	f.t.Helper()
	return must[wireEvents](f.t, f.do(req{method: "GET", path: fmt.Sprintf("/v1/events?after=%d", after), key: key1}), http.StatusOK).Events
}

// eventTypes lists the types of the bot's events for one handoff, in order.
func (f *fixture) eventTypes(handoffID string) []string {
	f.t.Helper()
	var out []string
	for _, ev := range f.events(0) {
		if ev.Data["handoff_id"] == handoffID {
			out = append(out, ev.Type)
		}
	}
	return out
}

// snapshot renders what a request could change: conversations, handoffs and
// the number of messages, events, idempotency records and desk events.
func (f *fixture) snapshot() string {
	f.t.Helper()
	var b strings.Builder
	for _, q := range []string{
		`SELECT id || ' ' || owner || ' ' || epoch || ' ' || handoff_id || ' ' || customer FROM conversations ORDER BY id`,
		`SELECT id || ' ' || state || ' ' || end_reason || ' ' || epoch || ' ' || needs_email || ' ' || agent || ' ' || waiting_since || ' ' || last_message_at FROM handoffs ORDER BY id`,
		`SELECT 'messages ' || count(*) FROM messages`,
		`SELECT 'events ' || count(*) FROM events`,
		`SELECT 'idempotency ' || count(*) FROM idempotency`,
		`SELECT 'desk events ' || count(*) FROM desk_events`,
	} {
		rows, err := f.store.DB().Query(q)
		if err != nil {
			f.t.Fatalf("snapshot: %v", err)
		}
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				f.t.Fatalf("snapshot: %v", err)
			}
			b.WriteString(s + "\n")
		}
		rows.Close()
	}
	return b.String()
}

// syncBuffer is a log destination safe for concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// company is the support system behind the webhook desk: it accepts every call.
type company struct {
	srv    *httptest.Server
	mu     sync.Mutex
	paths  []string
	bodies [][]byte // the bodies of the calls, in the order of paths
}

func newCompany(t testing.TB) *company {
	c := &company{}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		c.mu.Lock()
		c.paths = append(c.paths, r.URL.Path)
		c.bodies = append(c.bodies, body)
		c.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"code":0}`)
	}))
	t.Cleanup(c.srv.Close)
	return c
}

// body returns the body of the last call to path, nil if there was none.
func (c *company) body(path string) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := len(c.paths) - 1; i >= 0; i-- {
		if c.paths[i] == path {
			return c.bodies[i]
		}
	}
	return nil
}

func (c *company) calls() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.paths...)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func newTestLogger(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }

func fieldOf(err error) string { return baton.ErrorField(err) }
