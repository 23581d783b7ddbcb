package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/engine"
)

// recorder remembers the status and size of a response. Unwrap lets
// http.ResponseController reach the real writer (flushes on the event stream).
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *recorder) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *recorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logRequests logs one line per request: method, path, status, size and time.
// It never logs headers (Authorization carries keys) or bodies.
func logRequests(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &recorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		level := slog.LevelInfo
		if rec.status >= 500 {
			level = slog.LevelError
		}
		log.LogAttrs(r.Context(), level, "http request",
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", rec.status),
			slog.Int64("bytes", rec.bytes),
			slog.Duration("duration", time.Since(start)))
	})
}

// recoverPanics turns a panicking handler into a 500 problem and logs the
// panic with its stack. If the handler had already started its answer, the
// connection is aborted instead.
func recoverPanics(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &recorder{ResponseWriter: w}
		defer func() {
			p := recover()
			if p == nil {
				return
			}
			if p == http.ErrAbortHandler {
				panic(p)
			}
			log.Error("handler panicked", "method", r.Method, "path", r.URL.Path, "panic", p, "stack", string(debug.Stack()))
			if rec.status != 0 {
				// Part of the answer is out: cut the connection rather than
				// let a truncated body pass for a whole one.
				panic(http.ErrAbortHandler)
			}
			writeProblem(rec, problem{Status: http.StatusInternalServerError, Code: baton.EINTERNAL, Detail: "internal error"})
		}()
		next.ServeHTTP(rec, r)
	})
}

// limitBody caps every request body at maxBody, an upload's at maxUpload,
// but not a desk's inbound request, whose limit the desk sets (handleInbound
// applies it), nor the web pages', which set their own. A declared
// length over the limit is refused before anything is read.
func limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if inbound(r.URL.Path) || webRoute(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		limit, problemText := int64(maxBody), errTooLarge.Message
		if uploadRoute(r.URL.Path) {
			limit, problemText = maxUpload, "the request body is larger than the limit of a 10 MiB file and its multipart framing"
		}
		if r.ContentLength > limit {
			writeProblem(w, problem{Status: http.StatusRequestEntityTooLarge, Code: baton.ETOOLARGE, Detail: problemText})
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		next.ServeHTTP(w, r)
	})
}

// webRoute reports whether path is the web pages' (package web), which
// limit their own bodies.
func webRoute(path string) bool {
	return strings.HasPrefix(path, "/inbox/") || strings.HasPrefix(path, "/console/")
}

// inbound reports whether path is a desk's inbound route,
// /v1/desks/{desk}/inbound/{path...}.
func inbound(path string) bool {
	rest, ok := strings.CutPrefix(path, "/v1/desks/")
	if !ok {
		return false
	}
	desk, rest, ok := strings.Cut(rest, "/")
	return ok && desk != "" && strings.HasPrefix(rest, "inbound/")
}

// BodyTimeout is how long a request has, from the end of its headers, to
// deliver its whole body. A client that trickles its body slower than that is
// answered 408 and the connection is closed (bots and desks are servers
// posting at most 1 MiB of JSON). Requests without a body (the
// event stream among them) have no read deadline, so long-lived answers are
// not cut.
const BodyTimeout = 10 * time.Second

// bodyDeadline gives the body of every request that has one a read deadline
// of d from now, and lifts it when the body has been read to its end, so that
// a handler still working after that (or a response that streams) is not
// cancelled by a read timing out on the idle connection. Reads past the
// deadline fail with os.ErrDeadlineExceeded, which readBody answers as 408.
// A d of 0 or less sets no deadline.
func bodyDeadline(d time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d <= 0 || r.Body == nil || r.Body == http.NoBody {
			next.ServeHTTP(w, r)
			return
		}
		rc := http.NewResponseController(w)
		if err := rc.SetReadDeadline(time.Now().Add(d)); err == nil {
			r.Body = &deadlineBody{ReadCloser: r.Body, rc: rc}
		}
		next.ServeHTTP(w, r)
	})
}

