package desktest

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
	"sync"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/app"
	"github.com/batonhq/baton/outbox"
	"github.com/batonhq/baton/registry"
	"github.com/batonhq/baton/sqlite"
	"github.com/batonhq/baton/stdwebhook"
)

// Wait is how long the suite waits for anything asynchronous (a desk call, a
// webhook, a timer) before failing.
const Wait = 5 * time.Second

// storeKey seals secrets in the test stores.
var storeKey = []byte("desktest-key-0123456789abcdefghi")

// The ids the suite stores its rows under. Every subtest has a stack of its own.
const (
	workspaceID = "ws_desktest"
	botID       = "bot_desktest"
	deskID      = "desk_desktest"
)

// stack is one Baton under test: a SQLite store in a temporary directory, the
// engine with its worker running, the HTTP API on a loopback port, a bot whose
// webhook is received (and verified) by the suite, and the harness's desk.
type stack struct {
	h      Harness
	desk   Desk
	url    string // Baton's API
	apiKey string
	client *http.Client
	hooks  *botHooks
}

// boot builds a stack for one subtest; everything stops when the subtest ends.
// pol, when not nil, is the desk's policy.
func boot(t *testing.T, h Harness, pol *baton.Policy) *stack {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))

	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "baton.db"), storeKey)
	if err != nil {
		t.Fatalf("opening the store: %v", err)
	}
	t.Cleanup(func() { st.Close() })

	hooks := &botHooks{secret: stdwebhook.NewSecret(), seen: map[string]bool{}}
	recv := httptest.NewServer(hooks)
	t.Cleanup(recv.Close)
	t.Cleanup(func() { hooks.check(t) }) // runs after the worker has stopped

	// The API's address is known before it serves, so the harness can point
	// its desk's inbound calls at it.
	srv := httptest.NewUnstartedServer(nil)
	s := &stack{h: h, url: "http://" + srv.Listener.Addr().String(), apiKey: "bk_" + baton.NewID("desktest"),
		client: &http.Client{Timeout: 10 * time.Second}, hooks: hooks}
	s.desk = h.Desk(t, Stack{BaseURL: s.url, WorkspaceID: workspaceID, DeskID: deskID})
	if s.desk.Factory == nil {
		t.Fatal("the harness gave no desk factory")
	}

	err = st.Tx(ctx, func(tx baton.Tx) error {
		if err := tx.CreateWorkspace(baton.Workspace{ID: workspaceID, Name: "Desk conformance", CreatedAt: time.Now()}); err != nil {
			return err
		}
		if err := tx.PutAPIKey(baton.APIKey{Hash: baton.HashKey(s.apiKey), WorkspaceID: workspaceID, Name: "suite", CreatedAt: time.Now()}); err != nil {
			return err
		}
		dc := baton.DeskConfig{ID: deskID, WorkspaceID: workspaceID, Name: "Desk under test", Kind: s.desk.Kind,
			Settings: s.desk.Settings, Policy: pol, Status: baton.Available, CreatedAt: time.Now()}
		if err := tx.PutDesk(dc); err != nil {
			return err
		}
		if s.desk.Seed != nil {
			if err := s.desk.Seed(tx); err != nil {
				return err
			}
		}
		return tx.PutBot(baton.Bot{ID: botID, WorkspaceID: workspaceID, Name: "Bot", WebhookURL: recv.URL,
			WebhookSecret: hooks.secret, DeskID: deskID, CreatedAt: time.Now()})
	})
	if err != nil {
		t.Fatalf("seeding the store: %v", err)
	}

	ms := time.Millisecond
	desks := registry.New(registry.Params{Kinds: []registry.Kind{{Name: s.desk.Kind,
		Build: func(dc baton.DeskConfig, _ *http.Client) (baton.Desk, error) { return s.desk.Factory(dc) }}}})
	a := app.New(app.Params{Store: st, Log: log, Desks: desks, Worker: outbox.Config{
		Poll:         10 * ms,
		BotSchedule:  []time.Duration{0, 10 * ms, 50 * ms, 100 * ms, 250 * ms, 500 * ms, time.Second, time.Second},
		DeskSchedule: []time.Duration{10 * ms, 50 * ms, 100 * ms, 250 * ms, 500 * ms, time.Second, time.Second},
		Lease:        10 * time.Second,
		Client:       stdwebhook.NewClient(5 * time.Second),
	}})
	srv.Config.Handler = a.Handler
	srv.Start()
	t.Cleanup(srv.Close)

	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.Run(runCtx)
	}()
	t.Cleanup(func() { stop(); <-done })
	return s
}

