package httpapi_test

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/batonhq/baton"
)

// TestTypingAndRead: the customer's typing is kept for the agent, the
// agent's typing and reading reach the bot as events, at most one typing
// event per few seconds and one read event per new customer message; only
// the agent holding the handoff may say either, and nobody once it ended.
func TestTypingAndRead(t *testing.T) {
	t.Parallel()
	for _, store := range stores {
		t.Run(store, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, withStore(store))
			h := f.waitState(f.create("c-typing").ID, "queued")
			ada := func(path string) res {
				return f.do(req{method: "POST", path: "/v1/inbox/handoffs/" + h.ID + path, key: agentKey1})
			}
			count := func(typ string) int {
				n := 0
				for _, e := range f.events(0) {
					if e.Type == typ {
						n++
					}
				}
				return n
			}

			// The customer types; the agent's view of the handoff has it.
			for range 3 {
				if r := f.do(req{method: "POST", path: "/v1/handoffs/" + h.ID + "/typing", key: key1}); r.status != http.StatusNoContent {
					t.Fatalf("customer typing: %d %s", r.status, r.body)
				}
			}
			if got, _ := f.eng.Handoff(t.Context(), ws1, h.ID); time.Since(got.CustomerTypingAt) > time.Minute {
				t.Errorf("the customer's typing was not kept: %v", got.CustomerTypingAt)
			}
			wantProblem(t, f.do(req{method: "POST", path: "/v1/handoffs/" + h.ID + "/typing", key: key2}), http.StatusNotFound, baton.ENOTFOUND, "")

			// Before claiming, the agent may say neither.
			wantProblem(t, ada("/typing"), http.StatusConflict, baton.ECONFLICT, "")
			must[wireHandoff](t, ada("/claim"), http.StatusOK)
			wantProblem(t, f.do(req{method: "POST", path: "/v1/inbox/handoffs/" + h.ID + "/typing", key: agentKey2}), http.StatusConflict, baton.ECONFLICT, "")
			wantProblem(t, f.do(req{method: "POST", path: "/v1/inbox/handoffs/" + h.ID + "/read", key: agentKeyOther}), http.StatusNotFound, baton.ENOTFOUND, "")

			// Typing three times at once is one event; reading the question
			// is one, reading again with nothing new none.
			for range 3 {
				if r := ada("/typing"); r.status != http.StatusNoContent {
					t.Fatalf("agent typing: %d %s", r.status, r.body)
				}
			}
			for range 2 {
				if r := ada("/read"); r.status != http.StatusNoContent {
					t.Fatalf("agent read: %d %s", r.status, r.body)
				}
			}
			if n, m := count(baton.EventAgentTyping), count(baton.EventAgentRead); n != 1 || m != 1 {
				t.Fatalf("%d typing and %d read events, want 1 and 1", n, m)
			}
			var typing wireEvent
			for _, e := range f.events(0) {
				if e.Type == baton.EventAgentTyping {
					typing = e
				}
			}
			until, err := time.Parse(time.RFC3339Nano, typing.Data["until"].(string))
			if err != nil || (until.Sub(typing.Timestamp)-6*time.Second).Abs() > 100*time.Millisecond || typing.Data["agent"].(map[string]any)["name"] != agentAdaName {
				t.Errorf("typing event %+v (%v): want until 6 s after it, by Ada", typing.Data, err)
			}

			// A new customer message is read once more.
			must[map[string]any](t, f.do(req{method: "POST", path: "/v1/handoffs/" + h.ID + "/messages", key: key1, body: map[string]any{"text": "Still there?"}}), http.StatusCreated)
			ada("/read")
			ada("/read")
			if m := count(baton.EventAgentRead); m != 2 {
				t.Errorf("%d read events after a new message, want 2", m)
			}
			// The events are in the conversation's order, as the bot gets them.
			var types []string
			for _, e := range f.events(0) {
				types = append(types, e.Type)
			}
			if i, j := slices.Index(types, baton.EventAgentJoined), slices.Index(types, baton.EventAgentTyping); i < 0 || j < i {
				t.Errorf("events %v: typing before the join", types)
			}

			must[wireHandoff](t, ada("/end"), http.StatusOK)
			wantProblem(t, ada("/typing"), http.StatusConflict, baton.ECONFLICT, "")
			wantProblem(t, f.do(req{method: "POST", path: "/v1/handoffs/" + h.ID + "/typing", key: key1}), http.StatusConflict, baton.ECONFLICT, "")
		})
	}
}
