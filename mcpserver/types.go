package mcpserver

// The tools' arguments and results. Their JSON schemas are inferred from
// these types (jsonschema-go, as the MCP SDK does): a field without
// omitempty is required, the jsonschema tag is its description, and
// enums are added by the table in tools.go.

// Tool names.
const (
	CheckAvailability = "check_human_availability"
	RequestHandoff    = "request_human_handoff"
	ProvideEmail      = "provide_customer_email"
	SendToHuman       = "send_to_human"
	GetHandoff        = "get_handoff"
	EndHandoff        = "end_human_handoff"
)

// The outcomes of request_human_handoff and provide_customer_email.
const (
	Queued          = "queued"           // a person will take the conversation
	NeedsEmail      = "needs_email"      // ask the customer's email, then provide_customer_email
	OutOfHours      = "out_of_hours"     // nobody works now: say the reply and the next opening
	DeskUnavailable = "desk_unavailable" // the desk cannot take it: carry on alone
	Requested       = "requested"        // the desk is still being reached: stay silent, check get_handoff
	Active          = "active"           // a person already holds it: relay, do not answer
)

// AvailabilityInput asks check_human_availability about a bot's desk.
type AvailabilityInput struct {
	BotID  string `json:"bot_id,omitempty" jsonschema:"The bot, when the workspace has more than one (an API key scoped to a bot implies it)."`
	DeskID string `json:"desk_id,omitempty" jsonschema:"The desk to ask about; the bot's own desk by default."`
}

// AvailabilityOutput is whether a person could take a conversation now.
type AvailabilityOutput struct {
	DeskID       string `json:"desk_id" jsonschema:"The desk asked about."`
	Status       string `json:"status" jsonschema:"The desk's service status: available, unavailable (its last call failed) or not_configured."`
	OpenNow      bool   `json:"open_now" jsonschema:"Whether now is inside the desk's service hours."`
	NextOpenAt   string `json:"next_open_at,omitempty" jsonschema:"When the desk opens again (RFC 3339), when it is closed now."`
	AgentsOnline *int   `json:"agents_online,omitempty" jsonschema:"How many people can answer now, where the desk can tell."`
	Accepting    *bool  `json:"accepting,omitempty" jsonschema:"Whether someone at the desk takes a conversation now, where the desk can tell."`
	QueueLength  int    `json:"queue_length" jsonschema:"How many conversations wait for a person now."`
	// EstimatedWaitSeconds is left out when the desk has no recent wait.
	EstimatedWaitSeconds *int64 `json:"estimated_wait_seconds,omitempty" jsonschema:"The estimated wait of a handoff asked for now, in seconds, from the desk's recent waits."`
	Instruction          string `json:"instruction" jsonschema:"What to do with this answer."`
}

// Customer is the person the agent is talking with.
type Customer struct {
	ID    string `json:"id" jsonschema:"Your stable id for the customer."`
	Name  string `json:"name,omitempty" jsonschema:"The customer's name, if known."`
	Email string `json:"email,omitempty" jsonschema:"The customer's email address, if known."`
}

// Turn is one message of the conversation before the handoff.
type Turn struct {
	Author string `json:"author" jsonschema:"Who wrote it: customer or bot."`
	Text   string `json:"text" jsonschema:"What they wrote."`
}

// RequestInput asks for a person (request_human_handoff).
type RequestInput struct {
	ConversationID string   `json:"conversation_id" jsonschema:"Your id for this conversation; the same id in every later call about it."`
	Customer       Customer `json:"customer" jsonschema:"Who the customer is."`
	History        []Turn   `json:"history,omitempty" jsonschema:"The conversation so far, oldest first, without the latest question."`
	Question       string   `json:"question" jsonschema:"The customer's latest question or request, in their words."`
	Routing        string   `json:"routing,omitempty" jsonschema:"A hint for which team should answer (billing, sales...), if clear."`
	BotID          string   `json:"bot_id,omitempty" jsonschema:"The bot, when the workspace has more than one."`
	DeskID         string   `json:"desk_id,omitempty" jsonschema:"The desk to hand off to; the bot's own desk by default."`
}