// deadlineBody lifts the connection's read deadline once the body is read to
// its end.
type deadlineBody struct {
	io.ReadCloser
	rc   *http.ResponseController
	done bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if errors.Is(err, io.EOF) && !b.done {
		b.done = true
		_ = b.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}

// refuseControls answers a request whose path holds a control character (a
// NUL as %00, say) or bytes that are not UTF-8 (%ff) 404, as for any id that
// cannot exist, and an API call whose query does 422 naming the parameter
// (as any malformed parameter), before any handler or store sees them.
func refuseControls(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hasControl(r.URL.Path) || !utf8.ValidString(r.URL.Path) {
			writeProblem(w, problem{Status: http.StatusNotFound, Code: baton.ENOTFOUND, Detail: "no such object: the path holds a control character or bytes that are not UTF-8"})
			return
		}
		if unclean(r.URL.Path) {
			// The router would answer a redirect to the cleaned path, which
			// names another object (an id "0/" would lose its slash).
			writeProblem(w, problem{Status: http.StatusNotFound, Code: baton.ENOTFOUND, Detail: "no such object: the path holds an empty, . or .. segment"})
			return
		}
		if strings.HasPrefix(r.URL.Path, "/v1/") && (hasControl(r.URL.RawQuery) || strings.Contains(r.URL.RawQuery, "%")) {
			for k, vs := range r.URL.Query() {
				bad := hasControl(k) || !utf8.ValidString(k)
				for _, v := range vs {
					bad = bad || hasControl(v) || !utf8.ValidString(v)
				}
				if bad {
					writeProblem(w, problem{Status: http.StatusUnprocessableEntity, Code: baton.EINVALID, Field: strings.ToValidUTF8(strings.Map(printable, k), "\uFFFD"), Detail: "must be UTF-8 text without control characters"})
					return
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// unclean reports whether path has an empty segment (//) or a . or ..
// segment: a path no route has, that path.Clean would change.
func unclean(p string) bool {
	return strings.Contains(p, "//") || strings.Contains(p, "/./") || strings.Contains(p, "/../") ||
		strings.HasSuffix(p, "/.") || strings.HasSuffix(p, "/..")
}

// hasControl reports whether s holds an ASCII control character or DEL.
func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return true
		}
	}
	return false
}

// printable drops control characters, for naming a query parameter.
func printable(r rune) rune {
	if r < 0x20 || r == 0x7f {
		return -1
	}
	return r
}

// unrouted answers requests no route matches (404) or whose method a route
// does not take (405, with Allow) as problems instead of plain text.
func unrouted(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h, pattern := mux.Handler(r); pattern == "" {
			probe := &headerOnly{header: http.Header{}}
			h.ServeHTTP(probe, r)
			if allow := probe.header.Get("Allow"); allow != "" {
				w.Header().Set("Allow", allow)
			}
			status := probe.status
			if status != http.StatusMethodNotAllowed {
				status = http.StatusNotFound
			}
			code, detail := baton.ENOTFOUND, "no route for "+r.URL.Path
			if status == http.StatusMethodNotAllowed {
				code, detail = baton.EMETHOD, r.Method+" is not allowed on "+r.URL.Path
			}
			writeProblem(w, problem{Status: status, Code: code, Detail: detail})
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// headerOnly catches the status and headers of the mux's own 404/405 handler.
type headerOnly struct {
	header http.Header
	status int
}

func (h *headerOnly) Header() http.Header         { return h.header }
func (h *headerOnly) Write(b []byte) (int, error) { return len(b), nil }
func (h *headerOnly) WriteHeader(status int)      { h.status = status }

type ctxKey int

const (
	workspaceKey ctxKey = iota
	agentKey
	replayKey
)

// workspace returns the workspace requireKey authenticated.
func workspace(ctx context.Context) string {
	ws, _ := ctx.Value(workspaceKey).(string)
	return ws
}

// agentOf returns the inbox agent requireAgent authenticated.
func agentOf(ctx context.Context) baton.InboxAgent {
	a, _ := ctx.Value(agentKey).(baton.InboxAgent)
	return a
}

// bearer returns the token of an "Authorization: Bearer <token>" header.
func bearer(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	token = strings.TrimSpace(token)
	return token, ok && strings.EqualFold(scheme, "Bearer") && token != ""
}

var errNoKey = baton.Errorf(baton.EUNAUTHORIZED, "missing credentials: send \"Authorization: Bearer <key>\"")

// requireKey authenticates a workspace API key for the bot API and puts
// the workspace in the context.
func requireKey(log *slog.Logger, eng *engine.Engine, next http.Handler) http.Handler {
	return requireReach(log, eng, reachBot, next)
}

// reach is a part of the API a workspace key's scope may open.
type reach int

const (
	reachBot         reach = iota // the bot API: scopes full and bot, read for its reads
	reachTools                    // the MCP server and tool calls: scopes full and mcp
	reachDefinitions              // the tool definitions: any scope
)

// requireReach authenticates a workspace API key whose scope opens
// reach, and puts the workspace (and the key's bot) in the context.
func requireReach(log *slog.Logger, eng *engine.Engine, to reach, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, ok := bearer(r)
		if !ok {
			encodeError(w, r, log, errNoKey)
			return
		}
		k, err := eng.Authenticate(r.Context(), key)
		if err == nil {
			err = opens(k, to, r.Method)
		}
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		ctx := context.WithValue(r.Context(), workspaceKey, k.WorkspaceID)
		if k.BotID != "" {
			ctx = engine.WithBotScope(ctx, k.BotID)
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// opens refuses a key whose scope does not open reach for method.
func opens(k baton.APIKey, to reach, method string) error {
	switch {
	case to == reachTools && !k.Scope.MCP():
		return baton.Errorf(baton.EFORBIDDEN, "API key %s has no MCP rights (scope %s): the MCP server and tool calls take a key with scope full or mcp", k.Prefix, k.Scope)
	case to == reachBot && k.Scope == baton.ScopeMCP:
		return baton.Errorf(baton.EFORBIDDEN, "API key %s reaches only the MCP server and the tools (scope mcp)", k.Prefix)
	case to == reachBot && k.Scope == baton.ScopeRead && method != http.MethodGet:
		return baton.Errorf(baton.EFORBIDDEN, "API key %s is read-only", k.Prefix)
	}
	return nil
}

// requireAgent authenticates an inbox agent key and puts the agent (and its
// workspace) in the context.
func requireAgent(log *slog.Logger, eng *engine.Engine, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, ok := bearer(r)
		if !ok {
			encodeError(w, r, log, errNoKey)
			return
		}
		a, err := eng.AuthenticateAgent(r.Context(), key)
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		ctx := context.WithValue(r.Context(), agentKey, a)
		ctx = context.WithValue(ctx, workspaceKey, a.WorkspaceID)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// idempotencyHeader is the request header that makes a POST safe to retry.
const idempotencyHeader = "Idempotency-Key"

// maxIdempotencyKey is the longest Idempotency-Key accepted.
const maxIdempotencyKey = 255

// idempotent reads an Idempotency-Key, hashes the request (method, path and
// body) and hands both to the engine through the context. It must run after
// authentication: keys belong to a workspace.
func idempotent(log *slog.Logger, eng *engine.Engine, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		keys := r.Header.Values(idempotencyHeader)
		if len(keys) == 0 {
			next.ServeHTTP(w, r)
			return
		}
		key := keys[0]
		switch {
		case len(keys) > 1:
			encodeError(w, r, log, &baton.Error{Code: baton.EBADREQUEST, Field: idempotencyHeader, Message: "is given more than once"})
			return
		case !printableText(key):
			encodeError(w, r, log, &baton.Error{Code: baton.EBADREQUEST, Field: idempotencyHeader, Message: "must be printable UTF-8 text"})
			return
		case len(key) > maxIdempotencyKey:
			encodeError(w, r, log, &baton.Error{Code: baton.EINVALID, Field: idempotencyHeader, Message: "is longer than 255 characters"})
			return
		}
		if a := agentOf(r.Context()); a.ID != "" {
			// An inbox agent's keys are the agent's own: another agent
			// with the same key is another request.
			key = "agent:" + a.ID + ":" + key
		}
		body, err := readBody(r)
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		sum := sha256.New()
		io.WriteString(sum, r.Method+" "+r.URL.RequestURI()+"\n")
		sum.Write(body)
		hash := hex.EncodeToString(sum.Sum(nil))
		ctx := engine.WithIdempotency(r.Context(), key, hash)
		// The engine decides for itself inside its write transaction; this
		// look-up lets the answer say Idempotent-Replayed and refuses a
		// reused key before the handler reads the body.
		rec, found, err := eng.Idempotency(ctx, engine.IdempotencyScope(ctx, workspace(ctx)), key)
		switch {
		case err != nil:
			encodeError(w, r, log, err)
			return
		case found && rec.Request != hash:
			encodeError(w, r, log, &baton.Error{Code: baton.EIDEMPOTENCY, Field: idempotencyHeader, Message: "this key was already used with a different request"})
			return
		case found:
			ctx = context.WithValue(ctx, replayKey, true)
		}
		next.ServeHTTP(&replayWriter{ResponseWriter: w, ctx: ctx}, r.WithContext(ctx))
	})
}

// printableText reports whether s is UTF-8 text with no control characters.
func printableText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// isReplay reports whether the request repeats one the workspace already made
// with the same Idempotency-Key.
func isReplay(ctx context.Context) bool {
	v, _ := ctx.Value(replayKey).(bool)
	return v
}

// replayWriter marks a successful answer to a replayed request: one the
// look-up above found, or one the engine answered from the outcome of a
// concurrent request with the same key.
type replayWriter struct {
	http.ResponseWriter
	ctx context.Context
}

func (w *replayWriter) WriteHeader(status int) {
	if status < 300 && (isReplay(w.ctx) || engine.Replayed(w.ctx)) {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *replayWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
