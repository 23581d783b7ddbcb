package engine_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/demo"
	"github.com/batonhq/baton/engine"
)

// In these tests the worker runs in a synctest bubble: time.Sleep advances a
// virtual clock, so the 60 s, 180 s and 30 min defaults are exercised as they are.

func runWorker(t *testing.T, s *stack) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.eng.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

func TestWaitTimeoutDefault(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		s := newStack(t, dir, nil)
		runWorker(t, s)
		h := s.create(t, "c1")
		time.Sleep(time.Second)
		synctest.Wait()
		if got := s.handoff(t, h.ID); got.State != baton.Queued {
			t.Fatalf("state after 1s = %s, want queued", got.State)
		}
		time.Sleep(58 * time.Second) // 59 s after queueing: not yet
		synctest.Wait()
		if slices.Contains(types(s.events(t)), baton.EventWaitTimeout) {
			t.Fatal("wait timeout fired before 60 s")
		}
		time.Sleep(2 * time.Second) // 61 s
		synctest.Wait()
		if !slices.Contains(types(s.events(t)), baton.EventWaitTimeout) {
			t.Fatalf("no wait timeout event after 61 s: %v", types(s.events(t)))
		}
		// The bot keeps waiting: the clock restarts.
		if _, err := s.eng.KeepWaiting(context.Background(), s.ws, h.ID); err != nil {
			t.Fatal(err)
		}
		time.Sleep(90 * time.Second) // past the grace period measured from the first notice
		synctest.Wait()
		if got := s.handoff(t, h.ID); got.State != baton.Queued {
			t.Fatalf("after keep-waiting state = %s %s, want queued", got.State, got.EndReason)
		}
		// No answer to the second notice: ends with wait_timeout after the grace.
		time.Sleep(60 * time.Second)
		synctest.Wait()
		got := s.handoff(t, h.ID)
		if got.State != baton.Ended || got.EndReason != baton.WaitTimeout {
			t.Fatalf("state = %s %s, want ended wait_timeout", got.State, got.EndReason)
		}
		want := []string{baton.EventQueued, baton.EventWaitTimeout, baton.EventWaitTimeout, baton.EventEnded}
		if got := types(s.events(t)); !slices.Equal(got, want) {
			t.Fatalf("events = %v, want %v", got, want)
		}
	})
}

func TestSessionTimeoutDefault(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		s := newStack(t, dir, nil)
		runWorker(t, s)
		ctx := context.Background()
		h := s.create(t, "c1")
		time.Sleep(time.Second)
		synctest.Wait()
		if _, err := s.eng.Reply(ctx, s.ana, h.ID, "Hi, Ana here", nil); err != nil {
			t.Fatal(err)
		}
		time.Sleep(170 * time.Second)
		// The customer answers: the session clock stops until the agent speaks again.
		if _, err := s.eng.CustomerMessage(ctx, s.ws, h.ID, "thanks", nil); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Minute)
		synctest.Wait()
		if got := s.handoff(t, h.ID); got.State != baton.Active {
			t.Fatalf("state = %s %s, want active (customer replied last)", got.State, got.EndReason)
		}
		if _, err := s.eng.Reply(ctx, s.ana, h.ID, "Anything else?", nil); err != nil {
			t.Fatal(err)
		}
		time.Sleep(179 * time.Second)
		synctest.Wait()
		if got := s.handoff(t, h.ID); got.State != baton.Active {
			t.Fatalf("ended before 180 s: %s", got.EndReason)
		}
		time.Sleep(2 * time.Second)
		synctest.Wait()
		got := s.handoff(t, h.ID)
		if got.State != baton.Ended || got.EndReason != baton.SessionTimeout {
			t.Fatalf("state = %s %s, want ended session_timeout", got.State, got.EndReason)
		}
	})
}

func TestIdleExpiryDefault(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// A long session timeout so that idle expiry (30 min) is what ends it.
	pol := &baton.Policy{SessionTimeout: baton.Duration(time.Hour)}
	synctest.Test(t, func(t *testing.T) {
		s := newStack(t, dir, pol)
		runWorker(t, s)
		ctx := context.Background()
		h := s.create(t, "c1")
		time.Sleep(time.Second)
		synctest.Wait()
		if _, err := s.eng.Reply(ctx, s.ana, h.ID, "Hi", nil); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Minute)
		if _, err := s.eng.CustomerMessage(ctx, s.ws, h.ID, "still here", nil); err != nil {
			t.Fatal(err)
		}
		time.Sleep(29 * time.Minute) // 49 min since start, 29 since the last message
		synctest.Wait()
		if got := s.handoff(t, h.ID); got.State != baton.Active {
			t.Fatalf("expired early: %s", got.EndReason)
		}
		time.Sleep(2 * time.Minute)
		synctest.Wait()
		got := s.handoff(t, h.ID)
		if got.State != baton.Ended || got.EndReason != baton.IdleExpired {
			t.Fatalf("state = %s %s, want ended idle_expired", got.State, got.EndReason)
		}
	})
}