// event is a bot event as the suite decodes it, from a webhook or the event list.
type event struct {
	ID   string    `json:"id"`
	Type string    `json:"type"`
	Seq  int64     `json:"seq"`
	Data eventData `json:"data"`
}

// eventData holds the fields of every event type; each type fills some.
type eventData struct {
	HandoffID      string      `json:"handoff_id"`
	ConversationID string      `json:"conversation_id"`
	State          baton.State `json:"state"`
	Epoch          int64       `json:"epoch"`
	DeskID         string      `json:"desk_id"`              // queued
	Agent          baton.Agent `json:"agent"`                // agent_joined, agent_message
	Name           string      `json:"name"`                 // agent_joined
	MessageID      string      `json:"message_id"`           // agent_message
	Text           string      `json:"text"`                 // agent_message
	Choices        []string    `json:"choices"`              // wait_timeout
	Reason         string      `json:"reason"`               // ended
	Summary        *summary    `json:"summary"`              // ended
	WaitTimeout    *int64      `json:"wait_timeout_seconds"` // queued
}

// summary is the human segment an ended event reports.
type summary struct {
	Agent            baton.Agent `json:"agent"`
	CustomerMessages int         `json:"customer_messages"`
	AgentMessages    int         `json:"agent_messages"`
	Transcript       []struct {
		Author baton.Author `json:"author"`
		Text   string       `json:"text"`
	} `json:"transcript"`
}

// botHooks is the bot's webhook endpoint. It verifies every delivery's
// Standard Webhooks signature and keeps the first delivery of each event, in
// the order they arrived; redeliveries (same id) are acknowledged and dropped,
// as a bot is told to.
type botHooks struct {
	secret string

	mu     sync.Mutex
	events []event
	seen   map[string]bool
	bad    []string // deliveries that failed verification or decoding
}

func (b *botHooks) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err == nil {
		err = stdwebhook.Verify(b.secret, r.Header, body, time.Time{})
	}
	var ev event
	if err == nil {
		err = json.Unmarshal(body, &ev)
	}
	if err == nil && ev.ID != r.Header.Get(stdwebhook.HeaderID) {
		err = fmt.Errorf("webhook-id %q is not the event id %q", r.Header.Get(stdwebhook.HeaderID), ev.ID)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if err != nil {
		b.bad = append(b.bad, fmt.Sprintf("%s %s: %v", r.Method, r.URL.Path, err))
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if !b.seen[ev.ID] {
		b.seen[ev.ID] = true
		b.events = append(b.events, ev)
	}
	w.WriteHeader(http.StatusNoContent)
}

// delivered returns the events the bot received, in arrival order.
func (b *botHooks) delivered() []event {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]event(nil), b.events...)
}

// check fails t if a delivery failed verification or if a conversation's
// events arrived out of order (Invariant 2).
func (b *botHooks) check(t *testing.T) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, s := range b.bad {
		t.Errorf("bad bot webhook delivery: %s", s)
	}
	last := map[string]int64{}
	for _, ev := range b.events {
		c := ev.Data.ConversationID
		if ev.Seq <= last[c] {
			t.Errorf("bot got event %s (%s, seq %d) after seq %d of conversation %s: out of order", ev.ID, ev.Type, ev.Seq, last[c], c)
		}
		last[c] = ev.Seq
	}
}

// do sends a bot API request with the workspace key and returns the status
// and body. A nil body sends none.
func (s *stack) do(t *testing.T, method, path string, body any) (int, []byte) {
	t.Helper()
	return Client{Base: s.url, Key: s.apiKey, HTTP: s.client}.Call(t, method, path, "", body, nil)
}

// must sends a request that must answer want, and decodes the answer into out.
func (s *stack) must(t *testing.T, want int, method, path string, body, out any) {
	t.Helper()
	status, b := s.do(t, method, path, body)
	if status != want {
		t.Fatalf("%s %s answered %d, want %d: %s", method, path, status, want, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: decoding %s: %v", method, path, b, err)
		}
	}
}

