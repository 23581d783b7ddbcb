package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/engine"
	"github.com/batonhq/baton/hub"
)

// Params build the HTTP API.
type Params struct {
	Log    *slog.Logger
	Engine *engine.Engine
	// Hub wakes event streams when this instance writes events; nil means
	// the streams only poll.
	Hub *hub.Hub
	// Metrics serves /metrics when not nil.
	Metrics http.Handler
	// Ready answers /readyz; nil means always ready.
	Ready func(context.Context) error
	// CheckDesk runs a desk's credential check now, for the admin API's
	// check route; nil answers not_configured.
	CheckDesk func(context.Context, baton.DeskConfig) (baton.DeskStatus, string)
	// BodyTimeout is how long a request body may take to arrive (default BodyTimeout).
	BodyTimeout time.Duration
	// Web serves the browser pages when not nil: GET / (a redirect),
	// /inbox/… (GET and POST) and GET /static/… (package web).
	Web http.Handler
}

// NewServer returns Baton's HTTP API: the v1 bot API, the inbound desk
// URL, the inbox agent API, and /healthz, /readyz, /metrics and
// /openapi.yaml, with the web pages beside them when Params.Web is set. Every request is logged (never its headers or body), a
// panic becomes a 500 problem, bodies are limited to 1 MiB and must arrive
// within the body timeout, and a path or query holding a control character
// is refused before routing.
func NewServer(p Params) http.Handler {
	if p.Log == nil {
		p.Log = slog.New(slog.DiscardHandler)
	}
	if p.Hub == nil {
		p.Hub = new(hub.Hub)
	}
	if p.BodyTimeout <= 0 {
		p.BodyTimeout = BodyTimeout
	}
	mux := http.NewServeMux()
	addRoutes(mux, p)
	var h http.Handler = unrouted(mux)
	h = refuseControls(h)
	h = limitBody(h)
	h = bodyDeadline(p.BodyTimeout, h)
	h = recoverPanics(p.Log, h)
	h = logRequests(p.Log, h)
	return h
}
