package engine_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/batonhq/baton"
)

// deskEvent applies a desk event to the stack's handoff h, as its desk's
// inbound route would.
func (s *stack) deskEvent(t *testing.T, h baton.Handoff, ev baton.DeskEvent) {
	t.Helper()
	dc, err := s.eng.Desk(context.Background(), s.ws, s.desk)
	if err != nil {
		t.Fatal(err)
	}
	ev.Ref = s.handoff(t, h.ID).DeskRef
	if err := s.eng.ApplyDeskEvent(context.Background(), dc, ev); err != nil {
		t.Fatal(err)
	}
}

// ofType counts the events of type typ.
func ofType(evs []baton.Event, typ string) int {
	return count(evs, func(e baton.Event) bool { return e.Type == typ })
}

// TestPauseHoldsTheTimers: an agent's snooze for 15 minutes keeps the
// handoff open past its 5 min idle expiry and its 180 s session timeout; the timers count from the snooze's end. Told again, the same
// snooze tells the bot nothing more; a resume makes them count from the
// last message again, so the overdue handoff ends at once.
func TestPauseHoldsTheTimers(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		s := newStack(t, dir, &baton.Policy{IdleExpiry: baton.Duration(5 * time.Minute)})
		runWorker(t, s)
		ctx := context.Background()
		h := s.create(t, "c1")
		time.Sleep(time.Second)
		synctest.Wait()
		if _, err := s.eng.Reply(ctx, s.ana, h.ID, "Let me check with billing", nil); err != nil {
			t.Fatal(err)
		}
		until := time.Now().Add(15 * time.Minute)
		ana := baton.Agent{ID: s.ana.ID, Name: "Ana"}
		s.deskEvent(t, h, baton.DeskEvent{ID: "snooze-1", Type: baton.DeskAgentPaused, Agent: ana, Until: until})
		s.deskEvent(t, h, baton.DeskEvent{ID: "snooze-1b", Type: baton.DeskAgentPaused, Agent: ana, Until: until})
		time.Sleep(17 * time.Minute) // past the idle expiry, within 180 s of the snooze's end
		synctest.Wait()
		if got := s.handoff(t, h.ID); got.State != baton.Active {
			t.Fatalf("17 min in, snoozed for 15: %s %s, want active", got.State, got.EndReason)
		}
		time.Sleep(2 * time.Minute)
		synctest.Wait()
		if got := s.handoff(t, h.ID); got.State != baton.Ended || got.EndReason != baton.SessionTimeout {
			t.Fatalf("19 min in: %s %s, want ended session_timeout (180 s after the snooze)", got.State, got.EndReason)
		}
		evs := s.events(t)
		if n := ofType(evs, baton.EventAgentPaused); n != 1 {
			t.Fatalf("%d agent_paused events, want 1: %v", n, types(evs))
		}
		var d baton.AgentPausedData
		for _, e := range evs {
			if e.Type == baton.EventAgentPaused {
				if err := json.Unmarshal(e.Data, &d); err != nil {
					t.Fatal(err)
				}
			}
		}
		if !d.Until.Equal(until) || d.Agent.Name != "Ana" || d.HandoffID != h.ID {
			t.Fatalf("agent_paused data = %+v, want until %v by Ana", d, until)
		}

		// A resume before the end of a pause: the timers count from the last
		// message again.
		h2 := s.create(t, "c2")
		time.Sleep(time.Second)
		synctest.Wait()
		if _, err := s.eng.Reply(ctx, s.ana, h2.ID, "One moment", nil); err != nil {
			t.Fatal(err)
		}
		s.deskEvent(t, h2, baton.DeskEvent{ID: "snooze-2", Type: baton.DeskAgentPaused, Until: time.Now().Add(time.Hour)})
		time.Sleep(4 * time.Minute)
		synctest.Wait()
		if got := s.handoff(t, h2.ID); got.State != baton.Active {
			t.Fatalf("snoozed 4 min in: %s %s, want active", got.State, got.EndReason)
		}
		s.deskEvent(t, h2, baton.DeskEvent{ID: "unsnooze-2", Type: baton.DeskAgentResumed})
		time.Sleep(time.Second)
		synctest.Wait()
		if got := s.handoff(t, h2.ID); got.State != baton.Ended || got.EndReason != baton.SessionTimeout {
			t.Fatalf("resumed 4 min after the agent's message: %s %s, want ended session_timeout", got.State, got.EndReason)
		}
		if n := ofType(s.events(t), baton.EventAgentResumed); n != 1 {
			t.Fatalf("%d agent_resumed events, want 1", n)
		}
	})
}

// TestDeskReadReceipt: a desk's read event tells the bot once per customer
// message read; a read with nothing new, or a repeat, tells it nothing.
func TestDeskReadReceipt(t *testing.T) {
	t.Parallel()
	s := newStack(t, t.TempDir(), nil)
	ctx := context.Background()
	h := s.create(t, "c1")
	s.drain(t)
	if _, err := s.eng.Reply(ctx, s.ana, h.ID, "Hello", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.eng.CustomerMessage(ctx, s.ws, h.ID, "my order is late", nil); err != nil {
		t.Fatal(err)
	}
	s.deskEvent(t, h, baton.DeskEvent{ID: "read-1", Type: baton.DeskAgentRead})
	s.deskEvent(t, h, baton.DeskEvent{ID: "read-1", Type: baton.DeskAgentRead}) // a duplicate delivery
	s.deskEvent(t, h, baton.DeskEvent{ID: "read-2", Type: baton.DeskAgentRead}) // nothing new
	if n := ofType(s.events(t), baton.EventAgentRead); n != 1 {
		t.Fatalf("%d agent_read events, want 1: %v", n, types(s.events(t)))
	}
	if _, err := s.eng.CustomerMessage(ctx, s.ws, h.ID, "hello?", nil); err != nil {
		t.Fatal(err)
	}
	s.deskEvent(t, h, baton.DeskEvent{ID: "read-3", Type: baton.DeskAgentRead, At: time.Now().Add(time.Hour)}) // a desk clock ahead
	evs := s.events(t)
	if n := ofType(evs, baton.EventAgentRead); n != 2 {
		t.Fatalf("%d agent_read events, want 2", n)
	}
	var d baton.AgentReadData
	if err := json.Unmarshal(evs[len(evs)-1].Data, &d); err != nil {
		t.Fatal(err)
	}
	if d.ReadAt.After(time.Now()) || d.Agent.ID != s.ana.ID {
		t.Fatalf("read data = %+v: want the holding agent, read no later than now", d)
	}
	if !slices.Contains(types(evs), baton.EventAgentMessage) {
		t.Fatal("no agent message event")
	}
}
