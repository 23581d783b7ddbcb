package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/webhook"
)

// Run claims and runs due jobs until ctx is done. Several Run loops, in one
// process or several, may share a store: a job is leased to one of them at a time.
func (e *Engine) Run(ctx context.Context) error {
	sem := make(chan struct{}, e.cfg.Workers)
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		n, err := e.RunDue(ctx, sem, &wg)
		if err != nil && ctx.Err() == nil {
			e.log.Error("claiming jobs failed", "err", err)
		}
		if n > 0 {
			continue
		}
		wait := e.cfg.Poll
		if err == nil {
			var next time.Time
			var ok bool
			_ = e.store.Tx(ctx, func(tx baton.Tx) (err error) {
				next, ok, err = tx.NextJobAt()
				return err
			})
			// A due job that was not claimed waits behind its lane's head;
			// finishing the head pokes the loop, so only future jobs set the sleep.
			if d := time.Until(next); ok && d > 0 && d < wait {
				wait = d
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-e.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// RunDue claims the jobs due now and starts them, returning how many it claimed.
// It waits for a free slot in sem before each job.
func (e *Engine) RunDue(ctx context.Context, sem chan struct{}, wg *sync.WaitGroup) (int, error) {
	var jobs []baton.Job
	err := e.store.Tx(ctx, func(tx baton.Tx) (err error) {
		jobs, err = tx.ClaimJobs(now(), cap(sem), e.cfg.Lease)
		return err
	})
	if err != nil {
		return 0, err
	}
	for _, j := range jobs {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return len(jobs), ctx.Err()
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			e.runJob(context.WithoutCancel(ctx), j)
		}()
	}
	return len(jobs), nil
}

// retry is what a job asks for when it did not finish.
type retry struct {
	after time.Duration // 0 = use the schedule
	err   error
}

func (r *retry) Error() string { return r.err.Error() }

// runJob runs one claimed job and finishes or reschedules it.
func (e *Engine) runJob(ctx context.Context, j baton.Job) {
	var r ref
	err := json.Unmarshal(j.Payload, &r)
	if err == nil {
		switch j.Kind {
		case jobOpen:
			err = e.open(ctx, j, r)
		case jobSend:
			err = e.send(ctx, r)
		case jobClose:
			err = e.close(ctx, r)
		case jobBot:
			err = e.deliver(ctx, r)
		case jobTimer:
			err = e.fire(ctx, r)
		default:
			err = fmt.Errorf("unknown job kind %q", j.Kind)
		}
	}
	var rt *retry
	if err != nil && !errors.As(err, &rt) {
		// A store failure or a bug: try again soon, keep the job.
		rt = &retry{after: time.Second, err: err}
	}
	ferr := e.store.Tx(ctx, func(tx baton.Tx) error {
		if rt == nil {
			return tx.FinishJob(j.ID)
		}
		schedule := e.cfg.DeskSchedule
		if j.Kind == jobBot {
			schedule = e.cfg.BotSchedule
		}
		d := rt.after
		if d == 0 {
			next, ok := webhook.Backoff(j.Attempts+2, schedule, nil)
			if !ok {
				e.log.Error("job gave up after its last attempt", "kind", j.Kind, "handoff", j.HandoffID, "attempts", j.Attempts+1, "err", rt.err)
				return tx.FinishJob(j.ID)
			}
			d = next
		}
		return tx.RetryJob(j.ID, now().Add(d), j.Attempts+1, rt.err.Error())
	})
	if ferr != nil {
		e.log.Error("finishing job failed; its lease will expire and it will run again", "kind", j.Kind, "err", ferr)
	}
	e.poke() // the next job of the lane may be due
}

// deskFor loads a handoff and, when messageID is set, one of its messages,
// and builds the handoff's desk adapter.
func (e *Engine) deskFor(ctx context.Context, r ref) (baton.Handoff, baton.Message, baton.DeskConfig, baton.Desk, error) {
	var h baton.Handoff
	var m baton.Message
	var dc baton.DeskConfig
	err := e.store.Tx(ctx, func(tx baton.Tx) (err error) {
		if h, err = tx.Handoff(r.WS, r.Handoff); err != nil {
			return err
		}
		if r.Message != "" {
			if m, err = tx.Message(r.Message); err != nil {
				return err
			}
		}
		dc, err = tx.Desk(r.WS, h.DeskID)
		return err
	})
	if err != nil {
		return h, m, dc, nil, err
	}
	d, err := e.desks(dc)
	return h, m, dc, d, err
}

// call makes one desk call, measures it and keeps the desk's status current.
func (e *Engine) call(ctx context.Context, dc baton.DeskConfig, op string, fn func() error) error {
	start := time.Now()
	err := fn()
	e.obs.DeskCall(dc.Kind, op, time.Since(start), err == nil)
	e.obs.Delivery("desk", err == nil)
	var de *baton.DeskError
	status, msg := dc.Status, dc.LastError
	switch {
	case err == nil:
		status, msg = baton.Available, ""
	case errors.As(err, &de) && de.Auth:
		status, msg = baton.Unavailable, err.Error()
	}
	if status != dc.Status || msg != dc.LastError {
		if serr := e.store.Tx(ctx, func(tx baton.Tx) error { return tx.SetDeskStatus(dc.ID, status, msg, now()) }); serr != nil {
			e.log.Error("saving desk status failed", "desk", dc.ID, "err", serr)
		}
	}
	return err
}

// deskRetry turns a desk error into a retry (honouring Retry-After) or, for
// errors that cannot succeed later, nil after logging.
func (e *Engine) deskRetry(op string, h baton.Handoff, err error) error {
	var de *baton.DeskError
	if errors.As(err, &de) {
		if de.Permanent || de.Busy {
			e.log.Error("desk refused a call for good", "op", op, "handoff", h.ID, "err", err)
			return nil
		}
		return &retry{after: de.RetryAfter, err: err}
	}
	return &retry{err: err}
}

// open opens a requested handoff in its desk.
func (e *Engine) open(ctx context.Context, j baton.Job, r ref) error {
	h, _, dc, desk, err := e.deskFor(ctx, r)
	if err != nil {
		return err
	}
	if h.State != baton.Requested || h.DeskRef != "" {
		return nil // ended before it opened, or already open
	}
	var req baton.OpenRequest
	err = e.store.Tx(ctx, func(tx baton.Tx) error {
		var c baton.Conversation
		var err error
		if h, c, _, err = e.load(tx, r.WS, r.Handoff); err != nil {
			return err
		}
		hist, err := tx.HandoffMessages(h.ID)
		if n := len(hist); n > 0 { // the last is the question itself
			hist = hist[:n-1]
		}
		req = baton.OpenRequest{HandoffID: h.ID, ConversationID: h.ExternalID, Customer: c.Customer, History: hist, Question: h.Question, Routing: h.Routing}
		return err
	})
	if err != nil {
		return err
	}
	var deskRef string
	err = e.call(ctx, dc, "open", func() (err error) {
		deskRef, err = desk.Open(ctx, req)
		return err
	})
	if err != nil {
		var de *baton.DeskError
		final := errors.As(err, &de) && (de.Busy || de.Auth || de.Permanent)
		if !final && j.Attempts+1 < e.cfg.OpenAttempts {
			return e.deskRetry("open", h, err)
		}
		e.log.Warn("desk could not open the handoff", "handoff", h.ID, "desk", dc.ID, "err", err)
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
		if err != nil {
			return "", err
		}
		switch {
		case !h.Open():
			// Ended while the desk was opening: record the ref and close it there.
			h.DeskRef = deskRef
			if err := tx.PutHandoff(h); err != nil {
				return "", err
			}
			return "", tx.PutJob(baton.Job{Kind: jobClose, Lane: deskLane(h.ID), HandoffID: h.ID, RunAt: now(), Payload: jobRef(r.WS, h.ID)})
		case h.State != baton.Requested:
			return "", nil // a desk event already showed it open
		}
		return "", e.queue(tx, &h, pol, deskRef)
	})
	return err
}

// send relays one customer message into the desk.
func (e *Engine) send(ctx context.Context, r ref) error {
	h, m, dc, desk, err := e.deskFor(ctx, r)
	if err != nil {
		return err
	}
	if h.DeskRef == "" {
		return nil // the handoff never opened in the desk (it ended first)
	}
	if !desk.Capabilities().Attachments && len(m.Attachments) > 0 {
		m.Text, m.Attachments = linkify(m), nil
	}
	if err := e.call(ctx, dc, "send", func() error { return desk.Send(ctx, h.DeskRef, m) }); err != nil {
		return e.deskRetry("send", h, err)
	}
	return nil
}

// close ends the handoff in the desk.
func (e *Engine) close(ctx context.Context, r ref) error {
	h, _, dc, desk, err := e.deskFor(ctx, r)
	if err != nil {
		return err
	}
	if h.DeskRef == "" {
		return nil
	}
	if err := e.call(ctx, dc, "close", func() error { return desk.Close(ctx, h.DeskRef, h.EndReason) }); err != nil {
		return e.deskRetry("close", h, err)
	}
	return nil
}

// Envelope is the JSON body of every event delivered to a bot.
type Envelope struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	Seq       int64           `json:"seq"`
	Timestamp time.Time       `json:"timestamp"`
	Data      json.RawMessage `json:"data"`
}

