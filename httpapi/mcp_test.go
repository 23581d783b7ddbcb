package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/webhookdesk"
)

// The MCP server and the function-calling tools, driven through a whole
// Baton: the SDK's own client on /mcp, and plain HTTP on /v1/tools.

const trigger = "Hand off when the customer asks about a refund."

// bearerTransport adds a bearer key to every request.
type bearerTransport struct {
	key  string
	next http.RoundTripper
}

func (b bearerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.key)
	return b.next.RoundTrip(r)
}

// mcpClient connects the SDK's client to the fixture's /mcp with key.
func (f *fixture) mcpClient(t *testing.T, key, query string) (*mcp.ClientSession, error) {
	t.Helper()
	c := mcp.NewClient(&mcp.Implementation{Name: "test-agent", Version: "1"}, nil)
	tr := &mcp.StreamableClientTransport{Endpoint: f.srv.URL + "/mcp" + query, MaxRetries: -1,
		HTTPClient: &http.Client{Transport: bearerTransport{key: key, next: f.client.Transport}, Timeout: defaultTimeout}}
	cs, err := c.Connect(t.Context(), tr, nil)
	if err == nil {
		t.Cleanup(func() { cs.Close() })
	}
	return cs, err
}

// toolRun calls tools on one session, checking each structured result
// against the output schema the server listed for its tool.
type toolRun struct {
	t      *testing.T
	cs     *mcp.ClientSession
	output map[string]*jsonschema.Resolved
	tools  []*mcp.Tool
}

// toolRun connects with key1 and lists the tools.
func (f *fixture) toolRun(t *testing.T) *toolRun {
	t.Helper()
	cs, err := f.mcpClient(t, key1, "")
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	return newToolRun(t, cs)
}

func newToolRun(t *testing.T, cs *mcp.ClientSession) *toolRun {
	t.Helper()
	list, err := cs.ListTools(t.Context(), nil)
	if err != nil {
		t.Fatalf("tools/list: %v", err)
	}
	r := &toolRun{t: t, cs: cs, output: map[string]*jsonschema.Resolved{}, tools: list.Tools}
	for _, tool := range list.Tools {
		if tool.OutputSchema == nil {
			t.Errorf("tool %s has no output schema", tool.Name)
			continue
		}
		r.output[tool.Name] = resolve(t, tool.OutputSchema)
		if s := resolve(t, tool.InputSchema).Schema(); s.Type != "object" {
			t.Errorf("tool %s: input schema of type %q, want object", tool.Name, s.Type)
		}
	}
	return r
}

// resolve reads a schema the client got as JSON and resolves it.
func resolve(t *testing.T, v any) *jsonschema.Resolved {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var s jsonschema.Schema
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("schema %s: %v", b, err)
	}
	rs, err := s.Resolve(nil)
	if err != nil {
		t.Fatalf("resolving %s: %v", b, err)
	}
	return rs
}

// call runs a tool that must succeed and returns its structured result.
func (r *toolRun) call(name string, args any) map[string]any {
	r.t.Helper()
	res, err := r.cs.CallTool(r.t.Context(), &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		r.t.Fatalf("%s: transport error %v", name, err)
	}
	if res.IsError {
		r.t.Fatalf("%s(%v): tool error %s", name, args, text(res))
	}
	b, err := json.Marshal(res.StructuredContent)
	if err != nil {
		r.t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		r.t.Fatalf("%s: structured content %s: %v", name, b, err)
	}
	if err := r.output[name].Validate(out); err != nil {
		r.t.Errorf("%s: result %s breaks its output schema: %v", name, b, err)
	}
	var fromText map[string]any
	if err := json.Unmarshal([]byte(text(res)), &fromText); err != nil || !reflect.DeepEqual(fromText, out) {
		r.t.Errorf("%s: text content %q is not the structured result %s", name, text(res), b)
	}
	return out
}

// fail runs a tool that must fail as a tool error naming field.
func (r *toolRun) fail(name string, args any, field string) string {
	r.t.Helper()
	res, err := r.cs.CallTool(r.t.Context(), &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		r.t.Fatalf("%s: transport error %v, want a tool error", name, err)
	}
	msg := text(res)
	if !res.IsError || !strings.HasPrefix(msg, field+": ") {
		r.t.Errorf("%s(%v): isError %v %q, want a tool error naming %s", name, args, res.IsError, msg, field)
	}
	return msg
}

