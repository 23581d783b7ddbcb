package storetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/batonhq/baton"
)

// events adds events of bot in ws, with ids as given, and returns them.
func events(t *testing.T, s baton.Store, ws, bot string, ids ...string) []baton.Event {
	t.Helper()
	var out []baton.Event
	do(t, s, func(tx baton.Tx) error {
		for i, id := range ids {
			e := baton.Event{ID: id, WorkspaceID: ws, BotID: bot, Type: baton.EventAgentMessage, HandoffID: "h1",
				ExternalID: "ext", CreatedAt: at(time.Duration(i) * time.Second)}
			if err := tx.AddEvent(&e); err != nil {
				return err
			}
			out = append(out, e)
		}
		return nil
	})
	return out
}

// attempt is an attempt at posting ev, answered code, at t0 plus d.
func attempt(ev baton.Event, code int, d time.Duration) baton.DeliveryAttempt {
	a := baton.DeliveryAttempt{EventID: ev.ID, WorkspaceID: ev.WorkspaceID, BotID: ev.BotID, At: at(d), StatusCode: code,
		Duration: 1234567 * time.Microsecond}
	if code/100 != 2 {
		a.Error = fmt.Sprintf("bot webhook answered %d", code)
	}
	if code == 0 {
		a.Error = "dial tcp 127.0.0.1:9: connect: connection refused"
	}
	return a
}

// record adds attempts, each in its own transaction.
func record(t *testing.T, s baton.Store, as ...baton.DeliveryAttempt) {
	t.Helper()
	for _, a := range as {
		do(t, s, func(tx baton.Tx) error { return tx.AddAttempt(a) })
	}
}

