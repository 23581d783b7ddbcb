package webhookdesk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	baton "github.com/batonhq/baton"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

// The protocol tests hold the webhook desk, its contract in
// httpapi/openapi.yaml and its page docs/webhook-protocol.md to each other:
// Baton's real calls must fit the callback schemas, the page's examples must
// be exactly what the desk sends and accepts, and every field of a body must
// be declared in its schema, so renaming a field on any side fails.

const (
	specFile = "../httpapi/openapi.yaml"
	docsFile = "../docs/webhook-protocol.md"
)

// The desk of the page's example.
const (
	docsPath     = "/baton" // the path of its url setting
	docsUser     = "baton"
	docsPassword = "correct-horse-battery"
	docsSecret   = "example-secret-0123456789"
	docsInbound  = "/v1/desks/dk_support/inbound/"
	docsHandoff  = "ho_7k2mq4xv9ra3ne5tdw6yhcpb"
)

func loadProtocolSpec(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromFile(specFile)
	if err != nil {
		t.Fatalf("%s does not load: %v", specFile, err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("%s is not a valid OpenAPI document: %v", specFile, err)
	}
	return doc
}

func specSchema(t *testing.T, doc *openapi3.T, name string) *openapi3.Schema {
	t.Helper()
	ref := doc.Components.Schemas[name]
	if ref == nil || ref.Value == nil {
		t.Fatalf("openapi.yaml has no schema %s", name)
	}
	return ref.Value
}

// callbackRoute is the route of Baton's call to path ({url} + path) in the
// WebhookDesk callbacks, which createHandoff must reference.
func callbackRoute(t *testing.T, doc *openapi3.T, path string) *routers.Route {
	t.Helper()
	create := doc.Paths.Value("/v1/handoffs")
	if create == nil || create.Post == nil || create.Post.Callbacks["webhookDesk"] == nil {
		t.Fatal("openapi.yaml: createHandoff has no webhookDesk callbacks")
	}
	cb := create.Post.Callbacks["webhookDesk"].Value
	key := "{url}" + path
	item := cb.Value(key)
	if item == nil || item.Post == nil {
		t.Fatalf("openapi.yaml: the webhookDesk callbacks have no POST %s", key)
	}
	return &routers.Route{Spec: doc, Path: key, PathItem: item, Method: http.MethodPost, Operation: item.Post}
}

// conform checks v, a decoded JSON value, against s, and that every object
// key in v is a property s declares (an object open to any key aside).
func conform(s *openapi3.Schema, v any) error {
	if err := s.VisitJSON(v, openapi3.MultiErrors()); err != nil {
		return err
	}
	return declared(s, v, "")
}

func declared(s *openapi3.Schema, v any, at string) error {
	switch v := v.(type) {
	case map[string]any:
		if ap := s.AdditionalProperties; (ap.Has != nil && *ap.Has) || ap.Schema != nil {
			return nil
		}
		props := map[string]*openapi3.Schema{}
		properties(s, props)
		for k, x := range v {
			ps, ok := props[k]
			if !ok {
				return fmt.Errorf("%s%s: not a property of the schema", at, k)
			}
			if err := declared(ps, x, at+k+"."); err != nil {
				return err
			}
		}
	case []any:
		if s.Items == nil || s.Items.Value == nil {
			return nil
		}
		for i, x := range v {
			if err := declared(s.Items.Value, x, fmt.Sprintf("%s[%d].", strings.TrimSuffix(at, "."), i)); err != nil {
				return err
			}
		}
	}
	return nil
}

// properties collects the properties s declares, itself or through allOf,
// anyOf and oneOf.
func properties(s *openapi3.Schema, into map[string]*openapi3.Schema) {
	for k, p := range s.Properties {
		into[k] = p.Value
	}
	for _, group := range []openapi3.SchemaRefs{s.AllOf, s.AnyOf, s.OneOf} {
		for _, r := range group {
			properties(r.Value, into)
		}
	}
}

func decodeJSON(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, b)
	}
	return v
}

// docsRequest is one HTTP request shown on the page.
type docsRequest struct {
	path   string
	header http.Header
	body   []byte
}