// Outcome is what a handoff request led to: one of Queued, NeedsEmail,
// OutOfHours, DeskUnavailable, Requested and Active, with the
// instruction to follow.
type Outcome struct {
	Outcome     string `json:"outcome" jsonschema:"queued, needs_email, out_of_hours, desk_unavailable, requested (the desk is still being reached) or active (a person already holds the handoff)."`
	Instruction string `json:"instruction" jsonschema:"Exactly what to say or do next."`
	HandoffID   string `json:"handoff_id,omitempty" jsonschema:"The handoff, for provide_customer_email, send_to_human, get_handoff and end_human_handoff."`
	Position    int    `json:"position,omitempty" jsonschema:"queued: the conversation's place in the queue, 1 being next."`
	// EstimatedWaitSeconds is left out when the desk has no recent wait.
	EstimatedWaitSeconds *int64 `json:"estimated_wait_seconds,omitempty" jsonschema:"queued: the estimated wait in seconds."`
	Reply                string `json:"reply,omitempty" jsonschema:"out_of_hours: the text to give the customer."`
	NextOpenAt           string `json:"next_open_at,omitempty" jsonschema:"out_of_hours: when the desk opens again (RFC 3339)."`
	AgentName            string `json:"agent_name,omitempty" jsonschema:"active: the person talking with the customer, when known."`
}

// EmailInput gives a handoff the customer's email (provide_customer_email).
type EmailInput struct {
	HandoffID string `json:"handoff_id" jsonschema:"The handoff that answered needs_email."`
	Email     string `json:"email" jsonschema:"The email address the customer gave."`
}

// SendInput relays a customer message to the person (send_to_human).
type SendInput struct {
	HandoffID string `json:"handoff_id" jsonschema:"The open handoff."`
	Text      string `json:"text" jsonschema:"The customer's message, in their words."`
}

// Sent is a customer message passed on.
type Sent struct {
	HandoffID   string `json:"handoff_id"`
	MessageID   string `json:"message_id" jsonschema:"Baton's id for the message."`
	Instruction string `json:"instruction" jsonschema:"What to do next."`
}

// GetInput reads a handoff (get_handoff).
type GetInput struct {
	HandoffID string `json:"handoff_id" jsonschema:"The handoff."`
	After     int64  `json:"after,omitempty" jsonschema:"The cursor the last get_handoff answered: only messages after it are returned. 0 or left out for all."`
}

// EndInput ends a handoff from the bot's side (end_human_handoff).
type EndInput struct {
	HandoffID string `json:"handoff_id" jsonschema:"The handoff to end."`
	Reason    string `json:"reason,omitempty" jsonschema:"bot_closed (the default) or customer_closed (the customer said they are done)."`
}

// AgentMessage is a message the person wrote to the customer.
type AgentMessage struct {
	Seq         int64        `json:"seq" jsonschema:"The message's place in the conversation."`
	AgentName   string       `json:"agent_name,omitempty" jsonschema:"Who wrote it."`
	Text        string       `json:"text" jsonschema:"What they wrote: show it to the customer as it is."`
	Attachments []Attachment `json:"attachments,omitempty" jsonschema:"Files sent with it."`
	SentAt      string       `json:"sent_at" jsonschema:"When it was written (RFC 3339)."`
}

// Attachment is a file by URL.
type Attachment struct {
	URL  string `json:"url"`
	Name string `json:"name,omitempty"`
	Type string `json:"type,omitempty"`
}

// Status is where a handoff stands and what the person wrote
// (get_handoff, end_human_handoff).
type Status struct {
	HandoffID string `json:"handoff_id"`
	State     string `json:"state" jsonschema:"requested, queued, active or ended."`
	EndReason string `json:"end_reason,omitempty" jsonschema:"Why it ended, once ended."`
	AgentName string `json:"agent_name,omitempty" jsonschema:"The person who took the conversation, once one has."`
	Position  int    `json:"position,omitempty" jsonschema:"Its place in the queue while it waits, 1 being next."`
	// EstimatedWaitSeconds is left out when there is no estimate.
	EstimatedWaitSeconds *int64         `json:"estimated_wait_seconds,omitempty" jsonschema:"The estimated wait in seconds while it waits."`
	Messages             []AgentMessage `json:"messages" jsonschema:"The person's messages after the cursor asked for, oldest first."`
	Cursor               int64          `json:"cursor" jsonschema:"Pass this as after in the next get_handoff to get only newer messages."`
	Summary              string         `json:"summary,omitempty" jsonschema:"Once ended: what the customer asked, what the person answered and how it ended, in one paragraph."`
	Instruction          string         `json:"instruction" jsonschema:"What to do next."`
}
