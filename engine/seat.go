package engine

import (
	"context"
	"strings"
	"time"

	"github.com/batonhq/baton"
)

// Seat desks (baton.Seat) are the bot's channel: the bot answers the desk's
// chats as an agent. A chat is a conversation whose ExternalID is the chat id;
// the customer's messages go to the bot as conversation.customer_message
// events; the bot's fenced bot-messages are posted into the chat; a transfer
// to humans is a handoff that the desk's router places in a group.

// seatBot is the bot whose channel the seat desk is.
func seatBot(tx baton.Tx, dc baton.DeskConfig) (baton.Bot, error) {
	bots, err := tx.Bots(dc.WorkspaceID)
	if err != nil {
		return baton.Bot{}, err
	}
	for _, b := range bots {
		if b.DeskID == dc.ID {
			return b, nil
		}
	}
	return baton.Bot{}, baton.Errorf(baton.ENOTFOUND, "no bot answers through seat desk %s", dc.ID)
}

// chatSubject is what a seat chat's events are about when no handoff holds it.
func chatSubject(c baton.Conversation) baton.Subject {
	return baton.Subject{ExternalID: c.ExternalID, Epoch: c.Epoch}
}

// seatEvent applies one verified event of a seat desk.
func (e *Engine) seatEvent(tx *wtx, dc baton.DeskConfig, ev baton.DeskEvent) error {
	bot, err := seatBot(tx, dc)
	if baton.ErrorCode(err) == baton.ENOTFOUND {
		e.log.Warn("seat desk event ignored: no bot uses the desk", "desk", dc.ID, "type", ev.Type)
		return nil
	} else if err != nil {
		return err
	}
	t := now()
	c, err := tx.Conversation(baton.ConversationKey{WorkspaceID: dc.WorkspaceID, BotID: bot.ID, ExternalID: ev.Ref})
	if baton.ErrorCode(err) == baton.ENOTFOUND && ev.Type != baton.DeskCustomerMessage {
		// The desk reports every chat of the license; only chats where a
		// customer wrote to the seat are the bot's.
		return nil
	} else if baton.ErrorCode(err) == baton.ENOTFOUND {
		c = baton.Conversation{ID: baton.NewID("cv"), WorkspaceID: dc.WorkspaceID, BotID: bot.ID, ExternalID: ev.Ref, Owner: baton.OwnerBot, UpdatedAt: t}
	} else if err != nil {
		return err
	}
	if ev.Customer.ID != "" {
		c.Customer = mergeCustomer(c.Customer, ev.Customer)
	}
	if err := tx.PutConversation(c); err != nil {
		return err
	}
	l := loaded{c: c, pol: policyFor(bot, dc)}
	if c.HandoffID != "" {
		if l.h, err = tx.Handoff(c.WorkspaceID, c.HandoffID); err != nil {
			return err
		}
	}
	holding := c.HandoffID != "" && l.h.Open()
	switch ev.Type {
	case baton.DeskCustomerMessage:
		m := baton.Message{ID: baton.NewID("msg"), ConversationID: c.ID, Author: baton.ByCustomer, Text: ev.Text,
			Attachments: ev.Attachments, Epoch: c.Epoch, CreatedAt: t}
		if holding {
			// A human holds the chat and reads the customer in the desk.
			m.HandoffID = l.h.ID
			if err := tx.AddMessage(&m); err != nil {
				return err
			}
			l.h.LastCustomerAt, l.h.LastMessageAt = t, t
			return tx.PutHandoff(l.h)
		}
		if err := tx.AddMessage(&m); err != nil {
			return err
		}
		atts := m.Attachments
		if atts == nil {
			atts = []baton.Attachment{}
		}
		if err := e.tell(tx, c.WorkspaceID, bot.ID, c.ID, baton.CustomerMessageData{Subject: chatSubject(c),
			MessageID: m.ID, Text: m.Text, Attachments: atts, Customer: c.Customer}); err != nil {
			return err
		}
		if trigger := customerTrigger(l.pol.Transfer, ev.Text); trigger != "" {
			return e.transfer(tx, bot, dc, &l.c, l.pol, trigger, "")
		}
		return nil
	case baton.DeskAgentMessage, baton.DeskAgentJoined, baton.DeskTransferred:
		if !holding {
			// A person took the chat without Baton: the bot stops answering.
			l.h = baton.Handoff{ID: baton.NewID("ho"), WorkspaceID: c.WorkspaceID, ConversationID: c.ID, ExternalID: c.ExternalID, BotID: bot.ID,
				DeskID: dc.ID, State: baton.Requested, Decision: &baton.Decision{Trigger: "agent", Reason: "a person in the desk took the chat"},
				CreatedAt: t, LastMessageAt: t}
			eff, err := l.h.Request(&l.c, "", t, t)
			if err != nil {
				return err
			}
			if err := e.save(tx, &l.c, &l.h, l.pol, eff); err != nil {
				return err
			}
			if err := e.queue(tx, &l, ev.Ref); err != nil {
				return err
			}
		}
		return e.apply(tx, &l, ev)
	case baton.DeskSeatReturned:
		if holding {
			return e.end(tx, &l, baton.Transferred, false)
		}
		return nil
	case baton.DeskAgentClosed, baton.DeskCustomerClosed:
		if holding {
			return e.apply(tx, &l, ev)
		}
		return e.tell(tx, c.WorkspaceID, bot.ID, c.ID, baton.ClosedData{Subject: chatSubject(c), By: ev.Type})
	}
	return baton.Errorf(baton.EINVALID, "unknown desk event type %q", ev.Type)
}

