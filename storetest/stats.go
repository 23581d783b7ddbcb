package storetest

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/batonhq/baton"
)

// made is a handoff of w1 created at created, queued a second later unless
// never, in state s.
func made(id, ws, desk string, created time.Time, s baton.State, r baton.EndReason) baton.Handoff {
	h := baton.Handoff{ID: id, WorkspaceID: ws, ConversationID: "c-" + id, ExternalID: "ext-" + id, BotID: "b1", DeskID: desk,
		State: s, EndReason: r, CreatedAt: created, QueuedAt: created.Add(time.Second)}
	if s == baton.Ended {
		h.EndedAt = created.Add(time.Hour)
	}
	return h
}

// testHandoffCounts: the handoffs created in the range, and only the
// workspace's, are counted by bucket, end reason, queued and taken.
func testHandoffCounts(t *testing.T, s baton.Store) {
	seed(t, s)
	taken := made("taken", "w1", "d1", at(10*time.Minute), baton.Ended, baton.AgentClosed)
	taken.TakenAt, taken.ActiveAt = taken.QueuedAt.Add(time.Minute), taken.QueuedAt.Add(time.Minute)
	unqueued := made("unqueued", "w1", "d2", at(179*time.Minute), baton.Ended, baton.OutOfHours)
	unqueued.QueuedAt = time.Time{}
	putHandoffs(t, s, taken, unqueued,
		made("left1", "w1", "d1", at(20*time.Minute), baton.Ended, baton.CustomerClosed),
		made("left2", "w1", "d1", at(30*time.Minute), baton.Ended, baton.CustomerClosed),
		made("open", "w1", "d2", at(time.Hour), baton.Queued, ""), // the first instant of bucket 1
		made("before", "w1", "d1", at(-time.Microsecond), baton.Queued, ""),
		made("after", "w1", "d1", at(3*time.Hour), baton.Queued, ""),
		made("other", "w2", "d9", at(10*time.Minute), baton.Queued, ""),
	)
	counts := func(q baton.StatsQuery) []baton.HandoffCount {
		var out []baton.HandoffCount
		do(t, s, func(tx baton.Tx) (err error) {
			out, err = tx.HandoffCounts(q)
			return err
		})
		return out
	}
	q := baton.StatsQuery{WorkspaceID: "w1", From: at(0), To: at(3 * time.Hour), Bucket: time.Hour}
	same(t, "every desk", counts(q), []baton.HandoffCount{
		{Bucket: 0, EndReason: baton.AgentClosed, Queued: true, Taken: true, N: 1},
		{Bucket: 0, EndReason: baton.CustomerClosed, Queued: true, N: 2},
		{Bucket: 1, EndReason: "", Queued: true, N: 1},
		{Bucket: 2, EndReason: baton.OutOfHours, N: 1},
	})
	q.DeskID = "d2"
	same(t, "desk d2", counts(q), []baton.HandoffCount{
		{Bucket: 1, EndReason: "", Queued: true, N: 1},
		{Bucket: 2, EndReason: baton.OutOfHours, N: 1},
	})
	q.DeskID, q.Bucket = "", 3*time.Hour
	same(t, "one bucket", len(counts(q)), 4)
	same(t, "another workspace", counts(baton.StatsQuery{WorkspaceID: "w2", From: at(0), To: at(time.Hour), Bucket: time.Hour}),
		[]baton.HandoffCount{{Bucket: 0, Queued: true, N: 1}})
	same(t, "an empty range", len(counts(baton.StatsQuery{WorkspaceID: "w1", From: at(4 * time.Hour), To: at(5 * time.Hour), Bucket: time.Hour})), 0)
	wantCode(t, s, baton.EINVALID, func(tx baton.Tx) error {
		_, err := tx.HandoffCounts(baton.StatsQuery{WorkspaceID: "w1", From: at(0), To: at(time.Hour)})
		return err
	})
}

