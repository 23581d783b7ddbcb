package web

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"net/http"
	"strconv"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/engine"
)

// heartbeat is how often an idle event stream sends a comment, so that
// proxies keep it open.
const heartbeat = 15 * time.Second

// digest is a short hash of what a live page shows: the queue's handoffs
// and, on a handoff's page, the handoff and its messages. The page carries
// the digest it was rendered from; the event stream sends the current one.
func digest(waiting, mine []baton.Handoff, c *engine.InboxCase) string {
	h := sha256.New()
	line := func(h hash.Hash, parts ...string) {
		for _, p := range parts {
			h.Write([]byte(p))
			h.Write([]byte{0})
		}
		h.Write([]byte{'\n'})
	}
	each := func(tag string, hs []baton.Handoff) {
		for _, x := range hs {
			line(h, tag, x.ID, string(x.State), x.Agent.ID, strconv.FormatInt(x.LastMessageAt.UnixMicro(), 10))
		}
	}
	each("w", waiting)
	each("m", mine)
	if c != nil {
		x := c.Handoff
		line(h, "c", x.ID, string(x.State), string(x.EndReason), x.Agent.ID, strconv.Itoa(len(c.Messages)))
		if n := len(c.Messages); n > 0 {
			line(h, "l", c.Messages[n-1].ID)
		}
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// update is the data of an "update" event.
type update struct {
	Waiting int    `json:"waiting"` // for the title's badge
	Version string `json:"v"`       // the page refetches its parts when it differs from its own
}

// handleEvents streams server-sent events to a live page: "update" with
// the current digest when what the page shows changes (and once at the
// start), "signout" when the session ends (a disabled or deleted agent,
// a new password, the expiry). It wakes when this instance commits a
// change to the agent's workspace and looks every Poll for changes other
// instances made. The browser's EventSource reconnects on its own.
func (s *Server) handleEvents() handler {
	return func(w http.ResponseWriter, r *http.Request, c *call) {
		ctx, id := r.Context(), r.URL.Query().Get("handoff")
		// Subscribe before the first read so that nothing committed in between is missed.
		wake, stop := s.p.Hub.Subscribe(c.agent.WorkspaceID)
		defer stop()
		rc := http.NewResponseController(w)
		_ = rc.SetWriteDeadline(time.Time{}) // a stream outlives the server's write timeout
		h := w.Header()
		h.Set("Content-Type", "text/event-stream")
		h.Set("Cache-Control", "no-store")
		h.Set("X-Accel-Buffering", "no")
		w.WriteHeader(http.StatusOK)
		if _, err := fmt.Fprint(w, ": baton inbox updates\nretry: 2000\n\n"); err != nil {
			return
		}
		poll := time.NewTicker(s.p.Poll)
		defer poll.Stop()
		beat := time.NewTicker(heartbeat)
		defer beat.Stop()
		last := ""
		for {
			a, err := s.stillSignedIn(r, c)
			if errors.Is(err, errSession) {
				fmt.Fprint(w, "event: signout\ndata: ended\n\n")
				rc.Flush()
				return
			} else if err != nil {
				if ctx.Err() == nil {
					s.p.Log.Error("web: the event stream could not read the agent", "err", err)
				}
				return
			}
			u, err := s.current(r, a, id)
			if err != nil {
				if ctx.Err() == nil {
					s.p.Log.Error("web: the event stream could not read the inbox", "err", err)
				}
				return
			}
			if u.Version != last {
				data, _ := json.Marshal(u)
				if _, err := fmt.Fprintf(w, "event: update\ndata: %s\n\n", data); err != nil {
					return
				}
				last = u.Version
			}
			if err := rc.Flush(); err != nil {
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-wake:
			case <-poll.C:
			case <-beat.C:
				if _, err := fmt.Fprint(w, ": heartbeat\n\n"); err != nil {
					return
				}
			}
		}
	}
}

// stillSignedIn checks the stream's session again: its expiry and its agent.
func (s *Server) stillSignedIn(r *http.Request, c *call) (baton.InboxAgent, error) {
	sess, err := decodeSession(s.p.SessionKey, c.cookie, time.Now())
	if err != nil {
		return baton.InboxAgent{}, err
	}
	return s.agentOf(r.Context(), sess)
}

// current reads what a live page shows, as its digest and badge count.
func (s *Server) current(r *http.Request, a baton.InboxAgent, id string) (update, error) {
	waiting, mine, err := s.p.Engine.InboxQueue(r.Context(), a)
	if err != nil {
		return update{}, err
	}
	var c *engine.InboxCase
	if id != "" {
		v, err := s.p.Engine.InboxCase(r.Context(), a, id)
		switch {
		case err == nil:
			c = &v
		case baton.ErrorCode(err) != baton.ENOTFOUND:
			return update{}, err
		}
	}
	return update{Waiting: len(waiting), Version: digest(waiting, mine, c)}, nil
}
