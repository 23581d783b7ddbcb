package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/batonhq/baton"
)

// put inserts jobs.
func put(t *testing.T, s baton.Store, jobs ...baton.Job) {
	t.Helper()
	do(t, s, func(tx baton.Tx) error {
		for _, j := range jobs {
			if err := tx.PutJob(j); err != nil {
				return err
			}
		}
		return nil
	})
}

// claim claims up to limit jobs at now for lease.
func claim(t *testing.T, s baton.Store, now time.Time, limit int, lease time.Duration) []baton.Job {
	t.Helper()
	var js []baton.Job
	do(t, s, func(tx baton.Tx) error {
		var err error
		js, err = tx.ClaimJobs(now, limit, lease)
		return err
	})
	return js
}

// kinds lists the jobs' kinds, which the tests use as names.
func kinds(js []baton.Job) []string {
	return ids(js, func(j baton.Job) string { return string(j.Kind) })
}

func testJob(t *testing.T, s baton.Store) {
	j := baton.Job{Kind: "deliver", Lane: "conv-1", Key: "k1", HandoffID: "h1", EventID: "e1", RunAt: t0, Attempts: 2,
		Payload: []byte(`{"event":"e1"}`), LastError: "503", CreatedAt: at(-time.Minute)}
	put(t, s, j, baton.Job{Kind: "timer", RunAt: t0})
	do(t, s, func(tx baton.Tx) error {
		n, err := tx.JobCount()
		same(t, "job count", n, map[string]int64{"deliver": 1, "timer": 1})
		return err
	})
	got := claim(t, s, t0, 10, time.Minute)
	if len(got) != 2 {
		t.Fatalf("claimed %d jobs, want 2", len(got))
	}
	j.ID = got[0].ID
	same(t, "claimed job", got[0], j)
	if got[0].ID >= got[1].ID || got[1].Payload != nil || got[1].Key != "" || got[1].Lane != "" {
		t.Errorf("second job: %+v", got[1])
	}
	// Leased: nobody else gets them.
	same(t, "claim while leased", kinds(claim(t, s, at(time.Second), 10, time.Minute)), []string{})
	do(t, s, func(tx baton.Tx) error {
		if err := tx.FinishJob(got[0].ID); err != nil {
			return err
		}
		if err := tx.FinishJob(got[0].ID); err != nil { // twice is harmless
			return err
		}
		n, err := tx.JobCount()
		same(t, "job count after finish", n, map[string]int64{"timer": 1})
		return err
	})
	same(t, "claim with limit 0", kinds(claim(t, s, at(time.Hour), 0, time.Minute)), []string{})
}

func testJobDue(t *testing.T, s baton.Store) {
	put(t, s, baton.Job{Kind: "later", RunAt: at(time.Minute)}, baton.Job{Kind: "now", RunAt: t0})
	same(t, "due at t0", kinds(claim(t, s, t0, 10, time.Hour)), []string{"now"})
	same(t, "due 59s later", kinds(claim(t, s, at(59*time.Second), 10, time.Minute)), []string{})
	same(t, "due 1m later", kinds(claim(t, s, at(time.Minute), 10, time.Minute)), []string{"later"})
}

