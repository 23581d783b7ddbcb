package mcpserver

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/engine"
	"github.com/batonhq/baton/internal/jsoncheck"
	"github.com/batonhq/baton/internal/jsonpath"
)

// Tool is one tool: what MCP lists and function calling defines, and the
// code that runs a call of it.
type Tool struct {
	Name        string
	Description string
	Input       *jsonschema.Schema // an object schema: the arguments
	Output      *jsonschema.Schema // an object schema: the structured result
	ReadOnly    bool               // it changes nothing
	run         func(ctx context.Context, t *Tools, ws string, args json.RawMessage) (any, error)
}

// Changes subscribes to the changes of a workspace: the channel gets a
// signal when one of its handoffs may have moved, until stop is called.
// hub.Hub's Subscribe is one.
type Changes func(ws string) (signal <-chan struct{}, stop func())

// Tools is the tool set over an engine. Create it with NewTools.
type Tools struct {
	eng     *engine.Engine
	changes Changes // nil: settle reads again on a ticker only
	list    []*Tool
	byName  map[string]*Tool
}

// NewTools returns the tool set over eng. A handoff request waits for its
// desk's answer, woken by changes (nil: it reads again now and then).
func NewTools(eng *engine.Engine, changes Changes) *Tools {
	t := &Tools{eng: eng, changes: changes, byName: map[string]*Tool{}}
	t.list = []*Tool{
		define(CheckAvailability, "Check whether a person could take the conversation now, before offering one: the desk's status, whether it is open, when it opens next, agents online where the desk can tell, the queue's length and the estimated wait.",
			true, (*Tools).availability),
		define(RequestHandoff, baton.DefaultTriggerDescription, false, (*Tools).request),
		define(ProvideEmail, "Give a handoff that answered needs_email the email address the customer just gave you; the answer is the handoff's outcome, as request_human_handoff's.",
			false, (*Tools).provideEmail),
		define(SendToHuman, "Pass a message the customer wrote on to the person while a handoff is open. Use it for every customer message until the handoff ends; do not answer the customer yourself.",
			false, (*Tools).send),
		define(GetHandoff, "Read where a handoff stands (waiting, with a person, ended), the person's name and their new messages to the customer since a cursor. Call it again now and then while the handoff is open to relay the person's replies.",
			true, (*Tools).get),
		define(EndHandoff, "End a handoff from your side: the customer is done with the person, or asks to go back to you.",
			false, (*Tools).end),
	}
	enum(t.list[0].Output, "status", string(baton.NotConfigured), string(baton.Available), string(baton.Unavailable))
	enum(t.list[1].Input, "history.author", string(baton.ByCustomer), string(baton.ByBot))
	for _, o := range t.list[1:3] {
		enum(o.Output, "outcome", Queued, NeedsEmail, OutOfHours, DeskUnavailable, Requested, Active)
	}
	for _, o := range []*Tool{t.list[4], t.list[5]} {
		enum(o.Output, "state", string(baton.Requested), string(baton.Queued), string(baton.Active), string(baton.Ended))
	}
	enum(t.list[5].Input, "reason", string(baton.BotClosed), string(baton.CustomerClosed))
	for _, o := range t.list {
		t.byName[o.Name] = o
	}
	return t
}

// List returns the tools, the handoff request's description being the
// trigger description of the bot and desk q names (the default when the
// workspace has several bots and q names none). A bot or desk q names
// that the workspace lacks is ENOTFOUND naming bot_id or desk_id.
func (t *Tools) List(ctx context.Context, ws string, q engine.DeskQuery) ([]Tool, error) {
	trigger, err := t.eng.Trigger(ctx, ws, q)
	switch {
	case baton.ErrorCode(err) == baton.ENOTFOUND, baton.ErrorCode(err) == baton.EINTERNAL:
		return nil, err
	case err != nil || trigger == "":
		trigger = baton.DefaultTriggerDescription
	}
	out := make([]Tool, len(t.list))
	for i, o := range t.list {
		out[i] = *o
		if o.Name == RequestHandoff {
			out[i].Description = trigger
		}
	}
	return out, nil
}

// defaultsKey is the context key of the bot and desk a call takes when
// its arguments name none.
type defaultsKey struct{}

// WithDefaults returns ctx whose tool calls take the bot and desk q names
// where their arguments name none (an MCP URL's bot_id and desk_id); the
// desk only for the same bot or none named.
func WithDefaults(ctx context.Context, q engine.DeskQuery) context.Context {
	return context.WithValue(ctx, defaultsKey{}, q)
}

// defaults fills in a call's bot and desk from ctx's defaults.
func defaults(ctx context.Context, bot, desk *string) {
	q, _ := ctx.Value(defaultsKey{}).(engine.DeskQuery)
	if *bot != "" && *bot != q.BotID {
		return
	}
	*bot = q.BotID
	if *desk == "" {
		*desk = q.DeskID
	}
}

