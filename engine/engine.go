package engine

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/batonhq/baton"
)

// Params build an Engine.
type Params struct {
	Store baton.Store
	Desks baton.Desks // the desk registry
	Log   *slog.Logger
	// Committed is called after every write transaction that commits, with
	// what it did (the composition root wakes the outbox and the event
	// stream and counts the metrics with it). Nil means nobody listens.
	Committed func(Commit)
	// Ignored is called for every authentic inbound desk request
	// acknowledged and ignored, with the desk's kind and the reason (for
	// the metrics). Nil means nobody counts.
	Ignored func(kind baton.DeskKind, reason string)
	// Secrets names each desk kind's secret settings, which the admin API
	// never shows (settings whose names say secret, token, password or key
	// are masked anyway). Nil means only those.
	Secrets SecretSettings
	// Files say how uploaded files are linked (see KeepFile).
	Files FileParams
}

// Commit is what a committed write did that matters outside the engine.
type Commit struct {
	Workspace string
	Events    bool              // it wrote events for the workspace's bots
	Jobs      bool              // it wrote jobs
	Ended     []baton.EndReason // handoffs it ended
	Waited    []time.Duration   // handoffs it made active, after waiting this long in the queue
}

// Engine decides: each use case is one write transaction that loads what it
// needs, applies an ownership transition (package baton) and saves the
// result with the events and jobs it causes. It runs nothing in the
// background: the outbox runs the jobs. Create one with New.
type Engine struct {
	store     baton.Store
	desks     baton.Desks
	log       *slog.Logger
	committed func(Commit)
	ignored   func(baton.DeskKind, string)
	secrets   SecretSettings
	files     FileParams
	uploads   chan struct{} // a token per upload being read (UploadTurn)

	keys    configs[baton.APIKey]     // by key hash, for keyTTL
	admins  configs[baton.AdminKey]   // by key hash, for keyTTL
	deskCfg configs[baton.DeskConfig] // by desk id
	botCfg  configs[baton.Bot]        // by bot id
}

// New returns an Engine.
func New(p Params) *Engine {
	if p.Log == nil {
		p.Log = slog.New(slog.DiscardHandler)
	}
	if p.Committed == nil {
		p.Committed = func(Commit) {}
	}
	if p.Ignored == nil {
		p.Ignored = func(baton.DeskKind, string) {}
	}
	return &Engine{store: p.Store, desks: p.Desks, log: p.Log, committed: p.Committed, ignored: p.Ignored, secrets: p.Secrets, files: p.Files, uploads: make(chan struct{}, MaxUploads),
		keys: configs[baton.APIKey]{ttl: keyTTL}, admins: configs[baton.AdminKey]{ttl: keyTTL}}
}

// now is the engine's clock.
func now() time.Time { return baton.Now() }

// Idempotency key plumbing: the HTTP layer puts the key and a hash of the
// request in the context; write transactions store the outcome with their effect.
type idemCtxKey struct{}

type idem struct {
	key, hash string
	replayed  *atomic.Bool // set when a write answered from an earlier request's outcome
}

// WithIdempotency returns ctx carrying an Idempotency-Key and a hash of the request it came with.
func WithIdempotency(ctx context.Context, key, requestHash string) context.Context {
	return context.WithValue(ctx, idemCtxKey{}, idem{key, requestHash, new(atomic.Bool)})
}

// Replayed reports whether a write made with ctx (from WithIdempotency)
// answered with an earlier request's outcome instead of running: the answer
// is a replay, even when the two requests came at the same moment.
func Replayed(ctx context.Context) bool {
	k, ok := ctx.Value(idemCtxKey{}).(idem)
	return ok && k.replayed.Load()
}

// write runs fn in a transaction. With an idempotency key in ctx it first
// claims the key: when an earlier request holds it, the same request returns
// its result (the id of what it made) and replay=true without running fn,
// and a different request with the same key is refused.
func (e *Engine) write(ctx context.Context, ws string, fn func(tx *wtx) (result string, err error)) (result string, replay bool, err error) {
	k, hasKey := ctx.Value(idemCtxKey{}).(idem)
	var w *wtx
	err = e.store.Tx(ctx, func(tx baton.Tx) error {
		w = &wtx{Tx: tx, e: e, c: Commit{Workspace: ws}}
		if hasKey {
			// Claim the key before doing anything: a concurrent request with
			// the same key waits here for this one and then replays it.
			rec, mine, err := tx.ClaimIdempotency(baton.Idempotency{WorkspaceID: ws, Key: k.key, Request: k.hash, Status: 200, CreatedAt: now()})
			switch {
			case err != nil:
				return err
			case rec.Request != k.hash:
				return &baton.Error{Code: baton.EIDEMPOTENCY, Field: "Idempotency-Key", Message: "this key was already used with a different request"}
			case !mine:
				result, replay = rec.Result, true
				k.replayed.Store(true)
				return nil
			}
		}
		r, err := fn(w)
		if err == nil {
			err = e.tellQueues(w)
		}
		if err == nil {
			err = w.putLaneJobs()
		}
		if err != nil {
			return err
		}
		result = r
		if hasKey {
			return tx.PutIdempotency(baton.Idempotency{WorkspaceID: ws, Key: k.key, Request: k.hash, Result: r, Status: 200, CreatedAt: now()})
		}
		return nil
	})
	if err == nil {
		e.committed(w.c)
	}
	return result, replay, err
}

