package proof

import (
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"testing"
	"time"
)

// stores are the stores every scenario runs on.
var stores = []string{"sqlite", "postgres"}

// eachStore runs scenario f as a subtest per store. By default the
// scenarios run in parallel with one another (t.Parallel) and the stores of
// one at the same time (t.Run from a goroutine each): every world has its
// own database, processes, ports and receivers, and a scenario spends its
// time waiting for timers and timeouts, not on the CPU. In long mode
// (BATON_PROOF_LONG) everything runs one at a time, as the runs of
// RESULTS.md were measured.
func eachStore(t *testing.T, f func(t *testing.T, store string)) {
	if long(t) > 0 {
		for _, store := range stores {
			t.Run(store, func(t *testing.T) { f(t, store) })
		}
		return
	}
	t.Parallel()
	var wg sync.WaitGroup
	for _, store := range stores {
		wg.Go(func() { t.Run(store, func(t *testing.T) { f(t, store) }) })
	}
	wg.Wait()
}

// long is how long the soak and the crash run per store (BATON_PROOF_LONG,
// a Go duration); 0 in short mode and by default.
func long(t testing.TB) time.Duration {
	v := os.Getenv("BATON_PROOF_LONG")
	if v == "" || testing.Short() {
		return 0
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		t.Fatalf("BATON_PROOF_LONG=%q: %v", v, err)
	}
	return d
}

// killEvery is the random wait before the next kill: 0.3–1.5 s in short
// mode, 1–5 s in long mode.
func killEvery(long time.Duration) time.Duration {
	if long > 0 {
		return time.Second + rand.N(4*time.Second)
	}
	return 300*time.Millisecond + rand.N(1200*time.Millisecond)
}

// report logs s as markdown and, with BATON_PROOF_RESULTS set, appends it
// to that file (for proof/RESULTS.md).
func report(t testing.TB, scenario string, s summary, took time.Duration) {
	md := s.markdown(scenario, took)
	t.Logf("results:\n%s", md)
	if path := os.Getenv("BATON_PROOF_RESULTS"); path != "" {
		f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			t.Error(err)
			return
		}
		defer f.Close()
		fmt.Fprintln(f, md)
	}
}

// TestSoak runs conversations of every kind, messages both ways, every
// ending there is, on each store, then checks every invariant.
func TestSoak(t *testing.T) {
	eachStore(t, func(t *testing.T, store string) {
		start := time.Now()
		w := newWorld(t, store, 1)
		d := long(t)
		wave := 0
		for {
			w.soak(fmt.Sprintf("soak%d", wave), 2, 3)
			wave++
			if time.Since(start) >= d {
				break
			}
		}
		s := w.check(t, checkOpts{timerSlack: 3 * time.Second, blockBound: 5 * time.Second})
		report(t, "soak/"+store, s, time.Since(start))
	})
}

// TestCrash is the soak with SIGKILL at random moments, restarting each
// killed instance on the same database: one instance on SQLite, two (three
// in long mode) on PostgreSQL behind the driver's round robin, one killed
// at a time.
func TestCrash(t *testing.T) {
	eachStore(t, func(t *testing.T, store string) {
		start := time.Now()
		d := long(t)
		n := 1
		if store == "postgres" {
			n = 2
			if d > 0 {
				n = 3
			}
		}
		w := newWorld(t, store, n)
		w.crash = true
		if !leaseHonoured && store == "postgres" {
			t.Logf("note: the binary does not name BATON_JOB_LEASE; a killed instance's jobs may stay leased %v, tolerated", leaseBound)
		}
		stop := make(chan struct{})
		var killer sync.WaitGroup
		killer.Go(func() {
			kills := 0
			for {
				select {
				case <-stop:
					return
				case <-time.After(killEvery(d)):
				}
				if d == 0 && kills >= 3 {
					return
				}
				p := w.cl.procs[rand.N(len(w.cl.procs))]
				if _, err := w.cl.kill(p); err != nil {
					w.led.problem("restart after SIGKILL: %v", err)
					return
				}
				kills++
			}
		})
		wave := 0
		for {
			w.soak(fmt.Sprintf("crash%d", wave), 2, 3)
			wave++
			if time.Since(start) >= d && len(w.cl.killed()) >= 3 {
				break
			}
		}
		close(stop)
		killer.Wait()
		down := time.Duration(0)
		for _, k := range w.cl.killed() {
			down = max(down, k.restarted.Sub(k.at))
		}
		bound := down + 3*time.Second
		if store == "postgres" {
			bound += leaseBound
		}
		s := w.check(t, checkOpts{timerSlack: bound, blockBound: bound, settle: bound + 10*time.Second})
		if s.kills == 0 {
			t.Errorf("no instance was killed")
		}
		t.Logf("longest restart %v; lease bound %v (BATON_JOB_LEASE honoured: %v)", down.Round(time.Millisecond), leaseBound, leaseHonoured)
		report(t, "crash/"+store, s, time.Since(start))
	})
}
