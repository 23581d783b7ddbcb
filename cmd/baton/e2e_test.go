package main

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/batonhq/baton/desktest"
	"github.com/batonhq/baton/postgres/pgtest"
	"github.com/batonhq/baton/stdwebhook"
)

// The end-to-end tests boot run() as the binary does, configured by a YAML
// file and the environment, and talk to it only over HTTP: as the bot (the
// REST API, and a receiver of its signed webhooks), as the company's support
// service (the webhook desk protocol) and as an inbox agent (the agent API).

// e2eWait bounds every wait for an outcome; waits poll, they never sleep blindly.
const e2eWait = 20 * time.Second

// eventually polls cond until it holds or e2eWait passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	eventuallyWithin(t, e2eWait, what, func() (bool, string) { return cond(), "" })
}

// eventuallyWithin polls cond until it holds or d passes. On failure it
// reports what cond last said about the state it saw, and what dump says.
func eventuallyWithin(t *testing.T, d time.Duration, what string, cond func() (bool, string), dump ...func() string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			for _, f := range dump {
				state += f()
			}
			t.Fatalf("gave up after %v waiting for %s; last seen: %s", d, what, state)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// e2eStoreEnv points run() at a fresh database: a SQLite file in a temporary
// directory, or a fresh PostgreSQL database (pgtest skips when there is none
// and BATON_TEST_POSTGRES_URL is unset; with it set, as in CI, it must run).
func e2eStoreEnv(t *testing.T, store string) map[string]string {
	t.Helper()
	switch store {
	case "sqlite":
		return map[string]string{"BATON_DB": filepath.Join(t.TempDir(), "baton.db")}
	case "postgres":
		key := make([]byte, 32)
		rand.Read(key)
		return map[string]string{"BATON_DATABASE_URL": pgtest.Fresh(t), "BATON_SECRET_KEY": base64.StdEncoding.EncodeToString(key)}
	}
	t.Fatalf("no store %q", store)
	return nil
}

// dumpOnFailure logs the instance's output if the test fails, without the
// access log of the test's polling GETs.
func dumpOnFailure(t *testing.T, name string, in *instance) {
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		var b strings.Builder
		for line := range strings.Lines(in.stderr.String()) {
			if strings.Contains(line, `"msg":"http request","method":"GET"`) {
				continue
			}
			b.WriteString(line)
		}
		logs := b.String()
		if len(logs) > 100000 {
			logs = "…" + logs[len(logs)-100000:]
		}
		t.Logf("%s stdout:\n%s\n%s stderr:\n%s", name, in.stdout, name, logs)
	})
}

// mustBeAvailable fails t unless bot's desk is available: its check
// against the simulator behind it (desk names it) passed.
func (c apiClient) mustBeAvailable(t *testing.T, bot, desk string) {
	t.Helper()
	var av struct {
		Status    string `json:"status"`
		LastError string `json:"last_error"`
	}
	c.must(t, 200, "GET", "/v1/availability?bot_id="+bot, nil, &av)
	if av.Status != "available" {
		t.Fatalf("the %s desk is %s after its check against the simulator: %s", desk, av.Status, av.LastError)
	}
}

// --- the bot's side ---------------------------------------------------------

// apiClient calls Baton's API with a key (a workspace API key or an agent key).
type apiClient struct {
	base string
	key  string
}

// call sends body as JSON (none if nil) and decodes a 2xx answer into out (if
// not nil). It returns the status and the raw answer.
func (c apiClient) call(t *testing.T, method, path string, body, out any) (int, []byte) {
	t.Helper()
	return desktest.Client{Base: c.base, Key: c.key}.Call(t, method, path, "", body, out)
}

func (c apiClient) must(t *testing.T, want int, method, path string, body, out any) []byte {
	t.Helper()
	code, b := c.call(t, method, path, body, out)
	if code != want {
		t.Fatalf("%s %s: %d %s, want %d", method, path, code, b, want)
	}
	return b
}

// problemCode is the "code" of a problem+json answer.
func problemCode(b []byte) string {
	var p struct {
		Code  string `json:"code"`
		Field string `json:"field"`
	}
	json.Unmarshal(b, &p)
	if p.Field != "" {
		return p.Code + " (" + p.Field + ")"
	}
	return p.Code
}