// EnvelopeOf returns the wire form of an event.
func EnvelopeOf(ev baton.Event) Envelope {
	return Envelope{ID: ev.ID, Type: ev.Type, Seq: ev.Seq, Timestamp: ev.CreatedAt, Data: ev.Data}
}

// deliver posts one event to its bot's webhook, signed.
func (e *Engine) deliver(ctx context.Context, r ref) error {
	var ev baton.Event
	var bot baton.Bot
	err := e.store.Tx(ctx, func(tx baton.Tx) (err error) {
		if ev, err = tx.Event(r.Event); err != nil {
			return err
		}
		bot, err = tx.Bot(ev.WorkspaceID, ev.BotID)
		return err
	})
	if err != nil {
		return err
	}
	if bot.WebhookURL == "" {
		return nil
	}
	signer, err := webhook.NewSigner(bot.WebhookSecret)
	if err != nil {
		e.log.Error("bot webhook secret is unusable; event kept on the stream only", "bot", bot.ID, "err", err)
		return nil
	}
	body, _ := json.Marshal(EnvelopeOf(ev))
	res := webhook.Post(ctx, e.cfg.Client, bot.WebhookURL, signer.Headers(ev.ID, time.Now(), body), body)
	e.obs.Delivery("bot", res.OK())
	switch {
	case res.OK():
		return nil
	case res.Gone || res.Abort:
		e.log.Warn("bot webhook refused the event for good", "bot", bot.ID, "event", ev.ID, "status", res.Status)
		return nil
	case res.Err != nil:
		return &retry{after: res.RetryAfter, err: res.Err}
	}
	return &retry{after: res.RetryAfter, err: fmt.Errorf("bot webhook answered %d", res.Status)}
}