// Call runs the tool name with its arguments (a JSON object) for the
// workspace ws, and returns its structured result. An unknown tool is
// ENOTFOUND naming "name"; arguments that are not what the tool takes are
// EINVALID naming the argument.
func (t *Tools) Call(ctx context.Context, ws, name string, args json.RawMessage) (any, error) {
	o, ok := t.byName[name]
	if !ok {
		return nil, &baton.Error{Code: baton.ENOTFOUND, Field: "name", Message: fmt.Sprintf("no tool %q: the tools are %s", name, strings.Join(t.names(), ", "))}
	}
	return o.run(ctx, t, ws, args)
}

func (t *Tools) names() []string {
	out := make([]string, len(t.list))
	for i, o := range t.list {
		out[i] = o.Name
	}
	return out
}

// define makes a tool of a typed function: its schemas inferred from In and
// Out, its arguments decoded strictly into In.
func define[In, Out any](name, desc string, readOnly bool, run func(*Tools, context.Context, string, In) (Out, error)) *Tool {
	return &Tool{Name: name, Description: desc, ReadOnly: readOnly, Input: schemaFor[In](), Output: schemaFor[Out](),
		run: func(ctx context.Context, t *Tools, ws string, args json.RawMessage) (any, error) {
			var in In
			if err := decodeArgs(args, &in); err != nil {
				return nil, err
			}
			return run(t, ctx, ws, in)
		}}
}

// schemaFor infers T's schema; the types are this package's own, so a
// failure is a mistake in them, found by any test.
func schemaFor[T any]() *jsonschema.Schema {
	s, err := jsonschema.For[T](nil)
	if err != nil {
		panic(fmt.Sprintf("mcpserver: schema of %T: %v", *new(T), err))
	}
	return s
}

// enum restricts the string property at path (dots go into objects and
// array items) to values.
func enum(s *jsonschema.Schema, path string, values ...string) {
	for _, name := range strings.Split(path, ".") {
		if s.Items != nil {
			s = s.Items
		}
		s = s.Properties[name]
	}
	s.Enum = make([]any, len(values))
	for i, v := range values {
		s.Enum[i] = v
	}
}

// decodeArgs reads a call's arguments into v: a JSON object (or nothing),
// with no field v lacks, and no string holding a NUL or text that is not
// UTF-8 (which decoding would quietly change). The error names the
// argument at fault by its path ("history[0].text", "customer.phone").
func decodeArgs(args json.RawMessage, v any) error {
	if len(bytes.TrimSpace(args)) == 0 || string(bytes.TrimSpace(args)) == "null" {
		args = json.RawMessage("{}")
	}
	if err := jsoncheck.Text(args); err != nil {
		return &baton.Error{Code: baton.EINVALID, Field: baton.ErrorField(err), Message: baton.ErrorMessage(err), Err: err}
	}
	dec := json.NewDecoder(bytes.NewReader(args))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.Decode(new(json.RawMessage)) != io.EOF {
		err = errors.New("more than one JSON value")
	}
	// doc is the arguments as JSON values, to find the path at fault in.
	doc := func() any {
		var d any
		_ = json.Unmarshal(args, &d) // decoded once already: valid
		return d
	}
	t := reflect.TypeOf(v).Elem()
	var typ *json.UnmarshalTypeError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &typ) && typ.Field != "":
		field := typ.Field
		if p, ok := jsonpath.Mistyped(t, doc(), strings.Split(typ.Field, "."), ""); ok {
			field = p
		}
		return baton.FieldErrorf(field, "must be %s, not %s", jsonpath.Kind(typ.Type), sent(typ.Value))
	case errors.As(err, &typ):
		return baton.FieldErrorf("arguments", "must be a JSON object, not %s", sent(typ.Value))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		if p, ok := jsonpath.Unknown(t, doc(), f, ""); ok {
			f = p
		}
		return baton.FieldErrorf(f, "is not an argument of this tool")
	}
	return &baton.Error{Code: baton.EINVALID, Field: "arguments", Message: "must be one JSON object", Err: err}
}

// sent describes a JSON value as encoding/json's type error names it
// ("string", "number 1.5"): "a string", "1.5".
func sent(value string) string {
	if n, ok := strings.CutPrefix(value, "number "); ok {
		return n
	}
	switch value {
	case "string":
		return "a string"
	case "number":
		return "a number"
	case "bool":
		return "true or false"
	case "array":
		return "an array"
	case "object":
		return "an object"
	}
	return value
}

// keyed returns ctx carrying an idempotency key for a write of tool about
// subject (what it acts on, in the state the retry would find it in) with
// these arguments: a retried call replays the first one's outcome.
func keyed(ctx context.Context, tool, subject string, args any) context.Context {
	b, _ := json.Marshal(args) // this package's types always marshal
	sum := sha256.Sum256([]byte(tool + "\n" + subject + "\n" + string(b)))
	h := hex.EncodeToString(sum[:])
	return engine.WithIdempotency(ctx, "mcp:"+tool+":"+h, h)
}
