package engine

import (
	"context"
	"time"

	"github.com/batonhq/baton"
)

// Typing and reading: what each side sees of the other while a person
// holds the chat. Customer typing is kept on the handoff for the inbox's
// pages; the agent's typing and reading are told to the bot as events, at
// most one typing event per TypingEvery and one read event per new
// customer message read.

// TypingFor is how long one report of typing shows, on either side.
const TypingFor = 6 * time.Second

// TypingEvery is the most often one side's typing is recorded: reports
// closer together change nothing.
const TypingEvery = 3 * time.Second

// CustomerTyping records that the customer of an open handoff is typing,
// for the agent's page. It reports whether it recorded it (false when a
// report came less than TypingEvery before).
func (e *Engine) CustomerTyping(ctx context.Context, ws, id string) (bool, error) {
	var told bool
	_, _, err := e.write(ctx, ws, func(tx *wtx) (string, error) {
		h, err := readHandoff(ctx, tx, ws, id)
		if err != nil {
			return "", err
		}
		if !h.Open() {
			return "", baton.Errorf(baton.ECONFLICT, "handoff %s has ended", id)
		}
		t := now()
		if t.Sub(h.CustomerTypingAt) < TypingEvery {
			return h.ID, nil
		}
		h.CustomerTypingAt, told = t, true
		return h.ID, tx.PutHandoff(h)
	})
	return told, err
}

// AgentTyping tells the bot that the agent holding the handoff is typing
// (handoff.agent_typing, showing until TypingFor from now).
func (e *Engine) AgentTyping(ctx context.Context, a baton.InboxAgent, id string) error {
	return e.holding(ctx, a, id, func(tx *wtx, h *baton.Handoff, agent baton.Agent) error {
		t := now()
		if t.Sub(h.AgentTypingAt) < TypingEvery {
			return nil
		}
		h.AgentTypingAt = t
		if err := tx.PutHandoff(*h); err != nil {
			return err
		}
		return e.tell(tx, h.WorkspaceID, h.BotID, h.ConversationID, baton.AgentTypingData{Subject: h.Subject(), Agent: agent, Until: t.Add(TypingFor)})
	})
}

// AgentRead tells the bot that the agent holding the handoff has read the
// customer's messages so far (handoff.agent_read), when any came since the
// agent last read.
func (e *Engine) AgentRead(ctx context.Context, a baton.InboxAgent, id string) error {
	return e.holding(ctx, a, id, func(tx *wtx, h *baton.Handoff, agent baton.Agent) error {
		eff := h.AgentRead(agent, now())
		if len(eff.Events) == 0 {
			return nil
		}
		if err := tx.PutHandoff(*h); err != nil {
			return err
		}
		return e.tell(tx, h.WorkspaceID, h.BotID, h.ConversationID, eff.Events[0])
	})
}

// holding runs fn in a write on an open handoff of the agent's desk that
// the agent holds (claimed or answered).
func (e *Engine) holding(ctx context.Context, a baton.InboxAgent, id string, fn func(tx *wtx, h *baton.Handoff, agent baton.Agent) error) error {
	_, _, err := e.write(ctx, a.WorkspaceID, func(tx *wtx) (string, error) {
		h, err := tx.Handoff(a.WorkspaceID, id)
		if err != nil {
			return "", err
		}
		if h.DeskID != a.DeskID {
			return "", notInDesk(id)
		}
		agent := baton.Agent{ID: a.ID, Name: a.Name}
		switch {
		case !h.Open():
			return "", baton.Errorf(baton.ECONFLICT, "handoff %s has ended", id)
		case h.Agent.ID != a.ID:
			return "", baton.Errorf(baton.ECONFLICT, "handoff %s is not yours: claim it first", id)
		}
		return h.ID, fn(tx, &h, agent)
	})
	return err
}
