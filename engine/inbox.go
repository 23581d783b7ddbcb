package engine

import (
	"context"

	"github.com/batonhq/baton"
)

// The built-in inbox's agent side. Each action checks who holds the
// handoff in the same write transaction that changes it, so of two agents
// claiming one handoff at once exactly one gets it, and an agent cannot
// reply to or end a handoff another agent holds.

// InboxQueue lists the handoffs waiting in the agent's desk for someone to
// take them, with their places in its queue, and those the agent holds:
// claimed, or answered. A claimed handoff leaves every other agent's list.
func (e *Engine) InboxQueue(ctx context.Context, a baton.InboxAgent) (waiting, mine []baton.Handoff, err error) {
	err = e.store.View(ctx, func(tx baton.Tx) error {
		queued, err := tx.HandoffsInState(a.DeskID, baton.Queued, 1000)
		if err != nil {
			return err
		}
		active, err := tx.HandoffsInState(a.DeskID, baton.Active, 1000)
		for _, h := range append(queued, active...) {
			switch {
			case h.Agent.ID == a.ID:
				mine = append(mine, h)
			case h.Agent.ID == "" && len(waiting) < 200:
				waiting = append(waiting, h)
			}
		}
		if err != nil {
			return err
		}
		return place(tx, waiting)
	})
	return waiting, mine, err
}

// InboxTranscript reads a handoff of the agent's desk and its messages.
func (e *Engine) InboxTranscript(ctx context.Context, a baton.InboxAgent, id string) (baton.Handoff, []baton.Message, error) {
	h, ms, err := e.Transcript(ctx, a.WorkspaceID, id)
	if err == nil && h.DeskID != a.DeskID {
		return h, nil, notInDesk(id)
	}
	return h, ms, err
}

func notInDesk(id string) error {
	return baton.Errorf(baton.ENOTFOUND, "handoff %s is not in your desk", id)
}

// Claim takes a queued handoff for the agent.
func (e *Engine) Claim(ctx context.Context, a baton.InboxAgent, id string) (baton.Handoff, error) {
	return e.act(ctx, a, id, func(l *loaded) (baton.DeskEvent, error) {
		if l.h.State == baton.Requested {
			return baton.DeskEvent{}, baton.Errorf(baton.ECONFLICT, "handoff %s is %s and cannot be claimed", id, l.h.State)
		}
		return baton.DeskEvent{Type: baton.DeskAgentJoined}, nil
	})
}

// Reply sends the agent's message to the customer.
func (e *Engine) Reply(ctx context.Context, a baton.InboxAgent, id, text string, atts []baton.Attachment) (baton.Handoff, error) {
	if err := baton.ValidMessage(text, atts); err != nil {
		return baton.Handoff{}, err
	}
	return e.act(ctx, a, id, func(l *loaded) (baton.DeskEvent, error) {
		if l.h.State == baton.Requested {
			return baton.DeskEvent{}, baton.Errorf(baton.ECONFLICT, "handoff %s is not open in the inbox yet", id)
		}
		return baton.DeskEvent{Type: baton.DeskAgentMessage, Text: text, Attachments: atts}, nil
	})
}

// EndByAgent ends the handoff from the agent's side.
func (e *Engine) EndByAgent(ctx context.Context, a baton.InboxAgent, id string) (baton.Handoff, error) {
	return e.act(ctx, a, id, func(*loaded) (baton.DeskEvent, error) {
		return baton.DeskEvent{Type: baton.DeskAgentClosed}, nil
	})
}

// act applies the desk event that what makes of a handoff of the agent's
// desk, as the agent holding it, in one write.
func (e *Engine) act(ctx context.Context, a baton.InboxAgent, id string, what func(*loaded) (baton.DeskEvent, error)) (baton.Handoff, error) {
	var h baton.Handoff
	_, replay, err := e.write(ctx, a.WorkspaceID, func(tx *wtx) (string, error) {
		l, err := e.load(tx, a.WorkspaceID, id)
		if err != nil {
			return "", err
		}
		if l.h.DeskID != a.DeskID {
			return "", notInDesk(id)
		}
		agent := baton.Agent{ID: a.ID, Name: a.Name}
		if err := l.h.Holds(agent); err != nil {
			return "", err
		}
		// The agent stays until this commits: a delete at the same time
		// waits, then finds the handoff the agent holds.
		// (The agent alone: pinning the workspace row would deadlock with
		// the event counter's update there.)
		if err := tx.Pin(baton.Pin{AgentID: a.ID}); err != nil {
			return "", baton.Errorf(baton.ECONFLICT, "inbox agent %s is deleted or disabled", a.ID)
		}
		ev, err := what(&l)
		if err != nil {
			return "", err
		}
		ev.Ref, ev.Agent = l.h.DeskRef, agent
		if err := e.apply(tx, &l, ev); err != nil {
			return "", err
		}
		h = l.h
		return h.ID, placeOne(tx, &h)
	})
	if err == nil && replay {
		h, err = e.Handoff(ctx, a.WorkspaceID, id)
	}
	return h, err
}
