package outbox

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/engine"
	"github.com/batonhq/baton/router"
	"github.com/batonhq/baton/stdwebhook"
)

// Config tunes a Worker. Zero values take the defaults.
type Config struct {
	// BotSchedule is the retry schedule for bot webhooks (default stdwebhook.Schedule).
	BotSchedule []time.Duration
	// DeskSchedule is the retry schedule for desk calls (default 1s, 2s, 5s, 10s, 30s, 1m, then every 5m for a day).
	DeskSchedule []time.Duration
	// OpenAttempts is how many times opening a handoff in a desk is tried before it ends desk_unavailable (default 6).
	OpenAttempts int
	// Lease is how long a claimed job is held before another worker may take
	// it, unless the worker running it renews it, which it does every third
	// of a lease (default 5s). A dead instance's jobs resume within a lease.
	Lease time.Duration
	// Poll is the longest the worker sleeps before looking for due jobs again, so
	// that jobs written by other instances are seen (default 500ms).
	Poll time.Duration
	// Workers is how many lanes run at once (default 16).
	Workers int
	// Follow is how many of a lane's queued deliveries (desk sends, bot
	// events) a worker takes behind the one heading it, to run one after
	// another in the same round trip of claims and records (default 32;
	// negative: none). It multiplies what one busy conversation can move.
	Follow int
	// Client makes bot webhook calls (default stdwebhook.NewClient(15s)).
	Client *http.Client
	// Router chooses the group of a seat transfer (default router.Words);
	// a desk whose settings name an LLM endpoint asks it first, this
	// router deciding when it cannot (router.ForDesk).
	Router baton.Router
	// RetryScale multiplies every retry delay (default 1); tests and local
	// development shorten the schedules with it.
	RetryScale float64
	// Behind is the lag past which the worker says it is falling behind:
	// a warning in the log when the lag first passes it (default 30s).
	// The lag itself is Worker.Lag, on /metrics as baton_outbox_lag_seconds.
	Behind time.Duration
}

// DefaultLease is how long a job is held by the worker that claimed it
// between two renewals.
const DefaultLease = 5 * time.Second

// DefaultBehind is the lag past which a worker says it is falling behind.
const DefaultBehind = 30 * time.Second

// Params build a Worker.
type Params struct {
	Store  baton.Store
	Engine *engine.Engine // records what the jobs find
	Desks  baton.Desks
	Log    *slog.Logger
	Obs    baton.Observer // nil means nobody measures
	Config Config
	// Recorded, when not nil, is called with every job whose outcome has
	// been committed (err nil: finished): tests wait on it instead of polling.
	Recorded func(j baton.Job, err error)
}

// Worker runs the outbox. Create one with New; run it with Run.
type Worker struct {
	store    baton.Store
	engine   *engine.Engine
	desks    baton.Desks
	log      *slog.Logger
	obs      baton.Observer
	cfg      Config
	recorded func(baton.Job, error)
	handlers map[baton.JobKind]handler
	wake     chan struct{}
	llm      *http.Client // calls LLM endpoints, each call within its desk's budget
	signers  signers      // by the secrets they sign with
	lag      atomic.Int64 // Lag, in nanoseconds
	behind   atomic.Bool  // the lag is past Config.Behind
}

// Lag is how long the oldest job that is due and that nobody holds has
// waited past its time, as of this worker's last round (at least the time
// since a round last committed, while rounds fail): zero while the worker
// keeps pace with what is written, growing while it falls behind. It
// measures the workers, not the receivers: the deliveries queued behind
// a lane's head that a slow receiver holds wait for their lane, and show
// in baton_jobs_pending.
func (w *Worker) Lag() time.Duration { return time.Duration(w.lag.Load()) }

// measure records the lag a round found: when it claimed fewer heads than
// it could take, none due was left; otherwise the next free job's due
// time, when past, is how far behind the worker is.
func (w *Worker) measure(at time.Time, claimed, could int, next time.Time) {
	lag := time.Duration(0)
	if claimed >= could && next.Before(at) {
		lag = at.Sub(next)
	}
	w.lag.Store(int64(lag))
	if was := w.behind.Swap(lag > w.cfg.Behind); !was && lag > w.cfg.Behind {
		w.log.Warn("the outbox is falling behind: due jobs wait for a worker", "lag", lag.Round(time.Millisecond), "bound", w.cfg.Behind)
	}
}

