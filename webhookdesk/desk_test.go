package webhookdesk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	baton "github.com/batonhq/baton"
)

const testSecret = "s3cret-shared-with-the-crm-0123"

// clock is the fixed time of outbound calls: whole seconds, so HTTP dates
// in Retry-After give exact durations.
var clock = time.UnixMilli(1742265090000).UTC()

// call is one request the fake company service received.
type call struct {
	Method, Path, ContentType string
	User, Pass                string
	HasAuth                   bool
	Body                      []byte
}

// company plays the company's service: it records every call and answers
// with status (and header) or, when hang is set, never answers.
type company struct {
	*httptest.Server
	mu     sync.Mutex
	calls  []call
	status int
	header http.Header
	reply  string
	hang   bool
}

func newCompany(t *testing.T) *company {
	t.Helper()
	c := &company{status: http.StatusOK, reply: `{"code":0,"message":"ok"}`}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		user, pass, ok := r.BasicAuth()
		c.mu.Lock()
		c.calls = append(c.calls, call{r.Method, r.URL.Path, r.Header.Get("Content-Type"), user, pass, ok, body})
		status, header, reply, hang := c.status, c.header, c.reply, c.hang
		c.mu.Unlock()
		if hang {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
			return
		}
		for k, vs := range header {
			w.Header()[k] = vs
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, reply)
	}))
	t.Cleanup(c.Close)
	return c
}

func (c *company) last(t *testing.T) call {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.calls) == 0 {
		t.Fatal("the company's service received no call")
	}
	return c.calls[len(c.calls)-1]
}

func newDesk(t *testing.T, settings map[string]string, client *http.Client) *Desk {
	t.Helper()
	d, err := New(baton.DeskConfig{ID: "desk_1", Kind: baton.KindWebhook, Settings: settings}, client)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	d.now = func() time.Time { return clock }
	return d
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// compact returns the testdata JSON file in compact form, the exact bytes
// the desk must send.
func compact(t *testing.T, name string) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, readFile(t, name)); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return b.String()
}

func TestNew(t *testing.T) {
	t.Parallel()
	valid := func(edit func(map[string]string)) map[string]string {
		s := map[string]string{"url": "https://crm.example.com/human/service", "secret": testSecret}
		if edit != nil {
			edit(s)
		}
		return s
	}
	tests := []struct {
		name     string
		kind     baton.DeskKind
		settings map[string]string
		field    string // "" means valid
	}{
		{"minimal", baton.KindWebhook, valid(nil), ""},
		{"kind left empty", "", valid(nil), ""},
		{"basic auth", baton.KindWebhook, valid(func(s map[string]string) { s["username"], s["password"] = "baton", "pw" }), ""},
		{"username alone", baton.KindWebhook, valid(func(s map[string]string) { s["username"] = "baton" }), ""},
		{"http and port", baton.KindWebhook, valid(func(s map[string]string) { s["url"] = "http://10.0.0.5:8080/" }), ""},
		{"other kind", baton.KindLiveChat, valid(nil), "kind"},
		{"nil settings", baton.KindWebhook, nil, "settings.url"},
		{"no url", baton.KindWebhook, valid(func(s map[string]string) { delete(s, "url") }), "settings.url"},
		{"blank url", baton.KindWebhook, valid(func(s map[string]string) { s["url"] = "  " }), "settings.url"},
		{"unparsable url", baton.KindWebhook, valid(func(s map[string]string) { s["url"] = "https://crm example.com/%zz" }), "settings.url"},
		{"ftp url", baton.KindWebhook, valid(func(s map[string]string) { s["url"] = "ftp://crm.example.com" }), "settings.url"},
		{"relative url", baton.KindWebhook, valid(func(s map[string]string) { s["url"] = "crm.example.com/hook" }), "settings.url"},
		{"no host", baton.KindWebhook, valid(func(s map[string]string) { s["url"] = "https:///hook" }), "settings.url"},
		{"credentials in url", baton.KindWebhook, valid(func(s map[string]string) { s["url"] = "https://u:p@crm.example.com" }), "settings.url"},
		{"query in url", baton.KindWebhook, valid(func(s map[string]string) { s["url"] = "https://crm.example.com/h?key=1" }), "settings.url"},
		{"fragment in url", baton.KindWebhook, valid(func(s map[string]string) { s["url"] = "https://crm.example.com/h#x" }), "settings.url"},
		{"password without username", baton.KindWebhook, valid(func(s map[string]string) { s["password"] = "pw" }), "settings.username"},
		{"colon in username", baton.KindWebhook, valid(func(s map[string]string) { s["username"] = "a:b" }), "settings.username"},
		{"newline in password", baton.KindWebhook, valid(func(s map[string]string) { s["username"], s["password"] = "baton", "p\nw" }), "settings.password"},
		{"no secret", baton.KindWebhook, valid(func(s map[string]string) { delete(s, "secret") }), "settings.secret"},
		{"short secret", baton.KindWebhook, valid(func(s map[string]string) { s["secret"] = "tooshort" }), "settings.secret"},
		{"secret with space", baton.KindWebhook, valid(func(s map[string]string) { s["secret"] = "a secret with spaces inside" }), "settings.secret"},
		{"unknown setting", baton.KindWebhook, valid(func(s map[string]string) { s["secert"] = "x"; s["zz"] = "y" }), "settings.secert"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := New(baton.DeskConfig{Kind: tt.kind, Settings: tt.settings}, nil)
			if tt.field == "" {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				if d.client == nil || d.client.Timeout != DefaultTimeout {
					t.Errorf("default client = %+v, want Timeout %v", d.client, DefaultTimeout)
				}
				return
			}
			if code, field := baton.ErrorCode(err), baton.ErrorField(err); code != baton.EINVALID || field != tt.field {
				t.Fatalf("New error = %v (code %q, field %q), want EINVALID on %q", err, code, field, tt.field)
			}
			for _, v := range tt.settings {
				if v != "" && (v == testSecret || v == "pw") && strings.Contains(err.Error(), v) {
					t.Errorf("error %q shows a secret", err)
				}
			}
		})
	}
}

