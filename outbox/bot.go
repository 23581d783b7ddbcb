package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/stdwebhook"
)

// deliver posts one event (read with its bot in the claiming round) to its
// bot's webhook, signed, and tells the engine the bot has it. It returns the attempt it made, for the delivery
// log, or nil when it posted nothing.
func (w *Worker) deliver(ctx context.Context, t task) (*baton.DeliveryAttempt, error) {
	a, err := w.post(ctx, t.bot, t.event)
	if a != nil {
		a.Nth = t.Attempts + 1
	}
	if err != nil {
		return a, err
	}
	return a, w.engine.Told(ctx, t.event)
}

// post signs one event and posts it to the bot's webhook. It answers nil
// when the bot has the event or will never take it (no webhook, an unusable
// secret, 410 or abort-message: the event stays on the stream), and a retry
// otherwise; and the attempt, unless there is no webhook to post to.
func (w *Worker) post(ctx context.Context, bot baton.Bot, ev baton.Event) (*baton.DeliveryAttempt, error) {
	if bot.WebhookURL == "" {
		return nil, nil
	}
	began := time.Now() // monotonic, for the duration
	a := &baton.DeliveryAttempt{EventID: ev.ID, WorkspaceID: ev.WorkspaceID, BotID: ev.BotID, At: now()}
	signer, err := w.signer(bot, a.At)
	if err != nil {
		w.log.Error("bot webhook secret is unusable; event kept on the stream only", "bot", bot.ID, "err", err)
		a.Error = "not sent: the webhook secret is unusable"
		return a, nil
	}
	body, _ := json.Marshal(ev.Envelope())
	res := stdwebhook.Post(ctx, w.cfg.Client, bot.WebhookURL, signer.Headers(ev.ID, a.At, body), body)
	a.StatusCode, a.Duration = res.Status, time.Since(began)
	w.obs.Delivery("bot", res.OK())
	switch {
	case res.OK():
		return a, nil
	case res.Gone || res.Abort:
		w.log.Warn("bot webhook refused the event for good", "bot", bot.ID, "event", ev.ID, "status", res.Status)
		a.Error = fmt.Sprintf("refused for good: answered %d", res.Status)
		if res.Abort {
			a.Error += " with webhook-delivery: abort-message"
		}
		return a, nil
	case res.Err != nil:
		a.Error = attemptError(res.Err, bot.WebhookURL)
		return a, &retry{after: res.RetryAfter, err: res.Err}
	}
	a.Error = fmt.Sprintf("bot webhook answered %d", res.Status)
	return a, &retry{after: res.RetryAfter, err: errors.New(a.Error)}
}

// signer signs a delivery at at: with the bot's secret and, during a
// rotation, its previous one. A previous secret that cannot be used is
// left out (the bot should verify with the current one by now).
func (w *Worker) signer(bot baton.Bot, at time.Time) (*stdwebhook.Signer, error) {
	secrets := bot.SigningSecrets(at)
	key := strings.Join(secrets, "\x00")
	if s, ok := w.signers.get(key); ok {
		return s, nil
	}
	s, err := w.newSigner(bot, secrets)
	if err == nil {
		w.signers.put(key, s)
	}
	return s, err
}

// signers are the signers made for the bots' secrets, so a delivery does
// not parse its secret again; a handful of bots' worth, emptied when full.
type signers struct {
	mu sync.Mutex
	m  map[string]*stdwebhook.Signer
}

// maxSigners bounds the signers kept.
const maxSigners = 1024

func (c *signers) get(key string) (*stdwebhook.Signer, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.m[key]
	return s, ok
}

func (c *signers) put(key string, s *stdwebhook.Signer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxSigners {
		c.m = map[string]*stdwebhook.Signer{}
	}
	c.m[key] = s
}

// newSigner makes the signer of secrets (the bot's current one first).
func (w *Worker) newSigner(bot baton.Bot, secrets []string) (*stdwebhook.Signer, error) {
	s, err := stdwebhook.NewSigner(secrets[0], secrets[1:]...)
	if err != nil && len(secrets) > 1 {
		if alone, err1 := stdwebhook.NewSigner(secrets[0]); err1 == nil {
			w.log.Warn("bot's previous webhook secret is unusable; signing with the current one only", "bot", bot.ID, "err", err)
			return alone, nil
		}
	}
	return s, err
}

// attemptError is the delivery log's text of a failed request: the error
// without the URL it was made to (which may carry credentials), short.
func attemptError(err error, webhook string) string {
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		err = ue.Err
	}
	text := err.Error()
	if webhook != "" {
		text = strings.ReplaceAll(text, webhook, "<webhook url>")
	}
	return baton.AttemptError(text)
}
