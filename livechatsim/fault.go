package livechatsim

import (
	"net/http"
	"time"
)

// Faults are failures injected into the LiveChat API calls (/v3.x agent,
// customer and configuration APIs; not the accounts or driver endpoints)
// and into webhook delivery. Counters ("the next K calls") count down as
// calls fail. Checked in this order: Latency, Misdirected, Unavailable,
// Internal, TooMany, RateLimit.
type Faults struct {
	RateLimit   int           // >0: each credential may make RateLimit calls per RateWindow; more get 429 too_many_requests
	RateWindow  time.Duration // simulated-clock window of RateLimit; default one minute
	TooMany     int           // the next TooMany calls get 429 too_many_requests
	Unavailable int           // the next Unavailable calls get 503 service_unavailable
	Internal    int           // the next Internal calls get 500 internal
	Misdirected int           // the next Misdirected calls get 421 misdirected_request with data.region
	Latency     time.Duration // delay before answering each call
	Duplicates  bool          // deliver every webhook twice (the second marked Duplicate)
	Legacy      bool          // webhook envelopes carry license_id (int) instead of organization_id, as up to v3.3
	Paused      bool          // hold webhook deliveries until unpaused
}

type window struct {
	start time.Time
	n     int
}

// Faults returns the current faults.
func (s *Sim) Faults() Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults
}

// SetFaults replaces the faults; the zero Faults clears them.
func (s *Sim) SetFaults(f Faults) {
	s.mu.Lock()
	s.faults = f
	s.calls = map[string]*window{}
	s.mu.Unlock()
	s.ob.setPaused(f.Paused)
}

// fault applies latency and returns the injected error of this call, if any.
func (s *Sim) fault(r *http.Request) error {
	s.mu.Lock()
	lat := s.faults.Latency
	s.mu.Unlock()
	if lat > 0 {
		t := time.NewTimer(lat)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return errf("request_timeout", "Request timed out")
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f := &s.faults
	switch {
	case f.Misdirected > 0:
		f.Misdirected--
		return &Error{Type: "misdirected_request", Message: "Wrong region", Data: map[string]any{"region": s.cfg.Region}}
	case f.Unavailable > 0:
		f.Unavailable--
		return errf("service_unavailable", "Service unavailable")
	case f.Internal > 0:
		f.Internal--
		return errf("internal", "Internal server error")
	case f.TooMany > 0:
		f.TooMany--
		return errf("too_many_requests", "Too many requests")
	case f.RateLimit > 0:
		win := f.RateWindow
		if win <= 0 {
			win = time.Minute
		}
		key := r.Header.Get("Authorization")
		w := s.calls[key]
		now := s.now()
		if w == nil || !now.Before(w.start.Add(win)) {
			w = &window{start: now}
			s.calls[key] = w
		}
		if w.n++; w.n > f.RateLimit {
			return errf("too_many_requests", "Too many requests")
		}
	}
	return nil
}

// ExpireTokens expires every access token issued so far (agent OAuth,
// customer and bot tokens; PATs do not expire): they answer authentication
// "Invalid access token" until the client gets new ones.
func (s *Sim) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for _, t := range s.tokens {
		if t.expires.After(now) {
			t.expires = now
		}
	}
}

// Advance moves the simulated clock forward: tokens expire after their
// lifetime (28800 s, bots 24 h), queue wait times grow, rate windows pass.
func (s *Sim) Advance(d time.Duration) {
	s.mu.Lock()
	s.offset += d
	s.mu.Unlock()
}