// testReplyTimes: the percentiles are the nearest-rank times from queue
// to first agent reply of the handoffs created in the range that had one.
func testReplyTimes(t *testing.T, s baton.Store) {
	seed(t, s)
	var hs []baton.Handoff
	for i := 1; i <= 10; i++ { // 1 to 10 minutes, created in reverse order
		h := made("r"+string(rune('a'+i)), "w1", "d1", at(time.Duration(11-i)*time.Minute), baton.Active, "")
		h.ActiveAt = h.QueuedAt.Add(time.Duration(i) * time.Minute)
		hs = append(hs, h)
	}
	slow := made("slow", "w1", "d2", at(time.Minute), baton.Ended, baton.AgentClosed)
	slow.ActiveAt = slow.QueuedAt.Add(time.Hour)
	late := made("late", "w1", "d1", at(2*time.Hour), baton.Active, "") // created after the range
	late.ActiveAt = late.QueuedAt.Add(time.Second)
	other := made("other", "w2", "d9", at(time.Minute), baton.Active, "")
	other.ActiveAt = other.QueuedAt.Add(time.Second)
	putHandoffs(t, s, append(hs, slow, late, other, made("unanswered", "w1", "d1", at(time.Minute), baton.Queued, ""))...)

	times := func(q baton.StatsQuery, fs ...float64) baton.ReplyTimes {
		var out baton.ReplyTimes
		do(t, s, func(tx baton.Tx) (err error) {
			out, err = tx.ReplyTimes(q, fs...)
			return err
		})
		return out
	}
	q := baton.StatsQuery{WorkspaceID: "w1", DeskID: "d1", From: at(0), To: at(time.Hour), Bucket: time.Hour}
	same(t, "desk d1", times(q, 0.5, 0.9, 0.95, 1), baton.ReplyTimes{N: 10,
		Percentiles: []time.Duration{5 * time.Minute, 9 * time.Minute, 10 * time.Minute, 10 * time.Minute}})
	same(t, "the smallest fraction", times(q, 0.01), baton.ReplyTimes{N: 10, Percentiles: []time.Duration{time.Minute}})
	q.DeskID = ""
	same(t, "every desk", times(q, 0.5, 0.9, 1), baton.ReplyTimes{N: 11,
		Percentiles: []time.Duration{6 * time.Minute, 10 * time.Minute, time.Hour}})
	same(t, "another workspace", times(baton.StatsQuery{WorkspaceID: "w2", From: at(0), To: at(time.Hour)}, 0.5),
		baton.ReplyTimes{N: 1, Percentiles: []time.Duration{time.Second}})
	same(t, "none", times(baton.StatsQuery{WorkspaceID: "w1", From: at(3 * time.Hour), To: at(4 * time.Hour)}, 0.5), baton.ReplyTimes{})
	for _, f := range []float64{0, -0.5, 1.5} {
		wantCode(t, s, baton.EINVALID, func(tx baton.Tx) error {
			_, err := tx.ReplyTimes(q, f)
			return err
		})
	}
}

