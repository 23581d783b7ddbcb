package httpapi_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestCreateHandoffOutcomes(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tests := []struct {
		name       string
		desk       string
		email      string
		state      string
		needsEmail bool
		endReason  string
		reply      string
		epoch      int64
	}{
		{name: "requested", state: "requested", epoch: 1},
		{name: "needs email", desk: emailDesk, state: "requested", needsEmail: true, epoch: 0},
		{name: "email known", desk: emailDesk, email: "grace@example.com", state: "requested", epoch: 1},
		{name: "out of hours", desk: closedDesk, state: "ended", endReason: "out_of_hours", reply: closedReply, epoch: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := createBody("c-" + strings.ReplaceAll(tt.name, " ", "-"))
			body["customer"] = map[string]any{"id": "cu1", "email": tt.email}
			if tt.email == "" {
				body["customer"] = map[string]any{"id": "cu1"}
			}
			if tt.desk != "" {
				body["desk_id"] = tt.desk
			}
			r := f.do(req{method: "POST", path: "/v1/handoffs", key: key1, body: body})
			h := must[wireHandoff](t, r, http.StatusCreated)
			wantDesk := tt.desk
			if wantDesk == "" {
				wantDesk = inboxDesk
			}
			if h.State != tt.state || h.NeedsEmail != tt.needsEmail || h.EndReason != tt.endReason || h.Reply != tt.reply ||
				h.Epoch != tt.epoch || h.DeskID != wantDesk || h.BotID != bot1 || h.ConversationID != body["conversation_id"] ||
				h.Question != "Where is my parcel?" || h.Routing != "billing" {
				t.Errorf("handoff %+v", h)
			}
			if got := r.header.Get("Location"); got != "/v1/handoffs/"+h.ID {
				t.Errorf("Location %q", got)
			}
			if r.header.Get("Idempotent-Replayed") != "" {
				t.Error("a first request is not a replay")
			}
			if h.CreatedAt == nil || h.CreatedAt.Location() != time.UTC {
				t.Errorf("created_at %v, want a UTC time", h.CreatedAt)
			}
			if (h.EndedAt != nil) != (tt.state == "ended") {
				t.Errorf("ended_at %v in state %s", h.EndedAt, h.State)
			}
			if !strings.Contains(string(r.body), `"needs_email":`) || strings.Contains(string(r.body), `"queued_at"`) {
				t.Errorf("zero times must be left out and needs_email kept: %s", r.body)
			}
		})
	}
}

