package mcpserver

import (
	"context"
	"fmt"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/engine"
)

// What each tool does: the engine's use cases, as the REST handlers call
// them, and the instruction the model is to follow.

// defaultReply is the out-of-hours text of a policy that sets none.
const defaultReply = "Our team is away right now."

func (t *Tools) availability(ctx context.Context, ws string, in AvailabilityInput) (AvailabilityOutput, error) {
	defaults(ctx, &in.BotID, &in.DeskID)
	a, err := t.eng.Availability(ctx, ws, engine.DeskQuery{BotID: in.BotID, DeskID: in.DeskID}, time.Time{})
	if err != nil {
		return AvailabilityOutput{}, err
	}
	out := AvailabilityOutput{DeskID: a.DeskID, Status: string(a.Status), OpenNow: a.OpenNow, NextOpenAt: stamp(a.NextOpenAt), QueueLength: a.QueueLength}
	if a.AgentsKnown {
		out.AgentsOnline = &a.AgentsOnline
	}
	if a.AcceptingKnown {
		out.Accepting = &a.Accepting
	}
	if a.Estimated {
		out.EstimatedWaitSeconds = seconds(a.Wait)
	}
	switch {
	case a.Status == baton.Unavailable:
		out.Instruction = "The support desk cannot be reached right now. Do not offer the customer a person; keep helping them yourself."
	case a.Status == baton.NotConfigured && a.LastError != "":
		// Saved without what it needs: it cannot take a conversation.
		out.Instruction = "The support desk is not set up to take conversations: no person can be reached through it. Do not offer the customer a person; keep helping them yourself."
	case !a.OpenNow && out.NextOpenAt != "":
		out.Instruction = "Nobody is working now; the team is back at " + out.NextOpenAt + ". If the customer needs a person, tell them when the team is back and keep helping them yourself."
	case !a.OpenNow:
		out.Instruction = "Nobody is working now. Do not offer the customer a person; keep helping them yourself."
	case a.AcceptingKnown && !a.Accepting:
		out.Instruction = "The desk is open but nobody there is taking conversations now: a handoff would wait until someone comes. Offer a person only if the customer needs one."
	case a.Status == baton.NotConfigured:
		out.Instruction = "The desk is open but has not been reached yet, so it is not sure a person can take over. Do not promise the customer a person; if the conversation needs one, call request_human_handoff: its answer says whether the desk took the conversation."
	default:
		out.Instruction = "A person can take over now. Call request_human_handoff when the conversation needs one."
	}
	return out, nil
}

func (t *Tools) request(ctx context.Context, ws string, in RequestInput) (Outcome, error) {
	defaults(ctx, &in.BotID, &in.DeskID)
	r := baton.CreateRequest{BotID: in.BotID, DeskID: in.DeskID, ExternalID: in.ConversationID, Question: in.Question, Routing: in.Routing,
		Customer: baton.Customer{ID: in.Customer.ID, Name: in.Customer.Name, Email: in.Customer.Email}}
	for i, turn := range in.History {
		// The model speaks for the customer and itself, never for a
		// person of the support team.
		if a := baton.Author(turn.Author); a != baton.ByCustomer && a != baton.ByBot {
			return Outcome{}, baton.FieldErrorf(fmt.Sprintf("history[%d].author", i), "must be customer or bot, not %q", turn.Author)
		}
		r.History = append(r.History, baton.Turn{Author: baton.Author(turn.Author), Text: turn.Text})
	}
	if err := r.Valid(); err != nil {
		return Outcome{}, err
	}
	open, err := t.conversation(ctx, ws, in.BotID, in.ConversationID)
	if err != nil {
		return Outcome{}, err
	}
	if open == "" {
		// The key is the bot, the conversation and the call, not the
		// conversation's epoch: a handoff the desk refused moved the epoch,
		// and a retry must still find the first call's outcome.
		h, err := t.create(ctx, ws, in.BotID+"\n"+in.ConversationID, in, r)
		switch {
		case baton.ErrorCode(err) == baton.EUNAVAILABLE:
			return Outcome{Outcome: DeskUnavailable, Instruction: unavailable}, nil
		case baton.ErrorCode(err) == baton.ECONFLICT && baton.ErrorField(err) == "conversation_id":
			// Opened since it was read, by a call at the same moment.
			if open, err = t.conversation(ctx, ws, in.BotID, in.ConversationID); err != nil {
				return Outcome{}, err
			}
		case err != nil:
			return Outcome{}, err
		default:
			if h, err = t.settle(ctx, ws, h); err != nil {
				return Outcome{}, err
			}
			return t.outcome(ctx, ws, h)
		}
	}
	h, err := t.eng.Handoff(ctx, ws, open)
	if err == nil {
		h, err = t.settle(ctx, ws, h)
	}
	if err != nil {
		return Outcome{}, err
	}
	return t.outcome(ctx, ws, h)
}

