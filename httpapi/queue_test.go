package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestQueueOnTheAPI: on both stores, a queued handoff answers its place
// in its desk's queue wherever the handoff appears (the handoff, the
// conversation, keep-waiting, the inbox), with a null estimate while the
// desk has no wait to go by; the handoffs behind one an agent takes are
// told their new positions (handoff.queue_updated, with an estimate now);
// a claimed or ended handoff has no queue.
func TestQueueOnTheAPI(t *testing.T) {
	t.Parallel()
	for _, store := range stores {
		t.Run(store, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, withStore(store))
			var hs []wireHandoff
			for i := range 3 {
				hs = append(hs, f.queued(fmt.Sprintf("c-queue-%d", i)))
			}
			for i, h := range hs {
				r := f.do(req{method: "GET", path: "/v1/handoffs/" + h.ID, key: key1})
				got := must[wireHandoff](t, r, http.StatusOK)
				if got.Queue == nil || got.Queue.Position != i+1 || !strings.Contains(string(r.body), `"estimated_wait_seconds":null`) {
					t.Fatalf("handoff %d: %s; want position %d and a null estimate", i, r.body, i+1)
				}
			}
			c := must[wireConversation](t, f.do(req{method: "GET", path: "/v1/conversations/c-queue-2", key: key1}), http.StatusOK)
			if len(c.Handoffs) != 1 || c.Handoffs[0].Queue == nil || c.Handoffs[0].Queue.Position != 3 {
				t.Fatalf("conversation %+v", c)
			}
			kept := must[wireHandoff](t, f.do(req{method: "POST", path: "/v1/handoffs/" + hs[1].ID + "/keep-waiting", key: key1}), http.StatusOK)
			if kept.Queue == nil || kept.Queue.Position != 2 {
				t.Fatalf("keep-waiting answered %+v; want its place kept, 2", kept.Queue)
			}
			inbox := must[wireQueue](t, f.do(req{method: "GET", path: "/v1/inbox/handoffs", key: agentKey1}), http.StatusOK)
			if len(inbox.Waiting) != 3 {
				t.Fatalf("the inbox waits for %d", len(inbox.Waiting))
			}
			for _, w := range inbox.Waiting {
				for i, h := range hs {
					if w.ID == h.ID && (w.Queue == nil || w.Queue.Position != i+1) {
						t.Fatalf("the inbox lists %s at %+v, want %d", w.ID, w.Queue, i+1)
					}
				}
			}
			after := f.events(0)[len(f.events(0))-1].Seq

			claimed := must[wireHandoff](t, f.do(req{method: "POST", path: "/v1/inbox/handoffs/" + hs[0].ID + "/claim", key: agentKey1}), http.StatusOK)
			if claimed.Queue != nil {
				t.Fatalf("the claimed handoff answers a queue %+v", claimed.Queue)
			}
			for i, h := range hs[1:] {
				got := f.handoff(h.ID)
				if got.Queue == nil || got.Queue.Position != i+1 || got.Queue.EstimatedWaitSeconds == nil {
					t.Fatalf("after the claim, handoff %d: %+v; want position %d with an estimate", i+1, got.Queue, i+1)
				}
			}
			told := map[string]float64{}
			for _, ev := range f.events(after) {
				if ev.Type != "handoff.queue_updated" {
					continue
				}
				id, _ := ev.Data["handoff_id"].(string)
				told[id], _ = ev.Data["position"].(float64)
				if ev.Data["desk_id"] != inboxDesk || ev.Data["conversation_id"] == nil || ev.Data["state"] != "queued" {
					t.Errorf("event data %+v", ev.Data)
				}
				if _, ok := ev.Data["estimated_wait_seconds"].(float64); !ok {
					t.Errorf("no estimate after the claim: %+v", ev.Data)
				}
			}
			if len(told) != 2 || told[hs[1].ID] != 1 || told[hs[2].ID] != 2 {
				t.Fatalf("told %v; want %s at 1 and %s at 2", told, hs[1].ID, hs[2].ID)
			}

			ended := must[wireHandoff](t, f.do(req{method: "POST", path: "/v1/handoffs/" + hs[1].ID + "/end", key: key1}), http.StatusOK)
			if ended.Queue != nil {
				t.Fatalf("the ended handoff answers a queue %+v", ended.Queue)
			}
			if got := f.handoff(hs[1].ID); got.Queue != nil {
				t.Fatalf("GET of the ended handoff answers a queue %+v", got.Queue)
			}
			if got := f.handoff(hs[2].ID); got.Queue == nil || got.Queue.Position != 1 {
				t.Fatalf("the last one after the end: %+v, want position 1", got.Queue)
			}
		})
	}
}
