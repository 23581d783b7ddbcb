package engine

import (
	"context"
	"time"

	"github.com/batonhq/baton"
)

// Reads run in read-only transactions.

// Handoff reads one handoff.
func (e *Engine) Handoff(ctx context.Context, ws, id string) (baton.Handoff, error) {
	var h baton.Handoff
	err := e.store.View(ctx, func(tx baton.Tx) (err error) {
		h, err = tx.Handoff(ws, id)
		return err
	})
	return h, err
}

// Conversation reads a conversation by the bot's id for it, and its handoffs, newest first.
func (e *Engine) Conversation(ctx context.Context, ws, botID, externalID string) (baton.Conversation, []baton.Handoff, error) {
	var c baton.Conversation
	var hs []baton.Handoff
	err := e.store.View(ctx, func(tx baton.Tx) error {
		bot, err := resolveBot(tx, ws, botID)
		if err != nil {
			return err
		}
		if c, err = tx.Conversation(baton.ConversationKey{WorkspaceID: ws, BotID: bot.ID, ExternalID: externalID}); err != nil {
			return err
		}
		hs, err = tx.Handoffs(c.ID)
		return err
	})
	return c, hs, err
}

// Transcript lists a handoff's conversation messages in order.
func (e *Engine) Transcript(ctx context.Context, ws, id string) (baton.Handoff, []baton.Message, error) {
	var h baton.Handoff
	var ms []baton.Message
	err := e.store.View(ctx, func(tx baton.Tx) (err error) {
		if h, err = tx.Handoff(ws, id); err != nil {
			return err
		}
		ms, err = tx.HandoffMessages(h.ID)
		return err
	})
	return h, ms, err
}

// message reads a message of the workspace (idempotent replays).
func (e *Engine) message(ctx context.Context, ws, id string) (baton.Message, error) {
	var m baton.Message
	err := e.store.View(ctx, func(tx baton.Tx) error {
		var err error
		if m, err = tx.Message(id); err != nil {
			return err
		}
		c, err := tx.ConversationByID(m.ConversationID)
		if err == nil && c.WorkspaceID != ws {
			err = baton.Errorf(baton.ENOTFOUND, "message %s not found", id)
		}
		return err
	})
	return m, err
}

// Availability is a desk's service status and hours.
type Availability struct {
	DeskID     string
	Status     baton.DeskStatus
	LastError  string
	CheckedAt  time.Time
	OpenNow    bool
	NextOpenAt time.Time // zero if open now or never
	Zone       string
}

// Availability answers whether a handoff through the bot's desk (or the named desk) can be served now.
func (e *Engine) Availability(ctx context.Context, ws, botID, deskID string) (Availability, error) {
	var a Availability
	err := e.store.View(ctx, func(tx baton.Tx) error {
		bot, err := resolveBot(tx, ws, botID)
		if err != nil {
			return err
		}
		dc, err := deskOf(tx, ws, bot, deskID)
		if err != nil {
			return err
		}
		cal, err := calendar(policyFor(bot, dc))
		if err != nil {
			return err
		}
		t := now()
		a = Availability{DeskID: dc.ID, Status: dc.Status, LastError: dc.LastError, CheckedAt: dc.CheckedAt, OpenNow: cal.Open(t), Zone: cal.Location().String()}
		if a.Status == "" {
			a.Status = baton.NotConfigured
		}
		if !a.OpenNow {
			a.NextOpenAt, _ = cal.NextOpen(t)
		}
		return nil
	})
	return a, err
}

// Events lists a bot's events after a sequence number.
func (e *Engine) Events(ctx context.Context, ws, botID string, after int64, limit int) ([]baton.Event, error) {
	var evs []baton.Event
	err := e.store.View(ctx, func(tx baton.Tx) error {
		bot, err := resolveBot(tx, ws, botID)
		if err != nil {
			return err
		}
		evs, err = tx.Events(baton.EventPage{WorkspaceID: ws, BotID: bot.ID, After: after, Limit: limit})
		return err
	})
	return evs, err
}

// Idempotency reads the outcome the workspace stored for an
// Idempotency-Key; found is false when there is none.
func (e *Engine) Idempotency(ctx context.Context, ws, key string) (rec baton.Idempotency, found bool, err error) {
	err = e.store.View(ctx, func(tx baton.Tx) (err error) {
		rec, err = tx.Idempotency(ws, key)
		return err
	})
	if baton.ErrorCode(err) == baton.ENOTFOUND {
		return rec, false, nil
	}
	return rec, err == nil, err
}