// Settle is how long a handoff request waits for the desk to take or
// refuse the handoff (it leaves requested) before it answers: the outcome
// says what the desk did, not that it was asked.
const Settle = 8 * time.Second

// settleTick is how often settle reads the handoff again when no change
// signal comes (another instance's worker opened it).
const settleTick = 250 * time.Millisecond

// settle waits, at most Settle, until handoff h, being opened at its desk,
// leaves requested (queued, or ended by the desk's refusal), and returns
// it as it then is. A handoff that waits for the customer's email is not
// being opened: it is returned as it is.
func (t *Tools) settle(ctx context.Context, ws string, h baton.Handoff) (baton.Handoff, error) {
	if h.State != baton.Requested || h.NeedsEmail {
		return h, nil
	}
	var wake <-chan struct{}
	if t.changes != nil {
		w, stop := t.changes(ws) // before the read, so no change is missed
		defer stop()
		wake = w
	}
	deadline := time.NewTimer(Settle)
	defer deadline.Stop()
	tick := time.NewTicker(settleTick)
	defer tick.Stop()
	for {
		var err error
		if h, err = t.eng.Handoff(ctx, ws, h.ID); err != nil || h.State != baton.Requested || h.NeedsEmail {
			return h, err
		}
		select {
		case <-wake:
		case <-tick.C:
		case <-deadline.C:
			return h, nil
		case <-ctx.Done():
			return h, nil
		}
	}
}

// RetryWindow is how soon a call must follow an alike one to be its
// retry: a call alike to one that finished longer ago acts anew.
const RetryWindow = 2 * time.Minute

// maxAlike bounds how many finished calls alike a call looks past.
const maxAlike = 20

// create makes the handoff r asks for once: a retry answers the handoff
// its first call made. A request alike to one whose handoff ended more
// than RetryWindow ago (asked out of hours yesterday, the same words
// today), or ended after a person took it, is a new request.
func (t *Tools) create(ctx context.Context, ws, subject string, in RequestInput, r baton.CreateRequest) (baton.Handoff, error) {
	for range maxAlike {
		h, replay, err := t.eng.CreateHandoff(keyed(ctx, RequestHandoff, subject, in), ws, r)
		if err != nil || !replay || h.Open() || (time.Since(h.CreatedAt) < RetryWindow && h.TakenAt.IsZero()) {
			return h, err
		}
		subject += "\n" + h.ID
	}
	return baton.Handoff{}, baton.Errorf(baton.ECONFLICT, "%d requests alike to this one were made in this conversation: change the question", maxAlike)
}

// conversation reads the id of a conversation's open handoff: "" for
// none, and for a conversation never handed off.
func (t *Tools) conversation(ctx context.Context, ws, bot, id string) (open string, err error) {
	c, _, err := t.eng.Conversation(ctx, ws, bot, id)
	if baton.ErrorCode(err) == baton.ENOTFOUND && baton.ErrorField(err) == "" {
		return "", nil
	}
	return c.HandoffID, err
}

// The instructions of the outcomes that carry no figures.
const (
	unavailable = "No person can take the conversation right now: the support desk cannot be reached. Apologise to the customer, tell them a person cannot be reached at the moment, and keep helping them yourself."
	reaching    = "The support desk is being reached for this conversation but has not taken it yet. Tell the customer you are getting a person for them, without promising one or a wait. Do not answer the customer yourself meanwhile: pass their messages on with send_to_human, and call get_handoff in a little while: it says whether a person took the conversation or the desk could not (then you carry on helping the customer yourself)."
	askEmail    = "Before a person can take over, the support team needs the customer's email address. Ask the customer for it now; when they give it, call provide_customer_email with this handoff_id and the address. Do not tell the customer a person is coming yet."
)

