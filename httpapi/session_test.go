package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/batonhq/baton"
)

// wireSaid is what POST /v1/conversations/{id}/messages answers.
type wireSaid struct {
	Action  string       `json:"action"`
	Handoff *wireHandoff `json:"handoff"`
	Message *wireMessage `json:"message"`
}

// TestSessionPayloads: a bot that passes every customer message on, with
// its payload, is told what Baton did with each: the bot's own while it
// holds the conversation, a handoff opened by the start payload (once
// under one Idempotency-Key), messages relayed while it is open, ended by
// the customer's end payload, and by an agent message that holds it, which
// reaches the bot marked with it; the bot's policy renames them.
func TestSessionPayloads(t *testing.T) {
	t.Parallel()
	for _, store := range stores {
		t.Run(store, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, withStore(store))
			say := func(conv string, body map[string]any, header map[string]string) res {
				return f.do(req{method: "POST", path: "/v1/conversations/" + conv + "/messages", key: key1, body: body, header: header})
			}
			customer := map[string]any{"id": "cu-s1", "name": "Dana"}

			// The bot holds the conversation: a message, or the end payload, is the bot's.
			for _, body := range []map[string]any{{"text": "hello"}, {"payload": baton.DefaultSessionEnd}} {
				if s := must[wireSaid](t, say("s1", body, nil), http.StatusOK); s.Action != "bot" || s.Handoff != nil {
					t.Fatalf("%v before any handoff: %+v, want bot", body, s)
				}
			}

			// The start payload opens a handoff, once under one key.
			start := map[string]any{"customer": customer, "payload": baton.DefaultSessionStart,
				"history": []map[string]any{{"author": "bot", "text": "Shall I get you a person?"}, {"author": "customer", "text": "My parcel is lost"}}}
			idem := map[string]string{"Idempotency-Key": "start-s1"}
			opened := must[wireSaid](t, say("s1", start, idem), http.StatusCreated)
			again := say("s1", start, idem)
			if opened.Action != "opened" || opened.Handoff == nil || opened.Handoff.Question != "My parcel is lost" {
				t.Fatalf("start: %+v, want opened with the customer's last turn as the question", opened)
			}
			if s := must[wireSaid](t, again, http.StatusCreated); s.Handoff == nil || s.Handoff.ID != opened.Handoff.ID || again.header.Get("Idempotent-Replayed") != "true" {
				t.Fatalf("the start replayed: %+v (%s), want the same handoff, replayed", s, again.header.Get("Idempotent-Replayed"))
			}
			h := f.waitState(opened.Handoff.ID, "queued")

			// While it is open, messages go to the desk.
			rel := must[wireSaid](t, say("s1", map[string]any{"text": "It was order 42"}, nil), http.StatusCreated)
			if rel.Action != "relayed" || rel.Message == nil || rel.Message.HandoffID != h.ID || rel.Message.Text != "It was order 42" {
				t.Fatalf("relay: %+v", rel)
			}

			// An agent message holding the end payload ends it and reaches
			// the bot marked with it.
			ada := func(path string, body any) res {
				return f.do(req{method: "POST", path: "/v1/inbox/handoffs/" + h.ID + path, key: agentKey1, body: body})
			}
			must[wireHandoff](t, ada("/claim", nil), http.StatusOK)
			must[wireHandoff](t, ada("/messages", map[string]any{"text": "Found it, it ships today. " + baton.DefaultSessionEnd}), http.StatusCreated)
			if got := f.handoff(h.ID); got.State != "ended" || got.EndReason != "agent_closed" {
				t.Fatalf("after the agent's end payload: %s %s, want ended agent_closed", got.State, got.EndReason)
			}
			var msg, ended map[string]any
			for _, e := range f.events(0) {
				if e.Data["handoff_id"] != h.ID {
					continue
				}
				switch e.Type {
				case baton.EventAgentMessage:
					msg = e.Data
				case baton.EventEnded:
					ended = e.Data
				}
			}
			if msg["text"] != "Found it, it ships today." || msg["payload"] != baton.DefaultSessionEnd {
				t.Errorf("agent message event %v: want the text without the payload, marked with it", msg)
			}
			if ended["payload"] != baton.DefaultSessionEnd {
				t.Errorf("ended event %v: want the end payload", ended)
			}
			if s := must[wireSaid](t, say("s1", map[string]any{"text": "thanks!"}, nil), http.StatusOK); s.Action != "bot" {
				t.Fatalf("after the end: %+v, want bot", s)
			}

			// A second session in the same conversation knows its customer;
			// the customer's end payload ends it.
			second := must[wireSaid](t, say("s1", map[string]any{"payload": baton.DefaultSessionStart, "text": "Me again"}, nil), http.StatusCreated)
			if second.Handoff == nil || second.Handoff.ID == h.ID {
				t.Fatalf("second start: %+v, want a new handoff", second)
			}
			end := must[wireSaid](t, say("s1", map[string]any{"payload": baton.DefaultSessionEnd}, nil), http.StatusOK)
			if end.Action != "ended" || end.Handoff == nil || end.Handoff.EndReason != "customer_closed" {
				t.Fatalf("customer end: %+v, want ended customer_closed", end)
			}

			// Bad input changes nothing.
			wantProblem(t, say("s2", map[string]any{"payload": baton.DefaultSessionStart}, nil), http.StatusUnprocessableEntity, baton.EINVALID, "customer.id")
			wantProblem(t, f.do(req{method: "POST", path: "/v1/conversations/s2/messages", key: key1, body: map[string]any{"payload": strings.Repeat("P", 65)}, offSpec: true}),
				http.StatusUnprocessableEntity, baton.EINVALID, "payload")
			wantProblem(t, say("s2", map[string]any{"payload": baton.DefaultSessionStart, "customer": customer, "desk_id": "nope"}, nil), http.StatusNotFound, baton.ENOTFOUND, "desk_id")
			wantProblem(t, f.do(req{method: "POST", path: "/v1/conversations/s1/messages", key: key2, body: map[string]any{"text": "x", "bot_id": bot1}}), http.StatusNotFound, baton.ENOTFOUND, "bot_id")

			// The bot's policy renames them; the three must differ.
			policy := "/v1/admin/workspaces/" + ws1 + "/bots/" + bot1 + "/policy"
			wantProblem(t, f.do(req{method: "PUT", path: policy, key: adminKey, body: map[string]any{"session_payloads": map[string]any{"start": baton.DefaultSessionEnd}}}),
				http.StatusUnprocessableEntity, baton.EINVALID, "session_payloads")
			wantProblem(t, f.do(req{method: "PUT", path: policy, key: adminKey, body: map[string]any{"session_payloads": map[string]any{"end": "END NOW"}}, offSpec: true}),
				http.StatusUnprocessableEntity, baton.EINVALID, "session_payloads.end")
			must[map[string]any](t, f.do(req{method: "PUT", path: policy, key: adminKey, body: map[string]any{"session_payloads": map[string]any{"start": "HUMAN", "end": "BYE"}}}), http.StatusOK)
			if s := must[wireSaid](t, say("s3", map[string]any{"payload": baton.DefaultSessionStart, "customer": customer}, nil), http.StatusOK); s.Action != "bot" {
				t.Fatalf("the default start after renaming: %+v, want bot", s)
			}
			third := must[wireSaid](t, say("s3", map[string]any{"payload": "HUMAN", "customer": customer}, nil), http.StatusCreated)
			if third.Handoff == nil || third.Handoff.Question != "The customer asked to talk to a person." {
				t.Fatalf("renamed start: %+v", third)
			}
			if s := must[wireSaid](t, say("s3", map[string]any{"payload": "BYE"}, nil), http.StatusOK); s.Action != "ended" {
				t.Fatalf("renamed end: %+v, want ended", s)
			}
		})
	}
}
