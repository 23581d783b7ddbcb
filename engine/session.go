package engine

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/batonhq/baton"
)

// Session payloads: a bot that expresses handoffs as a live-chat session
// (CSML style) passes every customer message on whole, payload included,
// and Baton says what it did with it. The payloads' names are the
// policy's SessionPayloads.

// CustomerSays is one customer message a bot passes on.
type CustomerSays struct {
	BotID       string // optional when the workspace has one bot
	ExternalID  string // the bot's id for the conversation
	Customer    baton.Customer
	Text        string
	Payload     string // a session payload, or none
	Attachments []baton.Attachment
	// With the start payload: the conversation before it, the desk (the
	// bot's by default) and a routing hint, as for a handoff request.
	History []baton.Turn
	DeskID  string
	Routing string
}

// What a customer message did.
const (
	SaidOpened  = "opened"  // the start payload opened a handoff, or found it open (Said.Before)
	SaidRelayed = "relayed" // a person holds the conversation: the message went to the desk
	SaidEnded   = "ended"   // the end payload ended the open handoff
	SaidBot     = "bot"     // the bot holds the conversation: the bot answers it
)

// Said is what a customer message did: Action, the handoff it opened,
// reached or ended, and the message relayed.
type Said struct {
	Action  string
	Handoff baton.Handoff
	Message baton.Message
	// Before says the start payload found Handoff open already (pressed
	// twice, or at once by two requests): nothing was sent.
	Before bool
}

// DefaultSessionQuestion is the question of a handoff opened by the start
// payload with no text and no customer turn in its history.
const DefaultSessionQuestion = "The customer asked to talk to a person."

// CustomerSays applies one customer message of a conversation, in one
// write: while a handoff is open the end payload ends it (customer_closed),
// the start payload changes nothing, and anything else is relayed to the desk; while the bot holds the
// conversation the start payload opens a handoff and anything else is the
// bot's to answer.
func (e *Engine) CustomerSays(ctx context.Context, ws string, r CustomerSays) (Said, error) {
	switch {
	case strings.TrimSpace(r.ExternalID) == "":
		return Said{}, baton.FieldErrorf("conversation_id", "is required")
	case len(r.ExternalID) > baton.MaxExternalID:
		return Said{}, baton.FieldErrorf("conversation_id", "is longer than %d characters", baton.MaxExternalID)
	case utf8.RuneCountInString(r.Payload) > baton.MaxPayload:
		return Said{}, baton.FieldErrorf("payload", "is longer than %d characters", baton.MaxPayload)
	}
	// What the customer sent is checked whatever it does: words and files
	// alike, with or without a payload.
	if r.Text != "" || len(r.Attachments) > 0 {
		if err := baton.ValidMessage(r.Text, r.Attachments); err != nil {
			return Said{}, err
		}
	}
	var said Said
	result, replay, err := e.write(ctx, ws, func(tx *wtx) (string, error) {
		said = Said{}
		bot, err := resolveBot(ctx, tx, ws, r.BotID)
		if err != nil {
			return "", err
		}
		c, err := tx.Conversation(baton.ConversationKey{WorkspaceID: ws, BotID: bot.ID, ExternalID: r.ExternalID})
		switch {
		case baton.ErrorCode(err) == baton.ENOTFOUND:
			c = baton.Conversation{}
		case err != nil:
			return "", err
		}
		if c.HandoffID != "" {
			return e.sayInHandoff(ctx, tx, ws, c.HandoffID, r, &said)
		}
		dc, err := deskOf(tx, ws, bot, r.DeskID)
		if err != nil {
			return "", err
		}
		if r.Payload != policyFor(bot, dc).SessionPayloads.Start {
			said.Action = SaidBot
			return SaidBot + ":", nil
		}
		if err := startFiles(r); err != nil {
			return "", err
		}
		question, history := sessionQuestion(r)
		cr := baton.CreateRequest{BotID: bot.ID, DeskID: dc.ID, ExternalID: r.ExternalID, Customer: r.Customer,
			History: history, Question: question, Routing: r.Routing}
		if cr.Customer.ID == "" {
			cr.Customer = c.Customer // a conversation handed off before knows its customer
		}
		if err := cr.Valid(); err != nil {
			return "", err
		}
		said.Handoff, err = e.create(ctx, tx, ws, cr)
		if baton.ErrorCode(err) == baton.ECONFLICT && baton.ErrorField(err) == "conversation_id" {
			// A start at the same time made the conversation and opened its
			// handoff since it was read: this start is a message in it.
			if c, err = tx.Conversation(baton.ConversationKey{WorkspaceID: ws, BotID: bot.ID, ExternalID: r.ExternalID}); err != nil {
				return "", err
			}
			return e.sayInHandoff(ctx, tx, ws, c.HandoffID, r, &said)
		}
		if err != nil {
			return "", err
		}
		said.Action = SaidOpened
		return SaidOpened + ":" + said.Handoff.ID, nil
	})
	if err != nil || !replay {
		return said, err
	}
	return e.said(ctx, ws, result)
}

