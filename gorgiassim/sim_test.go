package gorgiassim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/batonhq/baton/gorgiassim"
)

type client struct {
	t    *testing.T
	base string
	u    gorgiassim.User
}

func (c client) do(method, path string, in any) (int, http.Header, map[string]any) {
	c.t.Helper()
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base+path, body)
	req.SetBasicAuth(c.u.Email, c.u.APIKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, resp.Header, out
}

func setup(t *testing.T, cfg gorgiassim.Config) (*gorgiassim.Sim, client) {
	s := gorgiassim.New(cfg)
	t.Cleanup(s.Close)
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	s.AddUser("agent@acme.test", "Gia")
	return s, client{t: t, base: srv.URL, u: s.AddUser("api@acme.test", "API")}
}

func TestAuthAndBucket(t *testing.T) {
	t.Parallel()
	_, c := setup(t, gorgiassim.Config{Limit: 2, Window: time.Minute})
	bad := c
	bad.u.APIKey = "nope"
	if st, _, out := bad.do("GET", "/api/account", nil); st != 401 || out["error"] == nil {
		t.Errorf("a wrong key: %d %v", st, out)
	}
	for i := range 2 {
		if st, h, _ := c.do("GET", "/api/account", nil); st != 200 || h.Get("X-Gorgias-Account-Api-Call-Limit") != "2/2" && i == 1 {
			t.Errorf("call %d: %d %q", i, st, h.Get("X-Gorgias-Account-Api-Call-Limit"))
		}
	}
	st, h, _ := c.do("GET", "/api/account", nil)
	if st != 429 || h.Get("Retry-after") == "" || h.Get("X-Gorgias-Account-Api-Call-Limit") != "2/2" {
		t.Errorf("over the bucket: %d, Retry-after %q, limit %q", st, h.Get("Retry-after"), h.Get("X-Gorgias-Account-Api-Call-Limit"))
	}
}

func TestTicketsAndPages(t *testing.T) {
	t.Parallel()
	s, c := setup(t, gorgiassim.Config{})
	msg := map[string]any{"channel": "api", "via": "api", "from_agent": false, "sender": map[string]any{"email": "ana@example.org"}, "body_text": "Hi"}
	for _, bad := range []map[string]any{
		{"channel": "api", "via": "api", "from_agent": false, "messages": []any{}},
		{"channel": "api", "via": "email", "from_agent": false, "messages": []any{msg}},
		{"channel": "api", "via": "api", "from_agent": false, "messages": []any{map[string]any{"channel": "api", "via": "api", "from_agent": false, "body_text": "x"}}},
	} {
		if st, _, out := c.do("POST", "/api/tickets", bad); st != 400 {
			t.Errorf("ticket %v: %d %v", bad, st, out)
		}
	}
	st, _, tk := c.do("POST", "/api/tickets", map[string]any{"channel": "api", "via": "api", "from_agent": false, "external_id": "h1", "messages": []any{msg}})
	if st != 201 || tk["status"] != "open" {
		t.Fatalf("create: %d %v", st, tk)
	}
	id := int64(tk["id"].(float64))
	if cs := s.Customers(); len(cs) != 1 || cs[0].Email != "ana@example.org" {
		t.Errorf("customer from sender.email: %+v", cs)
	}
	incomingWithReceiver := map[string]any{"channel": "api", "via": "api", "from_agent": false, "sender": map[string]any{"email": "ana@example.org"},
		"receiver": map[string]any{"email": "x@y.z"}, "body_text": "x"}
	path := "/api/tickets/" + itoa(id) + "/messages"
	if st, _, _ := c.do("POST", path, incomingWithReceiver); st != 400 {
		t.Errorf("an incoming message with a receiver: %d", st)
	}
	for range 4 {
		if st, _, _ := c.do("POST", path, msg); st != 201 {
			t.Fatal(st)
		}
	}
	var seen int
	cursor := ""
	for range 10 {
		q := "?limit=2"
		if cursor != "" {
			q += "&cursor=" + url.QueryEscape(cursor)
		}
		_, _, page := c.do("GET", path+q, nil)
		seen += len(page["data"].([]any))
		next, _ := page["meta"].(map[string]any)["next_cursor"].(string)
		if next == "" {
			break
		}
		cursor = next
	}
	if seen != 5 {
		t.Errorf("paged through %d messages, want 5", seen)
	}
	if st, _, out := c.do("GET", "/api/tickets?external_id=h1", nil); st != 200 || len(out["data"].([]any)) != 1 {
		t.Errorf("by external_id: %d %v", st, out)
	}
	if st, _, out := c.do("PUT", "/api/tickets/"+itoa(id), map[string]any{"status": "closed"}); st != 200 || out["closed_datetime"] == nil {
		t.Errorf("close: %d %v", st, out)
	}
}

func itoa(n int64) string { return strings.TrimSpace(jsonOf(n)) }

func jsonOf(v any) string { b, _ := json.Marshal(v); return string(b) }

// receiver records integration calls, failing the first fail of them.
type receiver struct {
	mu    sync.Mutex
	calls []*http.Request
	body  [][]byte
	fail  atomic.Int32
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	b, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	r.calls = append(r.calls, req)
	r.body = append(r.body, b)
	r.mu.Unlock()
	if r.fail.Add(-1) >= 0 {
		w.WriteHeader(503)
	}
}

