package mcpserver

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/batonhq/baton"
)

// TestToolSchemas: every tool takes and answers an object schema, the
// typed sets are enums, and the tool names are valid for MCP, OpenAI and
// Anthropic alike.
func TestToolSchemas(t *testing.T) {
	t.Parallel()
	ts := NewTools(nil, nil)
	for _, o := range ts.list {
		if o.Input.Type != "object" || o.Output.Type != "object" {
			t.Errorf("%s: input %q, output %q; want object schemas", o.Name, o.Input.Type, o.Output.Type)
		}
		if _, err := o.Input.Resolve(nil); err != nil {
			t.Errorf("%s: input schema: %v", o.Name, err)
		}
		if _, err := o.Output.Resolve(nil); err != nil {
			t.Errorf("%s: output schema: %v", o.Name, err)
		}
		if !slices.Contains(o.Output.Required, "instruction") {
			t.Errorf("%s: the instruction is not a required result", o.Name)
		}
	}
	outcome := ts.byName[RequestHandoff].Output.Properties["outcome"].Enum
	if want := []any{Queued, NeedsEmail, OutOfHours, DeskUnavailable, Requested, Active}; !slices.Equal(outcome, want) {
		t.Errorf("outcomes %v, want %v", outcome, want)
	}
	if req := ts.byName[RequestHandoff].Input.Required; !slices.Equal(req, []string{"conversation_id", "customer", "question"}) {
		t.Errorf("request_human_handoff requires %v", req)
	}
}

// TestDecodeArgs: arguments that are not the tool's are refused naming
// the argument; nothing at all is an empty object.
func TestDecodeArgs(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		args, field string
	}{
		{`{"conversation_id": 5}`, "conversation_id"},
		{`{"customer": {"id": true}}`, "customer.id"},
		{`{"history": [{"author": "customer", "text": 3}]}`, "history[0].text"},
		{`{"history": [{"author": "bot", "text": "a"}, {"author": "customer", "text": "b", "extra": 1}]}`, "history[1].extra"},
		{`{"history": ["hi"]}`, "history[0]"},
		{`{"customer": {"id": "c", "phone": "1"}}`, "customer.phone"},
		{`{"customer": {"id": "c\u0000"}}`, "customer.id"},
		{`{"conversation_id": "c\ud800"}`, "conversation_id"},
		{"{\"question\": \"bad \xff\"}", "question"},
		{`{"colour": "red"}`, "colour"},
		{`[1, 2]`, "arguments"},
		{`{"question": "a"} {}`, "arguments"},
		{`{`, "arguments"},
	} {
		var in RequestInput
		err := decodeArgs(json.RawMessage(c.args), &in)
		if baton.ErrorCode(err) != baton.EINVALID || baton.ErrorField(err) != c.field {
			t.Errorf("%s: %v, want invalid naming %s", c.args, err, c.field)
		}
	}
	for args, want := range map[string]string{
		`{"history": ["hi"]}`:                         "history[0]: must be an object, not a string",
		`{"conversation_id": 1.5}`:                    "conversation_id: must be a string, not a number",
		`{"history": [{"author": "bot", "text": 2}]}`: "history[0].text: must be a string, not a number",
	} {
		var in RequestInput
		if got := Message(decodeArgs(json.RawMessage(args), &in)); got != want {
			t.Errorf("%s: %q, want %q", args, got, want)
		}
	}
	var get GetInput
	if got := Message(decodeArgs(json.RawMessage(`{"after": 1.5}`), &get)); got != "after: must be a whole number, not 1.5" {
		t.Errorf("after 1.5: %q", got)
	}
	for _, empty := range []string{"", "null", " "} {
		var in GetInput
		if err := decodeArgs(json.RawMessage(empty), &in); err != nil {
			t.Errorf("%q: %v, want none", empty, err)
		}
	}
}

// TestDefinitions: each format's shape, and another format refused.
func TestDefinitions(t *testing.T) {
	t.Parallel()
	ts := NewTools(nil, nil)
	tools := make([]Tool, len(ts.list))
	for i, o := range ts.list {
		tools[i] = *o
	}
	o, err := Definitions(tools, FormatOpenAI)
	if err != nil || len(o.([]OpenAITool)) != len(tools) || o.([]OpenAITool)[0].Type != "function" {
		t.Errorf("openai: %v, %v", o, err)
	}
	a, err := Definitions(tools, FormatAnthropic)
	if err != nil || a.([]AnthropicTool)[1].InputSchema != ts.byName[RequestHandoff].Input {
		t.Errorf("anthropic: %v, %v", a, err)
	}
	if _, err := Definitions(tools, "gemini"); baton.ErrorField(err) != "format" {
		t.Errorf("gemini: %v, want an error naming format", err)
	}
}

// TestMinutes: a wait in words.
func TestMinutes(t *testing.T) {
	t.Parallel()
	for s, want := range map[int64]string{0: "a minute", 45: "a minute", 61: "2 minutes", 600: "10 minutes"} {
		if got := minutes(s); got != want {
			t.Errorf("minutes(%d) = %q, want %q", s, got, want)
		}
	}
}
