// Package intercomsim is an Intercom workspace simulator for tests and
// local development (`baton sim intercom`), over real HTTP with the REST
// API's documented shapes: Bearer access tokens (401 error.list
// otherwise), the Intercom-Version header, admins, contacts (a 409
// conflict naming the existing id on a duplicate external_id or email,
// and a search index that lags behind creation by a configurable delay),
// conversations and their parts with the open ⇄ snoozed, open → closed →
// open state machine, office-hours schedules, and the rate limit with its
// X-RateLimit-* headers and 429. Webhooks go out as notification_event
// envelopes holding the conversation with the part that caused them,
// signed with X-Hub-Signature (HMAC-SHA1 keyed with the client secret),
// after a HEAD probe and a ping when the URL is saved; failed deliveries
// are retried, and duplicates, reordering, 429 and 5xx bursts and slow
// answers are injected on demand. Driver methods (Go, and HTTP under
// /_sim/) act as an admin: reply (with files), note, close, snooze,
// unsnooze, assign, read.
package intercomsim

import (
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"sync"
	"time"
)

// Config configures a Sim.
type Config struct {
	AppID        string // default "sim0app1"
	ClientSecret string // signs the webhooks; default a random one
	// Version is the API version the app's webhooks are rendered in
	// (default "2.16"): part bodies are plain text from 2.15 on, HTML before.
	Version string
	// IndexDelay is how long a new contact or conversation stays out of
	// search results.
	IndexDelay time.Duration
	// Limit calls per Window (default 1666 per 10 s: 10,000 a minute in
	// 10-second slices).
	Limit  int
	Window time.Duration
	// Retry is the delay before each redelivery of a failed notification
	// (default 10 ms, 100 ms, 1 s); an empty non-nil slice never retries. A
	// 429 from the receiver doubles the delay.
	Retry []time.Duration
	// Timeout bounds one delivery (default 10 s).
	Timeout time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Admin is a teammate.
type Admin struct {
	Type  string `json:"type"`
	ID    string `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
}

// Sim is a simulated Intercom workspace. It is safe for concurrent use.
type Sim struct {
	cfg Config

	mu        sync.Mutex
	admins    []Admin
	tokens    map[string]string // access token → admin id
	contacts  []*Contact
	convs     []*Conversation
	hooks     []*Webhook
	schedules []Schedule
	except    map[string][]Exception // by schedule id
	seq       int64
	window    time.Time // the rate-limit window's start
	used      int
	faults    faults
	versions  []string // Intercom-Version of each authenticated call

	out outbox
}

// faults are injected on demand.
type faults struct {
	throttle  int // answer the next n API calls 429
	fail      int // answer the next n API calls failCode
	failCode  int
	slow      time.Duration
	lose      int  // carry out the next n API calls but answer them 503, as if the answer were lost
	duplicate bool // deliver every notification twice
}

// New returns a running simulator; Close stops its deliveries.
func New(cfg Config) *Sim {
	if cfg.AppID == "" {
		cfg.AppID = "sim0app1"
	}
	if cfg.ClientSecret == "" {
		cfg.ClientSecret = randomHex(16)
	}
	if cfg.Version == "" {
		cfg.Version = "2.16"
	}
	if cfg.Limit <= 0 {
		cfg.Limit = 1666
	}
	if cfg.Window <= 0 {
		cfg.Window = 10 * time.Second
	}
	if cfg.Retry == nil {
		cfg.Retry = []time.Duration{10 * time.Millisecond, 100 * time.Millisecond, time.Second}
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Sim{cfg: cfg, tokens: map[string]string{}, except: map[string][]Exception{}, seq: 990000}
	s.out.start(s)
	return s
}

// Close stops the deliveries.
func (s *Sim) Close() { s.out.stop() }

// ClientSecret is the secret the webhooks are signed with.
func (s *Sim) ClientSecret() string { return s.cfg.ClientSecret }

// AddAdmin adds a teammate and returns it with an access token of its own.
func (s *Sim) AddAdmin(name, email string) (Admin, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := Admin{Type: "admin", ID: s.next(), Name: name, Email: email}
	s.admins = append(s.admins, a)
	tok := "dG9r:" + randomHex(20)
	s.tokens[tok] = a.ID
	return a, tok
}

// next returns a new numeric id; s.mu is held.
func (s *Sim) next() string { s.seq++; return strconv.FormatInt(s.seq, 10) }

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Throttle answers the next n API calls 429, as a burst would.
func (s *Sim) Throttle(n int) { s.mu.Lock(); s.faults.throttle = n; s.mu.Unlock() }

// Fail answers the next n API calls with status (503 if 0).
func (s *Sim) Fail(n, status int) {
	s.mu.Lock()
	if status == 0 {
		status = 503
	}
	s.faults.fail, s.faults.failCode = n, status
	s.mu.Unlock()
}

// Lose carries out the next n API calls but answers them 503, as a
// timeout after the work was done would look to the caller.
func (s *Sim) Lose(n int) { s.mu.Lock(); s.faults.lose = n; s.mu.Unlock() }

// Slow delays every API answer by d.
func (s *Sim) Slow(d time.Duration) { s.mu.Lock(); s.faults.slow = d; s.mu.Unlock() }

// Duplicate makes every notification go out twice (on) or once.
func (s *Sim) Duplicate(on bool) { s.mu.Lock(); s.faults.duplicate = on; s.mu.Unlock() }

// Versions lists the Intercom-Version of each authenticated call, in order.
func (s *Sim) Versions() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.versions...)
}

// admin returns the admin with id; s.mu is held.
func (s *Sim) admin(id string) (Admin, bool) {
	for _, a := range s.admins {
		if a.ID == id {
			return a, true
		}
	}
	return Admin{}, false
}