func TestIntegration(t *testing.T) {
	t.Parallel()
	s, c := setup(t, gorgiassim.Config{Retry: []time.Duration{time.Millisecond, time.Millisecond}, MaxFailures: 5})
	rec := &receiver{}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	st, _, in := c.do("POST", "/api/integrations", map[string]any{"name": "x", "type": "http", "http": map[string]any{
		"url":    srv.URL + "/hook?t=S3CR3T&ticket={{ticket.id}}&text={{message.body_text}}&from_agent={{message.from_agent}}&ev={{event.type}}",
		"method": "POST", "headers": map[string]string{"X-Ticket": "{{ticket.external_id}}"},
		"form": map[string]string{"context": "{{context}}", "agent": "{{message.from_agent}}"}, "request_content_type": "application/json",
		"triggers": map[string]bool{"ticket-message-created": true, "ticket-updated": true}}})
	if st != 201 {
		t.Fatalf("integration: %d %v", st, in)
	}
	msg := map[string]any{"channel": "api", "via": "api", "from_agent": false, "sender": map[string]any{"email": "ana@example.org"}, "body_text": "a&b c"}
	_, _, tk := c.do("POST", "/api/tickets", map[string]any{"channel": "api", "via": "api", "from_agent": false, "external_id": "h1", "messages": []any{msg}})
	id := int64(tk["id"].(float64))
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	s.Flush(ctx)
	rec.mu.Lock()
	if len(rec.calls) != 1 {
		t.Fatalf("%d calls for the API's own message, want 1 (the echo)", len(rec.calls))
	}
	r := rec.calls[0]
	var body struct {
		Context struct {
			Message struct {
				FromAgent bool `json:"from_agent"`
			} `json:"message"`
		} `json:"context"`
		Agent string `json:"agent"`
	}
	json.Unmarshal(rec.body[0], &body)
	if q := r.URL.Query(); q.Get("text") != "a&b c" || q.Get("from_agent") != "False" || q.Get("ev") != "ticket-message-created" || r.Header.Get("X-Ticket") != "h1" || body.Agent != "False" {
		t.Errorf("rendered %s, headers %v, body %s", r.URL, r.Header, rec.body[0])
	}
	rec.mu.Unlock()

	// Retries on 5xx, then the integration is disabled after 5 failures in a row.
	rec.fail.Store(2)
	s.Reply(id, "agent@acme.test", "one")
	s.Flush(ctx)
	ds := s.Deliveries()
	if last := ds[len(ds)-1]; last.Attempt != 3 || last.Status != 200 {
		t.Errorf("the third attempt: %+v", last)
	}
	rec.fail.Store(100)
	s.Reply(id, "agent@acme.test", "two")
	s.Reply(id, "agent@acme.test", "three")
	s.Flush(ctx)
	if ins := s.Integrations(); ins[0].Deactivated == nil {
		t.Errorf("after %d failures the integration is still active", s.Failures(ins[0].ID))
	}

	// Reordering on demand.
	_, _, in2 := c.do("PUT", "/api/integrations/"+jsonOf(in["id"]), map[string]any{"name": "x", "http": in["http"]})
	if in2["deactivated_datetime"] != nil {
		t.Errorf("saving did not re-enable: %v", in2)
	}
	rec.fail.Store(0)
	rec.mu.Lock()
	rec.calls, rec.body = nil, nil
	rec.mu.Unlock()
	s.Hold()
	s.Reply(id, "agent@acme.test", "first")
	s.Reply(id, "agent@acme.test", "second")
	s.Release(true)
	s.Flush(ctx)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.calls) != 2 || rec.calls[0].URL.Query().Get("text") != "second" {
		t.Errorf("released in reverse: %d calls", len(rec.calls))
	}
}

func TestDriverHTTP(t *testing.T) {
	t.Parallel()
	s, c := setup(t, gorgiassim.Config{})
	msg := map[string]any{"channel": "api", "via": "api", "from_agent": false, "sender": map[string]any{"email": "ana@example.org"}, "body_text": "Hi"}
	_, _, tk := c.do("POST", "/api/tickets", map[string]any{"channel": "api", "via": "api", "from_agent": false, "messages": []any{msg}})
	id := itoa(int64(tk["id"].(float64)))
	for _, step := range []struct{ path, body string }{
		{"/reply", `{"agent":"agent@acme.test","text":"Hello"}`},
		{"/note", `{"agent":"agent@acme.test","text":"psst"}`},
		{"/close", `{"agent":"agent@acme.test"}`},
	} {
		resp, err := http.Post(c.base+"/_sim/tickets/"+id+step.path, "application/json", strings.NewReader(step.body))
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: %v %v", step.path, resp.StatusCode, err)
		}
		resp.Body.Close()
	}
	got := s.Tickets()[0]
	if got.Status != "closed" || len(got.Messages) != 3 || !got.Messages[1].FromAgent || got.Messages[2].Channel != "internal-note" || got.Messages[2].Public {
		t.Errorf("ticket %+v", got)
	}
}