// humanWords are how customers ask for a person.
var humanWords = []string{"human", "agent", "person", "real person", "representative", "operator", "someone real", "talk to someone", "live chat"}

// customerTrigger says whether a customer message calls for a transfer.
func customerTrigger(r *baton.TransferRules, text string) string {
	if r == nil || !r.Enabled {
		return ""
	}
	low := strings.ToLower(text)
	for _, k := range r.Keywords {
		if k != "" && strings.Contains(low, strings.ToLower(k)) {
			return "keyword"
		}
	}
	if r.OnHumanRequest {
		for _, w := range humanWords {
			if containsWord(low, w) {
				return "customer"
			}
		}
	}
	return ""
}

// containsWord reports whether phrase occurs in s between word boundaries.
func containsWord(s, phrase string) bool {
	for i := 0; ; {
		j := strings.Index(s[i:], phrase)
		if j < 0 {
			return false
		}
		j += i
		before := j == 0 || !isLetter(s[j-1])
		after := j+len(phrase) == len(s) || !isLetter(s[j+len(phrase)])
		if before && after {
			return true
		}
		i = j + 1
	}
}

func isLetter(b byte) bool { return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' }

// seatDesk reads the bot's desk and reports whether it is a seat.
func (e *Engine) seatDesk(tx baton.Tx, bot baton.Bot) (baton.DeskConfig, bool, error) {
	dc, err := tx.Desk(bot.WorkspaceID, bot.DeskID)
	if err != nil {
		return dc, false, err
	}
	desk, err := e.adapter(dc)
	if err != nil {
		return dc, false, err
	}
	_, ok := desk.(baton.Seat)
	return dc, ok, nil
}

// seatReply posts a bot message into its chat when the bot's desk is a seat,
// and transfers when the bot has answered as many turns as the rules allow.
func (e *Engine) seatReply(tx *wtx, bot baton.Bot, c *baton.Conversation, m baton.Message) error {
	if bot.DeskID == "" {
		return nil
	}
	dc, seat, err := e.seatDesk(tx, bot)
	if err != nil || !seat {
		return err
	}
	if err := tx.PutJob(baton.ReplyJob(bot.WorkspaceID, m)); err != nil {
		return err
	}
	pol := policyFor(bot, dc)
	if r := pol.Transfer; r != nil && r.Enabled && r.AfterBotTurns > 0 {
		ms, err := tx.Messages(c.ID, 0, 0)
		if err != nil {
			return err
		}
		turns := 0
		for _, x := range ms {
			if x.Author == baton.ByBot && x.Epoch == c.Epoch {
				turns++
			}
		}
		if turns >= r.AfterBotTurns {
			return e.transfer(tx, bot, dc, c, pol, "turns", "")
		}
	}
	return nil
}

// transfer starts handing a seat chat to humans: ownership moves now, the
// desk transfer runs as a job (after the rules' delay).
func (e *Engine) transfer(tx *wtx, bot baton.Bot, dc baton.DeskConfig, c *baton.Conversation, pol baton.Policy, trigger, hint string) error {
	t := now()
	h := baton.Handoff{ID: baton.NewID("ho"), WorkspaceID: c.WorkspaceID, ConversationID: c.ID, ExternalID: c.ExternalID, BotID: bot.ID,
		DeskID: dc.ID, State: baton.Requested, DeskRef: c.ExternalID, Routing: hint, Decision: &baton.Decision{Trigger: trigger},
		CreatedAt: t, LastMessageAt: t, LastCustomerAt: t}
	var delay time.Duration
	if pol.Transfer != nil {
		delay = pol.Transfer.Delay.D()
	}
	eff, err := h.Request(c, baton.JobTransfer, t, t.Add(delay))
	if err != nil {
		return err
	}
	return e.save(tx, c, &h, pol, eff)
}

// TransferRequest is a bot asking for a seat chat to go to humans.
type TransferRequest struct {
	BotID      string // optional when the workspace has one bot
	ExternalID string // the chat's id
	Hint       string // a group the router should prefer, if it names one
}

// Transfer asks for a seat chat to go to humans, on the bot's request; the
// desk's router picks the group (the hint, when it names one, wins).
func (e *Engine) Transfer(ctx context.Context, ws string, r TransferRequest) (baton.Handoff, error) {
	var h baton.Handoff
	result, replay, err := e.write(ctx, ws, func(tx *wtx) (string, error) {
		bot, err := resolveBot(ctx, tx, ws, r.BotID)
		if err != nil {
			return "", err
		}
		dc, seat, err := e.seatDesk(tx, bot)
		if err != nil {
			return "", err
		}
		if err := tx.Pin(baton.Pin{WorkspaceID: ws, BotID: bot.ID, DeskID: dc.ID}); err != nil {
			return "", baton.Errorf(baton.ENOTFOUND, "the workspace, bot or desk of this transfer was just deleted: %w", err)
		}
		if !seat {
			return "", baton.Errorf(baton.ECONFLICT, "the bot's desk %s is not a seat desk: ask for a handoff instead", dc.ID)
		}
		pol := policyFor(bot, dc)
		if pol.Transfer == nil || !pol.Transfer.Enabled {
			return "", baton.Errorf(baton.ECONFLICT, "transfers are not enabled in the policy of desk %s", dc.ID)
		}
		c, err := tx.Conversation(baton.ConversationKey{WorkspaceID: ws, BotID: bot.ID, ExternalID: r.ExternalID})
		if baton.ErrorCode(err) == baton.ENOTFOUND {
			return "", &baton.Error{Code: baton.ENOTFOUND, Field: "conversation_id", Message: "no chat with this id has reached the bot", Err: err}
		} else if err != nil {
			return "", err
		}
		if err := e.transfer(tx, bot, dc, &c, pol, "bot", r.Hint); err != nil {
			return "", err
		}
		h, err = tx.Handoff(ws, c.HandoffID)
		return h.ID, err
	})
	if err == nil && replay {
		h, err = e.Handoff(ctx, ws, result)
	}
	return h, err
}

// The seat decisions the outbox asks for while it runs jobs.

// Replying is a bot reply for the outbox to post into its chat.
type Replying struct {
	Message baton.Message
	Chat    string // the chat's id in the desk
	Desk    baton.DeskConfig
}

// Replying reads the bot reply a job targets; ok is false when it must not
// go out: the chat changed hands since the bot wrote it.
func (e *Engine) Replying(ctx context.Context, t baton.Target) (r Replying, ok bool, err error) {
	var c baton.Conversation
	err = e.store.View(ctx, func(tx baton.Tx) (err error) {
		if r.Message, err = tx.Message(t.Message); err != nil {
			return err
		}
		if c, err = tx.ConversationByID(r.Message.ConversationID); err != nil {
			return err
		}
		bot, err := e.BotConfig(tx, t.Workspace, c.BotID)
		if err != nil {
			return err
		}
		r.Desk, err = e.DeskConfig(tx, t.Workspace, bot.DeskID)
		return err
	})
	if err != nil {
		return r, false, err
	}
	if c.Epoch != r.Message.Epoch {
		e.log.Info("bot reply dropped: the chat changed hands before it went out", "conversation", c.ID)
		return r, false, nil
	}
	r.Chat = c.ExternalID
	return r, true, nil
}

// Transferring is a seat transfer for the outbox to run.
type Transferring struct {
	Handoff    baton.Handoff
	Desk       baton.DeskConfig
	Policy     baton.Policy
	Transcript []baton.Message // the chat's last messages, for the router
}

// Transferring reads the seat transfer a job targets; ok is false when it
// has ended or been placed already.
func (e *Engine) Transferring(ctx context.Context, t baton.Target) (tr Transferring, ok bool, err error) {
	err = e.store.View(ctx, func(tx baton.Tx) error {
		l, err := e.load(tx, t.Workspace, t.Handoff)
		if err != nil || l.h.State != baton.Requested {
			return err
		}
		if tr.Desk, err = e.DeskConfig(tx, t.Workspace, l.h.DeskID); err != nil {
			return err
		}
		tr.Handoff, tr.Policy, ok = l.h, l.pol, true
		tr.Transcript, err = tx.LastMessages(l.h.ConversationID, 50)
		return err
	})
	return tr, ok && err == nil, err
}

// Decided records the router's choice on a seat transfer, before the desk
// moves the chat: the desk's inbound event about the move may come first.
func (e *Engine) Decided(ctx context.Context, t baton.Target, d baton.Decision) error {
	return e.each(ctx, t, func(tx *wtx, l *loaded) error {
		if !l.h.Open() {
			return nil
		}
		l.h.Decision, l.h.Routing = &d, d.GroupName
		return tx.PutHandoff(l.h)
	})
}

// Placed records that the desk moved a seat chat to its group: the handoff
// is queued there, unless the desk's inbound event queued it already.
func (e *Engine) Placed(ctx context.Context, t baton.Target) error {
	return e.each(ctx, t, func(tx *wtx, l *loaded) error {
		if l.h.State != baton.Requested {
			return nil
		}
		return e.queue(tx, l, l.h.DeskRef)
	})
}