func text(res *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

// TestMCPHandoffFlow walks the seeds' flow through the SDK's client:
// availability, a request that needs the email, the email, the queue, an
// inbox agent's replies read through get_handoff with a cursor, and the
// end; retried calls act once.
func TestMCPHandoffFlow(t *testing.T) {
	t.Parallel()
	for _, store := range stores {
		t.Run(store, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, withStore(store))
			a := &adminRun{f: f}
			must[map[string]any](t, a.do("PUT", adm+ws1+"/desks/"+inboxDesk+"/policy", map[string]any{"require_email": true, "trigger_description": trigger}), 200)
			// Ada uses the inbox: she is online.
			must[map[string]any](t, f.do(req{method: "GET", path: "/v1/inbox/handoffs", key: agentKey1}), 200)

			cs, err := f.mcpClient(t, key1, "")
			if err != nil {
				t.Fatalf("connect: %v", err)
			}
			run := newToolRun(t, cs)
			names := map[string]string{}
			for _, tool := range run.tools {
				names[tool.Name] = tool.Description
			}
			for _, n := range []string{"check_human_availability", "request_human_handoff", "provide_customer_email", "send_to_human", "get_handoff", "end_human_handoff"} {
				if _, ok := names[n]; !ok {
					t.Errorf("tool %s not listed", n)
				}
			}
			if names["request_human_handoff"] != trigger {
				t.Errorf("request_human_handoff described %q, want the desk's trigger description", names["request_human_handoff"])
			}

			av := run.call("check_human_availability", map[string]any{})
			if av["open_now"] != true || av["agents_online"] != float64(1) || av["queue_length"] != float64(0) || av["desk_id"] != inboxDesk {
				t.Errorf("availability %v, want open, one agent online, nobody queued", av)
			}

			ask := map[string]any{"conversation_id": "conv-mcp", "customer": map[string]any{"id": "cus-1", "name": "Zoe"},
				"history":  []map[string]any{{"author": "customer", "text": "Hi"}, {"author": "bot", "text": "Hello! How can I help?"}},
				"question": "I want a refund for order 42."}
			out := run.call("request_human_handoff", ask)
			id, _ := out["handoff_id"].(string)
			if out["outcome"] != "needs_email" || id == "" || !strings.Contains(out["instruction"].(string), "provide_customer_email") {
				t.Fatalf("request: %v, want needs_email with a handoff and the instruction to call provide_customer_email", out)
			}
			if again := run.call("request_human_handoff", ask); again["handoff_id"] != id || again["outcome"] != "needs_email" {
				t.Errorf("retried request: %v, want the same handoff %s", again, id)
			}
			run.fail("provide_customer_email", map[string]any{"handoff_id": id, "email": "not-an-email"}, "email")

			out = run.call("provide_customer_email", map[string]any{"handoff_id": id, "email": "zoe@example.com"})
			if out["outcome"] != "queued" || out["position"] != float64(1) || out["handoff_id"] != id ||
				!strings.Contains(out["instruction"].(string), "do not answer the customer yourself") {
				t.Fatalf("email: %v, want queued at position 1 with the instruction to stay silent", out)
			}
			if again := run.call("provide_customer_email", map[string]any{"handoff_id": id, "email": "zoe@example.com"}); again["outcome"] != "queued" {
				t.Errorf("retried email: %v, want queued again", again)
			}

			var st map[string]any
			if !f.afterJobs(func() bool {
				st = run.call("get_handoff", map[string]any{"handoff_id": id})
				return st["state"] == "queued"
			}) {
				t.Fatalf("the handoff was never queued: %v", st)
			}
			if st["position"] != float64(1) || len(st["messages"].([]any)) != 0 {
				t.Errorf("queued handoff %v, want position 1 and no agent message", st)
			}

			ada, err := f.eng.AuthenticateAgent(context.Background(), agentKey1)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.eng.Claim(context.Background(), ada, id); err != nil {
				t.Fatalf("claim: %v", err)
			}
			if _, err := f.eng.Reply(context.Background(), ada, id, "Hello Zoe, I am looking at order 42.", nil); err != nil {
				t.Fatalf("reply: %v", err)
			}
			sent := run.call("send_to_human", map[string]any{"handoff_id": id, "text": "Thank you!"})
			if again := run.call("send_to_human", map[string]any{"handoff_id": id, "text": "Thank you!"}); again["message_id"] != sent["message_id"] {
				t.Errorf("retried send: message %v, want the same %v", again["message_id"], sent["message_id"])
			}

			st = run.call("get_handoff", map[string]any{"handoff_id": id})
			msgs := st["messages"].([]any)
			if st["state"] != "active" || st["agent_name"] != agentAdaName || len(msgs) != 1 ||
				msgs[0].(map[string]any)["text"] != "Hello Zoe, I am looking at order 42." {
				t.Fatalf("active handoff %v, want Ada's one reply", st)
			}
			cursor := st["cursor"]
			if st = run.call("get_handoff", map[string]any{"handoff_id": id, "after": cursor}); len(st["messages"].([]any)) != 0 {
				t.Errorf("after the cursor: %v, want no message", st)
			}
			if _, err := f.eng.Reply(context.Background(), ada, id, "Refund sent.", nil); err != nil {
				t.Fatalf("reply: %v", err)
			}
			st = run.call("get_handoff", map[string]any{"handoff_id": id, "after": cursor})
			if msgs = st["messages"].([]any); len(msgs) != 1 || msgs[0].(map[string]any)["text"] != "Refund sent." {
				t.Errorf("after the cursor: %v, want only the new reply", st)
			}

			end := run.call("end_human_handoff", map[string]any{"handoff_id": id, "reason": "customer_closed"})
			if end["state"] != "ended" || end["end_reason"] != "customer_closed" || !strings.Contains(end["instruction"].(string), "in charge of the conversation again") {
				t.Errorf("end: %v, want ended customer_closed and the bot back in charge", end)
			}
			if again := run.call("end_human_handoff", map[string]any{"handoff_id": id, "reason": "customer_closed"}); again["state"] != "ended" {
				t.Errorf("retried end: %v", again)
			}
			// The agent resumes with the human segment's summary.
			st = run.call("get_handoff", map[string]any{"handoff_id": id})
			if sum, _ := st["summary"].(string); !strings.Contains(sum, "Refund sent.") || sum != end["summary"] {
				t.Errorf("summary after the end %q (end answered %q), want the agent's last reply in it", sum, end["summary"])
			}

			// Each write acted once: one handoff, one "Thank you!".
			_, hs, err := f.eng.Conversation(context.Background(), ws1, "", "conv-mcp")
			if err != nil || len(hs) != 1 {
				t.Errorf("conversation: %d handoffs, %v; want 1", len(hs), err)
			}
			_, ms, err := f.eng.Transcript(context.Background(), ws1, id)
			if err != nil {
				t.Fatal(err)
			}
			thanks := 0
			for _, m := range ms {
				if m.Text == "Thank you!" {
					thanks++
				}
			}
			if thanks != 1 {
				t.Errorf("the customer's message is in the transcript %d times, want once", thanks)
			}
		})
	}
}

