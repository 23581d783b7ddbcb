package httpapi

import (
	"net/http"

	"github.com/batonhq/baton/engine"
	"github.com/batonhq/baton/mcpserver"
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
	mux.Handle("POST /v1/handoffs/{id}/typing", bot(handleTyping(log, eng)))
	mux.Handle("GET /v1/conversations/{conversation_id}", bot(handleGetConversation(log, eng)))
	mux.Handle("POST /v1/conversations/{conversation_id}/messages", botPost(handleCustomerSays(log, eng)))
	mux.Handle("POST /v1/conversations/{conversation_id}/bot-messages", botPost(handleBotMessage(log, eng)))
	mux.Handle("POST /v1/conversations/{conversation_id}/transfer", botPost(handleTransfer(log, eng)))
	mux.Handle("GET /v1/availability", bot(handleAvailability(log, eng)))
	mux.Handle("GET /v1/calendar", bot(handleCalendar(log, eng)))
	mux.Handle("GET /v1/events", bot(handleEvents(log, eng)))
	mux.Handle("GET /v1/events/stream", bot(handleEventStream(log, eng, p.Hub)))
	mux.Handle("POST /v1/files", bot(handleUpload(log, eng)))

	// LLM agents: the MCP server and the same tools for function calling,
	// for a key with MCP rights (scope full or mcp); any key reads the
	// definitions.
	tools := mcpserver.NewTools(eng, p.Hub.Subscribe)
	toolKey := func(h http.Handler) http.Handler { return requireReach(log, eng, reachTools, h) }
	mux.Handle("POST /mcp", crossOrigin(log, toolKey(mcpserver.Handler(mcpserver.Params{Tools: tools, Log: log, Workspace: workspace,
		Refuse: func(w http.ResponseWriter, r *http.Request, err error) { encodeError(w, r, log, err) }}))))
	mux.Handle("GET /v1/tools", requireReach(log, eng, reachDefinitions, handleTools(log, tools)))
	mux.Handle("POST /v1/tools/{name}", toolKey(handleCallTool(log, tools)))

	// Desks calling in: no API key, the desk adapter verifies the request.
	mux.Handle("POST /v1/desks/{desk}/inbound/{path...}", handleInbound(log, eng))
	mux.Handle("HEAD /v1/desks/{desk}/inbound/{path...}", handleInboundProbe())

	// Built-in inbox, agent side: an inbox agent key.
	agent := func(h http.Handler) http.Handler { return requireAgent(log, eng, h) }
	agentPost := func(h http.Handler) http.Handler { return requireAgent(log, eng, idempotent(log, eng, h)) }
	mux.Handle("GET /v1/inbox/handoffs", agent(handleInboxQueue(log, eng)))
	mux.Handle("POST /v1/inbox/handoffs/{id}/claim", agentPost(handleInboxClaim(log, eng)))
	mux.Handle("GET /v1/inbox/handoffs/{id}/messages", agent(handleInboxTranscript(log, eng)))
	mux.Handle("POST /v1/inbox/handoffs/{id}/messages", agentPost(handleInboxReply(log, eng)))
	mux.Handle("POST /v1/inbox/handoffs/{id}/end", agentPost(handleInboxEnd(log, eng)))
	mux.Handle("POST /v1/inbox/handoffs/{id}/typing", agent(handleInboxSignal(log, eng, (*engine.Engine).AgentTyping)))
	mux.Handle("POST /v1/inbox/handoffs/{id}/read", agent(handleInboxSignal(log, eng, (*engine.Engine).AgentRead)))
	mux.Handle("POST /v1/inbox/files", agent(handleUpload(log, eng)))

	// Files, by the signed links uploads answer: no key, the link is the
	// permission.
	mux.Handle("GET /files/{ws}/{id}/{name}", handleFile(log, eng))

	// Admin API: an admin key; changes take an Idempotency-Key, scoped to the key.
	adm := func(h http.Handler) http.Handler { return requireAdmin(log, eng, h) }
	admWrite := func(h http.Handler) http.Handler { return requireAdmin(log, eng, idempotent(log, eng, h)) }
	const ws = "/v1/admin/workspaces/{ws}"
	mux.Handle("POST /v1/admin/workspaces", admWrite(handleAdminCreateWorkspace(log, eng)))
	mux.Handle("GET /v1/admin/workspaces", adm(handleAdminWorkspaces(log, eng)))
	mux.Handle("GET "+ws, adm(handleAdminWorkspace(log, eng)))
	mux.Handle("PATCH "+ws, admWrite(handleAdminRenameWorkspace(log, eng)))
	mux.Handle("DELETE "+ws, admWrite(handleAdminDeleteWorkspace(log, eng)))
	mux.Handle("POST "+ws+"/keys", admWrite(handleAdminCreateKey(log, eng)))
	mux.Handle("GET "+ws+"/keys", adm(handleAdminKeys(log, eng)))
	mux.Handle("DELETE "+ws+"/keys/{id}", admWrite(handleAdminRevokeKey(log, eng)))
	mux.Handle("POST "+ws+"/bots", admWrite(handleAdminCreateBot(log, eng)))
	mux.Handle("GET "+ws+"/bots", adm(handleAdminBots(log, eng)))
	mux.Handle("GET "+ws+"/bots/{id}", adm(handleAdminBot(log, eng)))
	mux.Handle("PATCH "+ws+"/bots/{id}", admWrite(handleAdminUpdateBot(log, eng)))
	mux.Handle("DELETE "+ws+"/bots/{id}", admWrite(handleAdminDeleteBot(log, eng)))
	mux.Handle("POST "+ws+"/bots/{id}/rotate-secret", admWrite(handleAdminRotateSecret(log, eng)))
	mux.Handle("GET "+ws+"/bots/{id}/deliveries", adm(handleAdminDeliveries(log, eng)))
	mux.Handle("POST "+ws+"/bots/{id}/deliveries/{event_id}/redeliver", admWrite(handleAdminRedeliver(log, eng)))
	mux.Handle("GET "+ws+"/bots/{id}/policy", adm(handleAdminBotPolicy(log, eng)))
	mux.Handle("PUT "+ws+"/bots/{id}/policy", admWrite(handleAdminPutBotPolicy(log, eng)))
	mux.Handle("GET "+ws+"/bots/{id}/calendar", adm(forBot(handleCalendar(log, eng))))
	mux.Handle("GET "+ws+"/bots/{id}/availability", adm(forBot(handleAvailability(log, eng))))
	mux.Handle("POST "+ws+"/desks", admWrite(handleAdminCreateDesk(log, eng)))
	mux.Handle("GET "+ws+"/desks", adm(handleAdminDesks(log, eng)))
	mux.Handle("GET "+ws+"/desks/{id}", adm(handleAdminDesk(log, eng)))
	mux.Handle("PATCH "+ws+"/desks/{id}", admWrite(handleAdminUpdateDesk(log, eng)))
	mux.Handle("DELETE "+ws+"/desks/{id}", admWrite(handleAdminDeleteDesk(log, eng)))
	mux.Handle("POST "+ws+"/desks/{id}/check", admWrite(handleAdminCheckDesk(log, eng, p.CheckDesk)))
	mux.Handle("GET "+ws+"/desks/{id}/policy", adm(handleAdminDeskPolicy(log, eng)))
	mux.Handle("PUT "+ws+"/desks/{id}/policy", admWrite(handleAdminPutDeskPolicy(log, eng)))
	mux.Handle("POST "+ws+"/agents", admWrite(handleAdminCreateAgent(log, eng)))
	mux.Handle("GET "+ws+"/agents", adm(handleAdminAgents(log, eng)))
	mux.Handle("GET "+ws+"/agents/{id}", adm(handleAdminAgent(log, eng)))
	mux.Handle("PATCH "+ws+"/agents/{id}", admWrite(handleAdminUpdateAgent(log, eng)))
	mux.Handle("DELETE "+ws+"/agents/{id}", admWrite(handleAdminDeleteAgent(log, eng)))
	mux.Handle("POST "+ws+"/agents/{id}/key", admWrite(handleAdminAgentKey(log, eng)))
	mux.Handle("GET /v1/admin/audit", adm(handleAdminAudit(log, eng)))

	// Operations.
	mux.Handle("GET /healthz", handleHealthz())
	mux.Handle("GET /readyz", handleReadyz(log, p.Ready))
	if p.Metrics != nil {
		mux.Handle("GET /metrics", p.Metrics)
	}
	mux.Handle("GET /openapi.yaml", handleOpenAPI())

	// The web pages (package web), apart from the API: their own sessions,
	// CSRF tokens and HTML answers.
	if p.Web != nil {
		mux.Handle("GET /{$}", p.Web)
		mux.Handle("GET /inbox/", p.Web)
		mux.Handle("POST /inbox/", p.Web)
		mux.Handle("GET /console/", p.Web)
		mux.Handle("POST /console/", p.Web)
		mux.Handle("GET /static/", p.Web)
	}
}
