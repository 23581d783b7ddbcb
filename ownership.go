package baton

import (
	"encoding/json"
	"time"
)

// The ownership state machine. A handoff goes requested → queued → active →
// ended; its conversation's owner and epoch move with it, here and nowhere
// else: to the human side when the handoff is requested, on to a new epoch
// when the first agent reply makes it active, and back to the bot when it
// ends. Each transition checks its precondition, changes the handoff (and
// the conversation, when ownership moves) in memory, and returns its
// effects; the engine saves both and writes the effects in one transaction.

// Effects is what a transition causes, for the engine to write in the
// transaction that saves it.
type Effects struct {
	Events   []EventData // to tell the bot, in order
	Jobs     []Job       // desk work for the handoff
	Timer    bool        // the handoff's timer moves to its next deadline (or goes)
	Ended    EndReason   // the handoff ended, with this reason
	Accepted bool        // the first agent reply made the handoff active
	// Queue says the handoff entered or left its desk's queue: the places
	// of the handoffs behind it move, and their bots are told.
	Queue bool
	// Placed says the desk reported a new place for the handoff in its
	// queue: its bot is told.
	Placed bool
}

func (e *Effects) add(o Effects) {
	e.Events = append(e.Events, o.Events...)
	e.Jobs = append(e.Jobs, o.Jobs...)
	e.Timer = e.Timer || o.Timer
	e.Accepted = e.Accepted || o.Accepted
	e.Queue = e.Queue || o.Queue
	e.Placed = e.Placed || o.Placed
	if o.Ended != "" {
		e.Ended = o.Ended
	}
}

// advance starts a new epoch of c, owned by o: the human side as handoff h,
// or the bot, which h gives back. h's epoch becomes the new one.
func (c *Conversation) advance(o Owner, h *Handoff, at time.Time) {
	c.Owner, c.Epoch, c.HandoffID, c.UpdatedAt = o, c.Epoch+1, "", at
	if o == OwnerHuman {
		c.HandoffID = h.ID
	}
	h.Epoch = c.Epoch
}

// Request gives c to the human side for h, under a new epoch, and schedules
// the desk job (kind, at runAt) that brings h to its desk; no kind means
// the desk has it already (a seat chat a person took).
func (h *Handoff) Request(c *Conversation, kind JobKind, at, runAt time.Time) (Effects, error) {
	switch {
	case h.State != Requested:
		return Effects{}, Errorf(ECONFLICT, "handoff %s is %s: only a requested handoff goes to a desk", h.ID, h.State)
	case c.Owner != OwnerBot || (c.HandoffID != "" && c.HandoffID != h.ID):
		return Effects{}, &Error{Code: ECONFLICT, Field: "conversation_id", Message: "the conversation is already held by a person: handoff " + c.HandoffID}
	}
	c.advance(OwnerHuman, h, at)
	h.NeedsEmail = false
	eff := Effects{Timer: true}
	if kind != "" {
		eff.Jobs = append(eff.Jobs, DeskJob(kind, *h, runAt))
	}
	return eff, nil
}

// fresh checks that h is a new request and c free to take it.
func (h *Handoff) fresh(c *Conversation) error {
	switch {
	case h.State != Requested || h.NeedsEmail:
		return Errorf(ECONFLICT, "handoff %s is %s: only a new request can wait for an email or be refused", h.ID, h.State)
	case c.Owner != OwnerBot || c.HandoffID != "":
		return &Error{Code: ECONFLICT, Field: "conversation_id", Message: "the conversation already has an open handoff " + c.HandoffID}
	}
	return nil
}

// AwaitEmail holds h, the conversation still the bot's, until the
// customer's email is known.
func (h *Handoff) AwaitEmail(c *Conversation) (Effects, error) {
	if err := h.fresh(c); err != nil {
		return Effects{}, err
	}
	h.NeedsEmail, c.HandoffID = true, h.ID
	return Effects{Timer: true}, nil
}

// Refuse ends h before it began: out of hours, with the reply for the customer.
func (h *Handoff) Refuse(c *Conversation, reply string, at time.Time) (Effects, error) {
	if err := h.fresh(c); err != nil {
		return Effects{}, err
	}
	h.State, h.EndReason, h.EndedAt, h.Epoch, h.Reply = Ended, OutOfHours, at, c.Epoch, reply
	return Effects{Ended: OutOfHours}, nil
}

