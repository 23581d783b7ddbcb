package web

import (
	"context"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/engine"
	"github.com/batonhq/baton/hub"
)

// Params build the web inbox. Engine and SessionKey are required.
type Params struct {
	Log    *slog.Logger
	Engine *engine.Engine
	// Hub wakes the live updates when this instance commits a change to a
	// workspace; nil means they only poll (every Poll).
	Hub *hub.Hub
	// SessionKey signs the session cookies and the CSRF tokens: at least
	// 32 bytes, the same on every instance.
	SessionKey []byte
	// Secure marks the cookies Secure on every request, not only those
	// that came over TLS: for Baton behind a proxy that terminates TLS.
	Secure bool
	// SessionTTL is how long a session lasts from sign-in (default 12h).
	SessionTTL time.Duration
	// Limits refuse sign-ins (429) after too many failures.
	Limits Limits
	// Poll is how often a live page looks for changes other instances made
	// (default 2s).
	Poll time.Duration
	// CheckDesk runs a desk's credential check for the console's "Check
	// now" (the admin API's POST …/desks/{id}/check); nil: this build cannot.
	CheckDesk func(context.Context, baton.DeskConfig) (baton.DeskStatus, string)
}

// Limits bound failed sign-ins per email and per client address within a
// window; past either, sign-ins are refused (429, with Retry-After) until
// the oldest failure ages out. The address is the connection's: Baton trusts
// no X-Forwarded-For, so behind a proxy every client shares the proxy's.
type Limits struct {
	PerEmail int           // default 5
	PerIP    int           // default 20: people behind one NAT share an address
	Window   time.Duration // default 5 minutes
}

// DefaultSessionTTL is how long a session lasts unless Params say otherwise.
const DefaultSessionTTL = 12 * time.Hour

// MinKeyLen is the shortest SessionKey New takes.
const MinKeyLen = 32

// Server is the web inbox: server-rendered pages for the built-in inbox
// desk's agents, with live updates by server-sent events. It serves
// GET / (a redirect to /inbox/), everything under /inbox/ and /static/.
type Server struct {
	p       Params
	mux     *http.ServeMux
	pages   map[string]*template.Template
	static  map[string]asset
	byEmail *limiter
	byIP    *limiter
}

// New builds the web inbox. It panics when SessionKey is shorter than
// MinKeyLen or Engine is nil: both are the caller's mistake.
func New(p Params) *Server {
	if len(p.SessionKey) < MinKeyLen {
		panic(fmt.Sprintf("web: the session key has %d bytes, want at least %d", len(p.SessionKey), MinKeyLen))
	}
	if p.Engine == nil {
		panic("web: no engine")
	}
	if p.Log == nil {
		p.Log = slog.New(slog.DiscardHandler)
	}
	if p.Hub == nil {
		p.Hub = new(hub.Hub)
	}
	if p.SessionTTL <= 0 {
		p.SessionTTL = DefaultSessionTTL
	}
	if p.Limits.PerEmail <= 0 {
		p.Limits.PerEmail = 5
	}
	if p.Limits.PerIP <= 0 {
		p.Limits.PerIP = 20
	}
	if p.Limits.Window <= 0 {
		p.Limits.Window = 5 * time.Minute
	}
	if p.Poll <= 0 {
		p.Poll = 2 * time.Second
	}
	s := &Server{p: p, mux: http.NewServeMux(), static: loadStatic(),
		byEmail: newLimiter(p.Limits.PerEmail, p.Limits.Window), byIP: newLimiter(p.Limits.PerIP, p.Limits.Window)}
	s.pages = parsePages(s.static)
	s.routes()
	return s
}

// csp is the Content-Security-Policy of every answer: no inline script or
// style, nothing from elsewhere, no framing, forms post only here.
const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'"

// ServeHTTP answers with the security headers on every response.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	limitBody(w, r)
	s.mux.ServeHTTP(w, r)
}
