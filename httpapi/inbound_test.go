package httpapi_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
)

// ack is the answer to a desk's inbound request.
type ack struct {
	OK      bool   `json:"ok"`
	Ignored string `json:"ignored"`
}

// TestInbound drives the desk callback URL with a webhook desk: probes,
// forgeries, malformed bodies, and a real agent conversation with a duplicate.
func TestInbound(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	auth := map[string]string{"Authorization": "Bearer " + hookSecret}
	inbound := func(path string, header map[string]string, body any) res {
		return f.do(req{method: "POST", path: "/v1/desks/" + path, header: header, body: body})
	}

	body := createBody("c-hook")
	body["desk_id"] = hookDesk
	h := must[wireHandoff](t, f.do(req{method: "POST", path: "/v1/handoffs", key: key1, body: body}), http.StatusCreated)
	h = f.waitState(h.ID, "queued")
	if !slices.Contains(f.company.calls(), "/conversation/establish") {
		t.Fatalf("the company was not asked to open the handoff: %v", f.company.calls())
	}

	errs := []struct {
		name   string
		path   string
		header map[string]string
		body   any
		status int
		code   string
		field  string
		off    bool // breaks the contract on purpose
	}{
		{"forged", hookDesk + "/inbound/message", map[string]string{"Authorization": "Bearer not-the-secret-at-all"}, `{"istest":true}`, 401, "unauthorized", "", false},
		{"unsigned", hookDesk + "/inbound/message", nil, `{"istest":true}`, 401, "unauthorized", "", false},
		{"malformed", hookDesk + "/inbound/message", auth, `{"conversation_id":`, 400, "bad_request", "", true},
		{"no conversation", hookDesk + "/inbound/message", auth, `{"body":"hi","message_id":"x"}`, 422, "invalid", "conversation_id", false},
		{"unknown path", hookDesk + "/inbound/nope", auth, `{"istest":true}`, 404, "not_found", "", false},
		{"unknown desk", "dk_nope/inbound/message", auth, `{"istest":true}`, 401, "unauthorized", "", false},
		{"inbox desk", inboxDesk + "/inbound/message", auth, `{"istest":true}`, 401, "unauthorized", "", false},
		// What no message may hold, from a desk as from a bot.
		{"a NUL", hookDesk + "/inbound/message", auth, map[string]any{"conversation_id": h.ID, "body": "a\u0000b", "message_id": "m-nul"}, 400, "bad_request", "body", false},
		{"a script link", hookDesk + "/inbound/message", auth, map[string]any{"conversation_id": h.ID, "body": "see", "message_id": "m-js",
			"attachments": []any{map[string]any{"url": "javascript:alert(1)"}}}, 422, "invalid", "attachments[0].url", false},
		{"not UTF-8", hookDesk + "/inbound/message", auth, `{"conversation_id":"` + h.ID + `","body":"a` + "\xff\xfe" + `b","message_id":"m-bad"}`, 400, "bad_request", "body", true},
		{"too many files", hookDesk + "/inbound/message", auth, map[string]any{"conversation_id": h.ID, "body": "see", "message_id": "m-many",
			"attachments": slices.Repeat([]any{map[string]any{"url": "https://files.example.com/a.png"}}, 11)}, 422, "invalid", "attachments", false},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			before := f.snapshot()
			r := f.do(req{method: "POST", path: "/v1/desks/" + tt.path, header: tt.header, body: tt.body, offSpec: tt.off})
			wantProblem(t, r, tt.status, tt.code, tt.field)
			if after := f.snapshot(); after != before {
				t.Errorf("changed:\n%s\n%s", before, after)
			}
		})
	}

	t.Run("probe", func(t *testing.T) {
		before := f.snapshot()
		if a := must[ack](t, inbound(hookDesk+"/inbound/message", auth, `{"istest":true}`), http.StatusOK); a != (ack{OK: true, Ignored: "no_events"}) {
			t.Errorf("a probe was answered %+v, want ok and ignored no_events", a)
		}
		if after := f.snapshot(); after != before {
			t.Errorf("a probe changed things")
		}
	})

	t.Run("a long reply", func(t *testing.T) {
		// An agent may write more than a bot may send: the desk's body
		// limit bounds it, and it reaches the bot whole.
		long := strings.Repeat("All good. ", 2000)
		b := createBody("c-hook-long")
		b["desk_id"] = hookDesk
		lh := f.waitState(must[wireHandoff](t, f.do(req{method: "POST", path: "/v1/handoffs", key: key1, body: b}), http.StatusCreated).ID, "queued")
		if a := must[ack](t, inbound(hookDesk+"/inbound/message", auth, map[string]any{"conversation_id": lh.ID, "body": long, "message_id": "m-long",
			"agent": map[string]any{"id": "zoe", "name": "Zoe"}}), http.StatusOK); a != (ack{OK: true}) {
			t.Errorf("a 20 KB reply was answered %+v", a)
		}
	})

	t.Run("conversation", func(t *testing.T) {
		ts := time.Now().UnixMilli()
		msg := map[string]any{"conversation_id": h.ID, "timestamp": ts, "body": "Hi, Zoe here.", "message_id": "m-1",
			"agent": map[string]any{"id": "zoe", "name": "Zoe"}}
		if a := must[ack](t, inbound(hookDesk+"/inbound/message", auth, msg), http.StatusOK); a != (ack{OK: true}) {
			t.Errorf("the agent's message was answered %+v, want ok and not ignored", a)
		}
		got := f.handoff(h.ID)
		if got.State != "active" || got.Agent == nil || got.Agent.Name != "Zoe" {
			t.Errorf("after the agent's message %+v", got)
		}
		before := f.snapshot()
		if a := must[ack](t, inbound(hookDesk+"/inbound/message", auth, msg), http.StatusOK); a != (ack{OK: true, Ignored: "duplicate"}) {
			t.Errorf("a duplicate was answered %+v, want ignored duplicate", a)
		}
		if after := f.snapshot(); after != before {
			t.Errorf("a duplicate changed things:\n%s\n%s", before, after)
		}
		must[ack](t, inbound(hookDesk+"/inbound/close", auth, map[string]any{"conversation_id": h.ID, "timestamp": ts + 1}), http.StatusOK)
		got = f.handoff(h.ID)
		if got.State != "ended" || got.EndReason != "agent_closed" {
			t.Errorf("after close %+v", got)
		}
		if types, want := f.eventTypes(h.ID), []string{"handoff.queued", "handoff.agent_joined", "handoff.agent_message", "handoff.ended"}; !slices.Equal(types, want) {
			t.Errorf("events %q, want %q", types, want)
		}
		// A message for a handoff Baton does not know is acknowledged and dropped.
		if a := must[ack](t, inbound(hookDesk+"/inbound/message", auth, map[string]any{"conversation_id": "ho_unknown", "body": "hello?", "message_id": "m-2"}), http.StatusOK); a != (ack{OK: true, Ignored: "unknown_handoff"}) {
			t.Errorf("a message for no handoff was answered %+v, want ignored unknown_handoff", a)
		}
		// Asked again, an event for no handoff is still unknown, not a
		// duplicate; a join of a handoff that has ended changes nothing.
		if a := must[ack](t, inbound(hookDesk+"/inbound/message", auth, map[string]any{"conversation_id": "ho_unknown", "body": "hello?", "message_id": "m-2"}), http.StatusOK); a != (ack{OK: true, Ignored: "unknown_handoff"}) {
			t.Errorf("the repeat of a message for no handoff was answered %+v, want ignored unknown_handoff", a)
		}
		if a := must[ack](t, inbound(hookDesk+"/inbound/join", auth, map[string]any{"conversation_id": h.ID, "agent": map[string]any{"id": "zed", "name": "Zed"}}), http.StatusOK); a != (ack{OK: true, Ignored: "handoff_ended"}) {
			t.Errorf("a join of an ended handoff was answered %+v, want ignored handoff_ended", a)
		}
		// Each is counted, so that an operator sees what was dropped on purpose.
		m := f.do(req{method: "GET", path: "/metrics"})
		for _, want := range []string{
			`baton_inbound_ignored_total{kind="webhook",reason="no_events"} 1`,
			`baton_inbound_ignored_total{kind="webhook",reason="duplicate"} 1`,
			`baton_inbound_ignored_total{kind="webhook",reason="unknown_handoff"} 2`,
			`baton_inbound_ignored_total{kind="webhook",reason="handoff_ended"} 1`,
			`baton_inbound_ignored_total{kind="livechat",reason="unattributed"} 0`,
		} {
			if !strings.Contains(string(m.body), want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
	})
}

// TestWebhookDeskAttachments: a customer's file reaches the company's
// service as the protocol says: in the attachments array, and as an
// "Attachment:" line after the text.
func TestWebhookDeskAttachments(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	b := createBody("c-hook-file")
	b["desk_id"] = hookDesk
	h := must[wireHandoff](t, f.do(req{method: "POST", path: "/v1/handoffs", key: key1, body: b}), http.StatusCreated)
	f.waitState(h.ID, "queued")
	att := map[string]any{"url": "https://files.example.com/label.jpg", "name": "label.jpg", "type": "image/jpeg", "size": 48213}
	must[map[string]any](t, f.do(req{method: "POST", path: "/v1/handoffs/" + h.ID + "/messages", key: key1,
		body: map[string]any{"text": "Here it is.", "attachments": []any{att}}}), http.StatusCreated)
	var chat struct {
		Body        string             `json:"body"`
		Attachments []baton.Attachment `json:"attachments"`
	}
	if !f.afterJobs(func() bool { return f.company.body("/chat") != nil }) {
		t.Fatal("the message never reached the company")
	}
	if err := json.Unmarshal(f.company.body("/chat"), &chat); err != nil {
		t.Fatal(err)
	}
	if chat.Body != "Here it is.\n\nAttachment: label.jpg https://files.example.com/label.jpg" ||
		len(chat.Attachments) != 1 || chat.Attachments[0].URL != "https://files.example.com/label.jpg" || chat.Attachments[0].Size != 48213 {
		t.Errorf("the company got %+v", chat)
	}
}

// TestInboundProbe: the HEAD a desk sends to check its inbound URL
// (Intercom, when a webhook URL is saved) is 200 with no body and no key,
// whatever the desk: ids cannot be probed.
func TestInboundProbe(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for path, want := range map[string]int{
		hookDesk + "/inbound/intercom": http.StatusOK,
		"dk_nosuch/inbound/intercom":   http.StatusOK,
		inboxDesk + "/inbound/x":       http.StatusOK,
	} {
		r := f.do(req{method: "HEAD", path: "/v1/desks/" + path})
		if r.status != want || len(r.body) != 0 {
			t.Errorf("HEAD %s: %d with %d bytes, want %d and none", path, r.status, len(r.body), want)
		}
	}
}
