package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/engine"
	"github.com/batonhq/baton/outbox"
	"github.com/batonhq/baton/stdwebhook"
)

// hookBot is a bot's webhook endpoint. It takes a while to answer, answers
// each request as answer says (nil: 200), and records what it got.
type hookBot struct {
	took   time.Duration
	mu     sync.Mutex
	answer func(n int, r *http.Request) (int, error)
	got    []hookCall
}

// hookCall is one request the bot's endpoint got.
type hookCall struct {
	header http.Header
	body   []byte
	typ    string
	at     time.Time
}

func (b *hookBot) RoundTrip(r *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	var env struct{ Type string }
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, err
	}
	time.Sleep(b.took)
	b.mu.Lock()
	n := len(b.got)
	b.got = append(b.got, hookCall{header: r.Header.Clone(), body: body, typ: env.Type, at: time.Now()})
	answer := b.answer
	b.mu.Unlock()
	code := http.StatusOK
	if answer != nil {
		if code, err = answer(n, r); err != nil {
			return nil, err
		}
	}
	return &http.Response{StatusCode: code, Body: io.NopCloser(strings.NewReader("")), Header: http.Header{}, Request: r}, nil
}

func (b *hookBot) calls() []hookCall {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]hookCall(nil), b.got...)
}

func (b *hookBot) set(answer func(n int, r *http.Request) (int, error)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.answer = answer
}

// withHook gives the stack's bot the webhook url and secrets, and a node
// whose outbox posts to hook on schedule.
func withHook(t *testing.T, s *stack, hook *hookBot, bot baton.Bot, schedule []time.Duration) {
	t.Helper()
	bot.ID, bot.WorkspaceID, bot.Name, bot.DeskID = s.bot, s.ws, "Bot", s.desk
	if err := s.store.Tx(context.Background(), func(tx baton.Tx) error { return tx.PutBot(bot) }); err != nil {
		t.Fatal(err)
	}
	s.eng = newNode(s.store, nil, outbox.Config{Client: &http.Client{Transport: hook}, BotSchedule: schedule})
}

