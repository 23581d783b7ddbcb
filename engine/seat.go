package engine

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/batonhq/baton"
)

// Seat desks (baton.Seat) are the bot's channel: the bot answers the desk's
// chats as an agent. A chat is a conversation whose ExternalID is the chat id;
// the customer's messages go to the bot as conversation.customer_message
// events; the bot's fenced bot-messages are posted into the chat; a transfer
// to humans is a handoff that the desk's router places in a group.

// Job kinds of seat desks.
const (
	jobReply    = "seat.reply"
	jobTransfer = "seat.transfer"
)

// seatLane orders the bot's replies in one chat.
func seatLane(conversationID string) string { return "seat:" + conversationID }

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

// seatEvent applies one verified event of a seat desk.
func (e *Engine) seatEvent(tx baton.Tx, dc baton.DeskConfig, ev baton.DeskEvent) error {
	bot, err := seatBot(tx, dc)
	if baton.ErrorCode(err) == baton.ENOTFOUND {
		e.log.Warn("seat desk event ignored: no bot uses the desk", "desk", dc.ID, "type", ev.Type)
		return nil
	} else if err != nil {
		return err
	}
	t := now()
	c, err := tx.Conversation(dc.WorkspaceID, bot.ID, ev.Ref)
	if baton.ErrorCode(err) == baton.ENOTFOUND && ev.Type != baton.DeskCustomerMessage {
		// The desk reports every chat of the license; only chats where a
		// customer wrote to the seat are the bot's.
		return nil
	} else if baton.ErrorCode(err) == baton.ENOTFOUND {
		c = baton.Conversation{ID: NewID("cv"), WorkspaceID: dc.WorkspaceID, BotID: bot.ID, ExternalID: ev.Ref, Owner: baton.OwnerBot, UpdatedAt: t}
	} else if err != nil {
		return err
	}
	if ev.Customer.ID != "" {
		c.Customer = mergeCustomer(c.Customer, ev.Customer)
	}
	if err := tx.PutConversation(c); err != nil {
		return err
	}
	pol := policyFor(bot, dc)
	var h baton.Handoff
	if c.HandoffID != "" {
		if h, err = tx.Handoff(c.WorkspaceID, c.HandoffID); err != nil {
			return err
		}
	}
	held := c.HandoffID != "" && h.Open()
	switch ev.Type {
	case baton.DeskCustomerMessage:
		m := baton.Message{ID: NewID("msg"), ConversationID: c.ID, Author: baton.ByCustomer, Text: ev.Text,
			Attachments: ev.Attachments, Epoch: c.Epoch, CreatedAt: t}
		if held {
			// A human holds the chat and reads the customer in the desk.
			m.HandoffID = h.ID
			if err := tx.AddMessage(&m); err != nil {
				return err
			}
			h.LastCustomerAt, h.LastMessageAt = t, t
			return tx.PutHandoff(h)
		}
		if err := tx.AddMessage(&m); err != nil {
			return err
		}
		if err := e.tell(tx, c.WorkspaceID, bot.ID, c.ID, c.ExternalID, "", c.Epoch, baton.EventCustomerMessage, map[string]any{
			"message_id": m.ID, "text": m.Text, "attachments": attachmentsOrEmpty(m.Attachments), "customer": c.Customer}); err != nil {
			return err
		}
		if trigger := customerTrigger(pol.Transfer, ev.Text); trigger != "" {
			return e.transfer(tx, bot, dc, &c, pol, trigger, "")
		}
		return nil
	case baton.DeskAgentMessage, baton.DeskAgentJoined, baton.DeskTransferred:
		if !held {
			// A person took the chat without Baton: the bot stops answering.
			h = baton.Handoff{ID: NewID("ho"), WorkspaceID: c.WorkspaceID, ConversationID: c.ID, ExternalID: c.ExternalID, BotID: bot.ID,
				DeskID: dc.ID, State: baton.Requested, DeskRef: ev.Ref, Decision: &baton.Decision{Trigger: "agent", Reason: "a person in the desk took the chat"},
				CreatedAt: t, LastMessageAt: t}
			c.Owner, c.Epoch, c.HandoffID, c.UpdatedAt = baton.OwnerHuman, c.Epoch+1, h.ID, t
			h.Epoch = c.Epoch
			if err := tx.PutConversation(c); err != nil {
				return err
			}
			if err := e.queue(tx, &h, pol, ev.Ref); err != nil {
				return err
			}
		}
		return e.apply(tx, &h, &c, pol, ev)
	case baton.DeskSeatReturned:
		if held {
			return e.end(tx, &h, &c, baton.Transferred, false)
		}
		return nil
	case baton.DeskAgentClosed, baton.DeskCustomerClosed:
		if held {
			return e.apply(tx, &h, &c, pol, ev)
		}
		return e.tell(tx, c.WorkspaceID, bot.ID, c.ID, c.ExternalID, "", c.Epoch, baton.EventClosed, map[string]any{"by": ev.Type})
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

// seatReply posts a bot message into its chat when the bot's desk is a seat,
// and transfers when the bot has answered as many turns as the rules allow.
func (e *Engine) seatReply(tx baton.Tx, bot baton.Bot, c *baton.Conversation, m baton.Message) error {
	if bot.DeskID == "" {
		return nil
	}
	dc, err := tx.Desk(bot.WorkspaceID, bot.DeskID)
	if err != nil {
		return err
	}
	desk, err := e.desks(dc)
	if err != nil {
		return err
	}
	if _, ok := desk.(baton.Seat); !ok {
		return nil
	}
	if err := tx.PutJob(baton.Job{Kind: jobReply, Lane: seatLane(c.ID), RunAt: now(), Payload: jobRef(bot.WorkspaceID, "", m.ID)}); err != nil {
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
func (e *Engine) transfer(tx baton.Tx, bot baton.Bot, dc baton.DeskConfig, c *baton.Conversation, pol baton.Policy, trigger, hint string) error {
	if c.HandoffID != "" {
		return &baton.Error{Code: baton.ECONFLICT, Field: "conversation_id", Message: "the conversation is already held by a person: handoff " + c.HandoffID}
	}
	t := now()
	h := baton.Handoff{ID: NewID("ho"), WorkspaceID: c.WorkspaceID, ConversationID: c.ID, ExternalID: c.ExternalID, BotID: bot.ID,
		DeskID: dc.ID, State: baton.Requested, DeskRef: c.ExternalID, Routing: hint, Decision: &baton.Decision{Trigger: trigger},
		CreatedAt: t, LastMessageAt: t, LastCustomerAt: t}
	var delay time.Duration
	if pol.Transfer != nil {
		delay = pol.Transfer.Delay.D()
	}
	return e.takeOver(tx, c, &h, pol, jobTransfer, t.Add(delay))
}

// Transfer asks for a seat chat to go to humans, on the bot's request; the
// desk's router picks the group (hint, when it names one, wins).
func (e *Engine) Transfer(ctx context.Context, ws, botID, conversationID, hint string) (baton.Handoff, error) {
	var h baton.Handoff
	ref, replay, err := e.write(ctx, ws, func(tx baton.Tx) (string, error) {
		bot, err := resolveBot(tx, ws, botID)
		if err != nil {
			return "", err
		}
		dc, err := tx.Desk(ws, bot.DeskID)
		if err != nil {
			return "", err
		}
		desk, err := e.desks(dc)
		if err != nil {
			return "", err
		}
		if _, ok := desk.(baton.Seat); !ok {
			return "", baton.Errorf(baton.ECONFLICT, "the bot's desk %s is not a seat desk: ask for a handoff instead", dc.ID)
		}
		pol := policyFor(bot, dc)
		if pol.Transfer == nil || !pol.Transfer.Enabled {
			return "", baton.Errorf(baton.ECONFLICT, "transfers are not enabled in the policy of desk %s", dc.ID)
		}
		c, err := tx.Conversation(ws, bot.ID, conversationID)
		if baton.ErrorCode(err) == baton.ENOTFOUND {
			return "", &baton.Error{Code: baton.ENOTFOUND, Field: "conversation_id", Message: "no chat with this id has reached the bot"}
		} else if err != nil {
			return "", err
		}
		if err := e.transfer(tx, bot, dc, &c, pol, "bot", hint); err != nil {
			return "", err
		}
		h, err = tx.Handoff(ws, c.HandoffID)
		return h.ID, err
	})
	if err == nil && replay {
		h, err = e.Handoff(ctx, ws, ref)
	}
	return h, err
}

// reply posts one bot message into its chat.
func (e *Engine) reply(ctx context.Context, r ref) error {
	var m baton.Message
	var c baton.Conversation
	var dc baton.DeskConfig
	err := e.store.View(ctx, func(tx baton.Tx) (err error) {
		if m, err = tx.Message(r.Message); err != nil {
			return err
		}
		if c, err = tx.ConversationByID(m.ConversationID); err != nil {
			return err
		}
		bot, err := tx.Bot(r.WS, c.BotID)
		if err != nil {
			return err
		}
		dc, err = tx.Desk(r.WS, bot.DeskID)
		return err
	})
	if err != nil {
		return err
	}
	if c.Epoch != m.Epoch {
		e.log.Info("bot reply dropped: the chat changed hands before it went out", "conversation", c.ID)
		return nil
	}
	desk, err := e.desks(dc)
	if err != nil {
		return err
	}
	seat, ok := desk.(baton.Seat)
	if !ok {
		return nil
	}
	if err := e.call(ctx, dc, "reply", func() error { return seat.Reply(ctx, c.ExternalID, m) }); err != nil {
		return e.deskRetry("reply", baton.Handoff{}, err)
	}
	return nil
}

// transferNow runs a seat transfer: list the groups, let the router choose,
// move the chat, and record the decision on the handoff.
func (e *Engine) transferNow(ctx context.Context, j baton.Job, r ref) error {
	h, dc, desk, err := e.deskFor(ctx, r)
	if err != nil {
		return err
	}
	if h.State != baton.Requested {
		return nil // ended or already placed
	}
	seat, ok := desk.(baton.Seat)
	if !ok {
		return nil
	}
	var transcript []baton.Message
	var pol baton.Policy
	err = e.store.View(ctx, func(tx baton.Tx) error {
		var err error
		if h, _, pol, err = e.load(tx, r.WS, r.Handoff); err != nil {
			return err
		}
		transcript, err = tx.LastMessages(h.ConversationID, 50)
		return err
	})
	if err != nil {
		return err
	}
	var groups []baton.Group
	var d baton.Decision
	err = e.call(ctx, dc, "groups", func() (err error) {
		groups, err = seat.Groups(ctx)
		return err
	})
	if err == nil {
		if pol.Transfer != nil {
			for i, g := range groups {
				if desc := pol.Transfer.Groups[g.ID]; desc != "" && g.Description == "" {
					groups[i].Description = desc
				}
			}
		}
		d, err = e.cfg.Router.Route(ctx, groups, transcript, h.Routing)
	}
	if err == nil {
		// Record the decision before moving the chat: the desk's webhook
		// about the move may be applied before this job goes on.
		d.Trigger = h.Decision.Trigger
		_, _, err = e.write(ctx, r.WS, func(tx baton.Tx) (string, error) {
			h, err := tx.Handoff(r.WS, r.Handoff)
			if err != nil || !h.Open() {
				return "", err
			}
			h.Decision, h.Routing = &d, d.GroupName
			return "", tx.PutHandoff(h)
		})
	}
	if err == nil {
		err = e.call(ctx, dc, "transfer", func() error { return seat.Transfer(ctx, h.DeskRef, d.GroupID) })
	}
	if err != nil {
		var de *baton.DeskError
		final := errors.As(err, &de) && (de.Busy || de.Auth || de.Permanent) || baton.ErrorCode(err) == baton.EUNAVAILABLE
		if !final && j.Attempts+1 < e.cfg.OpenAttempts {
			return e.deskRetry("transfer", h, err)
		}
		e.log.Warn("seat transfer failed; the bot keeps the chat", "handoff", h.ID, "desk", dc.ID, "err", err)
		_, _, werr := e.write(ctx, r.WS, func(tx baton.Tx) (string, error) {
			h, c, _, err := e.load(tx, r.WS, r.Handoff)
			if err != nil || !h.Open() {
				return "", err
			}
			return "", e.end(tx, &h, &c, baton.DeskUnavailable, false)
		})
		return werr
	}
	_, _, err = e.write(ctx, r.WS, func(tx baton.Tx) (string, error) {
		h, _, pol, err := e.load(tx, r.WS, r.Handoff)
		if err != nil || h.State != baton.Requested {
			return "", err // the desk's webhook queued it already
		}
		return "", e.queue(tx, &h, pol, h.DeskRef)
	})
	return err
}
