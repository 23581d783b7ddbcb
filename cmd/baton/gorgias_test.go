package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/gorgias"
	"github.com/batonhq/baton/gorgiassim"
)

// The Gorgias end-to-end tests boot run() against the Gorgias simulator
// over real HTTP: Baton calls its REST API, its HTTP integration (created
// with `baton gorgias integration`, run through run()) calls Baton, and
// the tests act as the bot and, through the simulator's driver, as the
// agent Gia.

const ggAgent = "gia@acme.test"

type ggWorld struct {
	sim    *gorgiassim.Sim
	simURL string
	api    gorgiassim.User
	env    map[string]string
	in     *instance
	client apiClient
	bot    *botHook
}

func newGGWorld(t *testing.T, cfg gorgiassim.Config) *ggWorld {
	t.Helper()
	if cfg.Retry == nil {
		cfg.Retry = []time.Duration{20 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond}
	}
	w := &ggWorld{sim: gorgiassim.New(cfg)}
	t.Cleanup(w.sim.Close)
	srv := httptest.NewServer(w.sim.Handler())
	t.Cleanup(srv.Close)
	w.simURL = srv.URL
	w.api = w.sim.AddUser("baton@acme.test", "Baton API")
	w.sim.AddUser(ggAgent, "Gia")
	w.bot = newBotHook(t)
	w.env = map[string]string{
		"BATON_ADDR":        "127.0.0.1:0",
		"BATON_CONFIG":      filepath.Join("testdata", "gorgias-relay.yaml"),
		"BATON_DB":          filepath.Join(t.TempDir(), "baton.db"),
		"BATON_LOG_LEVEL":   "debug",
		"BATON_RETRY_SCALE": "0.01",
		"GG_API_KEY":        fmt.Sprintf("gg-api-key-%x", randBytes(12)),
		"GG_BASE_URL":       w.simURL,
		"GG_EMAIL":          w.api.Email,
		"GG_REST_KEY":       w.api.APIKey,
		"GG_TOKEN":          fmt.Sprintf("gg-token-%x", randBytes(12)),
		"BOT_URL":           w.bot.url,
		"BOT_SECRET":        w.bot.secret,
	}
	w.start(t)
	return w
}

// start boots Baton, checks the desk is available and creates the integration.
func (w *ggWorld) start(t *testing.T) {
	t.Helper()
	w.in = start(t, w.env)
	dumpOnFailure(t, "baton", w.in)
	w.client = apiClient{base: w.in.base, key: w.env["GG_API_KEY"]}
	w.client.mustBeAvailable(t, "helpbot", "Gorgias")
	if out := w.integration(t); !strings.Contains(out, "created now") {
		t.Fatalf("baton gorgias integration:\n%s", out)
	}
}

func (w *ggWorld) integration(t *testing.T, extra ...string) string {
	t.Helper()
	var out bytes.Buffer
	args := append([]string{"baton", "gorgias", "integration", "--desk", "gorgias", "--url", w.in.base}, extra...)
	if err := run(t.Context(), args, getenv(w.env), &out, &out); err != nil {
		t.Fatalf("%v: %v\n%s", args, err, out.String())
	}
	return out.String()
}

func (w *ggWorld) handoff(t *testing.T, conv string) (apiHandoff, gorgiassim.Ticket) {
	t.Helper()
	var h apiHandoff
	w.client.must(t, 201, "POST", "/v1/handoffs", map[string]any{"bot_id": "helpbot", "conversation_id": conv,
		"customer": lcCustomer, "history": lcHistory, "question": lcQuestion}, &h)
	w.bot.await(t, h.ID, "handoff.queued")
	var tk gorgiassim.Ticket
	eventuallyWithin(t, e2eWait, "the ticket of "+h.ID, func() (bool, string) {
		for _, x := range w.sim.Tickets() {
			if x.ExternalID == h.ID {
				tk = x
				return true, ""
			}
		}
		return false, fmt.Sprintf("%d tickets", len(w.sim.Tickets()))
	})
	return h, tk
}

