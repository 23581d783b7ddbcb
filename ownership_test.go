package baton_test

import (
	"reflect"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/batonhq/baton"
)

// TestOwnershipMachine drives random sequences of transitions on one
// conversation and its handoffs, with no store, and checks the ownership
// rules after every step: a refused transition changes nothing; the epoch
// never goes back and moves exactly when the owner changes or an agent
// accepts; the human side owns the conversation exactly while its handoff
// is open and past the email wait; an ended handoff stays ended; every
// event is about the handoff as the transition left it or, for an agent
// joining, as it was when the agent joined; a joined handoff is under the
// session timer, never the wait timeout.
func TestOwnershipMachine(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(rt *rapid.T) {
		m := &machine{c: baton.Conversation{ID: "cv", ExternalID: "bot-conv", Owner: baton.OwnerBot}, at: time.Unix(1e9, 0).UTC()}
		rt.Repeat(map[string]func(*rapid.T){
			"request":     m.request,
			"awaitEmail":  m.awaitEmail,
			"queue":       m.queue,
			"join":        m.join,
			"agentReply":  m.agentReply,
			"customer":    m.customer,
			"keepWaiting": m.keepWaiting,
			"notifyWait":  m.notifyWait,
			"end":         m.end,
			"":            m.check,
		})
	})
}

type machine struct {
	c      baton.Conversation
	h      *baton.Handoff // the latest handoff; nil before the first
	n      int
	at     time.Time
	epochs []int64
}

var pol = baton.Policy{}.Effective()

// step applies a transition to copies of the state and checks what it did:
// refused, nothing changed; applied, the rules hold for the result.
func (m *machine) step(t *rapid.T, name string, fn func(c *baton.Conversation, h *baton.Handoff) (baton.Effects, error)) {
	m.at = m.at.Add(time.Second)
	if m.h == nil {
		t.Skip("no handoff yet")
	}
	c, h := m.c, *m.h
	before := m.c.Epoch
	eff, err := fn(&c, &h)
	if err != nil {
		if baton.ErrorCode(err) != baton.ECONFLICT {
			t.Fatalf("%s refused with %v, want a conflict", name, err)
		}
		if !reflect.DeepEqual(c, m.c) || !reflect.DeepEqual(h, *m.h) {
			t.Fatalf("%s was refused (%v) but changed the state", name, err)
		}
		return
	}
	switch moved := c.Epoch != before; {
	case c.Epoch < before:
		t.Fatalf("%s moved the epoch back from %d to %d", name, before, c.Epoch)
	case c.Epoch > before+1:
		t.Fatalf("%s moved the epoch by %d", name, c.Epoch-before)
	case moved != (c.Owner != m.c.Owner || eff.Accepted):
		t.Fatalf("%s: epoch %d → %d, owner %s → %s, accepted %v", name, before, c.Epoch, m.c.Owner, c.Owner, eff.Accepted)
	}
	if !m.h.Open() && !reflect.DeepEqual(h, *m.h) {
		t.Fatalf("%s changed an ended handoff", name)
	}
	if (eff.Ended != "") != (m.h.Open() && !h.Open()) {
		t.Fatalf("%s: effects say ended %q; the handoff went from %s to %s", name, eff.Ended, m.h.State, h.State)
	}
	for _, d := range eff.Events {
		s := d.About()
		if s.HandoffID != h.ID || s.ExternalID != c.ExternalID {
			t.Fatalf("%s: event %s is about %+v", name, d.EventType(), s)
		}
		if d.EventType() != baton.EventAgentJoined && (s.State != h.State || s.Epoch != h.Epoch) {
			t.Fatalf("%s: event %s says %s at epoch %d; the handoff is %s at %d", name, d.EventType(), s.State, s.Epoch, h.State, h.Epoch)
		}
	}
	m.c, *m.h = c, h
	m.epochs = append(m.epochs, c.Epoch)
}

// fresh starts a new handoff of the conversation, as a bot's request does.
func (m *machine) fresh(t *rapid.T) *baton.Handoff {
	if m.h != nil && m.h.Open() {
		return m.h
	}
	m.n++
	return &baton.Handoff{ID: "ho" + string(rune('a'+m.n%26)), ConversationID: m.c.ID, ExternalID: m.c.ExternalID, State: baton.Requested,
		CreatedAt: m.at, LastMessageAt: m.at, LastCustomerAt: m.at}
}

func (m *machine) request(t *rapid.T) {
	h := m.fresh(t)
	if h != m.h {
		m.h = h
		if m.c.HandoffID != "" {
			t.Fatalf("a new handoff while the conversation is held by %s", m.c.HandoffID)
		}
	}
	m.step(t, "request", func(c *baton.Conversation, h *baton.Handoff) (baton.Effects, error) {
		return h.Request(c, baton.JobOpen, m.at, m.at)
	})
}

func (m *machine) awaitEmail(t *rapid.T) {
	h := m.fresh(t)
	if h == m.h {
		t.Skip("a handoff is open")
	}
	m.h = h
	m.step(t, "awaitEmail", func(c *baton.Conversation, h *baton.Handoff) (baton.Effects, error) { return h.AwaitEmail(c) })
}

func (m *machine) queue(t *rapid.T) {
	m.step(t, "queue", func(_ *baton.Conversation, h *baton.Handoff) (baton.Effects, error) {
		return h.Queue("chat-1", pol, m.at)
	})
}

var agents = []baton.Agent{{ID: "ana", Name: "Ana"}, {ID: "bob", Name: "Bob"}}