// TestMCPBadInput: mistakes are tool errors naming the argument; a key
// without MCP rights and a cross-origin request are refused before MCP.
func TestMCPBadInput(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	run := f.toolRun(t)
	other := must[wireHandoff](t, f.do(req{method: "POST", path: "/v1/handoffs", key: key2,
		body: map[string]any{"conversation_id": "theirs", "customer": map[string]any{"id": "x"}, "question": "hi"}}), 201)
	for _, c := range []struct {
		tool  string
		args  any
		field string
	}{
		{"request_human_handoff", map[string]any{"customer": map[string]any{"id": "c"}, "question": "help"}, "conversation_id"},
		{"request_human_handoff", map[string]any{"conversation_id": "c", "customer": map[string]any{"id": "c"}, "question": 5}, "question"},
		{"request_human_handoff", map[string]any{"conversation_id": "c", "customer": map[string]any{}, "question": "help"}, "customer.id"},
		{"request_human_handoff", map[string]any{"conversation_id": "c", "customer": map[string]any{"id": "c"}, "question": "help", "colour": "red"}, "colour"},
		{"request_human_handoff", map[string]any{"conversation_id": "c", "customer": map[string]any{"id": "c"}, "question": "help", "desk_id": "dk_nope"}, "desk_id"},
		{"get_handoff", map[string]any{}, "handoff_id"},
		{"get_handoff", map[string]any{"handoff_id": other.ID}, "handoff_id"},
		{"get_handoff", map[string]any{"handoff_id": "ho_x", "after": "soon"}, "after"},
		{"send_to_human", map[string]any{"handoff_id": other.ID, "text": "hi"}, "handoff_id"},
		{"end_human_handoff", map[string]any{"handoff_id": other.ID}, "handoff_id"},
		{"end_human_handoff", map[string]any{"handoff_id": "ho_x", "reason": "agent_closed"}, "reason"},
		{"provide_customer_email", map[string]any{"handoff_id": other.ID, "email": "a@b.example"}, "handoff_id"},
	} {
		run.fail(c.tool, c.args, c.field)
	}
	// An unlisted tool is the one protocol error (as documented).
	if _, err := run.cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "make_coffee", Arguments: map[string]any{}}); err == nil || !strings.Contains(err.Error(), `unknown tool "make_coffee"`) {
		t.Errorf("an unknown tool: %v, want the JSON-RPC error", err)
	}
	// The other workspace's conversation id names a conversation of this
	// workspace: a handoff of its own, the other's untouched.
	mine := run.call("request_human_handoff", map[string]any{"conversation_id": "theirs", "customer": map[string]any{"id": "x"}, "question": "hi"})
	if mine["outcome"] != "queued" || mine["handoff_id"] == other.ID {
		t.Errorf("a request with the other workspace's conversation id: %v, want a queued handoff of this workspace", mine)
	}
	run.fail("get_handoff", map[string]any{"handoff_id": other.ID}, "handoff_id")
	// Nothing of the other workspace moved.
	if h := must[wireHandoff](t, f.do(req{method: "GET", path: "/v1/handoffs/" + other.ID, key: key2}), 200); h.State == "ended" {
		t.Errorf("the other workspace's handoff was ended: %+v", h)
	}
	if _, hs, err := f.eng.Conversation(context.Background(), ws2, "", "theirs"); err != nil || len(hs) != 1 {
		t.Errorf("the other workspace's conversation: %d handoffs, %v; want its one", len(hs), err)
	}

	a := &adminRun{f: f}
	noMCP := must[map[string]any](t, a.do("POST", adm+ws1+"/keys", map[string]any{"name": "rest only", "scope": "bot"}), 201)["key"].(string)
	if _, err := f.mcpClient(t, noMCP, ""); err == nil {
		t.Error("a key of scope bot connected to /mcp")
	}
	initialize := `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}`
	wantProblem(t, f.do(req{method: "POST", path: "/mcp", key: noMCP, body: initialize}), 403, baton.EFORBIDDEN, "")
	wantProblem(t, f.do(req{method: "POST", path: "/v1/tools/get_handoff", key: noMCP, body: map[string]any{"handoff_id": "ho_x"}}), 403, baton.EFORBIDDEN, "")
	wantProblem(t, f.do(req{method: "POST", path: "/mcp", body: initialize, offSpec: true}), 401, baton.EUNAUTHORIZED, "")
	wantProblem(t, f.do(req{method: "POST", path: "/mcp", key: key1, body: initialize,
		header: map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}}), 403, baton.EFORBIDDEN, "")

	// A key for MCP alone reaches the tools but not the REST API.
	onlyMCP := must[map[string]any](t, a.do("POST", adm+ws1+"/keys", map[string]any{"name": "agent", "scope": "mcp"}), 201)["key"].(string)
	if _, err := f.mcpClient(t, onlyMCP, ""); err != nil {
		t.Errorf("a key of scope mcp: %v", err)
	}
	wantProblem(t, f.do(req{method: "GET", path: "/v1/handoffs/" + other.ID, key: onlyMCP}), 403, baton.EFORBIDDEN, "")
}

