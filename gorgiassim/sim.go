// Package gorgiassim is a Gorgias helpdesk simulator for tests and local
// development (`baton sim gorgias`): one account (domain) over real HTTP
// with the REST API's documented shapes — HTTP Basic email:api_key, the
// leaky bucket (40 calls per 20 s by default) with its
// X-Gorgias-Account-Api-Call-Limit header and 429 Retry-after, customers,
// tickets and messages with cursor pagination — and the HTTP-integration
// engine, which renders {{ticket.*}}, {{message.*}}, {{event.*}} and
// {{context}} into each integration's URL, headers and body and fires for
// every message, the API's own included (the echo loop integrators must
// break). Deliveries are retried on timeouts and 5xx and an integration is
// disabled after 100 consecutive failures; duplicates, reordering, 429 and
// 5xx bursts are injected on demand. Driver methods (Go, and HTTP under
// /_sim/) act as the agent: reply, add an internal note, close.
package gorgiassim

import (
	"crypto/rand"
	"encoding/hex"
	"math"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Config configures a Sim.
type Config struct {
	Domain string // the account ("acme"); default "acme"
	// Limit calls per Window (default 40 per 20 s) fill the leaky bucket.
	Limit  int
	Window time.Duration
	// Retry is the delay before each redelivery of a failed integration
	// call (default 10 ms, 100 ms, 1 s); an empty non-nil slice never retries.
	Retry []time.Duration
	// Timeout bounds one integration call (default 10 s).
	Timeout time.Duration
	// MaxFailures consecutive failures disable an integration (default 100).
	MaxFailures int
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// User is a helpdesk user (an agent) with a REST API key.
type User struct {
	ID     int64  `json:"id"`
	Email  string `json:"email"`
	Name   string `json:"name"`
	APIKey string `json:"-"`
}

// Sim is a simulated Gorgias account. It is safe for concurrent use.
type Sim struct {
	cfg    Config
	client *http.Client

	mu           sync.Mutex
	users        []User
	customers    []*Customer
	tickets      []*Ticket
	integrations []*Integration
	nextID       int64
	level        float64
	leakedAt     time.Time
	faults       faults
	deliveries   []Delivery
	calls        int
	queue        []*delivery
	held         bool
	pending      int
	wake         chan struct{}
	idle         chan struct{}
	closed       chan struct{}
	wg           sync.WaitGroup
}

// faults are injected on demand.
type faults struct {
	throttle  int           // answer the next n API calls 429
	fail      int           // answer the next n API calls failStatus
	failCode  int           // default 503
	duplicate bool          // deliver every integration call twice
	slow      time.Duration // wait before answering API calls
	late      int           // carry out the next n calls of lateTo lateBy late
	lateTo    string        // "METHOD /path"
	lateBy    time.Duration
}

// New returns a running simulator; Close stops it.
func New(cfg Config) *Sim {
	if cfg.Domain == "" {
		cfg.Domain = "acme"
	}
	if cfg.Limit <= 0 {
		cfg.Limit = 40
	}
	if cfg.Window <= 0 {
		cfg.Window = 20 * time.Second
	}
	if cfg.Retry == nil {
		cfg.Retry = []time.Duration{10 * time.Millisecond, 100 * time.Millisecond, time.Second}
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.MaxFailures <= 0 {
		cfg.MaxFailures = 100
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Sim{cfg: cfg, client: &http.Client{Timeout: cfg.Timeout}, nextID: 1000,
		wake: make(chan struct{}, 1), closed: make(chan struct{})}
	s.wg.Add(1)
	go s.deliver()
	return s
}

// Close stops the delivery of integration calls.
func (s *Sim) Close() {
	s.mu.Lock()
	select {
	case <-s.closed:
	default:
		close(s.closed)
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// Domain is the account's domain.
func (s *Sim) Domain() string { return s.cfg.Domain }

// AddUser adds a helpdesk user and returns it with a fresh API key.
func (s *Sim) AddUser(email, name string) User {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := User{ID: s.id(), Email: email, Name: name, APIKey: token()}
	s.users = append(s.users, u)
	return u
}

// id returns a new object id; s.mu is held.
func (s *Sim) id() int64 { s.nextID++; return s.nextID }

func token() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Throttle answers the next n API calls 429, as a burst would.
func (s *Sim) Throttle(n int) { s.mu.Lock(); s.faults.throttle = n; s.mu.Unlock() }

// Fail answers the next n API calls with status (503 if 0).
func (s *Sim) Fail(n, status int) {
	s.mu.Lock()
	s.faults.fail, s.faults.failCode = n, status
	s.mu.Unlock()
}

// Duplicate makes every integration call go out twice (on) or once.
func (s *Sim) Duplicate(on bool) { s.mu.Lock(); s.faults.duplicate = on; s.mu.Unlock() }

// Late carries out the next n API calls of route ("POST /api/tickets") d
// late, whether or not their caller still waits: a slow Gorgias whose work
// lands after the caller gave up.
func (s *Sim) Late(route string, n int, d time.Duration) {
	s.mu.Lock()
	s.faults.late, s.faults.lateTo, s.faults.lateBy = n, route, d
	s.mu.Unlock()
}

// Slow delays every API answer by d.
func (s *Sim) Slow(d time.Duration) { s.mu.Lock(); s.faults.slow = d; s.mu.Unlock() }

// Hold keeps integration calls queued until Release.
func (s *Sim) Hold() { s.mu.Lock(); s.held = true; s.mu.Unlock() }

// Release sends the held calls, in reverse order when reverse (reordering).
func (s *Sim) Release(reverse bool) {
	s.mu.Lock()
	if reverse {
		for i, j := 0, len(s.queue)-1; i < j; i, j = i+1, j-1 {
			s.queue[i], s.queue[j] = s.queue[j], s.queue[i]
		}
	}
	s.held = false
	s.mu.Unlock()
	s.poke()
}

// take checks the leaky bucket for one call and returns the used level, and
// the wait before a call fits when it does not; s.mu is held.
func (s *Sim) take() (used int, wait time.Duration) {
	now := s.cfg.Now()
	rate := float64(s.cfg.Limit) / s.cfg.Window.Seconds()
	if !s.leakedAt.IsZero() {
		s.level = math.Max(0, s.level-now.Sub(s.leakedAt).Seconds()*rate)
	}
	s.leakedAt = now
	if s.level+1 > float64(s.cfg.Limit) {
		return int(math.Ceil(s.level)), time.Duration((s.level + 1 - float64(s.cfg.Limit)) / rate * float64(time.Second))
	}
	s.level++
	return int(math.Ceil(s.level)), 0
}

// user returns the user whose email and key these are.
func (s *Sim) user(email, key string) (User, bool) {
	for _, u := range s.users {
		if strings.EqualFold(u.Email, email) && u.APIKey == key && key != "" {
			return u, true
		}
	}
	return User{}, false
}
