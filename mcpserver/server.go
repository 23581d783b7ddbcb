package mcpserver

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/engine"
)

// Params build the MCP handler.
type Params struct {
	Tools *Tools
	Log   *slog.Logger
	// Workspace returns the workspace the request authenticated as: the
	// handler runs behind the bot API's key check, which also scopes the
	// request's context to the key's bot.
	Workspace func(context.Context) string
	// Version is Baton's version, for the server's implementation info.
	Version string
	// Refuse answers a request whose URL names a bot or desk the
	// workspace lacks (err is ENOTFOUND naming bot_id or desk_id).
	Refuse func(w http.ResponseWriter, r *http.Request, err error)
}

// Handler returns the MCP endpoint: streamable HTTP, stateless (no
// session: any instance behind a load balancer answers any request). Each
// request gets a server of its own, whose tools act for the request's
// workspace and bot, and whose request_human_handoff carries the trigger
// description of the bot (and desk) that the bot_id and desk_id query
// parameters name, the key's bot or the workspace's only bot by default;
// they are also the bot and desk of calls whose arguments name none. A
// bot or desk the workspace lacks is refused by p.Refuse.
func Handler(p Params) http.Handler {
	if p.Log == nil {
		p.Log = slog.New(slog.DiscardHandler)
	}
	if p.Version == "" {
		p.Version = "dev"
	}
	if p.Refuse == nil {
		p.Refuse = func(w http.ResponseWriter, _ *http.Request, err error) {
			http.Error(w, Message(err), http.StatusNotFound)
		}
	}
	sdk := slog.New(quiet{p.Log.Handler()})
	h := mcp.NewStreamableHTTPHandler(func(r *http.Request) *mcp.Server {
		return server(p, sdk, r)
	}, &mcp.StreamableHTTPOptions{Stateless: true, JSONResponse: true, Logger: sdk})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A bot or desk the URL names that the workspace lacks is the
		// caller's mistake, answered before MCP.
		if _, err := p.Tools.List(r.Context(), p.Workspace(r.Context()), query(r)); err != nil {
			p.Refuse(w, r, err)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// query is the bot and desk an MCP URL names.
func query(r *http.Request) engine.DeskQuery {
	return engine.DeskQuery{BotID: r.URL.Query().Get("bot_id"), DeskID: r.URL.Query().Get("desk_id")}
}

// quiet passes on the SDK's warnings and errors only: it logs every
// stateless request's short-lived session at info level.
type quiet struct{ slog.Handler }

func (q quiet) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn && q.Handler.Enabled(ctx, l)
}

func (q quiet) WithAttrs(as []slog.Attr) slog.Handler { return quiet{q.Handler.WithAttrs(as)} }

func (q quiet) WithGroup(name string) slog.Handler { return quiet{q.Handler.WithGroup(name)} }

// server is the MCP server of one request.
func server(p Params, sdk *slog.Logger, r *http.Request) *mcp.Server {
	// The request's context carries the key's bot scope; the calls run
	// within the request (stateless), so its context is theirs.
	// The URL's bot and desk are the calls' defaults.
	q := query(r)
	ctx := WithDefaults(r.Context(), q)
	ws := p.Workspace(ctx)
	s := mcp.NewServer(&mcp.Implementation{Name: "baton", Title: "Baton human handoff", Version: p.Version}, &mcp.ServerOptions{Logger: sdk,
		Instructions: "Baton hands a conversation to a person on the support team and back. Each tool result has an instruction: follow it exactly."})
	tools, _ := p.Tools.List(ctx, ws, q) // checked by Handler
	for _, t := range tools {
		tool := &mcp.Tool{Name: t.Name, Description: t.Description, InputSchema: t.Input, OutputSchema: t.Output,
			Annotations: &mcp.ToolAnnotations{ReadOnlyHint: t.ReadOnly, IdempotentHint: true, OpenWorldHint: new(bool)}}
		s.AddTool(tool, func(_ context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			out, err := p.Tools.Call(ctx, ws, t.Name, req.Params.Arguments)
			return result(p.Log, t.Name, out, err), nil
		})
	}
	return s
}

// result is a call's answer: the structured result with its JSON as text,
// or a tool error whose text names the argument at fault.
func result(log *slog.Logger, name string, out any, err error) *mcp.CallToolResult {
	if err != nil {
		var res mcp.CallToolResult
		res.IsError = true
		res.Content = []mcp.Content{&mcp.TextContent{Text: Message(err)}}
		if baton.ErrorCode(err) == baton.EINTERNAL {
			log.Error("mcp tool call failed", "tool", name, "err", err)
		}
		return &res
	}
	b, err := json.Marshal(out)
	if err != nil { // this package's types always marshal
		return result(log, name, nil, err)
	}
	return &mcp.CallToolResult{StructuredContent: json.RawMessage(b), Content: []mcp.Content{&mcp.TextContent{Text: string(b)}}}
}

// Message is the text of a tool error for the model: the argument at
// fault and what is wrong with it; an internal failure says only that.
func Message(err error) string {
	switch code, field := baton.ErrorCode(err), baton.ErrorField(err); {
	case code == baton.EINTERNAL:
		return "Baton failed to run the tool (an internal error): try again in a moment."
	case field != "":
		return field + ": " + baton.ErrorMessage(err)
	}
	return baton.ErrorMessage(err)
}
