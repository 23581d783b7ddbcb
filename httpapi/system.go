package httpapi

import (
	"context"
	_ "embed"
	"io"
	"log/slog"
	"net/http"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/engine"
)

// spec is the API contract, served at /openapi.yaml.
//
//go:embed openapi.yaml
var spec []byte

// handleInbound takes a request a desk sends to Baton. It carries no API key:
// the desk adapter verifies it (signature or shared secret) before parsing.
// Duplicates and probes are acknowledged like anything else. A desk id that
// does not exist is answered exactly as a request that fails verification, so
// desk ids cannot be probed.
func handleInbound(log *slog.Logger, eng *engine.Engine) http.Handler {
	type response struct {
		OK bool `json:"ok"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := readBody(r)
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		if err := eng.HandleInbound(r.Context(), r.PathValue("desk"), r.PathValue("path"), r.Header, body); err != nil {
			encodeError(w, r, log, err)
			return
		}
		encode(w, http.StatusOK, response{OK: true})
	})
}

// handleHealthz says the process is up.
func handleHealthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		io.WriteString(w, "ok")
	})
}

// handleReadyz says whether the process can serve: ready (the store, typically)
// must answer. Its error is logged, not shown.
func handleReadyz(log *slog.Logger, ready func(context.Context) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ready != nil {
			if err := ready(r.Context()); err != nil {
				log.Warn("not ready", "err", err)
				writeProblem(w, problem{Status: http.StatusServiceUnavailable, Code: baton.EUNAVAILABLE, Detail: "not ready"})
				return
			}
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		io.WriteString(w, "ok")
	})
}

// handleOpenAPI serves the API contract.
func handleOpenAPI() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/yaml")
		w.Write(spec)
	})
}