// TestClaimEndsTheWait: an agent who claimed the handoff is not "nobody
// came". Under the default policy a claim at 30 s stops the wait timeout
// (60 s, then 60 s of grace) from ending it; from the claim the session
// timer governs, and ends it 180 s after the claim if the agent says nothing.
func TestClaimEndsTheWait(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		s := newStack(t, dir, nil)
		runWorker(t, s)
		ctx := context.Background()
		h := s.create(t, "c1")
		time.Sleep(30 * time.Second)
		synctest.Wait()
		if _, err := s.eng.Claim(ctx, s.ana, h.ID); err != nil {
			t.Fatal(err)
		}
		time.Sleep(179 * time.Second)
		synctest.Wait()
		if got := s.handoff(t, h.ID); got.State != baton.Queued {
			t.Fatalf("179 s after the claim: %s %s, want queued", got.State, got.EndReason)
		}
		time.Sleep(2 * time.Second)
		synctest.Wait()
		got := s.handoff(t, h.ID)
		if got.State != baton.Ended || got.EndReason != baton.SessionTimeout {
			t.Fatalf("181 s after the claim: %s %s, want ended session_timeout", got.State, got.EndReason)
		}
		want := []string{baton.EventQueued, baton.EventAgentJoined, baton.EventEnded}
		if got := types(s.events(t)); !slices.Equal(got, want) {
			t.Fatalf("events = %v, want %v", got, want)
		}
	})
}

// TestDemoAtReadingSpeed: the demo's walk under the demo's policy, each
// step two minutes after the previous, as a person reading it does: the
// agent claims, replies, the customer answers and the agent ends it.
func TestDemoAtReadingSpeed(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		s := newStack(t, dir, demo.Policy())
		runWorker(t, s)
		ctx := context.Background()
		h := s.create(t, "c1")
		steps := []func() error{
			func() error { _, _, err := s.eng.InboxQueue(ctx, s.ana); return err },
			func() error { _, err := s.eng.Claim(ctx, s.ana, h.ID); return err },
			func() error { _, err := s.eng.Reply(ctx, s.ana, h.ID, "Hello, Ana here", nil); return err },
			func() error { _, err := s.eng.CustomerMessage(ctx, s.ws, h.ID, "thanks", nil); return err },
			func() error { _, err := s.eng.EndByAgent(ctx, s.ana, h.ID); return err },
		}
		for i, step := range steps {
			time.Sleep(2 * time.Minute)
			synctest.Wait()
			if err := step(); err != nil {
				t.Fatalf("step %d, %d minutes in: %v (handoff %+v)", i+2, 2*(i+1), err, s.handoff(t, h.ID))
			}
		}
		if got := s.handoff(t, h.ID); got.EndReason != baton.AgentClosed {
			t.Fatalf("ended %s, want agent_closed", got.EndReason)
		}
	})
}

// TestSummaryValues: a handoff no agent came to ends with a summary that
// has no agent and an empty transcript (an array, not null); its
// waited_seconds, in the wait-timeout events and the summary, count from
// the first queue, across a keep-waiting. A bot message under an epoch
// ahead of the conversation's is refused as unknown, not as stale.
func TestSummaryValues(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		s := newStack(t, dir, nil)
		runWorker(t, s)
		ctx := context.Background()
		h := s.create(t, "c1")
		time.Sleep(70 * time.Second) // queued at once; the wait timeout at 60 s
		synctest.Wait()
		if _, err := s.eng.KeepWaiting(ctx, s.ws, h.ID); err != nil {
			t.Fatal(err)
		}
		time.Sleep(65 * time.Second) // the second wait timeout at 130 s
		synctest.Wait()
		if _, err := s.eng.End(ctx, s.ws, h.ID, baton.BotClosed); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		var waited []int64
		var summary map[string]json.RawMessage
		for _, ev := range s.events(t) {
			var d struct {
				WaitedSeconds int64                      `json:"waited_seconds"`
				Summary       map[string]json.RawMessage `json:"summary"`
			}
			if err := json.Unmarshal(ev.Data, &d); err != nil {
				t.Fatal(err)
			}
			switch ev.Type {
			case baton.EventWaitTimeout:
				waited = append(waited, d.WaitedSeconds)
			case baton.EventEnded:
				summary = d.Summary
			}
		}
		if !slices.Equal(waited, []int64{60, 130}) {
			t.Errorf("wait-timeout events say waited %v s, want [60 130] (from the first queue)", waited)
		}
		if _, ok := summary["agent"]; ok {
			t.Errorf("summary has agent %s; want none: no agent came", summary["agent"])
		}
		if got := string(summary["transcript"]); got != "[]" {
			t.Errorf("summary transcript %s, want []", got)
		}
		if got := string(summary["waited_seconds"]); got != "135" {
			t.Errorf("summary waited_seconds %s, want 135 (from the first queue to the end)", got)
		}
		c, _, err := s.eng.Conversation(ctx, s.ws, s.bot, "c1")
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			epoch int64
			want  string
		}{{c.Epoch - 1, "is stale"}, {c.Epoch + 1, "is ahead"}} {
			_, err := s.eng.BotMessage(ctx, s.ws, engine.BotSays{ExternalID: "c1", Epoch: c.epoch, Text: "hi"})
			if baton.ErrorCode(err) != baton.ESTALE || !strings.Contains(err.Error(), c.want) {
				t.Errorf("bot message at epoch %d: %v, want stale_epoch saying %q", c.epoch, err, c.want)
			}
		}
	})
}