// TestToolsCallMatchesMCP: POST /v1/tools/{name} answers what MCP answers
// for the same arguments, results and mistakes alike.
func TestToolsCallMatchesMCP(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	run := f.toolRun(t)
	// A webhook desk without its URL cannot be used.
	if err := f.store.Tx(context.Background(), func(tx baton.Tx) error {
		return tx.PutDesk(baton.DeskConfig{ID: "dk_broken", WorkspaceID: ws1, Name: "Broken", Kind: baton.KindWebhook})
	}); err != nil {
		t.Fatal(err)
	}
	ask := func(cid, desk string) map[string]any {
		return map[string]any{"conversation_id": cid, "customer": map[string]any{"id": "cus-" + cid}, "question": "Can I talk to someone?", "desk_id": desk}
	}
	for _, c := range []struct {
		name, tool string
		args       map[string]any
		outcome    string // the result's outcome or state, "" for a mistake
		status     int    // REST's status for a mistake
		field      string
	}{
		{"queued", "request_human_handoff", ask("t-queued", inboxDesk), "queued", 200, ""},
		{"needs email", "request_human_handoff", ask("t-email", emailDesk), "needs_email", 200, ""},
		{"out of hours", "request_human_handoff", ask("t-closed", closedDesk), "out_of_hours", 200, ""},
		{"desk unavailable", "request_human_handoff", ask("t-broken", "dk_broken"), "desk_unavailable", 200, ""},
		{"availability", "check_human_availability", map[string]any{"desk_id": closedDesk}, "", 200, ""},
		{"no conversation", "request_human_handoff", map[string]any{"customer": map[string]any{"id": "c"}, "question": "q"}, "", 422, "conversation_id"},
		{"wrong type", "request_human_handoff", map[string]any{"conversation_id": 7, "customer": map[string]any{"id": "c"}, "question": "q"}, "", 422, "conversation_id"},
		{"unknown handoff", "get_handoff", map[string]any{"handoff_id": "ho_missing"}, "", 404, "handoff_id"},
		{"bad reason", "end_human_handoff", map[string]any{"handoff_id": "ho_missing", "reason": "later"}, "", 422, "reason"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := f.do(req{method: "POST", path: "/v1/tools/" + c.tool, key: key1, body: c.args, offSpec: c.field != ""})
			if c.field != "" {
				wantProblem(t, r, c.status, map[int]string{422: baton.EINVALID, 404: baton.ENOTFOUND}[c.status], c.field)
				run.fail(c.tool, c.args, c.field)
				return
			}
			rest := must[map[string]any](t, r, 200)
			viaMCP := run.call(c.tool, c.args)
			if c.outcome != "" && (rest["outcome"] != c.outcome || viaMCP["outcome"] != c.outcome) {
				t.Errorf("outcome: REST %v, MCP %v; want %s", rest["outcome"], viaMCP["outcome"], c.outcome)
			}
			// The second call is a retry of the first: the same result.
			a, _ := json.Marshal(rest)
			b, _ := json.Marshal(viaMCP)
			if string(a) != string(b) {
				t.Errorf("REST answered %s, MCP %s", a, b)
			}
			if c.outcome == "out_of_hours" && (rest["reply"] != closedReply || !strings.Contains(rest["instruction"].(string), closedReply)) {
				t.Errorf("out of hours: %v, want the desk's reply %q in the instruction", rest, closedReply)
			}
		})
	}
	wantProblem(t, f.do(req{method: "POST", path: "/v1/tools/make_coffee", key: key1, body: map[string]any{}, offSpec: true}), 404, baton.ENOTFOUND, "name")
}