func testJobKey(t *testing.T, s baton.Store) {
	put(t, s, baton.Job{Kind: "wait", Key: "wait:h1", HandoffID: "h1", RunAt: at(time.Minute), Payload: []byte("v1")})
	// Rescheduling replaces: one job, the new time and payload.
	put(t, s, baton.Job{Kind: "wait2", Key: "wait:h1", HandoffID: "h1", RunAt: at(2 * time.Minute), Payload: []byte("v2")})
	do(t, s, func(tx baton.Tx) error {
		n, err := tx.JobCount()
		same(t, "count after reschedule", n, map[string]int64{"wait2": 1})
		return err
	})
	same(t, "claim at the old time", kinds(claim(t, s, at(time.Minute), 10, time.Minute)), []string{})
	got := claim(t, s, at(2*time.Minute), 10, time.Minute)
	if len(got) != 1 || string(got[0].Payload) != "v2" || got[0].Key != "wait:h1" || !got[0].RunAt.Equal(at(2*time.Minute)) {
		t.Fatalf("claimed %+v", got)
	}
	// Rescheduling a claimed job releases it, and the worker that held it can
	// no longer finish it: the new schedule survives.
	put(t, s, baton.Job{Kind: "wait3", Key: "wait:h1", RunAt: at(5 * time.Minute), Payload: []byte("v3")})
	do(t, s, func(tx baton.Tx) error { return tx.FinishJob(got[0].ID) })
	do(t, s, func(tx baton.Tx) error {
		return tx.RetryJob(baton.JobRetry{ID: got[0].ID, RunAt: at(time.Hour), Attempts: 9, LastError: "stale"})
	})
	got = claim(t, s, at(5*time.Minute), 10, time.Minute)
	if len(got) != 1 || string(got[0].Payload) != "v3" || got[0].Kind != "wait3" || got[0].Attempts == 9 {
		t.Fatalf("claimed after reschedule %+v", got)
	}
	// Cancelling.
	do(t, s, func(tx baton.Tx) error {
		if err := tx.DeleteJobByKey("wait:h1"); err != nil {
			return err
		}
		if err := tx.DeleteJobByKey("wait:h1"); err != nil { // absent is fine
			return err
		}
		return tx.DeleteJobByKey("")
	})
	// Keyless jobs never collide.
	put(t, s, baton.Job{Kind: "a", RunAt: t0}, baton.Job{Kind: "b", RunAt: t0})
	do(t, s, func(tx baton.Tx) error {
		n, err := tx.JobCount()
		same(t, "count", n, map[string]int64{"a": 1, "b": 1})
		return err
	})
}

func testJobLane(t *testing.T, s baton.Store) {
	put(t, s,
		baton.Job{Kind: "a1", Lane: "a", RunAt: t0},
		baton.Job{Kind: "a2", Lane: "a", RunAt: at(-time.Minute)}, // due earlier, but second in its lane
		baton.Job{Kind: "b1", Lane: "b", RunAt: t0},
		baton.Job{Kind: "free", RunAt: t0},
	)
	got := claim(t, s, t0, 10, time.Minute)
	same(t, "first claim", kinds(got), []string{"a1", "b1", "free"})
	// a1 is held: a2 waits.
	same(t, "while a1 held", kinds(claim(t, s, at(time.Second), 10, time.Minute)), []string{})
	// Retrying the head keeps the lane's order: a2 still waits for a1.
	do(t, s, func(tx baton.Tx) error {
		return tx.RetryJob(baton.JobRetry{ID: got[0].ID, RunAt: at(10 * time.Second), Attempts: 1, LastError: "503 busy"})
	})
	same(t, "after retry, before a1 due", kinds(claim(t, s, at(5*time.Second), 10, time.Minute)), []string{})
	again := claim(t, s, at(10*time.Second), 10, time.Minute)
	if len(again) != 1 || again[0].ID != got[0].ID || again[0].Attempts != 1 || again[0].LastError != "503 busy" {
		t.Fatalf("after retry claimed %+v", again)
	}
	do(t, s, func(tx baton.Tx) error { return tx.FinishJob(again[0].ID) })
	same(t, "after a1 finished", kinds(claim(t, s, at(10*time.Second), 10, time.Minute)), []string{"a2"})
}

