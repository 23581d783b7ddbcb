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
// process or several, may share a store: a job is leased to one of them at a
// time. Each round is one transaction that records the jobs finished since the
// last round and claims as many due jobs as there are free workers.
//
// A job's lease is short (Config.Lease) and renewed while it runs, every
// third of a lease, so the jobs of an instance that dies are taken over
// within a lease rather than held for as long as the slowest call could take.
func (e *Engine) Run(ctx context.Context) error {
	results := make(chan outcome, e.cfg.Workers)
	var done []outcome
	running := 0
	held := &leases{ids: map[int64]bool{}}
	// The heartbeat has its own goroutine so that a slow round cannot hold
	// it up until the leases it should renew have run out.
	beat, stopBeat := context.WithCancel(context.WithoutCancel(ctx))
	beating := make(chan struct{})
	go func() { defer close(beating); e.heartbeat(beat, held) }()
	defer func() { stopBeat(); <-beating }()
	// Rounds run to completion even when ctx ends: a claim whose commit was
	// interrupted would leave its jobs leased until the lease runs out.
	bg := context.WithoutCancel(ctx)
	for {
		free := e.cfg.Workers - running
		if ctx.Err() != nil {
			free = 0
		}
		jobs, next, err := e.round(bg, done, free, held)
		if err != nil {
			if ctx.Err() == nil {
				e.log.Error("claiming jobs failed", "err", err)
			}
			next = time.Now().Add(e.cfg.Poll)
		} else {
			held.drop(done)
			done = done[:0]
		}
		for _, j := range jobs {
			running++
			go func() { results <- e.runJob(bg, j) }()
		}
		if len(jobs) > 0 && running < e.cfg.Workers {
			continue // there may be more due
		}
		wait := min(time.Until(next), e.cfg.Poll)
		t := time.NewTimer(max(wait, 0))
		select {
		case <-ctx.Done():
			t.Stop()
			for ; running > 0; running-- {
				done = append(done, <-results)
			}
			if _, _, err := e.round(bg, done, 0, held); err != nil {
				e.log.Error("recording finished jobs failed; they will run again", "err", err)
			}
			return nil
		case o := <-results:
			running--
			done = append(done, o)
		collect:
			for {
				select {
				case o := <-results:
					running--
					done = append(done, o)
				default:
					break collect
				}
			}
		case <-e.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// leases are the ids of the jobs a Run loop holds: claimed, and not yet
// recorded as done.
type leases struct {
	mu  sync.Mutex
	ids map[int64]bool
}

func (l *leases) add(js []baton.Job) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, j := range js {
		l.ids[j.ID] = true
	}
}

func (l *leases) drop(done []outcome) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, o := range done {
		delete(l.ids, o.job.ID)
	}
}

func (l *leases) list() []int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	ids := make([]int64, 0, len(l.ids))
	for id := range l.ids {
		ids = append(ids, id)
	}
	return ids
}

// heartbeat renews the held jobs' leases every third of a lease until ctx
// ends. A failed renewal is logged: the jobs keep running, and at worst
// another instance runs one again once its lease ends (deliveries carry
// stable ids for that).
func (e *Engine) heartbeat(ctx context.Context, held *leases) {
	tick := time.NewTicker(e.cfg.Lease / 3)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		ids := held.list()
		if len(ids) == 0 {
			continue
		}
		until := now().Add(e.cfg.Lease)
		if err := e.store.Tx(ctx, func(tx baton.Tx) error { return tx.RenewJobs(ids, until) }); err != nil && ctx.Err() == nil {
			e.log.Error("renewing job leases failed", "jobs", len(ids), "err", err)
		}
	}
}

// RunDue claims the jobs due now, runs them, records their outcomes and
// returns how many it ran. Tests use it to step the worker by hand.
func (e *Engine) RunDue(ctx context.Context) (int, error) {
	jobs, _, err := e.round(ctx, nil, e.cfg.Workers, nil)
	if err != nil || len(jobs) == 0 {
		return 0, err
	}
	results := make(chan outcome, len(jobs))
	for _, j := range jobs {
		go func() { results <- e.runJob(ctx, j) }()
	}
	done := make([]outcome, 0, len(jobs))
	for range jobs {
		done = append(done, <-results)
	}
	_, _, err = e.round(ctx, done, 0, nil)
	return len(jobs), err
}

// task is a claimed job with what its run needs, read in the claiming
// transaction: deliveries to desks need their handoff, message and desk.
type task struct {
	baton.Job
	ref     ref
	handoff baton.Handoff
	message baton.Message
	desk    baton.DeskConfig
	err     error // the payload or the records could not be read
}