func TestFields(t *testing.T) {
	t.Parallel()
	var names []string
	for _, f := range Fields() {
		names = append(names, f.Name)
		if f.Doc == "" {
			t.Errorf("field %s has no doc", f.Name)
		}
	}
	if want := []string{"url", "username", "password", "secret"}; !reflect.DeepEqual(names, want) {
		t.Errorf("Fields = %v, want %v", names, want)
	}
}

func TestCapabilities(t *testing.T) {
	t.Parallel()
	d := newDesk(t, map[string]string{"url": "https://crm.example.com", "secret": testSecret}, nil)
	want := baton.Capabilities{Attachments: true, AgentProfile: true, EndByCustomer: true} // attachments as the protocol carries them
	if got := d.Capabilities(); got != want {
		t.Errorf("Capabilities = %+v, want %+v", got, want)
	}
}

func openRequest() baton.OpenRequest {
	return baton.OpenRequest{
		HandoffID:  "ho_01J8ZQ4K2M",
		ExternalID: "bot-conv-42",
		Customer: baton.Customer{
			ID: "KDslas", Name: "Bob Stone", Email: "bob@example.com",
			Metadata: map[string]any{"plan": "pro"},
		},
		History: []baton.Message{
			{Author: baton.ByCustomer, Text: "Where is my order?"},
			{Author: baton.ByBot, Text: "Order #1234 shipped on Monday."},
			{Author: baton.ByCustomer, Text: "It has not arrived <yet> & the box looked like this",
				Attachments: []baton.Attachment{{URL: "https://files.example.com/box.jpg", Name: "box.jpg", Type: "image/jpeg", Size: 2048}}},
			{Author: baton.ByBot, Text: "I'm sorry to hear that."},
		},
		Question: "I want to talk to a person",
		Routing:  "billing",
	}
}