// holding checks that c's open handoff is h.
func (h *Handoff) holding(c *Conversation) error {
	if c.HandoffID != h.ID {
		return Errorf(ECONFLICT, "handoff %s does not hold its conversation (held by %q)", h.ID, c.HandoffID)
	}
	return nil
}

// Queue records that the desk has h under its reference ref, and starts the wait.
func (h *Handoff) Queue(ref string, pol Policy, at time.Time) (Effects, error) {
	if h.State != Requested || h.NeedsEmail {
		return Effects{}, Errorf(ECONFLICT, "handoff %s is %s: only a requested handoff can be queued", h.ID, h.State)
	}
	h.DeskRef, h.State, h.QueuedAt, h.WaitingSince = ref, Queued, at, at
	q := QueuedData{DeskID: h.DeskID, Decision: h.Decision}
	if h.Decision == nil {
		s := int64(pol.WaitTimeout.D().Seconds())
		q.WaitTimeoutSeconds = &s
	}
	return Effects{Events: []EventData{h.event(q)}, Timer: true, Queue: true}, nil
}

// OpenRetrying tells the bot that attempt (of attempts) to bring h to its
// desk failed with lastErr and that the next runs at next. Nothing moves.
func (h *Handoff) OpenRetrying(attempt, attempts int, next time.Time, lastErr string) (Effects, error) {
	if h.State != Requested || h.NeedsEmail {
		return Effects{}, Errorf(ECONFLICT, "handoff %s is %s: only a requested handoff is being opened", h.ID, h.State)
	}
	return Effects{Events: []EventData{h.event(OpeningRetryData{Attempt: attempt, Attempts: attempts, NextRetryAt: next.UTC(), LastError: lastErr})}}, nil
}

// Holds checks that agent a may act on h as its holder: h is open and
// nobody else holds it (a claim takes it when nobody does).
func (h Handoff) Holds(a Agent) error {
	if h.Agent.ID != "" && h.Agent.ID != a.ID {
		return Errorf(ECONFLICT, "handoff %s is held by %s", h.ID, h.Agent.Name)
	}
	if !h.Open() {
		return Errorf(ECONFLICT, "handoff %s has ended (%s)", h.ID, h.EndReason)
	}
	return nil
}

// Join records a as the agent holding h, at at. An agent who took the
// handoff is not "nobody came": from the first join the wait timeout no
// longer applies (a wait-timeout event already sent loses its grace), and
// the session timer runs from the join as from an agent message. The first
// join takes h out of its desk's queue.
func (h *Handoff) Join(a Agent, at time.Time) Effects {
	if a == (Agent{}) || a == h.Agent || !h.Open() || h.NeedsEmail {
		return Effects{}
	}
	first := !h.Joined()
	h.Agent = a
	if first && h.LastAgentAt.Before(at) {
		h.LastAgentAt = at
	}
	return Effects{Events: []EventData{h.event(AgentJoinedData{Agent: a, Name: a.Name})}, Timer: first, Queue: h.take(at)}
}

// take records that an agent took h at at, ending its wait in the queue,
// and reports whether that took h out of its desk's queue.
func (h *Handoff) take(at time.Time) bool {
	if !h.TakenAt.IsZero() {
		return false
	}
	left := h.InQueue()
	h.TakenAt = at
	return left
}

// Joined reports whether an agent has taken h (joined or answered).
func (h Handoff) Joined() bool { return h.Agent != (Agent{}) }

// AgentName is the name to show on a message of agent a in h.
func (h Handoff) AgentName(a Agent) string {
	if a.Name != "" {
		return a.Name
	}
	return h.Agent.Name
}

// Late reports whether an agent message arriving now must be kept but not
// relayed: h has ended, or never reached the desk.
func (h Handoff) Late() bool { return !h.Open() || h.NeedsEmail }