type apiAgent struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type apiAttachment struct {
	URL  string `json:"url"`
	Name string `json:"name,omitempty"`
	Type string `json:"type,omitempty"`
	Size int64  `json:"size,omitempty"`
}

type apiHandoff struct {
	ID             string          `json:"id"`
	ConversationID string          `json:"conversation_id"`
	BotID          string          `json:"bot_id"`
	DeskID         string          `json:"desk_id"`
	State          string          `json:"state"`
	EndReason      string          `json:"end_reason"`
	Epoch          int64           `json:"epoch"`
	Agent          apiAgent        `json:"agent"`
	Summary        json.RawMessage `json:"summary"`
}

type apiMessage struct {
	ID          string          `json:"id"`
	HandoffID   string          `json:"handoff_id"`
	Seq         int64           `json:"seq"`
	Author      string          `json:"author"`
	AgentName   string          `json:"agent_name"`
	Text        string          `json:"text"`
	Attachments []apiAttachment `json:"attachments"`
	Epoch       int64           `json:"epoch"`
	Late        bool            `json:"late"`
}

type apiConversation struct {
	ConversationID string       `json:"conversation_id"`
	Owner          string       `json:"owner"`
	Epoch          int64        `json:"epoch"`
	OpenHandoffID  *string      `json:"open_handoff_id"`
	Handoffs       []apiHandoff `json:"handoffs"`
}

// envelope is an event as the bot receives it.
type envelope struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	Seq       int64           `json:"seq"`
	Timestamp time.Time       `json:"timestamp"`
	Data      json.RawMessage `json:"data"`
	data      eventData
}

type eventData struct {
	HandoffID          string          `json:"handoff_id"`
	ConversationID     string          `json:"conversation_id"`
	State              string          `json:"state"`
	Epoch              int64           `json:"epoch"`
	DeskID             string          `json:"desk_id"`
	WaitTimeoutSeconds *int64          `json:"wait_timeout_seconds"`
	GraceSeconds       *int64          `json:"grace_seconds"`
	Agent              apiAgent        `json:"agent"`
	Name               string          `json:"name"`
	MessageID          string          `json:"message_id"`
	Text               string          `json:"text"`
	Reason             string          `json:"reason"`
	Summary            json.RawMessage `json:"summary"`
	Position           *int            `json:"position"` // handoff.queue_updated
	Payload            string          `json:"payload"`  // handoff.ended, handoff.agent_message
}

type summary struct {
	Agent            apiAgent `json:"agent"`
	CustomerMessages int      `json:"customer_messages"`
	AgentMessages    int      `json:"agent_messages"`
	Transcript       []struct {
		Author string `json:"author"`
		Text   string `json:"text"`
	} `json:"transcript"`
}

func (e envelope) String() string {
	return fmt.Sprintf("%s #%d %s (handoff %s, epoch %d)", e.Type, e.Seq, e.ID, e.data.HandoffID, e.data.Epoch)
}

// events lists all the bot's events from GET /v1/events, page by page.
func (c apiClient) events(t *testing.T, botID string) []envelope {
	t.Helper()
	var all []envelope
	after := int64(0)
	for {
		var page struct {
			Events    []envelope `json:"events"`
			NextAfter int64      `json:"next_after"`
		}
		c.must(t, 200, "GET", fmt.Sprintf("/v1/events?bot_id=%s&after=%d&limit=2", botID, after), nil, &page)
		for i := range page.Events {
			json.Unmarshal(page.Events[i].Data, &page.Events[i].data)
		}
		all = append(all, page.Events...)
		if len(page.Events) == 0 {
			return all
		}
		after = page.NextAfter
	}
}

// delivery is one webhook request the bot's receiver got.
type delivery struct {
	webhookID string
	env       envelope
	status    int   // what the receiver answered
	err       error // signature or body trouble
}

// botHook is the bot's webhook receiver: it verifies every delivery with the
// bot's secret and records it. While down it answers 503.
type botHook struct {
	secret string
	url    string
	down   atomic.Bool

	mu  sync.Mutex
	got []delivery
}

func newBotHook(t *testing.T) *botHook {
	b := &botHook{secret: stdwebhook.NewSecret()}
	srv := httptest.NewServer(b)
	t.Cleanup(srv.Close)
	b.url = srv.URL + "/hooks/baton"
	return b
}

