package engine

import (
	"github.com/batonhq/baton"
	"github.com/batonhq/baton/hours"
)

// save writes what a transition changed and caused: the conversation (when
// not nil), the handoff, its desk jobs, its events for the bot and its
// timer, in the transaction tx. A transition that moves the desk's queue
// is noted, so that the write ends by telling the handoffs whose position
// it moved (tellQueues); a new figure from the desk is told at once.
func (e *Engine) save(tx *wtx, c *baton.Conversation, h *baton.Handoff, pol baton.Policy, eff baton.Effects) error {
	if c != nil {
		if err := tx.PutConversation(*c); err != nil {
			return err
		}
	}
	if err := tx.PutHandoff(*h); err != nil {
		return err
	}
	for _, j := range eff.Jobs {
		if err := tx.PutJob(j); err != nil {
			return err
		}
	}
	for _, d := range eff.Events {
		if err := e.tell(tx, h.WorkspaceID, h.BotID, h.ConversationID, d); err != nil {
			return err
		}
	}
	if eff.Queue {
		tx.moveQueue(*h)
	}
	if eff.Placed && h.InQueue() {
		if err := e.tellPlace(tx, *h); err != nil {
			return err
		}
	}
	if eff.Timer {
		if err := schedule(tx, *h, pol); err != nil {
			return err
		}
	}
	if eff.Ended != "" {
		tx.c.Ended = append(tx.c.Ended, eff.Ended)
	}
	if eff.Accepted {
		tx.c.Waited = append(tx.c.Waited, h.ActiveAt.Sub(h.QueuedAt))
	}
	return nil
}

// tell records an event for a bot about one of its conversations (conv is
// the conversation's own id) and, when the bot has a webhook, schedules its
// delivery in the conversation's order.
func (e *Engine) tell(tx *wtx, ws, botID, conv string, d baton.EventData) error {
	ev, err := baton.NewEvent(d)
	if err != nil {
		return err
	}
	ev.ID, ev.WorkspaceID, ev.BotID, ev.CreatedAt = baton.NewID("evt"), ws, botID, now()
	if err := tx.AddEvent(&ev); err != nil {
		return err
	}
	bot, err := e.BotConfig(tx, ws, botID)
	if err != nil || bot.WebhookURL == "" {
		return err
	}
	return tx.PutJob(baton.EventJob(ev, conv))
}

// schedule writes (or moves, or removes) the handoff's one timer row to its
// next deadline.
func schedule(tx baton.Tx, h baton.Handoff, pol baton.Policy) error {
	at, _ := h.Deadline(pol)
	if at.IsZero() {
		return tx.DeleteJobByKey(baton.TimerKey(h.ID))
	}
	return tx.PutJob(baton.TimerJob(h, at))
}

// policyFor is the desk's policy if it has one, else the bot's, else the
// defaults; the session payloads are the bot's when it names them.
func policyFor(b baton.Bot, d baton.DeskConfig) baton.Policy {
	var pol baton.Policy
	switch {
	case d.Policy != nil:
		pol = *d.Policy
	case b.Policy != nil:
		pol = *b.Policy
	}
	if b.Policy != nil && b.Policy.SessionPayloads != nil {
		pol.SessionPayloads = b.Policy.SessionPayloads // the bot's own words
	}
	return pol.Effective()
}

// calendar compiles a stored policy's service periods.
func calendar(pol baton.Policy) (*hours.Calendar, error) {
	cal, err := hours.Compile(pol)
	if err != nil {
		return nil, baton.Errorf(baton.EINTERNAL, "stored policy is invalid: %w", err)
	}
	return cal, nil
}

// loaded is a handoff loaded for a change, with its conversation and policy.
type loaded struct {
	h   baton.Handoff
	c   baton.Conversation
	pol baton.Policy
}

// load reads a handoff, its conversation and its effective policy.
func (e *Engine) load(tx baton.Tx, ws, id string) (loaded, error) {
	h, err := tx.Handoff(ws, id)
	if err != nil {
		return loaded{}, err
	}
	return e.loadWith(tx, h)
}

// loadWith loads the rest of what acting on handoff h needs, h having
// been read in this write.
func (e *Engine) loadWith(tx baton.Tx, h baton.Handoff) (loaded, error) {
	l := loaded{h: h}
	var err error
	if l.c, err = tx.ConversationByID(l.h.ConversationID); err != nil {
		return l, err
	}
	bot, err := e.BotConfig(tx, h.WorkspaceID, l.h.BotID)
	if err != nil {
		return l, err
	}
	dc, err := e.DeskConfig(tx, h.WorkspaceID, l.h.DeskID)
	if err != nil {
		return l, err
	}
	l.pol = policyFor(bot, dc)
	return l, nil
}

// end ends the loaded handoff for reason and saves it.
func (e *Engine) end(tx *wtx, l *loaded, reason baton.EndReason, closeDesk bool) error {
	msgs, err := tx.HandoffMessages(l.h.ID)
	if err != nil {
		return err
	}
	eff, err := l.h.End(&l.c, reason, msgs, closeDesk, now())
	if err != nil {
		return err
	}
	for i, d := range eff.Events {
		if ended, ok := d.(baton.EndedData); ok {
			ended.Payload = l.pol.SessionPayloads.Ending(reason)
			eff.Events[i] = ended
		}
	}
	return e.save(tx, &l.c, &l.h, l.pol, eff)
}

// queue records that the desk has the loaded handoff under ref, and saves it.
func (e *Engine) queue(tx *wtx, l *loaded, ref string) error {
	eff, err := l.h.Queue(ref, l.pol, now())
	if err != nil {
		return err
	}
	return e.save(tx, nil, &l.h, l.pol, eff)
}