// deliveries reads a page of deliveries from a read-only transaction.
func deliveries(t *testing.T, s baton.Store, p baton.DeliveryPage) []baton.Delivery {
	t.Helper()
	var ds []baton.Delivery
	err := s.View(context.Background(), func(tx baton.Tx) (err error) {
		ds, err = tx.Deliveries(p)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// delivery is what Deliveries answers for ev.
func delivery(ev baton.Event, st baton.DeliveryStatus, next time.Time, as ...baton.DeliveryAttempt) baton.Delivery {
	if as == nil {
		as = []baton.DeliveryAttempt{}
	}
	return baton.Delivery{EventID: ev.ID, Type: ev.Type, Seq: ev.Seq, CreatedAt: ev.CreatedAt, Status: st, Attempts: as, NextRetryAt: next}
}

// eventJob is a delivery job of ev due at t0 plus d.
func eventJob(ev baton.Event, d time.Duration) baton.Job {
	j := baton.EventJob(ev, "conv-"+ev.ID)
	j.RunAt = at(d)
	return j
}

// testDeliveries: each status as its rule says, the attempts of each event
// in order with every field kept, the next retry from the earliest pending
// job, pages, and nothing of another bot or workspace.
func testDeliveries(t *testing.T, s baton.Store) {
	seed(t, s)
	b1 := events(t, s, "w1", "b1", "stream", "first", "ok-later")
	// Another bot's event between b1's, with attempts and a job, and an
	// event in another workspace under the same bot id.
	other := events(t, s, "w1", "b2", "b2-event")[0]
	b1 = append(b1, events(t, s, "w1", "b1", "failed", "redeliver", "twice")...)
	elsewhere := events(t, s, "w2", "b1", "w2-event")[0]
	stream, first, okLater, failed, redeliver, twice := b1[0], b1[1], b1[2], b1[3], b1[4], b1[5]

	put(t, s, eventJob(first, time.Minute), eventJob(redeliver, 2*time.Minute),
		eventJob(twice, 5*time.Minute), eventJob(twice, 3*time.Minute),
		eventJob(other, time.Minute), eventJob(elsewhere, time.Minute),
		baton.Job{Kind: baton.JobTimer, Key: "timer:h1", RunAt: t0}) // a job of no event
	okLaterAs := []baton.DeliveryAttempt{attempt(okLater, 503, 0), attempt(okLater, 0, 5*time.Second), attempt(okLater, 204, 10*time.Second)}
	failedAs := []baton.DeliveryAttempt{attempt(failed, 500, 0), attempt(failed, 410, time.Second)}
	redeliverAs := []baton.DeliveryAttempt{attempt(redeliver, 200, 0)}
	record(t, s, okLaterAs[0], failedAs[0], okLaterAs[1], redeliverAs[0], failedAs[1], okLaterAs[2],
		attempt(other, 500, 0), attempt(elsewhere, 500, 0))

	want := []baton.Delivery{
		delivery(stream, baton.DeliveryStream, time.Time{}),
		delivery(first, baton.DeliveryPending, at(time.Minute)),
		delivery(okLater, baton.DeliveryDelivered, time.Time{}, okLaterAs...),
		delivery(failed, baton.DeliveryFailed, time.Time{}, failedAs...),
		delivery(redeliver, baton.DeliveryPending, at(2*time.Minute), redeliverAs...),
		delivery(twice, baton.DeliveryPending, at(3*time.Minute)),
	}
	same(t, "all deliveries", deliveries(t, s, baton.DeliveryPage{WorkspaceID: "w1", BotID: "b1"}), want)
	same(t, "after the second, two", deliveries(t, s, baton.DeliveryPage{WorkspaceID: "w1", BotID: "b1", After: first.Seq, Limit: 2}), want[2:4])
	same(t, "one from the fourth", deliveries(t, s, baton.DeliveryPage{WorkspaceID: "w1", BotID: "b1", After: okLater.Seq, Limit: 1}), want[3:4])
	same(t, "after the last", deliveries(t, s, baton.DeliveryPage{WorkspaceID: "w1", BotID: "b1", After: twice.Seq}), []baton.Delivery(nil))
	same(t, "the other bot's", deliveries(t, s, baton.DeliveryPage{WorkspaceID: "w1", BotID: "b2"}),
		[]baton.Delivery{delivery(other, baton.DeliveryPending, at(time.Minute), attempt(other, 500, 0))})
	same(t, "the other workspace's", deliveries(t, s, baton.DeliveryPage{WorkspaceID: "w2", BotID: "b1"}),
		[]baton.Delivery{delivery(elsewhere, baton.DeliveryPending, at(time.Minute), attempt(elsewhere, 500, 0))})
	same(t, "an unknown bot's", deliveries(t, s, baton.DeliveryPage{WorkspaceID: "w1", BotID: "nobody"}), []baton.Delivery(nil))

	// The jobs finish: first's with no attempt (the bot lost its webhook),
	// redeliver's after a failed attempt recorded in the same transaction,
	// and one of twice's. A job that is claimed still counts as pending.
	js := claim(t, s, at(time.Hour), 10, time.Minute)
	do(t, s, func(tx baton.Tx) error {
		for _, j := range js {
			switch j.EventID {
			case redeliver.ID:
				if err := tx.AddAttempt(attempt(redeliver, 502, time.Hour)); err != nil {
					return err
				}
			case first.ID:
			default:
				continue
			}
			if err := tx.FinishJob(j.ID); err != nil {
				return err
			}
		}
		return nil
	})
	got := deliveries(t, s, baton.DeliveryPage{WorkspaceID: "w1", BotID: "b1", After: stream.Seq})
	same(t, "first, once its job finished", got[0], delivery(first, baton.DeliveryStream, time.Time{}))
	same(t, "redeliver, once it failed", got[3], delivery(redeliver, baton.DeliveryFailed, time.Time{}, redeliverAs[0], attempt(redeliver, 502, time.Hour)))
	if got[4].Status != baton.DeliveryPending {
		t.Errorf("twice, its jobs claimed: %s, want pending", got[4].Status)
	}
}

// testDeliveryAttemptsKept: an event keeps its newest AttemptsKept attempts,
// in order, whether the attempts say which they are (Nth, as the outbox's
// do) or not; another event's are left alone.
func testDeliveryAttemptsKept(t *testing.T, s baton.Store) {
	seed(t, s)
	evs := events(t, s, "w1", "b1", "many", "few")
	n := baton.AttemptsKept + 7
	var many []baton.DeliveryAttempt
	for i := range n {
		many = append(many, attempt(evs[0], 500+i, time.Duration(i)*time.Second))
	}
	numbered := slices.Clone(many) // the log does not keep Nth
	for i := range numbered {
		numbered[i].Nth = i + 1
	}
	few := []baton.DeliveryAttempt{attempt(evs[1], 503, 0), attempt(evs[1], 503, time.Second)}
	record(t, s, few[0])
	record(t, s, numbered...)
	record(t, s, few[1])
	got := deliveries(t, s, baton.DeliveryPage{WorkspaceID: "w1", BotID: "b1"})
	same(t, "attempts of the busy event", got[0].Attempts, many[n-baton.AttemptsKept:])
	same(t, "attempts of the other", got[1].Attempts, few)
	var rows int
	if err := rawDB(t, s).QueryRow(`SELECT count(*) FROM delivery_attempts`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != baton.AttemptsKept+len(few) {
		t.Errorf("%d attempt rows stored, want %d", rows, baton.AttemptsKept+len(few))
	}
}

// testDeliveryAttemptsConcurrent: attempts recorded at once for one event
// (which the outbox does not do: an event's jobs share a lane) are all
// recorded or trimmed, and a read never lists more than AttemptsKept.
func testDeliveryAttemptsConcurrent(t *testing.T, s baton.Store) {
	seed(t, s)
	ev := events(t, s, "w1", "b1", "busy")[0]
	const writers, each = 8, 10
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				a := attempt(ev, 500, time.Duration(w*each+i)*time.Millisecond)
				if err := s.Tx(context.Background(), func(tx baton.Tx) error { return tx.AddAttempt(a) }); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	got := deliveries(t, s, baton.DeliveryPage{WorkspaceID: "w1", BotID: "b1"})
	if n := len(got[0].Attempts); n != baton.AttemptsKept {
		t.Errorf("%d attempts listed after %d, want %d", n, writers*each, baton.AttemptsKept)
	}
	// One more, alone, trims the table to the bound again.
	record(t, s, attempt(ev, 200, time.Hour))
	var rows int
	if err := rawDB(t, s).QueryRow(`SELECT count(*) FROM delivery_attempts`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != baton.AttemptsKept {
		t.Errorf("%d attempt rows stored, want %d", rows, baton.AttemptsKept)
	}
}

// testDeliveryAttemptNoEvent: an attempt for an event that is not there is
// not recorded and does not spoil the transaction it is made in (the
// outbox's, which records other jobs' outcomes too); one with text that
// cannot be stored is refused.
func testDeliveryAttemptNoEvent(t *testing.T, s baton.Store) {
	seed(t, s)
	ev := events(t, s, "w1", "b1", "real")[0]
	ghost := baton.Event{ID: "ghost", WorkspaceID: "w1", BotID: "b1"}
	do(t, s, func(tx baton.Tx) error {
		if err := tx.AddAttempt(attempt(ghost, 200, 0)); err != nil {
			return err
		}
		return tx.AddAttempt(attempt(ev, 200, time.Second)) // the transaction goes on
	})
	same(t, "deliveries", deliveries(t, s, baton.DeliveryPage{WorkspaceID: "w1", BotID: "b1"}),
		[]baton.Delivery{delivery(ev, baton.DeliveryDelivered, time.Time{}, attempt(ev, 200, time.Second))})
	var rows int
	if err := rawDB(t, s).QueryRow(`SELECT count(*) FROM delivery_attempts`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != 1 {
		t.Errorf("%d attempt rows stored, want 1", rows)
	}
	for _, bad := range []string{"nul\x00inside", "bad utf-8 \xff\xfe"} {
		a := attempt(ev, 0, 0)
		a.Error = bad
		wantCode(t, s, baton.EINVALID, func(tx baton.Tx) error { return tx.AddAttempt(a) })
	}
}