// AgentReply applies agent message m to h: its agent joins and, if nobody
// had answered yet, the session begins under a new epoch (the accept step).
func (h *Handoff) AgentReply(c *Conversation, m Message, a Agent, at time.Time) (Effects, error) {
	switch {
	case h.NeedsEmail:
		return Effects{}, Errorf(ECONFLICT, "handoff %s is waiting for the customer's email: it is not in the desk", h.ID)
	case !h.Open():
		return Effects{}, Errorf(ECONFLICT, "handoff %s has ended (%s)", h.ID, h.EndReason)
	}
	if err := h.holding(c); err != nil {
		return Effects{}, err
	}
	eff := h.Join(a, at)
	eff.Queue = h.take(at) || eff.Queue // an agent the desk did not name takes it too
	if h.State == Queued {
		c.advance(OwnerHuman, h, at)
		h.State, h.ActiveAt = Active, at
		eff.Accepted = true
	}
	h.LastAgentAt, h.LastMessageAt = at, at
	atts := m.Attachments
	if atts == nil {
		atts = []Attachment{}
	}
	eff.add(Effects{Events: []EventData{h.event(AgentMessageData{MessageID: m.ID, Text: m.Text, Attachments: atts, Agent: h.Agent})}, Timer: true})
	return eff, nil
}

// AgentRead records that agent a (h's agent when the desk names none) read
// the customer's messages at at. The bot is told once per read that finds
// a customer message written since the last.
func (h *Handoff) AgentRead(a Agent, at time.Time) Effects {
	if !h.Open() || h.NeedsEmail || !h.LastCustomerAt.After(h.AgentReadAt) {
		return Effects{}
	}
	h.AgentReadAt = at
	return Effects{Events: []EventData{h.event(AgentReadData{Agent: h.actor(a), ReadAt: at})}}
}

// Pause records that agent a put h aside until until (a snooze): the bot
// is told, and h's timers count from until. A pause already ended, or the
// same pause told again, changes nothing.
func (h *Handoff) Pause(a Agent, until, at time.Time) Effects {
	if !h.Open() || h.NeedsEmail || !until.After(at) || until.Equal(h.PausedUntil) {
		return Effects{}
	}
	h.PausedUntil = until
	return Effects{Events: []EventData{h.event(AgentPausedData{Agent: h.actor(a), Until: until})}, Timer: true}
}

// Resume records that agent a took h up again at at, before its pause
// ended; h's timers count from the last message again.
func (h *Handoff) Resume(a Agent, at time.Time) Effects {
	if !h.Open() || !h.PausedUntil.After(at) {
		return Effects{}
	}
	h.PausedUntil = time.Time{}
	return Effects{Events: []EventData{h.event(AgentResumedData{Agent: h.actor(a)})}, Timer: true}
}

// actor is who acted in h: a, or h's agent when the desk named nobody.
func (h Handoff) actor(a Agent) Agent {
	if a == (Agent{}) {
		return h.Agent
	}
	return a
}

// CustomerWrote records a customer message in h at at. The timer row stays:
// a customer message only moves deadlines later, and a timer that fires
// early finds nothing due and moves itself.
func (h *Handoff) CustomerWrote(at time.Time) error {
	switch {
	case !h.Open():
		return Errorf(ECONFLICT, "handoff %s has ended (%s)", h.ID, h.EndReason)
	case h.NeedsEmail:
		return Errorf(ECONFLICT, "handoff %s is waiting for the customer's email", h.ID)
	}
	h.LastCustomerAt, h.LastMessageAt = at, at
	return nil
}

// KeepWaiting restarts the wait for an agent, the bot's answer to a wait timeout.
func (h *Handoff) KeepWaiting(at time.Time) (Effects, error) {
	if h.State != Queued {
		return Effects{}, Errorf(ECONFLICT, "only a queued handoff can keep waiting; %s is %s", h.ID, h.State)
	}
	h.WaitingSince, h.WaitNotifiedAt, h.WaitToldAt = at, time.Time{}, time.Time{}
	return Effects{Timer: true}, nil
}

