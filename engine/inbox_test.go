package engine_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/batonhq/baton"
)

// TestInboxQueueClaimed: a claimed handoff leaves every other agent's
// waiting list at once and is in its holder's own list, answered or not.
func TestInboxQueueClaimed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStack(t, t.TempDir(), nil)
	bob := baton.InboxAgent{ID: "bob", WorkspaceID: s.ws, DeskID: s.desk, Name: "Bob", KeyHash: baton.HashKey("bob-key")}
	if err := s.store.Tx(ctx, func(tx baton.Tx) error { return tx.PutInboxAgent(bob) }); err != nil {
		t.Fatal(err)
	}
	claimed, free := s.create(t, "a"), s.create(t, "b")
	s.drain(t)
	if _, err := s.eng.Claim(ctx, s.ana, claimed.ID); err != nil {
		t.Fatal(err)
	}
	ids := func(hs []baton.Handoff) (out []string) {
		for _, h := range hs {
			out = append(out, h.ID)
		}
		return out
	}
	waiting, mine, err := s.eng.InboxQueue(ctx, bob)
	if err != nil || len(waiting) != 1 || waiting[0].ID != free.ID || len(mine) != 0 {
		t.Fatalf("Bob's lists: waiting %v, mine %v (%v); want only %s waiting", ids(waiting), ids(mine), err, free.ID)
	}
	waiting, mine, _ = s.eng.InboxQueue(ctx, s.ana)
	if len(waiting) != 1 || waiting[0].ID != free.ID || len(mine) != 1 || mine[0].ID != claimed.ID {
		t.Fatalf("Ana's lists: waiting %v, mine %v", ids(waiting), ids(mine))
	}
	if _, err := s.eng.Reply(ctx, s.ana, claimed.ID, "Hi, Ana here", nil); err != nil {
		t.Fatal(err)
	}
	if _, mine, _ = s.eng.InboxQueue(ctx, s.ana); len(mine) != 1 || mine[0].State != baton.Active {
		t.Fatalf("Ana's own after her reply: %v", ids(mine))
	}
}

// TestFirstReplyEpoch: the agent reply that begins the session is stored
// under the session's epoch, the one its event carries; the summary counts
// only the human segment, not the brief the desk was given.
func TestFirstReplyEpoch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStack(t, t.TempDir(), nil)
	h := s.create(t, "a")
	s.drain(t)
	if _, err := s.eng.Claim(ctx, s.ana, h.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.eng.Reply(ctx, s.ana, h.ID, "Hi, Ana here", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.eng.CustomerMessage(ctx, s.ws, h.ID, "thanks", nil); err != nil {
		t.Fatal(err)
	}
	ended, err := s.eng.EndByAgent(ctx, s.ana, h.ID)
	if err != nil {
		t.Fatal(err)
	}
	_, msgs, err := s.eng.Transcript(ctx, s.ws, h.ID)
	if err != nil {
		t.Fatal(err)
	}
	var reply baton.Message
	for _, m := range msgs {
		if m.Author == baton.ByAgent {
			reply = m
		}
	}
	for _, ev := range s.events(t) {
		if ev.Type == baton.EventAgentMessage && ev.Epoch != reply.Epoch {
			t.Errorf("the reply is stored at epoch %d, its event says %d", reply.Epoch, ev.Epoch)
		}
	}
	var sum baton.Summary
	if err := json.Unmarshal(ended.Summary, &sum); err != nil {
		t.Fatal(err)
	}
	if sum.CustomerMessages != 1 || sum.AgentMessages != 1 {
		t.Errorf("summary counts %d customer and %d agent messages; want 1 and 1 (the question is the brief)", sum.CustomerMessages, sum.AgentMessages)
	}
}
