package baton

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
)

// Event types sent to bots.
const (
	EventQueued       = "handoff.queued"
	EventAgentJoined  = "handoff.agent_joined"
	EventAgentMessage = "handoff.agent_message"
	EventWaitTimeout  = "handoff.wait_timeout"
	EventOpeningRetry = "handoff.opening_retry"
	EventQueueUpdated = "handoff.queue_updated"
	EventEnded        = "handoff.ended"
	EventAgentTyping  = "handoff.agent_typing"  // the agent is writing: show it until Until
	EventAgentRead    = "handoff.agent_read"    // the agent has read the customer's messages up to ReadAt
	EventAgentPaused  = "handoff.agent_paused"  // the agent put the conversation aside until Until
	EventAgentResumed = "handoff.agent_resumed" // the agent took it up again before then

	// Seat desks, where the desk is the bot's channel.
	EventCustomerMessage = "conversation.customer_message" // a customer wrote to the bot's seat
	EventClosed          = "conversation.closed"           // the desk closed a chat the bot held
)

// Event is something a bot is told, by signed webhook and on the event stream.
// ID is stable across delivery attempts; Seq orders a workspace's events.
type Event struct {
	ID          string
	WorkspaceID string
	BotID       string
	Seq         int64
	Type        string
	HandoffID   string
	ExternalID  string // the bot's own conversation id
	Epoch       int64
	Data        json.RawMessage
	CreatedAt   time.Time
}

// Envelope is the JSON body of every event delivered to a bot.
type Envelope struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	Seq       int64           `json:"seq"`
	Timestamp time.Time       `json:"timestamp"`
	Data      json.RawMessage `json:"data"`
}

// Envelope returns the wire form of ev.
func (ev Event) Envelope() Envelope {
	return Envelope{ID: ev.ID, Type: ev.Type, Seq: ev.Seq, Timestamp: ev.CreatedAt, Data: ev.Data}
}

// Subject is what every event's data says it is about: the conversation,
// by the bot's id for it, at an epoch and, for handoff events, the handoff
// and its state.
type Subject struct {
	HandoffID  string `json:"handoff_id,omitempty"`
	State      State  `json:"state,omitempty"`
	ExternalID string `json:"conversation_id"`
	Epoch      int64  `json:"epoch"`
}

// About returns s: every event's data says what it is about.
func (s Subject) About() Subject { return s }

// Subject says what h's events are about: h as it is now.
func (h Handoff) Subject() Subject {
	return Subject{HandoffID: h.ID, State: h.State, ExternalID: h.ExternalID, Epoch: h.Epoch}
}

// EventData is the data of one type of event.
type EventData interface {
	// EventType is the type of the event this data belongs to.
	EventType() string
	// About is what the event is about.
	About() Subject
	about(Subject) EventData
}

// event returns d about h as it is now.
func (h Handoff) event(d EventData) EventData { return d.about(h.Subject()) }

// NewEvent returns the event telling a bot d. The caller gives it its id,
// workspace, bot and time.
func NewEvent(d EventData) (Event, error) {
	body, err := json.Marshal(d)
	if err != nil {
		return Event{}, err
	}
	s := d.About()
	return Event{Type: d.EventType(), HandoffID: s.HandoffID, ExternalID: s.ExternalID, Epoch: s.Epoch, Data: body}, nil
}

// QueuedData is the data of handoff.queued: the desk has the handoff.
type QueuedData struct {
	Subject
	DeskID string `json:"desk_id"`
	// WaitTimeoutSeconds is how long until the bot hears of a wait with no
	// agent reply; absent for seat transfers, which wait under the desk's rules.
	WaitTimeoutSeconds *int64    `json:"wait_timeout_seconds,omitempty"`
	Decision           *Decision `json:"decision,omitempty"` // seat transfers: the group chosen and why
}

