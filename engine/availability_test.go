package engine_test

import (
	"context"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/engine"
	"github.com/batonhq/baton/outbox"
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
			if a := avail(""); !a.AgentsKnown || a.AgentsOnline != 0 || !a.AcceptingKnown || a.Accepting || a.QueueLength != 0 || a.Estimated {
				t.Fatalf("at first: %+v, want no agent online, nobody queued, no estimate", a)
			}
			if _, err := s.eng.AuthenticateAgent(ctx, "ana-key"); err != nil {
				t.Fatal(err)
			}
			if a := avail(""); a.AgentsOnline != 1 || !a.Accepting {
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
			if a := avail("hook"); a.AgentsKnown || a.AcceptingKnown || a.QueueLength != 0 {
				t.Fatalf("a webhook desk: %+v, want no agent figure and an empty queue", a)
			}
		})
	})
}

// staffedDesk says whether someone takes handoffs, or never answers.
type staffedDesk struct {
	quickDesk
	accepting, hang bool
}

func (d *staffedDesk) Accepting(ctx context.Context) (bool, error) {
	if d.hang {
		<-ctx.Done()
		return false, ctx.Err()
	}
	return d.accepting, nil
}

// TestAvailabilityAccepting, in virtual time: a desk that can tell
// whether someone takes handoffs says so; one that does not answer within
// baton.StaffedTimeout leaves it unknown, and the read still answers.
func TestAvailabilityAccepting(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		s := newStack(t, dir, nil)
		desks := map[string]*staffedDesk{"open": {accepting: true}, "closed": {}, "silent": {hang: true}}
		s.eng = newNode(s.store, func(dc baton.DeskConfig) (baton.Desk, error) { return desks[dc.ID], nil }, outbox.Config{})
		err := s.store.Tx(context.Background(), func(tx baton.Tx) error {
			for id := range desks {
				if err := tx.PutDesk(baton.DeskConfig{ID: id, WorkspaceID: s.ws, Name: id, Kind: baton.KindLiveChat}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for id, want := range map[string][2]bool{"open": {true, true}, "closed": {false, true}, "silent": {false, false}} {
			start := time.Now()
			a, err := s.eng.Availability(context.Background(), s.ws, engine.DeskQuery{DeskID: id}, time.Time{})
			if err != nil || a.Accepting != want[0] || a.AcceptingKnown != want[1] || a.AgentsKnown {
				t.Errorf("%s: %+v, %v; want accepting %v known %v, no agent figure", id, a, err, want[0], want[1])
			}
			if d := time.Since(start); d > baton.StaffedTimeout {
				t.Errorf("%s: the read took %v, more than %v", id, d, baton.StaffedTimeout)
			}
		}
	})
}