// TestToolDefinitions checks the OpenAI and Anthropic definitions against
// their documented shapes and against the MCP tools they come from.
func TestToolDefinitions(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	run := f.toolRun(t)
	byName := map[string]*mcp.Tool{}
	for _, tool := range run.tools {
		byName[tool.Name] = tool
	}
	name := regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)
	check := func(format, n, desc string, params any) {
		t.Helper()
		tool, ok := byName[n]
		switch {
		case !name.MatchString(n):
			t.Errorf("%s: name %q does not match %s", format, n, name)
		case !ok:
			t.Errorf("%s: tool %q is not an MCP tool", format, n)
		case desc != tool.Description || desc == "":
			t.Errorf("%s: %s described %q, MCP %q", format, n, desc, tool.Description)
		}
		if s := resolve(t, params).Schema(); s.Type != "object" {
			t.Errorf("%s: %s's parameters are of type %q, want an object schema", format, n, s.Type)
		}
		a, _ := json.Marshal(params)
		b, _ := json.Marshal(tool.InputSchema)
		if string(a) != string(b) {
			t.Errorf("%s: %s's parameters %s, MCP's input schema %s", format, n, a, b)
		}
	}
	type openai struct {
		Format string `json:"format"`
		Tools  []struct {
			Type     string `json:"type"`
			Function struct {
				Name        string `json:"name"`
				Description string `json:"description"`
				Parameters  any    `json:"parameters"`
			} `json:"function"`
		} `json:"tools"`
	}
	o := must[openai](t, f.do(req{method: "GET", path: "/v1/tools?format=openai", key: key1}), 200)
	if len(o.Tools) != len(byName) {
		t.Errorf("openai: %d tools, MCP %d", len(o.Tools), len(byName))
	}
	for _, tool := range o.Tools {
		if tool.Type != "function" {
			t.Errorf("openai: type %q, want function", tool.Type)
		}
		check("openai", tool.Function.Name, tool.Function.Description, tool.Function.Parameters)
	}
	type anthropic struct {
		Tools []struct {
			Name        string `json:"name"`
			Description string `json:"description"`
			InputSchema any    `json:"input_schema"`
		} `json:"tools"`
	}
	an := must[anthropic](t, f.do(req{method: "GET", path: "/v1/tools?format=anthropic", key: key1}), 200)
	if len(an.Tools) != len(byName) {
		t.Errorf("anthropic: %d tools, MCP %d", len(an.Tools), len(byName))
	}
	for _, tool := range an.Tools {
		check("anthropic", tool.Name, tool.Description, tool.InputSchema)
	}
	wantProblem(t, f.do(req{method: "GET", path: "/v1/tools?format=gemini", key: key1}), 422, baton.EINVALID, "format")
	// The default description where the bot's policy sets none.
	if d := byName["request_human_handoff"].Description; d != baton.DefaultTriggerDescription {
		t.Errorf("request_human_handoff described %q, want the default", d)
	}
}

