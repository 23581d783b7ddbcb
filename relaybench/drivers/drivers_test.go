package drivers

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/relaybench"
	"github.com/batonhq/baton/relaybench/drivers/probe"
	"github.com/batonhq/baton/sqlstore"
)

var key = bytes.Repeat([]byte{7}, 32)

// seed opens a store on d that probe.Seed has seeded.
func seed(b *testing.B, d Driver) *sqlstore.Store {
	s, err := d.Open(b.Context(), filepath.Join(b.TempDir(), "baton.db"), key)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	if err := probe.Seed(b.Context(), s); err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkMessage is what the store does for one relayed message
// (probe.Message), from 32 concurrent senders, so that the group writer
// batches their commits. b.N / elapsed is messages per second.
func BenchmarkMessage(b *testing.B) {
	each(b, func(b *testing.B, d Driver) {
		s := seed(b, d)
		now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		var n atomic.Int64
		b.SetParallelism(16) // 32 senders on 2 cores
		cpu := cpuTime()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			ctx := context.Background()
			for pb.Next() {
				if err := probe.Message(ctx, s, int(n.Add(1)), now); err != nil {
					b.Fatal(err)
				}
			}
		})
		report(b, cpu, "msg/s")
	})
}

// BenchmarkAddMessage commits one message per transaction from one sender,
// as package sqlite's benchmark of the same name: no batching, each commit
// waits for its fsync.
func BenchmarkAddMessage(b *testing.B) {
	each(b, func(b *testing.B, d Driver) {
		s := seed(b, d)
		i := 0
		cpu := cpuTime()
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
		report(b, cpu, "commits/s")
	})
}

// each runs bench on every driver in turn, twice (sub-benchmarks
// driver/round1, driver/round2, alternating).
func each(b *testing.B, bench func(*testing.B, Driver)) {
	for round := 1; round <= 2; round++ {
		for _, d := range All() {
			b.Run(fmt.Sprintf("%s/round%d", d.Name, round), func(b *testing.B) { bench(b, d) })
		}
	}
}

// report reports operations per second as unit, and the process's CPU
// time per operation since cpu: on a shared machine it varies less than
// the wall time, which waits on fsync.
func report(b *testing.B, cpu time.Duration, unit string) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), unit)
	b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/float64(b.N), "cpu-µs/op")
}

// envInt is the environment variable name as a number, def when unset.
func envInt(tb testing.TB, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		tb.Fatalf("%s=%q: want a positive number", name, v)
	}
	return n
}

// cpuTime is the CPU time, user and system, that the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkHarness runs the delivery harness (relaybench.Suite, pipelines
// inbound and relay, every load) on each driver in turn, twice, in this one
// process, so that the machine's load falls on all of them alike. Each
// sub-benchmark is one driver, pipeline and round.
// BATON_BENCH_MESSAGES sets the closed loops' messages (5000),
// BATON_BENCH_ROUNDS the rounds (2) and BATON_BENCH_LOADS the loads, by
// name, comma-separated (all of relaybench.Loads).
func BenchmarkHarness(b *testing.B) {
	o := relaybench.Options{Messages: envInt(b, "BATON_BENCH_MESSAGES", 5000), Conversations: 64, Timeout: 5 * time.Minute}
	var loads []relaybench.Load
	if v := os.Getenv("BATON_BENCH_LOADS"); v != "" {
		for _, name := range strings.Split(v, ",") {
			i := slices.IndexFunc(relaybench.Loads, func(l relaybench.Load) bool { return l.Name == name })
			if i < 0 {
				b.Fatalf("BATON_BENCH_LOADS=%q: no load %q in relaybench.Loads", v, name)
			}
			loads = append(loads, relaybench.Loads[i])
		}
	}
	for round := 1; round <= envInt(b, "BATON_BENCH_ROUNDS", 2); round++ {
		for _, p := range []relaybench.Pipeline{"inbound", "relay"} {
			for _, d := range All() {
				b.Run(fmt.Sprintf("%s/%s/round%d", p, d.Name, round), func(b *testing.B) {
					so := o
					so.Dir = b.TempDir()
					so.SQLite = d.Open
					for b.Loop() {
						cpu := cpuTime()
						rep, err := relaybench.Suite(b.Context(), so, p, loads)
						// Both sides' CPU over every load: the bare sides'
						// is the same whatever the driver.
						b.ReportMetric((cpuTime() - cpu).Seconds(), "cpu-s")
						if err != nil {
							b.Fatal(err)
						}
						b.Log("\n" + rep.String())
						if !rep.Clean() {
							b.Fatal("a message was lost or doubled")
						}
						for _, l := range rep.Loads {
							b.ReportMetric(l.Ratio(), l.Load.Name+"-ratio")
							b.ReportMetric(l.Baton.PerSecond, l.Load.Name+"-baton/s")
							b.ReportMetric(l.Bare.PerSecond, l.Load.Name+"-bare/s")
							b.ReportMetric(float64(l.Baton.P99.Microseconds())/1000, l.Load.Name+"-p99-ms")
						}
					}
				})
			}
		}
	}
}
