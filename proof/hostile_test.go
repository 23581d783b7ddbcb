package proof

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// TestHostile sends what an attacker or a broken client sends: forged and
// replayed webhooks on every desk, oversized and slow bodies, deep nesting,
// invalid UTF-8, NUL in fields, and the ids of another workspace on every
// route. Forgeries are refused 401 and change nothing, replays change
// nothing, bad input is refused 4xx (never 5xx), and workspace other's keys
// never see or change workspace proof's handoffs (404).
func TestHostile(t *testing.T) {
	eachStore(t, func(t *testing.T, store string) {
		w := newWorld(t, store, 1)
		slow := w.slowBody(t) // runs beside the rest
		t.Run("forged webhook desk", func(t *testing.T) { forgedWebhookDesk(t, w) })
		t.Run("replayed webhook desk", func(t *testing.T) { replayedWebhookDesk(t, w) })
		t.Run("forged and replayed LiveChat", func(t *testing.T) { hostileLiveChat(t, w) })
		t.Run("bad bodies", func(t *testing.T) { badBodies(t, w) })
		t.Run("other workspace", func(t *testing.T) { otherWorkspace(t, w) })
		t.Run("slow body", func(t *testing.T) { slow(t) })
		w.check(t, checkOpts{timerSlack: 3 * time.Second, blockBound: 5 * time.Second})
	})
}

// established opens a handoff of kind k and waits until its desk has it.
func (w *world) established(t *testing.T, k kind, conv string) *hrec {
	t.Helper()
	h, err := w.open(k, conv)
	if err != nil {
		t.Fatal(err)
	}
	h.kind = conv
	switch h.desk {
	case "company", "other-company":
		if err := w.awaitEstablish(h); err != nil {
			t.Fatal(err)
		}
	}
	return h
}

// botGot reports whether handoff h's bot accepted an agent message with text.
func (w *world) botGot(h, text string) int {
	n := 0
	for _, d := range w.bots.events(h) {
		if d.env.Type == "handoff.agent_message" && d.env.d.Text == text {
			n++
		}
	}
	return n
}

// sentinel posts a genuine agent message and waits for the bot to get it:
// everything sent before it on the same lane has had its effect by then.
func (w *world) sentinel(t *testing.T, h *hrec, say func(h *hrec, i int) error) {
	t.Helper()
	w.led.mu.Lock()
	n := len(h.agent)
	w.led.mu.Unlock()
	if err := say(h, 100+n); err != nil {
		t.Fatal(err)
	}
	text := fmt.Sprintf("agent %s #%d", h.conv, 100+n)
	if !eventually(10*time.Second, func() bool { return w.botGot(h.id, text) > 0 }) {
		t.Errorf("the genuine agent message %q after the hostile ones never reached the bot", text)
	}
}

