package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/batonhq/baton"
)

// The fuzz targets below send arbitrary bodies through the real handler
// (middleware, decoding, the engine, SQLite) in memory, and check every
// answer: never a 5xx, a 4xx is a problem+json whose status matches, a 2xx is
// JSON, and every answer is what openapi.yaml documents for its route.

// inMemory serves requests with the handler, without a network.
type inMemory struct{ h http.Handler }

func (m inMemory) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	m.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}

// fuzzWorld is a fixture with the handoffs the fuzzed requests aim at, made
// again when a request has ended or moved them on.
type fuzzWorld struct {
	fx       *fixture
	h        http.Handler
	contract *contract

	mu                     sync.Mutex
	n                      int
	open, email, claimed   string // handoff ids: queued or active; needs_email; held by Ada
	openCID, hook, hookCID string // conversation of open; a webhook-desk handoff and its conversation
}

func newFuzzWorld(f *testing.F) *fuzzWorld {
	fx := newFixture(f)
	w := &fuzzWorld{fx: fx, h: fx.srv.Config.Handler}
	w.contract = newContract(f, "http://baton.test", inMemory{w.h})
	return w
}

// send makes one request in memory; the contract checks the answer against
// openapi.yaml and reports to t.
func (w *fuzzWorld) send(t testing.TB, method, path, key, idem string, body []byte) (int, http.Header, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(offSpec(context.Background()), defaultTimeout)
	defer cancel()
	r := httptest.NewRequestWithContext(ctx, method, "http://baton.test"+path, bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	if key != "" {
		r.Header.Set("Authorization", "Bearer "+key)
	}
	if idem != "" {
		r.Header.Set(idempotencyHeader, idem)
	}
	c := &contract{t: t, router: w.contract.router, next: w.contract.next, opts: w.contract.opts}
	resp, err := c.RoundTrip(r)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

// state reads a handoff's state, "" if it cannot.
func (w *fuzzWorld) state(id string) baton.Handoff {
	if id == "" {
		return baton.Handoff{}
	}
	h, err := w.fx.eng.Handoff(context.Background(), ws1, id)
	if err != nil {
		return baton.Handoff{}
	}
	return h
}

// create asks for a handoff on desk (the bot's own when "") and returns its
// id and conversation, waiting until it is queued when queued is set.
func (w *fuzzWorld) create(t testing.TB, desk string, email, queued bool) (id, cid string) {
	t.Helper()
	w.n++
	cid = fmt.Sprintf("c-fuzz-%d-%d", time.Now().UnixNano(), w.n)
	body := createBody(cid)
	if desk != "" {
		body["desk_id"] = desk
	}
	if !email {
		delete(body["customer"].(map[string]any), "email")
	}
	b, _ := json.Marshal(body)
	status, _, out := w.send(t, "POST", "/v1/handoffs", key1, "", b)
	var h wireHandoff
	if err := json.Unmarshal(out, &h); status != http.StatusCreated || err != nil {
		t.Fatalf("create: %d %s", status, out)
	}
	if queued && !w.fx.afterJobs(func() bool { return w.state(h.ID).State == baton.Queued }) {
		t.Fatalf("handoff %s never queued: %+v", h.ID, w.state(h.ID))
	}
	return h.ID, cid
}

// refresh makes again the handoffs that ended or moved on.
func (w *fuzzWorld) refresh(t testing.TB) {
	t.Helper()
	if h := w.state(w.open); h.ID == "" || h.State == baton.Ended {
		w.open, w.openCID = w.create(t, "", true, false)
	}
	if h := w.state(w.email); h.ID == "" || !h.NeedsEmail {
		w.email, _ = w.create(t, emailDesk, false, false)
	}
	if h := w.state(w.claimed); h.ID == "" || h.State == baton.Ended || h.Agent.ID != agentAda {
		id, _ := w.create(t, "", true, true)
		if status, _, out := w.send(t, "POST", "/v1/inbox/handoffs/"+id+"/claim", agentKey1, "", nil); status != http.StatusOK {
			t.Fatalf("claim: %d %s", status, out)
		}
		w.claimed = id
	}
	if h := w.state(w.hook); h.ID == "" || h.State == baton.Ended {
		w.hook, w.hookCID = w.create(t, hookDesk, true, true)
	}
}

// checkAnswer asserts what every answer to a fuzzed request must be.
func checkAnswer(t *testing.T, method, path string, body []byte, status int, h http.Header, out []byte) {
	t.Helper()
	ct, _, _ := mime.ParseMediaType(h.Get("Content-Type"))
	switch {
	case status >= 500:
		t.Fatalf("%s %s with body %q: %d %s", method, path, body, status, out)
	case status >= 400:
		var p problem
		if ct != "application/problem+json" {
			t.Fatalf("%s %s: %d with Content-Type %q: %s", method, path, status, ct, out)
		}
		if err := json.Unmarshal(out, &p); err != nil || p.Status != status || p.Code == "" || p.Title != http.StatusText(status) || p.Type != "about:blank" {
			t.Fatalf("%s %s: %d with problem %s (%v)", method, path, status, out, err)
		}
		if p.Code == baton.EINTERNAL || p.Code == baton.EUNAVAILABLE {
			t.Fatalf("%s %s: %d with code %s", method, path, status, p.Code)
		}
	case status >= 200 && status < 300:
		if ct != "application/json" || !json.Valid(out) {
			t.Fatalf("%s %s: %d with Content-Type %q and body %q", method, path, status, ct, out)
		}
	default:
		t.Fatalf("%s %s: unexpected status %d", method, path, status)
	}
}

// targetID picks the id a fuzzed request aims at.
func (w *fuzzWorld) targetID(pick uint8, fuzzed string, ids ...string) string {
	all := append(ids, "ho_missing", fuzzed)
	return all[int(pick)%len(all)]
}

// apiSeeds are bodies worth starting from, valid and tricky, for every route.
var apiSeeds = []string{
	``,
	`{}`,
	`null`,
	`[1,2]`,
	`{"conversation_id": "c-x" "customer": {}}`,
	`{"conversation_id":"c-s1","customer":{"id":"u1","name":"Grace","email":"grace@example.com","metadata":{"plan":"pro"}},"history":[{"author":"customer","text":"Hello"},{"author":"bot","text":"Hi"}],"question":"Where is my parcel?","routing":"billing"}`,
	`{"conversation_id":"c-s2","customer":{"id":"u2"},"question":"q","desk_id":"dk_closed"}`,
	`{"conversation_id":"c-s3","customer":{"id":"u3"},"question":"q","desk_id":"dk_email"}`,
	`{"conversation_id":"c-s4","customer":{"id":"u4","email":"not an email"},"history":[{"author":"agent","text":"x"}]}`,
	`{"conversation_id":"c-s5","customer":{"id":"u5","metadata":{"a":{"b":[1,{"c":null}]}}},"history":[{"author":"customer","text":"","attachments":[{"url":"javascript:alert(1)"}]}]}`,
	`{"conversation_id":"c-s6","customer":{"id":1}}`,
	`{"conversation_id":"c-s7","customer":{"id":"u7"},"unknown":true}`,
	`{"conversation_id":"c-s8","customer":{"id":"u8"},"history":[{"author":"customer","text":"hi","attachments":[{"url":"https://x.example/a","size":"12"}]}]}`,
	`{"conversation_id":"","customer":{"id":""}}`,
	`{"conversation_id":"c-s9","customer":{"id":"u9"},"question":"q"}{"conversation_id":"c-s9"}`,
	`{"conversation_id":"c-s10","bot_id":"bot_two","customer":{"id":"u10"}}`,
	`{"text":"where is it?"}`,
	`{"text":"","attachments":[{"url":"https://files.example/a.png","name":"a.png","type":"image/png","size":123}]}`,
	`{"text":"x","attachments":[{"url":"ftp://files.example/a"}]}`,
	`{"text":"x","attachments":{"url":"https://files.example/a"}}`,
	`{"text":"\u0000\ud800"}`,
	`{"email":"grace@example.com"}`,
	`{"email":"Grace <grace@example.com>"}`,
	`{"email":""}`,
	`{"reason":"bot_closed"}`,
	`{"reason":"customer_closed"}`,
	`{"reason":"agent_closed"}`,
	`{"reason":7}`,
	`{"epoch":0,"text":"hello"}`,
	`{"epoch":-1,"text":"hello","bot_id":"bot_one"}`,
	`{"epoch":9223372036854775807,"text":"hello"}`,
	`{"epoch":1e400,"text":"hello"}`,
	`{"epoch":1.5}`,
	`{"text":"hello"}`,
	`{"hint":"billing"}`,
	`{"bot_id":"bot_nope","hint":""}`,
	`{"customer":{"metadata":{"k":"` + strings.Repeat("v", 300) + `"}}}`,
}

// FuzzBotAPI checks the bot API's POST routes (create handoff, messages,
// email, end, keep-waiting, transfer, bot-messages) with any body and
// Idempotency-Key: never a 5xx, 4xx answers are problem+json, and every
// answer is documented in openapi.yaml.
func FuzzBotAPI(f *testing.F) {
	routes := []string{"/v1/handoffs", "/v1/handoffs/%s/messages", "/v1/handoffs/%s/email", "/v1/handoffs/%s/end",
		"/v1/handoffs/%s/keep-waiting", "/v1/conversations/%s/transfer", "/v1/conversations/%s/bot-messages"}
	for i, s := range apiSeeds {
		f.Add(uint8(i), uint8(i/len(routes)), "", "", []byte(s))
		f.Add(uint8(i+3), uint8(i), "", "", []byte(s))
	}
	f.Add(uint8(0), uint8(0), "idem-1", "", []byte(apiSeeds[5]))
	f.Add(uint8(1), uint8(3), strings.Repeat("k", 300), "ho_/../x", []byte(`{"text":"x"}`))
	f.Add(uint8(6), uint8(2), "", "c%2F1", []byte(`{"epoch":1,"text":"x"}`))
	w := newFuzzWorld(f)
	f.Fuzz(func(t *testing.T, route, target uint8, idem, id string, body []byte) {
		if len(body) > 64<<10 || len(id) > 200 || strings.ContainsAny(id, "?#") {
			return
		}
		w.mu.Lock()
		defer w.mu.Unlock()
		w.refresh(t)
		tmpl := routes[int(route)%len(routes)]
		var path string
		switch {
		case !strings.Contains(tmpl, "%s"):
			path = tmpl
		case strings.HasPrefix(tmpl, "/v1/conversations/"):
			path = fmt.Sprintf(tmpl, w.targetID(target, id, w.openCID, "c-never-seen"))
		default:
			path = fmt.Sprintf(tmpl, w.targetID(target, id, w.open, w.email, w.claimed))
		}
		if !validPath(path) {
			return
		}
		status, h, out := w.send(t, "POST", path, key1, idem, body)
		checkAnswer(t, "POST", path, body, status, h, out)
	})
}

// FuzzInboxAPI checks the inbox agent routes (claim, reply, end) with any
// body and Idempotency-Key: never a 5xx, 4xx answers are problem+json, and
// every answer is documented in openapi.yaml.
func FuzzInboxAPI(f *testing.F) {
	routes := []string{"/v1/inbox/handoffs/%s/claim", "/v1/inbox/handoffs/%s/messages", "/v1/inbox/handoffs/%s/end"}
	for i, s := range apiSeeds {
		f.Add(uint8(i), uint8(i/len(routes)), false, "", []byte(s))
		f.Add(uint8(i+1), uint8(i), i%2 == 0, "", []byte(s))
	}
	f.Add(uint8(1), uint8(1), true, "reply-1", []byte(`{"text":"Hello, Ada here."}`))
	f.Add(uint8(0), uint8(0), true, "claim-1", []byte(`{}`))
	w := newFuzzWorld(f)
	f.Fuzz(func(t *testing.T, route, target uint8, bob bool, idem string, body []byte) {
		if len(body) > 64<<10 {
			return
		}
		w.mu.Lock()
		defer w.mu.Unlock()
		w.refresh(t)
		key := agentKey1
		if bob {
			key = agentKey2
		}
		path := fmt.Sprintf(routes[int(route)%len(routes)], w.targetID(target, "", w.open, w.claimed, w.email))
		status, h, out := w.send(t, "POST", path, key, idem, body)
		checkAnswer(t, "POST", path, body, status, h, out)
	})
}

// FuzzInboundAPI checks the webhook desk's inbound routes through the API
// with any body, the right or a wrong secret: never a 5xx, a wrong secret is
// always a 401, 4xx answers are problem+json, and every answer is documented
// in openapi.yaml. "{{ref}}" in a body stands for a live handoff.
func FuzzInboundAPI(f *testing.F) {
	paths := []string{"message", "close", "join", "v1/human/message/receive", "nope"}
	for i, s := range []string{
		`{"istest":true}`,
		`{"conversation_id":"{{ref}}","timestamp":1742265100000,"body":"Hi, Zoe here.","message_id":"m-1","agent":{"id":"zoe","name":"Zoe"}}`,
		`{"conversation_id":"{{ref}}","timestamp":"1742265100001","body":"","attachments":[{"url":"https://crm.example/f.pdf","name":"f.pdf","size":10}]}`,
		`{"conversation_id":"{{ref}}","timestamp":1742265100002}`,
		`{"conversation_id":"{{ref}}","agent":{"id":"zoe"}}`,
		`{"conversation_id":"ho_unknown","body":"hello?","message_id":"m-2"}`,
		`{"conversation_id":"{{ref}}","body":"x"}`,
		`{"conversation_id":`,
		`[]`,
		``,
	} {
		for p := range paths {
			f.Add(uint8(p), uint8(i%3), []byte(s))
		}
	}
	w := newFuzzWorld(f)
	f.Fuzz(func(t *testing.T, pick, auth uint8, body []byte) {
		if len(body) > 64<<10 {
			return
		}
		w.mu.Lock()
		defer w.mu.Unlock()
		w.refresh(t)
		body = bytes.ReplaceAll(body, []byte("{{ref}}"), []byte(w.hook))
		path := "/v1/desks/" + hookDesk + "/inbound/" + paths[int(pick)%len(paths)]
		key := []string{hookSecret, hookSecret, "not-the-secret"}[int(auth)%3]
		status, h, out := w.send(t, "POST", path, key, "", body)
		checkAnswer(t, "POST", path, body, status, h, out)
		if key != hookSecret && status != http.StatusUnauthorized {
			t.Fatalf("a wrong secret got %d %s", status, out)
		}
	})
}

// validPath reports whether path can be sent as a request target and is
// already clean: ServeMux answers a path with "//", "/./" or "/../" segments
// with a 307 redirect to its clean form (testdata/fuzz/FuzzBotAPI/27d8b2cc079c8617),
// which is not about the body; such ids are left out.
func validPath(p string) bool {
	// httptest.NewRequest reads the target as a request line does: no
	// fragment, no control characters (testdata/fuzz/FuzzBotQuery/f277f7d6b417c384).
	_, err := url.ParseRequestURI(p)
	route, _, _ := strings.Cut(p, "?")
	return err == nil && !strings.ContainsFunc(p, func(r rune) bool { return r <= ' ' || r == 0x7f || r == '#' }) && path.Clean(route) == route
}

// FuzzBotQuery checks the bot API's and the inbox's GET routes with any query
// string (after, limit, bot_id, desk_id) and Last-Event-ID-free reads: never a
// 5xx, 4xx answers are problem+json, and every answer is documented in
// openapi.yaml.
func FuzzBotQuery(f *testing.F) {
	routes := []string{"/v1/events", "/v1/availability", "/v1/conversations/%s", "/v1/handoffs/%s", "/v1/inbox/handoffs", "/v1/inbox/handoffs/%s/messages"}
	for i, q := range []string{"", "after=0", "after=-1", "after=9223372036854775808", "after=1&limit=1", "limit=0", "limit=101", "limit=1e2",
		"bot_id=bot_one", "bot_id=bot_two", "desk_id=dk_closed", "desk_id=dk_email&bot_id=bot_one", "desk_id=dk_nope", "bot_id=%zz", "after=1&after=2", "a;b=c"} {
		for r := range routes {
			f.Add(uint8(r), uint8(i), q)
		}
	}
	w := newFuzzWorld(f)
	f.Fuzz(func(t *testing.T, route, target uint8, query string) {
		if len(query) > 4<<10 {
			return
		}
		w.mu.Lock()
		defer w.mu.Unlock()
		w.refresh(t)
		tmpl := routes[int(route)%len(routes)]
		path := tmpl
		if strings.Contains(tmpl, "%s") {
			ids := []string{w.open, w.claimed, w.email}
			if strings.HasPrefix(tmpl, "/v1/conversations/") {
				ids = []string{w.openCID, "c-never-seen"}
			}
			path = fmt.Sprintf(tmpl, w.targetID(target, "", ids...))
		}
		key := key1
		if strings.HasPrefix(path, "/v1/inbox/") {
			key = agentKey1
		}
		if query != "" {
			path += "?" + query
		}
		if !validPath(path) {
			return
		}
		status, h, out := w.send(t, "GET", path, key, "", nil)
		checkAnswer(t, "GET", path, nil, status, h, out)
	})
}
