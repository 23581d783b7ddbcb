package sqlstore_test

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/postgres"
	"github.com/batonhq/baton/postgres/pgtest"
	"github.com/batonhq/baton/sqlite"
	"github.com/batonhq/baton/sqlstore"
)

var key = bytes.Repeat([]byte{7}, 32)

// stores runs fn on a fresh SQLite store and a fresh PostgreSQL store
// (s.DB().Driver() tells them apart).
func stores(t *testing.T, fn func(t *testing.T, s *sqlstore.Store)) {
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "baton.db"), key)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		fn(t, s)
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		fn(t, openPostgres(t, pgtest.Migrated(t)))
	})
}

func openPostgres(t *testing.T, url string) *sqlstore.Store {
	s, err := postgres.Open(t.Context(), url, key)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// isPostgres reports whether s is on PostgreSQL.
func isPostgres(s *sqlstore.Store) bool {
	_, ok := s.DB().Driver().(*stdlib.Driver)
	return ok
}

var errNope = errors.New("nope")

// seed creates workspaces w1 and w2.
func seed(t *testing.T, s *sqlstore.Store) {
	t.Helper()
	err := s.Tx(t.Context(), func(tx baton.Tx) error {
		if err := tx.CreateWorkspace(baton.Workspace{ID: "w1"}); err != nil {
			return err
		}
		return tx.CreateWorkspace(baton.Workspace{ID: "w2"})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// event adds an event with id to workspace w1.
func event(tx baton.Tx, id string) error {
	return tx.AddEvent(&baton.Event{ID: id, WorkspaceID: "w1"})
}

// events returns the ids of w1's events in order, checking that their
// numbers are 1, 2, 3, ...
func events(t *testing.T, s *sqlstore.Store, ws string) []string {
	t.Helper()
	var ids []string
	err := s.View(t.Context(), func(tx baton.Tx) error {
		es, err := tx.Events(baton.EventPage{WorkspaceID: ws})
		for i, e := range es {
			if e.Seq != int64(i+1) {
				t.Errorf("%s's event %s has seq %d, want %d", ws, e.ID, e.Seq, i+1)
			}
			ids = append(ids, e.ID)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// TestGroupMemberFails runs one batch whose members fail in every way a
// member can: each failure rolls back that member only.
func TestGroupMemberFails(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, s *sqlstore.Store) {
		seed(t, s)
		postgres := isPostgres(s)
		out := s.RunBatch(t.Context(),
			func(tx baton.Tx) error { return event(tx, "ok-1") },
			func(tx baton.Tx) error {
				if err := event(tx, "returns-error"); err != nil {
					return err
				}
				return errNope
			},
			func(tx baton.Tx) error {
				if err := event(tx, "statement-fails"); err != nil {
					return err
				}
				return tx.CreateWorkspace(baton.Workspace{ID: "w1"}) // exists already
			},
			func(tx baton.Tx) error { return event(tx, "ok-2") },
			func(tx baton.Tx) error {
				if err := event(tx, "panics"); err != nil {
					return err
				}
				panic("boom")
			},
			func(tx baton.Tx) error {
				if err := event(tx, "swallows"); err != nil {
					return err
				}
				// The failure is ignored: SQLite goes on, PostgreSQL refuses
				// the rest of the transaction, so this one cannot commit.
				_ = tx.CreateWorkspace(baton.Workspace{ID: "w1"})
				return nil
			},
			func(tx baton.Tx) error { return event(tx, "ok-3") },
		)
		if out[0].Err != nil || out[3].Err != nil || out[6].Err != nil {
			t.Errorf("good members failed: %v, %v, %v", out[0].Err, out[3].Err, out[6].Err)
		}
		if out[1].Err != errNope {
			t.Errorf("member returning an error: %v, want errNope", out[1].Err)
		}
		if baton.ErrorCode(out[2].Err) != baton.ECONFLICT {
			t.Errorf("member whose statement failed: %v, want a conflict", out[2].Err)
		}
		if !out[4].Panicked || out[4].Panic != "boom" {
			t.Errorf("panicking member: %+v", out[4])
		}
		want := []string{"ok-1", "ok-2", "ok-3"}
		if postgres {
			if out[5].Err == nil {
				t.Error("member that swallowed a failed statement committed on PostgreSQL")
			}
		} else {
			if out[5].Err != nil {
				t.Errorf("member that swallowed a failed insert on SQLite: %v", out[5].Err)
			}
			want = []string{"ok-1", "ok-2", "swallows", "ok-3"}
		}
		if got := events(t, s, "w1"); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("committed events %v, want %v", got, want)
		}
	})
}

// TestGroupConcurrentFailures runs many Tx calls at once, through the group
// writers, a third of them failing and a third panicking.
func TestGroupConcurrentFailures(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, s *sqlstore.Store) {
		seed(t, s)
		const n = 60
		var wg sync.WaitGroup
		errs := make([]error, n)
		panics := make([]any, n)
		for i := range n {
			wg.Go(func() {
				defer func() { panics[i] = recover() }()
				errs[i] = s.Tx(t.Context(), func(tx baton.Tx) error {
					if err := event(tx, fmt.Sprint("e", i)); err != nil {
						return err
					}
					switch i % 3 {
					case 1:
						return errNope
					case 2:
						panic(i)
					}
					return nil
				})
			})
		}
		wg.Wait()
		committed := map[string]bool{}
		for _, id := range events(t, s, "w1") {
			committed[id] = true
		}
		for i := range n {
			id := fmt.Sprint("e", i)
			switch i % 3 {
			case 0:
				if errs[i] != nil || panics[i] != nil || !committed[id] {
					t.Errorf("Tx %d: %v, panic %v, committed %v", i, errs[i], panics[i], committed[id])
				}
			case 1:
				if errs[i] != errNope || committed[id] {
					t.Errorf("failing Tx %d: %v, committed %v", i, errs[i], committed[id])
				}
			case 2:
				if panics[i] != i || committed[id] {
					t.Errorf("panicking Tx %d: panic %v, committed %v", i, panics[i], committed[id])
				}
			}
		}
		if len(committed) != n/3 {
			t.Errorf("%d events committed, want %d", len(committed), n/3)
		}
	})
}

// TestGroupCommitFails fails a batch's commit: every member gets an error,
// and nothing of the batch stays.
func TestGroupCommitFails(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, s *sqlstore.Store) {
		seed(t, s)
		errDisk := errors.New("disk full")
		s.FailCommit(func() error { return errDisk })
		out := s.RunBatch(t.Context(),
			func(tx baton.Tx) error { return event(tx, "a") },
			func(tx baton.Tx) error { return errNope },
			func(tx baton.Tx) error { return event(tx, "b") },
		)
		if !errors.Is(out[0].Err, errDisk) || !errors.Is(out[2].Err, errDisk) {
			t.Errorf("members of a failed commit: %v, %v", out[0].Err, out[2].Err)
		}
		if out[1].Err != errNope {
			t.Errorf("failing member of a failed commit: %v, want its own error", out[1].Err)
		}
		// The same through Tx, concurrently.
		var wg sync.WaitGroup
		for i := range 16 {
			wg.Go(func() {
				err := s.Tx(t.Context(), func(tx baton.Tx) error { return event(tx, fmt.Sprint("c", i)) })
				if !errors.Is(err, errDisk) {
					t.Errorf("Tx %d of a failed commit returned %v", i, err)
				}
			})
		}
		wg.Wait()
		s.FailCommit(nil)
		if got := events(t, s, "w1"); len(got) != 0 {
			t.Errorf("events of failed commits stayed: %v", got)
		}
	})
}

// TestGroupCommitRetry fails a PostgreSQL batch's commit with a
// serialization failure: its members run again and commit once.
func TestGroupCommitRetry(t *testing.T) {
	t.Parallel()
	s := openPostgres(t, pgtest.Migrated(t))
	seed(t, s)
	var fails atomic.Int32
	fails.Store(1)
	s.FailCommit(func() error {
		if fails.Add(-1) >= 0 {
			return &pgconn.PgError{Code: "40001", Message: "could not serialize access"}
		}
		return nil
	})
	var runs [2]atomic.Int32
	out := s.RunBatch(t.Context(),
		func(tx baton.Tx) error { runs[0].Add(1); return event(tx, "a") },
		func(tx baton.Tx) error { runs[1].Add(1); return event(tx, "b") },
	)
	if out[0].Err != nil || out[1].Err != nil {
		t.Fatalf("retried members: %v, %v", out[0].Err, out[1].Err)
	}
	if runs[0].Load() != 2 || runs[1].Load() != 2 {
		t.Errorf("members ran %d and %d times, want 2", runs[0].Load(), runs[1].Load())
	}
	if got := events(t, s, "w1"); fmt.Sprint(got) != "[a b]" {
		t.Errorf("events %v, want [a b]", got)
	}
	// A failure that does not go away is reported after the last retry.
	fails.Store(1 << 20)
	var n atomic.Int32
	err := s.Tx(t.Context(), func(tx baton.Tx) error { n.Add(1); return event(tx, "c") })
	if err == nil || !postgres.Dialect.Retry(err) {
		t.Errorf("Tx whose commit always fails returned %v", err)
	}
	if n.Load() != 4 {
		t.Errorf("fn ran %d times, want 4 (3 retries)", n.Load())
	}
}

// TestGroupDeadlock makes two instances' batches deadlock on PostgreSQL:
// each batch's first member locks one workspace's event counter, its second
// member then wants the other's. The lock timeout fails the waits (or,
// without it, deadlock detection fails one); such a member rolls back to its
// savepoint, the rest of its batch commits, and the member runs again in the
// next batch, and commits.
func TestGroupDeadlock(t *testing.T) {
	t.Parallel()
	t.Run("lock-timeout", func(t *testing.T) { t.Parallel(); testGroupDeadlock(t, postgres.Dialect) })
	d := postgres.Dialect
	d.LockTimeout = ""
	t.Run("deadlock-detection", func(t *testing.T) { t.Parallel(); testGroupDeadlock(t, d) })
}

func testGroupDeadlock(t *testing.T, d sqlstore.Dialect) {
	url := pgtest.Migrated(t)
	open := func() *sqlstore.Store {
		db, err := postgres.OpenDB(t.Context(), url)
		if err != nil {
			t.Fatal(err)
		}
		s := sqlstore.New(db, d, key)
		t.Cleanup(func() { s.Close() })
		return s
	}
	a, b := open(), open()
	seed(t, a)
	var locked sync.WaitGroup // both batches' first members hold their workspace
	locked.Add(2)
	var runs atomic.Int32
	batch := func(s *sqlstore.Store, name, first, second string) []sqlstore.Outcome {
		try := 0
		return s.RunBatch(t.Context(),
			func(tx baton.Tx) error {
				err := tx.AddEvent(&baton.Event{ID: name + "-1", WorkspaceID: first})
				locked.Done()
				return err
			},
			func(tx baton.Tx) error {
				runs.Add(1)
				if try++; try == 1 {
					locked.Wait()
				}
				return tx.AddEvent(&baton.Event{ID: name + "-2", WorkspaceID: second})
			},
		)
	}
	var wg sync.WaitGroup
	var outA, outB []sqlstore.Outcome
	wg.Go(func() { outA = batch(a, "a", "w1", "w2") })
	wg.Go(func() { outB = batch(b, "b", "w2", "w1") })
	wg.Wait()
	for i, o := range append(outA, outB...) {
		if o.Err != nil || o.Panicked {
			t.Errorf("member %d: %+v", i, o)
		}
	}
	if runs.Load() < 3 {
		t.Errorf("second members ran %d times, want at least 3 (the deadlock's victim again)", runs.Load())
	}
	for _, ws := range []string{"w1", "w2"} {
		if got := events(t, a, ws); len(got) != 2 {
			t.Errorf("%s has events %v, want 2", ws, got)
		}
	}
}