func (b *botHook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	d := delivery{webhookID: r.Header.Get(stdwebhook.HeaderID), err: err}
	if d.err == nil {
		d.err = stdwebhook.Verify(b.secret, r.Header, body, time.Now())
	}
	if d.err == nil {
		d.err = json.Unmarshal(body, &d.env)
	}
	if d.err == nil {
		d.err = json.Unmarshal(d.env.Data, &d.env.data)
	}
	switch {
	case d.err != nil:
		d.status = http.StatusBadRequest
	case b.down.Load():
		d.status = http.StatusServiceUnavailable
	default:
		d.status = http.StatusNoContent
	}
	b.mu.Lock()
	b.got = append(b.got, d)
	b.mu.Unlock()
	w.WriteHeader(d.status)
}

// all returns every delivery so far, in arrival order.
func (b *botHook) all() []delivery {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.got)
}

// received returns the events the bot accepted, each once (by webhook-id), in
// the order they first arrived.
func (b *botHook) received() []envelope {
	var out []envelope
	seen := map[string]bool{}
	for _, d := range b.all() {
		if d.status/100 == 2 && !seen[d.webhookID] {
			seen[d.webhookID] = true
			out = append(out, d.env)
		}
	}
	return out
}

// find returns the accepted event of type typ for handoff h, if any.
func (b *botHook) find(h, typ string) (envelope, bool) {
	for _, e := range b.received() {
		if e.data.HandoffID == h && e.Type == typ {
			return e, true
		}
	}
	return envelope{}, false
}

// await waits for the bot to accept an event of type typ for handoff h.
func (b *botHook) await(t *testing.T, h, typ string) envelope {
	t.Helper()
	var e envelope
	eventually(t, "the bot to receive "+typ+" for "+h, func() (ok bool) {
		e, ok = b.find(h, typ)
		return ok
	})
	return e
}

// check asserts that every delivery was signed with the bot's secret, that a
// webhook-id always carried the same event (a retry), and that each event
// had one webhook-id.
func (b *botHook) check(t *testing.T) {
	t.Helper()
	byHookID := map[string]envelope{}
	byEventID := map[string]string{}
	for _, d := range b.all() {
		if d.err != nil {
			t.Errorf("a delivery (webhook-id %q) failed verification: %v", d.webhookID, d.err)
			continue
		}
		if prev, ok := byHookID[d.webhookID]; ok {
			if prev.ID != d.env.ID || prev.Type != d.env.Type || prev.Seq != d.env.Seq || !bytes.Equal(compact(prev.Data), compact(d.env.Data)) {
				t.Errorf("webhook-id %s carried two different events: %s and %s", d.webhookID, prev, d.env)
			}
		}
		byHookID[d.webhookID] = d.env
		if prev, ok := byEventID[d.env.ID]; ok && prev != d.webhookID {
			t.Errorf("event %s came under two webhook-ids: %s and %s", d.env, prev, d.webhookID)
		}
		byEventID[d.env.ID] = d.webhookID
	}
}

func compact(b []byte) []byte {
	var buf bytes.Buffer
	if json.Compact(&buf, b) != nil {
		return b
	}
	return buf.Bytes()
}

// --- the company's side ------------------------------------------------------

// companyCall is one request Baton made to the company's service.
type companyCall struct {
	path   string // "establish", "chat" or "close"
	status int    // what the service answered
	ref    string // the conversation_id: Baton's handoff id
	body   companyBody
}

type companyBody struct {
	IsTest         bool            `json:"istest"`
	ConversationID string          `json:"conversation_id"`
	Email          string          `json:"email"`
	Body           json.RawMessage `json:"body"`
	UserInfo       *struct {
		Email  string `json:"email"`
		UserID string `json:"user_id"`
		Name   string `json:"name"`
	} `json:"user_info"`
	MessageID string `json:"message_id"` // chat
	Type      string `json:"type"`       // close
	Reason    string `json:"reason"`     // close
	turns     []turn // establish: the transcript
	text      string // chat: the message
}

type turn struct {
	Type string `json:"message_type"`
	Text string `json:"text"`
}

// companySvc plays the company's own support system on the webhook desk
// protocol: it records what Baton sends and, as its agents, posts to Baton's
// inbound URL with the shared secret. While down it answers 503 with
// Retry-After: 1.
type companySvc struct {
	secret string
	url    string // the desk's "url" setting
	baton  string // Baton's base URL
	deskID string
	down   atomic.Bool

	mu     sync.Mutex
	calls  []companyCall
	probes int
}

