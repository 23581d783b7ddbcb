package engine_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/engine"
)

// dashStart is the start of the seeded dashboard's range.
var dashStart = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

// seedDashboard puts nine handoffs in the first four hours from dashStart
// (and two that do not count), a second desk, and the first desk's
// history: down from 1h30 to 2h30, with three failed calls.
func seedDashboard(t *testing.T, s *stack) {
	t.Helper()
	at := func(d time.Duration) time.Time { return dashStart.Add(d) }
	n := 0
	h := func(desk string, created time.Duration, st baton.State, r baton.EndReason, queued, taken bool, reply time.Duration) baton.Handoff {
		n++
		x := baton.Handoff{ID: "h" + string(rune('a'+n)), WorkspaceID: s.ws, ConversationID: "c", BotID: s.bot, DeskID: desk,
			State: st, EndReason: r, CreatedAt: at(created)}
		if queued {
			x.QueuedAt = x.CreatedAt.Add(time.Second)
		}
		if taken {
			x.TakenAt = x.QueuedAt.Add(time.Second)
		}
		if reply > 0 {
			x.ActiveAt = x.QueuedAt.Add(reply)
		}
		if st == baton.Ended {
			x.EndedAt = x.CreatedAt.Add(time.Hour)
		}
		return x
	}
	hs := []baton.Handoff{
		// 00:00–01:00
		h(s.desk, 5*time.Minute, baton.Ended, baton.AgentClosed, true, true, 2*time.Minute),
		h(s.desk, 10*time.Minute, baton.Ended, baton.CustomerClosed, true, false, 0), // abandoned
		h(s.desk, 15*time.Minute, baton.Ended, baton.CustomerClosed, true, true, 4*time.Minute),
		// 01:00–02:00
		h(s.desk, time.Hour, baton.Ended, baton.WaitTimeout, true, false, 0), // timed out
		h("desk2", 70*time.Minute, baton.Active, "", true, true, 6*time.Minute),
		h(s.desk, 80*time.Minute, baton.Ended, baton.CustomerClosed, false, false, 0), // left before the queue
		// 03:00–04:00
		h(s.desk, 3*time.Hour, baton.Ended, baton.OutOfHours, false, false, 0),
		h("desk2", 200*time.Minute, baton.Ended, baton.CustomerClosed, true, false, 0), // abandoned
		h(s.desk, 239*time.Minute, baton.Ended, baton.AgentClosed, true, true, 10*time.Minute),
		// not counted: before the range, and in another workspace
		h(s.desk, -time.Second, baton.Ended, baton.CustomerClosed, true, false, 0),
	}
	other := h(s.desk, time.Minute, baton.Ended, baton.CustomerClosed, true, false, 0)
	other.WorkspaceID = "ws2"
	err := s.store.Tx(context.Background(), func(tx baton.Tx) error {
		if err := tx.CreateWorkspace(baton.Workspace{ID: "ws2", Name: "Two"}); err != nil {
			return err
		}
		if err := tx.PutDesk(baton.DeskConfig{ID: "desk2", WorkspaceID: s.ws, Name: "Second", Kind: baton.KindInbox}); err != nil {
			return err
		}
		for _, x := range append(hs, other) {
			if err := tx.PutHandoff(x); err != nil {
				return err
			}
		}
		for _, st := range []baton.DeskState{
			{DeskID: s.desk, Status: baton.NotConfigured, CheckedAt: at(-time.Hour)}, // its status when the range begins
			{DeskID: s.desk, Status: baton.Unavailable, LastError: "502", CheckedAt: at(90 * time.Minute)},
			{DeskID: s.desk, Status: baton.Available, CheckedAt: at(150 * time.Minute)},
		} {
			if err := tx.SetDeskStatus(st); err != nil {
				return err
			}
		}
		for _, d := range []time.Duration{90 * time.Minute, 100 * time.Minute, 140 * time.Minute} {
			if err := tx.AddDeskFailure(baton.DeskFailure{WorkspaceID: s.ws, DeskID: s.desk, Op: "send", Error: "502", At: at(d)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func admin() context.Context {
	return engine.WithAdmin(context.Background(), baton.AdminKey{ID: "adm1", Name: "root"})
}

// TestDashboard: the figures of a seeded set of handoffs and desk history.
func TestDashboard(t *testing.T) {
	t.Parallel()
	s := newStack(t, t.TempDir(), nil)
	seedDashboard(t, s)
	at := func(d time.Duration) time.Time { return dashStart.Add(d) }
	d, err := s.eng.Dashboard(admin(), engine.DashboardQuery{Workspace: s.ws, From: dashStart, To: at(4 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	check := func(what string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
		}
	}
	oc := func(r baton.EndReason, n int64) engine.OutcomeCount { return engine.OutcomeCount{Reason: r, N: n} }
	check("bucket", d.Bucket, time.Hour)
	check("total", d.Total, int64(9))
	check("outcomes", d.Outcomes, []engine.OutcomeCount{oc("", 1), oc(baton.AgentClosed, 2), oc(baton.CustomerClosed, 4), oc(baton.WaitTimeout, 1), oc(baton.OutOfHours, 1)})
	check("queued", d.Queued, int64(7))
	check("abandoned", d.Abandoned, int64(2))
	check("abandon rate", d.AbandonRate(), 2.0/7)
	check("timed out", d.TimedOut, int64(1))
	check("replies", d.Replies, engine.ReplyFigures{N: 4, P50: 4 * time.Minute, P90: 10 * time.Minute})
	check("buckets", d.Buckets, []engine.HandoffBucket{
		{Start: at(0), End: at(time.Hour), Total: 3, Outcomes: []engine.OutcomeCount{oc(baton.AgentClosed, 1), oc(baton.CustomerClosed, 2)}, Abandoned: 1},
		{Start: at(time.Hour), End: at(2 * time.Hour), Total: 3, Outcomes: []engine.OutcomeCount{oc("", 1), oc(baton.CustomerClosed, 1), oc(baton.WaitTimeout, 1)}},
		{Start: at(2 * time.Hour), End: at(3 * time.Hour)},
		{Start: at(3 * time.Hour), End: at(4 * time.Hour), Total: 3, Outcomes: []engine.OutcomeCount{oc(baton.AgentClosed, 1), oc(baton.CustomerClosed, 1), oc(baton.OutOfHours, 1)}, Abandoned: 1},
	})
	check("desks", d.Desks, []engine.DeskFigures{
		{ID: s.desk, Name: "Inbox", Status: baton.Available, Failures: []int64{0, 2, 1, 0}, Failed: 3, Timeline: []engine.StatusSpan{
			{Status: baton.NotConfigured, From: at(0), To: at(90 * time.Minute)},
			{Status: baton.Unavailable, Error: "502", From: at(90 * time.Minute), To: at(150 * time.Minute)},
			{Status: baton.Available, From: at(150 * time.Minute), To: at(4 * time.Hour)},
		}},
		{ID: "desk2", Name: "Second", Status: baton.NotConfigured, Failures: []int64{0, 0, 0, 0}, Timeline: []engine.StatusSpan{
			{Status: baton.NotConfigured, From: at(0), To: at(4 * time.Hour)},
		}},
	})

	// One desk's figures; a range of two days counts in hours, one over a week in days.
	d, err = s.eng.Dashboard(admin(), engine.DashboardQuery{Workspace: s.ws, Desk: "desk2", From: dashStart, To: at(48 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	check("desk2 total", d.Total, int64(2))
	check("desk2 abandoned", [2]int64{d.Abandoned, d.Queued}, [2]int64{1, 2})
	check("desk2 replies", d.Replies, engine.ReplyFigures{N: 1, P50: 6 * time.Minute, P90: 6 * time.Minute})
	check("desk2 buckets", len(d.Buckets), 48)
	check("desk2 desks", len(d.Desks), 1)
	d, err = s.eng.Dashboard(admin(), engine.DashboardQuery{Workspace: s.ws, From: at(-24 * time.Hour), To: at(30*24*time.Hour - 24*time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	check("30 days: bucket", d.Bucket, 24*time.Hour)
	check("30 days: buckets", len(d.Buckets), 30)
	check("30 days: the day of the handoffs", d.Buckets[1].Total, int64(9))
	check("30 days: the day before", d.Buckets[0].Total, int64(1))
	check("30 days: failures", d.Desks[0].Failures[1], int64(3))
}

// TestDashboardRefused: a bad range names its field; an unknown
// workspace or desk, and a call that is not an admin's, are refused.
func TestDashboardRefused(t *testing.T) {
	t.Parallel()
	s := newStack(t, t.TempDir(), nil)
	day := 24 * time.Hour
	for _, tc := range []struct {
		name  string
		ctx   context.Context
		q     engine.DashboardQuery
		code  string
		field string
	}{
		{"no from", admin(), engine.DashboardQuery{Workspace: s.ws, To: dashStart}, baton.EINVALID, "from"},
		{"no to", admin(), engine.DashboardQuery{Workspace: s.ws, From: dashStart}, baton.EINVALID, "to"},
		{"to before from", admin(), engine.DashboardQuery{Workspace: s.ws, From: dashStart, To: dashStart.Add(-time.Hour)}, baton.EINVALID, "to"},
		{"empty", admin(), engine.DashboardQuery{Workspace: s.ws, From: dashStart, To: dashStart}, baton.EINVALID, "to"},
		{"over 90 days", admin(), engine.DashboardQuery{Workspace: s.ws, From: dashStart, To: dashStart.Add(90*day + time.Second)}, baton.EINVALID, "from"},
		{"unknown desk", admin(), engine.DashboardQuery{Workspace: s.ws, Desk: "nope", From: dashStart, To: dashStart.Add(day)}, baton.ENOTFOUND, ""},
		{"unknown workspace", admin(), engine.DashboardQuery{Workspace: "nope", From: dashStart, To: dashStart.Add(day)}, baton.ENOTFOUND, ""},
		{"not an admin", context.Background(), engine.DashboardQuery{Workspace: s.ws, From: dashStart, To: dashStart.Add(day)}, baton.EUNAUTHORIZED, ""},
	} {
		_, err := s.eng.Dashboard(tc.ctx, tc.q)
		if baton.ErrorCode(err) != tc.code || baton.ErrorField(err) != tc.field {
			t.Errorf("%s: %v (field %q), want %s naming %q", tc.name, err, baton.ErrorField(err), tc.code, tc.field)
		}
	}
	if _, err := s.eng.Dashboard(admin(), engine.DashboardQuery{Workspace: s.ws, From: dashStart, To: dashStart.Add(90 * day)}); err != nil {
		t.Errorf("90 days: %v", err)
	}
}
