package engine_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/inbox"
	"github.com/batonhq/baton/outbox"
	"github.com/batonhq/baton/sqlite"
)

// BenchmarkTimers seeds N open handoffs with pending timers (default 100,000;
// BATON_BENCH_TIMERS changes it), of which D (default 3,000;
// BATON_BENCH_TIMERS_DUE) fall due over the next 30 seconds and the rest in an
// hour, runs the worker, and reports how late the due ones fire (p50, p99,
// max) and the process's peak RSS.
//
//	go test -run '^$' -bench Timers -benchtime 1x ./engine
func BenchmarkTimers(b *testing.B) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("BATON_BENCH_TIMERS")); err == nil && v > 0 {
		n = v
	}
	d := 3000
	if v, err := strconv.Atoi(os.Getenv("BATON_BENCH_TIMERS_DUE")); err == nil && v > 0 {
		d = v
	}
	for b.Loop() {
		late, rss := timers(b, n, min(d, n))
		b.ReportMetric(float64(late[len(late)/2].Milliseconds()), "p50-late-ms")
		b.ReportMetric(float64(late[len(late)*99/100].Milliseconds()), "p99-late-ms")
		b.ReportMetric(float64(late[len(late)-1].Milliseconds()), "max-late-ms")
		b.ReportMetric(float64(rss)/(1<<20), "peak-rss-MiB")
	}
}

func timers(b *testing.B, n, d int) ([]time.Duration, int64) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "timers.db"), testKey)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	eng := newNode(st, func(d baton.DeskConfig) (baton.Desk, error) { return inbox.New(d) }, outbox.Config{})
	pol := baton.Policy{WaitTimeout: baton.Duration(time.Minute)}.Effective()
	err = st.Tx(ctx, func(tx baton.Tx) error {
		if err := tx.CreateWorkspace(baton.Workspace{ID: "ws"}); err != nil {
			return err
		}
		if err := tx.PutDesk(baton.DeskConfig{ID: "inbox", WorkspaceID: "ws", Kind: baton.KindInbox, Policy: &pol}); err != nil {
			return err
		}
		return tx.PutBot(baton.Bot{ID: "bot", WorkspaceID: "ws", DeskID: "inbox"})
	})
	if err != nil {
		b.Fatal(err)
	}
	// Queued handoffs: every (n/d)th one's minute of waiting ends 20 to 50 s
	// from now, the others' in an hour.
	start := time.Now().Add(20 * time.Second)
	due := map[string]time.Time{}
	for i := 0; i < n; i += 1000 {
		err := st.Tx(ctx, func(tx baton.Tx) error {
			for k := i; k < min(i+1000, n); k++ {
				at := start.Add(time.Hour)
				if k%(n/d) == 0 {
					at = start.Add(time.Duration(k) * 30 * time.Second / time.Duration(n))
				}
				at = at.UTC().Truncate(time.Microsecond)
				id := fmt.Sprintf("ho_%d", k)
				c := baton.Conversation{ID: fmt.Sprintf("cv_%d", k), WorkspaceID: "ws", BotID: "bot", ExternalID: fmt.Sprint(k),
					Owner: baton.OwnerHuman, Epoch: 1, HandoffID: id}
				since := at.Add(-time.Minute)
				h := baton.Handoff{ID: id, WorkspaceID: "ws", ConversationID: c.ID, ExternalID: c.ExternalID, BotID: "bot", DeskID: "inbox",
					State: baton.Queued, Epoch: 1, DeskRef: id, CreatedAt: since, QueuedAt: since, WaitingSince: since, LastMessageAt: since, LastCustomerAt: since}
				if err := tx.PutConversation(c); err != nil {
					return err
				}
				if err := tx.PutHandoff(h); err != nil {
					return err
				}
				if err := tx.PutJob(baton.Job{Kind: "timer", Key: "timer:" + id, HandoffID: id, RunAt: at,
					Payload: []byte(`{"ws":"ws","h":"` + id + `"}`)}); err != nil {
					return err
				}
				if k%(n/d) == 0 {
					due[id] = at
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	if time.Now().After(start) {
		b.Fatalf("seeding took longer than 20 s; lower BATON_BENCH_TIMERS")
	}
	wctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { eng.Run(wctx); close(done) }()
	defer func() { stop(); <-done }()
	var late []time.Duration
	var after int64
	deadline := start.Add(90 * time.Second)
	for len(late) < len(due) && time.Now().Before(deadline) {
		time.Sleep(500 * time.Millisecond)
		evs, err := eng.Events(ctx, "ws", "bot", after, 0)
		if err != nil {
			b.Fatal(err)
		}
		for _, ev := range evs {
			after = ev.Seq
			if ev.Type == baton.EventWaitTimeout {
				late = append(late, ev.CreatedAt.Sub(due[ev.HandoffID]))
			}
		}
	}
	if len(late) < len(due) {
		b.Fatalf("only %d of %d timers fired", len(late), len(due))
	}
	slices.Sort(late)
	return late, peakRSS()
}

// peakRSS reads VmHWM from /proc/self/status, in bytes (0 where there is none).
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}