// onStores runs test on a fresh fixture of each store, in parallel, with
// an MCP session of key1.
func onStores(t *testing.T, test func(t *testing.T, f *fixture, run *toolRun)) {
	t.Helper()
	for _, store := range stores {
		t.Run(store, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, withStore(store))
			test(t, f, f.toolRun(t))
		})
	}
}

// refusingDesk adds to workspace one a webhook desk whose company service
// answers every call with status, and returns its id.
func (f *fixture) refusingDesk(t *testing.T, id string, status int) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	if err := f.store.Tx(context.Background(), func(tx baton.Tx) error {
		return tx.PutDesk(baton.DeskConfig{ID: id, WorkspaceID: ws1, Name: "Refusing", Kind: baton.KindWebhook, Status: baton.Available,
			Settings: map[string]string{webhookdesk.SettingURL: srv.URL, webhookdesk.SettingSecret: hookSecret}})
	}); err != nil {
		t.Fatal(err)
	}
	return id
}

// TestMCPOutcomeFollowsDesk: request_human_handoff answers what the desk
// did, not that it was asked: a desk that refuses (500, busy) is
// desk_unavailable, and a retry of that call answers the same handoff; a
// desk that takes it is queued, and the handoff can be claimed at once; a
// request for a conversation a person holds says so.
func TestMCPOutcomeFollowsDesk(t *testing.T) {
	t.Parallel()
	onStores(t, func(t *testing.T, f *fixture, run *toolRun) {
		busy := f.refusingDesk(t, "dk_busy", http.StatusInternalServerError)
		ask := map[string]any{"conversation_id": "conv-busy", "customer": map[string]any{"id": "cus-b"}, "question": "A person, please.", "desk_id": busy}
		out := run.call("request_human_handoff", ask)
		if out["outcome"] != "desk_unavailable" {
			t.Fatalf("a busy desk: %v, want desk_unavailable", out)
		}
		id, _ := out["handoff_id"].(string)
		if h := f.handoff(id); h.State != "ended" || h.EndReason != "desk_unavailable" {
			t.Errorf("the busy desk's handoff: %s %s, want ended desk_unavailable", h.State, h.EndReason)
		}
		if again := run.call("request_human_handoff", ask); again["outcome"] != "desk_unavailable" || again["handoff_id"] != id {
			t.Errorf("retried after the refusal: %v, want the first call's desk_unavailable %s", again, id)
		}
		if _, hs, err := f.eng.Conversation(context.Background(), ws1, "", "conv-busy"); err != nil || len(hs) != 1 {
			t.Errorf("conversation: %d handoffs, %v; want the one", len(hs), err)
		}

		out = run.call("request_human_handoff", map[string]any{"conversation_id": "conv-open", "customer": map[string]any{"id": "cus-o"}, "question": "Help"})
		id, _ = out["handoff_id"].(string)
		if out["outcome"] != "queued" || out["position"] != float64(1) {
			t.Fatalf("the inbox: %v, want queued at 1", out)
		}
		if h := f.handoff(id); h.State != "queued" {
			t.Errorf("answered queued while the handoff is %s", h.State)
		}
		ada, err := f.eng.AuthenticateAgent(context.Background(), agentKey1)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.eng.Claim(context.Background(), ada, id); err != nil {
			t.Fatalf("claim right after queued: %v", err)
		}
		held := run.call("request_human_handoff", map[string]any{"conversation_id": "conv-open", "customer": map[string]any{"id": "cus-o"}, "question": "Help again"})
		if held["outcome"] != "active" || held["handoff_id"] != id || held["agent_name"] != agentAdaName ||
			!strings.Contains(held["instruction"].(string), "Do not answer the customer yourself") {
			t.Errorf("a request while Ada holds the handoff: %v, want active with Ada", held)
		}
	})
}