// outcome is what handoff h means for the model now.
func (t *Tools) outcome(ctx context.Context, ws string, h baton.Handoff) (Outcome, error) {
	o := Outcome{HandoffID: h.ID}
	switch {
	case h.State == baton.Ended && h.EndReason == baton.OutOfHours:
		o.Outcome, o.Reply = OutOfHours, h.Reply
		if o.Reply == "" {
			o.Reply = defaultReply
		}
		a, err := t.eng.Queue(ctx, ws, engine.DeskQuery{BotID: h.BotID, DeskID: h.DeskID})
		if err != nil {
			return Outcome{}, err
		}
		o.NextOpenAt = stamp(a.NextOpenAt)
		o.Instruction = fmt.Sprintf("Nobody from the support team is working now. Tell the customer: %q", o.Reply)
		if o.NextOpenAt != "" {
			o.Instruction += " Add that the team is back at " + o.NextOpenAt + " (say it in the customer's time if you know it)."
		}
		o.Instruction += " Then keep helping the customer yourself."
	case h.State == baton.Ended:
		o.Outcome, o.Instruction = DeskUnavailable, unavailable
	case h.NeedsEmail:
		o.Outcome, o.Instruction = NeedsEmail, askEmail
	case h.State == baton.Active || !h.TakenAt.IsZero():
		o.Outcome, o.AgentName = Active, h.Agent.Name
		who := "A person from the support team"
		if o.AgentName != "" {
			who = o.AgentName + " from the support team"
		}
		o.Instruction = who + " is already talking with the customer in this handoff. Do not answer the customer yourself: pass every customer message on with send_to_human, and call get_handoff to read the person's replies and show them to the customer."
	case h.State == baton.Requested:
		o.Outcome, o.Instruction = Requested, reaching
	default:
		o.Outcome = Queued
		if h.Place != nil {
			o.Position, o.EstimatedWaitSeconds = h.Place.Position, h.Place.WaitSeconds()
		} else {
			// Queued but not placed in Baton's queue (the desk keeps its
			// own): it waits at its end.
			a, err := t.eng.Queue(ctx, ws, engine.DeskQuery{BotID: h.BotID, DeskID: h.DeskID})
			if err != nil {
				return Outcome{}, err
			}
			o.Position = a.QueueLength + 1
			if a.Estimated {
				o.EstimatedWaitSeconds = seconds(a.Wait)
			}
		}
		o.Instruction = fmt.Sprintf("A person will reply in this conversation. Tell the customer a person is coming and that they are number %d in the queue", o.Position)
		if o.EstimatedWaitSeconds != nil {
			o.Instruction += fmt.Sprintf(", with a wait of about %s", minutes(*o.EstimatedWaitSeconds))
		}
		o.Instruction += ". From now on do not answer the customer yourself until the handoff ends: pass every customer message on with send_to_human, and call get_handoff to read the person's replies and show them to the customer."
	}
	return o, nil
}

func (t *Tools) provideEmail(ctx context.Context, ws string, in EmailInput) (Outcome, error) {
	if err := required("handoff_id", in.HandoffID); err != nil {
		return Outcome{}, err
	}
	h, err := t.eng.ProvideEmail(keyed(ctx, ProvideEmail, in.HandoffID, in), ws, in.HandoffID, in.Email)
	if err == nil {
		h, err = t.settle(ctx, ws, h)
	}
	if err != nil {
		return Outcome{}, onHandoff(err)
	}
	return t.outcome(ctx, ws, h)
}

func (t *Tools) send(ctx context.Context, ws string, in SendInput) (Sent, error) {
	if err := required("handoff_id", in.HandoffID); err != nil {
		return Sent{}, err
	}
	if err := baton.ValidMessage(in.Text, nil); err != nil {
		return Sent{}, err
	}
	h, ms, err := t.transcript(ctx, ws, in.HandoffID)
	if err != nil {
		return Sent{}, err
	}
	// A retry finds the same last reply the customer answered; the same
	// words again before anyone replies are one message.
	var answered int64
	for _, m := range ms {
		if m.Author != baton.ByCustomer {
			answered = m.Seq
		}
	}
	subject := fmt.Sprintf("%s\n%d", h.ID, answered)
	var m baton.Message
	for i := 0; ; i++ {
		ictx := keyed(ctx, SendToHuman, subject, in)
		if m, err = t.eng.CustomerMessage(ictx, ws, h.ID, in.Text, nil); err != nil {
			return Sent{}, onHandoff(err)
		}
		// The same words again, longer after than a retry comes: the
		// customer wrote them again.
		if !engine.Replayed(ictx) || time.Since(m.CreatedAt) < RetryWindow || i == maxAlike {
			break
		}
		subject += "\n" + m.ID
	}
	return Sent{HandoffID: h.ID, MessageID: m.ID, Instruction: "Passed on to the person. Do not answer the customer yourself; call get_handoff to read the person's reply."}, nil
}

// transcript reads a handoff the caller's key reaches, and its messages.
func (t *Tools) transcript(ctx context.Context, ws, id string) (baton.Handoff, []baton.Message, error) {
	if err := required("handoff_id", id); err != nil {
		return baton.Handoff{}, nil, err
	}
	if _, err := t.eng.Handoff(ctx, ws, id); err != nil { // the key's bot scope
		return baton.Handoff{}, nil, onHandoff(err)
	}
	h, ms, err := t.eng.Transcript(ctx, ws, id)
	return h, ms, onHandoff(err)
}