// testDeskHistory: a change of a desk's status and a failed call are in
// its history, each desk's read in its own workspace only, and the
// history older than DeskHistoryKept goes as new rows come, but for each
// desk's latest status.
func testDeskHistory(t *testing.T, s baton.Store) {
	seed(t, s)
	do(t, s, func(tx baton.Tx) error {
		for _, d := range []baton.DeskConfig{{ID: "d1", WorkspaceID: "w1"}, {ID: "d3", WorkspaceID: "w1"}, {ID: "d2", WorkspaceID: "w2"}} {
			if err := tx.PutDesk(d); err != nil {
				return err
			}
		}
		return nil
	})
	for _, st := range []baton.DeskState{
		{DeskID: "d1", Status: baton.Available, CheckedAt: at(0)},
		{DeskID: "d1", Status: baton.Available, LastError: "", CheckedAt: at(time.Hour)}, // no change
		{DeskID: "d1", Status: baton.Unavailable, LastError: "502 from desk", CheckedAt: at(2 * time.Hour)},
		{DeskID: "d1", Status: baton.Unavailable, LastError: "timeout", CheckedAt: at(3 * time.Hour)}, // the same status
		{DeskID: "d1", Status: baton.Available, CheckedAt: at(5 * time.Hour)},
		{DeskID: "d3", Status: baton.NotConfigured, CheckedAt: at(time.Hour)}, // what an unset status is
		{DeskID: "d2", Status: baton.Unavailable, LastError: "401", CheckedAt: at(2 * time.Hour)},
	} {
		do(t, s, func(tx baton.Tx) error { return tx.SetDeskStatus(st) })
	}
	wantCode(t, s, baton.ENOTFOUND, func(tx baton.Tx) error {
		return tx.SetDeskStatus(baton.DeskState{DeskID: "nope", Status: baton.Available, CheckedAt: at(0)})
	})
	for _, f := range []baton.DeskFailure{
		{WorkspaceID: "w1", DeskID: "d1", Op: "send", Error: "502 from desk", At: at(2 * time.Hour)},
		{WorkspaceID: "w1", DeskID: "d1", Op: "send", Error: "timeout\x00 \xff", At: at(150 * time.Minute)}, // stored cleaned
		{WorkspaceID: "w1", DeskID: "d1", Op: "open", Error: strings.Repeat("é", 400), At: at(190 * time.Minute)},
		{WorkspaceID: "w2", DeskID: "d2", Op: "open", Error: "401", At: at(2 * time.Hour)},
	} {
		do(t, s, func(tx baton.Tx) error { return tx.AddDeskFailure(f) })
	}
	changes := func(q baton.StatsQuery) []baton.DeskChange {
		var out []baton.DeskChange
		do(t, s, func(tx baton.Tx) (err error) {
			out, err = tx.DeskChanges(q)
			return err
		})
		return out
	}
	failures := func(q baton.StatsQuery) []baton.DeskCount {
		var out []baton.DeskCount
		do(t, s, func(tx baton.Tx) (err error) {
			out, err = tx.DeskFailures(q)
			return err
		})
		return out
	}
	w1 := func(from, to time.Duration) baton.StatsQuery {
		return baton.StatsQuery{WorkspaceID: "w1", From: at(from), To: at(to), Bucket: time.Hour}
	}
	same(t, "changes from 1h30", changes(w1(90*time.Minute, 6*time.Hour)), []baton.DeskChange{
		{DeskID: "d1", Status: baton.Available, At: at(0)},
		{DeskID: "d1", Status: baton.Unavailable, Error: "502 from desk", At: at(2 * time.Hour)},
		{DeskID: "d1", Status: baton.Available, At: at(5 * time.Hour)},
	})
	same(t, "changes of the first hour", changes(w1(-time.Hour, time.Hour)), []baton.DeskChange{{DeskID: "d1", Status: baton.Available, At: at(0)}})
	same(t, "changes after them all", changes(w1(6*time.Hour, 7*time.Hour)), []baton.DeskChange{{DeskID: "d1", Status: baton.Available, At: at(5 * time.Hour)}})
	same(t, "changes before them all", len(changes(w1(-2*time.Hour, -time.Hour))), 0)
	q := w1(0, 6*time.Hour)
	q.DeskID = "d2"
	same(t, "another workspace's desk", len(changes(q)), 0)
	same(t, "changes in w2", changes(baton.StatsQuery{WorkspaceID: "w2", From: at(0), To: at(6 * time.Hour)}),
		[]baton.DeskChange{{DeskID: "d2", Status: baton.Unavailable, Error: "401", At: at(2 * time.Hour)}})

	same(t, "failures from 2h", failures(w1(2*time.Hour, 4*time.Hour)), []baton.DeskCount{{DeskID: "d1", Bucket: 0, N: 2}, {DeskID: "d1", Bucket: 1, N: 1}})
	same(t, "failures of another workspace's desk", len(failures(q)), 0)
	same(t, "failures in w2", failures(baton.StatsQuery{WorkspaceID: "w2", From: at(0), To: at(6 * time.Hour), Bucket: 6 * time.Hour}),
		[]baton.DeskCount{{DeskID: "d2", Bucket: 0, N: 1}})
	wantCode(t, s, baton.EINVALID, func(tx baton.Tx) error {
		_, err := tx.DeskFailures(baton.StatsQuery{WorkspaceID: "w1", From: at(0), To: at(time.Hour)})
		return err
	})

	// An error is kept in whole characters, at most 500 bytes of them.
	do(t, s, func(tx baton.Tx) error {
		return tx.SetDeskStatus(baton.DeskState{DeskID: "d3", Status: baton.Unavailable, LastError: strings.Repeat("é", 400), CheckedAt: at(4 * time.Hour)})
	})
	got := changes(baton.StatsQuery{WorkspaceID: "w1", DeskID: "d3", From: at(0), To: at(5 * time.Hour)})
	if len(got) != 1 || len(got[0].Error) != 500 || !utf8.ValidString(got[0].Error) {
		t.Fatalf("a long error: %+v, want 250 é", got)
	}

	// 90 days after 3h10, a failure prunes what is older than 90 days but
	// d1's status then (unavailable since 2h); another desk's history stays.
	later := at(190*time.Minute + baton.DeskHistoryKept + time.Second)
	do(t, s, func(tx baton.Tx) error {
		return tx.AddDeskFailure(baton.DeskFailure{WorkspaceID: "w1", DeskID: "d1", Op: "send", Error: "502", At: later})
	})
	long := baton.StatsQuery{WorkspaceID: "w1", DeskID: "d1", From: at(-time.Hour), To: later.Add(time.Hour), Bucket: 24 * time.Hour}
	same(t, "failures kept", failures(long), []baton.DeskCount{{DeskID: "d1", Bucket: 90, N: 1}})
	same(t, "changes kept", changes(long), []baton.DeskChange{
		{DeskID: "d1", Status: baton.Unavailable, Error: "502 from desk", At: at(2 * time.Hour)},
		{DeskID: "d1", Status: baton.Available, At: at(5 * time.Hour)},
	})
	same(t, "another desk's failures", failures(baton.StatsQuery{WorkspaceID: "w2", From: at(0), To: at(6 * time.Hour), Bucket: time.Hour}),
		[]baton.DeskCount{{DeskID: "d2", Bucket: 2, N: 1}})
}