func newCompany(t *testing.T, deskID string) *companySvc {
	c := &companySvc{secret: "company-" + base64.RawURLEncoding.EncodeToString(randBytes(18)), deskID: deskID}
	srv := httptest.NewServer(c)
	t.Cleanup(srv.Close)
	c.url = srv.URL + "/baton"
	return c
}

func randBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func (c *companySvc) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path, ok := map[string]string{
		"/baton/conversation/establish": "establish",
		"/baton/chat":                   "chat",
		"/baton/conversation/close":     "close",
	}[r.URL.Path]
	if !ok || r.Method != http.MethodPost {
		http.NotFound(w, r)
		return
	}
	raw, _ := io.ReadAll(r.Body)
	call := companyCall{path: path, status: http.StatusOK}
	err := json.Unmarshal(raw, &call.body)
	switch path {
	case "establish":
		if err == nil {
			err = json.Unmarshal(call.body.Body, &call.body.turns)
		}
	case "chat":
		if err == nil {
			err = json.Unmarshal(call.body.Body, &call.body.text)
		}
	}
	call.ref = call.body.ConversationID
	switch {
	case err != nil:
		call.status = http.StatusBadRequest
	case c.down.Load():
		call.status = http.StatusServiceUnavailable
		w.Header().Set("Retry-After", "1")
	}
	c.mu.Lock()
	if call.body.IsTest {
		c.probes++
	} else {
		c.calls = append(c.calls, call)
	}
	c.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(call.status)
	fmt.Fprintf(w, `{"code":%d,"message":%q}`, call.status, http.StatusText(call.status))
}

// probed counts the "istest" probes.
func (c *companySvc) probed() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.probes
}

// accepted returns the calls the service answered 2xx to, for handoff ref
// ("" for all), in arrival order.
func (c *companySvc) accepted(ref string) []companyCall {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []companyCall
	for _, call := range c.calls {
		if call.status/100 == 2 && (ref == "" || call.ref == ref) {
			out = append(out, call)
		}
	}
	return out
}

// refused counts the calls answered with a failure (while down).
func (c *companySvc) refused(path, ref string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, call := range c.calls {
		if call.status/100 != 2 && call.path == path && call.ref == ref {
			n++
		}
	}
	return n
}

// find returns the first accepted call on path for ref matching ok.
func (c *companySvc) find(path, ref string, ok func(companyCall) bool) (companyCall, bool) {
	for _, call := range c.accepted(ref) {
		if call.path == path && (ok == nil || ok(call)) {
			return call, true
		}
	}
	return companyCall{}, false
}

func (c *companySvc) await(t *testing.T, path, ref string, ok func(companyCall) bool) companyCall {
	t.Helper()
	var call companyCall
	eventually(t, "the company's service to get "+path+" for "+ref, func() (found bool) {
		call, found = c.find(path, ref, ok)
		return found
	})
	return call
}

// inbound posts body to Baton's inbound URL for the desk as the company does,
// with the shared secret (or another one), and returns the status.
func (c *companySvc) inbound(t *testing.T, path, secret string, body any) (int, string) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequestWithContext(t.Context(), "POST", c.baton+"/v1/desks/"+c.deskID+"/inbound/"+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+secret)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST inbound/%s: %v", path, err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(out)
}

// --- the walk ------------------------------------------------------------------

// deskSide is the human side of a walk: the company's agent over the webhook
// desk protocol, or an inbox agent over the agent API.
type deskSide interface {
	// opened waits until the desk shows handoff h and returns its transcript
	// as "author: text" lines, customer or bot.
	opened(t *testing.T, h string) []string
	// received waits until customer message id of h reached the desk and returns what the agent sees.
	received(t *testing.T, h, id string) string
	// reply answers the customer as the agent.
	reply(t *testing.T, h, text string)
	// end closes the handoff from the agent's side.
	end(t *testing.T, h string)
	// replyLate answers after the handoff ended; the desk may accept it (it is
	// kept) or refuse it, but it must never reach the bot.
	replyLate(t *testing.T, h, text string)
	// closedByBot waits until the desk knows the bot ended h.
	closedByBot(t *testing.T, h string)
	// agent is the name the bot must see.
	agent() string
}

