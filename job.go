package baton

import (
	"encoding/json"
	"time"
)

// JobKind names what a job does. The outbox runs each kind with its own handler.
type JobKind string

// Job kinds. The values are stored in job rows.
const (
	JobOpen     JobKind = "desk.open"     // open a handoff in its desk
	JobSend     JobKind = "desk.send"     // relay one customer message into the desk
	JobClose    JobKind = "desk.close"    // end the handoff in the desk
	JobEvent    JobKind = "bot.webhook"   // post one event to its bot's webhook
	JobTimer    JobKind = "timer"         // apply the handoff's due timer rule
	JobReply    JobKind = "seat.reply"    // post a bot reply into its chat (seat desks)
	JobTransfer JobKind = "seat.transfer" // move a seat chat to a human group
)

// Job is durable work: a delivery to a desk or a bot, or a timer.
type Job struct {
	ID        int64
	Kind      JobKind
	Lane      string // jobs sharing a lane run one at a time, oldest first; "" = no order
	Key       string // unique when set; PutJob with an existing key reschedules
	HandoffID string
	EventID   string // the event a bot.webhook job posts: its delivery is pending while the job is
	RunAt     time.Time
	Attempts  int    // runs that failed, or whose worker died before finishing
	Payload   []byte // the job's Target, encoded
	LastError string
	CreatedAt time.Time
}

// Target is what a job acts on: always a workspace, and the handoff, the
// message or the event its kind needs.
type Target struct {
	Workspace string `json:"ws"`
	Handoff   string `json:"h,omitempty"`
	Message   string `json:"m,omitempty"`
	Event     string `json:"e,omitempty"`
}

// Encode returns t as a job's payload.
func (t Target) Encode() []byte {
	b, _ := json.Marshal(t) // strings only: it cannot fail
	return b
}

// Target decodes the job's payload.
func (j Job) Target() (Target, error) {
	var t Target
	if err := json.Unmarshal(j.Payload, &t); err != nil {
		return t, Errorf(EINTERNAL, "job %d has an unreadable payload: %w", j.ID, err)
	}
	return t, nil
}

// Jobs of one lane run in order: everything sent to a handoff's desk
// ("desk:" + handoff), a conversation's events to its bot ("bot:" +
// conversation) and the bot's replies in a seat chat ("seat:" +
// conversation). A handoff has one timer row, keyed by TimerKey.

// DeskJob returns the job of kind for h's desk, run at at.
func DeskJob(kind JobKind, h Handoff, at time.Time) Job {
	return Job{Kind: kind, Lane: "desk:" + h.ID, HandoffID: h.ID, RunAt: at, Payload: Target{Workspace: h.WorkspaceID, Handoff: h.ID}.Encode()}
}

// SendJob returns the job relaying customer message m into h's desk.
func SendJob(h Handoff, m Message) Job {
	return Job{Kind: JobSend, Lane: "desk:" + h.ID, HandoffID: h.ID, RunAt: m.CreatedAt, Payload: Target{Workspace: h.WorkspaceID, Handoff: h.ID, Message: m.ID}.Encode()}
}

// EventJob returns the job posting ev to its bot, in its conversation's
// order (conversationID is the conversation's own id, not the bot's).
func EventJob(ev Event, conversationID string) Job {
	return Job{Kind: JobEvent, Lane: "bot:" + conversationID, HandoffID: ev.HandoffID, EventID: ev.ID, RunAt: ev.CreatedAt, Payload: Target{Workspace: ev.WorkspaceID, Event: ev.ID}.Encode()}
}

// ReplyJob returns the job posting bot message m into its seat chat.
func ReplyJob(ws string, m Message) Job {
	return Job{Kind: JobReply, Lane: "seat:" + m.ConversationID, RunAt: m.CreatedAt, Payload: Target{Workspace: ws, Message: m.ID}.Encode()}
}

// TimerJob returns h's timer row, due at at.
func TimerJob(h Handoff, at time.Time) Job {
	return Job{Kind: JobTimer, Key: TimerKey(h.ID), HandoffID: h.ID, RunAt: at, Payload: Target{Workspace: h.WorkspaceID, Handoff: h.ID}.Encode()}
}

// TimerKey is the key of a handoff's timer row.
func TimerKey(handoffID string) string { return "timer:" + handoffID }
