// Package storetest is the conformance suite every baton.Store passes. A store
// package calls Run from its own tests with a function that opens a fresh,
// empty store:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) baton.Store {
//			s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "baton.db"), key)
//			...
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
//
// A store that also has a DB() *sql.DB method gets its raw tables checked too
// (secrets must not be stored in plaintext).
package storetest

import (
	"context"
	"database/sql"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/batonhq/baton"
)

// Run runs the suite. open must return a new, empty store for each call and
// close it with t.Cleanup.
func Run(t *testing.T, open func(t *testing.T) baton.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s baton.Store)
	}{
		{"Workspace", testWorkspace},
		{"APIKey", testAPIKey},
		{"Bot", testBot},
		{"Desk", testDesk},
		{"InboxAgent", testInboxAgent},
		{"InboxAgentsByEmail", testInboxAgentsByEmail},
		{"File", testFile},
		{"WorkspaceLifecycle", testWorkspaceLifecycle},
		{"KeyLifecycle", testKeyLifecycle},
		{"AdminKey", testAdminKey},
		{"Pin", testPin},
		{"Audit", testAudit},
		{"Delete", testDelete},
		{"OpenHandoffs", testOpenHandoffs},
		{"Queue", testQueue},
		{"RecentWaits", testRecentWaits},
		{"QueueLock", testQueueLock},
		{"Conversation", testConversation},
		{"Handoff", testHandoff},
		{"Message", testMessage},
		{"Event", testEvent},
		{"Idempotency", testIdempotency},
		{"IdempotencyConcurrent", testIdempotencyConcurrent},
		{"SeenDeskEvent", testSeenDeskEvent},
		{"Unstorable", testUnstorable},
		{"SecretsAtRest", testSecretsAtRest},
		{"Rollback", testRollback},
		{"View", testView},
		{"ViewConcurrent", testViewConcurrent},
		{"ViewBesideWriter", testViewBesideWriter},
		{"Panic", testPanic},
		{"MessageSeqConcurrent", testMessageSeqConcurrent},
		{"EventSeqConcurrent", testEventSeqConcurrent},
		{"Job", testJob},
		{"JobDue", testJobDue},
		{"JobKey", testJobKey},
		{"JobLane", testJobLane},
		{"JobLease", testJobLease},
		{"JobFollow", testJobFollow},
		{"JobOrder", testJobOrder},
		{"NextJobAt", testNextJobAt},
		{"JobConcurrent", testJobConcurrent},
		{"Deliveries", testDeliveries},
		{"DeliveryAttemptsKept", testDeliveryAttemptsKept},
		{"DeliveryAttemptsConcurrent", testDeliveryAttemptsConcurrent},
		{"DeliveryAttemptNoEvent", testDeliveryAttemptNoEvent},
		{"HandoffCounts", testHandoffCounts},
		{"ReplyTimes", testReplyTimes},
		{"DeskHistory", testDeskHistory},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open(t))
		})
	}
}

// t0 is a time with microseconds, the precision stores keep.
var t0 = time.Date(2026, 3, 1, 12, 30, 45, 123456000, time.UTC)

// at returns t0 plus d.
func at(d time.Duration) time.Time { return t0.Add(d) }

// do runs fn in a transaction and fails the test on error.
func do(t *testing.T, s baton.Store, fn func(tx baton.Tx) error) {
	t.Helper()
	if err := s.Tx(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

// wantCode runs fn in its own transaction and checks that it fails with code.
// (On PostgreSQL a failed statement spoils the rest of its transaction, so an
// expected failure gets a transaction to itself.)
func wantCode(t *testing.T, s baton.Store, code string, fn func(tx baton.Tx) error) {
	t.Helper()
	err := s.Tx(context.Background(), fn)
	if got := baton.ErrorCode(err); got != code {
		t.Fatalf("error %v has code %q, want %q", err, got, code)
	}
}

// errNope rolls a transaction back on purpose.
var errNope = errors.New("nope")

// seed creates workspaces w1 and w2.
func seed(t *testing.T, s baton.Store) {
	t.Helper()
	do(t, s, func(tx baton.Tx) error {
		for _, id := range []string{"w1", "w2"} {
			if err := tx.CreateWorkspace(baton.Workspace{ID: id, Name: "Workspace " + id, CreatedAt: t0}); err != nil {
				return err
			}
		}
		return nil
	})
}

// same fails the test unless got and want are deeply equal.
func same[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

// rawDB returns the store's *sql.DB, or skips the test when it has none.
func rawDB(t *testing.T, s baton.Store) *sql.DB {
	t.Helper()
	d, ok := s.(interface{ DB() *sql.DB })
	if !ok {
		t.Skip("store has no DB() *sql.DB")
	}
	return d.DB()
}

// policy is a policy with every field set.
func policy() *baton.Policy {
	return &baton.Policy{
		Zone: "Europe/Paris",
		Periods: []baton.Period{
			{Kind: baton.Weekly, Days: []string{"mon", "tue"}, Start: "09:00", End: "18:00"},
			{Kind: baton.Custom, Date: "2026-12-25", Closed: true},
		},
		OutOfHoursReply: "We are closed.",
		WaitTimeout:     baton.Duration(90 * time.Second),
		WaitGrace:       baton.Duration(30 * time.Second),
		SessionTimeout:  baton.Duration(5 * time.Minute),
		IdleExpiry:      baton.Duration(time.Hour),
		HistoryRounds:   4,
		RequireEmail:    true,
	}
}

func ids[T any](xs []T, id func(T) string) []string {
	out := []string{}
	for _, x := range xs {
		out = append(out, id(x))
	}
	return out
}