// testJobFollow: behind a claimed head, FollowJobs leases the lane's next
// jobs while they are of the head's kind, due and free, up to the limit,
// and nobody else may claim them; the lane keeps its order.
func testJobFollow(t *testing.T, s baton.Store) {
	names := func(js []baton.Job) []string { return ids(js, func(j baton.Job) string { return j.HandoffID }) }
	job := func(lane, name string, kind baton.JobKind, run time.Duration) baton.Job {
		return baton.Job{Kind: kind, Lane: lane, HandoffID: name, RunAt: at(run)}
	}
	put(t, s,
		job("a", "a1", "send", 0), job("a", "a2", "send", 0), job("a", "a3", "send", 0),
		job("a", "a4", "close", 0), job("a", "a5", "send", 0), // another kind: following stops before it
		job("b", "b1", "event", 0), job("b", "b2", "event", 0), job("b", "b3", "event", time.Hour), job("b", "b4", "event", 0), // b3 is not due
		job("c", "c1", "event", 0), job("c", "c2", "event", 0), job("c", "c3", "event", 0), job("c", "c4", "event", 0), // the limit stops c
		job("d", "d1", "event", 0), // nothing behind it
	)
	heads := claim(t, s, t0, 10, time.Minute)
	same(t, "heads", names(heads), []string{"a1", "b1", "c1", "d1"})
	var followed []baton.Job
	do(t, s, func(tx baton.Tx) (err error) {
		followed, err = tx.FollowJobs(heads, t0, 2, time.Minute)
		return err
	})
	same(t, "followed", names(followed), []string{"a2", "a3", "b2", "c2", "c3"})
	for _, j := range followed {
		if j.ID == 0 || j.Attempts != 0 || j.Payload != nil {
			t.Errorf("followed job %+v", j)
		}
	}
	// Leased: following again, or claiming, takes none of them.
	do(t, s, func(tx baton.Tx) error {
		again, err := tx.FollowJobs(heads, t0, 10, time.Minute)
		same(t, "followed again while held", names(again), []string{})
		return err
	})
	// The worker finishes a's head and one follower and releases the other:
	// the released one heads the lane next, before a4.
	do(t, s, func(tx baton.Tx) error {
		if err := tx.FinishJob(heads[0].ID, followed[0].ID); err != nil {
			return err
		}
		return tx.RetryJob(baton.JobRetry{ID: followed[1].ID, RunAt: at(time.Second), Attempts: 1, LastError: "503"})
	})
	same(t, "while the rest are held", names(claim(t, s, at(30*time.Second), 10, time.Minute)), []string{"a3"})
	// A follower whose lease ran out is taken again, its lost run an attempt.
	var late []baton.Job
	do(t, s, func(tx baton.Tx) (err error) {
		late, err = tx.FollowJobs([]baton.Job{heads[1]}, at(2*time.Minute), 5, time.Minute)
		return err
	})
	if len(late) != 1 || late[0].HandoffID != "b2" || late[0].Attempts != 1 {
		t.Errorf("after the lease ran out followed %+v, want b2 with 1 attempt", late)
	}
}

func testJobLease(t *testing.T, s baton.Store) {
	put(t, s, baton.Job{Kind: "x", Lane: "l", RunAt: t0}, baton.Job{Kind: "y", Lane: "l", RunAt: t0})
	first := claim(t, s, t0, 10, time.Minute)
	same(t, "claim", kinds(first), []string{"x"})
	same(t, "within the lease", kinds(claim(t, s, at(59*time.Second), 10, time.Minute)), []string{})
	// The worker died: after the lease, the job runs again (and still heads its lane).
	again := claim(t, s, at(time.Minute), 10, time.Minute)
	if len(again) != 1 || again[0].ID != first[0].ID {
		t.Fatalf("after the lease claimed %+v", again)
	}
	// The run that died counts as an attempt: it may have done its work.
	if first[0].Attempts != 0 || again[0].Attempts != 1 {
		t.Errorf("attempts %d, then %d after the lease ran out; want 0, then 1", first[0].Attempts, again[0].Attempts)
	}
	// Its worker renews the lease: nobody else may take it until the new end.
	do(t, s, func(tx baton.Tx) error { return tx.RenewJobs([]int64{again[0].ID}, at(3*time.Minute)) })
	same(t, "within the renewed lease", kinds(claim(t, s, at(2*time.Minute+59*time.Second), 10, time.Minute)), []string{})
	do(t, s, func(tx baton.Tx) error { return tx.FinishJob(again[0].ID) })
	same(t, "next in lane", kinds(claim(t, s, at(3*time.Minute), 10, time.Minute)), []string{"y"})
	// A renewal of a job nobody holds does not lease it.
	put(t, s, baton.Job{Kind: "z", RunAt: t0})
	var free int64
	do(t, s, func(tx baton.Tx) error {
		js, err := tx.JobCount()
		if js["z"] != 1 {
			t.Errorf("job z not stored: %v", js)
		}
		return err
	})
	zs := claim(t, s, at(3*time.Minute), 10, time.Minute)
	same(t, "z", kinds(zs), []string{"z"})
	free = zs[0].ID
	do(t, s, func(tx baton.Tx) error {
		return tx.RetryJob(baton.JobRetry{ID: free, RunAt: at(3 * time.Minute), Attempts: 1, LastError: "again"})
	})
	do(t, s, func(tx baton.Tx) error { return tx.RenewJobs([]int64{free}, at(time.Hour)) })
	same(t, "released job after a renewal", kinds(claim(t, s, at(3*time.Minute), 10, time.Minute)), []string{"z"})
}