// AgentJoinedData is the data of handoff.agent_joined.
type AgentJoinedData struct {
	Subject
	Agent Agent  `json:"agent"`
	Name  string `json:"name"`
}

// AgentMessageData is the data of handoff.agent_message: relay it to the customer.
type AgentMessageData struct {
	Subject
	MessageID   string       `json:"message_id"`
	Text        string       `json:"text"`
	Attachments []Attachment `json:"attachments"`
	Agent       Agent        `json:"agent"`
	// Payload is the session's end payload when the agent's message held
	// it (taken out of Text): show a closing button that sends it. The
	// handoff has ended.
	Payload string `json:"payload,omitempty"`
}

// WaitTimeoutData is the data of handoff.wait_timeout: nobody has answered yet;
// the bot chooses to keep waiting or end within the grace. WaitedSeconds
// counts from the first queue: the customer's whole wait, across keep-waitings.
type WaitTimeoutData struct {
	Subject
	WaitedSeconds int64    `json:"waited_seconds"`
	Choices       []string `json:"choices"`
	GraceSeconds  int64    `json:"grace_seconds"`
}

// OpeningRetryData is the data of handoff.opening_retry: the desk could
// not take the handoff on this attempt for a reason that may pass (no
// answer, a timeout, 408, 429, 502, 503, 504), and Baton tries again at
// NextRetryAt. Sent once per failed attempt; after the last
// (outbox Config.OpenAttempts) the handoff ends desk_unavailable.
type OpeningRetryData struct {
	Subject
	Attempt     int       `json:"attempt"`       // the attempt that failed, from 1
	Attempts    int       `json:"attempts"`      // how many attempts in all before it ends desk_unavailable
	NextRetryAt time.Time `json:"next_retry_at"` // when the next attempt runs
	LastError   string    `json:"last_error"`    // what the desk answered (or that it did not)
}

// QueueUpdatedData is the data of handoff.queue_updated: the handoff's
// position in its desk's queue moved (a handoff ahead of it left the queue,
// or the desk reported a new figure). EstimatedWaitSeconds is null when the
// desk has no recent wait to estimate from.
type QueueUpdatedData struct {
	Subject
	DeskID               string `json:"desk_id"`
	Position             int    `json:"position"` // 1 is next
	EstimatedWaitSeconds *int64 `json:"estimated_wait_seconds"`
}

// AgentTypingData is the data of handoff.agent_typing: the agent holding
// the handoff is writing. Show it until Until, or until their message; one
// that arrives after Until is stale.
type AgentTypingData struct {
	Subject
	Agent Agent     `json:"agent"`
	Until time.Time `json:"until"`
}

// AgentReadData is the data of handoff.agent_read: the agent holding the
// handoff has read the customer's messages written up to ReadAt.
type AgentReadData struct {
	Subject
	Agent  Agent     `json:"agent"`
	ReadAt time.Time `json:"read_at"`
}

// AgentPausedData is the data of handoff.agent_paused: the agent put the
// conversation aside (Intercom's snooze) until Until. The handoff stays
// open; its timers count from Until, not from the last message.
type AgentPausedData struct {
	Subject
	Agent Agent     `json:"agent"`
	Until time.Time `json:"until"`
}

// AgentResumedData is the data of handoff.agent_resumed: the agent took a
// paused conversation up again before its pause ended.
type AgentResumedData struct {
	Subject
	Agent Agent `json:"agent"`
}

// EndedData is the data of handoff.ended: the bot owns the conversation again.
type EndedData struct {
	Subject
	Reason  EndReason `json:"reason"`
	Summary Summary   `json:"summary"`
	// Payload is the session payload the end means for a bot that speaks
	// them (SessionPayloads.Ending): its end or expired payload, or none.
	Payload string `json:"payload,omitempty"`
}

// CustomerMessageData is the data of conversation.customer_message (seat desks).
type CustomerMessageData struct {
	Subject
	MessageID   string       `json:"message_id"`
	Text        string       `json:"text"`
	Attachments []Attachment `json:"attachments"`
	Customer    Customer     `json:"customer"`
}

