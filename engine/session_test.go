package engine_test

import (
	"context"
	"encoding/json"
	"testing"
	"testing/synctest"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/engine"
)

// TestSessionExpires: a session opened by the start payload that nobody
// speaks in for the idle time ends idle_expired, and the bot is told the
// expired payload; a message either way restarts the wait.
func TestSessionExpires(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		s := newStack(t, dir, &baton.Policy{IdleExpiry: baton.Duration(30 * time.Minute), SessionTimeout: baton.Duration(time.Hour)})
		runWorker(t, s)
		ctx := context.Background()
		said, err := s.eng.CustomerSays(ctx, s.ws, engine.CustomerSays{ExternalID: "c1", Customer: baton.Customer{ID: "cu1"}, Payload: baton.DefaultSessionStart})
		if err != nil || said.Action != engine.SaidOpened {
			t.Fatalf("start: %+v %v", said, err)
		}
		h := said.Handoff
		time.Sleep(time.Second)
		synctest.Wait()
		if _, err := s.eng.Reply(ctx, s.ana, h.ID, "Hello, Ana here", nil); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Minute)
		if said, err := s.eng.CustomerSays(ctx, s.ws, engine.CustomerSays{ExternalID: "c1", Text: "still here"}); err != nil || said.Action != engine.SaidRelayed {
			t.Fatalf("message: %+v %v", said, err)
		}
		time.Sleep(29 * time.Minute) // 29 min since the customer's message
		synctest.Wait()
		if got := s.handoff(t, h.ID); got.State != baton.Active {
			t.Fatalf("29 min after the last message: %s %s, want active", got.State, got.EndReason)
		}
		time.Sleep(2 * time.Minute)
		synctest.Wait()
		if got := s.handoff(t, h.ID); got.State != baton.Ended || got.EndReason != baton.IdleExpired {
			t.Fatalf("31 min after: %s %s, want ended idle_expired", got.State, got.EndReason)
		}
		evs := s.events(t)
		var ended baton.EndedData
		if err := json.Unmarshal(evs[len(evs)-1].Data, &ended); err != nil || evs[len(evs)-1].Type != baton.EventEnded {
			t.Fatalf("last event %s: %v", evs[len(evs)-1].Type, err)
		}
		if ended.Payload != baton.DefaultSessionExpired {
			t.Fatalf("ended payload %q, want %q", ended.Payload, baton.DefaultSessionExpired)
		}
	})
}

// TestSessionRaces: the same conversation's start payload sent many times
// at once opens one handoff, the rest find it open and relay nothing; then messages
// racing the customer's end payload (with words of its own) are each
// relayed before the end or left to the bot after it, never relayed into
// an ended handoff.
func TestSessionRaces(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, st baton.Store) {
		s := newStackOn(t, st, nil, nil)
		ctx := context.Background()
		starts, errs := together(8, func(int) (engine.Said, error) {
			return s.eng.CustomerSays(ctx, s.ws, engine.CustomerSays{ExternalID: "c1", Customer: baton.Customer{ID: "cu1"}, Payload: baton.DefaultSessionStart, Text: "a person please"})
		})
		opened := 0
		for i, said := range starts {
			if errs[i] != nil {
				t.Fatalf("start %d: %v", i, errs[i])
			}
			if said.Action != engine.SaidOpened || said.Message.ID != "" {
				t.Fatalf("start %d: %+v, want opened and nothing relayed", i, said)
			}
			if !said.Before {
				opened++
			}
		}
		_, hs, err := s.eng.Conversation(ctx, s.ws, "", "c1")
		if err != nil || opened != 1 || len(hs) != 1 {
			t.Fatalf("%d opened, %d handoffs (%v), want 1 and 1", opened, len(hs), err)
		}
		if _, msgs, err := s.eng.Transcript(ctx, s.ws, hs[0].ID); err != nil || len(msgs) != 1 {
			t.Fatalf("the handoff holds %d messages (%v), want the question alone", len(msgs), err)
		}
		said, errs := together(6, func(i int) (engine.Said, error) {
			r := engine.CustomerSays{ExternalID: "c1", Text: "more"}
			if i == 3 {
				r.Payload = baton.DefaultSessionEnd
			}
			return s.eng.CustomerSays(ctx, s.ws, r)
		})
		relayed := map[string]bool{}
		for i, sd := range said {
			switch {
			case errs[i] != nil:
				t.Fatalf("message %d: %v", i, errs[i])
			case sd.Action == engine.SaidRelayed:
				relayed[sd.Message.ID] = true
			case i == 3 && sd.Action != engine.SaidEnded:
				t.Fatalf("the end payload: %s, want ended", sd.Action)
			case i == 3:
				relayed[sd.Message.ID] = true // its words reach the desk before the end
			}
		}
		_, msgs, err := s.eng.Transcript(ctx, s.ws, hs[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		in := 0
		for _, m := range msgs {
			if m.Author == baton.ByCustomer && m.Text == "more" {
				in++
				if !relayed[m.ID] {
					t.Errorf("message %s is in the handoff but was not answered relayed", m.ID)
				}
			}
		}
		if in != len(relayed) {
			t.Fatalf("%d messages in the handoff, %d answered relayed", in, len(relayed))
		}
	})
}
