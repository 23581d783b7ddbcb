package relaybench

import (
	"context"
	"testing"
)

// benchmark runs one comparison and reports it: throughput of both sides,
// their ratio, and the p99 latency Baton adds at half of its maximum.
func benchmark(b *testing.B, run func(context.Context, Options) (Report, error), messages int, unit string) {
	for b.Loop() {
		rep, err := run(context.Background(), Options{Messages: messages, Conversations: 32, Dir: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		b.Log("\n" + rep.String())
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

// BenchmarkEvents: signed event delivery to a bot (committed, then posted from
// the outbox in order per conversation) against signing and posting the same
// bodies with no storage.
// Run: go test -run '^$' -bench Events -benchtime 1x ./relaybench
func BenchmarkEvents(b *testing.B) { benchmark(b, Events, 4000, "events") }

// TestDeliversEverythingOnce checks the benchmarks' own plumbing: on every
// side each message reaches its receiver exactly once.
func TestDeliversEverythingOnce(t *testing.T) {
	for name, run := range map[string]func(context.Context, Options) (Report, error){"relay": Run, "livechat": LiveChat, "events": Events} {
		t.Run(name, func(t *testing.T) {
			rep, err := run(context.Background(), Options{Messages: 200, Conversations: 8, Dir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Bare.Duplicates != 0 || rep.Baton.Duplicates != 0 || rep.Bare.PerSecond <= 0 || rep.Baton.PerSecond <= 0 {
				t.Fatalf("%v", rep)
			}
		})
	}
}
