package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/engine"
	"github.com/batonhq/baton/hub"
)

// Event list and stream limits.
const (
	defaultEventLimit = 100
	maxEventLimit     = 1000
	streamPage        = 100              // events read at a time by the stream
	streamPoll        = time.Second      // the stream also looks for events other instances wrote
	streamHeartbeat   = 15 * time.Second // a comment line keeps proxies from closing an idle stream
)

// handleEvents lists a bot's events after a sequence number, oldest first.
func handleEvents(log *slog.Logger, eng *engine.Engine) http.Handler {
	type response struct {
		Events    []baton.Envelope `json:"events"`
		NextAfter int64            `json:"next_after"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		after, err := seqParam("after", q.Get("after"))
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		limit := defaultEventLimit
		if s := q.Get("limit"); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 || n > maxEventLimit {
				encodeError(w, r, log, baton.FieldErrorf("limit", "must be an integer from 1 to %d", maxEventLimit))
				return
			}
			limit = n
		}
		evs, err := eng.Events(r.Context(), workspace(r.Context()), q.Get("bot_id"), after, limit)
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		out := response{Events: make([]baton.Envelope, 0, len(evs)), NextAfter: after}
		for _, ev := range evs {
			out.Events = append(out.Events, ev.Envelope())
			out.NextAfter = ev.Seq
		}
		encode(w, http.StatusOK, out)
	})
}

// seqParam reads an event sequence number; "" is 0.
func seqParam(field, s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, baton.FieldErrorf(field, "must be an event sequence number (an integer, 0 or more)")
	}
	return n, nil
}

// handleEventStream streams a bot's events as server-sent events:
//
//	id: <seq>
//	event: <type>
//	data: <envelope JSON, the body of the signed webhook>
//
// It starts after Last-Event-ID (a reconnecting EventSource sends it) or
// ?after=, wakes when this instance writes events for the workspace, looks
// every second for events other instances wrote, sends a comment line every
// 15 seconds so that idle connections stay open, and ends when the client goes.
func handleEventStream(log *slog.Logger, eng *engine.Engine, hub *hub.Hub) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, ws, botID := r.Context(), workspace(r.Context()), r.URL.Query().Get("bot_id")
		key, _ := bearer(r)
		field, raw := "after", r.URL.Query().Get("after")
		if v := r.Header.Get("Last-Event-ID"); v != "" {
			field, raw = "Last-Event-ID", v
		}
		after, err := seqParam(field, raw)
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		// Subscribe before the first read so that nothing written in between is missed.
		wake, stop := hub.Subscribe(ws)
		defer stop()
		evs, err := eng.Events(ctx, ws, botID, after, streamPage)
		if err != nil {
			encodeError(w, r, log, err)
			return
		}

		rc := http.NewResponseController(w)
		_ = rc.SetWriteDeadline(time.Time{}) // a stream outlives the server's write timeout
		h := w.Header()
		h.Set("Content-Type", "text/event-stream")
		h.Set("Cache-Control", "no-store")
		h.Set("X-Accel-Buffering", "no")
		w.WriteHeader(http.StatusOK)
		if _, err := fmt.Fprint(w, ": stream of baton events\nretry: 2000\n\n"); err != nil {
			return
		}

		poll := time.NewTicker(streamPoll)
		defer poll.Stop()
		beat := time.NewTicker(streamHeartbeat)
		defer beat.Stop()
		var buf bytes.Buffer
		for {
			buf.Reset()
			for _, ev := range evs {
				data, err := json.Marshal(ev.Envelope())
				if err != nil {
					log.Error("encoding an event failed", "event", ev.ID, "err", err)
					return
				}
				fmt.Fprintf(&buf, "id: %d\nevent: %s\ndata: %s\n\n", ev.Seq, ev.Type, data)
				after = ev.Seq
			}
			if buf.Len() > 0 {
				if _, err := w.Write(buf.Bytes()); err != nil {
					return
				}
			}
			if err := rc.Flush(); err != nil {
				return
			}
			if len(evs) < streamPage { // caught up: wait for news
				select {
				case <-ctx.Done():
					return
				case <-wake:
				case <-poll.C:
				case <-beat.C:
					if _, err := fmt.Fprint(w, ": heartbeat\n\n"); err != nil {
						return
					}
					evs = nil
					continue
				}
			}
			// The key is checked again before every read (a cached check,
			// renewed every half second): a revoked key's stream, or a
			// deleted workspace's, ends instead of carrying on.
			if _, err := eng.Authenticate(ctx, key); err != nil {
				fmt.Fprint(w, ": the key is no longer valid\n\n")
				return
			}
			if evs, err = eng.Events(ctx, ws, botID, after, streamPage); err != nil {
				if ctx.Err() == nil {
					// Headers are gone; end the stream and let the client resume.
					log.Error("reading events for the stream failed", "err", err)
				}
				return
			}
		}
	})
}
