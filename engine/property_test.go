package engine_test

import (
	"context"
	"os"
	"testing"
	"testing/synctest"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/engine"
	"pgregory.net/rapid"
)

// TestOwnershipProperties drives random sequences of bot API calls, inbox
// agent actions, late desk events and clock advances, and checks the ownership
// invariants after every step.
func TestOwnershipProperties(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		// rapid asks *testing.T for its deadline, which a bubble forbids; hide it.
		rapid.Check(bubbleTB{t}, func(rt *rapid.T) {
			dir, err := os.MkdirTemp(root, "prop")
			if err != nil {
				rt.Fatal(err)
			}
			rt.Cleanup(func() { os.RemoveAll(dir) })
			s := newStack(rt, dir, nil)
			m := &model{s: s, epochs: map[string]int64{}, ended: map[string]bool{}}
			rt.Repeat(map[string]func(*rapid.T){
				"create":        m.create,
				"customer":      m.customer,
				"botSpeaks":     m.botSpeaks,
				"keepWaiting":   m.keepWaiting,
				"end":           m.end,
				"claim":         m.claim,
				"agentReply":    m.agentReply,
				"agentClose":    m.agentClose,
				"lateDeskEvent": m.lateDeskEvent,
				"advance":       m.advance,
				"":              m.check,
			})
		})
	})
}

// bubbleTB is a *testing.T that rapid does not recognise as one.
type bubbleTB struct{ *testing.T }

var convs = []string{"a", "b", "c"}

type model struct {
	s      *stack
	epochs map[string]int64 // last epoch seen per conversation
	ended  map[string]bool  // handoffs seen ended
}

func (m *model) ctx() context.Context { return context.Background() }

// open returns the conversation's open handoff, if any.
func (m *model) open(t *rapid.T, conv string) (baton.Handoff, bool) {
	c, hs, err := m.s.eng.Conversation(m.ctx(), m.s.ws, m.s.bot, conv)
	if baton.ErrorCode(err) == baton.ENOTFOUND {
		return baton.Handoff{}, false
	} else if err != nil {
		t.Fatal(err)
	}
	for _, h := range hs {
		if h.ID == c.HandoffID {
			return h, true
		}
	}
	return baton.Handoff{}, false
}

func (m *model) pickOpen(t *rapid.T) baton.Handoff {
	conv := rapid.SampledFrom(convs).Draw(t, "conv")
	h, ok := m.open(t, conv)
	if !ok {
		t.Skip("no open handoff")
	}
	return h
}