func (s *stack) deliveries(t *testing.T) []baton.Delivery {
	t.Helper()
	ds, err := s.eng.Deliveries(context.Background(), s.ws, s.bot, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func (s *stack) eventJobs(t *testing.T) int64 {
	t.Helper()
	var n map[string]int64
	if err := s.store.View(context.Background(), func(tx baton.Tx) (err error) { n, err = tx.JobCount(); return err }); err != nil {
		t.Fatal(err)
	}
	return n[string(baton.JobEvent)]
}

// TestDeliveryLog: every attempt at posting an event is logged with its
// time, status, duration and error, in order, and the delivery shows
// pending with its next retry until an attempt is answered 2xx. The error
// of a request that got no answer never carries the webhook URL, whose
// query and user info may hold credentials.
func TestDeliveryLog(t *testing.T) {
	t.Parallel()
	const hookURL = "http://bot:hunter2pass@bot.example/hook?token=s3cr3t-token"
	eachOpener(t, func(t *testing.T, open func(*testing.T) baton.Store) {
		synctest.Test(t, func(t *testing.T) {
			ctx := context.Background()
			hook := &hookBot{took: 250 * time.Millisecond, answer: func(n int, r *http.Request) (int, error) {
				switch n {
				case 0:
					return http.StatusServiceUnavailable, nil
				case 1:
					return 0, fmt.Errorf("cannot reach %s: connection refused", r.URL)
				}
				return http.StatusNoContent, nil
			}}
			s := newStackOn(t, open(t), nil, nil)
			withHook(t, s, hook, baton.Bot{WebhookURL: hookURL, WebhookSecret: stdwebhook.NewSecret()}, everyTenSeconds())
			s.create(t, "c")
			start := time.Now()
			s.drain(t) // the open, then the queued event's first attempt
			ds := s.deliveries(t)
			if len(ds) != 1 || ds[0].Type != baton.EventQueued {
				t.Fatalf("deliveries %+v, want the queued event's", ds)
			}
			d := ds[0]
			if d.Status != baton.DeliveryPending || len(d.Attempts) != 1 {
				t.Fatalf("after a 503: %s with %d attempts, want pending with 1", d.Status, len(d.Attempts))
			}
			a := d.Attempts[0]
			want := baton.DeliveryAttempt{EventID: d.EventID, WorkspaceID: s.ws, BotID: s.bot, At: a.At,
				StatusCode: 503, Error: "bot webhook answered 503", Duration: 250 * time.Millisecond}
			if a != want {
				t.Errorf("attempt\n got %+v\nwant %+v", a, want)
			}
			if sent := hook.calls()[0].at.Add(-hook.took); !a.At.Equal(sent.UTC().Truncate(time.Microsecond)) {
				t.Errorf("attempt at %v, sent at %v", a.At, sent)
			}
			if !d.NextRetryAt.After(a.At) || d.NextRetryAt.Sub(a.At) > 12*time.Second {
				t.Errorf("next retry at %v, after an attempt at %v on a 10 s schedule", d.NextRetryAt, a.At)
			}
			time.Sleep(time.Until(d.NextRetryAt))
			s.drain(t)
			d = s.deliveries(t)[0]
			if d.Status != baton.DeliveryPending || len(d.Attempts) != 2 {
				t.Fatalf("after no answer: %s with %d attempts", d.Status, len(d.Attempts))
			}
			a = d.Attempts[1]
			if a.StatusCode != 0 || a.Error != "cannot reach <webhook url>: connection refused" {
				t.Errorf("attempt with no answer: %d %q", a.StatusCode, a.Error)
			}
			for _, secret := range []string{"s3cr3t-token", "hunter2pass"} {
				if strings.Contains(a.Error, secret) {
					t.Errorf("the attempt's error %q carries a credential of the URL", a.Error)
				}
			}
			time.Sleep(time.Until(d.NextRetryAt))
			s.drain(t)
			d = s.deliveries(t)[0]
			if d.Status != baton.DeliveryDelivered || len(d.Attempts) != 3 || !d.NextRetryAt.IsZero() {
				t.Fatalf("after a 204: %s with %d attempts, next retry %v", d.Status, len(d.Attempts), d.NextRetryAt)
			}
			if a := d.Attempts[2]; a.StatusCode != 204 || a.Error != "" || !d.Attempts[1].At.Before(a.At) {
				t.Errorf("the delivered attempt: %+v", a)
			}
			calls := hook.calls()
			for i, c := range calls {
				if c.header.Get(stdwebhook.HeaderID) != d.EventID {
					t.Errorf("call %d has webhook-id %q, want the event's id %s", i, c.header.Get(stdwebhook.HeaderID), d.EventID)
				}
			}
			if len(calls) != 3 || time.Since(start) > time.Minute {
				t.Errorf("%d calls in %v", len(calls), time.Since(start))
			}
			// Paging: after the event, nothing.
			if ds, err := s.eng.Deliveries(ctx, s.ws, s.bot, d.Seq, 10); err != nil || len(ds) != 0 {
				t.Errorf("deliveries after the last: %v, %v", ds, err)
			}
		})
	})
}

// TestDeliveryFailedRedeliver: a delivery whose retries ran out, or that
// the bot refused for good (410), shows failed; redelivered once the bot
// is back, it is posted again under the same webhook-id, shows pending,
// then delivered, its attempts all in one list.
func TestDeliveryFailedRedeliver(t *testing.T) {
	t.Parallel()
	eachOpener(t, func(t *testing.T, open func(*testing.T) baton.Store) {
		synctest.Test(t, func(t *testing.T) {
			ctx := context.Background()
			hook := &hookBot{answer: func(n int, r *http.Request) (int, error) { return http.StatusServiceUnavailable, nil }}
			s := newStackOn(t, open(t), nil, nil)
			withHook(t, s, hook, baton.Bot{WebhookURL: "http://bot.example/hook", WebhookSecret: stdwebhook.NewSecret()}, []time.Duration{0, 10 * time.Second})
			h := s.create(t, "c")
			s.drain(t)
			time.Sleep(12 * time.Second) // the retry: 10 s with its jitter
			s.drain(t)
			d := s.deliveries(t)[0]
			if d.Status != baton.DeliveryFailed || len(d.Attempts) != 2 || !d.NextRetryAt.IsZero() {
				t.Fatalf("after its 2 attempts failed: %s with %d attempts, next retry %v", d.Status, len(d.Attempts), d.NextRetryAt)
			}
			hook.set(func(int, *http.Request) (int, error) { return http.StatusGone, nil })
			if _, err := s.eng.End(ctx, s.ws, h.ID, baton.BotClosed); err != nil {
				t.Fatal(err)
			}
			s.drain(t)
			ended := s.deliveries(t)[1]
			if ended.Type != baton.EventEnded || ended.Status != baton.DeliveryFailed || len(ended.Attempts) != 1 ||
				ended.Attempts[0].StatusCode != 410 || !strings.Contains(ended.Attempts[0].Error, "refused for good") {
				t.Fatalf("the event the bot refused with 410: %+v", ended)
			}

			hook.set(nil) // back up
			for _, failed := range []baton.Delivery{d, ended} {
				before := len(hook.calls())
				got, err := s.eng.Redeliver(ctx, s.ws, s.bot, failed.EventID)
				if err != nil {
					t.Fatal(err)
				}
				if got.Status != baton.DeliveryPending || got.EventID != failed.EventID || len(got.Attempts) != len(failed.Attempts) || got.NextRetryAt.IsZero() {
					t.Fatalf("redeliver answered %+v, want it pending with its attempts so far", got)
				}
				s.drain(t)
				calls := hook.calls()
				if len(calls) != before+1 || calls[before].header.Get(stdwebhook.HeaderID) != failed.EventID {
					t.Fatalf("redelivered %d times, webhook-id %q; want once, %s", len(calls)-before, calls[len(calls)-1].header.Get(stdwebhook.HeaderID), failed.EventID)
				}
			}
			ds := s.deliveries(t)
			if ds[0].Status != baton.DeliveryDelivered || len(ds[0].Attempts) != 3 || ds[1].Status != baton.DeliveryDelivered || len(ds[1].Attempts) != 2 {
				t.Fatalf("after the redeliveries: %s with %d attempts, %s with %d", ds[0].Status, len(ds[0].Attempts), ds[1].Status, len(ds[1].Attempts))
			}
		})
	})
}

// TestRedeliverRefused: another bot's or workspace's event is not found, nor
// an unknown one; a bot with no webhook cannot be redelivered to, and its
// events show as read from the stream.
func TestRedeliverRefused(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, st baton.Store) {
		ctx := context.Background()
		s := newStackOn(t, st, nil, nil) // the bot reads the stream
		s.create(t, "c")
		s.drain(t)
		mine := s.deliveries(t)
		if len(mine) != 1 || mine[0].Status != baton.DeliveryStream || len(mine[0].Attempts) != 0 {
			t.Fatalf("a stream bot's deliveries: %+v", mine)
		}
		err := st.Tx(ctx, func(tx baton.Tx) error {
			if err := tx.CreateWorkspace(baton.Workspace{ID: "ws2"}); err != nil {
				return err
			}
			if err := tx.PutBot(baton.Bot{ID: "bot2", WorkspaceID: s.ws, WebhookURL: "http://bot2.example/hook", WebhookSecret: stdwebhook.NewSecret()}); err != nil {
				return err
			}
			if err := tx.AddEvent(&baton.Event{ID: "evt-bot2", WorkspaceID: s.ws, BotID: "bot2", Type: baton.EventQueued, ExternalID: "x"}); err != nil {
				return err
			}
			return tx.AddEvent(&baton.Event{ID: "evt-ws2", WorkspaceID: "ws2", BotID: s.bot, Type: baton.EventQueued, ExternalID: "x"})
		})
		if err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name, ws, bot, event, code string
		}{
			{"a stream bot", s.ws, s.bot, mine[0].EventID, baton.ECONFLICT},
			{"another bot's event", s.ws, s.bot, "evt-bot2", baton.ENOTFOUND},
			{"the event as the other bot's", s.ws, "bot2", mine[0].EventID, baton.ENOTFOUND},
			{"another workspace's event", s.ws, s.bot, "evt-ws2", baton.ENOTFOUND},
			{"the bot in another workspace", "ws2", s.bot, "evt-ws2", baton.ENOTFOUND},
			{"an unknown event", s.ws, s.bot, "evt-nope", baton.ENOTFOUND},
			{"an unknown bot", s.ws, "nobody", mine[0].EventID, baton.ENOTFOUND},
		}
		for _, tt := range tests {
			_, err := s.eng.Redeliver(ctx, tt.ws, tt.bot, tt.event)
			if got := baton.ErrorCode(err); got != tt.code {
				t.Errorf("%s: %v (%s), want %s", tt.name, err, got, tt.code)
			}
		}
		if n := s.eventJobs(t); n != 0 {
			t.Errorf("%d delivery jobs after refused redeliveries", n)
		}
		if _, err := s.eng.Deliveries(ctx, s.ws, "nobody", 0, 0); baton.ErrorCode(err) != baton.ENOTFOUND {
			t.Errorf("deliveries of an unknown bot: %v", err)
		}
		if _, err := s.eng.Deliveries(ctx, "ws2", "bot2", 0, 0); baton.ErrorCode(err) != baton.ENOTFOUND {
			t.Errorf("deliveries of another workspace's bot: %v", err)
		}
		for _, limit := range []int{-1, engine.MaxDeliveries + 1} {
			if _, err := s.eng.Deliveries(ctx, s.ws, s.bot, 0, limit); baton.ErrorCode(err) != baton.EINVALID {
				t.Errorf("limit %d: %v", limit, err)
			}
		}
	})
}