// sayInHandoff applies r to the open handoff id.
func (e *Engine) sayInHandoff(ctx context.Context, tx *wtx, ws, id string, r CustomerSays, said *Said) (string, error) {
	l, err := e.load(tx, ws, id)
	if err == nil {
		err = inScope(ctx, l.h)
	}
	if err != nil {
		return "", err
	}
	if r.Payload != "" && r.Payload == l.pol.SessionPayloads.Start {
		// The start pressed again, or by two requests at once: the handoff
		// is open, and the button's words are not a message to relay.
		if err := startFiles(r); err != nil {
			return "", err
		}
		said.Action, said.Handoff, said.Before = SaidOpened, l.h, true
		return SaidOpened + ":" + id + ":before", nil
	}
	ends := r.Payload != "" && r.Payload == l.pol.SessionPayloads.End
	text := r.Text
	if text == "" && r.Payload != "" && len(r.Attachments) == 0 && !ends {
		text = r.Payload // a button pressed with no words: the agent sees what was pressed
	}
	if text != "" || len(r.Attachments) > 0 {
		// Words sent with the end payload reach the desk before the end.
		if said.Message, err = e.customerMessage(ctx, tx, ws, id, text, r.Attachments); err != nil {
			return "", err
		}
	}
	if !ends {
		said.Action, said.Handoff = SaidRelayed, l.h
		return SaidRelayed + ":" + said.Message.ID, nil
	}
	if l, err = e.load(tx, ws, id); err != nil { // as the message left it
		return "", err
	}
	if err := e.end(tx, &l, baton.CustomerClosed, true); err != nil {
		return "", err
	}
	said.Action, said.Handoff = SaidEnded, l.h
	return SaidEnded + ":" + id + ":" + said.Message.ID, nil
}

// said reads back what an earlier request with the same idempotency key
// did, from its result.
func (e *Engine) said(ctx context.Context, ws, result string) (Said, error) {
	action, id, _ := strings.Cut(result, ":")
	s := Said{Action: action}
	var err error
	switch action {
	case SaidEnded:
		id, msg, _ := strings.Cut(id, ":")
		if s.Handoff, err = e.Handoff(ctx, ws, id); err == nil && msg != "" {
			s.Message, err = e.message(ctx, ws, msg)
		}
	case SaidOpened:
		id, before, _ := strings.Cut(id, ":")
		s.Before = before != ""
		s.Handoff, err = e.Handoff(ctx, ws, id)
	case SaidRelayed:
		if s.Message, err = e.message(ctx, ws, id); err == nil {
			s.Handoff, err = e.Handoff(ctx, ws, s.Message.HandoffID)
		}
	}
	return s, err
}

// startFiles refuses files sent with the start payload.
func startFiles(r CustomerSays) error {
	if len(r.Attachments) > 0 {
		return baton.FieldErrorf("attachments", "cannot come with the start payload: the question is words; send files once the handoff is open")
	}
	return nil
}

// sessionQuestion is the question of a handoff opened by the start
// payload, and the history before it: the message's text, else the
// customer's last turn in the history (which leaves the history), else
// DefaultSessionQuestion.
func sessionQuestion(r CustomerSays) (string, []baton.Turn) {
	if strings.TrimSpace(r.Text) != "" {
		return r.Text, r.History
	}
	for i := len(r.History) - 1; i >= 0; i-- {
		if t := r.History[i]; t.Author == baton.ByCustomer && strings.TrimSpace(t.Text) != "" {
			return t.Text, append(r.History[:i:i], r.History[i+1:]...)
		}
	}
	return DefaultSessionQuestion, r.History
}

// markClosing marks the agent message among events with the end payload.
func markClosing(events []baton.EventData, end string) {
	for i, d := range events {
		if m, ok := d.(baton.AgentMessageData); ok {
			m.Payload = end
			events[i] = m
		}
	}
}
