package engine_test

import (
	"context"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/engine"
)

// TestAvailabilityStaffing, in virtual time on both stores: the inbox
// counts its agents seen lately as online, the queue's length is the
// handoffs waiting, and the estimate is the wait a handoff asked for now
// would have; a desk that cannot tell its agents gives no figure.
func TestAvailabilityStaffing(t *testing.T) {
	t.Parallel()
	eachOpener(t, func(t *testing.T, open func(*testing.T) baton.Store) {
		synctest.Test(t, func(t *testing.T) {
			long := baton.Duration(30 * 24 * time.Hour)
			s := newStackOn(t, open(t), nil, &baton.Policy{WaitTimeout: long, IdleExpiry: long})
			ctx := context.Background()
			avail := func(desk string) engine.Availability {
				t.Helper()
				a, err := s.eng.Availability(ctx, s.ws, engine.DeskQuery{DeskID: desk}, time.Time{})
				if err != nil {
					t.Fatal(err)
				}
				return a
			}
			if a := avail(""); !a.AgentsKnown || a.AgentsOnline != 0 || a.QueueLength != 0 || a.Estimated {
				t.Fatalf("at first: %+v, want no agent online, nobody queued, no estimate", a)
			}
			if _, err := s.eng.AuthenticateAgent(ctx, "ana-key"); err != nil {
				t.Fatal(err)
			}
			if a := avail(""); a.AgentsOnline != 1 {
				t.Fatalf("after Ana used her key: %d online, want 1", a.AgentsOnline)
			}
			var hs []baton.Handoff
			for i := range 3 {
				hs = append(hs, s.create(t, fmt.Sprint("a", i)))
			}
			s.drain(t)
			if a := avail(""); a.QueueLength != 3 || a.Estimated {
				t.Fatalf("three queued: %+v, want a queue of 3 and no estimate", a)
			}
			time.Sleep(30 * time.Second)
			hs = s.inQueueOrder(t, hs)
			if _, err := s.eng.Claim(ctx, s.ana, hs[0].ID); err != nil {
				t.Fatal(err)
			}
			// Two wait; one asked for now would be third, 3 × 30 s.
			if a := avail(""); a.QueueLength != 2 || !a.Estimated || a.Wait != 90*time.Second {
				t.Fatalf("after a wait of 30 s: %+v, want a queue of 2 and 90 s", a)
			}
			time.Sleep(baton.OnlineWindow + time.Minute)
			if a := avail(""); a.AgentsOnline != 0 {
				t.Fatalf("Ana unseen for %v: %d online, want 0", baton.OnlineWindow+time.Minute, a.AgentsOnline)
			}
			err := s.store.Tx(ctx, func(tx baton.Tx) error {
				return tx.PutDesk(baton.DeskConfig{ID: "hook", WorkspaceID: s.ws, Name: "Hook", Kind: baton.KindWebhook})
			})
			if err != nil {
				t.Fatal(err)
			}
			if a := avail("hook"); a.AgentsKnown || a.QueueLength != 0 {
				t.Fatalf("a webhook desk: %+v, want no agent figure and an empty queue", a)
			}
		})
	})
}
