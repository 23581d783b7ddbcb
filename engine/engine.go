package engine

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/router"
	"github.com/batonhq/baton/webhook"
)

// DeskFactory builds the adapter for a configured desk.
type DeskFactory func(baton.DeskConfig) (baton.Desk, error)

// Observer receives measurements; the metrics package implements it.
// Every method may be called from several goroutines.
type Observer interface {
	Delivery(target string, ok bool)                                   // one delivery attempt to "desk" or "bot"
	DeskCall(kind baton.DeskKind, op string, d time.Duration, ok bool) // one call into a desk
	Waited(d time.Duration)                                            // a handoff went from queued to active after d
	Ended(reason baton.EndReason)                                      // a handoff ended
}

// Config tunes an Engine. Zero values take the defaults.
type Config struct {
	// BotSchedule is the retry schedule for bot webhooks (default webhook.Schedule).
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
	// Workers is how many jobs run at once (default 16).
	Workers int
	// Client makes bot webhook calls (default webhook.NewClient(15s)).
	Client *http.Client
	// Router chooses the group of a seat transfer (default router.Words).
	Router baton.Router
	// RetryScale multiplies every retry delay (default 1); tests and local
	// development shorten the schedules with it.
	RetryScale float64
}

// DefaultLease is how long a job is held by the worker that claimed it
// between two renewals.
const DefaultLease = 5 * time.Second

// Engine is the handoff engine. Create one with New; run its worker with Run.
type Engine struct {
	store baton.Store
	desks DeskFactory
	log   *slog.Logger
	obs   Observer
	cfg   Config

	wake chan struct{}

	mu   sync.Mutex
	subs map[string]map[chan struct{}]struct{} // workspace → event subscribers
	keys map[string]cachedKey                  // API key hash → workspace, recently verified

	deskCache map[string]cachedDesk // desk id → configuration
	botCache  map[string]cachedBot  // bot id → configuration
}

type cachedKey struct {
	ws    string
	until time.Time
}

// New returns an Engine over store, building desks with desks.
func New(store baton.Store, desks DeskFactory, log *slog.Logger, obs Observer, cfg Config) *Engine {
	if cfg.BotSchedule == nil {
		cfg.BotSchedule = webhook.Schedule
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
	if cfg.Workers <= 0 {
		cfg.Workers = 16
	}
	if cfg.Client == nil {
		cfg.Client = webhook.NewClient(15 * time.Second)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if obs == nil {
		obs = nopObserver{}
	}
	return &Engine{store: store, desks: desks, log: log, obs: obs, cfg: cfg,
		wake: make(chan struct{}, 1), subs: map[string]map[chan struct{}]struct{}{}, keys: map[string]cachedKey{}, deskCache: map[string]cachedDesk{}, botCache: map[string]cachedBot{}}
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

// Store returns the engine's store, for read-only views (metrics).
func (e *Engine) Store() baton.Store { return e.store }

// NewID returns a random id with a prefix, like "ho_5k2...".
func NewID(prefix string) string {
	var b [15]byte
	rand.Read(b[:])
	return prefix + "_" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}

// HashKey returns how API and agent keys are stored: hex SHA-256.
func HashKey(key string) string {
	s := sha256.Sum256([]byte(key))
	return hex.EncodeToString(s[:])
}

// now is the engine's clock. It is time.Now so that testing/synctest bubbles
// see virtual time; stores keep microseconds, so the engine does too.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// Idempotency key plumbing: the HTTP layer puts the key and a hash of the
// request in the context; write transactions store the outcome with their effect.
type idemCtxKey struct{}

type idem struct{ key, hash string }

// WithIdempotency returns ctx carrying an Idempotency-Key and a hash of the request it came with.
func WithIdempotency(ctx context.Context, key, requestHash string) context.Context {
	return context.WithValue(ctx, idemCtxKey{}, idem{key, requestHash})
}

// write runs fn in a transaction. With an idempotency key in ctx it first
// claims the key: when an earlier request holds it, the same request returns
// its ref and replay=true without running fn, and a different request with
// the same key is refused.
func (e *Engine) write(ctx context.Context, ws string, fn func(tx baton.Tx) (ref string, err error)) (ref string, replay bool, err error) {
	k, hasKey := ctx.Value(idemCtxKey{}).(idem)
	var w written
	err = e.store.Tx(ctx, func(tx baton.Tx) error {
		w = written{}
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
				ref, replay = rec.Ref, true
				return nil
			}
		}
		r, err := fn(&eventTx{Tx: tx, w: &w})
		if err != nil {
			return err
		}
		ref = r
		if hasKey {
			return tx.PutIdempotency(baton.Idempotency{WorkspaceID: ws, Key: k.key, Request: k.hash, Ref: r, Status: 200, CreatedAt: now()})
		}
		return nil
	})
	if err == nil && w.events {
		e.notify(ws)
	}
	if err == nil {
		for _, r := range w.ended {
			e.obs.Ended(r)
		}
	}
	if err == nil {
		e.poke()
	}
	return ref, replay, err
}

// written is what a transaction did that matters once it has committed.
type written struct {
	events bool              // wake the event stream's subscribers
	ended  []baton.EndReason // count in the metrics
}

// eventTx notes what a transaction wrote, for after its commit.
type eventTx struct {
	baton.Tx
	w *written
}

func (t *eventTx) AddEvent(ev *baton.Event) error {
	t.w.events = true
	return t.Tx.AddEvent(ev)
}

// ended notes that tx ended a handoff, for the metrics.
func ended(tx baton.Tx, r baton.EndReason) {
	if t, ok := tx.(*eventTx); ok {
		t.w.ended = append(t.w.ended, r)
	}
}

// poke wakes the worker.
func (e *Engine) poke() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// Subscribe returns a channel that receives a signal whenever events are
// written for workspace ws, and a function to stop.
func (e *Engine) Subscribe(ws string) (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	e.mu.Lock()
	if e.subs[ws] == nil {
		e.subs[ws] = map[chan struct{}]struct{}{}
	}
	e.subs[ws][ch] = struct{}{}
	e.mu.Unlock()
	return ch, func() {
		e.mu.Lock()
		delete(e.subs[ws], ch)
		e.mu.Unlock()
	}
}

func (e *Engine) notify(ws string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for ch := range e.subs[ws] {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}
