package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/batonhq/baton"
)

// waiting is a handoff of desk in its queue, queued at queued.
func waiting(id, ws, desk string, queued time.Time) baton.Handoff {
	return baton.Handoff{ID: id, WorkspaceID: ws, ConversationID: "c-" + id, ExternalID: "ext-" + id, BotID: "b1", DeskID: desk,
		State: baton.Queued, CreatedAt: queued.Add(-time.Second), QueuedAt: queued, WaitingSince: queued, LastMessageAt: queued}
}

func putHandoffs(t *testing.T, s baton.Store, hs ...baton.Handoff) {
	t.Helper()
	do(t, s, func(tx baton.Tx) error {
		for _, h := range hs {
			if err := tx.PutHandoff(h); err != nil {
				return err
			}
		}
		return nil
	})
}

func handoffIDs(hs []baton.Handoff) []string {
	return ids(hs, func(h baton.Handoff) string { return h.ID })
}

// testQueue: a desk's queue holds its queued handoffs no agent has taken,
// in the order they entered it (queued_at, then id), apart from other
// desks' and other states'; a handoff's rank counts those before it.
func testQueue(t *testing.T, s baton.Store) {
	seed(t, s)
	// Entered in this order: q1, then q2a and q2b at the same instant, then q3.
	q1 := waiting("q1", "w1", "d1", at(time.Second))
	q2b := waiting("q2b", "w1", "d1", at(2*time.Second))
	q2a := waiting("q2a", "w1", "d1", at(2*time.Second))
	q3 := waiting("q3", "w1", "d1", at(3*time.Second))
	q3.DeskPosition = 7 // the desk's own figure does not change the order
	taken := waiting("taken", "w1", "d1", at(0))
	taken.Agent, taken.TakenAt = baton.Agent{ID: "ag1", Name: "Ann"}, at(4*time.Second) // claimed, not answered yet
	active := waiting("active", "w1", "d1", at(0))
	active.State, active.ActiveAt, active.TakenAt = baton.Active, at(5*time.Second), at(5*time.Second)
	requested := baton.Handoff{ID: "requested", WorkspaceID: "w1", ConversationID: "c-r", DeskID: "d1", State: baton.Requested}
	ended := waiting("ended", "w1", "d1", at(0))
	ended.State, ended.EndReason, ended.EndedAt = baton.Ended, baton.BotClosed, at(6*time.Second)
	other := waiting("other", "w2", "d2", at(0))
	putHandoffs(t, s, q3, q2b, other, taken, q1, active, requested, ended, q2a)

	want := []baton.Handoff{q1, q2a, q2b, q3}
	do(t, s, func(tx baton.Tx) error {
		got, err := tx.QueuedHandoffs("d1", 0)
		if err != nil {
			return err
		}
		same(t, "the queue of d1", got, want)
		got, err = tx.QueuedHandoffs("d1", 2)
		if err != nil {
			return err
		}
		same(t, "the queue of d1, limit 2", handoffIDs(got), []string{"q1", "q2a"})
		got, err = tx.QueuedHandoffs("d2", 0)
		if err != nil {
			return err
		}
		same(t, "the queue of d2", handoffIDs(got), []string{"other"})
		got, err = tx.QueuedHandoffs("nope", 0)
		same(t, "the queue of an unknown desk", len(got), 0)
		return err
	})
	ranks := func(tx baton.Tx, hs ...baton.Handoff) []int {
		var out []int
		for _, h := range hs {
			n, err := tx.QueuePosition(h)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, n)
		}
		return out
	}
	do(t, s, func(tx baton.Tx) error {
		same(t, "ranks in the queue", ranks(tx, q1, q2a, q2b, q3), []int{1, 2, 3, 4})
		// A handoff out of the queue ranks where it would stand.
		same(t, "ranks of handoffs out of the queue", ranks(tx, taken, ended, other), []int{1, 1, 1})
		same(t, "rank of a newcomer", ranks(tx, waiting("new", "w1", "d1", at(time.Hour))), []int{5})
		return nil
	})
	// The front leaves (an agent takes it), one in the middle ends: the
	// others move up, in the same order.
	q1.Agent, q1.TakenAt = baton.Agent{ID: "ag2", Name: "Bo"}, at(7*time.Second)
	q2a.State, q2a.EndReason, q2a.EndedAt = baton.Ended, baton.CustomerClosed, at(7*time.Second)
	putHandoffs(t, s, q1, q2a)
	do(t, s, func(tx baton.Tx) error {
		got, err := tx.QueuedHandoffs("d1", 0)
		same(t, "the queue after two left", handoffIDs(got), []string{"q2b", "q3"})
		same(t, "ranks after two left", ranks(tx, q2b, q3), []int{1, 2})
		return err
	})
	// Read-only transactions read the queue too.
	if err := s.View(t.Context(), func(tx baton.Tx) error {
		got, err := tx.QueuedHandoffs("d1", 0)
		same(t, "the queue in a view", handoffIDs(got), []string{"q2b", "q3"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

// testRecentWaits: the waits of the handoffs an agent took at or after the
// instant asked for, the latest taken first, at most the limit; a handoff
// nobody took (still queued, or ended waiting) is no wait; other desks'
// waits are theirs.
func testRecentWaits(t *testing.T, s baton.Store) {
	seed(t, s)
	took := func(id, desk string, queued time.Time, wait time.Duration) baton.Handoff {
		h := waiting(id, "w1", desk, queued)
		h.State, h.Agent, h.TakenAt = baton.Active, baton.Agent{ID: "ag1"}, queued.Add(wait)
		h.ActiveAt = h.TakenAt
		return h
	}
	old := took("old", "d1", at(0), 10*time.Second)         // taken at 10 s
	a := took("a", "d1", at(time.Minute), 30*time.Second)   // taken at 1m30
	b := took("b", "d1", at(2*time.Minute), 5*time.Second)  // taken at 2m05
	c := took("c", "d1", at(2*time.Minute), 90*time.Second) // taken at 3m30, ended since
	c.State, c.EndReason, c.EndedAt = baton.Ended, baton.AgentClosed, at(time.Hour)
	elsewhere := took("elsewhere", "d2", at(time.Minute), time.Hour) // another desk
	abandoned := waiting("abandoned", "w1", "d1", at(time.Minute))   // ended with nobody
	abandoned.State, abandoned.EndReason, abandoned.EndedAt = baton.Ended, baton.CustomerClosed, at(10*time.Minute)
	putHandoffs(t, s, old, a, b, c, elsewhere, abandoned, waiting("still", "w1", "d1", at(time.Minute)))

	waits := func(desk string, since time.Time, limit int) []time.Duration {
		var out []time.Duration
		do(t, s, func(tx baton.Tx) (err error) {
			out, err = tx.RecentWaits(desk, since, limit)
			return err
		})
		return out
	}
	same(t, "every wait", waits("d1", time.Time{}, 10), []time.Duration{90 * time.Second, 5 * time.Second, 30 * time.Second, 10 * time.Second})
	same(t, "the latest two", waits("d1", time.Time{}, 2), []time.Duration{90 * time.Second, 5 * time.Second})
	same(t, "taken at or after 1m30", waits("d1", at(90*time.Second), 10), []time.Duration{90 * time.Second, 5 * time.Second, 30 * time.Second})
	same(t, "taken after them all", len(waits("d1", at(time.Hour), 10)), 0)
	same(t, "another desk's", waits("d2", time.Time{}, 10), []time.Duration{time.Hour})
	same(t, "a desk with none", len(waits("d3", time.Time{}, 10)), 0)
}

// testQueueLock: transactions that each lock a desk's queue, read it and
// join it at its end, all at once, each see the ones before: every
// handoff gets a place of its own, 1 to N, none twice. (On PostgreSQL's
// READ COMMITTED, two such transactions without the lock would both read
// the same queue.)
func testQueueLock(t *testing.T, s baton.Store) {
	seed(t, s)
	const n = 12
	concurrently(t, n, func(i int) error {
		return s.Tx(t.Context(), func(tx baton.Tx) error {
			if err := tx.LockQueue("d1"); err != nil {
				return err
			}
			q, err := tx.QueuedHandoffs("d1", 0)
			if err != nil {
				return err
			}
			// Enter behind the last: the place is the queue's length + 1.
			h := waiting(fmt.Sprint("h", i), "w1", "d1", at(time.Duration(len(q)+1)*time.Second))
			h.DeskPosition = len(q) + 1
			return tx.PutHandoff(h)
		})
	})
	do(t, s, func(tx baton.Tx) error {
		q, err := tx.QueuedHandoffs("d1", 0)
		if err != nil {
			return err
		}
		if len(q) != n {
			t.Fatalf("%d handoffs in the queue, want %d", len(q), n)
		}
		for i, h := range q {
			if h.DeskPosition != i+1 {
				t.Fatalf("the handoff at %d read a queue of %d before it: %v", i+1, h.DeskPosition-1, handoffIDs(q))
			}
		}
		return nil
	})
}