// TestOutbound checks the exact path, headers, basic auth and body of every
// call Baton makes, against testdata/outbound.
func TestOutbound(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		path string
		want string // testdata file
		call func(context.Context, *Desk) error
	}{
		{"establish", "/human/service/conversation/establish", "outbound/establish.json", func(ctx context.Context, d *Desk) error {
			h, err := d.Open(ctx, openRequest())
			if err == nil && h.Ref != "ho_01J8ZQ4K2M" {
				t.Errorf("ref = %q, want the handoff id", h.Ref)
			}
			return err
		}},
		{"establish minimal", "/human/service/conversation/establish", "outbound/establish_minimal.json", func(ctx context.Context, d *Desk) error {
			_, err := d.Open(ctx, baton.OpenRequest{HandoffID: "ho_minimal", Customer: baton.Customer{ID: "anon-7"}, Question: "human service"})
			return err
		}},
		{"chat", "/human/service/chat", "outbound/chat.json", func(ctx context.Context, d *Desk) error {
			return d.Send(ctx, baton.Handle{Ref: "ho_01J8ZQ4K2M"}, baton.Message{ID: "msg_0007", Author: baton.ByCustomer, Text: "Still nothing today"})
		}},
		{"chat with attachments", "/human/service/chat", "outbound/chat_attachments.json", func(ctx context.Context, d *Desk) error {
			return d.Send(ctx, baton.Handle{Ref: "ho_01J8ZQ4K2M"}, baton.Message{ID: "msg_0008", Author: baton.ByCustomer, Text: "Here is the receipt",
				Attachments: []baton.Attachment{
					{URL: "https://files.example.com/receipt.pdf", Name: "receipt.pdf", Type: "application/pdf", Size: 48213},
					{URL: "https://files.example.com/label.png"},
				}})
		}},
		{"close", "/human/service/conversation/close", "outbound/close.json", func(ctx context.Context, d *Desk) error {
			return d.Close(ctx, baton.Handle{Ref: "ho_01J8ZQ4K2M"}, baton.CustomerClosed)
		}},
		{"check", "/human/service/conversation/establish", "outbound/check.json", func(ctx context.Context, d *Desk) error {
			return d.Check(ctx)
		}},
	}
	for _, auth := range []bool{true, false} {
		for _, tt := range tests {
			name := tt.name
			if !auth {
				name += " without basic auth"
			}
			t.Run(name, func(t *testing.T) {
				c := newCompany(t)
				s := map[string]string{"url": c.URL + "/human/service/", "secret": testSecret}
				if auth {
					s["username"], s["password"] = "baton", "p@ss:word"
				}
				d := newDesk(t, s, c.Client())
				if err := tt.call(context.Background(), d); err != nil {
					t.Fatalf("call: %v", err)
				}
				got := c.last(t)
				if got.Method != http.MethodPost || got.Path != tt.path {
					t.Errorf("request = %s %s, want POST %s", got.Method, got.Path, tt.path)
				}
				if got.ContentType != "application/json" {
					t.Errorf("Content-Type = %q", got.ContentType)
				}
				if auth && (!got.HasAuth || got.User != "baton" || got.Pass != "p@ss:word") {
					t.Errorf("basic auth = %v %q %q, want baton / p@ss:word", got.HasAuth, got.User, got.Pass)
				}
				if !auth && got.HasAuth {
					t.Errorf("basic auth sent without settings")
				}
				if want := compact(t, tt.want); string(got.Body) != want {
					t.Errorf("body\n got %s\nwant %s", got.Body, want)
				}
			})
		}
	}
}