var walkCustomer = map[string]any{"id": "cust-42", "name": "Sam Doe", "email": "sam@example.com", "metadata": map[string]any{"plan": "pro"}}

var walkHistory = []map[string]string{
	{"author": "customer", "text": "Hi, my parcel has not arrived."},
	{"author": "bot", "text": "Sorry to hear that! What is the order number?"},
	{"author": "customer", "text": "It is 1234."},
	{"author": "bot", "text": "Order 1234 left our warehouse on Monday."},
}

const walkQuestion = "Can I talk to a person about changing the address?"

// walk takes one conversation through a whole handoff and a second one the
// bot ends, checking what the bot, the desk and the API see at every step.
func walk(t *testing.T, api apiClient, bot *botHook, botID string, desk deskSide) {
	conv := "conv-" + botID
	convPath := "/v1/conversations/" + conv + "?bot_id=" + botID

	// The bot asks for a human with the customer, two rounds of history and the question.
	var h1 apiHandoff
	api.must(t, 201, "POST", "/v1/handoffs", map[string]any{"bot_id": botID, "conversation_id": conv,
		"customer": walkCustomer, "history": walkHistory, "question": walkQuestion}, &h1)
	if h1.State != "requested" || h1.ConversationID != conv || h1.BotID != botID {
		t.Fatalf("created handoff %+v, want requested in %s for %s", h1, conv, botID)
	}
	queued := bot.await(t, h1.ID, "handoff.queued")
	if queued.data.ConversationID != conv || queued.data.State != "queued" || queued.data.Epoch < 1 || queued.data.DeskID == "" {
		t.Errorf("handoff.queued data %s", queued.Data)
	}
	wantLines := []string{}
	for _, m := range walkHistory {
		wantLines = append(wantLines, m["author"]+": "+m["text"])
	}
	wantLines = append(wantLines, "customer: "+walkQuestion)
	if got := desk.opened(t, h1.ID); !slices.Equal(got, wantLines) {
		t.Errorf("the desk opened the handoff with\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantLines, "\n"))
	}

	// The customer writes, with an attachment; the desk gets both.
	var m1 apiMessage
	att := apiAttachment{URL: "https://files.example.com/e2e/label.pdf", Name: "label.pdf", Type: "application/pdf", Size: 2048}
	api.must(t, 201, "POST", "/v1/handoffs/"+h1.ID+"/messages", map[string]any{"text": "Here is the shipping label.", "attachments": []apiAttachment{att}}, &m1)
	if m1.ID == "" || m1.Author != "customer" || len(m1.Attachments) != 1 {
		t.Errorf("customer message answered %+v", m1)
	}
	if got := desk.received(t, h1.ID, m1.ID); !strings.Contains(got, "Here is the shipping label.") || !strings.Contains(got, att.URL) {
		t.Errorf("the desk shows the customer message as %q; want its text and a link to %s", got, att.URL)
	}

	// The agent answers: the bot learns who joined and relays the message.
	reply := "Hello Sam, I can change the address. Which one should we use?"
	desk.reply(t, h1.ID, reply)
	joined := bot.await(t, h1.ID, "handoff.agent_joined")
	if joined.data.Agent.Name != desk.agent() || joined.data.Name != desk.agent() {
		t.Errorf("handoff.agent_joined names %+v / %q, want %q", joined.data.Agent, joined.data.Name, desk.agent())
	}
	said := bot.await(t, h1.ID, "handoff.agent_message")
	if said.data.Text != reply || said.data.Agent.Name != desk.agent() || said.data.State != "active" || said.data.MessageID == "" {
		t.Errorf("handoff.agent_message data %s", said.Data)
	}
	if said.data.Epoch <= queued.data.Epoch {
		t.Errorf("the first agent reply left the epoch at %d (queued at %d); it should move on", said.data.Epoch, queued.data.Epoch)
	}
	var got apiHandoff
	api.must(t, 200, "GET", "/v1/handoffs/"+h1.ID, nil, &got)
	if got.State != "active" || got.Agent.Name != desk.agent() || got.Epoch != said.data.Epoch {
		t.Errorf("GET the handoff while the agent holds it: %+v", got)
	}

	// A bot reply decided under the old epoch is fenced off.
	code, b := api.call(t, "POST", "/v1/conversations/"+conv+"/bot-messages", map[string]any{"bot_id": botID, "epoch": queued.data.Epoch, "text": "Let me check that for you!"}, nil)
	if code != 409 || !strings.HasPrefix(problemCode(b), "stale_epoch") {
		t.Errorf("a bot message under the old epoch %d: %d %s, want 409 stale_epoch", queued.data.Epoch, code, b)
	}

	// The agent closes: the bot gets the conversation back with a summary.
	desk.end(t, h1.ID)
	ended := bot.await(t, h1.ID, "handoff.ended")
	var sum summary
	if err := json.Unmarshal(ended.data.Summary, &sum); err != nil {
		t.Errorf("handoff.ended summary %s: %v", ended.data.Summary, err)
	}
	if ended.data.Reason != "agent_closed" || ended.data.State != "ended" || sum.Agent.Name != desk.agent() || sum.AgentMessages != 1 ||
		sum.CustomerMessages < 1 || !slices.ContainsFunc(sum.Transcript, func(m struct {
		Author string `json:"author"`
		Text   string `json:"text"`
	}) bool {
		return m.Author == "agent" && m.Text == reply
	}) {
		t.Errorf("handoff.ended data %s", ended.Data)
	}
	var c apiConversation
	api.must(t, 200, "GET", convPath, nil, &c)
	if c.Owner != "bot" || c.Epoch <= said.data.Epoch || c.OpenHandoffID != nil || c.Epoch != ended.data.Epoch {
		t.Errorf("GET the conversation after the agent closed: owner %s epoch %d open %v (the session ran at epoch %d, ended at %d)",
			c.Owner, c.Epoch, c.OpenHandoffID, said.data.Epoch, ended.data.Epoch)
	}
	api.must(t, 200, "GET", "/v1/handoffs/"+h1.ID, nil, &got)
	if got.State != "ended" || got.EndReason != "agent_closed" || len(got.Summary) == 0 {
		t.Errorf("GET the ended handoff: %+v", got)
	}

	// The agent writes again after the end: never shown to the customer as live.
	desk.replyLate(t, h1.ID, "Oh, and one more thing!")

	// The bot speaks again under the new epoch.
	api.must(t, 201, "POST", "/v1/conversations/"+conv+"/bot-messages", map[string]any{"bot_id": botID, "epoch": ended.data.Epoch, "text": "Anything else I can do?"}, nil)

	// A second handoff in the same conversation, ended by the bot.
	var h2 apiHandoff
	api.must(t, 201, "POST", "/v1/handoffs", map[string]any{"bot_id": botID, "conversation_id": conv,
		"customer": map[string]any{"id": "cust-42"}, "question": "Actually, a person again please."}, &h2)
	bot.await(t, h2.ID, "handoff.queued")
	desk.opened(t, h2.ID)
	api.must(t, 200, "POST", "/v1/handoffs/"+h2.ID+"/end", map[string]any{}, &got)
	if got.State != "ended" || got.EndReason != "bot_closed" {
		t.Errorf("POST end answered %+v", got)
	}
	desk.closedByBot(t, h2.ID)
	if e := bot.await(t, h2.ID, "handoff.ended"); e.data.Reason != "bot_closed" {
		t.Errorf("the second handoff.ended: %s", e.Data)
	}

	// The bot's events of the conversation share one ordered lane: had the late
	// reply been relayed, it would sit between the two handoffs.
	var types []string
	var last int64
	for _, e := range bot.received() {
		if e.data.ConversationID != conv {
			continue
		}
		types = append(types, e.Type)
		if e.Seq <= last {
			t.Errorf("event %s arrived after seq %d", e, last)
		}
		last = e.Seq
	}
	want := []string{"handoff.queued", "handoff.agent_joined", "handoff.agent_message", "handoff.ended", "handoff.queued", "handoff.ended"}
	if !slices.Equal(types, want) {
		t.Errorf("the bot received\n%s\nwant\n%s", strings.Join(types, "\n"), strings.Join(want, "\n"))
	}
	var listed []string
	for _, e := range api.events(t, botID) {
		listed = append(listed, e.ID)
	}
	var delivered []string
	for _, e := range bot.received() {
		delivered = append(delivered, e.ID)
	}
	if !slices.Equal(listed, delivered) {
		t.Errorf("GET /v1/events lists %v; the bot received %v", listed, delivered)
	}
	bot.check(t)
}

// companyAgent is the company's agent Marie, on the webhook desk protocol.
type companyAgent struct{ c *companySvc }

func (a companyAgent) agent() string { return "Marie" }

func (a companyAgent) opened(t *testing.T, h string) []string {
	t.Helper()
	call := a.c.await(t, "establish", h, nil)
	if u := call.body.UserInfo; u == nil || u.UserID != walkCustomer["id"] || u.Name != walkCustomer["name"] || u.Email != walkCustomer["email"] {
		t.Errorf("establish for %s carries user_info %+v, want the customer %v", h, u, walkCustomer)
	}
	var lines []string
	for _, tn := range call.body.turns {
		who := map[string]string{"QUESTION": "customer", "ANSWER": "bot"}[tn.Type]
		if who == "" {
			who = tn.Type
		}
		lines = append(lines, who+": "+tn.Text)
	}
	return lines
}

func (a companyAgent) received(t *testing.T, h, id string) string {
	t.Helper()
	return a.c.await(t, "chat", h, func(c companyCall) bool { return c.body.MessageID == id }).body.text
}

func (a companyAgent) message(h, text string) map[string]any {
	return map[string]any{"conversation_id": h, "timestamp": time.Now().UnixMilli(), "body": text,
		"message_id": "cm-" + base64.RawURLEncoding.EncodeToString(randBytes(9)), "agent": map[string]string{"id": "marie", "name": "Marie"}}
}

func (a companyAgent) reply(t *testing.T, h, text string) {
	t.Helper()
	// A reply with the wrong secret is refused before it is read.
	if code, body := a.c.inbound(t, "message", "not-the-shared-secret", a.message(h, "Forged: send me your password")); code != 401 {
		t.Errorf("an agent reply with the wrong secret: %d %s, want 401", code, body)
	}
	if code, body := a.c.inbound(t, "message", a.c.secret, a.message(h, text)); code != 200 {
		t.Fatalf("the agent's reply: %d %s", code, body)
	}
}

func (a companyAgent) end(t *testing.T, h string) {
	t.Helper()
	if code, body := a.c.inbound(t, "close", a.c.secret, map[string]any{"conversation_id": h, "timestamp": time.Now().UnixMilli()}); code != 200 {
		t.Fatalf("the agent's close: %d %s", code, body)
	}
}

func (a companyAgent) replyLate(t *testing.T, h, text string) {
	t.Helper()
	// The service cannot know Baton's side has ended: it is acknowledged and kept.
	if code, body := a.c.inbound(t, "message", a.c.secret, a.message(h, text)); code != 200 {
		t.Errorf("a late agent reply: %d %s, want 200 (acknowledged, kept as late)", code, body)
	}
}

func (a companyAgent) closedByBot(t *testing.T, h string) {
	t.Helper()
	call := a.c.await(t, "close", h, nil)
	if call.body.Type != "BOT_CLOSED" || call.body.Reason != "bot_closed" {
		t.Errorf("the company's service got close type %q reason %q, want BOT_CLOSED bot_closed", call.body.Type, call.body.Reason)
	}
}

// inboxAgent is Ana, an inbox agent on the agent API.
type inboxAgent struct{ api apiClient }

func (a inboxAgent) agent() string { return "Ana" }

type inboxTranscript struct {
	Handoff  apiHandoff   `json:"handoff"`
	Messages []apiMessage `json:"messages"`
}

func (a inboxAgent) transcript(t *testing.T, h string) inboxTranscript {
	t.Helper()
	var tr inboxTranscript
	a.api.must(t, 200, "GET", "/v1/inbox/handoffs/"+h+"/messages", nil, &tr)
	return tr
}

func (a inboxAgent) waiting(t *testing.T) []string {
	t.Helper()
	var q struct {
		Waiting []apiHandoff `json:"waiting"`
		Mine    []apiHandoff `json:"mine"`
	}
	a.api.must(t, 200, "GET", "/v1/inbox/handoffs", nil, &q)
	var ids []string
	for _, h := range q.Waiting {
		ids = append(ids, h.ID)
	}
	return ids
}

func (a inboxAgent) opened(t *testing.T, h string) []string {
	t.Helper()
	eventually(t, h+" in Ana's queue", func() bool { return slices.Contains(a.waiting(t), h) })
	var lines []string
	for _, m := range a.transcript(t, h).Messages {
		lines = append(lines, m.Author+": "+m.Text)
	}
	return lines
}

func (a inboxAgent) received(t *testing.T, h, id string) string {
	t.Helper()
	var shown string
	eventually(t, "message "+id+" in the inbox", func() bool {
		for _, m := range a.transcript(t, h).Messages {
			if m.ID == id {
				shown = m.Text
				for _, at := range m.Attachments {
					shown += "\n" + at.Name + " " + at.URL
				}
				return true
			}
		}
		return false
	})
	return shown
}

func (a inboxAgent) reply(t *testing.T, h, text string) {
	t.Helper()
	a.api.must(t, 200, "POST", "/v1/inbox/handoffs/"+h+"/claim", nil, nil)
	a.api.must(t, 201, "POST", "/v1/inbox/handoffs/"+h+"/messages", map[string]any{"text": text}, nil)
}

func (a inboxAgent) end(t *testing.T, h string) {
	t.Helper()
	a.api.must(t, 200, "POST", "/v1/inbox/handoffs/"+h+"/end", nil, nil)
}

func (a inboxAgent) replyLate(t *testing.T, h, text string) {
	t.Helper()
	if code, body := a.api.call(t, "POST", "/v1/inbox/handoffs/"+h+"/messages", map[string]any{"text": text}, nil); code != 409 {
		t.Errorf("a reply to an ended inbox handoff: %d %s, want 409", code, body)
	}
}

func (a inboxAgent) closedByBot(t *testing.T, h string) {
	t.Helper()
	if tr := a.transcript(t, h); tr.Handoff.State != "ended" || tr.Handoff.EndReason != "bot_closed" {
		t.Errorf("the inbox shows the handoff the bot ended as %s %s", tr.Handoff.State, tr.Handoff.EndReason)
	}
	if slices.Contains(a.waiting(t), h) {
		t.Errorf("the handoff the bot ended is still in Ana's queue")
	}
}

func TestEndToEndSQLite(t *testing.T)   { endToEnd(t, "sqlite") }
func TestEndToEndPostgres(t *testing.T) { endToEnd(t, "postgres") }

// endToEnd serves testdata/e2e.yaml on store and walks a handoff through each desk.
func endToEnd(t *testing.T, store string) {
	t.Parallel()
	env := e2eStoreEnv(t, store)
	company := newCompany(t, "company")
	webBot, inboxBot := newBotHook(t), newBotHook(t)
	for k, v := range map[string]string{
		"BATON_ADDR":      "127.0.0.1:0",
		"BATON_CONFIG":    filepath.Join("testdata", "e2e.yaml"),
		"BATON_LOG_LEVEL": "debug",
		"E2E_API_KEY":     "e2e-api-key-" + store,
		"COMPANY_URL":     company.url,
		"COMPANY_SECRET":  company.secret,
		"WEBBOT_URL":      webBot.url,
		"WEBBOT_SECRET":   webBot.secret,
		"INBOXBOT_URL":    inboxBot.url,
		"INBOXBOT_SECRET": inboxBot.secret,
		"ANA_KEY":         "e2e-ana-key-" + store,
	} {
		env[k] = v
	}
	in := start(t, env)
	dumpOnFailure(t, "baton", in)
	company.baton = in.base
	api := apiClient{base: in.base, key: env["E2E_API_KEY"]}
	if company.probed() == 0 {
		t.Errorf("Baton did not probe the company's service at start")
	}

	for _, c := range []struct {
		name string
		bot  *botHook
		id   string
		desk deskSide
	}{
		{"webhook desk", webBot, "webbot", companyAgent{company}},
		{"inbox desk", inboxBot, "inboxbot", inboxAgent{apiClient{base: in.base, key: env["ANA_KEY"]}}},
	} {
		t.Run(c.name, func(t *testing.T) { walk(t, api, c.bot, c.id, c.desk) })
	}

	// The company's service saw each handoff open, its customer message once,
	// and the close Baton owed it; never the handoff the agent closed.
	calls := company.accepted("")
	var paths []string
	for _, c := range calls {
		paths = append(paths, c.path)
	}
	if want := []string{"establish", "chat", "establish", "close"}; !slices.Equal(paths, want) {
		t.Errorf("the company's service got %v, want %v", paths, want)
	}
	in.shutdown(t)
}
