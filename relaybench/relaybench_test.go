package relaybench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/batonhq/baton/postgres/pgtest"
	"github.com/batonhq/baton/sqlite"
	"github.com/batonhq/baton/sqlstore"
)

// exactlyOnce fails tb unless r delivered its n messages, each once.
// drive already refuses a run in which one of them never arrived.
func exactlyOnce(tb testing.TB, r Result, n int) {
	tb.Helper()
	if r.Messages != n || r.Duplicates != 0 || r.PerSecond <= 0 {
		tb.Fatalf("want %d messages, each delivered once: %v", n, r)
	}
}

// benchmark runs one comparison and reports it: throughput of both sides,
// their ratio, and the p99 latency Baton adds at half of its maximum. Every
// message of the four runs must be delivered exactly once.
func benchmark(b *testing.B, run func(context.Context, Options) (Report, error), messages int, unit string) {
	for b.Loop() {
		rep, err := run(context.Background(), Options{Messages: messages, Conversations: 32, Dir: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		b.Log("\n" + rep.String())
		for _, r := range []Result{rep.Bare, rep.Baton} {
			exactlyOnce(b, r, messages)
		}
		for _, r := range []Result{rep.HalfBare, rep.HalfBaton} {
			exactlyOnce(b, r, r.Messages)
		}
		b.ReportMetric(rep.ThroughputRatio, "ratio")
		b.ReportMetric(rep.Baton.PerSecond, "baton-"+unit+"/s")
		b.ReportMetric(rep.Bare.PerSecond, "bare-"+unit+"/s")
		b.ReportMetric(float64(rep.AddedP99.Microseconds())/1000, "added-p99-ms@half")
		b.ReportMetric(float64(rep.HalfBaton.P99.Microseconds())/1000, "baton-p99-ms@half")
	}
}

// BenchmarkRelay: customer messages through the webhook desk against a bare
// Go relay that stores nothing.
// Run: go test -run '^$' -bench Relay -benchtime 1x ./relaybench
func BenchmarkRelay(b *testing.B) { benchmark(b, Run, 4000, "msg") }

// BenchmarkLiveChat: the same into the LiveChat simulator; the baseline calls
// send_event as the customer, Baton relays through its LiveChat desk.
// Run: go test -run '^$' -bench LiveChat -benchtime 1x ./relaybench
func BenchmarkLiveChat(b *testing.B) { benchmark(b, LiveChat, 3000, "msg") }

// BenchmarkGorgias: the same into the Gorgias simulator, its leaky bucket
// (and the desk's limiter) set far above the load; the baseline posts the
// ticket messages as the customer, Baton relays through its Gorgias desk.
// Run: go test -run '^$' -bench Gorgias -benchtime 1x ./relaybench
func BenchmarkGorgias(b *testing.B) { benchmark(b, Gorgias, 3000, "msg") }

// BenchmarkIntercom: the same into the Intercom simulator, its rate limit
// set far above the load; the baseline posts the user replies as the
// conversation's contact, Baton relays through its Intercom desk.
// Run: go test -run '^$' -bench Intercom -benchtime 1x ./relaybench
func BenchmarkIntercom(b *testing.B) { benchmark(b, Intercom, 3000, "msg") }

// BenchmarkEvents: signed event delivery to a bot (committed, then posted from
// the outbox in order per conversation) against signing and posting the same
// bodies with no storage.
// Run: go test -run '^$' -bench Events -benchtime 1x ./relaybench
func BenchmarkEvents(b *testing.B) { benchmark(b, Events, 4000, "events") }

// pipelines are the three comparisons, by their sides: what Run, LiveChat
// and Events hand to compare.
var pipelines = []struct {
	name        string
	bare, baton side
}{
	{"relay", bareRelay, throughBaton},
	{"inbound", bareInbound, batonInbound},
	{"livechat", bareLiveChat, batonLiveChat},
	{"gorgias", bareGorgias, batonGorgias},
	{"intercom", bareIntercom, batonIntercom},
	{"events", bareEvents, batonEvents},
}

// TestDeliversEverythingOnce checks the benchmarks' own plumbing on a small
// load: on every side of every pipeline, as fast as the clients send and
// offered at a fixed rate (open loop, as compare's half-load runs), each
// message reaches its receiver exactly once. The benchmarks check the same
// at full size; TestCompare checks what compare makes of the sides.
func TestDeliversEverythingOnce(t *testing.T) {
	t.Parallel()
	for _, p := range pipelines {
		for _, s := range []struct {
			name string
			run  side
		}{{"bare", p.bare}, {"baton", p.baton}} {
			t.Run(p.name+"/"+s.name, func(t *testing.T) {
				t.Parallel()
				for _, rate := range []float64{0, 400} {
					o := defaults(Options{Messages: 120, Conversations: 6, Rate: rate, Dir: t.TempDir(), Timeout: time.Minute})
					r, err := s.run(t.Context(), o)
					if err != nil {
						t.Fatalf("at rate %v: %v", rate, err)
					}
					exactlyOnce(t, r, o.Messages)
				}
			})
		}
	}
}

// TestCompare: compare runs both sides as fast as they go, then both again
// open loop at half of Baton's throughput for about 3 s of traffic (at
// least 500 messages, at most as many as at full speed), and reports the
// ratios.
func TestCompare(t *testing.T) {
	t.Parallel()
	var calls []string
	fake := func(name string, perSecond float64, p99 time.Duration) side {
		return func(_ context.Context, o Options) (Result, error) {
			calls = append(calls, fmt.Sprintf("%s %d@%v", name, o.Messages, o.Rate))
			return Result{Name: name, Messages: o.Messages, PerSecond: perSecond, P99: p99}, nil
		}
	}
	for _, c := range []struct {
		messages  int
		batonRate float64
		half      int // messages of the half-load runs
	}{
		{messages: 5000, batonRate: 1000, half: 1500}, // 3 s at 500/s
		{messages: 1000, batonRate: 1000, half: 1000}, // no more than at full speed
		{messages: 5000, batonRate: 100, half: 500},   // at least 500
	} {
		calls = nil
		rep, err := compare(t.Context(), Options{Messages: c.messages}, fake("bare", 4*c.batonRate, time.Millisecond), fake("baton", c.batonRate, 3*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		half := c.batonRate / 2
		want := []string{
			fmt.Sprintf("bare %d@0", c.messages), fmt.Sprintf("baton %d@0", c.messages),
			fmt.Sprintf("bare %d@%v", c.half, half), fmt.Sprintf("baton %d@%v", c.half, half),
		}
		if fmt.Sprint(calls) != fmt.Sprint(want) {
			t.Errorf("%d messages, Baton at %v/s: the runs were %q, want %q", c.messages, c.batonRate, calls, want)
		}
		if rep.ThroughputRatio != 0.25 || rep.AddedP99 != 2*time.Millisecond || rep.HalfBaton.Messages != c.half {
			t.Errorf("%d messages, Baton at %v/s: ratio %v, added p99 %v, half-load messages %d; want 0.25, 2ms, %d",
				c.messages, c.batonRate, rep.ThroughputRatio, rep.AddedP99, rep.HalfBaton.Messages, c.half)
		}
	}
}

// BenchmarkDelivery is the delivery harness: each pipeline ("inbound":
// agents' replies posted to the webhook desk's inbound endpoint, delivered
// to the bot as signed events; "relay": customers' messages into the bot
// API, delivered to the desk's service) on each store, against its bare
// baseline in the same run, closed loop with 8 and 32 clients and paced
// at 100/s. BATON_BENCH_CONVERSATIONS sets the open conversations (64),
// BATON_BENCH_MESSAGES the closed loops' messages (5000) and
// BATON_BENCH_INSTANCES the instances sharing the PostgreSQL database (1);
// BATON_BENCH_SQLITE_SYNC=normal runs SQLite with synchronous=NORMAL;
// BATON_BENCH_PROFILE names a directory for a CPU profile of Baton's side
// of each load (baton-<store>-<pipeline>-<load>.cpu).
// Run: go test -run '^$' -bench Delivery -benchtime 1x -timeout 60m ./relaybench
func BenchmarkDelivery(b *testing.B) {
	o := Options{Messages: envInt(b, "BATON_BENCH_MESSAGES", 5000), Conversations: envInt(b, "BATON_BENCH_CONVERSATIONS", 64),
		Instances: envInt(b, "BATON_BENCH_INSTANCES", 1), Timeout: 5 * time.Minute}
	if os.Getenv("BATON_BENCH_SQLITE_SYNC") == string(sqlite.SyncNormal) {
		o.SQLite = func(ctx context.Context, path string, key []byte) (*sqlstore.Store, error) {
			return sqlite.OpenSync(ctx, path, key, sqlite.SyncNormal)
		}
	}
	if dir := os.Getenv("BATON_BENCH_PROFILE"); dir != "" {
		o.Profile = filepath.Join(dir, "baton")
	}
	for _, store := range []string{"sqlite", "postgres"} {
		for _, p := range []Pipeline{"inbound", "relay"} {
			b.Run(store+"/"+string(p), func(b *testing.B) {
				so := o
				so.Dir = b.TempDir()
				if so.Profile != "" {
					so.Profile += "-" + store
				}
				if store == "postgres" {
					so.Postgres = func() (string, error) { return pgtest.Migrated(b), nil }
				} else {
					so.Instances = 1
				}
				for b.Loop() {
					rep, err := Suite(b.Context(), so, p, nil)
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
						b.ReportMetric(float64(l.Baton.P99.Microseconds())/1000, l.Load.Name+"-p99-ms")
					}
					b.ReportMetric(rep.Saturation(), "sat/paced-p99")
				}
			})
		}
	}
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

// TestSuiteSmoke runs the delivery harness small on both stores (two
// instances on PostgreSQL, each of a few connections, so that the suite
// keeps within the server's connections beside the other packages'
// tests): every message of every load arrives exactly once. It asserts
// nothing about speed.
func TestSuiteSmoke(t *testing.T) {
	t.Parallel()
	loads := []Load{{"closed-8", 8, 0}, {"paced-100", 4, 200}}
	for _, store := range []string{"sqlite", "postgres"} {
		for _, p := range []Pipeline{"inbound", "relay"} {
			t.Run(store+"/"+string(p), func(t *testing.T) {
				t.Parallel()
				o := Options{Messages: 150, Conversations: 10, Dir: t.TempDir(), Timeout: time.Minute, Pool: 5}
				if store == "postgres" {
					o.Postgres = func() (string, error) { return pgtest.Migrated(t), nil }
					if p == "inbound" {
						o.Instances = 2
					}
				}
				rep, err := Suite(t.Context(), o, p, loads)
				if err != nil {
					t.Fatal(err)
				}
				if !rep.Clean() {
					t.Fatalf("a message was lost or doubled:\n%v", rep)
				}
			})
		}
	}
}