// TestMCPHistoryAuthors: the model hands over its own and the customer's
// turns only, and get_handoff relays the person's messages of the human
// segment, never a history turn of the brief.
func TestMCPHistoryAuthors(t *testing.T) {
	t.Parallel()
	onStores(t, func(t *testing.T, f *fixture, run *toolRun) {
		forged := map[string]any{"conversation_id": "conv-forged", "customer": map[string]any{"id": "c"}, "question": "help",
			"history": []map[string]any{{"author": "customer", "text": "hi"}, {"author": "agent", "text": "forged agent"}}}
		run.fail("request_human_handoff", forged, "history[1].author")
		wantProblem(t, f.do(req{method: "POST", path: "/v1/tools/request_human_handoff", key: key1, body: forged, offSpec: true}), 422, baton.EINVALID, "history[1].author")
		if _, hs, _ := f.eng.Conversation(context.Background(), ws1, "", "conv-forged"); len(hs) != 0 {
			t.Errorf("a refused request made %d handoffs", len(hs))
		}

		// The REST API takes an earlier agent's turn in the history.
		h := must[wireHandoff](t, f.do(req{method: "POST", path: "/v1/handoffs", key: key1, body: map[string]any{
			"conversation_id": "conv-brief", "customer": map[string]any{"id": "c2"}, "question": "help",
			"history": []map[string]any{{"author": "agent", "text": "an earlier agent"}}}}), 201)
		st := run.call("get_handoff", map[string]any{"handoff_id": h.ID})
		if msgs := st["messages"].([]any); len(msgs) != 0 {
			t.Errorf("get_handoff relays %v, want no message: the history is not the person's", msgs)
		}
	})
}

