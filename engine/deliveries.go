package engine

import (
	"context"

	"github.com/batonhq/baton"
)

// Deliveries page sizes: Deliveries lists DefaultDeliveries when asked for
// 0, and at most MaxDeliveries.
const (
	DefaultDeliveries = 100
	MaxDeliveries     = 1000
)

// Deliveries lists the deliveries of a bot's events with Seq after after,
// oldest first, at most limit (0 means DefaultDeliveries): each event with
// its attempts to post it to the bot's webhook and where it stands.
func (e *Engine) Deliveries(ctx context.Context, ws, botID string, after int64, limit int) ([]baton.Delivery, error) {
	switch {
	case limit == 0:
		limit = DefaultDeliveries
	case limit < 0 || limit > MaxDeliveries:
		return nil, baton.FieldErrorf("limit", "must be from 1 to %d", MaxDeliveries)
	}
	if after < 0 {
		return nil, baton.FieldErrorf("after", "must not be negative")
	}
	var ds []baton.Delivery
	err := e.store.View(ctx, func(tx baton.Tx) error {
		bot, err := botOf(tx, ws, botID)
		if err != nil {
			return err
		}
		ds, err = tx.Deliveries(baton.DeliveryPage{WorkspaceID: ws, BotID: bot.ID, After: after, Limit: limit})
		return err
	})
	return ds, err
}

// Redeliver posts one of a bot's events to its webhook again: a new
// delivery job of the event, under the same webhook-id so that the bot can
// tell it has it, in its conversation's order (after the conversation's
// events still pending). An event whose delivery is pending already gets
// no second one: it is answered as it stands. It answers ENOTFOUND for an
// event that is not the bot's, and ECONFLICT when the bot has no webhook
// (it reads its events from the stream). With an Idempotency-Key in ctx
// the same request redelivers once.
func (e *Engine) Redeliver(ctx context.Context, ws, botID, eventID string) (baton.Delivery, error) {
	_, _, err := e.write(ctx, ws, func(tx *wtx) (string, error) {
		bot, err := botOf(tx, ws, botID)
		if err != nil {
			return "", err
		}
		ev, err := eventOf(tx, ws, bot.ID, eventID)
		if err != nil {
			return "", err
		}
		if bot.WebhookURL == "" {
			return "", baton.Errorf(baton.ECONFLICT, "the bot has no webhook: it reads its events from the stream")
		}
		// The conversation is read first: its row stays locked until
		// commit, so two redeliveries of its events at once take turns,
		// and the second sees the job of the first.
		c, err := tx.Conversation(baton.ConversationKey{WorkspaceID: ws, BotID: bot.ID, ExternalID: ev.ExternalID})
		if err != nil {
			return "", baton.Errorf(baton.EINTERNAL, "event %s: its conversation: %w", ev.ID, err)
		}
		d, err := deliveryOf(tx, ev)
		if err != nil || d.Status == baton.DeliveryPending {
			return ev.ID, err
		}
		j := baton.EventJob(ev, c.ID)
		j.RunAt = now()
		return ev.ID, tx.PutJob(j)
	})
	if err != nil {
		return baton.Delivery{}, err
	}
	var d baton.Delivery
	err = e.store.View(ctx, func(tx baton.Tx) error {
		ev, err := eventOf(tx, ws, botID, eventID)
		if err == nil {
			d, err = deliveryOf(tx, ev)
		}
		return err
	})
	return d, err
}

// botOf reads a bot of the workspace that a request names.
func botOf(tx baton.Tx, ws, id string) (baton.Bot, error) {
	b, err := tx.Bot(ws, id)
	if baton.ErrorCode(err) == baton.ENOTFOUND {
		return b, &baton.Error{Code: baton.ENOTFOUND, Message: "no such bot in this workspace", Err: err}
	}
	return b, err
}

// eventOf reads one of a bot's events; another bot's or workspace's event
// is not found.
func eventOf(tx baton.Tx, ws, botID, id string) (baton.Event, error) {
	ev, err := tx.Event(id)
	switch {
	case baton.ErrorCode(err) == baton.ENOTFOUND:
		return ev, &baton.Error{Code: baton.ENOTFOUND, Message: "no such event of this bot", Err: err}
	case err == nil && (ev.WorkspaceID != ws || ev.BotID != botID):
		return baton.Event{}, &baton.Error{Code: baton.ENOTFOUND, Message: "no such event of this bot"}
	}
	return ev, err
}

// deliveryOf reads an event's delivery.
func deliveryOf(tx baton.Tx, ev baton.Event) (baton.Delivery, error) {
	// Seq is unique in the workspace: the bot's first event after the one
	// before is this one.
	ds, err := tx.Deliveries(baton.DeliveryPage{WorkspaceID: ev.WorkspaceID, BotID: ev.BotID, After: ev.Seq - 1, Limit: 1})
	if err != nil {
		return baton.Delivery{}, err
	}
	if len(ds) != 1 || ds[0].EventID != ev.ID {
		return baton.Delivery{}, baton.Errorf(baton.EINTERNAL, "event %s: its delivery is not where its seq says", ev.ID)
	}
	return ds[0], nil
}