func TestHandoffRoutes(t *testing.T) {
	t.Parallel()
	f := newFixture(t)

	t.Run("get", func(t *testing.T) {
		h := f.create("c-get")
		got := f.handoff(h.ID)
		if got.ID != h.ID || got.ConversationID != "c-get" {
			t.Errorf("got %+v", got)
		}
	})

	t.Run("keep waiting", func(t *testing.T) {
		h := f.create("c-wait")
		// Not queued yet is a conflict; once queued it restarts the wait.
		if f.handoff(h.ID).State == "requested" {
			r := f.do(req{method: "POST", path: "/v1/handoffs/" + h.ID + "/keep-waiting", key: key1})
			if r.status != http.StatusOK {
				wantProblem(t, r, http.StatusConflict, "conflict", "")
			}
		}
		f.waitState(h.ID, "queued")
		for _, body := range []any{nil, map[string]any{}} {
			got := must[wireHandoff](t, f.do(req{method: "POST", path: "/v1/handoffs/" + h.ID + "/keep-waiting", key: key1, body: body}), http.StatusOK)
			if got.State != "queued" {
				t.Errorf("state %s", got.State)
			}
		}
		r := f.do(req{method: "POST", path: "/v1/handoffs/" + h.ID + "/keep-waiting", key: key1, body: `{"please":true}`, offSpec: true})
		wantProblem(t, r, http.StatusBadRequest, "bad_request", "please")
	})

	t.Run("end", func(t *testing.T) {
		tests := []struct {
			name, body, reason string
		}{
			{"no body", "", "bot_closed"},
			{"empty object", "{}", "bot_closed"},
			{"bot closed", `{"reason":"bot_closed"}`, "bot_closed"},
			{"customer closed", `{"reason":"customer_closed"}`, "customer_closed"},
		}
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				h := f.queued("c-end-" + string(rune('a'+i)))
				var body any
				if tt.body != "" {
					body = tt.body
				}
				got := must[wireHandoff](t, f.do(req{method: "POST", path: "/v1/handoffs/" + h.ID + "/end", key: key1, body: body}), http.StatusOK)
				if got.State != "ended" || got.EndReason != tt.reason || got.Epoch != h.Epoch+1 || got.EndedAt == nil {
					t.Errorf("ended %+v", got)
				}
				var sum struct {
					CustomerMessages *int `json:"customer_messages"`
				}
				if err := json.Unmarshal(got.Summary, &sum); err != nil || sum.CustomerMessages == nil {
					t.Errorf("summary %s: %v", got.Summary, err)
				}
				again := f.do(req{method: "POST", path: "/v1/handoffs/" + h.ID + "/end", key: key1})
				wantProblem(t, again, http.StatusConflict, "conflict", "")
			})
		}
	})

	t.Run("email", func(t *testing.T) {
		body := createBody("c-email")
		body["desk_id"] = emailDesk
		body["customer"] = map[string]any{"id": "cu-email", "name": "Grace"}
		h := must[wireHandoff](t, f.do(req{method: "POST", path: "/v1/handoffs", key: key1, body: body}), http.StatusCreated)
		if !h.NeedsEmail {
			t.Fatalf("want needs_email: %+v", h)
		}
		// Messages wait for the email.
		r := f.do(req{method: "POST", path: "/v1/handoffs/" + h.ID + "/messages", key: key1, body: map[string]any{"text": "hello?"}})
		wantProblem(t, r, http.StatusConflict, "conflict", "")
		before := f.snapshot()
		r = f.do(req{method: "POST", path: "/v1/handoffs/" + h.ID + "/email", key: key1, body: map[string]any{"email": "not an email"}})
		wantProblem(t, r, http.StatusUnprocessableEntity, "invalid", "email")
		if after := f.snapshot(); after != before {
			t.Errorf("a refused email changed things:\n%s\n%s", before, after)
		}
		got := must[wireHandoff](t, f.do(req{method: "POST", path: "/v1/handoffs/" + h.ID + "/email", key: key1, body: map[string]any{"email": "grace@example.com"}}), http.StatusOK)
		if got.NeedsEmail || got.Epoch != 1 {
			t.Errorf("after email %+v", got)
		}
		f.waitState(h.ID, "queued")
		r = f.do(req{method: "POST", path: "/v1/handoffs/" + h.ID + "/email", key: key1, body: map[string]any{"email": "grace@example.com"}})
		wantProblem(t, r, http.StatusConflict, "conflict", "")
	})

	t.Run("customer message", func(t *testing.T) {
		h := f.queued("c-msg")
		atts := []map[string]any{{"url": "https://files.example.com/a.png", "name": "a.png", "type": "image/png", "size": 42}}
		m := must[wireMessage](t, f.do(req{method: "POST", path: "/v1/handoffs/" + h.ID + "/messages", key: key1,
			body: map[string]any{"text": "It was due Monday", "attachments": atts}}), http.StatusCreated)
		if m.Author != "customer" || m.Text != "It was due Monday" || m.ConversationID != "c-msg" || m.HandoffID != h.ID ||
			len(m.Attachments) != 1 || m.Attachments[0].Size != 42 || m.Epoch != h.Epoch || m.Late || m.Seq < 1 {
			t.Errorf("message %+v", m)
		}
		m2 := must[wireMessage](t, f.do(req{method: "POST", path: "/v1/handoffs/" + h.ID + "/messages", key: key1,
			body: map[string]any{"text": "Any news?"}}), http.StatusCreated)
		if m2.Seq != m.Seq+1 || m2.Attachments == nil {
			t.Errorf("second message %+v (attachments must be [] not null)", m2)
		}
	})

	t.Run("availability", func(t *testing.T) {
		tests := []struct {
			query   string
			desk    string
			openNow bool
			zone    string
		}{
			{"", inboxDesk, true, "UTC"},
			{"?bot_id=" + bot1, inboxDesk, true, "UTC"},
			{"?desk_id=" + closedDesk, closedDesk, false, "Europe/Paris"},
		}
		for _, tt := range tests {
			a := must[wireAvailability](t, f.do(req{method: "GET", path: "/v1/availability" + tt.query, key: key1}), http.StatusOK)
			if a.DeskID != tt.desk || a.OpenNow != tt.openNow || a.Zone != tt.zone || a.Status == "" {
				t.Errorf("%s: %+v", tt.query, a)
			}
		}
		wantProblem(t, f.do(req{method: "GET", path: "/v1/availability?desk_id=dk_nope", key: key1}), http.StatusNotFound, "not_found", "desk_id")
		wantProblem(t, f.do(req{method: "GET", path: "/v1/availability?bot_id=bot_nope", key: key1}), http.StatusNotFound, "not_found", "bot_id")
		// Another workspace's desk does not exist here.
		wantProblem(t, f.do(req{method: "GET", path: "/v1/availability?desk_id=" + inboxDesk2, key: key1}), http.StatusNotFound, "not_found", "desk_id")
	})

	t.Run("conversation", func(t *testing.T) {
		c := must[wireConversation](t, f.do(req{method: "GET", path: "/v1/conversations/never-seen", key: key1}), http.StatusOK)
		if c.ConversationID != "never-seen" || c.Owner != "bot" || c.Epoch != 0 || c.OpenHandoffID != nil || c.Handoffs == nil || len(c.Handoffs) != 0 {
			t.Errorf("unknown conversation %+v", c)
		}
		h := f.queued("c-conv")
		c = must[wireConversation](t, f.do(req{method: "GET", path: "/v1/conversations/c-conv?bot_id=" + bot1, key: key1}), http.StatusOK)
		if c.Owner != "human" || c.Epoch != h.Epoch || c.OpenHandoffID == nil || *c.OpenHandoffID != h.ID || len(c.Handoffs) != 1 {
			t.Errorf("open conversation %+v", c)
		}
		f.do(req{method: "POST", path: "/v1/handoffs/" + h.ID + "/end", key: key1})
		h2 := f.queued("c-conv")
		c = must[wireConversation](t, f.do(req{method: "GET", path: "/v1/conversations/c-conv", key: key1}), http.StatusOK)
		if len(c.Handoffs) != 2 || c.Handoffs[0].ID != h2.ID || c.Handoffs[1].ID != h.ID || c.Epoch != 3 {
			t.Errorf("handoffs newest first, epoch 3: %+v", c)
		}
		wantProblem(t, f.do(req{method: "GET", path: "/v1/conversations/c-conv?bot_id=bot_nope", key: key1}), http.StatusNotFound, "not_found", "bot_id")
		// Another workspace does not see it.
		c = must[wireConversation](t, f.do(req{method: "GET", path: "/v1/conversations/c-conv", key: key2}), http.StatusOK)
		if c.Epoch != 0 || len(c.Handoffs) != 0 {
			t.Errorf("workspace two sees workspace one's conversation: %+v", c)
		}
	})

	t.Run("bot messages", func(t *testing.T) {
		m := must[wireMessage](t, f.do(req{method: "POST", path: "/v1/conversations/c-bot/bot-messages", key: key1,
			body: map[string]any{"epoch": 0, "text": "Hello, I am a bot"}}), http.StatusCreated)
		if m.Author != "bot" || m.ConversationID != "c-bot" || m.Epoch != 0 || m.HandoffID != "" {
			t.Errorf("bot message %+v", m)
		}
		h := f.create("c-bot")
		r := f.do(req{method: "POST", path: "/v1/conversations/c-bot/bot-messages", key: key1, body: map[string]any{"epoch": 0, "text": "late reply"}})
		p := wantProblem(t, r, http.StatusConflict, "stale_epoch", "epoch")
		if !strings.Contains(p.Detail, "human") {
			t.Errorf("detail %q", p.Detail)
		}
		r = f.do(req{method: "POST", path: "/v1/conversations/c-bot/bot-messages", key: key1, body: map[string]any{"bot_id": bot1, "epoch": h.Epoch, "text": "still a human's"}})
		wantProblem(t, r, http.StatusConflict, "stale_epoch", "epoch")
		ended := must[wireHandoff](t, f.do(req{method: "POST", path: "/v1/handoffs/" + h.ID + "/end", key: key1}), http.StatusOK)
		m = must[wireMessage](t, f.do(req{method: "POST", path: "/v1/conversations/c-bot/bot-messages", key: key1,
			body: map[string]any{"epoch": ended.Epoch, "text": "I am back"}}), http.StatusCreated)
		if m.Epoch != ended.Epoch {
			t.Errorf("bot message epoch %d, want %d", m.Epoch, ended.Epoch)
		}
	})
}