// NotifyWait tells the bot that nobody has answered h within the wait.
// told says the bot has the event at once (it reads the stream, no
// webhook): the grace starts now.
func (h *Handoff) NotifyWait(pol Policy, told bool, at time.Time) Effects {
	h.WaitNotifiedAt = at
	if told {
		h.WaitToldAt = at
	}
	return Effects{Events: []EventData{h.event(WaitTimeoutData{
		WaitedSeconds: int64(at.Sub(h.QueuedAt).Seconds()), // the customer's whole wait
		Choices:       []string{"keep_waiting", "end"},
		GraceSeconds:  int64(pol.WaitGrace.D().Seconds()),
	})}, Timer: true}
}

// Told records that the bot took the wait-timeout event written at
// written, which starts the grace. It reports false, changing nothing, for
// an event of an earlier wait or a grace already started.
func (h *Handoff) Told(written, at time.Time) bool {
	if h.State != Queued || h.WaitNotifiedAt.IsZero() || !h.WaitToldAt.IsZero() || written.Before(h.WaitNotifiedAt) {
		return false
	}
	h.WaitToldAt = at
	return true
}

// End ends h for reason: the conversation returns to the bot under a new
// epoch (unless h never took it), the bot is told with a summary made from
// msgs (h's messages), and the desk is closed when closeDesk says Baton's
// side ended it and the desk has the handoff.
func (h *Handoff) End(c *Conversation, reason EndReason, msgs []Message, closeDesk bool, at time.Time) (Effects, error) {
	if !h.Open() {
		return Effects{}, Errorf(ECONFLICT, "handoff %s has already ended (%s)", h.ID, h.EndReason)
	}
	if err := h.holding(c); err != nil {
		return Effects{}, err
	}
	left := h.InQueue()
	h.State, h.EndReason, h.EndedAt = Ended, reason, at
	if c.Owner == OwnerHuman {
		c.advance(OwnerBot, h, at)
	} else { // a handoff waiting for an email never took the conversation
		c.HandoffID, c.UpdatedAt, h.Epoch = "", at, c.Epoch
	}
	sum := Summarize(*h, msgs)
	h.Summary, _ = json.Marshal(sum) // plain values only: it cannot fail
	eff := Effects{Events: []EventData{h.event(EndedData{Reason: reason, Summary: sum})}, Timer: true, Ended: reason, Queue: left}
	if closeDesk && (h.DeskRef != "" || h.DeskData != "") {
		// An open under way closes what it makes when it finds the
		// handoff ended; one whose progress is saved (DeskData, before a
		// reference) may have made something no attempt will find: the
		// close job gives it to the desk to abandon (Abandoner).
		eff.Jobs = append(eff.Jobs, DeskJob(JobClose, *h, at))
	}
	return eff, nil
}

// Deadline is the next moment a timer rule applies to h under pol, and what
// happens then: the end reason, or "" to tell the bot of a wait timeout.
// Zero means no timer.
func (h Handoff) Deadline(pol Policy) (time.Time, EndReason) {
	if !h.Open() || h.Decision != nil {
		// Seat transfers wait in the desk's own queue, under its own rules.
		return time.Time{}, ""
	}
	// A pause (a snooze) holds every timer: each counts from its end.
	from := func(t time.Time) time.Time {
		if h.PausedUntil.After(t) {
			return h.PausedUntil
		}
		return t
	}
	at, what := from(h.LastMessageAt).Add(pol.IdleExpiry.D()), IdleExpired
	consider := func(t time.Time, r EndReason) {
		if t.Before(at) {
			at, what = t, r
		}
	}
	switch {
	case h.State == Queued && !h.Joined():
		switch {
		case h.WaitNotifiedAt.IsZero():
			consider(h.WaitingSince.Add(pol.WaitTimeout.D()), "")
		case !h.WaitToldAt.IsZero():
			// The grace runs from when the bot could act on the event: a
			// delivery held up by an outage does not use it up.
			consider(h.WaitToldAt.Add(pol.WaitGrace.D()), WaitTimeout)
		}
	case h.State == Queued || h.State == Active:
		// An agent has joined or answered: the session timer governs, from
		// the agent's last message or join while the customer has not
		// written since.
		if h.LastAgentAt.After(h.LastCustomerAt) {
			consider(from(h.LastAgentAt).Add(pol.SessionTimeout.D()), SessionTimeout)
		}
	}
	return at, what
}
