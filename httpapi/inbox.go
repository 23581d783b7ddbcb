package httpapi

import (
	"log/slog"
	"net/http"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/engine"
	"github.com/batonhq/baton/inbox"
)

// handleInboxQueue lists the handoffs waiting in the agent's desk and those the agent holds.
func handleInboxQueue(log *slog.Logger, agents inbox.Agents) http.Handler {
	type response struct {
		Waiting []handoffJSON `json:"waiting"`
		Mine    []handoffJSON `json:"mine"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		waiting, mine, err := agents.Queue(r.Context(), agentOf(r.Context()))
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		encode(w, http.StatusOK, response{Waiting: newHandoffs(waiting), Mine: newHandoffs(mine)})
	})
}

// handleInboxClaim takes a queued handoff for the agent.
func handleInboxClaim(log *slog.Logger, agents inbox.Agents) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := decode[struct{}](r); err != nil && err != errEmptyBody {
			encodeError(w, r, log, err)
			return
		}
		h, err := replayOr(r, agents, func() (baton.Handoff, error) {
			return agents.Claim(r.Context(), agentOf(r.Context()), r.PathValue("id"))
		})
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		encode(w, http.StatusOK, newHandoff(h))
	})
}

// handleInboxTranscript reads a handoff and its messages.
func handleInboxTranscript(log *slog.Logger, agents inbox.Agents) http.Handler {
	type response struct {
		Handoff  handoffJSON   `json:"handoff"`
		Messages []messageJSON `json:"messages"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, ms, err := agents.Transcript(r.Context(), agentOf(r.Context()), r.PathValue("id"))
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		out := response{Handoff: newHandoff(h), Messages: make([]messageJSON, 0, len(ms))}
		for _, m := range ms {
			out.Messages = append(out.Messages, newMessage(m, h.ExternalID))
		}
		encode(w, http.StatusOK, out)
	})
}

// handleInboxReply sends the agent's message to the customer. The desk event
// id is the Idempotency-Key when there is one, so a retried reply counts once.
func handleInboxReply(log *slog.Logger, agents inbox.Agents) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := decode[messageRequest](r)
		if err == nil {
			err = engine.ValidMessage(req.Text, req.Attachments)
		}
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		a := agentOf(r.Context())
		eventID := r.Header.Get(idempotencyHeader)
		if eventID == "" {
			eventID = engine.NewID("rq")
		}
		h, err := replayOr(r, agents, func() (baton.Handoff, error) {
			return agents.Reply(r.Context(), a, r.PathValue("id"), a.ID+":"+eventID, req.Text, req.Attachments)
		})
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		encode(w, http.StatusCreated, newHandoff(h))
	})
}

// handleInboxEnd ends a handoff from the agent's side.
func handleInboxEnd(log *slog.Logger, agents inbox.Agents) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := decode[struct{}](r); err != nil && err != errEmptyBody {
			encodeError(w, r, log, err)
			return
		}
		h, err := replayOr(r, agents, func() (baton.Handoff, error) {
			return agents.End(r.Context(), agentOf(r.Context()), r.PathValue("id"))
		})
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		encode(w, http.StatusOK, newHandoff(h))
	})
}

// replayOr runs an agent's action, unless the request replays one already
// made with the same Idempotency-Key: then it answers with the handoff as it
// is now. (inbox.Agents checks the handoff's state before the engine looks at
// the key, so a replay after the state moved on would otherwise be refused.)
func replayOr(r *http.Request, agents inbox.Agents, action func() (baton.Handoff, error)) (baton.Handoff, error) {
	if !isReplay(r.Context()) {
		return action()
	}
	h, _, err := agents.Transcript(r.Context(), agentOf(r.Context()), r.PathValue("id"))
	return h, err
}