// TestRedeliverOnce: with an Idempotency-Key, a redelivery asked twice (at
// once, too) is made once, the copies answered as replays; the key with
// another event is refused; a delivery still pending gets no second job.
func TestRedeliverOnce(t *testing.T) {
	t.Parallel()
	eachOpener(t, func(t *testing.T, open func(*testing.T) baton.Store) {
		synctest.Test(t, func(t *testing.T) {
			ctx := context.Background()
			hook := &hookBot{}
			s := newStackOn(t, open(t), nil, nil)
			withHook(t, s, hook, baton.Bot{WebhookURL: "http://bot.example/hook", WebhookSecret: stdwebhook.NewSecret()}, []time.Duration{0, 10 * time.Second, 10 * time.Second})
			h := s.create(t, "c")
			s.drain(t)
			if _, err := s.eng.End(ctx, s.ws, h.ID, baton.BotClosed); err != nil {
				t.Fatal(err)
			}
			s.drain(t)
			ds := s.deliveries(t)
			queued, ended := ds[0].EventID, ds[1].EventID
			before := len(hook.calls())
			kctx := engine.WithIdempotency(ctx, "redeliver-1", "redeliver "+queued)
			got, errs := together(3, func(int) (baton.Delivery, error) {
				c := engine.WithIdempotency(ctx, "redeliver-1", "redeliver "+queued)
				d, err := s.eng.Redeliver(c, s.ws, s.bot, queued)
				if err == nil && d.EventID != queued {
					err = fmt.Errorf("answered the delivery of %s", d.EventID)
				}
				return d, err
			})
			for i := range got {
				if errs[i] != nil {
					t.Fatal(errs[i])
				}
			}
			if n := s.eventJobs(t); n != 1 {
				t.Fatalf("%d delivery jobs after one redelivery asked 3 times with one key", n)
			}
			s.drain(t)
			if _, err := s.eng.Redeliver(kctx, s.ws, s.bot, queued); err != nil || !engine.Replayed(kctx) {
				t.Fatalf("the key again: %v, replayed %v", err, engine.Replayed(kctx))
			}
			s.drain(t)
			if n := len(hook.calls()) - before; n != 1 {
				t.Fatalf("the event was posted %d times, want once", n)
			}
			_, err := s.eng.Redeliver(engine.WithIdempotency(ctx, "redeliver-1", "redeliver "+ended), s.ws, s.bot, ended)
			if baton.ErrorCode(err) != baton.EIDEMPOTENCY {
				t.Fatalf("the key with another event: %v", err)
			}

			// The bot is down: the redelivery is pending, and asking again
			// adds nothing.
			hook.set(func(int, *http.Request) (int, error) { return http.StatusServiceUnavailable, nil })
			if _, err := s.eng.Redeliver(ctx, s.ws, s.bot, ended); err != nil {
				t.Fatal(err)
			}
			s.drain(t)
			d, err := s.eng.Redeliver(ctx, s.ws, s.bot, ended)
			if err != nil || d.Status != baton.DeliveryPending {
				t.Fatalf("redelivering a pending delivery: %v, %+v", err, d)
			}
			if n := s.eventJobs(t); n != 1 {
				t.Errorf("%d delivery jobs for one pending delivery redelivered again", n)
			}
			// Failed, then redelivered by several requests at once, with no
			// key: one of them makes the job, the others find it pending.
			for range 2 { // its retries run out
				time.Sleep(12 * time.Second)
				s.drain(t)
			}
			if d := s.deliveries(t)[1]; d.Status != baton.DeliveryFailed {
				t.Fatalf("the redelivery to a bot that is down: %s", d.Status)
			}
			_, errs = together(4, func(int) (baton.Delivery, error) { return s.eng.Redeliver(ctx, s.ws, s.bot, ended) })
			for _, err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			if n := s.eventJobs(t); n != 1 {
				t.Errorf("%d delivery jobs after 4 redeliveries at once of one failed delivery", n)
			}
		})
	})
}