// forgedWebhookDesk: inbound calls without the desk's secret are refused
// 401 before anything is read, on every inbound path and for unknown desks.
func forgedWebhookDesk(t *testing.T, w *world) {
	h := w.established(t, kindNamed("webhook agent close"), "forged-webhook")
	forged := "Forged: send me your password"
	bodies := map[string]any{
		"message": agentMessage(h.id, 900, forged),
		"join":    map[string]any{"conversation_id": h.id, "timestamp": time.Now().UnixMilli(), "agent": map[string]string{"id": "mallory", "name": "Mallory"}},
		"close":   map[string]any{"conversation_id": h.id, "timestamp": time.Now().UnixMilli()},
	}
	for path, body := range bodies {
		raw, _ := json.Marshal(body)
		for _, c := range []struct{ what, desk, secret string }{
			{"a wrong secret", "company", "not-the-secret"},
			{"no secret", "company", ""},
			{"workspace other's desk secret", "company", w.company.otherSecret},
			{"an unknown desk id", "no-such-desk", w.company.secret},
		} {
			code, answer, err := w.company.post(c.desk, path, c.secret, raw, 0)
			if err != nil {
				t.Fatal(err)
			}
			if code != 401 {
				t.Errorf("forged inbound %s to desk %s with %s: %d %s; want 401", path, c.desk, c.what, code, strings.TrimSpace(answer))
			}
		}
	}
	// Workspace other's desk, with its own secret, naming proof's handoff:
	// no effect (checked below), and the same answer as for a handoff that
	// does not exist, so that it learns nothing either.
	code, answer, err := w.company.post("other-company", "message", w.company.otherSecret, mustJSON(agentMessage(h.id, 901, forged)), 0)
	if err != nil {
		t.Fatal(err)
	}
	none, noneAnswer, err := w.company.post("other-company", "message", w.company.otherSecret, mustJSON(agentMessage("ho_"+randID(12), 901, forged)), 0)
	if err != nil {
		t.Fatal(err)
	}
	if code/100 == 5 || code != none {
		t.Errorf("desk other-company (workspace other) posting to proof's handoff %s: %d %s; for a handoff that does not exist %d %s: want the same refusal or acknowledgement",
			h.id, code, strings.TrimSpace(answer), none, strings.TrimSpace(noneAnswer))
	}
	w.sentinel(t, h, w.companySays)
	if n := w.botGot(h.id, forged); n > 0 {
		t.Errorf("a forged agent message reached the bot %d times", n)
	}
	if w.bots.has(h.id, "handoff.ended") {
		t.Errorf("a forged close ended handoff %s", h.id)
	}
	if err := w.companyCloses(h); err != nil {
		t.Error(err)
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// replayedWebhookDesk: the same inbound message (same message_id) and the
// same close, delivered again, change nothing.
func replayedWebhookDesk(t *testing.T, w *world) {
	h := w.established(t, kindNamed("webhook agent close"), "replayed-webhook")
	w.company.mu.Lock()
	w.company.numbers[h.id]++
	n := w.company.numbers[h.id]
	w.company.mu.Unlock()
	text := "said once, delivered twice " + h.id
	raw := mustJSON(agentMessage(h.id, n, text))
	for i := range 2 {
		code, answer, err := w.company.post("company", "message", w.company.secret, raw, retryWindow())
		if err != nil || code != 200 {
			t.Fatalf("delivery %d of one agent message: %d %s %v; want 200", i+1, code, answer, err)
		}
	}
	w.led.update(h, func(h *hrec) { h.agent = append(h.agent, sent{fmt.Sprint(n), text, time.Now()}) })
	w.sentinel(t, h, w.companySays)
	close := mustJSON(map[string]any{"conversation_id": h.id, "timestamp": time.Now().UnixMilli()})
	for i := range 2 {
		code, answer, err := w.company.post("company", "close", w.company.secret, close, retryWindow())
		if err != nil || code/100 == 5 {
			t.Errorf("delivery %d of one close: %d %s %v", i+1, code, answer, err)
		}
	}
}

// hostileLiveChat: LiveChat webhooks with a wrong secret_key are refused
// 401; a valid one delivered again changes nothing.
func hostileLiveChat(t *testing.T, w *world) {
	h := w.established(t, kindNamed("livechat agent close"), "hostile-livechat")
	if err := w.customerSays(h, 0); err != nil {
		t.Fatal(err)
	}
	if err := w.seen(h); err != nil {
		t.Fatal(err)
	}
	if err := w.marieSays(h, 0); err != nil {
		t.Fatal(err)
	}
	w.led.mu.Lock()
	eventID := h.agent[0].id
	w.led.mu.Unlock()
	var valid []byte
	var deliveryID int
	for _, d := range w.lc.sim.Webhooks() {
		if d.Delivered && d.Action == "incoming_event" && bytes.Contains(d.Body, []byte(`"id":"`+eventID+`"`)) {
			valid, deliveryID = d.Body, d.ID
		}
	}
	if valid == nil {
		t.Fatal("no delivered webhook of Marie's message")
	}
	forgedText := "Forged by Mallory " + h.id
	for _, c := range []struct {
		what string
		edit func(map[string]any)
	}{
		{"a wrong secret_key", func(m map[string]any) { m["secret_key"] = "not-the-secret" }},
		{"no secret_key", func(m map[string]any) { delete(m, "secret_key") }},
		{"a wrong secret_key and another text", func(m map[string]any) {
			m["secret_key"] = "not-the-secret"
			b, _ := json.Marshal(m["payload"])
			b = bytes.ReplaceAll(b, []byte(`"agent `+h.conv+` #0"`), []byte(`"`+forgedText+`"`))
			b = bytes.ReplaceAll(b, []byte(eventID), []byte(eventID+"X"))
			var p any
			json.Unmarshal(b, &p)
			m["payload"] = p
		}},
	} {
		var m map[string]any
		if err := json.Unmarshal(valid, &m); err != nil {
			t.Fatal(err)
		}
		c.edit(m)
		code, answer, err := w.company.post("livechat", "webhook", "", mustJSON(m), 0)
		if err != nil {
			t.Fatal(err)
		}
		if code != 401 {
			t.Errorf("a LiveChat webhook with %s: %d %s; want 401", c.what, code, strings.TrimSpace(answer))
		}
	}
	// The valid webhook again, by the simulator and by hand.
	if err := w.lc.sim.Redeliver(deliveryID); err != nil {
		t.Fatal(err)
	}
	if code, answer, err := w.company.post("livechat", "webhook", "", valid, retryWindow()); err != nil || code != 200 {
		t.Errorf("a valid LiveChat webhook delivered again: %d %s %v; want 200 (a duplicate, ignored)", code, answer, err)
	}
	w.sentinel(t, h, w.marieSays)
	if n := w.botGot(h.id, forgedText); n > 0 {
		t.Errorf("a forged LiveChat message reached the bot %d times", n)
	}
	if err := w.botEnds(h, "customer_closed"); err != nil {
		t.Error(err)
	}
	w.led.update(h, func(h *hrec) { h.want = "customer_closed" })
}

// badBodies: oversized bodies, deep nesting, invalid UTF-8 and NUL are
// refused with a 4xx or accepted intact, never a 5xx, and the process lives.
func badBodies(t *testing.T, w *world) {
	h := w.established(t, kindNamed("webhook customer close"), "bad-bodies")
	deep := strings.Repeat(`{"a":`, 100000) + "1" + strings.Repeat("}", 100000)
	huge := `{"text":"` + strings.Repeat("x", 12<<20) + `"}`
	cases := []struct {
		what, path string
		raw        string
		inbound    bool
	}{
		{"a 12 MB customer message", "/v1/handoffs/" + h.id + "/messages", huge, false},
		{"a 12 MB inbound message", "message", `{"conversation_id":"` + h.id + `","message_id":"huge","body":"` + strings.Repeat("x", 12<<20) + `"}`, true},
		{"customer metadata nested 100000 deep", "/v1/handoffs", `{"bot_id":"webbot","conversation_id":"deep","customer":{"id":"deep","metadata":` + deep + `},"question":"q"}`, false},
		{"a customer message nested 100000 deep", "/v1/handoffs/" + h.id + "/messages", `{"text":"t","attachments":[` + deep + `]}`, false},
		{"an inbound message nested 100000 deep", "message", `{"conversation_id":"` + h.id + `","message_id":"deep","body":"b","agent":` + deep + `}`, true},
		{"invalid UTF-8 in a customer message", "/v1/handoffs/" + h.id + "/messages", "{\"text\":\"bad \xff\xfe utf-8\"}", false},
		{"invalid UTF-8 in an inbound message", "message", "{\"conversation_id\":\"" + h.id + "\",\"message_id\":\"utf8\",\"body\":\"bad \xff\xfe utf-8\",\"agent\":{\"id\":\"m\",\"name\":\"M\"}}", true},
		{"NUL in a customer message", "/v1/handoffs/" + h.id + "/messages", `{"text":"nul \u0000 here"}`, false},
		{"NUL in a conversation id", "/v1/handoffs", `{"bot_id":"webbot","conversation_id":"nul\u0000conv","customer":{"id":"c"},"question":"q"}`, false},
		{"NUL in a customer's name", "/v1/handoffs", `{"bot_id":"webbot","conversation_id":"nul-name","customer":{"id":"c-nul","name":"Sam\u0000Doe"},"question":"q"}`, false},
		{"NUL in an inbound message", "message", `{"conversation_id":"` + h.id + `","message_id":"nul","body":"nul \u0000 here","agent":{"id":"m","name":"M"}}`, true},
	}
	for _, c := range cases {
		var code int
		var answer string
		if c.inbound {
			var err error
			code, answer, err = w.company.post("company", c.path, w.company.secret, []byte(c.raw), 0)
			if err != nil {
				t.Errorf("%s: %v", c.what, err)
				continue
			}
		} else {
			a, err := w.api.once(w.cl.base(), "POST", c.path, []byte(c.raw), "bad-"+randID(6))
			if err != nil {
				t.Errorf("%s: %v", c.what, err)
				continue
			}
			code, answer = a.status, string(a.body)
			if code == 201 && strings.HasSuffix(c.path, "/messages") {
				var m messageView
				json.Unmarshal(a.body, &m)
				if !utf8.ValidString(m.Text) {
					t.Errorf("%s: accepted and stored as invalid UTF-8 %q", c.what, m.Text)
				}
				w.led.update(h, func(h *hrec) { h.customer = append(h.customer, sent{m.ID, m.Text, a.at}) })
			}
			if code == 201 && c.path == "/v1/handoffs" {
				var v handoffView
				json.Unmarshal(a.body, &v)
				w.led.add(&hrec{id: v.ID, conv: v.ConversationID, bot: "webbot", desk: "company", kind: c.what, created: a.at})
			}
		}
		if len(answer) > 300 {
			answer = answer[:300] + "…"
		}
		if code/100 == 5 || code == 0 {
			t.Errorf("%s: %d %s; want a 4xx or the input accepted intact", c.what, code, strings.TrimSpace(answer))
		}
		if (strings.Contains(c.what, "12 MB") || strings.Contains(c.what, "nested")) && code/100 == 2 {
			t.Errorf("%s: accepted (%d); want it refused", c.what, code)
		}
	}
	if a, err := w.api.do("GET", "/healthz", nil, ""); err != nil || a.status != 200 {
		t.Fatalf("after the bad bodies /healthz answers %v %v", a, err)
	}
	if len(h.customer) > 0 {
		if err := w.seen(h); err != nil {
			t.Error(err)
		}
	}
	if err := w.botEnds(h, "customer_closed"); err != nil {
		t.Error(err)
	}
}

// otherWorkspace: workspace other's key and inbox agent never see or
// change workspace proof's handoffs, conversations, events or bots, on any
// route: 404. And the reverse.
func otherWorkspace(t *testing.T, w *world) {
	hA := w.established(t, kindNamed("webhook customer close"), "tenant-a")
	if err := w.companySays(hA, 0); err != nil {
		t.Fatal(err)
	}
	hI, err := w.open(kindNamed("inbox customer close"), "tenant-a-inbox")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.inboxClaim(hI, w.ana, "ana"); err != nil {
		t.Fatal(err)
	}
	otherKinds := kind{name: "other", bot: "otherbot", desk: "other-company", want: "bot_closed"}
	hB := w.established(t, otherKinds, "tenant-b")
	hBI, err := w.open(kind{name: "other inbox", bot: "otherinboxbot", desk: "other-inbox", want: "bot_closed"}, "tenant-b-inbox")
	if err != nil {
		t.Fatal(err)
	}
	before := func(c client, h *hrec) handoffView {
		var v handoffView
		a, err := c.do("GET", "/v1/handoffs/"+h.id, nil, "")
		if err != nil || a.status != 200 {
			t.Fatalf("GET own handoff %s: %v %v", h.id, a, err)
		}
		json.Unmarshal(a.body, &v)
		return v
	}
	vA, vI := before(w.api, hA), before(w.api, hI)
	hostile := "from workspace other"
	routes := func(h *hrec, bot string) []struct{ method, path, body string } {
		conv := h.conv
		return []struct{ method, path, body string }{
			{"GET", "/v1/handoffs/" + h.id, ""},
			{"GET", "/v1/handoffs/" + h.id + "?bot_id=" + bot, ""},
			{"POST", "/v1/handoffs/" + h.id + "/messages", `{"text":"` + hostile + `"}`},
			{"POST", "/v1/handoffs/" + h.id + "/keep-waiting", `{}`},
			{"POST", "/v1/handoffs/" + h.id + "/email", `{"email":"mallory@evil.example"}`},
			{"POST", "/v1/handoffs/" + h.id + "/end", `{"reason":"customer_closed"}`},
			{"GET", "/v1/conversations/" + conv + "?bot_id=" + bot, ""},
			{"POST", "/v1/conversations/" + conv + "/bot-messages", `{"bot_id":"` + bot + `","epoch":1,"text":"` + hostile + `"}`},
			{"POST", "/v1/conversations/" + conv + "/transfer", `{"bot_id":"` + bot + `"}`},
			{"POST", "/v1/handoffs", `{"bot_id":"` + bot + `","conversation_id":"` + conv + `","customer":{"id":"x"},"question":"` + hostile + `"}`},
			{"GET", "/v1/events?bot_id=" + bot, ""},
			{"GET", "/v1/availability?bot_id=" + bot, ""},
		}
	}
	try := func(who string, c client, h *hrec, bot string) {
		for _, r := range routes(h, bot) {
			var raw []byte
			if r.body != "" {
				raw = []byte(r.body)
			}
			a, err := c.doRaw(r.method, r.path, raw, "")
			if err != nil {
				t.Errorf("%s %s %s: %v", who, r.method, r.path, err)
				continue
			}
			if a.status != 404 {
				t.Errorf("%s's key on %s %s (another workspace's): %s; want 404", who, r.method, r.path, trim(a))
			}
		}
	}
	try("workspace other", w.other, hA, "webbot")
	try("workspace other", w.other, hI, "inboxbot")
	try("workspace proof", w.api, hB, "otherbot")
	agentRoutes := []struct{ method, path, body string }{
		{"GET", "/v1/inbox/handoffs/%s/messages", ""},
		{"POST", "/v1/inbox/handoffs/%s/claim", ""},
		{"POST", "/v1/inbox/handoffs/%s/messages", `{"text":"` + hostile + `"}`},
		{"POST", "/v1/inbox/handoffs/%s/end", ""},
	}
	for _, c := range []struct {
		who   string
		agent client
		h     *hrec
	}{{"Zed (workspace other)", w.zed, hI}, {"Ana (workspace proof)", w.ana, hBI}} {
		for _, r := range agentRoutes {
			var raw []byte
			if r.body != "" {
				raw = []byte(r.body)
			}
			path := fmt.Sprintf(r.path, c.h.id)
			a, err := c.agent.doRaw(r.method, path, raw, "")
			if err != nil {
				t.Errorf("%s %s %s: %v", c.who, r.method, path, err)
				continue
			}
			if a.status != 404 {
				t.Errorf("%s on %s %s (another workspace's handoff): %s; want 404", c.who, r.method, path, trim(a))
			}
		}
	}
	if a, err := w.zed.do("GET", "/v1/inbox/handoffs", nil, ""); err != nil || strings.Contains(string(a.body), hI.id) {
		t.Errorf("Zed's inbox (workspace other) lists proof's handoff %s: %v %v", hI.id, trim(a), err)
	}
	// Nothing changed: same state and epoch, nothing hostile delivered.
	if v := before(w.api, hA); v.State != vA.State || v.Epoch != vA.Epoch || v.EndReason != "" {
		t.Errorf("workspace other changed proof's handoff %s: %+v, was %+v", hA.id, v, vA)
	}
	if v := before(w.api, hI); v.State != vI.State || v.Epoch != vI.Epoch || v.EndReason != "" {
		t.Errorf("workspace other changed proof's inbox handoff %s: %+v, was %+v", hI.id, v, vI)
	}
	w.sentinel(t, hA, w.companySays)
	for _, c := range w.company.all() {
		if strings.Contains(c.text, hostile) {
			t.Errorf("workspace other's text reached desk %s for handoff %s", c.desk, c.handoff)
		}
	}
	for _, d := range w.bots.all() {
		if strings.Contains(string(d.raw), hostile) {
			t.Errorf("workspace other's text reached bot %s: %s", d.bot, d.raw)
		}
	}
	for _, h := range []*hrec{hA, hI} {
		if err := w.botEnds(h, "customer_closed"); err != nil {
			t.Error(err)
		}
	}
	for _, h := range []*hrec{hB, hBI} {
		a, err := w.other.do("POST", "/v1/handoffs/"+h.id+"/end", map[string]any{"reason": "bot_closed"}, "")
		if err != nil || a.status != 200 {
			t.Errorf("workspace other ending its own %s: %v %v", h.id, a, err)
		}
	}
}

func trim(a answer) string {
	s := a.String()
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// slowBody starts a request whose body stalls after its first byte, and
// returns the check: the server must give up on it (answer or close)
// within slowBodyBound, not hold the connection open.
func (w *world) slowBody(t *testing.T) func(t *testing.T) {
	const slowBodyBound = 15 * time.Second
	conn, err := net.Dial("tcp", w.cl.procs[0].addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	start := time.Now()
	fmt.Fprintf(conn, "POST /v1/handoffs HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{", w.cl.procs[0].addr, w.api.key)
	done := make(chan string, 1)
	go func() {
		conn.SetReadDeadline(start.Add(slowBodyBound))
		line, err := bufio.NewReader(conn).ReadString('\n')
		switch {
		case err == nil:
			done <- "answered " + strings.TrimSpace(line)
		case err == io.EOF:
			done <- "closed"
		case errIsTimeout(err):
			done <- ""
		default:
			done <- "closed: " + err.Error()
		}
	}()
	return func(t *testing.T) {
		if got := <-done; got == "" {
			t.Errorf("no body read timeout: a request whose body stalled after its first byte held its connection for %v without an answer", slowBodyBound)
		} else {
			t.Logf("a stalled body: %s after %v", got, time.Since(start).Round(time.Millisecond))
		}
	}
}

func errIsTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}