func (m *machine) join(t *rapid.T) {
	a := rapid.SampledFrom(agents).Draw(t, "agent")
	m.step(t, "join", func(_ *baton.Conversation, h *baton.Handoff) (baton.Effects, error) {
		if err := h.Holds(a); err != nil {
			return baton.Effects{}, err
		}
		return h.Join(a, m.at), nil
	})
}

func (m *machine) agentReply(t *rapid.T) {
	a := rapid.SampledFrom(agents).Draw(t, "agent")
	m.step(t, "agentReply", func(c *baton.Conversation, h *baton.Handoff) (baton.Effects, error) {
		if h.State == baton.Requested {
			return baton.Effects{}, baton.Errorf(baton.ECONFLICT, "not in the desk yet") // the engine queues first
		}
		return h.AgentReply(c, baton.Message{ID: "m", Author: baton.ByAgent, Text: "hi"}, a, m.at)
	})
}

func (m *machine) customer(t *rapid.T) {
	m.step(t, "customer", func(_ *baton.Conversation, h *baton.Handoff) (baton.Effects, error) {
		return baton.Effects{}, h.CustomerWrote(m.at)
	})
}

func (m *machine) keepWaiting(t *rapid.T) {
	m.step(t, "keepWaiting", func(_ *baton.Conversation, h *baton.Handoff) (baton.Effects, error) { return h.KeepWaiting(m.at) })
}

func (m *machine) notifyWait(t *rapid.T) {
	told := rapid.Bool().Draw(t, "told")
	m.step(t, "notifyWait", func(_ *baton.Conversation, h *baton.Handoff) (baton.Effects, error) {
		if h.State != baton.Queued {
			return baton.Effects{}, baton.Errorf(baton.ECONFLICT, "only a queued handoff waits") // the timer's rule
		}
		return h.NotifyWait(pol, told, m.at), nil
	})
}

var reasons = []baton.EndReason{baton.AgentClosed, baton.CustomerClosed, baton.BotClosed, baton.WaitTimeout, baton.SessionTimeout, baton.IdleExpired, baton.DeskUnavailable}

func (m *machine) end(t *rapid.T) {
	r := rapid.SampledFrom(reasons).Draw(t, "reason")
	closeDesk := rapid.Bool().Draw(t, "closeDesk")
	m.step(t, "end", func(c *baton.Conversation, h *baton.Handoff) (baton.Effects, error) {
		eff, err := h.End(c, r, nil, closeDesk, m.at)
		if err == nil && (c.Owner != baton.OwnerBot || c.HandoffID != "" || h.Epoch != c.Epoch || h.Summary == nil) {
			t.Fatalf("after the end: owner %s, holder %q, epochs %d/%d", c.Owner, c.HandoffID, h.Epoch, c.Epoch)
		}
		return eff, err
	})
}

// check holds between any two steps.
func (m *machine) check(t *rapid.T) {
	if m.h == nil {
		return
	}
	human := m.h.Open() && !m.h.NeedsEmail
	if (m.c.Owner == baton.OwnerHuman) != human {
		t.Fatalf("owner %s while the handoff is %s (needs email %v)", m.c.Owner, m.h.State, m.h.NeedsEmail)
	}
	if m.h.Open() != (m.c.HandoffID == m.h.ID) {
		t.Fatalf("conversation held by %q while handoff %s is %s", m.c.HandoffID, m.h.ID, m.h.State)
	}
	if m.h.Open() && !m.h.NeedsEmail && m.h.Epoch != m.c.Epoch {
		t.Fatalf("open handoff at epoch %d, conversation at %d", m.h.Epoch, m.c.Epoch)
	}
	// An agent who took the handoff is not "nobody came": no wait timeout
	// applies, and the session timer runs from the join at the latest.
	if m.h.Open() && m.h.Joined() && m.h.State != baton.Requested {
		at, what := m.h.Deadline(pol)
		if what == "" || what == baton.WaitTimeout {
			t.Fatalf("joined handoff in %s: next deadline %v is %q", m.h.State, at, what)
		}
		if m.h.LastAgentAt.IsZero() || at.After(m.h.LastMessageAt.Add(pol.IdleExpiry.D())) {
			t.Fatalf("joined handoff: last agent act %v, deadline %v past the idle expiry", m.h.LastAgentAt, at)
		}
	}
	for i := 1; i < len(m.epochs); i++ {
		if m.epochs[i] < m.epochs[i-1] {
			t.Fatalf("epochs went back: %v", m.epochs)
		}
	}
}

// TestEndWhileOpening: ending a handoff Baton's desk is closed on gets a
// close job when the desk opened it (a reference) or was opening it (saved
// progress: what its open may have made is abandoned), and none when the
// open had not begun.
func TestEndWhileOpening(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name      string
		ref, data string
		close     bool
	}{
		{"opened", "T-1", `{"customer_id":1}`, true},
		{"opening", "", `{"customer_id":1,"creating":true}`, true},
		{"not begun", "", "", false},
	} {
		c := &baton.Conversation{Owner: baton.OwnerBot}
		h := &baton.Handoff{ID: "h1", State: baton.Requested, CreatedAt: at}
		if _, err := h.Request(c, baton.JobOpen, at, at); err != nil {
			t.Fatal(err)
		}
		h.DeskRef, h.DeskData = tc.ref, tc.data
		eff, err := h.End(c, baton.CustomerClosed, nil, true, at)
		if err != nil {
			t.Fatal(err)
		}
		closes := 0
		for _, j := range eff.Jobs {
			if j.Kind == baton.JobClose {
				closes++
			}
		}
		if (closes == 1) != tc.close || closes > 1 {
			t.Errorf("%s: %d close jobs, want close %v", tc.name, closes, tc.close)
		}
	}
}