// ClosedData is the data of conversation.closed (seat desks): who closed the chat.
type ClosedData struct {
	Subject
	By DeskEventType `json:"by"`
}

// EventType implements EventData.
func (QueuedData) EventType() string          { return EventQueued }
func (AgentJoinedData) EventType() string     { return EventAgentJoined }
func (AgentMessageData) EventType() string    { return EventAgentMessage }
func (WaitTimeoutData) EventType() string     { return EventWaitTimeout }
func (OpeningRetryData) EventType() string    { return EventOpeningRetry }
func (QueueUpdatedData) EventType() string    { return EventQueueUpdated }
func (EndedData) EventType() string           { return EventEnded }
func (AgentTypingData) EventType() string     { return EventAgentTyping }
func (AgentReadData) EventType() string       { return EventAgentRead }
func (AgentPausedData) EventType() string     { return EventAgentPaused }
func (AgentResumedData) EventType() string    { return EventAgentResumed }
func (CustomerMessageData) EventType() string { return EventCustomerMessage }
func (ClosedData) EventType() string          { return EventClosed }

func (d QueuedData) about(s Subject) EventData          { d.Subject = s; return d }
func (d AgentJoinedData) about(s Subject) EventData     { d.Subject = s; return d }
func (d AgentMessageData) about(s Subject) EventData    { d.Subject = s; return d }
func (d WaitTimeoutData) about(s Subject) EventData     { d.Subject = s; return d }
func (d OpeningRetryData) about(s Subject) EventData    { d.Subject = s; return d }
func (d QueueUpdatedData) about(s Subject) EventData    { d.Subject = s; return d }
func (d EndedData) about(s Subject) EventData           { d.Subject = s; return d }
func (d AgentTypingData) about(s Subject) EventData     { d.Subject = s; return d }
func (d AgentReadData) about(s Subject) EventData       { d.Subject = s; return d }
func (d AgentPausedData) about(s Subject) EventData     { d.Subject = s; return d }
func (d AgentResumedData) about(s Subject) EventData    { d.Subject = s; return d }
func (d CustomerMessageData) about(s Subject) EventData { d.Subject = s; return d }
func (d ClosedData) about(s Subject) EventData          { d.Subject = s; return d }

// Summary describes a human segment for the bot taking the conversation back.
//
// Agent is absent when no agent joined; Transcript is always an array,
// empty when no agent replied; WaitedSeconds counts from the first queue
// (keep-waiting does not restart it) to the first agent reply, or to the
// end when none came, and is absent for a handoff never queued.
//
// Asked, Answered and Outcome tell the segment in words, for an agent (an
// LLM) taking the conversation back: what the customer asked the person,
// what the agent answered, how it ended; Text says all three in one
// paragraph.
type Summary struct {
	Agent            *Agent `json:"agent,omitempty"`
	CustomerMessages int    `json:"customer_messages"`
	AgentMessages    int    `json:"agent_messages"`
	Transcript       []Line `json:"transcript"` // the last 20 messages since the agent's first reply
	WaitedSeconds    *int64 `json:"waited_seconds,omitempty"`
	SessionSeconds   *int64 `json:"session_seconds,omitempty"`
	Asked            string `json:"asked,omitempty"`    // the question, then what the customer wrote during the handoff
	Answered         string `json:"answered,omitempty"` // the agent's last replies
	Outcome          string `json:"outcome,omitempty"`  // how it ended, in a sentence
	Text             string `json:"text,omitempty"`     // Asked, Answered and Outcome in one paragraph
}

// Line is one message of a summary's transcript.
type Line struct {
	Author Author `json:"author"`
	Text   string `json:"text"`
}

