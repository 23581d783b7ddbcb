package web

import (
	"net/http"

	"github.com/batonhq/baton/engine"
)

// routes maps the web inbox. Pages (page) redirect to the sign-in page
// without a live session; fragments and the event stream (live), which the
// script fetches, answer 401; forms (form) also check the CSRF token and
// the request's origin.
func (s *Server) routes() {
	m := s.mux
	m.Handle("GET /{$}", http.RedirectHandler("/inbox/", http.StatusSeeOther))
	m.Handle("GET /static/{file}", s.handleStatic())

	m.Handle("GET /inbox/signin", s.handleSignInForm())
	m.Handle("POST /inbox/signin", s.origin(s.handleSignIn()))
	m.Handle("POST /inbox/signout", s.form(s.handleSignOut()))

	m.Handle("GET /inbox/{$}", s.page(s.handleQueue()))
	m.Handle("GET /inbox/queue", s.live(s.handleQueueFragment()))
	m.Handle("GET /inbox/handoffs/{id}", s.page(s.handleCase()))
	m.Handle("GET /inbox/handoffs/{id}/case", s.live(s.handleCaseFragment()))
	m.Handle("POST /inbox/handoffs/{id}/claim", s.form(s.handleClaim()))
	m.Handle("POST /inbox/handoffs/{id}/reply", s.form(s.handleReply()))
	m.Handle("POST /inbox/handoffs/{id}/end", s.form(s.handleEnd()))
	m.Handle("POST /inbox/handoffs/{id}/typing", s.form(s.handleSignal((*engine.Engine).AgentTyping)))
	m.Handle("POST /inbox/handoffs/{id}/read", s.form(s.handleSignal((*engine.Engine).AgentRead)))
	m.Handle("GET /inbox/events", s.live(s.handleEvents()))

	m.Handle("/inbox/", s.page(s.handleNotFound()))

	console := s.consoleHandler() // the admin console: its own session, mux and pages (console.go)
	m.Handle("GET /console/", console)
	m.Handle("POST /console/", console)
}
