package baton

import (
	"encoding/json"
	"time"
)

// Event types sent to bots.
const (
	EventQueued       = "handoff.queued"
	EventAgentJoined  = "handoff.agent_joined"
	EventAgentMessage = "handoff.agent_message"
	EventWaitTimeout  = "handoff.wait_timeout"
	EventEnded        = "handoff.ended"

	// Seat desks, where the desk is the bot's channel.
	EventCustomerMessage = "conversation.customer_message" // a customer wrote to the bot's seat
	EventClosed          = "conversation.closed"           // the desk closed a chat the bot held
)

// Event is something a bot is told, by signed webhook and on the event stream.
// ID is stable across delivery attempts; Seq orders a workspace's events.
type Event struct {
	ID             string
	WorkspaceID    string
	BotID          string
	Seq            int64
	Type           string
	HandoffID      string
	ConversationID string // the bot's own conversation id
	Epoch          int64
	Data           json.RawMessage
	CreatedAt      time.Time
}