// wtx is a write transaction of the engine: the store's, noting what it
// did for after its commit.
type wtx struct {
	baton.Tx
	e *Engine
	c Commit

	queues  map[string]*queueMoves // by desk: the handoffs the write moved into or out of its queue (moveQueue)
	watched []string               // those desks, in the order the write moved them
	lanes   []baton.Job            // jobs of lanes, written at the end (putLaneJobs)
}

func (t *wtx) AddEvent(ev *baton.Event) error {
	t.c.Events = true
	return t.Tx.AddEvent(ev)
}

// PutJob writes a job with no lane at once, and keeps one of a lane for the
// end of the write (putLaneJobs).
func (t *wtx) PutJob(j baton.Job) error {
	t.c.Jobs = true
	if j.Lane != "" {
		t.lanes = append(t.lanes, j)
		return nil
	}
	return t.Tx.PutJob(j)
}

// putLaneJobs writes the write's jobs of lanes, ordered by lane and, within
// a lane, as they were put. Writing a job locks its lane until the
// transaction ends (on PostgreSQL), and so does the outbox finishing one,
// which records its jobs in the same order: a write that tells the bots of
// many conversations at once (a desk's queue moving) and a worker finishing
// some of their deliveries take the lanes they share in one order, and
// never wait for each other in a circle.
func (t *wtx) putLaneJobs() error {
	slices.SortStableFunc(t.lanes, func(a, b baton.Job) int { return strings.Compare(a.Lane, b.Lane) })
	for _, j := range t.lanes {
		if err := t.Tx.PutJob(j); err != nil {
			return err
		}
	}
	t.lanes = nil
	return nil
}

// configTTL is how long the engine reuses a desk's or a bot's configuration
// before reading it again: a changed setting takes effect within this time.
const configTTL = 500 * time.Millisecond

// configs caches one kind of configuration (or verified key) by id, for its
// ttl (configTTL unless set), with the
// workspace it belongs to: a read for another workspace reads the store.
type configs[T any] struct {
	ttl time.Duration // how long a read is reused (0: configTTL)
	mu  sync.Mutex
	m   map[string]cachedConfig[T]
}

// maxCached bounds a cache: past it, the cache starts again empty.
const maxCached = 10000

type cachedConfig[T any] struct {
	v     T
	ws    string
	until time.Time
}

// get returns id's configuration in ws, from the cache or from read.
func (c *configs[T]) get(ws, id string, read func() (T, error)) (T, error) {
	c.mu.Lock()
	hit, ok := c.m[id]
	c.mu.Unlock()
	if ok && hit.ws == ws && time.Now().Before(hit.until) {
		return hit.v, nil
	}
	v, err := read()
	if err != nil {
		return v, err
	}
	ttl := c.ttl
	if ttl == 0 {
		ttl = configTTL
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) > maxCached {
		c.m = map[string]cachedConfig[T]{}
	}
	c.m[id] = cachedConfig[T]{v: v, ws: ws, until: time.Now().Add(ttl)}
	c.mu.Unlock()
	return v, nil
}

// clear forgets everything: the next gets read.
func (c *configs[T]) clear() {
	c.mu.Lock()
	clear(c.m)
	c.mu.Unlock()
}

// drop forgets id's configuration: the next get reads it.
func (c *configs[T]) drop(id string) {
	c.mu.Lock()
	delete(c.m, id)
	c.mu.Unlock()
}

// DeskConfig reads a desk's configuration, from a cache of configTTL: every
// message would otherwise decrypt the same settings again.
func (e *Engine) DeskConfig(tx baton.Tx, ws, id string) (baton.DeskConfig, error) {
	return e.deskCfg.get(ws, id, func() (baton.DeskConfig, error) { return tx.Desk(ws, id) })
}

// BotConfig reads a bot, from a cache of configTTL: every event would
// otherwise read it (and decrypt its secret) again.
func (e *Engine) BotConfig(tx baton.Tx, ws, id string) (baton.Bot, error) {
	return e.botCfg.get(ws, id, func() (baton.Bot, error) { return tx.Bot(ws, id) })
}

// SetDeskStatus records a desk's service status as its last call or
// check found it (CheckedAt, when zero, is now).
func (e *Engine) SetDeskStatus(ctx context.Context, s baton.DeskState) error {
	if s.CheckedAt.IsZero() {
		s.CheckedAt = now()
	}
	err := e.store.Tx(ctx, func(tx baton.Tx) error { return tx.SetDeskStatus(s) })
	e.deskCfg.drop(s.DeskID) // the next read sees the new status
	return err
}
