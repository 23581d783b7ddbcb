package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton/livechat"
	"github.com/batonhq/baton/livechatsim"
)

// The LiveChat end-to-end tests boot run() against the LiveChat simulator
// over real HTTP. Each test has its own simulated license (an httptest server
// serving livechatsim's Handler, which the desk's api_url and accounts_url
// name), its own Baton on a fresh SQLite file, configured by a
// testdata/livechat-*.yaml file, and its own bot receiver that verifies
// every signed delivery. The simulator's chat webhooks are registered to
// Baton's inbound URL with `baton livechat webhooks`, run through run() as
// an operator would. The tests act as the bot (Baton's API), as LiveChat's
// human agents and as LiveChat customers (the simulator's driver).

// The people of the simulated licenses.
const (
	lcBatonAgent = "baton@acme.test" // relay: the agent whose PAT the desk holds; not accepting chats
	lcMarie      = "marie@acme.test" // relay: the human of group 1 "Support"
	lcSeatAgent  = "bot@acme.test"   // seat: the agent the bot answers as, in group 0 only
	lcBella      = "bella@acme.test" // seat: group 1 "Billing"
	lcTom        = "tom@acme.test"   // seat: group 2 "Technical support"
	lcSally      = "sally@acme.test" // seat: group 3 "Sales"
	lcSecretKey  = "lc-chat-webhooks-secret-0123456789"
)

// lcWorld is one test's simulated LiveChat license and the Baton serving it.
type lcWorld struct {
	sim    *livechatsim.Sim
	simURL string
	app    livechatsim.App
	pat    livechatsim.Agent // the agent whose personal access token the desk uses
	desk   string            // the desk's id in the YAML file
	botID  string
	env    map[string]string
	in     *instance
	api    apiClient
	bot    *botHook
}

// newLCSim starts a simulator served over HTTP, with one app (the Developer
// Console app whose Client Id the desk names). Webhook retries are quick.
func newLCSim(t *testing.T) *lcWorld {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	w := &lcWorld{simURL: "http://" + srv.Listener.Addr().String()}
	w.sim = livechatsim.New(livechatsim.Config{
		URL:     w.simURL,
		Retry:   []time.Duration{50 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond},
		Timeout: 5 * time.Second,
	})
	srv.Config.Handler = w.sim.Handler()
	srv.Start()
	t.Cleanup(srv.Close)
	t.Cleanup(w.sim.Close)
	w.app = w.sim.AddApp(livechatsim.App{RedirectURI: "https://acme.test/livechat"})
	return w
}

func (w *lcWorld) addAgent(t *testing.T, a livechatsim.Agent) livechatsim.Agent {
	t.Helper()
	got, err := w.sim.AddAgent(a)
	if err != nil {
		t.Fatalf("adding agent %s: %v", a.ID, err)
	}
	return got
}

// start boots Baton with testdata/cfg, checks that the desk came up
// available, and registers the simulator's webhooks to it.
func (w *lcWorld) start(t *testing.T, cfg, desk, botID string) {
	t.Helper()
	w.desk, w.botID = desk, botID
	w.bot = newBotHook(t)
	w.env = map[string]string{
		"BATON_ADDR":         "127.0.0.1:0",
		"BATON_CONFIG":       filepath.Join("testdata", cfg),
		"BATON_DB":           filepath.Join(t.TempDir(), "baton.db"),
		"BATON_LOG_LEVEL":    "debug",
		"BATON_RETRY_SCALE":  "0.01",
		"LC_API_KEY":         fmt.Sprintf("lc-api-key-%x", randBytes(12)),
		"LC_ORGANIZATION_ID": w.sim.OrganizationID(),
		"LC_CLIENT_ID":       w.app.ClientID,
		"LC_CLIENT_SECRET":   w.app.Secret,
		"LC_REDIRECT_URI":    w.app.RedirectURI,
		"LC_ACCOUNT_ID":      w.pat.AccountID,
		"LC_TOKEN":           w.pat.PAT,
		"LC_SECRET_KEY":      lcSecretKey,
		"LC_SEAT_EMAIL":      w.pat.ID,
		"LC_API_URL":         w.simURL,
		"BOT_URL":            w.bot.url,
		"BOT_SECRET":         w.bot.secret,
	}
	w.in = start(t, w.env)
	dumpOnFailure(t, "baton", w.in)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("simulator chats:\n%s", w.dumpChats())
		}
	})
	w.api = apiClient{base: w.in.base, key: w.env["LC_API_KEY"]}

	w.api.mustBeAvailable(t, botID, "LiveChat")
	if out := w.registerWebhooks(t); !lcWebhookStates(out, "registered now") {
		t.Fatalf("baton livechat webhooks did not register the four webhooks:\n%s", out)
	}
}