func (e *Engine) preload(tx baton.Tx, j baton.Job) (task, error) {
	t := task{Job: j}
	if t.err = json.Unmarshal(j.Payload, &t.ref); t.err != nil || (j.Kind != jobSend && j.Kind != jobClose) {
		return t, nil
	}
	var err error
	if t.handoff, err = tx.Handoff(t.ref.WS, t.ref.Handoff); err == nil && t.ref.Message != "" {
		t.message, err = tx.Message(t.ref.Message)
	}
	if err == nil {
		t.desk, err = e.deskConfig(tx, t.ref.WS, t.handoff.DeskID)
	}
	if baton.ErrorCode(err) == baton.ENOTFOUND {
		t.err = err // the job refers to something gone: record it as failed
		return t, nil
	}
	return t, err
}

// deskTTL is how long the engine reuses a desk's or a bot's configuration
// before reading it again: a changed setting takes effect within this time.
const deskTTL = time.Second

// deskConfig reads a desk's configuration for a delivery, from a cache of
// deskTTL: every message would otherwise decrypt the same settings again.
func (e *Engine) deskConfig(tx baton.Tx, ws, id string) (baton.DeskConfig, error) {
	e.mu.Lock()
	c, ok := e.deskCache[id]
	e.mu.Unlock()
	if ok && c.dc.WorkspaceID == ws && time.Now().Before(c.until) {
		return c.dc, nil
	}
	dc, err := tx.Desk(ws, id)
	if err != nil {
		return dc, err
	}
	e.mu.Lock()
	e.deskCache[id] = cachedDesk{dc: dc, until: time.Now().Add(deskTTL)}
	e.mu.Unlock()
	return dc, nil
}

type cachedDesk struct {
	dc    baton.DeskConfig
	until time.Time
}

// botConfig reads a bot, from a cache of deskTTL: every event would
// otherwise read it (and decrypt its secret) again.
func (e *Engine) botConfig(tx baton.Tx, ws, id string) (baton.Bot, error) {
	e.mu.Lock()
	c, ok := e.botCache[id]
	e.mu.Unlock()
	if ok && c.bot.WorkspaceID == ws && time.Now().Before(c.until) {
		return c.bot, nil
	}
	b, err := tx.Bot(ws, id)
	if err != nil {
		return b, err
	}
	e.mu.Lock()
	e.botCache[id] = cachedBot{bot: b, until: time.Now().Add(deskTTL)}
	e.mu.Unlock()
	return b, nil
}

type cachedBot struct {
	bot   baton.Bot
	until time.Time
}

// outcome is how a job went: finished, or to be tried again.
type outcome struct {
	job baton.Job
	err error // nil = finished
}

