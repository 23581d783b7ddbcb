package baton

import "context"

// Seat is implemented by desks where the bot answers customers as an agent of
// the desk (LiveChat's agent seat) instead of handing conversations into it.
// The desk is then the bot's channel: its conversations are the desk's chats,
// their reference is the chat id, and customers' messages arrive as
// DeskCustomerMessage events.
type Seat interface {
	// Reply posts the bot's message into the chat as the seat.
	Reply(ctx context.Context, ref string, m Message) error
	// Groups lists the human groups a chat can be transferred to.
	Groups(ctx context.Context) ([]Group, error)
	// Transfer moves the chat to a group (queued there if nobody is
	// available) and takes the seat out of it.
	Transfer(ctx context.Context, ref string, groupID string) error
}

// Group is a team of humans in a desk that a chat can be transferred to.
type Group struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Available   bool   `json:"available"` // someone accepts chats now
}

// Decision is a router's choice of group, with its reason.
type Decision struct {
	GroupID   string  `json:"group_id"`
	GroupName string  `json:"group_name"`
	Score     float64 `json:"score"`
	Reason    string  `json:"reason"`
	Trigger   string  `json:"trigger"` // what asked for the transfer: bot, customer, turns, keyword
	// Router names the router that decided: "words" (the deterministic
	// scorer) or "llm"; empty when no router did (a person took the chat).
	Router string `json:"router,omitempty"`
	// Fallback says why the router asked first did not decide (the LLM
	// router's call failed, timed out, or named no group of the desk), when
	// another decided in its place.
	Fallback string `json:"fallback,omitempty"`
}

// Router picks the group a conversation should go to from its transcript.
// The default scores group names and descriptions against the words of the
// conversation; an LLM can implement the same interface.
type Router interface {
	Route(ctx context.Context, groups []Group, transcript []Message, hint string) (Decision, error)
}

// TransferRules say when a seat hands a chat to a human group. All are off
// unless set.
type TransferRules struct {
	// Enabled turns automatic and bot-requested transfers on.
	Enabled bool `json:"enabled,omitempty" yaml:"enabled,omitempty"`
	// OnHumanRequest transfers when the customer asks for a person.
	OnHumanRequest bool `json:"on_human_request,omitempty" yaml:"on_human_request,omitempty"`
	// AfterBotTurns transfers after this many bot replies without the chat ending.
	AfterBotTurns int `json:"after_bot_turns,omitempty" yaml:"after_bot_turns,omitempty"`
	// Keywords transfer when a customer message contains one of them.
	Keywords []string `json:"keywords,omitempty" yaml:"keywords,omitempty"`
	// Delay waits this long after the trigger before transferring (the bot may
	// still say goodbye).
	Delay Duration `json:"delay,omitempty" yaml:"delay,omitempty"`
	// Groups describe the desk's groups for the router, by group id, when
	// the desk itself gives only names.
	Groups map[string]string `json:"groups,omitempty" yaml:"groups,omitempty"`
}
