package postgres_test

import (
	"bytes"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/postgres"
	"github.com/batonhq/baton/postgres/pgtest"
	"github.com/batonhq/baton/storetest"
)

var key = bytes.Repeat([]byte{7}, 32)

// open is a store on a copy of the migrated template database.
func open(t testing.TB) baton.Store { return openURL(t, pgtest.Migrated(t)) }

// openURL is a store on the database at url.
func openURL(t testing.TB, url string) baton.Store {
	s, err := postgres.Open(t.Context(), url, key)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestStore(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) baton.Store { return open(t) })
}

// TestMigrateConcurrent migrates an empty database from two pools at once:
// the advisory lock makes one wait for the other.
func TestMigrateConcurrent(t *testing.T) {
	t.Parallel()
	u := pgtest.Fresh(t)
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for range 2 {
		wg.Go(func() {
			db, err := postgres.OpenDB(t.Context(), u)
			if err != nil {
				errs <- err
				return
			}
			defer db.Close()
			errs <- postgres.Migrate(t.Context(), db)
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	s, err := postgres.Open(t.Context(), u, key)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.Tx(t.Context(), func(tx baton.Tx) error { return tx.CreateWorkspace(baton.Workspace{ID: "w1"}) })
	if err != nil {
		t.Fatal(err)
	}
}

// TestTxRetry makes two instances' transactions deadlock (one instance's
// concurrent transactions share one, see sqlstore.Dialect.Group);
// PostgreSQL aborts one, and Tx runs it again.
func TestTxRetry(t *testing.T) {
	t.Parallel()
	url := pgtest.Migrated(t)
	instances := [2]baton.Store{openURL(t, url), openURL(t, url)}
	s := instances[0]
	err := s.Tx(t.Context(), func(tx baton.Tx) error {
		if err := tx.CreateWorkspace(baton.Workspace{ID: "w1"}); err != nil {
			return err
		}
		return tx.CreateWorkspace(baton.Workspace{ID: "w2"})
	})
	if err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int32
	var first sync.WaitGroup // both hold their first lock
	first.Add(2)
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for i, ws := range [][2]string{{"w1", "w2"}, {"w2", "w1"}} {
		wg.Go(func() {
			try := 0
			errs <- instances[i].Tx(t.Context(), func(tx baton.Tx) error {
				calls.Add(1)
				try++
				if err := tx.AddEvent(&baton.Event{ID: ws[0] + "-" + string(rune('a'+i)), WorkspaceID: ws[0]}); err != nil {
					return err
				}
				if try == 1 {
					first.Done()
					first.Wait()
				}
				return tx.AddEvent(&baton.Event{ID: ws[1] + "-" + string(rune('a'+i)), WorkspaceID: ws[1]})
			})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	// At least one deadlock victim was retried; under load the retry can
	// meet the other transaction again and be retried once more.
	if n := calls.Load(); n < 3 {
		t.Errorf("fn ran %d times, want at least 3 (a deadlock victim retried)", n)
	}
	err = s.Tx(t.Context(), func(tx baton.Tx) error {
		for _, ws := range []string{"w1", "w2"} {
			es, err := tx.Events(baton.EventPage{WorkspaceID: ws, BotID: "", After: 0, Limit: 0})
			if err != nil {
				return err
			}
			if len(es) != 2 || es[0].Seq != 1 || es[1].Seq != 2 {
				t.Errorf("%s events: %+v", ws, es)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// BenchmarkAddMessage commits one message per transaction: b.N / elapsed is
// commits per second (one client at a time).
func BenchmarkAddMessage(b *testing.B) {
	s := open(b)
	err := s.Tx(b.Context(), func(tx baton.Tx) error {
		if err := tx.CreateWorkspace(baton.Workspace{ID: "w1"}); err != nil {
			return err
		}
		return tx.PutConversation(baton.Conversation{ID: "c1", WorkspaceID: "w1", BotID: "b1", ExternalID: "x"})
	})
	if err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		i++
		err := s.Tx(b.Context(), func(tx baton.Tx) error {
			return tx.AddMessage(&baton.Message{ID: fmt.Sprint("m", i), ConversationID: "c1",
				Author: baton.ByCustomer, Text: "Hello, I need help with my order."})
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "commits/s")
}