func (t *Tools) get(ctx context.Context, ws string, in GetInput) (Status, error) {
	if in.After < 0 {
		return Status{}, baton.FieldErrorf("after", "must not be negative")
	}
	h, ms, err := t.transcript(ctx, ws, in.HandoffID)
	if err != nil {
		return Status{}, err
	}
	return status(h, ms, in.After), nil
}

func (t *Tools) end(ctx context.Context, ws string, in EndInput) (Status, error) {
	if err := required("handoff_id", in.HandoffID); err != nil {
		return Status{}, err
	}
	h, err := t.eng.End(keyed(ctx, EndHandoff, in.HandoffID, in), ws, in.HandoffID, baton.EndReason(in.Reason))
	if baton.ErrorCode(err) == baton.ECONFLICT {
		// Ended already, by the person or a timer: the model's wish holds.
		if h, err = t.eng.Handoff(ctx, ws, in.HandoffID); err == nil && h.Open() {
			return Status{}, onHandoff(baton.Errorf(baton.ECONFLICT, "handoff %s cannot be ended now (state %s)", h.ID, h.State))
		}
	}
	if err != nil {
		return Status{}, onHandoff(err)
	}
	h, ms, err := t.transcript(ctx, ws, h.ID) // for the summary
	if err != nil {
		return Status{}, err
	}
	return status(h, ms, lastSeq(ms)), nil
}

// lastSeq is the seq of the last of ms, 0 for none: the cursor after them.
func lastSeq(ms []baton.Message) int64 {
	if len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].Seq
}

// status is where h stands, with the agent's messages of ms after after.
func status(h baton.Handoff, ms []baton.Message, after int64) Status {
	s := Status{HandoffID: h.ID, State: string(h.State), EndReason: string(h.EndReason), AgentName: h.Agent.Name, Cursor: after, Messages: []AgentMessage{}}
	if h.Place != nil {
		s.Position, s.EstimatedWaitSeconds = h.Place.Position, h.Place.WaitSeconds()
	}
	for _, m := range ms {
		if m.Seq <= after {
			continue
		}
		s.Cursor = max(s.Cursor, m.Seq)
		// Only the person's messages of the human segment: the brief's
		// history turns are dated when the handoff was made.
		if m.Author != baton.ByAgent || m.Late || !m.CreatedAt.After(h.CreatedAt) {
			continue
		}
		am := AgentMessage{Seq: m.Seq, AgentName: m.AgentName, Text: m.Text, SentAt: stamp(m.CreatedAt)}
		for _, a := range m.Attachments {
			am.Attachments = append(am.Attachments, Attachment{URL: a.URL, Name: a.Name, Type: a.Type})
		}
		s.Messages = append(s.Messages, am)
	}
	who := "The person"
	if s.AgentName != "" {
		who = s.AgentName
	}
	switch {
	case h.State == baton.Ended:
		s.Summary = baton.Summarize(h, ms).Text
		s.Instruction = fmt.Sprintf("The handoff has ended (%s): you are in charge of the conversation again. Show the customer any message above first, then carry on helping them, using what the person said (the summary).", h.EndReason)
	case h.NeedsEmail:
		s.Instruction = askEmail
	case h.State == baton.Active || !h.TakenAt.IsZero():
		s.Instruction = who + " is talking with the customer. Show the customer each message above as it is, pass every customer message on with send_to_human, and do not answer the customer yourself. Call get_handoff again with this cursor for newer messages."
	default:
		s.Instruction = "No person has taken the conversation yet. Do not answer the customer yourself; pass their messages on with send_to_human and call get_handoff again in a little while."
	}
	return s
}

// onHandoff names handoff_id in an error about the handoff that names no
// argument (not found, or in a state that does not allow the call): the
// argument the model is to look at.
func onHandoff(err error) error {
	switch code := baton.ErrorCode(err); {
	case err == nil || baton.ErrorField(err) != "":
		return err
	case code == baton.ENOTFOUND:
		return &baton.Error{Code: baton.ENOTFOUND, Field: "handoff_id", Message: "no such handoff in this workspace", Err: err}
	case code == baton.ECONFLICT || code == baton.ESTALE:
		return &baton.Error{Code: code, Field: "handoff_id", Message: baton.ErrorMessage(err), Err: err}
	}
	return err
}

// required refuses an empty argument.
func required(field, v string) error {
	if v == "" {
		return baton.FieldErrorf(field, "is required")
	}
	return nil
}

// stamp writes t as RFC 3339 in UTC, "" for the zero time.
func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// seconds is d in whole seconds.
func seconds(d time.Duration) *int64 {
	s := int64(d / time.Second)
	return &s
}

// minutes says a wait of s seconds in words.
func minutes(s int64) string {
	switch m := (s + 59) / 60; {
	case m <= 1:
		return "a minute"
	default:
		return fmt.Sprintf("%d minutes", m)
	}
}
