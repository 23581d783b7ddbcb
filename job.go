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
	RunAt     time.Time
	Attempts  int
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

// Lanes and keys of a handoff's jobs.
func deskLane(handoffID string) string      { return "desk:" + handoffID }      // everything sent to the desk for one handoff, in order
func botLane(conversationID string) string  { return "bot:" + conversationID }  // a conversation's events to its bot, in order
func seatLane(conversationID string) string { return "seat:" + conversationID } // the bot's replies in one chat, in order
func timerKey(handoffID string) string      { return "timer:" + handoffID }     // the handoff's one timer row

// DeskJob returns the job of kind for h's desk, run at at, in h's desk lane.
func DeskJob(kind JobKind, h Handoff, at time.Time) Job {
	return Job{Kind: kind, Lane: deskLane(h.ID), HandoffID: h.ID, RunAt: at, Payload: Target{Workspace: h.WorkspaceID, Handoff: h.ID}.Encode()}
}

// SendJob returns the job relaying customer message m into h's desk.
func SendJob(h Handoff, m Message) Job {
	return Job{Kind: JobSend, Lane: deskLane(h.ID), HandoffID: h.ID, RunAt: m.CreatedAt, Payload: Target{Workspace: h.WorkspaceID, Handoff: h.ID, Message: m.ID}.Encode()}
}

// EventJob returns the job posting ev to its bot, in its conversation's
// order (conversationID is the conversation's own id, not the bot's).
func EventJob(ev Event, conversationID string) Job {
	return Job{Kind: JobEvent, Lane: botLane(conversationID), HandoffID: ev.HandoffID, RunAt: ev.CreatedAt, Payload: Target{Workspace: ev.WorkspaceID, Event: ev.ID}.Encode()}
}

// ReplyJob returns the job posting bot message m into its seat chat.
func ReplyJob(ws string, m Message) Job {
	return Job{Kind: JobReply, Lane: seatLane(m.ConversationID), RunAt: m.CreatedAt, Payload: Target{Workspace: ws, Message: m.ID}.Encode()}
}

// TimerJob returns h's timer row, due at at.
func TimerJob(h Handoff, at time.Time) Job {
	return Job{Kind: JobTimer, Key: timerKey(h.ID), HandoffID: h.ID, RunAt: at, Payload: Target{Workspace: h.WorkspaceID, Handoff: h.ID}.Encode()}
}

// TimerKey is the key of h's timer row.
func TimerKey(handoffID string) string { return timerKey(handoffID) }
