package demo

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/batonhq/baton"
)

// fakeBaton answers the bot API calls the chat endpoint makes with the
// answers set for each path, recording them.
type fakeBaton struct {
	mu      sync.Mutex
	answers map[string]string // "POST /v1/handoffs" → status and body, as "201 {…}"
	calls   []string
}

func (f *fakeBaton) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	key := r.Method + " " + r.URL.Path
	f.calls = append(f.calls, key+" "+r.Header.Get("Authorization"))
	a, ok := f.answers[key]
	if !ok {
		http.NotFound(w, r)
		return
	}
	status, body, _ := strings.Cut(a, " ")
	code := map[string]int{"200": 200, "201": 201, "422": 422}[status]
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	w.Write([]byte(body))
}

// log is the conversation's events' types and texts, in order.
func (b *Bot) logOf(id string) string {
	v := b.chats.get(id, false)
	if v == nil {
		return ""
	}
	b.chats.mu.Lock()
	defer b.chats.mu.Unlock()
	var s []string
	for _, e := range v.log {
		s = append(s, strings.TrimSpace(e.Type+" "+e.Text+e.Agent))
	}
	return strings.Join(s, "; ")
}

// TestChatEndpoint: the demo bot's customer-facing endpoint refuses bad
// input, answers CORS for loopback pages only, and turns Baton's answers
// and webhook events into what the customer sees.
func TestChatEndpoint(t *testing.T) {
	t.Parallel()
	fake := &fakeBaton{answers: map[string]string{
		"POST /v1/handoffs":               `201 {"id":"ho_1","state":"requested","needs_email":true}`,
		"POST /v1/handoffs/ho_1/email":    `422 {"title":"Unprocessable","detail":"email: not an address"}`,
		"POST /v1/handoffs/ho_1/messages": `201 {}`,
	}}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	b, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	base := srv.URL
	b.base.Store(&base)
	chat := strings.TrimSuffix(b.CustomerPage(), "/") + "/chat/"
	const conv = "conv-0123456789"

	do := func(method, path, origin, ctype, body string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(method, chat+path, strings.NewReader(body))
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	const js = "application/json"
	for _, c := range []struct {
		name, method, path, origin, ctype, body string
		status                                  int
		acao                                    string
	}{
		{"short id", "POST", "x/messages", "", js, `{"text":"hi"}`, 404, ""},
		{"id with a slash", "POST", "conv%2F0123456789/messages", "", js, `{"text":"hi"}`, 404, ""},
		{"unknown call", "POST", conv + "/nope", "", js, `{}`, 404, ""},
		{"not JSON", "POST", conv + "/messages", "", "text/plain", `hi`, 415, ""},
		{"bad JSON", "POST", conv + "/messages", "", js, `{"text":`, 400, ""},
		{"wrong type", "POST", conv + "/messages", "", js, `{"text":1}`, 400, ""},
		{"empty text", "POST", conv + "/messages", "", js, `{"text":"  "}`, 422, ""},
		{"long text", "POST", conv + "/messages", "", js, `{"text":"` + strings.Repeat("a", maxText+1) + `"}`, 422, ""},
		{"huge body", "POST", conv + "/messages", "", js, `{"text":"` + strings.Repeat("a", 20<<10) + `"}`, 413, ""},
		{"keep waiting with no handoff", "POST", conv + "/keep-waiting", "", "", ``, 409, ""},
		{"end with no handoff", "POST", conv + "/end", "", "", ``, 409, ""},
		{"email not asked for", "POST", conv + "/email", "", js, `{"email":"a@example.com"}`, 409, ""},
		{"bad email", "POST", conv + "/email", "", js, `{"email":"nope"}`, 422, ""},
		{"preflight from a loopback page", "OPTIONS", conv + "/messages", "http://127.0.0.1:4321", "", ``, 204, "http://127.0.0.1:4321"},
		{"preflight from localhost", "OPTIONS", conv + "/human", "http://localhost:8080", "", ``, 204, "http://localhost:8080"},
		{"preflight from elsewhere", "OPTIONS", conv + "/messages", "https://evil.example", "", ``, 403, ""},
		{"preflight from a look-alike", "OPTIONS", conv + "/messages", "http://127.0.0.1.evil.example", "", ``, 403, ""},
		{"message from elsewhere", "POST", conv + "/messages", "https://evil.example", js, `{"text":"hi"}`, 202, ""},
		{"message", "POST", conv + "/messages", "http://127.0.0.1:4321", js, `{"text":"Where is my parcel?"}`, 202, "http://127.0.0.1:4321"},
	} {
		res := do(c.method, c.path, c.origin, c.ctype, c.body)
		if res.StatusCode != c.status || res.Header.Get("Access-Control-Allow-Origin") != c.acao {
			t.Errorf("%s: %d, Access-Control-Allow-Origin %q; want %d, %q", c.name, res.StatusCode, res.Header.Get("Access-Control-Allow-Origin"), c.status, c.acao)
		}
	}
	// No handoff yet: the bot answers each message itself, and relays none.
	if got := b.logOf(conv); !strings.HasPrefix(got, "customer hi; bot I am the demo bot") || !strings.Contains(got, "customer Where is my parcel?; bot ") {
		t.Errorf("log: %s", got)
	}

	// Asking for a person: Baton wants the email; a bad one is the customer's to mend.
	if res := do("POST", conv+"/human", "", js, `{}`); res.StatusCode != 202 {
		t.Fatalf("human: %d", res.StatusCode)
	}
	if got := b.logOf(conv); !strings.HasSuffix(got, "connecting; needs_email") {
		t.Errorf("log after asking: %s", got)
	}
	if res := do("POST", conv+"/human", "", js, `{}`); res.StatusCode != 409 {
		t.Errorf("asking twice: %d", res.StatusCode)
	}
	if res := do("POST", conv+"/email", "", js, `{"email":"x@y"}`); res.StatusCode != 422 {
		t.Errorf("an email Baton refuses: %d, want 422", res.StatusCode)
	}
	fake.mu.Lock()
	fake.answers["POST /v1/handoffs/ho_1/email"] = `200 {"id":"ho_1","state":"requested"}`
	fake.mu.Unlock()
	if res := do("POST", conv+"/email", "", js, `{"email":"sam@example.com"}`); res.StatusCode != 202 {
		t.Errorf("email: %d", res.StatusCode)
	}
	if res := do("POST", conv+"/messages", "", js, `{"text":"Still there?"}`); res.StatusCode != 202 {
		t.Errorf("message: %d", res.StatusCode)
	}

	// The webhook's events, as the customer sees them.
	ev := func(typ, data string) bool {
		return b.observe(baton.Envelope{Type: typ, Data: []byte(data)})
	}
	subj := `"conversation_id":"web-` + conv + `","handoff_id":"ho_1"`
	if !ev(baton.EventQueueUpdated, `{`+subj+`,"position":2,"estimated_wait_seconds":130}`) ||
		!ev(baton.EventWaitTimeout, `{`+subj+`,"choices":["keep_waiting","end"]}`) ||
		!ev(baton.EventAgentJoined, `{`+subj+`,"agent":{"name":"Ana"}}`) ||
		!ev(baton.EventAgentMessage, `{`+subj+`,"agent":{"name":"Ana"},"text":"Hello"}`) ||
		!ev(baton.EventAgentMessage, `{"conversation_id":"web-`+conv+`","handoff_id":"ho_0","text":"an old handoff's"}`) ||
		!ev(baton.EventEnded, `{`+subj+`,"reason":"agent_closed"}`) {
		t.Error("a widget conversation's event was not taken")
	}
	if ev(baton.EventWaitTimeout, `{"conversation_id":"demo-1","handoff_id":"ho_9"}`) {
		t.Error("the walk's wait timeout was taken: the bot would not keep waiting")
	}
	if got := b.logOf(conv); !strings.HasSuffix(got, "connecting; customer Still there?; queued; wait_timeout; joined Ana; agent HelloAna; ended") {
		t.Errorf("log after the events: %s", got)
	}

	// Out of hours: the reply is the whole outcome.
	fake.mu.Lock()
	fake.answers["POST /v1/handoffs"] = `201 {"id":"ho_2","state":"ended","end_reason":"out_of_hours","reply":"We are closed; back at 9."}`
	fake.mu.Unlock()
	if res := do("POST", conv+"/human", "", js, `{"email":"sam@example.com"}`); res.StatusCode != 202 {
		t.Fatalf("human again: %d", res.StatusCode)
	}
	if got := b.logOf(conv); !strings.HasSuffix(got, "connecting; out_of_hours We are closed; back at 9.") {
		t.Errorf("log out of hours: %s", got)
	}
	fake.mu.Lock()
	for _, c := range fake.calls {
		if !strings.HasSuffix(c, "Bearer "+APIKey) {
			t.Errorf("Baton called without the demo key: %s", c)
		}
	}
	if n := strings.Count(strings.Join(fake.calls, "\n"), "/messages"); n != 1 {
		t.Errorf("%d messages relayed, want 1 (the one sent while the handoff was open): %q", n, fake.calls)
	}
	fake.mu.Unlock()

	// The event stream replays the log after Last-Event-ID.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", chat+conv+"/events", nil)
	req.Header.Set("Last-Event-ID", "1")
	req.Header.Set("Origin", "http://localhost:9")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); ct != "text/event-stream" || res.Header.Get("Access-Control-Allow-Origin") != "http://localhost:9" {
		t.Errorf("events: %s, Access-Control-Allow-Origin %q", ct, res.Header.Get("Access-Control-Allow-Origin"))
	}
	sc := bufio.NewScanner(res.Body)
	var first []string
	for sc.Scan() && len(first) < 2 {
		if strings.HasPrefix(sc.Text(), "id: ") || strings.HasPrefix(sc.Text(), "data: ") {
			first = append(first, sc.Text())
		}
	}
	if strings.Join(first, "\n") != "id: 2\n"+`data: {"type":"customer","text":"Where is my parcel?"}` {
		t.Errorf("the stream after event 1 begins %q", first)
	}
	for _, bad := range []string{"x", "-1"} {
		req, _ := http.NewRequest("GET", chat+conv+"/events", nil)
		req.Header.Set("Last-Event-ID", bad)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 400 {
			t.Errorf("Last-Event-ID %q: %d, want 400", bad, res.StatusCode)
		}
	}
}

// TestCustomerPage: the page loads the widget from Baton, names the bot's
// chat endpoint, and forbids inline script; before Baton's address is
// known it is 503.
func TestCustomerPage(t *testing.T) {
	t.Parallel()
	b, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	get := func() (*http.Response, string) {
		res, err := http.Get(b.CustomerPage())
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var sb strings.Builder
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			sb.WriteString(sc.Text() + "\n")
		}
		return res, sb.String()
	}
	if res, _ := get(); res.StatusCode != 503 {
		t.Errorf("before Baton's address: %d", res.StatusCode)
	}
	base := "http://127.0.0.1:7"
	b.base.Store(&base)
	res, page := get()
	want := `<script src="http://127.0.0.1:7/static/widget.js" data-bot="` + strings.TrimSuffix(b.CustomerPage(), "/") + `/chat"></script>`
	if res.StatusCode != 200 || !strings.Contains(page, want) {
		t.Errorf("%d, page lacks %s:\n%s", res.StatusCode, want, page)
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src http://127.0.0.1:7;") {
		t.Errorf("CSP %q", csp)
	}
}
