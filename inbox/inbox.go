// Package inbox is Baton's built-in desk: handoffs wait in a queue that people
// answer through Baton's own agent API, so Baton works with no desk account.
package inbox

import (
	"context"
	"fmt"
	"net/http"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/engine"
)

// Desk is the inbox as a baton.Desk. The transcript is Baton's own store, so
// opening, sending and closing need no outside call.
type Desk struct{}

// New returns the inbox desk for a configuration; it has no settings.
func New(baton.DeskConfig) (*Desk, error) { return &Desk{}, nil }

// Capabilities: agents see attachments and names; customers can end.
func (*Desk) Capabilities() baton.Capabilities {
	return baton.Capabilities{Attachments: true, AgentProfile: true, EndByCustomer: true}
}

// Check always succeeds: the inbox is part of Baton.
func (*Desk) Check(context.Context) error { return nil }

// Open queues the handoff; its reference is the handoff id.
func (*Desk) Open(_ context.Context, r baton.OpenRequest) (baton.Handle, error) {
	return baton.Handle{Ref: r.HandoffID}, nil
}

// Send does nothing: agents read messages from the transcript.
func (*Desk) Send(context.Context, baton.Handle, baton.Message) error { return nil }

// Close does nothing: the handoff's state is the inbox's state.
func (*Desk) Close(context.Context, baton.Handle, baton.EndReason) error { return nil }

// Inbound is not used: agents act through the agent API. Every request fails
// verification (nothing could verify it), which answers it exactly as a
// request for a desk that does not exist or with a wrong secret.
func (*Desk) Inbound(context.Context, string, http.Header, []byte) ([]baton.DeskEvent, error) {
	return nil, fmt.Errorf("%w: the inbox desk takes no inbound webhooks", baton.ErrForged)
}

// Agents is the agent side of the inbox: list, claim, read, reply, end.
type Agents struct {
	Engine *engine.Engine
}

// Queue lists the handoffs waiting in the agent's desk and those the agent holds.
func (s Agents) Queue(ctx context.Context, a baton.InboxAgent) (waiting, mine []baton.Handoff, err error) {
	if waiting, err = s.Engine.DeskHandoffs(ctx, a.WorkspaceID, a.DeskID, baton.Queued, 200); err != nil {
		return nil, nil, err
	}
	active, err := s.Engine.DeskHandoffs(ctx, a.WorkspaceID, a.DeskID, baton.Active, 1000)
	for _, h := range active {
		if h.Agent.ID == a.ID {
			mine = append(mine, h)
		}
	}
	return waiting, mine, err
}

// held loads a handoff of the agent's desk and checks nobody else holds it.
func (s Agents) held(ctx context.Context, a baton.InboxAgent, id string) (baton.Handoff, baton.DeskConfig, error) {
	h, err := s.Engine.Handoff(ctx, a.WorkspaceID, id)
	if err != nil {
		return h, baton.DeskConfig{}, err
	}
	if h.DeskID != a.DeskID {
		return h, baton.DeskConfig{}, baton.Errorf(baton.ENOTFOUND, "handoff %s is not in your desk", id)
	}
	if h.Agent.ID != "" && h.Agent.ID != a.ID {
		return h, baton.DeskConfig{}, baton.Errorf(baton.ECONFLICT, "handoff %s is held by %s", id, h.Agent.Name)
	}
	d, err := s.Engine.Desk(ctx, a.WorkspaceID, a.DeskID)
	return h, d, err
}

func agent(a baton.InboxAgent) baton.Agent { return baton.Agent{ID: a.ID, Name: a.Name} }

// Claim takes a queued handoff for the agent.
func (s Agents) Claim(ctx context.Context, a baton.InboxAgent, id string) (baton.Handoff, error) {
	h, d, err := s.held(ctx, a, id)
	if err != nil {
		return h, err
	}
	if !h.Open() || h.State == baton.Requested {
		return h, baton.Errorf(baton.ECONFLICT, "handoff %s is %s and cannot be claimed", id, h.State)
	}
	ev := baton.DeskEvent{ID: "claim:" + h.ID + ":" + a.ID, Ref: h.DeskRef, Type: baton.DeskAgentJoined, Agent: agent(a), Held: true}
	if err := s.Engine.ApplyDeskEvent(ctx, d, ev); err != nil {
		return h, err
	}
	return s.Engine.Handoff(ctx, a.WorkspaceID, id)
}

// Transcript reads a handoff's messages.
func (s Agents) Transcript(ctx context.Context, a baton.InboxAgent, id string) (baton.Handoff, []baton.Message, error) {
	h, err := s.Engine.Handoff(ctx, a.WorkspaceID, id)
	if err == nil && h.DeskID != a.DeskID {
		err = baton.Errorf(baton.ENOTFOUND, "handoff %s is not in your desk", id)
	}
	if err != nil {
		return h, nil, err
	}
	return s.Engine.Transcript(ctx, a.WorkspaceID, id)
}

// Reply sends the agent's message to the customer. eventID makes a retried reply
// count once: pass the request's Idempotency-Key, or a fresh id.
func (s Agents) Reply(ctx context.Context, a baton.InboxAgent, id, eventID, text string, atts []baton.Attachment) (baton.Handoff, error) {
	h, d, err := s.held(ctx, a, id)
	if err != nil {
		return h, err
	}
	if !h.Open() {
		return h, baton.Errorf(baton.ECONFLICT, "handoff %s has ended (%s)", id, h.EndReason)
	}
	if err := engine.ValidMessage(text, atts); err != nil {
		return h, err
	}
	if h.State == baton.Requested {
		return h, baton.Errorf(baton.ECONFLICT, "handoff %s is not open in the inbox yet", id)
	}
	ev := baton.DeskEvent{ID: "reply:" + eventID, Ref: h.DeskRef, Type: baton.DeskAgentMessage, Agent: agent(a), Text: text, Attachments: atts, Held: true}
	if err := s.Engine.ApplyDeskEvent(ctx, d, ev); err != nil {
		return h, err
	}
	return s.Engine.Handoff(ctx, a.WorkspaceID, id)
}

// End ends the handoff from the agent's side.
func (s Agents) End(ctx context.Context, a baton.InboxAgent, id string) (baton.Handoff, error) {
	h, d, err := s.held(ctx, a, id)
	if err != nil {
		return h, err
	}
	if !h.Open() {
		return h, baton.Errorf(baton.ECONFLICT, "handoff %s has already ended (%s)", id, h.EndReason)
	}
	ev := baton.DeskEvent{ID: "end:" + h.ID, Ref: h.DeskRef, Type: baton.DeskAgentClosed, Agent: agent(a), Held: true}
	if err := s.Engine.ApplyDeskEvent(ctx, d, ev); err != nil {
		return h, err
	}
	return s.Engine.Handoff(ctx, a.WorkspaceID, id)
}