// handoffView is what GET /v1/handoffs/{id} answers.
type handoffView struct {
	ID             string          `json:"id"`
	ConversationID string          `json:"conversation_id"`
	State          baton.State     `json:"state"`
	EndReason      baton.EndReason `json:"end_reason"`
	Epoch          int64           `json:"epoch"`
	Agent          baton.Agent     `json:"agent"`
	QueuedAt       time.Time       `json:"queued_at"`
	ActiveAt       time.Time       `json:"active_at"`
	EndedAt        time.Time       `json:"ended_at"`
	Summary        *summary        `json:"summary"`
}

func (s *stack) handoff(t *testing.T, id string) handoffView {
	t.Helper()
	var h handoffView
	s.must(t, http.StatusOK, http.MethodGet, "/v1/handoffs/"+id, nil, &h)
	return h
}

// The conversation every subtest hands off: two rounds of history and a question.
const (
	conversationID = "conv-desktest"
	question       = "Where is my parcel? It is a week late."
)

var history = []baton.Turn{
	{Author: baton.ByCustomer, Text: "Hi, my order has not arrived"},
	{Author: baton.ByBot, Text: "Sorry to hear that! What is the order number?"},
	{Author: baton.ByCustomer, Text: "#1234"},
	{Author: baton.ByBot, Text: "Thanks. Let me find someone who can help."},
}

// create asks for a human over the API and returns the handoff id.
func (s *stack) create(t *testing.T) string {
	t.Helper()
	var h handoffView
	s.must(t, http.StatusCreated, http.MethodPost, "/v1/handoffs", map[string]any{
		"conversation_id": conversationID,
		"customer":        baton.Customer{ID: "cust-1", Name: "Casey Doe", Email: "casey@example.com"},
		"history":         history,
		"question":        question,
	}, &h)
	if h.ID == "" {
		t.Fatal("POST /v1/handoffs answered no id")
	}
	return h.ID
}

// customer relays a customer message and returns the status.
func (s *stack) customer(t *testing.T, id, text string) int {
	t.Helper()
	status, _ := s.do(t, http.MethodPost, "/v1/handoffs/"+id+"/messages", map[string]string{"text": text})
	return status
}

// events lists the bot's events as the store has them (GET /v1/events):
// unlike webhooks, a committed event is there at once.
func (s *stack) events(t *testing.T, handoffID string) []event {
	t.Helper()
	var page struct {
		Events []event `json:"events"`
	}
	s.must(t, http.StatusOK, http.MethodGet, "/v1/events?after=0&limit=1000", nil, &page)
	var out []event
	for _, ev := range page.Events {
		if ev.Data.HandoffID == handoffID {
			out = append(out, ev)
		}
	}
	return out
}

// delivered returns the events of a handoff the bot's webhook received, in order.
func (s *stack) delivered(handoffID string) []event {
	var out []event
	for _, ev := range s.hooks.delivered() {
		if ev.Data.HandoffID == handoffID {
			out = append(out, ev)
		}
	}
	return out
}

// waitEvent waits for the bot's webhook to receive an event of typ for the
// handoff that match accepts (nil accepts any), and returns the first such.
func (s *stack) waitEvent(t *testing.T, handoffID, typ string, match func(event) bool) event {
	t.Helper()
	var got event
	eventually(t, Wait, func() error {
		evs := s.delivered(handoffID)
		for _, ev := range evs {
			if ev.Type == typ && (match == nil || match(ev)) {
				got = ev
				return nil
			}
		}
		return fmt.Errorf("the bot has no matching %s event; it got %s", typ, describe(evs))
	})
	return got
}

// describe lists events briefly for failure messages.
func describe(evs []event) string {
	if len(evs) == 0 {
		return "no events"
	}
	var b bytes.Buffer
	for i, ev := range evs {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s(seq %d", ev.Type, ev.Seq)
		switch {
		case ev.Data.Text != "":
			fmt.Fprintf(&b, " %q", ev.Data.Text)
		case ev.Data.Reason != "":
			fmt.Fprintf(&b, " %s", ev.Data.Reason)
		}
		b.WriteString(")")
	}
	return b.String()
}

// eventually calls cond every 10ms until it returns nil, and fails t with
// cond's last error if that has not happened within d.
func eventually(t *testing.T, d time.Duration, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %v", d, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
