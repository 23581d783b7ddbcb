package demo

import (
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
		`H=$(curl -s -X POST http://127.0.0.1:8080/v1/handoffs -H 'Authorization: Bearer demo-key' -H 'Content-Type: application/json' -d '{"conversation_id":"demo-1",`,
		"curl -s http://127.0.0.1:8080/v1/inbox/handoffs -H 'Authorization: Bearer agent-key'\n",
		"curl -s -X POST http://127.0.0.1:8080/v1/inbox/handoffs/$H/claim -H 'Authorization: Bearer agent-key'\n",
		"curl -s -X POST http://127.0.0.1:8080/v1/inbox/handoffs/$H/end -H 'Authorization: Bearer agent-key'\n",
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
	h := handler(secret, lines)
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
