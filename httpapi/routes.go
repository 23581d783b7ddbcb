package httpapi

import (
	"net/http"
)

// mux is where routes go: an *http.ServeMux (tests list the patterns).
type mux interface {
	Handle(pattern string, h http.Handler)
}

// addRoutes maps the whole API surface.
func addRoutes(mux mux, p Params) {
	log, eng := p.Log, p.Engine
	// Bot API: a workspace API key; POSTs take an Idempotency-Key.
	bot := func(h http.Handler) http.Handler { return requireKey(log, eng, h) }
	botPost := func(h http.Handler) http.Handler { return requireKey(log, eng, idempotent(log, eng, h)) }
	mux.Handle("POST /v1/handoffs", botPost(handleCreateHandoff(log, eng)))
	mux.Handle("GET /v1/handoffs/{id}", bot(handleGetHandoff(log, eng)))
	mux.Handle("POST /v1/handoffs/{id}/messages", botPost(handleCustomerMessage(log, eng)))
	mux.Handle("POST /v1/handoffs/{id}/keep-waiting", botPost(handleKeepWaiting(log, eng)))
	mux.Handle("POST /v1/handoffs/{id}/end", botPost(handleEndHandoff(log, eng)))
	mux.Handle("POST /v1/handoffs/{id}/email", botPost(handleProvideEmail(log, eng)))
	mux.Handle("GET /v1/conversations/{conversation_id}", bot(handleGetConversation(log, eng)))
	mux.Handle("POST /v1/conversations/{conversation_id}/bot-messages", botPost(handleBotMessage(log, eng)))
	mux.Handle("POST /v1/conversations/{conversation_id}/transfer", botPost(handleTransfer(log, eng)))
	mux.Handle("GET /v1/availability", bot(handleAvailability(log, eng)))
	mux.Handle("GET /v1/calendar", bot(handleCalendar(log, eng)))
	mux.Handle("GET /v1/events", bot(handleEvents(log, eng)))
	mux.Handle("GET /v1/events/stream", bot(handleEventStream(log, eng, p.Hub)))

	// Desks calling in: no API key, the desk adapter verifies the request.
	mux.Handle("POST /v1/desks/{desk}/inbound/{path...}", handleInbound(log, eng))

	// Built-in inbox, agent side: an inbox agent key.
	agent := func(h http.Handler) http.Handler { return requireAgent(log, eng, h) }
	agentPost := func(h http.Handler) http.Handler { return requireAgent(log, eng, idempotent(log, eng, h)) }
	mux.Handle("GET /v1/inbox/handoffs", agent(handleInboxQueue(log, eng)))
	mux.Handle("POST /v1/inbox/handoffs/{id}/claim", agentPost(handleInboxClaim(log, eng)))
	mux.Handle("GET /v1/inbox/handoffs/{id}/messages", agent(handleInboxTranscript(log, eng)))
	mux.Handle("POST /v1/inbox/handoffs/{id}/messages", agentPost(handleInboxReply(log, eng)))
	mux.Handle("POST /v1/inbox/handoffs/{id}/end", agentPost(handleInboxEnd(log, eng)))

	// Operations.
	mux.Handle("GET /healthz", handleHealthz())
	mux.Handle("GET /readyz", handleReadyz(log, p.Ready))
	if p.Metrics != nil {
		mux.Handle("GET /metrics", p.Metrics)
	}
	mux.Handle("GET /openapi.yaml", handleOpenAPI())
}