// round records outcomes and claims up to n due jobs in one transaction, and
// says when the next job not yet claimed falls due. The claimed jobs join
// held, when given, as soon as the claim commits.
func (e *Engine) round(ctx context.Context, done []outcome, n int, held *leases) ([]task, time.Time, error) {
	var claimed []baton.Job
	next := time.Now().Add(e.cfg.Poll)
	err := e.store.Tx(ctx, func(tx baton.Tx) error {
		for _, o := range done {
			if err := e.record(tx, o); err != nil {
				return err
			}
		}
		var err error
		if n > 0 {
			if claimed, err = tx.ClaimJobs(now(), n, e.cfg.Lease); err != nil {
				return err
			}
		}
		at, ok, err := tx.NextJobAt()
		if ok && at.Before(next) {
			next = at
		}
		return err
	})
	if err != nil || len(claimed) == 0 {
		return nil, next, err
	}
	if held != nil {
		held.add(claimed)
	}
	// What the jobs need is read off the writer, from a snapshot that has
	// everything committed before the claim.
	jobs := make([]task, len(claimed))
	err = e.store.View(ctx, func(tx baton.Tx) error {
		for i, j := range claimed {
			var err error
			if jobs[i], err = e.preload(tx, j); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		for i, j := range claimed {
			jobs[i] = task{Job: j, err: err} // recorded as failed: they run again soon
		}
	}
	return jobs, next, nil
}

// retry is what a job asks for when it did not finish.
type retry struct {
	after time.Duration // 0 = use the schedule
	err   error
}

func (r *retry) Error() string { return r.err.Error() }

// runJob runs one claimed job.
func (e *Engine) runJob(ctx context.Context, t task) outcome {
	err := t.err
	if err == nil {
		switch t.Kind {
		case jobOpen:
			err = e.open(ctx, t.Job, t.ref)
		case jobSend:
			err = e.send(ctx, t)
		case jobClose:
			err = e.close(ctx, t)
		case jobBot:
			err = e.deliver(ctx, t.ref)
		case jobTimer:
			err = e.fire(ctx, t.ref)
		case jobReply:
			err = e.reply(ctx, t.ref)
		case jobTransfer:
			err = e.transferNow(ctx, t.Job, t.ref)
		default:
			err = fmt.Errorf("unknown job kind %q", t.Kind)
		}
	}
	return outcome{job: t.Job, err: err}
}

// record finishes a job or schedules its next attempt.
func (e *Engine) record(tx baton.Tx, o outcome) error {
	j := o.job
	if o.err == nil {
		return tx.FinishJob(j.ID)
	}
	var rt *retry
	if baton.ErrorCode(o.err) == baton.EINVALID {
		// What the job would store can never be stored (a desk's answer
		// with a NUL in it): running it again cannot help.
		e.log.Error("job gave up: it cannot succeed", "kind", j.Kind, "handoff", j.HandoffID, "err", o.err)
		return tx.FinishJob(j.ID)
	}
	if !errors.As(o.err, &rt) {
		// A store failure or a bug: try again soon, keep the job, and do
		// not count it against the receiver's schedule.
		return tx.RetryJob(j.ID, now().Add(time.Second), j.Attempts, o.err.Error())
	}
	schedule := e.cfg.DeskSchedule
	if j.Kind == jobBot {
		schedule = e.cfg.BotSchedule
	}
	// The schedule bounds the attempts even when the receiver names its own
	// delay (Retry-After): each attempt counts.
	d, ok := webhook.Backoff(j.Attempts+2, schedule, nil)
	if !ok {
		e.log.Error("job gave up after its last attempt", "kind", j.Kind, "handoff", j.HandoffID, "attempts", j.Attempts+1, "err", rt.err)
		return tx.FinishJob(j.ID)
	}
	if rt.after > 0 {
		d = rt.after
	}
	return tx.RetryJob(j.ID, now().Add(d), j.Attempts+1, rt.err.Error())
}

// deskFor loads a handoff and builds its desk adapter.
func (e *Engine) deskFor(ctx context.Context, r ref) (baton.Handoff, baton.DeskConfig, baton.Desk, error) {
	var h baton.Handoff
	var dc baton.DeskConfig
	err := e.store.View(ctx, func(tx baton.Tx) (err error) {
		if h, err = tx.Handoff(r.WS, r.Handoff); err != nil {
			return err
		}
		dc, err = tx.Desk(r.WS, h.DeskID)
		return err
	})
	if err != nil {
		return h, dc, nil, err
	}
	d, err := e.desks(dc)
	return h, dc, d, err
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
	case ctx.Err() != nil:
		// Baton is shutting down: the desk said nothing about itself.
	case errors.As(err, &de) && (de.Busy || de.Permanent):
		// The desk answered and refused one request: it is up.
	default:
		// Refused credentials, an error status, a 429, a timeout or no
		// answer at all: the desk cannot serve handoffs now.
		status, msg = baton.Unavailable, err.Error()
	}
	if status != dc.Status || msg != dc.LastError {
		if serr := e.store.Tx(ctx, func(tx baton.Tx) error { return tx.SetDeskStatus(dc.ID, status, msg, now()) }); serr != nil {
			e.log.Error("saving desk status failed", "desk", dc.ID, "err", serr)
		}
		e.mu.Lock()
		delete(e.deskCache, dc.ID) // the next delivery reads the new status
		e.mu.Unlock()
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
	h, dc, desk, err := e.deskFor(ctx, r)
	if err != nil {
		return err
	}
	if h.State != baton.Requested || h.DeskRef != "" {
		return nil // ended before it opened, or already open
	}
	var req baton.OpenRequest
	err = e.store.View(ctx, func(tx baton.Tx) error {
		var c baton.Conversation
		var err error
		if h, c, _, err = e.load(tx, r.WS, r.Handoff); err != nil {
			return err
		}
		hist, err := tx.HandoffMessages(h.ID)
		if n := len(hist); n > 0 { // the last is the question itself
			hist = hist[:n-1]
		}
		req = baton.OpenRequest{HandoffID: h.ID, ConversationID: h.ExternalID, Customer: c.Customer, History: hist, Question: h.Question, Routing: h.Routing,
			Progress: h.DeskData, Save: func(p string) error { return e.saveOpening(ctx, r, p) }}
		return err
	})
	if err != nil {
		return err
	}
	var opened baton.Handle
	err = e.call(ctx, dc, "open", func() (err error) {
		opened, err = desk.Open(ctx, req)
		return err
	})
	if err != nil {
		var de *baton.DeskError
		final := errors.As(err, &de) && (de.Busy || de.Auth || de.Permanent)
		if !final && j.Attempts+1 < e.cfg.OpenAttempts {
			return e.deskRetry("open", h, err)
		}
		e.log.Warn("desk could not open the handoff", "handoff", h.ID, "desk", dc.ID, "err", err)
		return e.unopened(ctx, r)
	}
	_, _, err = e.write(ctx, r.WS, func(tx baton.Tx) (string, error) {
		h, _, pol, err := e.load(tx, r.WS, r.Handoff)
		if err != nil {
			return "", err
		}
		switch {
		case !h.Open():
			// Ended while the desk was opening: record the handle and close it there.
			h.DeskRef, h.DeskData = opened.Ref, opened.Data
			if err := tx.PutHandoff(h); err != nil {
				return "", err
			}
			return "", tx.PutJob(baton.Job{Kind: jobClose, Lane: deskLane(h.ID), HandoffID: h.ID, RunAt: now(), Payload: jobRef(r.WS, h.ID)})
		case h.State != baton.Requested:
			// A desk event already showed it open; keep the desk's state.
			h.DeskData = opened.Data
			return "", tx.PutHandoff(h)
		}
		h.DeskData = opened.Data
		return "", e.queue(tx, &h, pol, opened.Ref)
	})
	if baton.ErrorCode(err) == baton.EINVALID {
		// The desk answered with a reference that cannot be stored.
		e.log.Warn("desk opened the handoff with an unusable reference", "handoff", h.ID, "desk", dc.ID, "err", err)
		return e.unopened(ctx, r)
	}
	return err
}

// saveOpening keeps a desk's progress in opening a handoff in its desk data
// (until the open's handle replaces it), so that an attempt after a crash
// continues where this one stopped.
func (e *Engine) saveOpening(ctx context.Context, r ref, progress string) error {
	_, _, err := e.write(ctx, r.WS, func(tx baton.Tx) (string, error) {
		h, err := tx.Handoff(r.WS, r.Handoff)
		if err != nil || h.State != baton.Requested || h.DeskRef != "" {
			return "", err
		}
		h.DeskData = progress
		return "", tx.PutHandoff(h)
	})
	return err
}

// unopened ends a handoff the desk could not open: desk_unavailable.
func (e *Engine) unopened(ctx context.Context, r ref) error {
	_, _, err := e.write(ctx, r.WS, func(tx baton.Tx) (string, error) {
		h, c, _, err := e.load(tx, r.WS, r.Handoff)
		if err != nil || !h.Open() {
			return "", err
		}
		return "", e.end(tx, &h, &c, baton.DeskUnavailable, false)
	})
	return err
}

// send relays one customer message into the desk.
func (e *Engine) send(ctx context.Context, t task) error {
	h, m, dc := t.handoff, t.message, t.desk
	if h.DeskRef == "" {
		return nil // the handoff never opened in the desk (it ended first)
	}
	desk, err := e.desks(dc)
	if err != nil {
		return err
	}
	if !desk.Capabilities().Attachments && len(m.Attachments) > 0 {
		m.Text, m.Attachments = linkify(m), nil
	}
	if err := e.call(ctx, dc, "send", func() error { return desk.Send(ctx, baton.Handle{Ref: h.DeskRef, Data: h.DeskData}, m) }); err != nil {
		return e.deskRetry("send", h, err)
	}
	return nil
}

// close ends the handoff in the desk.
func (e *Engine) close(ctx context.Context, t task) error {
	h, dc := t.handoff, t.desk
	if h.DeskRef == "" {
		return nil
	}
	desk, err := e.desks(dc)
	if err != nil {
		return err
	}
	if err := e.call(ctx, dc, "close", func() error { return desk.Close(ctx, baton.Handle{Ref: h.DeskRef, Data: h.DeskData}, h.EndReason) }); err != nil {
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
	err := e.store.View(ctx, func(tx baton.Tx) (err error) {
		if ev, err = tx.Event(r.Event); err != nil {
			return err
		}
		bot, err = e.botConfig(tx, ev.WorkspaceID, ev.BotID)
		return err
	})
	if err != nil {
		return err
	}
	if err := e.post(ctx, bot, ev); err != nil {
		return err
	}
	if ev.Type == baton.EventWaitTimeout {
		return e.told(ctx, ev)
	}
	return nil
}

// post signs one event and posts it to the bot's webhook. It answers nil
// when the bot has the event or will never take it (no webhook, an unusable
// secret, 410 or abort-message: the event stays on the stream), and a retry
// otherwise.
func (e *Engine) post(ctx context.Context, bot baton.Bot, ev baton.Event) error {
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