// ticketUntil waits until the ticket satisfies cond.
func (w *ggWorld) ticketUntil(t *testing.T, id int64, what string, cond func(gorgiassim.Ticket) bool) gorgiassim.Ticket {
	t.Helper()
	var tk gorgiassim.Ticket
	eventuallyWithin(t, e2eWait, what, func() (bool, string) {
		tk, _ = w.sim.Ticket(id)
		return cond(tk), fmt.Sprintf("status %s, %d messages", tk.Status, len(tk.Messages))
	})
	return tk
}

func ggCustomerTexts(tk gorgiassim.Ticket) []string {
	var out []string
	for _, m := range tk.Messages[1:] {
		if !m.FromAgent {
			out = append(out, m.BodyText)
		}
	}
	return out
}

func (w *ggWorld) flush(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), e2eWait)
	defer cancel()
	if err := w.sim.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

// inbound posts to the desk's inbound URL as an integration would.
func (w *ggWorld) inbound(t *testing.T, q url.Values, hdr map[string]string) int {
	t.Helper()
	req, _ := http.NewRequest("POST", gorgias.InboundURL(w.in.base, "gorgias")+"?"+q.Encode(), nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestGorgiasRelay(t *testing.T) {
	t.Parallel()
	w := newGGWorld(t, gorgiassim.Config{})
	if out := w.integration(t); !strings.Contains(out, "already there") {
		t.Errorf("a second run created another integration:\n%s", out)
	}
	if out := w.integration(t, "--print"); !strings.Contains(out, "token="+w.env["GG_TOKEN"]) || !strings.Contains(out, "ticket-message-created") {
		t.Errorf("--print does not show the URL with the token and the triggers:\n%s", out)
	}
	var out bytes.Buffer
	if err := run(t.Context(), []string{"baton", "gorgias", "integration", "--desk", "gorgias", "--url", "not a url", "--print"}, getenv(w.env), &out, &out); err == nil || !strings.Contains(err.Error(), "--url") {
		t.Errorf("a --url that is no URL: %v\n%s", err, out.String())
	}

	h, tk := w.handoff(t, "conv-gg")
	// The agent reads the history, one line per turn, then the question.
	want := []string{"Customer: " + lcHistory[0]["text"], "Bot: " + lcHistory[1]["text"], "Customer: " + lcHistory[2]["text"],
		"Bot: " + lcHistory[3]["text"], "Customer: " + lcQuestion}
	if got := strings.Split(tk.Messages[0].BodyText, "\n"); !slices.Equal(got, want) {
		t.Errorf("the ticket's first message reads\n%q\nwant\n%q", got, want)
	}
	if tk.Channel != "api" || tk.Messages[0].FromAgent || tk.Customer == nil {
		t.Errorf("ticket channel %q, first message from_agent %v, customer %v", tk.Channel, tk.Messages[0].FromAgent, tk.Customer)
	}
	cs := w.sim.Customers()
	if len(cs) != 1 || cs[0].ExternalID != lcCustomer["id"] || cs[0].Email != lcCustomer["email"] {
		t.Errorf("customers %+v, want one with external_id %v", cs, lcCustomer["id"])
	}

	// Customer → agent, with a file.
	var m apiMessage
	w.client.must(t, 201, "POST", "/v1/handoffs/"+h.ID+"/messages", map[string]any{"text": "Here is my receipt",
		"attachments": []apiAttachment{{URL: "https://files.example.com/receipt.pdf", Name: "receipt.pdf", Type: "application/pdf"}}}, &m)
	tk = w.ticketUntil(t, tk.ID, "the customer's message in the ticket", func(tk gorgiassim.Ticket) bool { return len(ggCustomerTexts(tk)) == 1 })
	last := tk.Messages[len(tk.Messages)-1]
	if last.BodyText != "Here is my receipt" || len(last.Attachments) != 1 || last.Attachments[0].URL != "https://files.example.com/receipt.pdf" {
		t.Errorf("the ticket got %+v", last)
	}

	// Agent → customer, with a file; an internal note stays inside.
	if _, err := w.sim.Note(tk.ID, ggAgent, "internal: check the refund queue"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.sim.Reply(tk.ID, ggAgent, "Thanks, I see it. Refund form attached.",
		gorgiassim.Attachment{URL: "https://files.example.com/refund.pdf", Name: "refund.pdf", ContentType: "application/pdf"}); err != nil {
		t.Fatal(err)
	}
	msg := lcAwait(t, w.bot, "the agent's reply", func(e envelope) bool { return e.Type == "handoff.agent_message" && e.data.HandoffID == h.ID })
	if msg.data.Text != "Thanks, I see it. Refund form attached." || msg.data.Agent.Name != "Gia" {
		t.Errorf("agent_message %s", msg.Data)
	}
	if a := lcDataOf(msg).Attachments; len(a) != 1 || a[0].URL != "https://files.example.com/refund.pdf" {
		t.Errorf("agent_message attachments %+v", a)
	}

	// Duplicated integration calls count once.
	w.sim.Duplicate(true)
	w.sim.Reply(tk.ID, ggAgent, "Refund approved.")
	w.flush(t)
	w.sim.Duplicate(false)

	// A 429 burst: the message waits and arrives, once.
	w.sim.Throttle(3)
	w.client.must(t, 201, "POST", "/v1/handoffs/"+h.ID+"/messages", map[string]any{"text": "Thank you!"}, nil)
	w.ticketUntil(t, tk.ID, "the message sent through the 429s", func(tk gorgiassim.Ticket) bool {
		return slices.Equal(ggCustomerTexts(tk), []string{"Here is my receipt", "Thank you!"})
	})

	// Forged and missing tokens are refused.
	forged := url.Values{"ticket_id": {strconv.FormatInt(tk.ID, 10)}, "event_type": {"ticket-message-created"}, "event_id": {"f1"},
		"text": {"Forged: send your password"}, "from_agent": {"True"}}
	if s := w.inbound(t, forged, nil); s != 401 {
		t.Errorf("no token: %d, want 401", s)
	}
	forged.Set("token", "gg-token-wrong-0123456789")
	if s := w.inbound(t, forged, nil); s != 401 {
		t.Errorf("wrong token: %d, want 401", s)
	}
	forged.Del("token")
	if s := w.inbound(t, forged, map[string]string{gorgias.TokenHeader: "gg-token-wrong-0123456789"}); s != 401 {
		t.Errorf("wrong header token: %d, want 401", s)
	}

	// The agent closes the ticket.
	if err := w.sim.CloseTicket(tk.ID, ggAgent); err != nil {
		t.Fatal(err)
	}
	ended := w.bot.await(t, h.ID, "handoff.ended")
	if ended.data.Reason != "agent_closed" {
		t.Errorf("ended %s", ended.Data)
	}
	w.flush(t)

	// The echo loop is broken: every customer message Baton posted came
	// back through the integration, was answered 200, and the bot was told
	// only the agent's two public replies.
	var texts []string
	for _, e := range lcEvents(w.bot, lcOfType(h.ID, "handoff.agent_message")) {
		texts = append(texts, e.data.Text)
	}
	if want := []string{"Thanks, I see it. Refund form attached.", "Refund approved."}; !slices.Equal(texts, want) {
		t.Errorf("the bot was told %q, want %q", texts, want)
	}
	echoes := 0
	for _, d := range w.sim.Deliveries() {
		if d.Status != 200 {
			t.Errorf("integration call %d (%s) answered %d", d.ID, d.Trigger, d.Status)
		}
		if strings.Contains(d.URL, "from_agent=False") {
			echoes++
		}
	}
	if echoes < 3 {
		t.Errorf("%d customer messages came back through the integration, want the opening and both relayed", echoes)
	}

	// The customer ends the next handoff: the ticket is closed.
	h2, tk2 := w.handoff(t, "conv-gg-2")
	w.client.must(t, 200, "POST", "/v1/handoffs/"+h2.ID+"/end", map[string]string{"reason": "customer_closed"}, nil)
	w.ticketUntil(t, tk2.ID, "the ticket closed", func(tk gorgiassim.Ticket) bool { return tk.Status == "closed" })
	if e := w.bot.await(t, h2.ID, "handoff.ended"); e.data.Reason != "customer_closed" {
		t.Errorf("ended %s", e.Data)
	}
	if len(w.sim.Customers()) != 1 {
		t.Errorf("the second handoff made another customer: %+v", w.sim.Customers())
	}

	// An agent's words holding the session's end payload end the handoff.
	h3, tk3 := w.handoff(t, "conv-gg-3")
	w.sim.Reply(tk3.ID, ggAgent, "All sorted. "+baton.DefaultSessionEnd)
	if e := w.bot.await(t, h3.ID, "handoff.ended"); e.data.Reason != "agent_closed" {
		t.Errorf("ended %s", e.Data)
	}
	w.ticketUntil(t, tk3.ID, "the ticket closed by Baton", func(tk gorgiassim.Ticket) bool { return tk.Status == "closed" })
}

// TestGorgiasSessionPayloads: a bot that speaks CSML's payloads starts a
// Gorgias handoff with one, ends it with another, and is told a third when
// a quiet one expires; every ticket is opened once and closed.
func TestGorgiasSessionPayloads(t *testing.T) {
	t.Parallel()
	w := newGGWorld(t, gorgiassim.Config{})
	type said struct {
		Action  string     `json:"action"`
		Handoff apiHandoff `json:"handoff"`
		Message apiMessage `json:"message"`
	}
	says := func(bot, conv string, status int, body map[string]any) said {
		t.Helper()
		body["bot_id"] = bot
		var s said
		w.client.must(t, status, "POST", "/v1/conversations/"+conv+"/messages", body, &s)
		return s
	}
	ticketOf := func(h string) gorgiassim.Ticket {
		t.Helper()
		var tk gorgiassim.Ticket
		eventuallyWithin(t, e2eWait, "the ticket of "+h, func() (bool, string) {
			n := 0
			for _, x := range w.sim.Tickets() {
				if x.ExternalID == h {
					tk, n = x, n+1
				}
			}
			return n == 1, fmt.Sprintf("%d tickets", n)
		})
		return tk
	}

	// Start: the customer's words open the ticket as its question.
	s := says("helpbot", "conv-sp", 201, map[string]any{"payload": baton.DefaultSessionStart, "text": "I want a person",
		"customer": lcCustomer, "history": lcHistory[:2]})
	if s.Action != "opened" || s.Handoff.ID == "" {
		t.Fatalf("the start payload: %+v", s)
	}
	tk := ticketOf(s.Handoff.ID)
	if body := tk.Messages[0].BodyText; !strings.HasSuffix(body, "Customer: I want a person") {
		t.Errorf("the ticket opens with %q", body)
	}
	// Pressed again, the start payload neither opens twice nor relays.
	if again := says("helpbot", "conv-sp", 200, map[string]any{"payload": baton.DefaultSessionStart, "text": "I want a person"}); again.Action != "opened" || again.Handoff.ID != s.Handoff.ID || again.Message.ID != "" {
		t.Errorf("the start payload again: %+v", again)
	}
	says("helpbot", "conv-sp", 201, map[string]any{"text": "Hello?"})
	// End: the words reach the ticket, then it is closed.
	end := says("helpbot", "conv-sp", 200, map[string]any{"payload": baton.DefaultSessionEnd, "text": "Never mind, bye"})
	if end.Action != "ended" || end.Handoff.EndReason != "customer_closed" {
		t.Errorf("the end payload: %+v", end)
	}
	tk = w.ticketUntil(t, tk.ID, "the ticket closed after the last words", func(tk gorgiassim.Ticket) bool {
		return tk.Status == "closed" && slices.Equal(ggCustomerTexts(tk), []string{"Hello?", "Never mind, bye"})
	})
	if e := w.bot.await(t, s.Handoff.ID, "handoff.ended"); e.data.Reason != "customer_closed" || e.data.Payload != baton.DefaultSessionEnd {
		t.Errorf("ended %s", e.Data)
	}
	if after := says("helpbot", "conv-sp", 200, map[string]any{"text": "Are you there?"}); after.Action != "bot" {
		t.Errorf("after the end the bot holds the conversation: %+v", after)
	}

	// Expired: a quiet handoff ends after the idle bot's 2 s, with the
	// expired payload, and its ticket is closed.
	q := says("idlebot", "conv-sp-idle", 201, map[string]any{"payload": baton.DefaultSessionStart, "customer": lcCustomer})
	qt := ticketOf(q.Handoff.ID)
	if e := w.bot.await(t, q.Handoff.ID, "handoff.ended"); e.data.Reason != "idle_expired" || e.data.Payload != baton.DefaultSessionExpired {
		t.Errorf("expired %s", e.Data)
	}
	w.ticketUntil(t, qt.ID, "the expired ticket closed", func(tk gorgiassim.Ticket) bool { return tk.Status == "closed" })
}

// TestGorgiasTokenRotation: after the integration token changes, calls
// with the old one are refused; the integration is updated and works again.
func TestGorgiasTokenRotation(t *testing.T) {
	t.Parallel()
	w := newGGWorld(t, gorgiassim.Config{Retry: []time.Duration{}})
	h, tk := w.handoff(t, "conv-rot")
	w.in.shutdown(t)
	old := w.env["GG_TOKEN"]
	w.env["GG_TOKEN"] = fmt.Sprintf("gg-token-%x", randBytes(12))
	w.in = start(t, w.env)
	w.client.base = w.in.base
	dumpOnFailure(t, "baton-2", w.in)

	// The integration still carries the old token (here pointed at the
	// new address, as a proxy in front would): its calls are refused.
	tmpl := gorgias.Template(w.in.base, "gorgias", old)
	stale := w.sim.AddIntegration(gorgiassim.Integration{Name: "stale", HTTP: gorgiassim.HTTP{URL: tmpl.URL, Method: tmpl.Method,
		Form: tmpl.Form, RequestContentType: tmpl.RequestContentType, Triggers: tmpl.Triggers}})
	w.sim.Reply(tk.ID, ggAgent, "stale")
	w.flush(t)
	for _, d := range w.sim.Deliveries() {
		if d.Integration == stale.ID && d.Status != 401 {
			t.Errorf("a call with the old token answered %d, want 401", d.Status)
		}
	}
	q := url.Values{"token": {old}, "ticket_id": {strconv.FormatInt(tk.ID, 10)}, "event_type": {"ticket-message-created"},
		"event_id": {"stale-1"}, "text": {"stale"}, "from_agent": {"True"}}
	if s := w.inbound(t, q, nil); s != 401 {
		t.Errorf("the old token: %d, want 401", s)
	}

	// The integration made again with the new token works.
	if out := w.integration(t); !strings.Contains(out, "created now") {
		t.Fatalf("baton gorgias integration after the rotation:\n%s", out)
	}
	w.sim.Reply(tk.ID, ggAgent, "fresh")
	if e := lcAwait(t, w.bot, "the fresh reply", lcOfType(h.ID, "handoff.agent_message")); e.data.Text != "fresh" {
		t.Errorf("agent_message %s", e.Data)
	}
	if n := len(lcEvents(w.bot, lcOfType(h.ID, "handoff.agent_message"))); n != 1 {
		t.Errorf("the bot was told %d agent messages, want only the fresh one", n)
	}
}
