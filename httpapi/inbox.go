package httpapi

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/engine"
)

// handleInboxQueue lists the handoffs waiting in the agent's desk and those the agent holds.
func handleInboxQueue(log *slog.Logger, eng *engine.Engine) http.Handler {
	type response struct {
		Waiting []handoffJSON `json:"waiting"`
		Mine    []handoffJSON `json:"mine"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		waiting, mine, err := eng.InboxQueue(r.Context(), agentOf(r.Context()))
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		encode(w, http.StatusOK, response{Waiting: newHandoffs(waiting), Mine: newHandoffs(mine)})
	})
}

// handleInboxClaim takes a queued handoff for the agent.
func handleInboxClaim(log *slog.Logger, eng *engine.Engine) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := decode[struct{}](r); err != nil && err != errEmptyBody {
			encodeError(w, r, log, err)
			return
		}
		h, err := eng.Claim(r.Context(), agentOf(r.Context()), r.PathValue("id"))
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		encode(w, http.StatusOK, newHandoff(h))
	})
}

// handleInboxTranscript reads a handoff and its messages.
func handleInboxTranscript(log *slog.Logger, eng *engine.Engine) http.Handler {
	type response struct {
		Handoff  handoffJSON   `json:"handoff"`
		Messages []messageJSON `json:"messages"`
		Brief    baton.Brief   `json:"brief"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, ms, b, err := eng.InboxTranscript(r.Context(), agentOf(r.Context()), r.PathValue("id"))
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		out := response{Handoff: newHandoff(h), Messages: make([]messageJSON, 0, len(ms)), Brief: b}
		for _, m := range ms {
			out.Messages = append(out.Messages, newMessage(m, h.ExternalID))
		}
		encode(w, http.StatusOK, out)
	})
}

// handleInboxReply sends the agent's message to the customer. A retry
// with the same Idempotency-Key counts once.
func handleInboxReply(log *slog.Logger, eng *engine.Engine) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := decode[messageRequest](r)
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		h, err := eng.Reply(r.Context(), agentOf(r.Context()), r.PathValue("id"), req.Text, req.Attachments)
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		encode(w, http.StatusCreated, newHandoff(h))
	})
}

// handleInboxEnd ends a handoff from the agent's side.
func handleInboxEnd(log *slog.Logger, eng *engine.Engine) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := decode[struct{}](r); err != nil && err != errEmptyBody {
			encodeError(w, r, log, err)
			return
		}
		h, err := eng.EndByAgent(r.Context(), agentOf(r.Context()), r.PathValue("id"))
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		encode(w, http.StatusOK, newHandoff(h))
	})
}

// handleInboxSignal tells the bot something of the agent that needs no
// answer (typing, read): 204.
func handleInboxSignal(log *slog.Logger, eng *engine.Engine, tell func(*engine.Engine, context.Context, baton.InboxAgent, string) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := decode[struct{}](r); err != nil && err != errEmptyBody {
			encodeError(w, r, log, err)
			return
		}
		if err := tell(eng, r.Context(), agentOf(r.Context()), r.PathValue("id")); err != nil {
			encodeError(w, r, log, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}
