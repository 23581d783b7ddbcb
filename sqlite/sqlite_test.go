package sqlite_test

import (
	"bytes"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/sqlite"
	"github.com/batonhq/baton/sqlstore"
	"github.com/batonhq/baton/storetest"
)

var key = bytes.Repeat([]byte{7}, 32)

func open(t testing.TB) baton.Store {
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "baton.db"), key)
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

func TestReopen(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "baton.db")
	for i := range 2 {
		s, err := sqlite.Open(t.Context(), path, key)
		if err != nil {
			t.Fatal(err)
		}
		err = s.Tx(t.Context(), func(tx baton.Tx) error {
			if i == 0 {
				return tx.PutDesk(baton.DeskConfig{ID: "d1", WorkspaceID: "w1", Settings: map[string]string{"k": "v"}})
			}
			d, err := tx.DeskByID("d1")
			if err == nil && d.Settings["k"] != "v" {
				err = fmt.Errorf("settings after reopen: %v", d.Settings)
			}
			return err
		})
		if i == 0 && baton.ErrorCode(err) != baton.ENOTFOUND {
			t.Fatalf("desk of a missing workspace: %v", err)
		}
		if i == 0 {
			err = s.Tx(t.Context(), func(tx baton.Tx) error {
				if err := tx.CreateWorkspace(baton.Workspace{ID: "w1"}); err != nil {
					return err
				}
				return tx.PutDesk(baton.DeskConfig{ID: "d1", WorkspaceID: "w1", Settings: map[string]string{"k": "v"}})
			})
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	// Another key cannot read the secrets.
	s, err := sqlite.Open(t.Context(), path, bytes.Repeat([]byte{8}, 32))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.Tx(t.Context(), func(tx baton.Tx) error {
		_, err := tx.DeskByID("d1")
		return err
	})
	if err == nil || bytes.Contains([]byte(err.Error()), []byte(`"v"`)) {
		t.Fatalf("reading with the wrong key: %v", err)
	}
}

func TestOpenRejects(t *testing.T) {
	t.Parallel()
	if _, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "x.db"), []byte("short")); err == nil {
		t.Error("short key accepted")
	}
	if _, err := sqlite.Open(t.Context(), ":memory:", key); err == nil {
		t.Error(":memory: accepted")
	}
}

// BenchmarkAddMessage commits one message per transaction, as the API does
// before answering 2xx: b.N / elapsed is commits per second.
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

// BenchmarkClaimJobs claims and finishes due jobs while 100k timers are pending
// and 10k deliveries wait in 1000 lanes.
func BenchmarkClaimJobs(b *testing.B) {
	s := open(b)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	err := s.Tx(b.Context(), func(tx baton.Tx) error {
		for i := range 100_000 {
			j := baton.Job{Kind: "timer", Key: fmt.Sprint("t", i), RunAt: now.Add(time.Hour + time.Duration(i)*time.Millisecond)}
			if err := tx.PutJob(j); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	lane := 0
	refill := func() {
		err := s.Tx(b.Context(), func(tx baton.Tx) error {
			for i := range 10_000 {
				j := baton.Job{Kind: "deliver", Lane: fmt.Sprint("c", lane+i%1000), RunAt: now}
				if err := tx.PutJob(j); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		lane += 1000
	}
	refill()
	n := 0
	for b.Loop() {
		var js []baton.Job
		err := s.Tx(b.Context(), func(tx baton.Tx) error {
			var err error
			js, err = tx.ClaimJobs(now, 10, time.Minute)
			if err != nil {
				return err
			}
			for _, j := range js {
				if err := tx.FinishJob(j.ID); err != nil {
					return err
				}
			}
			_, _, err = tx.NextJobAt()
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		if len(js) == 0 {
			b.StopTimer()
			refill()
			b.StartTimer()
		}
		n += len(js)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "jobs/s")
}

// TestReopenReleasesLeases: a job claimed by a process that died is claimable
// as soon as the file is opened again, not when its lease runs out, and
// counts the run it lost as an attempt.
func TestReopenReleasesLeases(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "baton.db")
	now := time.Now()
	for i := range 2 {
		s, err := sqlite.Open(t.Context(), path, key)
		if err != nil {
			t.Fatal(err)
		}
		var got []baton.Job
		err = s.Tx(t.Context(), func(tx baton.Tx) error {
			if i == 0 {
				if err := tx.PutJob(baton.Job{Kind: "k", Lane: "l", RunAt: now}); err != nil {
					return err
				}
			}
			got, err = tx.ClaimJobs(now, 10, time.Hour)
			return err
		})
		s.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 {
			t.Fatalf("open %d: claimed %d jobs, want the one left leased by the last process", i, len(got))
		}
		// The run the dead process left counts as an attempt: a desk call
		// it may have made is looked for before it is made again.
		if got[0].Attempts != i {
			t.Errorf("open %d: attempts %d, want %d", i, got[0].Attempts, i)
		}
	}
}

// TestNewClosesOnFailure: New refuses a short key and closes the writer
// and the readers it was handed, which its caller no longer holds.
func TestNewClosesOnFailure(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "baton.db")
	db, err := sqlite.OpenDB(path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := sqlite.OpenDB(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sqlite.New(t.Context(), db, r, sqlite.Dialect, []byte("short")); err == nil {
		t.Fatal("short key accepted")
	}
	for name, d := range map[string]*sql.DB{"writer": db, "readers": r} {
		if err := d.Ping(); err == nil || !strings.Contains(err.Error(), "database is closed") {
			t.Errorf("%s after a failed New: ping %v, want closed", name, err)
		}
	}
}

// TestSync: Open commits with synchronous=FULL (2), OpenSync with NORMAL
// (1) when asked, on the writer; anything else is refused.
func TestSync(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		sync sqlite.Sync
		want int
	}{{"", 2}, {sqlite.SyncFull, 2}, {sqlite.SyncNormal, 1}} {
		path := filepath.Join(t.TempDir(), "baton.db")
		var s *sqlstore.Store
		var err error
		if c.sync == "" {
			s, err = sqlite.Open(t.Context(), path, key)
		} else {
			s, err = sqlite.OpenSync(t.Context(), path, key, c.sync)
		}
		if err != nil {
			t.Fatal(err)
		}
		var got int
		err = s.DB().QueryRowContext(t.Context(), `PRAGMA synchronous`).Scan(&got)
		s.Close()
		if err != nil || got != c.want {
			t.Errorf("sync %q: PRAGMA synchronous is %d (%v), want %d", c.sync, got, err, c.want)
		}
	}
	if _, err := sqlite.OpenSync(t.Context(), filepath.Join(t.TempDir(), "baton.db"), key, "off"); err == nil {
		t.Error(`sync "off" was accepted`)
	}
}