// TestToolArgumentText: a string argument holding a NUL, invalid UTF-8 or
// a lone surrogate is refused naming the argument, over /v1/tools and
// /mcp alike, and nothing is stored changed.
func TestToolArgumentText(t *testing.T) {
	t.Parallel()
	onStores(t, func(t *testing.T, f *fixture, run *toolRun) {
		open := run.call("request_human_handoff", map[string]any{"conversation_id": "conv-text", "customer": map[string]any{"id": "c"}, "question": "help"})
		id := open["handoff_id"].(string)
		before := f.snapshot()
		for _, c := range []struct{ tool, args, field string }{
			{"request_human_handoff", `{"conversation_id": "x", "customer": {"id": "a\u0000b"}, "question": "q"}`, "customer.id"},
			{"request_human_handoff", `{"conversation_id": "x\u0000", "customer": {"id": "a"}, "question": "q"}`, "conversation_id"},
			{"request_human_handoff", `{"conversation_id": "x", "customer": {"id": "a", "name": "Z\u0000"}, "question": "q"}`, "customer.name"},
			{"send_to_human", `{"handoff_id": "` + id + `", "text": "lone \ud800"}`, "text"},
			{"send_to_human", "{\"handoff_id\": \"" + id + "\", \"text\": \"bad \xff bytes\"}", "text"},
			{"send_to_human", `{"handoff_id": "` + id + `", "text": "nul \u0000"}`, "text"},
			{"provide_customer_email", `{"handoff_id": "` + id + `", "email": "a@b.example"}`, "handoff_id"},
		} {
			r := f.do(req{method: "POST", path: "/v1/tools/" + c.tool, key: key1, body: c.args, offSpec: true})
			if r.status == 409 {
				wantProblem(t, r, 409, baton.ECONFLICT, c.field)
			} else {
				wantProblem(t, r, 422, baton.EINVALID, c.field)
			}
			// The same arguments as sent, in a JSON-RPC call to /mcp.
			rpc := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"` + c.tool + `","arguments":` + c.args + `}}`
			r = f.do(req{method: "POST", path: "/mcp", key: key1, body: rpc, offSpec: true,
				header: map[string]string{"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}})
			var out struct {
				Result *mcp.CallToolResult `json:"result"`
			}
			if err := json.Unmarshal(r.body, &out); err != nil || out.Result == nil {
				t.Errorf("%s over /mcp: %d %s", c.tool, r.status, r.body)
				continue
			}
			if msg := text(out.Result); !out.Result.IsError || !strings.HasPrefix(msg, c.field+": ") {
				t.Errorf("%s %s over /mcp: %q, want a tool error naming %s", c.tool, c.args, msg, c.field)
			}
		}
		if after := f.snapshot(); after != before {
			t.Errorf("refused calls changed the store:\n%s\nwas\n%s", after, before)
		}
	})
}

// TestMCPAvailabilityInstruction: the instruction of check_human_availability
// follows the desk's status: a desk set up without what it needs, or one
// failing, is not offered as a person who can take over.
func TestMCPAvailabilityInstruction(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	run := f.toolRun(t)
	if err := f.store.Tx(context.Background(), func(tx baton.Tx) error {
		if err := tx.PutDesk(baton.DeskConfig{ID: "dk_unset", WorkspaceID: ws1, Name: "Unset", Kind: baton.KindWebhook,
			Status: baton.NotConfigured, LastError: "url: is required"}); err != nil {
			return err
		}
		return tx.PutDesk(baton.DeskConfig{ID: "dk_down", WorkspaceID: ws1, Name: "Down", Kind: baton.KindWebhook, Status: baton.Unavailable,
			Settings: map[string]string{webhookdesk.SettingURL: f.company.srv.URL, webhookdesk.SettingSecret: hookSecret}})
	}); err != nil {
		t.Fatal(err)
	}
	for desk, status := range map[string]string{"dk_unset": "not_configured", "dk_down": "unavailable", emailDesk: "not_configured"} {
		out := run.call("check_human_availability", map[string]any{"desk_id": desk})
		in := out["instruction"].(string)
		if out["status"] != status || strings.Contains(in, "A person can take over now") || !strings.Contains(in, "person") {
			t.Errorf("%s: %v, want status %s and no promise of a person", desk, out, status)
		}
	}
	must[map[string]any](t, f.do(req{method: "GET", path: "/v1/inbox/handoffs", key: agentKey1}), 200) // Ada is online
	if out := run.call("check_human_availability", map[string]any{"desk_id": inboxDesk}); !strings.HasPrefix(out["instruction"].(string), "A person can take over now") {
		t.Errorf("an available open desk: %v", out)
	}
}

// TestMCPURLBotAndDesk: the bot and desk a tools or MCP URL names must be
// the workspace's (404 naming them, as /v1/availability answers), and an
// MCP URL's bot and desk are the calls' defaults, the arguments winning.
func TestMCPURLBotAndDesk(t *testing.T) {
	t.Parallel()
	onStores(t, func(t *testing.T, f *fixture, run *toolRun) {
		for path, field := range map[string]string{
			"/v1/tools?bot_id=nope":                  "bot_id",
			"/v1/tools?desk_id=nope":                 "desk_id",
			"/v1/tools?desk_id=" + inboxDesk2:        "desk_id",
			"/v1/availability?bot_id=nope":           "bot_id",
			"/v1/availability?desk_id=nope":          "desk_id",
			"/v1/availability?desk_id=" + inboxDesk2: "desk_id",
		} {
			wantProblem(t, f.do(req{method: "GET", path: path, key: key1, offSpec: true}), 404, baton.ENOTFOUND, field)
		}
		list := `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}`
		for path, field := range map[string]string{"/mcp?bot_id=nope": "bot_id", "/mcp?desk_id=nope": "desk_id"} {
			wantProblem(t, f.do(req{method: "POST", path: path, key: key1, body: list, offSpec: true,
				header: map[string]string{"Accept": "application/json, text/event-stream"}}), 404, baton.ENOTFOUND, field)
		}

		// A second bot: calls must say which, unless the URL does.
		if err := f.store.Tx(context.Background(), func(tx baton.Tx) error {
			return tx.PutBot(baton.Bot{ID: "bot_helper", WorkspaceID: ws1, Name: "Helper", DeskID: hookDesk})
		}); err != nil {
			t.Fatal(err)
		}
		cs, err := f.mcpClient(t, key1, "?bot_id="+bot1+"&desk_id="+closedDesk)
		if err != nil {
			t.Fatal(err)
		}
		run = newToolRun(t, cs)
		if av := run.call("check_human_availability", map[string]any{}); av["desk_id"] != closedDesk {
			t.Errorf("availability with the URL's bot and desk: %v, want %s", av, closedDesk)
		}
		if av := run.call("check_human_availability", map[string]any{"desk_id": inboxDesk}); av["desk_id"] != inboxDesk {
			t.Errorf("the argument's desk: %v, want %s", av, inboxDesk)
		}
		out := run.call("request_human_handoff", map[string]any{"conversation_id": "conv-url", "customer": map[string]any{"id": "c"}, "question": "help"})
		if out["outcome"] != "out_of_hours" {
			t.Errorf("a request on the URL's closed desk: %v, want out_of_hours", out)
		}
		if h := f.handoff(out["handoff_id"].(string)); h.BotID != bot1 || h.DeskID != closedDesk {
			t.Errorf("handoff of bot %s on desk %s, want %s on %s", h.BotID, h.DeskID, bot1, closedDesk)
		}
		if av := run.call("check_human_availability", map[string]any{"bot_id": "bot_helper"}); av["desk_id"] != hookDesk {
			t.Errorf("another bot named in the arguments: %v, want its desk %s", av, hookDesk)
		}
	})
}