// TestInboxFlow walks one handoff through the built-in inbox: create →
// queued → claim → reply → customer message → end, checking the events the
// bot gets and the agent's views along the way.
func TestInboxFlow(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ada := func(method, path string, body any) res {
		return f.do(req{method: method, path: path, key: agentKey1, body: body})
	}

	h := f.create("c-flow")
	if h.State != "requested" || h.Epoch != 1 {
		t.Fatalf("created %+v", h)
	}
	h = f.waitState(h.ID, "queued")
	if h.QueuedAt == nil {
		t.Errorf("queued without queued_at: %+v", h)
	}

	queue := must[wireQueue](t, ada("GET", "/v1/inbox/handoffs", nil), http.StatusOK)
	if len(queue.Waiting) != 1 || queue.Waiting[0].ID != h.ID || queue.Mine == nil || len(queue.Mine) != 0 {
		t.Fatalf("queue %+v", queue)
	}

	// Workspace two's agent sees nothing of it.
	other := f.do(req{method: "GET", path: "/v1/inbox/handoffs", key: agentKeyOther})
	if !strings.Contains(string(other.body), `"waiting":[]`) {
		t.Errorf("another workspace's queue: %s", other.body)
	}
	wantProblem(t, f.do(req{method: "POST", path: "/v1/inbox/handoffs/" + h.ID + "/claim", key: agentKeyOther}), http.StatusNotFound, "not_found", "")

	claimed := must[wireHandoff](t, ada("POST", "/v1/inbox/handoffs/"+h.ID+"/claim", nil), http.StatusOK)
	if claimed.Agent == nil || claimed.Agent.ID != agentAda || claimed.Agent.Name != agentAdaName || claimed.State != "queued" {
		t.Errorf("claimed %+v", claimed)
	}
	// Bob cannot take it from Ada.
	wantProblem(t, f.do(req{method: "POST", path: "/v1/inbox/handoffs/" + h.ID + "/claim", key: agentKey2}), http.StatusConflict, "conflict", "")

	tr := must[wireTranscript](t, ada("GET", "/v1/inbox/handoffs/"+h.ID+"/messages", nil), http.StatusOK)
	var texts []string
	for _, m := range tr.Messages {
		texts = append(texts, m.Author+": "+m.Text)
	}
	if want := []string{"customer: Hello", "bot: Hi! How can I help?", "customer: Where is my parcel?"}; !slices.Equal(texts, want) {
		t.Errorf("transcript %q, want %q", texts, want)
	}

	replied := must[wireHandoff](t, ada("POST", "/v1/inbox/handoffs/"+h.ID+"/messages", map[string]any{"text": "Let me check."}), http.StatusCreated)
	if replied.State != "active" || replied.Epoch != h.Epoch+1 || replied.ActiveAt == nil {
		t.Errorf("after the first reply %+v", replied)
	}
	queue = must[wireQueue](t, ada("GET", "/v1/inbox/handoffs", nil), http.StatusOK)
	if len(queue.Waiting) != 0 || len(queue.Mine) != 1 || queue.Mine[0].ID != h.ID {
		t.Errorf("queue after reply %+v", queue)
	}

	m := must[wireMessage](t, f.do(req{method: "POST", path: "/v1/handoffs/" + h.ID + "/messages", key: key1, body: map[string]any{"text": "Thanks!"}}), http.StatusCreated)
	if m.Epoch != replied.Epoch {
		t.Errorf("customer message epoch %d, want %d", m.Epoch, replied.Epoch)
	}

	// The bot must not speak while Ada holds the conversation.
	wantProblem(t, f.do(req{method: "POST", path: "/v1/conversations/c-flow/bot-messages", key: key1,
		body: map[string]any{"epoch": replied.Epoch, "text": "Can I help?"}}), http.StatusConflict, "stale_epoch", "epoch")

	tr = must[wireTranscript](t, ada("GET", "/v1/inbox/handoffs/"+h.ID+"/messages", nil), http.StatusOK)
	if n := len(tr.Messages); n != 5 || tr.Messages[3].Author != "agent" || tr.Messages[3].AgentName != agentAdaName || tr.Messages[4].Text != "Thanks!" {
		t.Errorf("transcript %+v", tr.Messages)
	}

	ended := must[wireHandoff](t, ada("POST", "/v1/inbox/handoffs/"+h.ID+"/end", nil), http.StatusOK)
	if ended.State != "ended" || ended.EndReason != "agent_closed" || ended.Epoch != replied.Epoch+1 {
		t.Errorf("ended %+v", ended)
	}
	wantProblem(t, ada("POST", "/v1/inbox/handoffs/"+h.ID+"/messages", map[string]any{"text": "one more thing"}), http.StatusConflict, "conflict", "")
	wantProblem(t, f.do(req{method: "POST", path: "/v1/handoffs/" + h.ID + "/messages", key: key1, body: map[string]any{"text": "hello?"}}), http.StatusConflict, "conflict", "")

	c := must[wireConversation](t, f.do(req{method: "GET", path: "/v1/conversations/c-flow", key: key1}), http.StatusOK)
	if c.Owner != "bot" || c.Epoch != ended.Epoch || c.OpenHandoffID != nil || len(c.Handoffs) != 1 || c.Handoffs[0].State != "ended" {
		t.Errorf("conversation after the end %+v", c)
	}
	must[wireMessage](t, f.do(req{method: "POST", path: "/v1/conversations/c-flow/bot-messages", key: key1,
		body: map[string]any{"epoch": c.Epoch, "text": "Anything else?"}}), http.StatusCreated)

	if got, want := f.eventTypes(h.ID), []string{"handoff.queued", "handoff.agent_joined", "handoff.agent_message", "handoff.ended"}; !slices.Equal(got, want) {
		t.Errorf("events %q, want %q", got, want)
	}
	evs := f.events(0)
	last := evs[len(evs)-1]
	if last.Type != "handoff.ended" || last.Data["reason"] != "agent_closed" || last.Data["conversation_id"] != "c-flow" || last.Data["epoch"] != float64(ended.Epoch) {
		t.Errorf("ended event %+v", last)
	}
	for _, ev := range evs {
		if ev.Type == "handoff.agent_message" && (ev.Data["text"] != "Let me check." || ev.Data["epoch"] != float64(replied.Epoch)) {
			t.Errorf("agent message event %+v", ev)
		}
	}
}

