package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/batonhq/baton/engine"
	"github.com/batonhq/baton/inbox"
)

// NewServer returns Baton's HTTP API over eng: the v1 bot API, the inbound
// desk URL, the inbox agent API through agents, and /healthz, /readyz (which
// calls ready; nil means always ready), /metrics (served by metrics when it is
// not nil) and /openapi.yaml. Every request is logged (never its headers or
// body), a panic becomes a 500 problem, bodies are limited to 1 MiB and must
// arrive within BodyTimeout, and a path or query holding a control character
// is refused before routing.
func NewServer(log *slog.Logger, eng *engine.Engine, agents inbox.Agents, metrics http.Handler, ready func(context.Context) error) http.Handler {
	return newServer(log, eng, agents, metrics, ready, BodyTimeout)
}

// newServer is NewServer with the body deadline given (tests make it short).
func newServer(log *slog.Logger, eng *engine.Engine, agents inbox.Agents, metrics http.Handler, ready func(context.Context) error, bodyTimeout time.Duration) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	mux := http.NewServeMux()
	addRoutes(mux, log, eng, agents, metrics, ready)
	var h http.Handler = unrouted(mux)
	h = refuseControls(h)
	h = limitBody(h)
	h = bodyDeadline(bodyTimeout, h)
	h = recoverPanics(log, h)
	h = logRequests(log, h)
	return h
}