// docsRequests reads the ```http blocks of the page that are requests.
func docsRequests(t *testing.T) []docsRequest {
	t.Helper()
	page, err := os.ReadFile(docsFile)
	if err != nil {
		t.Fatal(err)
	}
	var out []docsRequest
	parts := strings.Split(string(page), "```http\n")
	for _, p := range parts[1:] {
		block, _, ok := strings.Cut(p, "```")
		if !ok {
			t.Fatalf("%s: an http block does not end", docsFile)
		}
		if strings.HasPrefix(block, "HTTP/") {
			continue // an answer
		}
		head, body, _ := strings.Cut(block, "\n\n")
		lines := strings.Split(head, "\n")
		f := strings.Fields(lines[0])
		if len(f) != 3 || f[0] != http.MethodPost {
			t.Fatalf("%s: request line %q: want POST <path> HTTP/1.1", docsFile, lines[0])
		}
		r := docsRequest{path: f[1], header: http.Header{}, body: []byte(strings.TrimSpace(body))}
		for _, l := range lines[1:] {
			k, v, ok := strings.Cut(l, ": ")
			if !ok {
				t.Fatalf("%s: header line %q", docsFile, l)
			}
			r.header.Add(k, v)
		}
		out = append(out, r)
	}
	if len(out) == 0 {
		t.Fatalf("%s shows no requests", docsFile)
	}
	return out
}

// received is one call the protocol receiver got.
type received struct {
	path   string
	header http.Header
	body   []byte
}

