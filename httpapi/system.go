package httpapi

import (
	"context"
	_ "embed"
	"fmt"
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
// Its body may be as large as the desk says (baton.InboundLimiter), 1 MiB
// unless it says. An authentic request is answered 200 whether it was
// applied or acknowledged and ignored (a duplicate, a probe, an event for
// nothing Baton has): "ignored" says which, and why. A desk id that does not
// exist is answered exactly as a request that fails verification, so desk
// ids cannot be probed.
func handleInbound(log *slog.Logger, eng *engine.Engine) http.Handler {
	type response struct {
		OK      bool   `json:"ok"`
		Ignored string `json:"ignored,omitempty"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The body is read once the desk is known: its kind sets the limit.
		read := func(limit int) ([]byte, error) {
			if limit <= 0 {
				limit = maxBody
			}
			tooLarge := &baton.Error{Code: baton.ETOOLARGE, Message: fmt.Sprintf("the request body is larger than this desk's limit of %d bytes", limit)}
			if r.ContentLength > int64(limit) {
				return nil, tooLarge
			}
			r.Body = http.MaxBytesReader(w, r.Body, int64(limit))
			body, err := readBody(r)
			if baton.ErrorCode(err) == baton.ETOOLARGE {
				return nil, tooLarge
			}
			return body, err
		}
		r.Header.Del(baton.InboundQuery)
		if r.URL.RawQuery != "" {
			r.Header.Set(baton.InboundQuery, r.URL.RawQuery)
		}
		ignored, err := eng.HandleInbound(r.Context(), r.PathValue("desk"), r.PathValue("path"), r.Header, read)
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		encode(w, http.StatusOK, response{OK: true, Ignored: ignored})
	})
}

// handleInboundProbe answers the HEAD request a desk sends to check its
// inbound URL (Intercom, when a webhook URL is saved): 200 whatever the
// desk, never a body, so that desk ids cannot be probed.
func handleInboundProbe() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
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
