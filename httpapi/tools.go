package httpapi

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/mcpserver"
)

// The LLM agents' routes: the MCP server at /mcp (package mcpserver) and
// the same tools for function calling, defined by GET /v1/tools and run by
// POST /v1/tools/{name}.

// handleTools lists the tools in a function-calling format (format=openai,
// the default, or anthropic), request_human_handoff described by the
// trigger description of the bot and desk the query names.
func handleTools(log *slog.Logger, tools *mcpserver.Tools) http.Handler {
	type response struct {
		Format string `json:"format"`
		Tools  any    `json:"tools"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		format := r.URL.Query().Get("format")
		if format == "" {
			format = mcpserver.FormatOpenAI
		}
		list, err := tools.List(r.Context(), workspace(r.Context()), deskQuery(r))
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		defs, err := mcpserver.Definitions(list, format)
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		encode(w, http.StatusOK, response{Format: format, Tools: defs})
	})
}

// handleCallTool runs a tool with the arguments a model gave (the body, a
// JSON object) and answers its structured result, as MCP's tools/call
// does; a mistake in the arguments is a problem naming the argument. A
// retried call does not act twice (the tools make their own idempotency
// keys; an Idempotency-Key header is not needed).
func handleCallTool(log *slog.Logger, tools *mcpserver.Tools) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, err := readBody(r)
		if err == nil && len(bytes.TrimSpace(data)) > 0 {
			err = jsonType(r.Header.Get("Content-Type"))
		}
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		out, err := tools.Call(r.Context(), workspace(r.Context()), r.PathValue("name"), json.RawMessage(data))
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		encode(w, http.StatusOK, out)
	})
}

// crossOrigin refuses a browser's cross-origin write (http.CrossOriginProtection:
// Sec-Fetch-Site or an Origin that is not the Host) with a 403 problem.
func crossOrigin(log *slog.Logger, next http.Handler) http.Handler {
	p := http.NewCrossOriginProtection()
	p.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		encodeError(w, r, log, baton.Errorf(baton.EFORBIDDEN, "cross-origin request refused: the MCP server takes requests from agents, not from other sites' pages"))
	}))
	return p.Handler(next)
}
