package relaybench

import (
	"context"
	"testing"
)

// BenchmarkRelay reports Baton's relay throughput as a ratio of a bare Go relay
// measured in the same run, and the p99 latency Baton adds.
// Run: go test -run '^$' -bench Relay -benchtime 1x ./relaybench
func BenchmarkRelay(b *testing.B) {
	for b.Loop() {
		rep, err := Run(context.Background(), Options{Messages: 4000, Conversations: 32, Dir: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		b.Log("\n" + rep.String())
		b.ReportMetric(rep.ThroughputRatio, "ratio")
		b.ReportMetric(rep.Baton.PerSecond, "baton-msg/s")
		b.ReportMetric(rep.Bare.PerSecond, "bare-msg/s")
		b.ReportMetric(float64(rep.AddedP99.Microseconds())/1000, "added-p99-ms@half")
	}
}

// TestRelayDeliversEverythingOnce checks the benchmark's own plumbing: every
// message reaches the desk exactly once on both sides.
func TestRelayDeliversEverythingOnce(t *testing.T) {
	rep, err := Run(context.Background(), Options{Messages: 200, Conversations: 8, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Bare.Duplicates != 0 || rep.Baton.Duplicates != 0 {
		t.Fatalf("duplicates: %v", rep)
	}
	if rep.Baton.PerSecond <= 0 || rep.Bare.PerSecond <= 0 {
		t.Fatalf("no throughput: %v", rep)
	}
}

// BenchmarkLiveChat is BenchmarkRelay into the LiveChat simulator: the
// baseline calls send_event as the customer, Baton relays through its
// LiveChat desk.
// Run: go test -run '^$' -bench LiveChat -benchtime 1x ./relaybench
func BenchmarkLiveChat(b *testing.B) {
	for b.Loop() {
		rep, err := LiveChat(context.Background(), Options{Messages: 3000, Conversations: 32, Dir: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		b.Log("\n" + rep.String())
		b.ReportMetric(rep.ThroughputRatio, "ratio")
		b.ReportMetric(rep.Baton.PerSecond, "baton-msg/s")
		b.ReportMetric(rep.Bare.PerSecond, "bare-msg/s")
		b.ReportMetric(float64(rep.AddedP99.Microseconds())/1000, "added-p99-ms@half")
	}
}

// TestLiveChatDeliversEverythingOnce checks the LiveChat plumbing of the benchmark.
func TestLiveChatDeliversEverythingOnce(t *testing.T) {
	rep, err := LiveChat(context.Background(), Options{Messages: 200, Conversations: 8, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Bare.Duplicates != 0 || rep.Baton.Duplicates != 0 || rep.Baton.PerSecond <= 0 {
		t.Fatalf("%v", rep)
	}
}

// BenchmarkEvents reports signed event delivery to a bot (committed, then
// posted from the outbox in order per conversation) against signing and
// posting the same bodies with no storage.
// Run: go test -run '^$' -bench Events -benchtime 1x ./relaybench
func BenchmarkEvents(b *testing.B) {
	for b.Loop() {
		rep, err := Events(context.Background(), Options{Messages: 4000, Conversations: 32, Dir: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		b.Log("\n" + rep.String())
		b.ReportMetric(rep.ThroughputRatio, "ratio")
		b.ReportMetric(rep.Baton.PerSecond, "baton-events/s")
		b.ReportMetric(rep.Bare.PerSecond, "bare-events/s")
		b.ReportMetric(float64(rep.HalfBaton.P99.Microseconds())/1000, "baton-p99-ms@half")
	}
}

// TestEventsDeliveredOnceSigned checks the event benchmark's plumbing.
func TestEventsDeliveredOnceSigned(t *testing.T) {
	rep, err := Events(context.Background(), Options{Messages: 200, Conversations: 8, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Baton.Duplicates != 0 || rep.Baton.PerSecond <= 0 {
		t.Fatalf("%v", rep)
	}
}