// New returns a Worker.
func New(p Params) *Worker {
	cfg := p.Config
	if cfg.BotSchedule == nil {
		cfg.BotSchedule = stdwebhook.Schedule
	}
	if cfg.DeskSchedule == nil {
		cfg.DeskSchedule = []time.Duration{time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 30 * time.Second, time.Minute}
		for range 288 {
			cfg.DeskSchedule = append(cfg.DeskSchedule, 5*time.Minute)
		}
	}
	if cfg.RetryScale > 0 && cfg.RetryScale != 1 {
		cfg.BotSchedule, cfg.DeskSchedule = scale(cfg.BotSchedule, cfg.RetryScale), scale(cfg.DeskSchedule, cfg.RetryScale)
	}
	if cfg.Router == nil {
		cfg.Router = router.Words{}
	}
	if cfg.OpenAttempts <= 0 {
		cfg.OpenAttempts = 6
	}
	if cfg.Lease <= 0 {
		cfg.Lease = DefaultLease
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 500 * time.Millisecond
	}
	if cfg.Behind <= 0 {
		cfg.Behind = DefaultBehind
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 16
	}
	if cfg.Follow == 0 {
		cfg.Follow = 32
	}
	if cfg.Client == nil {
		cfg.Client = stdwebhook.NewClient(15 * time.Second)
	}
	if p.Log == nil {
		p.Log = slog.New(slog.DiscardHandler)
	}
	if p.Obs == nil {
		p.Obs = nopObserver{}
	}
	w := &Worker{store: p.Store, engine: p.Engine, desks: p.Desks, log: p.Log, obs: p.Obs, cfg: cfg, recorded: p.Recorded, wake: make(chan struct{}, 1), llm: &http.Client{}}
	w.handlers = map[baton.JobKind]handler{
		baton.JobOpen:     plain(w.open),
		baton.JobSend:     plain(w.send),
		baton.JobClose:    plain(w.close),
		baton.JobEvent:    w.deliver,
		baton.JobTimer:    plain(func(ctx context.Context, t task) error { return w.engine.Fire(ctx, t.target) }),
		baton.JobReply:    plain(w.reply),
		baton.JobTransfer: plain(w.transfer),
	}
	return w
}

// handler runs one kind of job. A bot delivery returns the attempt it made
// (nil when it posted nothing), which is recorded in the delivery log with
// the job's outcome.
type handler func(context.Context, task) (*baton.DeliveryAttempt, error)

// plain is the handler of a kind that posts nothing to a bot.
func plain(run func(context.Context, task) error) handler {
	return func(ctx context.Context, t task) (*baton.DeliveryAttempt, error) { return nil, run(ctx, t) }
}

func scale(s []time.Duration, f float64) []time.Duration {
	out := make([]time.Duration, len(s))
	for i, d := range s {
		out[i] = time.Duration(float64(d) * f)
	}
	return out
}

type nopObserver struct{}

func (nopObserver) Delivery(string, bool)                                {}
func (nopObserver) DeskCall(baton.DeskKind, string, time.Duration, bool) {}
func (nopObserver) Waited(time.Duration)                                 {}
func (nopObserver) Ended(baton.EndReason)                                {}

// now is the worker's clock.
func now() time.Time { return baton.Now() }

// Wake makes the worker look for due jobs now: a write has added some.
func (w *Worker) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// task is a claimed job with what its run needs, read in the claiming
// round: deliveries to desks need their handoff, message and desk.
type task struct {
	baton.Job
	target  baton.Target
	handoff baton.Handoff
	message baton.Message
	desk    baton.DeskConfig
	event   baton.Event          // a bot delivery's event
	bot     baton.Bot            // and its bot
	err     error                // the payload or the records could not be read
	fails   *[]baton.DeskFailure // the desk calls of this run that failed
}

func (w *Worker) preload(tx baton.Tx, j baton.Job) (task, error) {
	t := task{Job: j}
	if t.target, t.err = j.Target(); t.err != nil {
		return t, nil
	}
	var err error
	switch j.Kind {
	case baton.JobEvent:
		if t.event, err = tx.Event(t.target.Event); err == nil {
			t.bot, err = w.engine.BotConfig(tx, t.event.WorkspaceID, t.event.BotID)
		}
		return t, gone(j, err, &t)
	case baton.JobSend, baton.JobClose:
	default:
		return t, nil
	}
	if t.handoff, err = tx.Handoff(t.target.Workspace, t.target.Handoff); err == nil && t.target.Message != "" {
		t.message, err = tx.Message(t.target.Message)
	}
	if err == nil {
		t.desk, err = w.engine.DeskConfig(tx, t.target.Workspace, t.handoff.DeskID)
	}
	return t, gone(j, err, &t)
}