// Summarize describes h's human segment from its messages. The brief given
// to the desk (history and question) is not part of it, nor are late
// agent messages.
func Summarize(h Handoff, msgs []Message) Summary {
	s := Summary{Transcript: []Line{}}
	if h.Joined() {
		a := h.Agent
		s.Agent = &a
	}
	for _, m := range msgs {
		if m.Late || !(m.Author == ByAgent || m.CreatedAt.After(h.CreatedAt)) {
			continue
		}
		switch m.Author {
		case ByAgent:
			s.AgentMessages++
		case ByCustomer:
			s.CustomerMessages++
		}
		if !h.ActiveAt.IsZero() && !m.CreatedAt.Before(h.ActiveAt) {
			s.Transcript = append(s.Transcript, Line{Author: m.Author, Text: m.Text})
		}
	}
	if len(s.Transcript) > 20 {
		s.Transcript = s.Transcript[len(s.Transcript)-20:]
	}
	seconds := func(d time.Duration) *int64 { n := int64(d.Seconds()); return &n }
	if !h.QueuedAt.IsZero() {
		end := h.EndedAt
		if !h.ActiveAt.IsZero() {
			end = h.ActiveAt
		}
		s.WaitedSeconds = seconds(end.Sub(h.QueuedAt))
	}
	if !h.ActiveAt.IsZero() {
		s.SessionSeconds = seconds(h.EndedAt.Sub(h.ActiveAt))
	}
	s.tell(h, msgs)
	return s
}

// tell fills the summary's words from h and its messages.
func (s *Summary) tell(h Handoff, msgs []Message) {
	var asked, answered []string
	if q := strings.Join(strings.Fields(h.Question), " "); q != "" {
		asked = append(asked, q)
	}
	for _, m := range msgs {
		t := strings.Join(strings.Fields(m.Text), " ")
		if m.Late || t == "" || !(m.Author == ByAgent || m.CreatedAt.After(h.CreatedAt)) {
			continue
		}
		switch {
		case m.Author == ByCustomer && !slices.Contains(asked, t):
			asked = append(asked, t)
		case m.Author == ByAgent:
			answered = append(answered, t)
		}
	}
	last := func(ts []string) string {
		if len(ts) > briefTurns {
			ts = ts[len(ts)-briefTurns:]
		}
		return clip(strings.Join(ts, " / "), briefRunes)
	}
	s.Asked, s.Answered = last(asked), last(answered)
	who := "the agent"
	if s.Agent != nil && s.Agent.Name != "" {
		who = s.Agent.Name
	}
	s.Outcome = outcome(h.EndReason, who)
	var p []string
	if s.Asked != "" {
		p = append(p, fmt.Sprintf("The customer asked: %q.", s.Asked))
	}
	switch {
	case s.Answered != "":
		p = append(p, fmt.Sprintf("%s answered: %q.", upper(who), s.Answered))
	case h.EndReason != "":
		p = append(p, "No agent answered.")
	}
	if s.Outcome != "" {
		p = append(p, upper(s.Outcome)+".")
	}
	s.Text = strings.Join(p, " ")
}

// outcome says how a handoff that ended for reason ended; who is the agent.
func outcome(reason EndReason, who string) string {
	switch reason {
	case AgentClosed:
		return who + " closed the conversation"
	case CustomerClosed:
		return "the customer closed the conversation"
	case BotClosed:
		return "the bot took the conversation back"
	case WaitTimeout:
		return "nobody took the conversation in time (wait timeout)"
	case SessionTimeout:
		return "the session reached its time limit"
	case IdleExpired:
		return "the conversation went quiet and expired"
	case OutOfHours:
		return "the desk was closed (out of hours)"
	case DeskUnavailable:
		return "the desk could not be reached"
	case Transferred:
		return "the chat came back to the bot from the desk"
	}
	return ""
}

// upper capitalises s's first letter.
func upper(s string) string {
	r := []rune(s)
	if len(r) == 0 {
		return s
	}
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}