func testJobOrder(t *testing.T, s baton.Store) {
	put(t, s,
		baton.Job{Kind: "3", RunAt: at(3 * time.Second)},
		baton.Job{Kind: "1", RunAt: at(time.Second)},
		baton.Job{Kind: "2a", RunAt: at(2 * time.Second)},
		baton.Job{Kind: "2b", RunAt: at(2 * time.Second)},
		baton.Job{Kind: "4", RunAt: at(4 * time.Second)},
	)
	same(t, "first 3", kinds(claim(t, s, at(time.Hour), 3, time.Minute)), []string{"1", "2a", "2b"})
	same(t, "rest", kinds(claim(t, s, at(time.Hour), 3, time.Minute)), []string{"3", "4"})
}

func testNextJobAt(t *testing.T, s baton.Store) {
	next := func(want time.Time, ok bool) {
		t.Helper()
		do(t, s, func(tx baton.Tx) error {
			got, gotOK, err := tx.NextJobAt()
			if !got.Equal(want) || gotOK != ok {
				t.Errorf("NextJobAt = %v, %v; want %v, %v", got, gotOK, want, ok)
			}
			return err
		})
	}
	next(time.Time{}, false)
	put(t, s,
		baton.Job{Kind: "head", Lane: "l", RunAt: at(time.Minute)},
		baton.Job{Kind: "queued", Lane: "l", RunAt: t0}, // behind its head: waits for it, not for a time
		baton.Job{Kind: "timer", RunAt: at(2 * time.Minute)},
	)
	next(at(time.Minute), true)
	got := claim(t, s, at(time.Minute), 10, 5*time.Minute)
	same(t, "claim", kinds(got), []string{"head"})
	// The head is held until its lease ends at 6m; the timer is due at 2m.
	next(at(2*time.Minute), true)
	same(t, "claim timer", kinds(claim(t, s, at(2*time.Minute), 10, 10*time.Minute)), []string{"timer"})
	next(at(6*time.Minute), true)
	// Finished head: the queued job is due now.
	do(t, s, func(tx baton.Tx) error { return tx.FinishJob(got[0].ID) })
	next(t0, true)
}

func testJobConcurrent(t *testing.T, s baton.Store) {
	const total, lanes = 200, 10
	var jobs []baton.Job
	for i := range total {
		j := baton.Job{Kind: baton.JobKind(fmt.Sprint(i)), RunAt: at(time.Duration(i%7) * time.Millisecond)}
		if i%4 != 0 {
			j.Lane = fmt.Sprint("lane-", i%lanes)
		}
		jobs = append(jobs, j)
	}
	put(t, s, jobs...)

	var (
		mu      sync.Mutex
		claimed = map[int64]int{}    // job id -> times claimed
		held    = map[string]int64{} // lane -> job held now
		last    = map[string]int64{} // lane -> last job finished
		done    int
	)
	deadline := time.Now().Add(time.Minute)
	concurrently(t, 4, func(int) error {
		for {
			mu.Lock()
			n := done
			mu.Unlock()
			if n == total {
				return nil
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("only %d of %d jobs done in time", n, total)
			}
			var js []baton.Job
			err := s.Tx(t.Context(), func(tx baton.Tx) error {
				var err error
				js, err = tx.ClaimJobs(at(time.Second), 3, time.Hour)
				return err
			})
			if err != nil {
				return err
			}
			if len(js) == 0 {
				time.Sleep(time.Millisecond)
				continue
			}
			mu.Lock()
			for _, j := range js {
				claimed[j.ID]++
				if j.Lane == "" {
					continue
				}
				if h, ok := held[j.Lane]; ok {
					mu.Unlock()
					return fmt.Errorf("job %d of %s claimed while %d holds the lane", j.ID, j.Lane, h)
				}
				if j.ID < last[j.Lane] {
					mu.Unlock()
					return fmt.Errorf("job %d of %s ran after %d", j.ID, j.Lane, last[j.Lane])
				}
				held[j.Lane] = j.ID
			}
			mu.Unlock()
			for _, j := range js {
				mu.Lock()
				if j.Lane != "" {
					delete(held, j.Lane)
					last[j.Lane] = j.ID
				}
				mu.Unlock()
				if err := s.Tx(t.Context(), func(tx baton.Tx) error { return tx.FinishJob(j.ID) }); err != nil {
					return err
				}
				mu.Lock()
				done++
				mu.Unlock()
			}
		}
	})
	if len(claimed) != total {
		t.Errorf("%d distinct jobs claimed, want %d", len(claimed), total)
	}
	for id, n := range claimed {
		if n != 1 {
			t.Errorf("job %d claimed %d times", id, n)
		}
	}
}