// TestProtocolOutbound runs the desk against a service that validates every
// call with kin-openapi against the WebhookDesk callbacks, then holds the
// page's examples of Baton's calls to what the desk really sent.
func TestProtocolOutbound(t *testing.T) {
	doc := loadProtocolSpec(t)
	routes := map[string]*routers.Route{}
	for _, p := range []string{PathEstablish, PathChat, PathClose} {
		routes[docsPath+p] = callbackRoute(t, doc, p)
	}
	opts := &openapi3filter.Options{
		MultiError: true,
		AuthenticationFunc: func(_ context.Context, in *openapi3filter.AuthenticationInput) error {
			if in.SecurityScheme.Scheme != "basic" {
				return fmt.Errorf("scheme %s", in.SecurityScheme.Scheme)
			}
			if u, p, ok := in.RequestValidationInput.Request.BasicAuth(); !ok || u != docsUser || p != docsPassword {
				return errors.New("no HTTP Basic with the desk's username and password")
			}
			return nil
		},
	}

	var mu sync.Mutex
	var calls []received
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		calls = append(calls, received{r.URL.Path, r.Header.Clone(), body})
		mu.Unlock()
		route := routes[r.URL.Path]
		if route == nil {
			t.Errorf("Baton called %s %s, which openapi.yaml does not describe", r.Method, r.URL.Path)
			w.WriteHeader(http.StatusNotFound)
			return
		}
		check := r.Clone(r.Context())
		check.Body = io.NopCloser(bytes.NewReader(body))
		in := &openapi3filter.RequestValidationInput{Request: check, Route: route, Options: opts}
		if err := openapi3filter.ValidateRequest(r.Context(), in); err != nil {
			t.Errorf("POST %s breaks openapi.yaml: %v\n%s", r.URL.Path, err, body)
		}
		schema := route.Operation.RequestBody.Value.Content.Get("application/json").Schema.Value
		if err := declared(schema, decodeJSON(t, body), ""); err != nil {
			t.Errorf("POST %s: %v\n%s", r.URL.Path, err, body)
		}
		if u, p, ok := r.BasicAuth(); !ok || u != docsUser || p != docsPassword {
			t.Errorf("POST %s without the desk's HTTP Basic credentials", r.URL.Path)
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"code":0,"message":"ok"}`)
	}))
	t.Cleanup(srv.Close)

	d, err := New(baton.DeskConfig{ID: "dk_support", Kind: baton.KindWebhook, Settings: map[string]string{
		SettingURL: srv.URL + docsPath, SettingUsername: docsUser, SettingPassword: docsPassword, SettingSecret: docsSecret,
	}}, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	at := func(ms int64) { d.now = func() time.Time { return time.UnixMilli(ms) } }
	ctx := context.Background()
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}

	// The page's exchange.
	h := baton.Handle{Ref: docsHandoff}
	at(1742265090000)
	must("Check", d.Check(ctx))
	got, err := d.Open(ctx, baton.OpenRequest{
		HandoffID:  docsHandoff,
		ExternalID: "conv-881",
		Customer:   baton.Customer{ID: "cust_42", Name: "Ada Lovelace", Email: "ada@example.com", Metadata: map[string]any{"plan": "pro"}},
		History: []baton.Message{
			{Author: baton.ByCustomer, Text: "Where is my order #1234?"},
			{Author: baton.ByBot, Text: "It shipped on Monday with FastShip."},
		},
		Question: "It still hasn't arrived. Can I talk to a person?",
		Routing:  "orders",
	})
	must("Open", err)
	if got.Ref != docsHandoff {
		t.Errorf("Open: ref %q, want the handoff id %q", got.Ref, docsHandoff)
	}
	at(1742265210000)
	must("Send", d.Send(ctx, h, baton.Message{ID: "msg_q3vz5c8ytm2hk6wnb4rxd7ae", Author: baton.ByCustomer, Text: "Here it is.",
		Attachments: []baton.Attachment{{URL: "https://files.example.com/label.jpg", Name: "label.jpg", Type: "image/jpeg", Size: 48213}}}))
	at(1742265330000)
	must("Close", d.Close(ctx, h, baton.CustomerClosed))
	mu.Lock()
	exchange := slices.Clone(calls)
	mu.Unlock()

	// Beyond the page: the optional fields left out, and every end reason.
	_, err = d.Open(ctx, baton.OpenRequest{HandoffID: "ho_2", Customer: baton.Customer{ID: "c"},
		History: []baton.Message{{Author: baton.ByAgent, Attachments: []baton.Attachment{{URL: "https://x.example/a.pdf"}}}}})
	must("Open, bare", err)
	must("Send, text only", d.Send(ctx, h, baton.Message{Text: "ok"}))
	reasons := specSchema(t, doc, "EndReason").Enum
	if len(reasons) == 0 {
		t.Fatal("openapi.yaml: EndReason lists no reasons")
	}
	for _, r := range reasons {
		must("Close "+r.(string), d.Close(ctx, h, baton.EndReason(r.(string))))
	}

	// Every request the page shows Baton making is one the desk made,
	// headers and body.
	shown := 0
	for _, want := range docsRequests(t) {
		if strings.HasPrefix(want.path, docsInbound) {
			continue
		}
		shown++
		i := slices.IndexFunc(exchange, func(c received) bool {
			return c.path == want.path && reflect.DeepEqual(decodeJSON(t, c.body), decodeJSON(t, want.body))
		})
		if i < 0 {
			var sent []string
			for _, c := range exchange {
				sent = append(sent, "POST "+c.path+" "+string(c.body))
			}
			t.Errorf("%s shows POST %s with\n%s\nbut the desk sent\n%s", docsFile, want.path, want.body, strings.Join(sent, "\n"))
			continue
		}
		for k := range want.header {
			if k == "Host" {
				continue
			}
			if g, w := exchange[i].header.Get(k), want.header.Get(k); g != w {
				t.Errorf("%s: POST %s shows %s: %s, the desk sent %q", docsFile, want.path, k, w, g)
			}
		}
	}
	if shown < 4 {
		t.Errorf("%s shows %d of Baton's calls; want establish, chat, close and the probe", docsFile, shown)
	}
}

// inboundSchemas names the schema of each inbound kind.
var inboundSchemas = map[string]string{
	InboundMessage: "WebhookDeskInboundMessage",
	InboundClose:   "WebhookDeskInboundClose",
	InboundJoin:    "WebhookDeskInboundJoin",
}

// TestProtocolInbound holds the page's examples of the service's calls to the
// schemas and to Inbound: each fits its path's schema and deskInbound's, and
// the desk accepts it with the event it describes.
func TestProtocolInbound(t *testing.T) {
	doc := loadProtocolSpec(t)
	op := doc.Paths.Value("/v1/desks/{desk}/inbound/{path}")
	if op == nil || op.Post == nil {
		t.Fatal("openapi.yaml has no POST /v1/desks/{desk}/inbound/{path}")
	}
	anyInbound := op.Post.RequestBody.Value.Content.Get("application/json").Schema.Value
	probe := specSchema(t, doc, "WebhookDeskInboundProbe")
	d, err := New(baton.DeskConfig{ID: "dk_support", Kind: baton.KindWebhook, Settings: map[string]string{
		SettingURL: "https://desk.example.com" + docsPath, SettingSecret: docsSecret,
	}}, nil)
	if err != nil {
		t.Fatal(err)
	}

	kinds := map[string]bool{}
	for _, r := range docsRequests(t) {
		path, ok := strings.CutPrefix(r.path, docsInbound)
		if !ok {
			continue
		}
		t.Run(path, func(t *testing.T) {
			kind, ok := aliases[path]
			if !ok {
				t.Fatalf("%s posts to inbound/%s, which the desk does not take", docsFile, path)
			}
			v := decodeJSON(t, r.body)
			body, _ := v.(map[string]any)
			schema := specSchema(t, doc, inboundSchemas[kind])
			if body["istest"] == true {
				schema = probe
			}
			if err := conform(schema, v); err != nil {
				t.Errorf("%s: inbound/%s breaks its schema: %v\n%s", docsFile, path, err, r.body)
			}
			if err := anyInbound.VisitJSON(v); err != nil {
				t.Errorf("%s: inbound/%s breaks deskInbound's body: %v", docsFile, path, err)
			}
			evs, err := d.Inbound(context.Background(), path, r.header, r.body)
			if err != nil {
				t.Fatalf("%s: Inbound refused inbound/%s: %v\n%s", docsFile, path, err, r.body)
			}
			if body["istest"] == true {
				if len(evs) != 0 {
					t.Errorf("a probe gave events %+v", evs)
				}
				kinds["probe"] = true
				return
			}
			kinds[kind] = true
			want := map[string]baton.DeskEventType{InboundMessage: baton.DeskAgentMessage, InboundClose: baton.DeskAgentClosed, InboundJoin: baton.DeskAgentJoined}[kind]
			if len(evs) != 1 || evs[0].Type != want {
				t.Fatalf("inbound/%s gave %+v, want one %s", path, evs, want)
			}
			ev := evs[0]
			if ev.Ref != body["conversation_id"] {
				t.Errorf("event ref %q, want conversation_id %v", ev.Ref, body["conversation_id"])
			}
			if a, ok := body["agent"].(map[string]any); ok && (ev.Agent.ID != a["id"] || ev.Agent.Name != a["name"]) {
				t.Errorf("event agent %+v, want %v", ev.Agent, a)
			}
			if text, ok := body["body"].(string); ok && ev.Text != text {
				t.Errorf("event text %q, want body %q", ev.Text, text)
			}
		})
	}
	for _, k := range []string{InboundMessage, InboundClose, InboundJoin, "probe"} {
		if !kinds[k] {
			t.Errorf("%s shows no %s call to Baton", docsFile, k)
		}
	}
}

// TestProtocolInboundRefused: bodies the schemas refuse, the desk refuses
// too, naming the same field.
func TestProtocolInboundRefused(t *testing.T) {
	doc := loadProtocolSpec(t)
	d, err := New(baton.DeskConfig{ID: "dk_support", Kind: baton.KindWebhook, Settings: map[string]string{
		SettingURL: "https://desk.example.com", SettingSecret: docsSecret,
	}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	auth := http.Header{"Authorization": {"Bearer " + docsSecret}}
	for _, tc := range []struct {
		name, path, body, field string
	}{
		{"agent a string", InboundMessage, `{"conversation_id":"ho_1","message_id":"1","body":"hi","agent":"Grace"}`, "agent"},
		{"join agent a string", InboundJoin, `{"conversation_id":"ho_1","agent":"Grace"}`, "agent"},
		{"close agent a string", InboundClose, `{"conversation_id":"ho_1","agent":"Grace"}`, "agent"},
		{"no conversation", InboundMessage, `{"message_id":"1","body":"hi"}`, "conversation_id"},
		{"blank conversation", InboundClose, `{"conversation_id":"  "}`, "conversation_id"},
		{"conversation a number", InboundJoin, `{"conversation_id":7}`, "conversation_id"},
		{"timestamp a word", InboundMessage, `{"conversation_id":"ho_1","timestamp":"soon","body":"hi"}`, "timestamp"},
		{"timestamp negative", InboundClose, `{"conversation_id":"ho_1","timestamp":-1}`, "timestamp"},
		{"no message_id nor timestamp", InboundMessage, `{"conversation_id":"ho_1","body":"hi"}`, "timestamp"},
		{"message_id a number", InboundMessage, `{"conversation_id":"ho_1","message_id":1,"body":"hi"}`, "message_id"},
		{"body a list", InboundMessage, `{"conversation_id":"ho_1","message_id":"1","body":[{"message_type":"ANSWER","text":"hi"}]}`, "body"},
		{"attachment not http", InboundMessage, `{"conversation_id":"ho_1","message_id":"1","attachments":[{"url":"ftp://x.example/a"}]}`, "attachments[0].url"},
		{"attachment without url", InboundMessage, `{"conversation_id":"ho_1","message_id":"1","attachments":[{"name":"a"}]}`, "attachments[0].url"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := conform(specSchema(t, doc, inboundSchemas[tc.path]), decodeJSON(t, []byte(tc.body))); err == nil {
				t.Errorf("%s accepts %s", inboundSchemas[tc.path], tc.body)
			}
			_, err := d.Inbound(context.Background(), tc.path, auth, []byte(tc.body))
			if got := baton.ErrorField(err); got != tc.field {
				t.Errorf("Inbound(%s): %v, field %q; want a refusal naming %q", tc.body, err, got, tc.field)
			}
		})
	}
}

// TestProtocolAnswers holds the answers documented for each of Baton's calls
// to the desk's classification: for each status, the response openapi.yaml
// gives (exact, NXX or default) names what the desk must make of it.
func TestProtocolAnswers(t *testing.T) {
	doc := loadProtocolSpec(t)
	meaning := map[string]string{
		"#/components/responses/WebhookDeskAccepted":    "ok",
		"#/components/responses/WebhookDeskCredentials": "auth",
		"#/components/responses/WebhookDeskRetried":     "retry",
		"#/components/responses/WebhookDeskBusy":        "busy",
		"#/components/responses/WebhookDeskRefused":     "permanent",
	}
	var status atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(int(status.Load()))
	}))
	t.Cleanup(srv.Close)
	d, err := New(baton.DeskConfig{ID: "dk_support", Kind: baton.KindWebhook, Settings: map[string]string{
		SettingURL: srv.URL, SettingSecret: docsSecret,
	}}, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	h := baton.Handle{Ref: "ho_1"}
	calls := []struct {
		path string
		call func() error
	}{
		{PathEstablish, func() error {
			_, err := d.Open(ctx, baton.OpenRequest{HandoffID: "ho_1", Customer: baton.Customer{ID: "c"}, Question: "hi"})
			return err
		}},
		{PathChat, func() error { return d.Send(ctx, h, baton.Message{Text: "hi"}) }},
		{PathClose, func() error { return d.Close(ctx, h, baton.CustomerClosed) }},
	}
	statuses := []int{200, 201, 202, 204, 299, 400, 401, 403, 404, 405, 408, 409, 410, 413, 415, 422, 425, 429, 451, 499, 500, 501, 502, 503, 504, 505, 507, 599}
	for _, c := range calls {
		responses := callbackRoute(t, doc, c.path).Operation.Responses
		for _, s := range statuses {
			ref := responses.Status(s)
			if ref == nil {
				ref = responses.Default()
			}
			if ref == nil {
				t.Fatalf("openapi.yaml: POST {url}%s documents no answer %d and no default", c.path, s)
			}
			want, ok := meaning[ref.Ref]
			if !ok {
				t.Fatalf("openapi.yaml: POST {url}%s answer %d is %q, not one of the WebhookDesk responses", c.path, s, ref.Ref)
			}
			status.Store(int64(s))
			if got := outcome(c.call()); got != want {
				t.Errorf("POST {url}%s answered %d: the desk makes it %s, openapi.yaml says %s", c.path, s, got, want)
			}
		}
	}
}
