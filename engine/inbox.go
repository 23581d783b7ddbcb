package engine

import (
	"context"
	"encoding/json"

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

// InboxTranscript reads a handoff of the agent's desk, its messages and its
// brief.
func (e *Engine) InboxTranscript(ctx context.Context, a baton.InboxAgent, id string) (baton.Handoff, []baton.Message, baton.Brief, error) {
	h, ms, err := e.Transcript(ctx, a.WorkspaceID, id)
	if err == nil && h.DeskID != a.DeskID {
		return h, nil, baton.Brief{}, notInDesk(id)
	}
	if err != nil {
		return h, ms, baton.Brief{}, err
	}
	b, ok := keptBrief(h)
	if !ok {
		var c baton.Conversation
		err = e.store.View(ctx, func(tx baton.Tx) (err error) {
			c, err = tx.ConversationByID(h.ConversationID)
			return err
		})
		b = baton.MakeBrief(c.Customer, ms[:historyOf(h, ms)], h.Question)
	}
	return h, ms, b, err
}

// keptBrief is the brief the inbox desk kept as h's desk data when it
// opened; ok is false for a handoff opened before briefs were kept.
func keptBrief(h baton.Handoff) (b baton.Brief, ok bool) {
	return b, json.Unmarshal([]byte(h.DeskData), &b) == nil && b.Summary != ""
}

// historyOf is how many of msgs, from the first, are the rounds of the
// bot's history h was asked with: the brief, dated when the handoff was
// made as Opening reads it, is the history and then the question.
func historyOf(h baton.Handoff, msgs []baton.Message) int {
	n := 0
	for _, m := range msgs {
		if m.CreatedAt.After(h.CreatedAt) {
			break
		}
		n++
	}
	return max(n-1, 0)
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