func TestEventsList(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, cid := range []string{"c-e1", "c-e2", "c-e3"} {
		f.queued(cid)
	}
	all := must[wireEvents](t, f.do(req{method: "GET", path: "/v1/events", key: key1}), http.StatusOK)
	if len(all.Events) != 3 || all.NextAfter != all.Events[2].Seq {
		t.Fatalf("events %+v", all)
	}
	page := must[wireEvents](t, f.do(req{method: "GET", path: "/v1/events?limit=2&bot_id=" + bot1, key: key1}), http.StatusOK)
	if len(page.Events) != 2 || page.NextAfter != all.Events[1].Seq {
		t.Errorf("first page %+v", page)
	}
	rest := must[wireEvents](t, f.do(req{method: "GET", path: "/v1/events?after=" + itoa(page.NextAfter), key: key1}), http.StatusOK)
	if len(rest.Events) != 1 || rest.Events[0].ID != all.Events[2].ID {
		t.Errorf("second page %+v", rest)
	}
	empty := must[wireEvents](t, f.do(req{method: "GET", path: "/v1/events?after=" + itoa(rest.NextAfter), key: key1}), http.StatusOK)
	if empty.Events == nil || len(empty.Events) != 0 || empty.NextAfter != rest.NextAfter {
		t.Errorf("nothing new %+v", empty)
	}
	// Workspace two has no events.
	two := must[wireEvents](t, f.do(req{method: "GET", path: "/v1/events", key: key2}), http.StatusOK)
	if len(two.Events) != 0 {
		t.Errorf("workspace two sees %d events", len(two.Events))
	}
}