func (m *model) create(t *rapid.T) {
	conv := rapid.SampledFrom(convs).Draw(t, "conv")
	_, had := m.open(t, conv)
	h, _, err := m.s.eng.CreateHandoff(m.ctx(), m.s.ws, baton.CreateRequest{ExternalID: conv, Customer: baton.Customer{ID: conv}, Question: "human please"})
	if had {
		if baton.ErrorCode(err) != baton.ECONFLICT {
			t.Fatalf("second open handoff on %s: err %v", conv, err)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	if h.State != baton.Requested {
		t.Fatalf("new handoff state %s", h.State)
	}
}

func (m *model) customer(t *rapid.T) {
	h := m.pickOpen(t)
	_, err := m.s.eng.CustomerMessage(m.ctx(), m.s.ws, h.ID, "more", nil)
	if err != nil {
		t.Fatal(err)
	}
}

// botSpeaks tries to speak under the epoch the bot last saw, or a random one;
// it must succeed exactly when the bot owns the conversation at that epoch.
func (m *model) botSpeaks(t *rapid.T) {
	conv := rapid.SampledFrom(convs).Draw(t, "conv")
	c, _, err := m.s.eng.Conversation(m.ctx(), m.s.ws, m.s.bot, conv)
	owner, epoch := baton.OwnerBot, int64(0)
	if err == nil {
		owner, epoch = c.Owner, c.Epoch
	}
	try := rapid.SampledFrom([]int64{epoch, epoch - 1, epoch + 1, m.epochs[conv]}).Draw(t, "epoch")
	_, err = m.s.eng.BotMessage(m.ctx(), m.s.ws, engine.BotSays{BotID: m.s.bot, ExternalID: conv, Epoch: try, Text: "bot says"})
	allowed := owner == baton.OwnerBot && try == epoch
	if allowed && err != nil {
		t.Fatalf("bot refused at its own epoch %d: %v", try, err)
	}
	if try < 0 && baton.ErrorCode(err) == baton.EINVALID {
		return // epochs start at 0: a negative one is malformed, not stale
	}
	if !allowed && baton.ErrorCode(err) != baton.ESTALE {
		t.Fatalf("bot spoke with owner %s epoch %d (tried %d): err %v", owner, epoch, try, err)
	}
}

func (m *model) keepWaiting(t *rapid.T) {
	h := m.pickOpen(t)
	_, err := m.s.eng.KeepWaiting(m.ctx(), m.s.ws, h.ID)
	if (h.State == baton.Queued) != (err == nil) {
		t.Fatalf("keep waiting in %s: %v", h.State, err)
	}
}

func (m *model) end(t *rapid.T) {
	h := m.pickOpen(t)
	reason := rapid.SampledFrom([]baton.EndReason{baton.BotClosed, baton.CustomerClosed}).Draw(t, "reason")
	got, err := m.s.eng.End(m.ctx(), m.s.ws, h.ID, reason)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != baton.Ended || got.EndReason != reason {
		t.Fatalf("end gave %s %s", got.State, got.EndReason)
	}
}

func (m *model) claim(t *rapid.T) {
	h := m.pickOpen(t)
	_, err := m.s.eng.Claim(m.ctx(), m.s.ana, h.ID)
	if (h.State == baton.Requested) != (err != nil) {
		t.Fatalf("claim in %s: %v", h.State, err)
	}
}

func (m *model) agentReply(t *rapid.T) {
	h := m.pickOpen(t)
	_, err := m.s.eng.Reply(m.ctx(), m.s.ana, h.ID, "agent says", nil)
	if (h.State == baton.Requested) != (err != nil) {
		t.Fatalf("reply in %s: %v", h.State, err)
	}
}

func (m *model) agentClose(t *rapid.T) {
	h := m.pickOpen(t)
	_, err := m.s.eng.EndByAgent(m.ctx(), m.s.ana, h.ID)
	if err != nil {
		t.Fatal(err)
	}
}

// lateDeskEvent replays an agent message onto an ended handoff, as a desk
// might after the end: it must be kept but never relayed.
func (m *model) lateDeskEvent(t *rapid.T) {
	var ended []string
	for id := range m.ended {
		ended = append(ended, id)
	}
	if len(ended) == 0 {
		t.Skip("nothing ended yet")
	}
	id := rapid.SampledFrom(sorted(ended)).Draw(t, "handoff")
	h := m.s.handoff(t, id)
	if h.DeskRef == "" {
		t.Skip("never opened in the desk")
	}
	d, err := m.s.eng.Desk(m.ctx(), m.s.ws, m.s.desk)
	if err != nil {
		t.Fatal(err)
	}
	before := len(m.s.events(t))
	err = m.s.eng.ApplyDeskEvent(m.ctx(), d, baton.DeskEvent{ID: baton.NewID("late"), Ref: h.DeskRef, Type: baton.DeskAgentMessage, Text: "too late"})
	if err != nil {
		t.Fatal(err)
	}
	if after := len(m.s.events(t)); after != before {
		t.Fatalf("a late agent message produced %d events", after-before)
	}
}

func (m *model) advance(t *rapid.T) {
	d := rapid.SampledFrom([]time.Duration{time.Second, 30 * time.Second, 61 * time.Second, 3 * time.Minute, 31 * time.Minute}).Draw(t, "advance")
	time.Sleep(d)
	m.s.drain(t)
}

// check asserts the invariants over the whole store.
func (m *model) check(t *rapid.T) {
	m.s.drain(t)
	for _, conv := range convs {
		c, hs, err := m.s.eng.Conversation(m.ctx(), m.s.ws, m.s.bot, conv)
		if baton.ErrorCode(err) == baton.ENOTFOUND {
			continue
		} else if err != nil {
			t.Fatal(err)
		}
		if c.Epoch < m.epochs[conv] {
			t.Fatalf("%s: epoch went back from %d to %d", conv, m.epochs[conv], c.Epoch)
		}
		m.epochs[conv] = c.Epoch
		open := 0
		for _, h := range hs {
			if h.Open() {
				open++
				if h.ID != c.HandoffID {
					t.Fatalf("%s: open handoff %s is not the conversation's %q", conv, h.ID, c.HandoffID)
				}
				if m.ended[h.ID] {
					t.Fatalf("handoff %s came back from ended to %s", h.ID, h.State)
				}
				human := !h.NeedsEmail
				if (c.Owner == baton.OwnerHuman) != human {
					t.Fatalf("%s: owner %s with open handoff in %s", conv, c.Owner, h.State)
				}
				if h.Epoch != c.Epoch {
					t.Fatalf("%s: handoff epoch %d, conversation epoch %d", conv, h.Epoch, c.Epoch)
				}
				// After draining, no timer is overdue.
				at := overdue(h)
				if !at.IsZero() {
					t.Fatalf("%s: handoff %s in %s overdue since %v", conv, h.ID, h.State, at)
				}
			} else {
				m.ended[h.ID] = true
			}
		}
		if open > 1 {
			t.Fatalf("%s: %d open handoffs", conv, open)
		}
		if open == 0 && c.Owner != baton.OwnerBot {
			t.Fatalf("%s: owner %s with no open handoff", conv, c.Owner)
		}
	}
	// Per handoff, events follow the life: queued first, ended last and once,
	// nothing relayed after the end.
	// A handoff an agent joined never ends wait_timeout.
	endedAt, joined := map[string]int{}, map[string]bool{}
	for i, ev := range m.s.events(t) {
		joined[ev.HandoffID] = joined[ev.HandoffID] || ev.Type == baton.EventAgentJoined
		if _, done := endedAt[ev.HandoffID]; done {
			t.Fatalf("event %s for %s after it ended", ev.Type, ev.HandoffID)
		}
		if ev.Type == baton.EventEnded {
			endedAt[ev.HandoffID] = i
		}
	}
	for id := range m.ended {
		if joined[id] {
			if h := m.s.handoff(t, id); h.EndReason == baton.WaitTimeout {
				t.Fatalf("handoff %s ended wait_timeout after an agent joined", id)
			}
		}
		if _, ok := endedAt[id]; !ok {
			h := m.s.handoff(t, id)
			if h.EndReason != baton.OutOfHours {
				t.Fatalf("handoff %s ended (%s) without an ended event", id, h.EndReason)
			}
		}
	}
}

// overdue reports a deadline of the default policy that has passed.
func overdue(h baton.Handoff) time.Time {
	now := time.Now()
	p := baton.Policy{}.Effective()
	check := func(at time.Time) time.Time {
		if !at.IsZero() && now.After(at.Add(time.Second)) {
			return at
		}
		return time.Time{}
	}
	if at := check(h.LastMessageAt.Add(p.IdleExpiry.D())); !at.IsZero() {
		return at
	}
	switch {
	case h.State == baton.Queued && h.Agent == (baton.Agent{}):
		if h.WaitNotifiedAt.IsZero() {
			return check(h.WaitingSince.Add(p.WaitTimeout.D()))
		}
		return check(h.WaitNotifiedAt.Add(p.WaitGrace.D()))
	case h.State == baton.Queued || h.State == baton.Active:
		// A claim counts as the agent's last word: the session timer governs.
		if h.LastAgentAt.After(h.LastCustomerAt) {
			return check(h.LastAgentAt.Add(p.SessionTimeout.D()))
		}
	}
	return time.Time{}
}

func sorted(s []string) []string {
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return s
}
