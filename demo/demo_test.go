package demo

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton/stdwebhook"
)

func TestDemoCurlLines(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	for _, s := range steps {
		b.WriteString(s.curl("http://127.0.0.1:8080") + "\n")
	}
	got := b.String()
	for _, want := range []string{
		`H=$(curl -s -X POST http://127.0.0.1:8080/v1/handoffs -H 'Authorization: Bearer demo-bot-key-0123456789' -H 'Content-Type: application/json' -d '{"conversation_id":"demo-1",`,
		"curl -s http://127.0.0.1:8080/v1/inbox/handoffs -H 'Authorization: Bearer demo-agent-key-0123456789'\n",
		"curl -s -X POST http://127.0.0.1:8080/v1/inbox/handoffs/$H/claim -H 'Authorization: Bearer demo-agent-key-0123456789'\n",
		"curl -s -X POST http://127.0.0.1:8080/v1/inbox/handoffs/$H/end -H 'Authorization: Bearer demo-agent-key-0123456789'\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("curl lines lack %q:\n%s", want, got)
		}
	}
	for _, s := range steps {
		if strings.Contains(s.body, "'") {
			t.Errorf("a body holds a single quote and would break its curl line: %s", s.body)
		}
	}
}

// TestBot: the bot prints one line per event whose signature verifies,
// once per event id, and refuses other deliveries.
func TestBot(t *testing.T) {
	t.Parallel()
	secret := stdwebhook.NewSecret()
	signer, err := stdwebhook.NewSigner(secret)
	if err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 8)
	kept := make(chan string, 1)
	h := handler(secret, lines, func(id string) error { kept <- id; return nil }, nil)
	now := time.Now()
	for _, c := range []struct {
		name   string
		id     string
		body   string
		forged bool
		status int
		line   string // "" means none
	}{
		{"queued", "ev1", `{"id":"ev1","type":"handoff.queued","seq":1,"timestamp":"2026-01-02T03:04:05Z","data":{"desk_id":"inbox"}}`, false,
			http.StatusNoContent, "bot ← handoff.queued (waiting in desk inbox)"},
		{"again", "ev1", `{"id":"ev1","type":"handoff.queued","seq":1,"timestamp":"2026-01-02T03:04:05Z","data":{"desk_id":"inbox"}}`, false,
			http.StatusNoContent, ""},
		{"joined", "ev2", `{"id":"ev2","type":"handoff.agent_joined","seq":2,"data":{"agent":{"name":"Ana"}}}`, false,
			http.StatusNoContent, "bot ← handoff.agent_joined: Ana took the handoff"},
		{"message", "ev3", `{"id":"ev3","type":"handoff.agent_message","seq":3,"data":{"agent":{"name":"Ana"},"text":"Hello"}}`, false,
			http.StatusNoContent, `bot ← handoff.agent_message from Ana: "Hello"`},
		{"ended", "ev4", `{"id":"ev4","type":"handoff.ended","seq":4,"data":{"reason":"agent_closed","epoch":2}}`, false,
			http.StatusNoContent, "bot ← handoff.ended (agent_closed): the bot owns the conversation again, epoch 2"},
		{"wait timeout", "ev7", `{"id":"ev7","type":"handoff.wait_timeout","seq":5,"data":{"handoff_id":"ho_1"}}`, false,
			http.StatusNoContent, "bot ← handoff.wait_timeout"},
		{"forged", "ev5", `{"id":"ev5","type":"handoff.ended"}`, true, http.StatusUnauthorized, "bot ✗ refused a delivery: "},
		{"not an event", "ev6", `[1, 2]`, false, http.StatusBadRequest, ""},
	} {
		req := httptest.NewRequest(http.MethodPost, "/webhook", strings.NewReader(c.body))
		sig := signer.Headers(c.id, now, []byte(c.body))
		if c.forged {
			sig = signer.Headers(c.id, now, []byte(c.body+" "))
		}
		for k, v := range sig {
			req.Header[k] = v
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != c.status {
			t.Errorf("%s: status %d, want %d", c.name, rec.Code, c.status)
		}
		var got string
		select {
		case got = <-lines:
		default:
		}
		if c.line == "" && got != "" || !strings.HasPrefix(got, c.line) {
			t.Errorf("%s: line %q, want %q", c.name, got, c.line)
		}
		if c.name == "wait timeout" {
			// The demo's bot keeps waiting: a reader may be slow to claim.
			if id := <-kept; id != "ho_1" {
				t.Errorf("kept waiting for %q, want ho_1", id)
			}
			if line := <-lines; line != "bot → keep waiting: a person may still come" {
				t.Errorf("line %q", line)
			}
		}
	}
}

// TestFile: the demo's configuration is valid and names the bot's URL.
func TestFile(t *testing.T) {
	t.Parallel()
	b, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	f := b.File()
	if err := f.Validate(nil); err != nil {
		t.Fatal(err)
	}
	if got := f.Workspaces[0].Bots[0].WebhookURL; got != b.URL || !strings.HasPrefix(got, "http://127.0.0.1:") {
		t.Errorf("the bot's webhook_url is %q, want %q on loopback", got, b.URL)
	}
}

// TestKeepWaiting: the bot's answer to a wait timeout is the bot API's
// keep-waiting call, with the demo's key, at the Baton it was given.
func TestKeepWaiting(t *testing.T) {
	t.Parallel()
	var got string
	baton := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Method + " " + r.URL.Path + " " + r.Header.Get("Authorization")
		w.WriteHeader(http.StatusOK)
	}))
	defer baton.Close()
	b := &Bot{}
	if err := b.keepWaiting("ho_1"); err == nil {
		t.Error("kept waiting before Baton's address was known")
	}
	base := baton.URL
	b.base.Store(&base)
	if err := b.keepWaiting("ho_1"); err != nil || got != "POST /v1/handoffs/ho_1/keep-waiting Bearer "+APIKey {
		t.Errorf("keepWaiting: %v; Baton got %q", err, got)
	}
}

// TestGuide: the guide prints the customer page's address, and the page
// answers once the guide has told the bot Baton's address.
func TestGuide(t *testing.T) {
	t.Parallel()
	b, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx, cancel := context.WithCancel(t.Context())
	cancel() // print, and return
	var out strings.Builder
	b.Guide(ctx, "http://127.0.0.1:7", &out)
	want := "Customer page: " + b.CustomerPage() + " "
	if !strings.Contains(out.String(), want) || !strings.HasPrefix(b.CustomerPage(), "http://127.0.0.1:") {
		t.Errorf("the guide lacks %q:\n%s", want, out.String())
	}
	res, err := http.Get(b.CustomerPage())
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("the customer page: %d", res.StatusCode)
	}
}