// gone turns a read of what job j refers to that found nothing into the
// task's own error (the job can never run) and passes other errors on.
func gone(j baton.Job, err error, t *task) error {
	if baton.ErrorCode(err) == baton.ENOTFOUND {
		t.err = baton.Errorf(baton.EINVALID, "job %d refers to something gone: %w", j.ID, err)
		return nil
	}
	return err
}

// Run claims and runs due jobs until ctx is done. Several Run loops, in one
// process or several, may share a store: a job is leased to one of them at a
// time. Each round is one transaction that records the jobs finished since the
// last round and claims as many due jobs as there are free workers.
//
// A job's lease is short (Config.Lease) and renewed while it runs, every
// third of a lease, so the jobs of an instance that dies are taken over
// within a lease rather than held for as long as the slowest call could take.
func (w *Worker) Run(ctx context.Context) error {
	results := make(chan []outcome, w.cfg.Workers)
	var done []outcome
	running := 0
	held := &leases{ids: map[int64]bool{}}
	// The heartbeat has its own goroutine so that a slow round cannot hold
	// it up until the leases it should renew have run out.
	beat, stopBeat := context.WithCancel(context.WithoutCancel(ctx))
	beating := make(chan struct{})
	go func() { defer close(beating); w.heartbeat(beat, held) }()
	defer func() { stopBeat(); <-beating }()
	// Rounds run to completion even when ctx ends: a claim whose commit was
	// interrupted would leave its jobs leased until the lease runs out.
	bg := context.WithoutCancel(ctx)
	recorded := now() // when the last round committed
	for {
		free := w.cfg.Workers - running
		if ctx.Err() != nil {
			free = 0
		}
		runs, next, err := w.round(bg, done, free, held)
		if err != nil {
			if ctx.Err() == nil {
				w.log.Error("claiming jobs failed", "err", err)
			}
			next = time.Now().Add(w.cfg.Poll)
			// Nothing is claimed while rounds fail: the lag is at least
			// the time since one last committed.
			w.lag.Store(max(w.lag.Load(), int64(now().Sub(recorded))))
		} else {
			recorded = now()
			held.drop(done)
			done = done[:0]
		}
		for _, r := range runs {
			running++
			go func() { results <- w.runLane(bg, r) }()
		}
		if len(runs) > 0 && running < w.cfg.Workers {
			continue // there may be more due
		}
		wait, wake := min(time.Until(next), w.cfg.Poll), w.wake
		if running == w.cfg.Workers {
			// Nothing can be claimed until a worker is free, and a result
			// says when one is: due jobs and new writes wait for it (the
			// poll still measures the lag meanwhile).
			wait, wake = w.cfg.Poll, nil
		}
		t := time.NewTimer(max(wait, 0))
		select {
		case <-ctx.Done():
			t.Stop()
			for ; running > 0; running-- {
				done = append(done, <-results...)
			}
			if _, _, err := w.round(bg, done, 0, held); err != nil {
				w.log.Error("recording finished jobs failed; they will run again", "err", err)
			}
			return nil
		case os := <-results:
			running--
			done = append(done, os...)
		collect:
			for {
				select {
				case os := <-results:
					running--
					done = append(done, os...)
				default:
					break collect
				}
			}
		case <-wake:
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

func (l *leases) add(runs [][]task) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range runs {
		for _, t := range r {
			l.ids[t.ID] = true
		}
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
func (w *Worker) heartbeat(ctx context.Context, held *leases) {
	tick := time.NewTicker(w.cfg.Lease / 3)
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
		until := now().Add(w.cfg.Lease)
		if err := w.store.Tx(ctx, func(tx baton.Tx) error { return tx.RenewJobs(ids, until) }); err != nil && ctx.Err() == nil {
			w.log.Error("renewing job leases failed", "jobs", len(ids), "err", err)
		}
	}
}

// RunDue claims the jobs due now, runs them, records their outcomes and
// returns how many it ran. Tests use it to step the worker by hand.
func (w *Worker) RunDue(ctx context.Context) (int, error) {
	runs, _, err := w.round(ctx, nil, w.cfg.Workers, nil)
	if err != nil || len(runs) == 0 {
		return 0, err
	}
	results := make(chan []outcome, len(runs))
	for _, r := range runs {
		go func() { results <- w.runLane(ctx, r) }()
	}
	var done []outcome
	for range runs {
		done = append(done, <-results...)
	}
	_, _, err = w.round(ctx, done, 0, nil)
	ran := 0
	for _, o := range done {
		if !o.skipped {
			ran++
		}
	}
	return ran, err
}

// outcome is how a job went: finished, or to be tried again.
type outcome struct {
	job     baton.Job
	err     error                  // nil = finished
	attempt *baton.DeliveryAttempt // the bot delivery it made, if any
	fails   []baton.DeskFailure    // the desk calls it made that failed
	skipped bool                   // not run: a job before it in its lane did not finish
}

// round records outcomes and claims up to n due lane heads in one
// transaction, with the deliveries queued behind each (Config.Follow), and
// says when the next job not yet claimed falls due. It returns the claimed
// jobs as runs: a head and its followers, in lane order. The claimed jobs
// join held, when given, as soon as the claim commits.
func (w *Worker) round(ctx context.Context, done []outcome, n int, held *leases) ([][]task, time.Time, error) {
	var claimed []baton.Job
	nHeads := 0
	next := time.Now().Add(w.cfg.Poll)
	// Outcomes are recorded in lane order: finishing a job locks its lane
	// until the round commits (on PostgreSQL), and an engine write that puts
	// jobs in several lanes locks them in the same order, so neither waits
	// for the other in a circle.
	byLane := slices.Clone(done)
	slices.SortStableFunc(byLane, func(a, b outcome) int { return strings.Compare(a.job.Lane, b.job.Lane) })
	err := w.store.Tx(ctx, func(tx baton.Tx) error {
		claimed, nHeads = nil, 0 // a retried transaction claims anew
		var finished []int64
		for _, o := range byLane {
			if err := w.record(tx, o, &finished); err != nil {
				return err
			}
		}
		if err := tx.FinishJob(finished...); err != nil {
			return err
		}
		if n > 0 {
			at := now()
			heads, err := tx.ClaimJobs(at, n, w.cfg.Lease)
			if err != nil {
				return err
			}
			claimed, nHeads = heads, len(heads)
			if w.cfg.Follow > 0 {
				var lead []baton.Job
				for _, h := range heads {
					if h.Kind == baton.JobSend || h.Kind == baton.JobEvent {
						lead = append(lead, h)
					}
				}
				more, err := tx.FollowJobs(lead, at, w.cfg.Follow, w.cfg.Lease)
				if err != nil {
					return err
				}
				claimed = append(claimed, more...)
			}
		}
		at, ok, err := tx.NextJobAt()
		if ok && at.Before(next) {
			next = at
		}
		return err
	})
	if err == nil && held != nil {
		w.measure(now(), nHeads, n, next)
	}
	if err == nil && w.recorded != nil {
		for _, o := range done {
			if !o.skipped {
				w.recorded(o.job, o.err)
			}
		}
	}
	if err != nil || len(claimed) == 0 {
		return nil, next, err
	}
	// What the jobs need is read off the writer, from a snapshot that has
	// everything committed before the claim.
	tasks := make([]task, len(claimed))
	err = w.store.View(ctx, func(tx baton.Tx) error {
		for i, j := range claimed {
			var err error
			if tasks[i], err = w.preload(tx, j); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		for i, j := range claimed {
			tasks[i] = task{Job: j, err: err} // recorded as failed: they run again soon
		}
	}
	runs := lanes(tasks)
	if held != nil {
		held.add(runs)
	}
	return runs, next, nil
}

// lanes groups claimed tasks into runs: each lane's head (they come first,
// in claim order) with the lane's followers after it, in lane order.
func lanes(tasks []task) [][]task {
	var runs [][]task
	at := map[string]int{}
	for _, t := range tasks {
		if i, ok := at[t.Lane]; ok && t.Lane != "" {
			runs[i] = append(runs[i], t)
			continue
		}
		at[t.Lane] = len(runs)
		runs = append(runs, []task{t})
	}
	return runs
}

// runLane runs a lane's claimed jobs one after another and stops at the
// first that does not finish: the rest are skipped, to be released in
// their order.
func (w *Worker) runLane(ctx context.Context, run []task) []outcome {
	out := make([]outcome, len(run))
	stopped := false
	for i, t := range run {
		if stopped {
			out[i] = outcome{job: t.Job, skipped: true}
			continue
		}
		out[i] = w.runJob(ctx, t)
		stopped = out[i].err != nil
	}
	return out
}

// retry is what a job asks for when it did not finish.
type retry struct {
	after time.Duration // 0 = use the schedule
	err   error
}

func (r *retry) Error() string { return r.err.Error() }

func (r *retry) Unwrap() error { return r.err }

// runJob runs one claimed job with the handler of its kind.
func (w *Worker) runJob(ctx context.Context, t task) outcome {
	o := outcome{job: t.Job, err: t.err}
	if o.err == nil {
		if run, ok := w.handlers[t.Kind]; ok {
			t.fails = &o.fails
			o.attempt, o.err = run(ctx, t)
		} else {
			o.err = baton.Errorf(baton.EINVALID, "unknown job kind %q", t.Kind)
		}
	}
	return o
}

// record finishes a job (adding it to finished, which the round deletes
// at once) or schedules its next attempt, and logs the
// delivery attempt it made, in the same transaction: an attempt is in the
// delivery log once its outcome is recorded, and not before (an instance
// that dies first loses both, and the job runs again).
func (w *Worker) record(tx baton.Tx, o outcome, finished *[]int64) error {
	j := o.job
	if o.skipped {
		return tx.RetryJob(baton.JobRetry{ID: j.ID, RunAt: j.RunAt, Attempts: j.Attempts, LastError: j.LastError})
	}
	if o.attempt != nil {
		switch err := tx.AddAttempt(*o.attempt); {
		case baton.ErrorCode(err) == baton.EINVALID:
			// It can never be stored (the store checks before it writes, so
			// the transaction goes on): the job's outcome still counts.
			w.log.Error("delivery attempt not logged: it cannot be stored", "event", o.attempt.EventID, "err", err)
		case err != nil:
			return err
		}
	}
	for _, f := range o.fails {
		// The desk's history is the dashboard's: a failure that cannot be
		// stored there must not keep the job's outcome from being recorded.
		if err := tx.AddDeskFailure(f); baton.ErrorCode(err) == baton.EINVALID {
			w.log.Error("desk failure not recorded: it cannot be stored", "desk", f.DeskID, "err", err)
		} else if err != nil {
			return err
		}
	}
	if o.err == nil {
		*finished = append(*finished, j.ID)
		return nil
	}
	var rt *retry
	switch {
	case errors.As(o.err, &rt):
		// The receiver failed: try again on its schedule, below.
	case baton.ErrorCode(o.err) == baton.EINVALID:
		// What the job would store can never be stored (a desk's answer
		// with a NUL in it), or what it points at is gone: running it
		// again cannot help.
		w.log.Error("job gave up: it cannot succeed", "kind", j.Kind, "handoff", j.HandoffID, "err", o.err)
		*finished = append(*finished, j.ID)
		return nil
	default:
		// A store failure or a bug: try again soon, keep the job, and do
		// not count it against the receiver's schedule.
		return tx.RetryJob(baton.JobRetry{ID: j.ID, RunAt: now().Add(time.Second), Attempts: j.Attempts, LastError: o.err.Error()})
	}
	schedule := w.cfg.DeskSchedule
	if j.Kind == baton.JobEvent {
		schedule = w.cfg.BotSchedule
	}
	// The schedule bounds the attempts even when the receiver names its own
	// delay (Retry-After): each attempt counts.
	d, ok := stdwebhook.Backoff(j.Attempts+2, schedule, nil)
	if !ok {
		w.log.Error("job gave up after its last attempt", "kind", j.Kind, "handoff", j.HandoffID, "attempts", j.Attempts+1, "err", rt.err)
		*finished = append(*finished, j.ID)
		return nil
	}
	if rt.after > 0 {
		d = rt.after
	}
	return tx.RetryJob(baton.JobRetry{ID: j.ID, RunAt: now().Add(d), Attempts: j.Attempts + 1, LastError: rt.err.Error()})
}
