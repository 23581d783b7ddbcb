package httpapi

import (
	"encoding/json"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/engine"
)

// The JSON the API answers with. Names are snake_case; times are RFC 3339 in
// UTC and left out when zero; conversation_id is always the bot's own id.

type handoffJSON struct {
	ID             string          `json:"id"`
	ConversationID string          `json:"conversation_id"`
	BotID          string          `json:"bot_id"`
	DeskID         string          `json:"desk_id"`
	State          baton.State     `json:"state"`
	EndReason      baton.EndReason `json:"end_reason,omitempty"`
	Epoch          int64           `json:"epoch"`
	NeedsEmail     bool            `json:"needs_email"`
	Reply          string          `json:"reply,omitempty"`
	Agent          baton.Agent     `json:"agent,omitzero"`
	Routing        string          `json:"routing,omitempty"`
	Decision       *baton.Decision `json:"decision,omitempty"`
	Question       string          `json:"question"`
	CreatedAt      time.Time       `json:"created_at"`
	QueuedAt       time.Time       `json:"queued_at,omitzero"`
	ActiveAt       time.Time       `json:"active_at,omitzero"`
	EndedAt        time.Time       `json:"ended_at,omitzero"`
	Queue          *queueJSON      `json:"queue,omitempty"`
	Summary        json.RawMessage `json:"summary,omitempty"`
}

// queueJSON is where a handoff waiting in its desk's queue stands.
type queueJSON struct {
	Position             int    `json:"position"`
	EstimatedWaitSeconds *int64 `json:"estimated_wait_seconds"`
}

func newHandoff(h baton.Handoff) handoffJSON {
	out := handoffJSON{
		ID: h.ID, ConversationID: h.ExternalID, BotID: h.BotID, DeskID: h.DeskID,
		State: h.State, EndReason: h.EndReason, Epoch: h.Epoch, NeedsEmail: h.NeedsEmail,
		Reply: h.Reply, Agent: h.Agent, Routing: h.Routing, Decision: h.Decision, Question: h.Question,
		CreatedAt: utc(h.CreatedAt), QueuedAt: utc(h.QueuedAt), ActiveAt: utc(h.ActiveAt), EndedAt: utc(h.EndedAt),
		Summary: h.Summary,
	}
	if p := h.Place; p != nil {
		out.Queue = &queueJSON{Position: p.Position, EstimatedWaitSeconds: p.WaitSeconds()}
	}
	if d := h.Decision; d != nil && d.GroupID == "" && d.Reason == "" && d.Router == "" {
		// A transfer whose group is not chosen yet: the decision comes
		// with handoff.queued.
		out.Decision = nil
	}
	return out
}

func newHandoffs(hs []baton.Handoff) []handoffJSON {
	out := make([]handoffJSON, 0, len(hs))
	for _, h := range hs {
		out = append(out, newHandoff(h))
	}
	return out
}

type messageJSON struct {
	ID             string             `json:"id"`
	ConversationID string             `json:"conversation_id"`
	HandoffID      string             `json:"handoff_id,omitempty"`
	Seq            int64              `json:"seq"`
	Author         baton.Author       `json:"author"`
	AgentName      string             `json:"agent_name,omitempty"`
	Text           string             `json:"text"`
	Attachments    []baton.Attachment `json:"attachments"`
	Epoch          int64              `json:"epoch"`
	Late           bool               `json:"late"`
	CreatedAt      time.Time          `json:"created_at"`
}

// newMessage renders m of the conversation the bot knows as conversationID.
func newMessage(m baton.Message, conversationID string) messageJSON {
	atts := m.Attachments
	if atts == nil {
		atts = []baton.Attachment{}
	}
	return messageJSON{
		ID: m.ID, ConversationID: conversationID, HandoffID: m.HandoffID, Seq: m.Seq,
		Author: m.Author, AgentName: m.AgentName, Text: m.Text, Attachments: atts,
		Epoch: m.Epoch, Late: m.Late, CreatedAt: utc(m.CreatedAt),
	}
}

type conversationJSON struct {
	ConversationID string        `json:"conversation_id"`
	Owner          baton.Owner   `json:"owner"`
	Epoch          int64         `json:"epoch"`
	OpenHandoffID  *string       `json:"open_handoff_id"`
	Handoffs       []handoffJSON `json:"handoffs"`
}

type availabilityJSON struct {
	DeskID     string           `json:"desk_id"`
	Status     baton.DeskStatus `json:"status"`
	LastError  string           `json:"last_error"`
	CheckedAt  time.Time        `json:"checked_at,omitzero"`
	At         time.Time        `json:"at"`
	OpenNow    bool             `json:"open_now"`
	NextOpenAt time.Time        `json:"next_open_at,omitzero"`
	Zone       string           `json:"zone"`
	// AgentsOnline is left out where the desk cannot know.
	AgentsOnline *int `json:"agents_online,omitempty"`
	// Accepting is left out where the desk cannot tell.
	Accepting   *bool `json:"accepting,omitempty"`
	QueueLength int   `json:"queue_length"`
	// EstimatedWaitSeconds is left out when the desk has no recent wait.
	EstimatedWaitSeconds *int64 `json:"estimated_wait_seconds,omitempty"`
}

func newAvailability(a engine.Availability) availabilityJSON {
	out := availabilityJSON{DeskID: a.DeskID, Status: a.Status, LastError: a.LastError, CheckedAt: utc(a.CheckedAt), At: utc(a.At),
		OpenNow: a.OpenNow, NextOpenAt: utc(a.NextOpenAt), Zone: a.Zone, QueueLength: a.QueueLength}
	if a.AgentsKnown {
		out.AgentsOnline = &a.AgentsOnline
	}
	if a.AcceptingKnown {
		out.Accepting = &a.Accepting
	}
	if a.Estimated {
		s := int64(a.Wait / time.Second)
		out.EstimatedWaitSeconds = &s
	}
	return out
}

// utc returns t in UTC, keeping the zero time zero.
func utc(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC()
}

// messageRequest is the body that posts a message.
type messageRequest struct {
	Text        string             `json:"text"`
	Attachments []baton.Attachment `json:"attachments"`
}
