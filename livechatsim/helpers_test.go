package livechatsim

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// sameShape compares decoded JSON with the package's comparator.
func sameShape(path string, want, got any) []string { return shape(path, want, got, false) }

func fixture(t *testing.T, name string) any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return v
}

func checkShape(t *testing.T, name string, got any) {
	t.Helper()
	if raw, ok := got.([]byte); ok {
		if err := json.Unmarshal(raw, &got); err != nil {
			t.Fatalf("%s: body is not JSON: %v", name, err)
		}
	}
	for _, d := range sameShape(strings.TrimSuffix(name, ".json"), fixture(t, name), got) {
		t.Error(d)
	}
}

// dig walks decoded JSON: strings index objects, ints index arrays.
func dig(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			a, _ := v.([]any)
			if k >= len(a) {
				return nil
			}
			v = a[k]
		}
	}
	return v
}

func str(v any, path ...any) string { s, _ := dig(v, path...).(string); return s }

// Webhook receiver.

type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	bodies   [][]byte
	statuses []int // answered in order; then 200
	delay    time.Duration
	slow     int // the first slow requests wait delay before answering
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.bodies = append(rc.bodies, b)
		status := http.StatusOK
		if len(rc.statuses) > 0 {
			status, rc.statuses = rc.statuses[0], rc.statuses[1:]
		}
		var delay time.Duration
		if rc.slow > 0 {
			rc.slow--
			delay = rc.delay
		}
		rc.mu.Unlock()
		if r.Header.Get("Content-Type") != "application/json" {
			status = http.StatusUnsupportedMediaType
		}
		if delay > 0 {
			select {
			case <-time.After(delay):
			case <-r.Context().Done():
			}
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(rc.Close)
	return rc
}

// Test environment.

type env struct {
	t     *testing.T
	sim   *Sim
	srv   *httptest.Server
	app   App
	smith Agent
	rc    *receiver
}

const (
	customerAPIPath = "/v3.6/customer/action/"
	agentAPIPath    = "/v3.6/agent/action/"
	configAPIPath   = "/v3.6/configuration/action/"
)

// newEnv: group 19 "Sport shoes", an app, administrator smith@example.com
// accepting chats in groups 0 and 19, and a webhook receiver. Webhook
// retries are fast.
func newEnv(t *testing.T) *env {
	t.Helper()
	sim := New(Config{Retry: []time.Duration{5 * time.Millisecond, 5 * time.Millisecond, 5 * time.Millisecond},
		Timeout: 300 * time.Millisecond})
	t.Cleanup(sim.Close)
	sim.AddGroup(19, "Sport shoes")
	app := sim.AddApp(App{RedirectURI: "https://baton.example/livechat"})
	smith, err := sim.AddAgent(Agent{ID: "smith@example.com", Name: "Agent Smith", Role: "administrator",
		Groups: map[int]string{0: "normal", 19: "normal"}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	return &env{t: t, sim: sim, srv: srv, app: app, smith: smith, rc: newReceiver(t)}
}

// do sends a request and decodes the JSON answer.
func (e *env) do(method, path, auth string, body any) (int, any) {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var v any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &v); err != nil {
			e.t.Fatalf("%s %s: answer is not JSON: %q", method, path, raw)
		}
	}
	return resp.StatusCode, v
}

// ok posts to a LiveChat method and requires 200.
func (e *env) ok(path, auth string, body any) any {
	e.t.Helper()
	st, v := e.do("POST", path, auth, body)
	if st != http.StatusOK {
		e.t.Fatalf("POST %s: %d %v", path, st, v)
	}
	return v
}

// fails posts and requires an error of the given status and type.
func (e *env) fails(path, auth string, body any, status int, typ string) any {
	e.t.Helper()
	st, v := e.do("POST", path, auth, body)
	if st != status || str(v, "error", "type") != typ {
		e.t.Fatalf("POST %s: want %d %s, got %d %v", path, status, typ, st, v)
	}
	return v
}

func (e *env) agent(method string, body any) any {
	return e.ok(agentAPIPath+method, e.smith.Basic(), body)
}
func (e *env) config(method string, body any) any {
	return e.ok(configAPIPath+method, e.smith.Basic(), body)
}

func (e *env) customerPath(method string) string {
	return customerAPIPath + method + "?organization_id=" + e.sim.OrganizationID()
}

// customer mints a customer with the cookie grant; it returns the token and id.
func (e *env) customer() (string, string) {
	e.t.Helper()
	v := e.ok("/v2/customer/token", "", obj{"grant_type": "cookie", "client_id": e.app.ClientID,
		"response_type": "token", "organization_id": e.sim.OrganizationID(), "redirect_uri": e.app.RedirectURI})
	return "Bearer " + str(v, "access_token"), str(v, "entity_id")
}

// hook registers a webhook to the receiver for action.
func (e *env) hook(action string, f Filters, additional ...string) string {
	e.t.Helper()
	id, err := e.sim.AddWebhook(Webhook{URL: e.rc.URL, Action: action, SecretKey: "laudla991lamda0pnoaa0",
		Type: "license", OwnerClientID: e.app.ClientID, AdditionalData: additional, Filters: f})
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

func (e *env) flush() {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.sim.Flush(ctx); err != nil {
		e.t.Fatal(err)
	}
}

// sent flushes and returns the delivered envelopes of an action, decoded.
func (e *env) sent(action string) []any {
	e.t.Helper()
	e.flush()
	var out []any
	for _, d := range e.sim.Webhooks() {
		if d.Action == action {
			var v any
			if err := json.Unmarshal(d.Body, &v); err != nil {
				e.t.Fatal(err)
			}
			out = append(out, v)
		}
	}
	return out
}

func newJarClient(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// decode reads a JSON answer.
func decode(t *testing.T, resp *http.Response) any {
	t.Helper()
	defer resp.Body.Close()
	var v any
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatalf("answer is not JSON: %v", err)
	}
	return v
}

func (rc *receiver) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.bodies)
}
