package baton

import (
	"encoding/json"
	"time"
)

// Owner is who may speak to the customer: the bot or a human.
type Owner string

// Owners.
const (
	OwnerBot   Owner = "bot"
	OwnerHuman Owner = "human"
)

// State is where a handoff is in its life.
type State string

// Handoff states: requested → queued → active → ended.
const (
	Requested State = "requested" // accepted by Baton; identity check pending or not yet open in the desk
	Queued    State = "queued"    // open in the desk, no agent reply yet
	Active    State = "active"    // an agent has replied: the session has begun
	Ended     State = "ended"     // final; see EndReason
)

// EndReason says why a handoff ended.
type EndReason string

// End reasons.
const (
	AgentClosed     EndReason = "agent_closed"
	CustomerClosed  EndReason = "customer_closed"
	BotClosed       EndReason = "bot_closed"
	WaitTimeout     EndReason = "wait_timeout"
	SessionTimeout  EndReason = "session_timeout"
	IdleExpired     EndReason = "idle_expired"
	OutOfHours      EndReason = "out_of_hours"
	DeskUnavailable EndReason = "desk_unavailable"
	Transferred     EndReason = "transferred"
)

// Customer is the person chatting with the bot.
type Customer struct {
	ID       string         `json:"id"`
	Name     string         `json:"name,omitempty"`
	Email    string         `json:"email,omitempty"`
	Metadata map[string]any `json:"metadata,omitempty"`
}

// Conversation is the bot's conversation with one customer, known by the bot's
// own id (ExternalID). Owner and Epoch fence every outbound action.
type Conversation struct {
	ID          string
	WorkspaceID string
	BotID       string
	ExternalID  string
	Customer    Customer
	Owner       Owner
	Epoch       int64
	HandoffID   string // the open handoff, if any
	UpdatedAt   time.Time
}

// Agent is a human in a desk, as far as Baton knows them.
type Agent struct {
	ID   string `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
}

// Handoff is one human episode of a conversation.
type Handoff struct {
	ID             string
	WorkspaceID    string
	ConversationID string // Conversation.ID
	ExternalID     string // Conversation.ExternalID, the bot's id
	BotID          string
	DeskID         string
	State          State
	EndReason      EndReason
	Epoch          int64 // the conversation epoch this handoff's latest ownership change produced
	DeskRef        string
	DeskData       string // the desk's own state for this handoff (Handle.Data)
	Agent          Agent
	Routing        string
	Decision       *Decision // seat transfers: the group chosen and why
	Question       string
	NeedsEmail     bool   // waiting for the customer's email before opening
	Reply          string // out-of-hours reply text when EndReason is out_of_hours
	Summary        json.RawMessage
	CreatedAt      time.Time
	QueuedAt       time.Time
	ActiveAt       time.Time
	EndedAt        time.Time
	WaitingSince   time.Time // start of the current wait (queue time or last keep-waiting)
	WaitNotifiedAt time.Time // when the wait-timeout event was written; zero if it has not been
	WaitToldAt     time.Time // when the bot got it (its webhook took it, or it reads the stream): the grace counts from here
	TakenAt        time.Time // when an agent first took it (joined or answered): the end of its wait in the queue
	LastCustomerAt time.Time
	LastAgentAt    time.Time // the agent's last message, or its first join
	LastMessageAt  time.Time
	// CustomerTypingAt is when the bot last said the customer was typing
	// (POST /v1/handoffs/{id}/typing).
	CustomerTypingAt time.Time
	// AgentTypingAt is when the holding agent's typing was last told to the
	// bot (handoff.agent_typing).
	AgentTypingAt time.Time
	// AgentReadAt is when the holding agent last read the transcript: the
	// customer's messages up to it are read (handoff.agent_read).
	AgentReadAt time.Time
	// PausedUntil is when the agent's pause ends (Intercom's snooze): until
	// then, and for the policy's times after, no timer ends the handoff.
	PausedUntil time.Time
	// DeskPosition is the desk's own figure for the handoff's place in its
	// queue (1 is next), as the desk last reported it; 0 when it gave none.
	DeskPosition int
	// Place is where the handoff stands in its desk's queue, nil when it is
	// not in the queue. The engine's reads set it; stores neither keep nor
	// return it.
	Place *QueuePlace
}

// Open reports whether h has not ended.
func (h Handoff) Open() bool { return h.State != Ended }

// Author is who wrote a message.
type Author string

// Authors.
const (
	ByCustomer Author = "customer"
	ByBot      Author = "bot"
	ByAgent    Author = "agent"
	BySystem   Author = "system"
)

// Attachment is a file given by URL.
type Attachment struct {
	URL  string `json:"url"`
	Name string `json:"name,omitempty"`
	Type string `json:"type,omitempty"`
	Size int64  `json:"size,omitempty"`
}

// Message is one message of a conversation's transcript.
type Message struct {
	ID             string
	ConversationID string // Conversation.ID
	HandoffID      string // empty for history before any handoff
	Seq            int64  // order within the conversation, assigned by the store
	Author         Author
	AgentName      string
	Text           string
	Attachments    []Attachment
	Epoch          int64
	Late           bool // an agent message that arrived after its handoff ended: kept, never relayed as live
	CreatedAt      time.Time
}