// TestSecretRotation: while the previous secret's overlap lasts, every
// delivery carries two signatures and either secret alone verifies it;
// from its end, only the new secret signs, and the old one verifies
// nothing. A previous secret that cannot be used does not stop deliveries.
func TestSecretRotation(t *testing.T) {
	t.Parallel()
	eachOpener(t, func(t *testing.T, open func(*testing.T) baton.Store) {
		synctest.Test(t, func(t *testing.T) {
			hook := &hookBot{}
			cur, prev := stdwebhook.NewSecret(), stdwebhook.NewSecret()
			until := time.Now().Add(time.Hour)
			st := open(t)
			s := newStackOn(t, st, nil, nil)
			withHook(t, s, hook, baton.Bot{WebhookURL: "http://bot.example/hook", WebhookSecret: cur, PreviousSecret: prev, PreviousUntil: until}, everyTenSeconds())
			// deliver makes one event, handoff.queued, and returns the call
			// that posted it. The handoff then ends, so that no timer of its
			// fires while the clock moves on.
			conv := 0
			deliver := func() hookCall {
				t.Helper()
				conv++
				before := len(hook.calls())
				h := s.create(t, fmt.Sprint("c", conv))
				s.drain(t)
				calls := hook.calls()
				if len(calls) != before+1 || calls[before].typ != baton.EventQueued {
					t.Fatalf("%d calls for one event", len(calls)-before)
				}
				if _, err := s.eng.End(context.Background(), s.ws, h.ID, baton.BotClosed); err != nil {
					t.Fatal(err)
				}
				s.drain(t)
				return calls[before]
			}
			verifies := func(c hookCall, secret string) bool {
				return stdwebhook.Verify(secret, c.header, c.body, c.at) == nil
			}
			for _, wait := range []time.Duration{0, time.Until(until) - time.Second} {
				time.Sleep(wait)
				c := deliver()
				if n := len(strings.Fields(c.header.Get(stdwebhook.HeaderSignature))); n != 2 {
					t.Fatalf("%v before the overlap ends: %d signatures, want 2", time.Until(until), n)
				}
				if !verifies(c, cur) || !verifies(c, prev) {
					t.Fatalf("%v before the overlap ends: the new secret verifies %v, the old %v; want both", time.Until(until), verifies(c, cur), verifies(c, prev))
				}
				if verifies(c, stdwebhook.NewSecret()) {
					t.Fatal("a third secret verifies")
				}
			}
			for _, wait := range []time.Duration{time.Until(until), time.Second, 24 * time.Hour} {
				time.Sleep(wait)
				c := deliver()
				if n := len(strings.Fields(c.header.Get(stdwebhook.HeaderSignature))); n != 1 {
					t.Fatalf("%v after the overlap: %d signatures, want 1", -time.Until(until), n)
				}
				if !verifies(c, cur) || verifies(c, prev) {
					t.Fatalf("%v after the overlap: the new secret verifies %v, the old %v; want only the new", -time.Until(until), verifies(c, cur), verifies(c, prev))
				}
			}
			// A previous secret that is not one: the current one signs alone.
			err := st.Tx(context.Background(), func(tx baton.Tx) error {
				b, err := tx.Bot(s.ws, s.bot)
				if err != nil {
					return err
				}
				b.PreviousSecret, b.PreviousUntil = "whsec_short", time.Now().Add(time.Hour)
				return tx.PutBot(b)
			})
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(2 * time.Second) // past the engine's cache of the bot
			c := deliver()
			if n := len(strings.Fields(c.header.Get(stdwebhook.HeaderSignature))); n != 1 || !verifies(c, cur) {
				t.Fatalf("with an unusable previous secret: %d signatures, verifies %v", n, verifies(c, cur))
			}
			if d := s.deliveries(t); d[len(d)-1].Status != baton.DeliveryDelivered {
				t.Errorf("with an unusable previous secret: %s", d[len(d)-1].Status)
			}
		})
	})
}

// TestDeliveryOfGone: a delivery job whose bot or event is gone is given up
// at once, not retried every second for ever.
func TestDeliveryOfGone(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, st baton.Store) {
		s := newStackOn(t, st, nil, nil)
		err := st.Tx(context.Background(), func(tx baton.Tx) error {
			ev := baton.Event{ID: "evt-ghost-bot", WorkspaceID: s.ws, BotID: "ghost", Type: baton.EventQueued, ExternalID: "x", CreatedAt: baton.Now()}
			if err := tx.AddEvent(&ev); err != nil {
				return err
			}
			if err := tx.PutJob(baton.EventJob(ev, "cv-1")); err != nil {
				return err
			}
			return tx.PutJob(baton.EventJob(baton.Event{ID: "evt-gone", WorkspaceID: s.ws, BotID: s.bot, CreatedAt: baton.Now()}, "cv-2"))
		})
		if err != nil {
			t.Fatal(err)
		}
		if n, err := s.eng.RunDue(context.Background()); err != nil || n != 2 {
			t.Fatalf("ran %d jobs: %v", n, err)
		}
		if n := s.eventJobs(t); n != 0 {
			t.Errorf("%d delivery jobs of a gone bot or event kept to run again", n)
		}
	})
}
