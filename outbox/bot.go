package outbox

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/stdwebhook"
)

// deliver posts one event to its bot's webhook, signed, and tells the
// engine the bot has it.
func (w *Worker) deliver(ctx context.Context, t task) error {
	var ev baton.Event
	var bot baton.Bot
	err := w.store.View(ctx, func(tx baton.Tx) (err error) {
		if ev, err = tx.Event(t.target.Event); err != nil {
			return err
		}
		bot, err = w.engine.BotConfig(tx, ev.WorkspaceID, ev.BotID)
		return err
	})
	if err != nil {
		return err
	}
	if err := w.post(ctx, bot, ev); err != nil {
		return err
	}
	return w.engine.Told(ctx, ev)
}

// post signs one event and posts it to the bot's webhook. It answers nil
// when the bot has the event or will never take it (no webhook, an unusable
// secret, 410 or abort-message: the event stays on the stream), and a retry
// otherwise.
func (w *Worker) post(ctx context.Context, bot baton.Bot, ev baton.Event) error {
	if bot.WebhookURL == "" {
		return nil
	}
	signer, err := stdwebhook.NewSigner(bot.WebhookSecret)
	if err != nil {
		w.log.Error("bot webhook secret is unusable; event kept on the stream only", "bot", bot.ID, "err", err)
		return nil
	}
	body, _ := json.Marshal(ev.Envelope())
	res := stdwebhook.Post(ctx, w.cfg.Client, bot.WebhookURL, signer.Headers(ev.ID, time.Now(), body), body)
	w.obs.Delivery("bot", res.OK())
	switch {
	case res.OK():
		return nil
	case res.Gone || res.Abort:
		w.log.Warn("bot webhook refused the event for good", "bot", bot.ID, "event", ev.ID, "status", res.Status)
		return nil
	case res.Err != nil:
		return &retry{after: res.RetryAfter, err: res.Err}
	}
	return &retry{after: res.RetryAfter, err: fmt.Errorf("bot webhook answered %d", res.Status)}
}