func TestTranscript(t *testing.T) {
	t.Parallel()
	q, a := TurnQuestion, TurnAnswer
	tests := []struct {
		name     string
		history  []baton.Message
		question string
		want     []turn
	}{
		{"nothing", nil, "", []turn{}},
		{"question only", nil, "help", []turn{{q, "help"}}},
		{"authors", []baton.Message{
			{Author: baton.ByCustomer, Text: "hi"},
			{Author: baton.ByBot, Text: "hello"},
			{Author: baton.ByAgent, Text: "earlier agent"},
			{Author: baton.BySystem, Text: "notice"},
		}, "agent please", []turn{{q, "hi"}, {a, "hello"}, {a, "earlier agent"}, {a, "notice"}, {q, "agent please"}}},
		{"question already last", []baton.Message{
			{Author: baton.ByBot, Text: "hello"},
			{Author: baton.ByCustomer, Text: "agent please"},
		}, " agent please ", []turn{{a, "hello"}, {q, "agent please"}}},
		{"same text said by the bot is not the question", []baton.Message{
			{Author: baton.ByBot, Text: "agent please"},
		}, "agent please", []turn{{a, "agent please"}, {q, "agent please"}}},
		{"empty turns skipped, file-only turn kept", []baton.Message{
			{Author: baton.ByBot, Text: ""},
			{Author: baton.ByCustomer, Attachments: []baton.Attachment{{URL: "https://f.example.com/a.png"}}},
		}, "", []turn{{q, "Attachment: https://f.example.com/a.png"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := transcript(tt.history, tt.question); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("transcript = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCloseType(t *testing.T) {
	t.Parallel()
	tests := []struct {
		reason baton.EndReason
		want   string
	}{
		{baton.CustomerClosed, "USER_CLOSED"},
		{baton.WaitTimeout, "TIMEOUT"},
		{baton.SessionTimeout, "TIMEOUT"},
		{baton.IdleExpired, "TIMEOUT"},
		{baton.BotClosed, "BOT_CLOSED"},
		{baton.AgentClosed, "AGENT_CLOSED"},
		{baton.OutOfHours, "OUT_OF_HOURS"},
		{baton.DeskUnavailable, "DESK_UNAVAILABLE"},
		{baton.Transferred, "TRANSFERRED"},
	}
	for _, tt := range tests {
		if got := CloseType(tt.reason); got != tt.want {
			t.Errorf("CloseType(%s) = %q, want %q", tt.reason, got, tt.want)
		}
	}
	// The close body carries both.
	c := newCompany(t)
	d := newDesk(t, map[string]string{"url": c.URL, "secret": testSecret}, c.Client())
	if err := d.Close(context.Background(), baton.Handle{Ref: "ho_9"}, baton.SessionTimeout); err != nil {
		t.Fatal(err)
	}
	want := `{"conversation_id":"ho_9","timestamp":1742265090000,"type":"TIMEOUT","reason":"session_timeout"}`
	if got := string(c.last(t).Body); got != want {
		t.Errorf("close body = %s, want %s", got, want)
	}
}

// outcome names how a desk call ended, for the classification table.
func outcome(err error) string {
	var de *baton.DeskError
	switch {
	case err == nil:
		return "ok"
	case !errors.As(err, &de):
		return "unclassified: " + err.Error()
	case de.Busy:
		return "busy"
	case de.Auth:
		return "auth"
	case de.Permanent:
		return "permanent"
	}
	return "retry"
}

func TestClassification(t *testing.T) {
	t.Parallel()
	ops := []struct {
		name string
		call func(context.Context, *Desk) error
	}{
		{"establish", func(ctx context.Context, d *Desk) error { _, err := d.Open(ctx, openRequest()); return err }},
		{"chat", func(ctx context.Context, d *Desk) error {
			return d.Send(ctx, baton.Handle{Ref: "ho_1"}, baton.Message{ID: "m1", Text: "hi"})
		}},
		{"close", func(ctx context.Context, d *Desk) error {
			return d.Close(ctx, baton.Handle{Ref: "ho_1"}, baton.BotClosed)
		}},
		{"check", func(ctx context.Context, d *Desk) error { return d.Check(ctx) }},
	}
	date := clock.Add(2 * time.Minute).Format(http.TimeFormat)
	tests := []struct {
		status     int
		retryAfter string
		hang       bool
		want       map[string]string // op → outcome; "*" for every op
		wantAfter  time.Duration
	}{
		{status: 200, want: map[string]string{"*": "ok"}},
		{status: 204, want: map[string]string{"*": "ok"}},
		{status: 401, want: map[string]string{"*": "auth"}},
		{status: 403, want: map[string]string{"*": "auth"}},
		{status: 400, want: map[string]string{"establish": "busy", "*": "permanent"}},
		{status: 404, want: map[string]string{"establish": "busy", "*": "permanent"}},
		{status: 409, want: map[string]string{"establish": "busy", "*": "permanent"}},
		{status: 408, want: map[string]string{"*": "retry"}},
		{status: 429, retryAfter: "7", want: map[string]string{"*": "retry"}, wantAfter: 7 * time.Second},
		{status: 429, retryAfter: "soon", want: map[string]string{"*": "retry"}},
		{status: 500, want: map[string]string{"establish": "busy", "*": "retry"}},
		{status: 502, want: map[string]string{"*": "retry"}},
		{status: 503, retryAfter: date, want: map[string]string{"*": "retry"}, wantAfter: 2 * time.Minute},
		{status: 503, retryAfter: "-3", want: map[string]string{"*": "retry"}},
		{status: 504, want: map[string]string{"*": "retry"}},
		{hang: true, want: map[string]string{"*": "retry"}},
	}
	for _, tt := range tests {
		for _, op := range ops {
			name := op.name + "/" + http.StatusText(tt.status)
			if tt.hang {
				name = op.name + "/timeout"
			} else if tt.retryAfter != "" {
				name += "/Retry-After " + tt.retryAfter
			}
			t.Run(name, func(t *testing.T) {
				c := newCompany(t)
				c.status, c.hang = tt.status, tt.hang
				c.reply = `{"code":4091,"message":"no agent online"}`
				if tt.retryAfter != "" {
					c.header = http.Header{"Retry-After": {tt.retryAfter}}
				}
				client := c.Client()
				client.Timeout = 10 * time.Second // a loaded machine answers slowly
				if tt.hang {
					client.Timeout = 100 * time.Millisecond
				}
				d := newDesk(t, map[string]string{"url": c.URL, "secret": testSecret}, client)
				err := op.call(context.Background(), d)
				want, ok := tt.want[op.name]
				if !ok {
					want = tt.want["*"]
				}
				if got := outcome(err); got != want {
					t.Fatalf("outcome = %s (%v), want %s", got, err, want)
				}
				if err == nil {
					return
				}
				var de *baton.DeskError
				errors.As(err, &de)
				if de.RetryAfter != tt.wantAfter {
					t.Errorf("RetryAfter = %v, want %v", de.RetryAfter, tt.wantAfter)
				}
				if strings.Contains(err.Error(), c.URL) {
					t.Errorf("error %q repeats the service URL", err)
				}
				if tt.hang {
					var ne net.Error
					if !errors.As(err, &ne) || !ne.Timeout() {
						t.Errorf("error %v does not say it timed out", err)
					}
					return
				}
				var he *HTTPError
				if !errors.As(err, &he) || he.Status != tt.status || he.Message != "no agent online" {
					t.Errorf("cause = %#v, want HTTPError %d with the service's message", he, tt.status)
				}
			})
		}
	}
}

func TestUnreachable(t *testing.T) {
	t.Parallel()
	c := newCompany(t)
	url := c.URL
	c.Close()
	d := newDesk(t, map[string]string{"url": url, "secret": testSecret}, nil)
	if _, err := d.Open(context.Background(), openRequest()); outcome(err) != "retry" {
		t.Errorf("Open on a closed port = %v, want a retryable DeskError", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := d.Send(ctx, baton.Handle{Ref: "ho_1"}, baton.Message{Text: "hi"}); outcome(err) != "retry" || !errors.Is(err, context.Canceled) {
		t.Errorf("Send with a cancelled context = %v, want a retryable DeskError wrapping context.Canceled", err)
	}
}

func TestOutboundInvalid(t *testing.T) {
	t.Parallel()
	c := newCompany(t)
	d := newDesk(t, map[string]string{"url": c.URL, "secret": testSecret}, c.Client())
	ctx := context.Background()
	tests := []struct {
		name  string
		err   error
		field string
	}{
		{"open without handoff id", func() error { _, err := d.Open(ctx, baton.OpenRequest{Question: "hi"}); return err }(), "handoff_id"},
		{"send without ref", d.Send(ctx, baton.Handle{Ref: ""}, baton.Message{Text: "hi"}), "ref"},
		{"send nothing", d.Send(ctx, baton.Handle{Ref: "ho_1"}, baton.Message{ID: "m"}), "text"},
		{"close without ref", d.Close(ctx, baton.Handle{Ref: ""}, baton.BotClosed), "ref"},
	}
	for _, tt := range tests {
		if outcome(tt.err) != "permanent" || baton.ErrorField(tt.err) != tt.field {
			t.Errorf("%s: %v, want a permanent error on %q", tt.name, tt.err, tt.field)
		}
	}
	if len(c.calls) != 0 {
		t.Errorf("invalid calls reached the service: %d", len(c.calls))
	}
}

func bearer(token string) http.Header {
	return http.Header{"Authorization": {"Bearer " + token}}
}

func TestInboundVerify(t *testing.T) {
	t.Parallel()
	d := newDesk(t, map[string]string{"url": "https://crm.example.com", "secret": testSecret}, nil)
	body := readFile(t, "inbound/message.json")
	tests := []struct {
		name   string
		header http.Header
		path   string
		body   []byte
		forged bool
	}{
		{"right secret", bearer(testSecret), "message", body, false},
		{"scheme in lower case", http.Header{"Authorization": {"bearer " + testSecret}}, "message", body, true},
		{"scheme in upper case", http.Header{"Authorization": {"BEARER " + testSecret}}, "message", body, true},
		{"secret padded before", bearer(" " + testSecret), "message", body, true},
		{"secret padded after", bearer(testSecret + " "), "message", body, true},
		{"secret padded with a tab", bearer(testSecret + "\t"), "message", body, true},
		{"two spaces after the scheme", http.Header{"Authorization": {"Bearer  " + testSecret}}, "message", body, true},
		{"tab after the scheme", http.Header{"Authorization": {"Bearer\t" + testSecret}}, "message", body, true},
		{"missing header", http.Header{}, "message", body, true},
		{"nil header", nil, "message", body, true},
		{"empty bearer", bearer(""), "message", body, true},
		{"wrong secret", bearer("s3cret-shared-with-the-crm-0124"), "message", body, true},
		{"secret prefix", bearer(testSecret[:len(testSecret)-1]), "message", body, true},
		{"secret plus a byte", bearer(testSecret + "x"), "message", body, true},
		{"basic scheme", http.Header{"Authorization": {"Basic " + testSecret}}, "message", body, true},
		{"bare secret", http.Header{"Authorization": {testSecret}}, "message", body, true},
		{"secret in another header", http.Header{"X-Secret": {testSecret}}, "message", body, true},
		// Verification comes first: a forged request learns nothing about paths or parsing.
		{"forged malformed body", bearer("nope"), "message", []byte("{"), true},
		{"forged unknown path", bearer("nope"), "nowhere", body, true},
		{"forged oversized body", http.Header{}, "message", make([]byte, MaxInboundBody+1), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			events, err := d.Inbound(context.Background(), tt.path, tt.header, tt.body)
			if !tt.forged {
				if err != nil || len(events) != 1 {
					t.Fatalf("Inbound = %v, %v; want one event", events, err)
				}
				return
			}
			if !errors.Is(err, baton.ErrForged) || baton.ErrorCode(err) != baton.EUNAUTHORIZED {
				t.Fatalf("Inbound error = %v, want ErrForged", err)
			}
			if events != nil {
				t.Errorf("forged request gave events %v", events)
			}
			if strings.Contains(err.Error(), testSecret[:8]) {
				t.Errorf("error %q shows the secret", err)
			}
		})
	}
}

const (
	// Pinned derived ids, computed outside Go as hex(sha256(kind, then for
	// each part "\x00" + len + ":" + part)). A change here breaks dedupe of
	// deliveries that straddle an upgrade.
	idMessage  = "message:1efa2b547a1cca3283d6020810054517ea6af8aeffc415294460023f8cfae6db"
	idFileOnly = "message:0b478a8edb677af2164187c581b23c1c174c873ef026c924925db1554a5fbd8f"
	idJoin     = "join:46f2334babe2d378bb67de15e25b502c36379cabf18be2e9c00e09f8916c3d0b"
)

func TestInboundParse(t *testing.T) {
	t.Parallel()
	d := newDesk(t, map[string]string{"url": "https://crm.example.com", "secret": testSecret}, nil)
	ref := "ho_01J8ZQ4K2M"
	maria := baton.Agent{ID: "ag_17", Name: "Maria"}
	ms := func(n int64) time.Time { return time.UnixMilli(n).UTC() }
	tests := []struct {
		name string
		path string
		file string
		want []baton.DeskEvent
	}{
		{"message", "message", "inbound/message.json", []baton.DeskEvent{{
			ID: idMessage, Ref: ref, Type: baton.DeskAgentMessage, Text: "Hi, this is Maria from support", At: ms(1742265100000)}}},
		{"message via GPTBots path", "v1/human/message/receive", "inbound/message.json", []baton.DeskEvent{{
			ID: idMessage, Ref: ref, Type: baton.DeskAgentMessage, Text: "Hi, this is Maria from support", At: ms(1742265100000)}}},
		{"message via short GPTBots path", "/human/message/receive/", "inbound/message.json", []baton.DeskEvent{{
			ID: idMessage, Ref: ref, Type: baton.DeskAgentMessage, Text: "Hi, this is Maria from support", At: ms(1742265100000)}}},
		{"message with id, agent, attachment", "message", "inbound/message_full.json", []baton.DeskEvent{{
			ID: "message:13:ho_01J8ZQ4K2M/crm-evt-88121", Ref: ref, Type: baton.DeskAgentMessage, Agent: maria, Text: "Here is the return label",
			Attachments: []baton.Attachment{{URL: "https://crm.example.com/f/label.pdf", Name: "label.pdf", Type: "application/pdf", Size: 30211}},
			At:          ms(1742265130000)}}},
		{"file only, timestamp as string", "message", "inbound/message_file_only.json", []baton.DeskEvent{{
			ID: idFileOnly, Ref: ref, Type: baton.DeskAgentMessage,
			Attachments: []baton.Attachment{{URL: "https://crm.example.com/f/photo.png"}}, At: ms(1742265140000)}}},
		{"close", "close", "inbound/close.json", []baton.DeskEvent{{
			ID: "close:" + ref, Ref: ref, Type: baton.DeskAgentClosed, At: ms(1742265200000)}}},
		{"close via GPTBots path", "v1/human/close", "inbound/close.json", []baton.DeskEvent{{
			ID: "close:" + ref, Ref: ref, Type: baton.DeskAgentClosed, At: ms(1742265200000)}}},
		{"join", "join", "inbound/join.json", []baton.DeskEvent{{
			ID: idJoin, Ref: ref, Type: baton.DeskAgentJoined, Agent: maria, At: ms(1742265095000)}}},
		{"probe on message", "message", "inbound/probe.json", nil},
		{"probe on close", "close", "inbound/probe.json", nil},
		{"probe on join", "join", "inbound/probe.json", nil},
		{"probe with odd fields", "message", "inbound/probe_partial.json", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := d.Inbound(context.Background(), tt.path, bearer(testSecret), readFile(t, tt.file))
			if err != nil {
				t.Fatalf("Inbound: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("events\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// TestInboundRetriedDelivery checks that the same message delivered again,
// even re-encoded, gets the same id, and that a different one does not.
func TestInboundRetriedDelivery(t *testing.T) {
	t.Parallel()
	d := newDesk(t, map[string]string{"url": "https://crm.example.com", "secret": testSecret}, nil)
	id := func(file string) string {
		t.Helper()
		events, err := d.Inbound(context.Background(), "message", bearer(testSecret), readFile(t, file))
		if err != nil || len(events) != 1 {
			t.Fatalf("%s: %v %v", file, events, err)
		}
		return events[0].ID
	}
	first := id("inbound/message.json")
	if again := id("inbound/message.json"); again != first {
		t.Errorf("same delivery twice: %s then %s", first, again)
	}
	if retried := id("inbound/message_retried.json"); retried != first {
		t.Errorf("re-encoded retry: %s, want %s", retried, first)
	}
	if later := id("inbound/message_later.json"); later == first {
		t.Errorf("the same text sent later got the same id %s", later)
	}
	// Another desk with the same payload derives the same id: ids depend on the payload only.
	other := newDesk(t, map[string]string{"url": "https://other.example.com", "secret": testSecret}, nil)
	events, err := other.Inbound(context.Background(), "message", bearer(testSecret), readFile(t, "inbound/message.json"))
	if err != nil || events[0].ID != first {
		t.Errorf("other desk: %v %v, want id %s", events, err, first)
	}
}

func TestInboundInvalid(t *testing.T) {
	t.Parallel()
	d := newDesk(t, map[string]string{"url": "https://crm.example.com", "secret": testSecret}, nil)
	tests := []struct {
		name  string
		path  string
		body  []byte
		code  string
		field string
	}{
		{"unknown path", "messages", readFile(t, "inbound/message.json"), baton.ENOTFOUND, ""},
		{"empty path", "", readFile(t, "inbound/message.json"), baton.ENOTFOUND, ""},
		{"empty body", "message", nil, baton.EBADREQUEST, ""},
		{"blank body", "message", []byte(" \n"), baton.EBADREQUEST, ""},
		{"truncated JSON", "message", readFile(t, "inbound/bad_json.txt"), baton.EBADREQUEST, ""},
		{"array", "message", readFile(t, "inbound/not_object.json"), baton.EBADREQUEST, ""},
		{"null", "close", readFile(t, "inbound/null.json"), baton.EBADREQUEST, ""},
		{"trailing garbage", "message", append(readFile(t, "inbound/message.json"), "}"...), baton.EBADREQUEST, ""},
		{"oversized", "message", append([]byte(`{"conversation_id":"ho_1","body":"`), bytes.Repeat([]byte("a"), MaxInboundBody)...), baton.ETOOLARGE, ""},
		{"missing conversation_id", "message", readFile(t, "inbound/missing_conversation_id.json"), baton.EINVALID, "conversation_id"},
		{"missing conversation_id on close", "close", readFile(t, "inbound/missing_conversation_id.json"), baton.EINVALID, "conversation_id"},
		{"missing conversation_id on join", "join", readFile(t, "inbound/missing_conversation_id.json"), baton.EINVALID, "conversation_id"},
		{"blank conversation_id", "message", readFile(t, "inbound/blank_conversation_id.json"), baton.EINVALID, "conversation_id"},
		{"numeric conversation_id", "message", readFile(t, "inbound/conversation_id_number.json"), baton.EINVALID, "conversation_id"},
		{"missing body", "message", readFile(t, "inbound/missing_body.json"), baton.EINVALID, "body"},
		{"body is an object", "message", readFile(t, "inbound/body_object.json"), baton.EINVALID, "body"},
		{"no timestamp nor message_id", "message", readFile(t, "inbound/missing_timestamp.json"), baton.EINVALID, "timestamp"},
		{"fractional timestamp", "message", readFile(t, "inbound/timestamp_float.json"), baton.EINVALID, "timestamp"},
		{"textual timestamp", "close", readFile(t, "inbound/timestamp_text.json"), baton.EINVALID, "timestamp"},
		{"numeric agent name", "message", readFile(t, "inbound/agent_name_number.json"), baton.EINVALID, "agent.name"},
		{"attachment without url", "message", readFile(t, "inbound/attachment_no_url.json"), baton.EINVALID, "attachments[1].url"},
		{"attachment with script url", "message", readFile(t, "inbound/attachment_bad_url.json"), baton.EINVALID, "attachments[0].url"},
		{"attachment size as text", "message", readFile(t, "inbound/attachment_size_text.json"), baton.EINVALID, "attachments[0].size"},
		{"attachments as object", "message", readFile(t, "inbound/attachments_object.json"), baton.EINVALID, "attachments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			events, err := d.Inbound(context.Background(), tt.path, bearer(testSecret), tt.body)
			if code, field := baton.ErrorCode(err), baton.ErrorField(err); code != tt.code || field != tt.field {
				t.Fatalf("Inbound = %v, %v (code %q field %q); want code %q field %q", events, err, code, field, tt.code, tt.field)
			}
			if events != nil {
				t.Errorf("events %v with an error", events)
			}
		})
	}
}

// TestInboundFromService drives Inbound with a request as the service sends
// it over HTTP, the way the API layer hands it over.
func TestInboundFromService(t *testing.T) {
	t.Parallel()
	d := newDesk(t, map[string]string{"url": "https://crm.example.com", "secret": testSecret}, nil)
	var got []baton.DeskEvent
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, MaxInboundBody+1))
		path := strings.TrimPrefix(r.URL.Path, "/v1/desks/desk_1/inbound/")
		events, err := d.Inbound(r.Context(), path, r.Header, body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		got = append(got, events...)
		io.WriteString(w, `{"code":0,"message":"ok"}`)
	}))
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/desks/desk_1/inbound/v1/human/close", bytes.NewReader(readFile(t, "inbound/close.json")))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+testSecret)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || len(got) != 1 || got[0].Type != baton.DeskAgentClosed {
		t.Errorf("status %d, events %+v", resp.StatusCode, got)
	}
}

func TestErrorMessage(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 250)
	tests := []struct{ body, want string }{
		{`{"code":5001,"message":"queue full"}`, "queue full"},
		{`{"code":5001}`, ""},
		{"<html>\n  <b>Bad   Gateway</b>\n</html>", ""},
		{"GET /chat\nAuthorization: Basic dTpw\n", ""}, // an echo of the request says nothing
		{"", ""},
		{`{"message":"` + long + `"}`, strings.Repeat("é", 200) + "…"},
	}
	for _, tt := range tests {
		if got := message([]byte(tt.body)); got != tt.want {
			t.Errorf("message(%.20q) = %q, want %q", tt.body, got, tt.want)
		}
	}
	d := &Desk{username: "u", password: "hunter2-secret"}
	if got := d.redact("denied for u:hunter2-secret, Basic dTpodW50ZXIyLXNlY3JldA=="); got != "denied for u:[redacted], Basic [redacted]" {
		t.Errorf("redact: %q", got)
	}
	e := &HTTPError{Path: PathChat, Status: 409, Message: "closed"}
	if got, want := e.Error(), "POST /chat: HTTP 409: closed"; got != want {
		t.Errorf("HTTPError = %q, want %q", got, want)
	}
}

// TestInboundIDsPerConversation: a service that numbers message_id per
// conversation gives two conversations the same message_id; their events must
// not share an id (the engine drops an event whose id it has seen), while a
// true repeat keeps its id. Joins and closes are scoped the same way.
func TestInboundIDsPerConversation(t *testing.T) {
	t.Parallel()
	d := newDesk(t, map[string]string{"url": "https://crm.example.com", "secret": testSecret}, nil)
	id := func(path, body string) string {
		t.Helper()
		evs, err := d.Inbound(context.Background(), path, bearer(testSecret), []byte(body))
		if err != nil || len(evs) != 1 {
			t.Fatalf("Inbound(%s, %s) = %v, %v", path, body, evs, err)
		}
		return evs[0].ID
	}
	tests := []struct {
		name        string
		path        string
		a, b, again string // a and b differ only by conversation; again repeats a
	}{
		{"message_id", "message",
			`{"conversation_id":"A","body":"hi","message_id":"1"}`,
			`{"conversation_id":"B","body":"hi","message_id":"1"}`,
			`{"message_id":"1","body":"hi","conversation_id":"A"}`},
		{"message_id with a slash", "message",
			`{"conversation_id":"A/1","body":"hi","message_id":"2"}`,
			`{"conversation_id":"A","body":"hi","message_id":"1/2"}`,
			`{"conversation_id":"A/1","body":"hi","message_id":"2"}`},
		{"derived message id", "message",
			`{"conversation_id":"A","body":"hi","timestamp":1742265100000}`,
			`{"conversation_id":"B","body":"hi","timestamp":1742265100000}`,
			`{"conversation_id":"A","body":"hi","timestamp":"1742265100000"}`},
		{"join", "join",
			`{"conversation_id":"A","agent":{"id":"ag_1","name":"Ana"},"timestamp":1742265100000}`,
			`{"conversation_id":"B","agent":{"id":"ag_1","name":"Ana"},"timestamp":1742265100000}`,
			`{"conversation_id":"A","agent":{"id":"ag_1","name":"Ana"},"timestamp":1742265100000}`},
		{"close", "close",
			`{"conversation_id":"A","timestamp":1742265100000}`,
			`{"conversation_id":"B","timestamp":1742265100000}`,
			`{"conversation_id":"A","timestamp":1742265100000}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, b, again := id(tt.path, tt.a), id(tt.path, tt.b), id(tt.path, tt.again)
			if a == b {
				t.Errorf("two conversations share the event id %q", a)
			}
			if again != a {
				t.Errorf("a repeated delivery has id %q, the first %q", again, a)
			}
		})
	}
}