// TestAvailabilityAt asks about an instant other than now, and lists the
// open time of a range of dates.
func TestAvailabilityAt(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	// The closed desk is open only on one day long past.
	a := must[map[string]any](t, f.do(req{method: "GET", path: "/v1/availability?desk_id=" + closedDesk + "&at=2026-12-24T12:00:00Z", key: key1}), http.StatusOK)
	if a["at"] != "2026-12-24T12:00:00Z" || a["open_now"] != false {
		t.Errorf("availability at an instant: %v", a)
	}
	wantProblem(t, f.do(req{method: "GET", path: "/v1/availability?at=tomorrow", key: key1, offSpec: true}), http.StatusUnprocessableEntity, "invalid", "at")
	for _, at := range []string{"9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z"} { // no next opening could be written; not "now"
		wantProblem(t, f.do(req{method: "GET", path: "/v1/availability?at=" + at, key: key1}), http.StatusUnprocessableEntity, "invalid", "at")
	}
	if a := must[map[string]any](t, f.do(req{method: "GET", path: "/v1/availability?at=2026-12-24t12:00:00z", key: key1, offSpec: true}), http.StatusOK); a["at"] != "2026-12-24T12:00:00Z" {
		t.Errorf("lower-case t and z: %v", a)
	}

	type calendar struct {
		Zone string `json:"zone"`
		Days []struct {
			Date    string `json:"date"`
			Windows []struct {
				Start, End time.Time
			} `json:"windows"`
		} `json:"days"`
	}
	c := must[calendar](t, f.do(req{method: "GET", path: "/v1/calendar?desk_id=" + inboxDesk + "&from=2026-12-24&to=2026-12-26", key: key1}), http.StatusOK)
	if len(c.Days) != 3 || c.Days[0].Date != "2026-12-24" || c.Days[2].Date != "2026-12-26" {
		t.Fatalf("calendar: %+v", c)
	}
	for _, d := range c.Days { // the inbox desk has no periods: always open
		if len(d.Windows) != 1 || d.Windows[0].End.Sub(d.Windows[0].Start) != 24*time.Hour {
			t.Errorf("%s: %+v, want the whole day", d.Date, d.Windows)
		}
	}
	// The closed desk's one window, in Paris, comes back in UTC (the
	// contract checks the form) on its Paris date.
	c = must[calendar](t, f.do(req{method: "GET", path: "/v1/calendar?desk_id=" + closedDesk + "&from=2000-12-31&to=2001-01-01", key: key1}), http.StatusOK)
	if want := time.Date(2001, 1, 1, 8, 0, 0, 0, time.UTC); c.Zone != "Europe/Paris" || len(c.Days) != 2 || len(c.Days[0].Windows) != 0 ||
		len(c.Days[1].Windows) != 1 || !c.Days[1].Windows[0].Start.Equal(want) || c.Days[1].Windows[0].End.Sub(want) != time.Hour {
		t.Errorf("the closed desk's calendar: %+v", c)
	}
	wantProblem(t, f.do(req{method: "GET", path: "/v1/calendar?from=2026-12-24&to=2026-12-23", key: key1}), http.StatusUnprocessableEntity, "invalid", "to")
	wantProblem(t, f.do(req{method: "GET", path: "/v1/calendar?from=2026-01-01&to=2026-12-31", key: key1}), http.StatusUnprocessableEntity, "invalid", "to")
	wantProblem(t, f.do(req{method: "GET", path: "/v1/calendar?to=2026-12-31", key: key1, offSpec: true}), http.StatusUnprocessableEntity, "invalid", "from")
}