// registerWebhooks runs `baton livechat webhooks` for the desk and returns its output.
func (w *lcWorld) registerWebhooks(t *testing.T) string {
	t.Helper()
	var out, errs buffer
	args := []string{"baton", "livechat", "webhooks", "--desk", w.desk, "--url", w.in.base, "--config", w.env["BATON_CONFIG"]}
	if err := run(t.Context(), args, getenv(w.env), &out, &errs); err != nil {
		t.Fatalf("baton livechat webhooks: %v\nstdout:\n%s\nstderr:\n%s", err, out.String(), errs.String())
	}
	got := out.String()
	inbound := w.in.base + "/v1/desks/" + w.desk + "/inbound/webhook"
	if !strings.Contains(got, "for "+inbound+"\n") || !strings.Contains(got, "all webhooks Baton needs are registered") {
		t.Errorf("baton livechat webhooks printed:\n%s\nwant the webhooks registered for %s", got, inbound)
	}
	return got
}

// lcWebhookStates reports whether the report gives every webhook Baton
// needs the state want ("registered now", "already registered").
func lcWebhookStates(report, want string) bool {
	for _, action := range livechat.WebhookActions {
		ok := false
		for line := range strings.Lines(report) {
			if f := strings.Fields(line); len(f) > 0 && f[0] == action && strings.Contains(line, " "+want) {
				ok = true
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// dumpChats describes every chat of the simulator, for failures.
func (w *lcWorld) dumpChats() string {
	var b strings.Builder
	for _, c := range w.sim.Chats() {
		fmt.Fprintf(&b, "chat %s groups %v present %v active %v\n", c.ID, c.Access, c.Present(), c.Active())
		for _, e := range c.Events() {
			fmt.Fprintf(&b, "  %s %-14s by %-38s custom_id %q %q %v\n", e.ID, e.Type, e.AuthorID, e.CustomID, e.Text, e.Fields)
		}
	}
	for _, d := range w.sim.Webhooks() {
		fmt.Fprintf(&b, "webhook #%d %s attempts %d status %d delivered %v duplicate %v %s\n", d.ID, d.Action, d.Attempts, d.Status, d.Delivered, d.Duplicate, d.Err)
	}
	return b.String()
}

// --- the relay license ---------------------------------------------------------

// newRelayWorld is a license with group 1 "Support", where Marie works with
// the given routing status, and Baton's agent (not accepting chats), served
// by a Baton configured by cfg.
func newRelayWorld(t *testing.T, cfg, marieStatus string) *lcWorld {
	t.Helper()
	w := newLCSim(t)
	w.sim.AddGroup(1, "Support")
	w.pat = w.addAgent(t, livechatsim.Agent{ID: lcBatonAgent, Name: "Baton", Status: livechatsim.NotAccepting, Groups: map[int]string{0: "normal"}})
	w.addAgent(t, livechatsim.Agent{ID: lcMarie, Name: "Marie", Status: marieStatus, Groups: map[int]string{1: "normal"}})
	w.start(t, cfg, "livechat", "helpbot")
	return w
}

var lcCustomer = map[string]any{"id": "cust-7", "name": "Sam Doe", "email": "sam@example.com"}

var lcHistory = []map[string]string{
	{"author": "customer", "text": "Hi, I was charged for an order I cancelled."},
	{"author": "bot", "text": "Sorry about that! What is the order number?"},
	{"author": "customer", "text": "It is 1234."},
	{"author": "bot", "text": "Order 1234 was cancelled on Monday; its refund is pending."},
}

const lcQuestion = "Can a person check why the refund has not arrived?"

// handoff asks for a human in conversation conv as the bot, with the
// customer, two rounds of history and the question, and waits for
// handoff.queued.
func (w *lcWorld) handoff(t *testing.T, conv string) (apiHandoff, envelope) {
	t.Helper()
	var h apiHandoff
	w.api.must(t, 201, "POST", "/v1/handoffs", map[string]any{"bot_id": w.botID, "conversation_id": conv,
		"customer": lcCustomer, "history": lcHistory, "question": lcQuestion}, &h)
	queued := w.bot.await(t, h.ID, "handoff.queued")
	if queued.data.State != "queued" || queued.data.ConversationID != conv || queued.data.DeskID != w.desk || queued.data.Epoch < 1 {
		t.Errorf("handoff.queued data %s", queued.Data)
	}
	return h, queued
}

// chatFor waits for the simulator's chat of handoff h: the chat whose
// customer carries the handoff's id as a session field.
func (w *lcWorld) chatFor(t *testing.T, h string) livechatsim.Chat {
	t.Helper()
	var found livechatsim.Chat
	eventuallyWithin(t, e2eWait, "the LiveChat chat of "+h, func() (bool, string) {
		for _, c := range w.sim.Chats() {
			cu, ok := w.sim.Customer(lcCustomerOf(c).ID)
			if ok && slices.ContainsFunc(cu.SessionFields, func(f map[string]string) bool { return f["handoff_id"] == h }) {
				found = c
				return true, ""
			}
		}
		return false, fmt.Sprintf("%d chats", len(w.sim.Chats()))
	})
	return found
}

// chatUntil waits until the chat satisfies cond, which also describes what it saw.
func (w *lcWorld) chatUntil(t *testing.T, id, what string, cond func(livechatsim.Chat) (bool, string)) livechatsim.Chat {
	t.Helper()
	var c livechatsim.Chat
	eventuallyWithin(t, e2eWait, what, func() (bool, string) {
		var ok bool
		if c, ok = w.sim.Chat(id); !ok {
			return false, "no chat " + id
		}
		return cond(c)
	}, w.dumpChats)
	return c
}

func (w *lcWorld) agentSend(t *testing.T, chat, agent, text string) {
	t.Helper()
	if _, err := w.sim.AgentSend(chat, agent, text); err != nil {
		t.Fatalf("%s sending %q: %v", agent, text, err)
	}
}

// relay posts a customer message to the handoff as the bot.
func (w *lcWorld) relay(t *testing.T, h, text string) apiMessage {
	t.Helper()
	var m apiMessage
	w.api.must(t, 201, "POST", "/v1/handoffs/"+h+"/messages", map[string]any{"text": text}, &m)
	return m
}

// flush waits until the simulator has no webhook delivery pending.
func (w *lcWorld) flush(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), e2eWait)
	defer cancel()
	if err := w.sim.Flush(ctx); err != nil {
		t.Fatalf("the simulator's webhooks are still pending: %v", err)
	}
}

// lcCustomerOf is the chat's customer user.
func lcCustomerOf(c livechatsim.Chat) livechatsim.User {
	for _, u := range c.Users {
		if u.Type == "customer" {
			return u
		}
	}
	return livechatsim.User{}
}

// lcMessages lists a chat's message and file events, oldest first.
func lcMessages(c livechatsim.Chat) []livechatsim.Event {
	var out []livechatsim.Event
	for _, e := range c.Events() {
		if e.Type == "message" || e.Type == "file" {
			out = append(out, e)
		}
	}
	return out
}

// lcTextsBy lists the texts of the chat's messages by author, oldest first.
func lcTextsBy(c livechatsim.Chat, author string) []string {
	var out []string
	for _, e := range lcMessages(c) {
		if e.Type == "message" && e.AuthorID == author {
			out = append(out, e.Text)
		}
	}
	return out
}

func lcPresent(c livechatsim.Chat, id string) bool { return slices.Contains(c.Present(), id) }

// lcData is what livechat tests read in event data beyond eventData.
type lcData struct {
	Attachments []apiAttachment `json:"attachments"`
	Decision    *lcDecision     `json:"decision"`
	Customer    struct {
		ID    string `json:"id"`
		Name  string `json:"name"`
		Email string `json:"email"`
	} `json:"customer"`
	Choices []string `json:"choices"`
}

type lcDecision struct {
	GroupID   string  `json:"group_id"`
	GroupName string  `json:"group_name"`
	Score     float64 `json:"score"`
	Reason    string  `json:"reason"`
	Trigger   string  `json:"trigger"`
}

func lcDataOf(e envelope) lcData {
	var d lcData
	json.Unmarshal(e.Data, &d)
	return d
}

// lcEvents returns the events the bot accepted, each once, that match ok.
func lcEvents(b *botHook, ok func(envelope) bool) []envelope {
	var out []envelope
	for _, e := range b.received() {
		if ok(e) {
			out = append(out, e)
		}
	}
	return out
}

// lcAwait waits for the bot to accept an event that matches ok.
func lcAwait(t *testing.T, b *botHook, what string, ok func(envelope) bool) envelope {
	t.Helper()
	var e envelope
	eventuallyWithin(t, e2eWait, "the bot to receive "+what, func() (bool, string) {
		evs := lcEvents(b, ok)
		if len(evs) == 0 {
			return false, fmt.Sprintf("%d events", len(b.received()))
		}
		e = evs[0]
		return true, ""
	})
	return e
}

func lcOfType(h, typ string) func(envelope) bool {
	return func(e envelope) bool { return e.data.HandoffID == h && e.Type == typ }
}

// lcTypes lists the types of the bot's events for handoff h, in arrival order.
func lcTypes(b *botHook, h string) []string {
	var out []string
	for _, e := range lcEvents(b, func(e envelope) bool { return e.data.HandoffID == h }) {
		out = append(out, e.Type)
	}
	return out
}

// lcFetch GETs a URL and returns its body.
func lcFetch(t *testing.T, url string) []byte {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", url, res.StatusCode, b)
	}
	return b
}

// lcPNG is a small PNG image.
func lcPNG(t *testing.T) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 3, 2))
	img.Set(1, 1, color.RGBA{R: 200, A: 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// requests counts the simulator's logged requests on path answered status (0: any).
func (w *lcWorld) requests(path string, status int) int {
	n := 0
	for _, r := range w.sim.Requests() {
		if r.Path == path && (status == 0 || r.Status == status) {
			n++
		}
	}
	return n
}

// --- the scenarios ---------------------------------------------------------------

// TestLiveChatRelay walks a relay handoff: the chat opens in the configured
// group with the customer's name, email and history as separate events;
// the agent's messages and files reach the bot, the customer's messages and
// files reach the chat; the agent's close ends the handoff.
func TestLiveChatRelay(t *testing.T) {
	t.Parallel()
	w := newRelayWorld(t, "livechat-relay.yaml", livechatsim.Accepting)
	if out := w.registerWebhooks(t); !lcWebhookStates(out, "already registered") {
		t.Errorf("registering the webhooks a second time changed something:\n%s", out)
	}

	receipt := []byte("%PDF-1.4\n% a receipt for order 1234\n%%EOF\n")
	files := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/files/receipt.pdf" {
			http.NotFound(rw, r)
			return
		}
		rw.Header().Set("Content-Type", "application/pdf")
		rw.Write(receipt)
	}))
	t.Cleanup(files.Close)

	h, _ := w.handoff(t, "conv-relay")
	c := w.chatFor(t, h.ID)
	cust := lcCustomerOf(c)

	// The chat is in group 1 with Marie; Baton's own agent has left it.
	c = w.chatUntil(t, c.ID, "Marie alone with the customer in group 1", func(c livechatsim.Chat) (bool, string) {
		return slices.Equal(c.Access, []int{1}) && lcPresent(c, lcMarie) && !lcPresent(c, lcBatonAgent),
			fmt.Sprintf("groups %v, present %v", c.Access, c.Present())
	})
	if !c.Active() || c.Last().Queue != nil {
		t.Errorf("the chat is active %v, queued %+v; want active and assigned", c.Active(), c.Last().Queue)
	}
	if cust.Name != lcCustomer["name"] || cust.Email != lcCustomer["email"] {
		t.Errorf("the chat's customer is %q <%s>, want %q <%s>", cust.Name, cust.Email, lcCustomer["name"], lcCustomer["email"])
	}
	if cu, _ := w.sim.Customer(cust.ID); !slices.ContainsFunc(cu.SessionFields, func(f map[string]string) bool { return f["conversation_id"] == "conv-relay" }) ||
		!slices.ContainsFunc(cu.SessionFields, func(f map[string]string) bool { return f["customer_id"] == lcCustomer["id"] }) {
		t.Errorf("the customer's session fields are %v; want Baton's customer, conversation and handoff ids", cu.SessionFields)
	}

	// The brief comes first, for agents only; then the history is a
	// conversation: one event per turn, each by its author.
	var got, want []string
	msgs := lcMessages(c)
	if len(msgs) == 0 || msgs[0].Visibility != "agents" || msgs[0].AuthorID != lcBatonAgent ||
		!strings.HasPrefix(msgs[0].Text, "Handoff brief\nSummary: ") || !strings.Contains(msgs[0].Text, fmt.Sprint("- email: ", lcCustomer["email"])) {
		t.Errorf("the chat does not open with the brief for agents: %+v", msgs)
	} else {
		msgs = msgs[1:]
	}
	for _, e := range msgs {
		who := e.AuthorID
		switch who {
		case cust.ID:
			who = "customer"
		case lcBatonAgent:
			who = "bot"
		}
		got = append(got, fmt.Sprintf("%s %s: %s", e.Type, who, e.Text))
	}
	for _, m := range lcHistory {
		want = append(want, "message "+m["author"]+": "+m["text"])
	}
	want = append(want, "message customer: "+lcQuestion)
	if !slices.Equal(got, want) {
		t.Errorf("the chat opened with\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// Marie writes: the bot learns who joined and relays her message.
	hello := "Hi Sam, Marie here. Let me look at that refund."
	w.agentSend(t, c.ID, lcMarie, hello)
	joined := w.bot.await(t, h.ID, "handoff.agent_joined")
	if joined.data.Name != "Marie" || joined.data.Agent != (apiAgent{ID: lcMarie, Name: "Marie"}) {
		t.Errorf("handoff.agent_joined data %s", joined.Data)
	}
	said := w.bot.await(t, h.ID, "handoff.agent_message")
	if said.data.Text != hello || said.data.Agent.Name != "Marie" || said.data.State != "active" || len(lcDataOf(said).Attachments) != 0 {
		t.Errorf("handoff.agent_message data %s", said.Data)
	}

	// The customer answers with a file: both reach the chat, as the customer.
	var m apiMessage
	w.api.must(t, 201, "POST", "/v1/handoffs/"+h.ID+"/messages", map[string]any{"text": "Here is the receipt.",
		"attachments": []apiAttachment{{URL: files.URL + "/files/receipt.pdf", Name: "receipt.pdf", Type: "application/pdf"}}}, &m)
	var text, file livechatsim.Event
	w.chatUntil(t, c.ID, "the customer's message and file in the chat", func(c livechatsim.Chat) (bool, string) {
		for _, e := range lcMessages(c) {
			switch e.CustomID {
			case "baton:" + m.ID:
				text = e
			case "baton:" + m.ID + ":file0":
				file = e
			}
		}
		return text.ID != "" && file.ID != "", fmt.Sprintf("message %q, file %q", text.ID, file.ID)
	})
	if text.Type != "message" || text.Text != "Here is the receipt." || text.AuthorID != cust.ID {
		t.Errorf("the customer's message is in the chat as %+v", text)
	}
	if file.Type != "file" || file.AuthorID != cust.ID || file.Fields["name"] != "receipt.pdf" || file.Fields["content_type"] != "application/pdf" {
		t.Errorf("the customer's file is in the chat as %+v", file)
	} else if u, _ := file.Fields["url"].(string); !bytes.Equal(lcFetch(t, u), receipt) {
		t.Errorf("the file in the chat is not the customer's receipt")
	}
	c, _ = w.sim.Chat(c.ID)
	if evs := lcMessages(c); slices.IndexFunc(evs, func(e livechatsim.Event) bool { return e.ID == text.ID }) >
		slices.IndexFunc(evs, func(e livechatsim.Event) bool { return e.ID == file.ID }) {
		t.Errorf("the file came before the message's text")
	}

	// Marie sends a file: the bot gets it as an attachment it can fetch.
	label := lcPNG(t)
	if _, err := w.sim.AgentFile(c.ID, lcMarie, "label.png", label); err != nil {
		t.Fatal(err)
	}
	withFile := lcAwait(t, w.bot, "Marie's file", func(e envelope) bool {
		return lcOfType(h.ID, "handoff.agent_message")(e) && len(lcDataOf(e).Attachments) > 0
	})
	atts := lcDataOf(withFile).Attachments
	if len(atts) != 1 || atts[0].Name != "label.png" || atts[0].Type != "image/png" || withFile.data.Agent.Name != "Marie" {
		t.Errorf("Marie's file reached the bot as %s", withFile.Data)
	} else if !bytes.Equal(lcFetch(t, atts[0].URL), label) {
		t.Errorf("the attachment's URL %s does not serve Marie's file", atts[0].URL)
	}

	// Marie closes the chat: the handoff ends agent_closed.
	if err := w.sim.AgentClose(c.ID, lcMarie); err != nil {
		t.Fatal(err)
	}
	ended := w.bot.await(t, h.ID, "handoff.ended")
	var sum summary
	json.Unmarshal(ended.data.Summary, &sum)
	if ended.data.Reason != "agent_closed" || ended.data.State != "ended" || sum.Agent.Name != "Marie" || sum.AgentMessages != 2 || sum.CustomerMessages < 1 {
		t.Errorf("handoff.ended data %s", ended.Data)
	}
	var final apiHandoff
	w.api.must(t, 200, "GET", "/v1/handoffs/"+h.ID, nil, &final)
	if final.State != "ended" || final.EndReason != "agent_closed" || final.Agent.Name != "Marie" {
		t.Errorf("GET the handoff after Marie closed: %+v", final)
	}
	w.flush(t)
	want = []string{"handoff.queued", "handoff.agent_joined", "handoff.agent_message", "handoff.agent_message", "handoff.ended"}
	if got := lcTypes(w.bot, h.ID); !slices.Equal(got, want) {
		t.Errorf("the bot received %v, want %v", got, want)
	}
	if c, _ := w.sim.Chat(c.ID); c.Active() {
		t.Errorf("the chat is still active")
	}
	w.bot.check(t)
}

// TestLiveChatCustomerClose: the bot ends a handoff for the customer; the
// chat is deactivated, by the customer.
func TestLiveChatCustomerClose(t *testing.T) {
	t.Parallel()
	w := newRelayWorld(t, "livechat-relay.yaml", livechatsim.Accepting)
	h, _ := w.handoff(t, "conv-close")
	c := w.chatFor(t, h.ID)

	var got apiHandoff
	w.api.must(t, 200, "POST", "/v1/handoffs/"+h.ID+"/end", map[string]any{"reason": "customer_closed"}, &got)
	if got.State != "ended" || got.EndReason != "customer_closed" {
		t.Errorf("POST end answered %+v", got)
	}
	c = w.chatUntil(t, c.ID, "the chat deactivated", func(c livechatsim.Chat) (bool, string) {
		return !c.Active(), fmt.Sprintf("active %v", c.Active())
	})
	if !slices.ContainsFunc(c.Last().Events, func(e livechatsim.Event) bool {
		return e.Type == "system_message" && e.Fields["system_message_type"] == "manual_archived_customer"
	}) {
		t.Errorf("the chat was not archived by the customer (no manual_archived_customer system message)")
	}
	if e := w.bot.await(t, h.ID, "handoff.ended"); e.data.Reason != "customer_closed" {
		t.Errorf("handoff.ended data %s", e.Data)
	}

	// LiveChat's chat_deactivated for the close Baton made does not end it twice.
	w.flush(t)
	var ends []string
	for _, e := range w.api.events(t, w.botID) {
		if e.data.HandoffID == h.ID && e.Type == "handoff.ended" {
			ends = append(ends, e.data.Reason)
		}
	}
	if !slices.Equal(ends, []string{"customer_closed"}) {
		t.Errorf("the handoff's handoff.ended events: %v, want one customer_closed", ends)
	}
	w.bot.check(t)
}

// TestLiveChatWaitTimeout: nobody accepts chats in the group; the handoff
// waits, times out, ends, and the queued chat is deactivated.
func TestLiveChatWaitTimeout(t *testing.T) {
	t.Parallel()
	w := newRelayWorld(t, "livechat-wait.yaml", livechatsim.NotAccepting)
	h, queued := w.handoff(t, "conv-wait")
	if s := queued.data.WaitTimeoutSeconds; s == nil || *s != 1 {
		t.Errorf("handoff.queued data %s: want wait_timeout_seconds 1", queued.Data)
	}
	c := w.chatFor(t, h.ID)
	c = w.chatUntil(t, c.ID, "the chat queued in group 1", func(c livechatsim.Chat) (bool, string) {
		return slices.Equal(c.Access, []int{1}) && c.Last().Queue != nil && !lcPresent(c, lcBatonAgent),
			fmt.Sprintf("groups %v, queue %+v, present %v", c.Access, c.Last().Queue, c.Present())
	})

	// LiveChat's place for the queued chat (chat_transferred's queue) is
	// the handoff's position, told once.
	qu := w.bot.await(t, h.ID, "handoff.queue_updated")
	if p := qu.data.Position; p == nil || *p != c.Last().Queue.Position {
		t.Errorf("handoff.queue_updated data %s: want LiveChat's position %d", qu.Data, c.Last().Queue.Position)
	}

	wt := w.bot.await(t, h.ID, "handoff.wait_timeout")
	if g := wt.data.GraceSeconds; g == nil || *g != 1 || !slices.Contains(lcDataOf(wt).Choices, "keep_waiting") {
		t.Errorf("handoff.wait_timeout data %s", wt.Data)
	}
	ended := w.bot.await(t, h.ID, "handoff.ended")
	if ended.data.Reason != "wait_timeout" {
		t.Errorf("handoff.ended data %s", ended.Data)
	}
	w.chatUntil(t, c.ID, "the queued chat deactivated", func(c livechatsim.Chat) (bool, string) {
		return !c.Active(), fmt.Sprintf("active %v", c.Active())
	})
	w.flush(t)
	// The position comes with the desk's webhook, before or after the wait
	// timeout as LiveChat delivers it.
	got := lcTypes(w.bot, h.ID)
	if n := len(got); n > 0 && got[n-1] == "handoff.ended" {
		got = slices.DeleteFunc(got[:n-1], func(s string) bool { return s == "handoff.queue_updated" })
		got = append(got, "handoff.ended")
	}
	if want := []string{"handoff.queued", "handoff.wait_timeout", "handoff.ended"}; !slices.Equal(got, want) || countOf(lcTypes(w.bot, h.ID), "handoff.queue_updated") != 1 {
		t.Errorf("the bot received %v, want %v with one handoff.queue_updated before the end", lcTypes(w.bot, h.ID), want)
	}
	w.bot.check(t)
}

// TestLiveChatTokenExpiry: the customer's LiveChat token expires while the
// chat is open; the next messages renew it and arrive once each, in order.
func TestLiveChatTokenExpiry(t *testing.T) {
	t.Parallel()
	w := newRelayWorld(t, "livechat-relay.yaml", livechatsim.Accepting)
	h, _ := w.handoff(t, "conv-token")
	c := w.chatFor(t, h.ID)
	cust := lcCustomerOf(c).ID
	w.agentSend(t, c.ID, lcMarie, "Hello, Marie here.")
	w.bot.await(t, h.ID, "handoff.agent_message")

	w.relay(t, h.ID, "Before the expiry.")
	w.chatUntil(t, c.ID, "the first message in the chat", func(c livechatsim.Chat) (bool, string) {
		got := lcTextsBy(c, cust)
		return slices.Contains(got, "Before the expiry."), fmt.Sprint(got)
	})
	grants := w.requests("/v2/customer/token", 200)

	w.sim.ExpireTokens()
	w.relay(t, h.ID, "First after the expiry.")
	w.relay(t, h.ID, "Second after the expiry.")
	w.relay(t, h.ID, "Marker: nothing is relayed after this.")
	want := append(lcQuestionTurns(), "Before the expiry.", "First after the expiry.", "Second after the expiry.", "Marker: nothing is relayed after this.")
	c = w.chatUntil(t, c.ID, "the marker in the chat", func(c livechatsim.Chat) (bool, string) {
		got := lcTextsBy(c, cust)
		return slices.Contains(got, want[len(want)-1]), fmt.Sprint(got)
	})
	// The lane is ordered: with the marker in, every earlier send is done.
	if got := lcTextsBy(c, cust); !slices.Equal(got, want) {
		t.Errorf("the customer's messages in the chat:\n%s\nwant each once, in order:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if n := w.requests("/v3.6/customer/action/send_event", http.StatusUnauthorized); n == 0 {
		t.Errorf("no customer send_event was refused for the expired token: the test did not exercise the renewal")
	}
	if n := w.requests("/v2/customer/token", 200); n <= grants {
		t.Errorf("the customer token was not renewed with the cookie grant (%d grants before the expiry, %d after)", grants, n)
	}
	w.bot.check(t)
}

// lcQuestionTurns are the customer's turns the chat opens with.
func lcQuestionTurns() []string {
	var out []string
	for _, m := range lcHistory {
		if m["author"] == "customer" {
			out = append(out, m["text"])
		}
	}
	return append(out, lcQuestion)
}

// TestLiveChatFaults: LiveChat delivers every webhook twice and answers 429
// to Baton's next calls; nothing is lost or doubled, either way, and the
// order holds.
func TestLiveChatFaults(t *testing.T) {
	t.Parallel()
	w := newRelayWorld(t, "livechat-relay.yaml", livechatsim.Accepting)
	h, _ := w.handoff(t, "conv-faults")
	c := w.chatFor(t, h.ID)
	cust := lcCustomerOf(c).ID
	w.agentSend(t, c.ID, lcMarie, "Hello, Marie here.")
	w.bot.await(t, h.ID, "handoff.agent_message")

	const tooMany = 6
	w.sim.SetFaults(livechatsim.Faults{Duplicates: true, TooMany: tooMany})
	agentWant := []string{"Hello, Marie here."}
	for i := 1; i <= 5; i++ {
		text := fmt.Sprintf("Agent message %d of 5.", i)
		agentWant = append(agentWant, text)
		w.agentSend(t, c.ID, lcMarie, text)
	}
	agentSaid := func() []envelope { return lcEvents(w.bot, lcOfType(h.ID, "handoff.agent_message")) }
	eventuallyWithin(t, e2eWait, "six agent messages at the bot", func() (bool, string) {
		return len(agentSaid()) >= len(agentWant), fmt.Sprintf("%d", len(agentSaid()))
	})

	custWant := lcQuestionTurns()
	for i := 1; i <= 5; i++ {
		text := fmt.Sprintf("Customer message %d of 5.", i)
		custWant = append(custWant, text)
		w.relay(t, h.ID, text)
	}
	custWant = append(custWant, "Marker: nothing is relayed after this.")
	w.relay(t, h.ID, custWant[len(custWant)-1])
	c = w.chatUntil(t, c.ID, "the marker in the chat", func(c livechatsim.Chat) (bool, string) {
		got := lcTextsBy(c, cust)
		return slices.Contains(got, custWant[len(custWant)-1]), fmt.Sprint(got)
	})
	if got := lcTextsBy(c, cust); !slices.Equal(got, custWant) {
		t.Errorf("the customer's messages in the chat:\n%s\nwant each once, in order:\n%s", strings.Join(got, "\n"), strings.Join(custWant, "\n"))
	}

	// Every delivery, duplicates included, has been answered now.
	w.flush(t)
	var got, ids []string
	for _, e := range agentSaid() {
		got = append(got, e.data.Text)
		ids = append(ids, e.data.MessageID)
	}
	if !slices.Equal(got, agentWant) {
		t.Errorf("the bot received the agent's messages as\n%s\nwant each once, in order:\n%s", strings.Join(got, "\n"), strings.Join(agentWant, "\n"))
	}
	slices.Sort(ids)
	if len(slices.Compact(ids)) != len(agentWant) {
		t.Errorf("agent message ids %v are not distinct", ids)
	}

	// The faults did happen.
	dups := 0
	for _, d := range w.sim.Webhooks() {
		if d.Duplicate && d.Delivered && d.Action == "incoming_event" {
			dups++
		}
	}
	if dups < 5 {
		t.Errorf("%d duplicate incoming_event deliveries were answered; want at least the agent's 5", dups)
	}
	if left := w.sim.Faults().TooMany; left != 0 {
		t.Errorf("%d of the %d injected 429s were never met", left, tooMany)
	}
	if n := w.requests("/v3.6/customer/action/send_event", http.StatusTooManyRequests); n == 0 {
		t.Errorf("no customer send_event met a 429: the test did not exercise the retries")
	}
	w.bot.check(t)
}

// --- the seat license --------------------------------------------------------------

// TestLiveChatSeat: the bot answers a LiveChat customer as the seat, then
// hands the chat to the group the router picks when the customer asks for
// a person; the bot is fenced off until the human closes.
func TestLiveChatSeat(t *testing.T) {
	t.Parallel()
	w := newLCSim(t)
	w.sim.AddGroup(1, "Billing")
	w.sim.AddGroup(2, "Technical support")
	w.sim.AddGroup(3, "Sales")
	w.pat = w.addAgent(t, livechatsim.Agent{ID: lcSeatAgent, Name: "Acme Bot", MaxChats: 20, Groups: map[int]string{0: "first"}})
	w.addAgent(t, livechatsim.Agent{ID: lcBella, Name: "Bella", Groups: map[int]string{1: "normal"}})
	w.addAgent(t, livechatsim.Agent{ID: lcTom, Name: "Tom", Groups: map[int]string{2: "normal"}})
	w.addAgent(t, livechatsim.Agent{ID: lcSally, Name: "Sally", Groups: map[int]string{3: "normal"}})
	w.start(t, "livechat-seat.yaml", "seat", "seatbot")
	convPath := func(chat string) string { return "/v1/conversations/" + chat }

	// A customer starts a chat in the widget: LiveChat routes it to the seat.
	first := "Hello, I have a question about my account."
	chat, err := w.sim.CustomerStartChat(0, first)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := w.sim.Chat(chat)
	if !lcPresent(c, lcSeatAgent) {
		t.Fatalf("the chat was not routed to the seat: present %v", c.Present())
	}
	cust := lcCustomerOf(c).ID
	inChat := func(typ string) func(envelope) bool {
		return func(e envelope) bool { return e.Type == typ && e.data.ConversationID == chat }
	}
	asked := lcAwait(t, w.bot, "conversation.customer_message", inChat("conversation.customer_message"))
	if asked.data.Text != first || lcDataOf(asked).Customer.ID != cust || asked.data.MessageID == "" {
		t.Errorf("conversation.customer_message data %s", asked.Data)
	}

	// The bot answers under the event's epoch: the seat says it in the chat.
	reply := "Hi! I am Acme's assistant. What can I do for you?"
	w.api.must(t, 201, "POST", convPath(chat)+"/bot-messages", map[string]any{"bot_id": w.botID, "epoch": asked.data.Epoch, "text": reply}, nil)
	w.chatUntil(t, chat, "the bot's reply in the chat, by the seat", func(c livechatsim.Chat) (bool, string) {
		got := lcTextsBy(c, lcSeatAgent)
		return slices.Equal(got, []string{reply}), fmt.Sprint(got)
	})

	// The customer asks for a person about an invoice: the chat goes to Billing.
	if _, err := w.sim.CustomerSend(chat, "my invoice was charged twice, can I talk to a person?"); err != nil {
		t.Fatal(err)
	}
	queued := lcAwait(t, w.bot, "handoff.queued", inChat("handoff.queued"))
	h := queued.data.HandoffID
	d := lcDataOf(queued).Decision
	if d == nil || d.GroupID != "1" || d.GroupName != "Billing" || d.Reason == "" || d.Score <= 0 || d.Trigger != "customer" {
		t.Errorf("handoff.queued carries decision %+v (data %s); want Billing, with its reason, on the customer's request", d, queued.Data)
	}
	var conv apiConversation
	w.api.must(t, 200, "GET", convPath(chat)+"?bot_id="+w.botID, nil, &conv)
	if conv.Owner != "human" || conv.OpenHandoffID == nil || *conv.OpenHandoffID != h || conv.Epoch <= asked.data.Epoch {
		t.Errorf("GET the conversation after the transfer: owner %s epoch %d open %v (handoff %s)", conv.Owner, conv.Epoch, conv.OpenHandoffID, h)
	}
	var ho struct {
		State    string      `json:"state"`
		Decision *lcDecision `json:"decision"`
	}
	w.api.must(t, 200, "GET", "/v1/handoffs/"+h, nil, &ho)
	if ho.Decision == nil || ho.Decision.GroupID != "1" || ho.Decision.Reason == "" {
		t.Errorf("GET the handoff: decision %+v, want Billing with its reason", ho.Decision)
	}
	w.chatUntil(t, chat, "the chat in Billing, with Bella and without the seat", func(c livechatsim.Chat) (bool, string) {
		return slices.Equal(c.Access, []int{1}) && !lcPresent(c, lcSeatAgent) && lcPresent(c, lcBella),
			fmt.Sprintf("groups %v, present %v", c.Access, c.Present())
	})

	// The bot, deciding under the old epoch, is fenced off.
	code, b := w.api.call(t, "POST", convPath(chat)+"/bot-messages", map[string]any{"bot_id": w.botID, "epoch": asked.data.Epoch, "text": "Anything else?"}, nil)
	if code != 409 || !strings.HasPrefix(problemCode(b), "stale_epoch") {
		t.Errorf("a bot message under the old epoch %d: %d %s, want 409 stale_epoch", asked.data.Epoch, code, b)
	}

	// Bella answers, then closes: the handoff ends and the bot has the chat back.
	answer := "Hi, Bella from Billing. I see the double charge and have refunded it."
	w.agentSend(t, chat, lcBella, answer)
	if j := w.bot.await(t, h, "handoff.agent_joined"); j.data.Name != "Bella" {
		t.Errorf("handoff.agent_joined data %s", j.Data)
	}
	if said := w.bot.await(t, h, "handoff.agent_message"); said.data.Text != answer || said.data.Agent.Name != "Bella" {
		t.Errorf("handoff.agent_message data %s", said.Data)
	}
	if err := w.sim.AgentClose(chat, lcBella); err != nil {
		t.Fatal(err)
	}
	ended := w.bot.await(t, h, "handoff.ended")
	if ended.data.Reason != "agent_closed" {
		t.Errorf("handoff.ended data %s", ended.Data)
	}
	w.api.must(t, 200, "GET", convPath(chat)+"?bot_id="+w.botID, nil, &conv)
	if conv.Owner != "bot" || conv.OpenHandoffID != nil || conv.Epoch != ended.data.Epoch {
		t.Errorf("GET the conversation after Bella closed: owner %s epoch %d open %v (ended at %d)", conv.Owner, conv.Epoch, conv.OpenHandoffID, ended.data.Epoch)
	}
	c = w.chatUntil(t, chat, "the chat closed", func(c livechatsim.Chat) (bool, string) { return !c.Active(), "active" })
	if got := lcTextsBy(c, lcSeatAgent); !slices.Equal(got, []string{reply}) {
		t.Errorf("the seat said %q in the chat; want only the reply made under the bot's epoch", got)
	}
	w.flush(t)
	if got, want := lcTypes(w.bot, h), []string{"handoff.queued", "handoff.agent_joined", "handoff.agent_message", "handoff.ended"}; !slices.Equal(got, want) {
		t.Errorf("the bot received %v for the handoff, want %v", got, want)
	}
	w.bot.check(t)
}
