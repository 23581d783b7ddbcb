package intercomsim_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/batonhq/baton/intercomsim"
)

// api is a test client of a simulator.
type api struct {
	t    *testing.T
	base string
	tok  string
}

func newAPI(t *testing.T, cfg intercomsim.Config) (*intercomsim.Sim, api, intercomsim.Admin) {
	t.Helper()
	s := intercomsim.New(cfg)
	t.Cleanup(s.Close)
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	a, tok := s.AddAdmin("Ivy", "ivy@acme.test")
	return s, api{t, srv.URL, tok}, a
}

func (c api) call(method, path string, in any, out any) (int, http.Header) {
	c.t.Helper()
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base+path, body)
	req.Header.Set("Authorization", "Bearer "+c.tok)
	req.Header.Set("Intercom-Version", "2.16")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode, resp.Header
}

type errList struct {
	Type   string `json:"type"`
	Errors []struct{ Code, Message string }
}

func TestAuthAndVersion(t *testing.T) {
	t.Parallel()
	_, c, ivy := newAPI(t, intercomsim.Config{})
	var me struct{ Type, ID string }
	if s, h := c.call("GET", "/me", nil, &me); s != 200 || me.ID != ivy.ID || h.Get("X-RateLimit-Limit") == "" || h.Get("X-RateLimit-Reset") == "" {
		t.Fatalf("GET /me: %d %+v %v", s, me, h)
	}
	bad := c
	bad.tok = "nope"
	var el errList
	if s, _ := bad.call("GET", "/me", nil, &el); s != 401 || el.Type != "error.list" || el.Errors[0].Code != "unauthorized" {
		t.Errorf("a wrong token: %d %+v", s, el)
	}
	req, _ := http.NewRequest("GET", c.base+"/me", nil)
	req.Header.Set("Authorization", "Bearer "+c.tok)
	req.Header.Set("Intercom-Version", "9.9")
	resp, _ := http.DefaultClient.Do(req)
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("an unknown version: %d", resp.StatusCode)
	}
}

func TestContactsConflictAndIndex(t *testing.T) {
	t.Parallel()
	_, c, _ := newAPI(t, intercomsim.Config{IndexDelay: time.Hour})
	var ct struct{ ID string }
	if s, _ := c.call("POST", "/contacts", map[string]string{"role": "user", "external_id": "u1", "email": "a@x.org"}, &ct); s != 200 || len(ct.ID) != 24 {
		t.Fatalf("create: %d %+v", s, ct)
	}
	var el errList
	if s, _ := c.call("POST", "/contacts", map[string]string{"external_id": "u1"}, &el); s != 409 || !strings.HasSuffix(el.Errors[0].Message, "id="+ct.ID) {
		t.Errorf("duplicate: %d %+v", s, el)
	}
	var l struct{ Data []any }
	q := map[string]any{"query": map[string]string{"field": "external_id", "operator": "=", "value": "u1"}}
	if s, _ := c.call("POST", "/contacts/search", q, &l); s != 200 || len(l.Data) != 0 {
		t.Errorf("search within the index delay: %d %d found", s, len(l.Data))
	}
	if s, _ := c.call("GET", "/contacts/find_by_external_id/u1", nil, nil); s != 200 {
		t.Errorf("find_by_external_id: %d", s)
	}
	if s, _ := c.call("POST", "/contacts", map[string]string{}, &el); s != 400 {
		t.Errorf("an empty contact: %d", s)
	}
}

func TestConversationStates(t *testing.T) {
	t.Parallel()
	s, c, ivy := newAPI(t, intercomsim.Config{Version: "2.11"})
	var ct struct{ ID string }
	c.call("POST", "/contacts", map[string]string{"external_id": "u1"}, &ct)
	var el errList
	if st, _ := c.call("POST", "/conversations", map[string]any{"from": map[string]string{"type": "user", "id": "nope"}, "body": "x"}, &el); st != 404 {
		t.Errorf("an unknown contact: %d", st)
	}
	if st, _ := c.call("POST", "/conversations", map[string]any{"from": map[string]string{"type": "visitor", "id": ct.ID}, "body": "x"}, &el); st != 400 {
		t.Errorf("from.type visitor: %d", st)
	}
	var msg struct {
		ConversationID string `json:"conversation_id"`
	}
	if st, _ := c.call("POST", "/conversations", map[string]any{"from": map[string]string{"type": "user", "id": ct.ID}, "body": "Help"}, &msg); st != 200 || msg.ConversationID == "" {
		t.Fatalf("create: %d %+v", st, msg)
	}
	id := msg.ConversationID
	urls := make([]string, 11)
	for i := range urls {
		urls[i] = "https://f.example/x.png"
	}
	if st, _ := c.call("POST", "/conversations/"+id+"/reply", map[string]any{"message_type": "comment", "type": "user", "intercom_user_id": ct.ID, "body": "x", "attachment_urls": urls}, &el); st != 400 {
		t.Errorf("11 attachment URLs: %d", st)
	}
	if st, _ := c.call("POST", "/conversations/last/reply", map[string]any{"message_type": "comment", "type": "user", "user_id": "u1", "body": "via last"}, nil); st != 200 {
		t.Errorf("reply to last: %d", st)
	}
	part := func(in map[string]any) int {
		st, _ := c.call("POST", "/conversations/"+id+"/parts", in, &el)
		return st
	}
	if st := part(map[string]any{"message_type": "snoozed", "admin_id": ivy.ID, "snoozed_until": time.Now().Add(-time.Hour).Unix()}); st != 400 {
		t.Errorf("a snooze in the past: %d", st)
	}
	if st := part(map[string]any{"message_type": "snoozed", "admin_id": ivy.ID, "snoozed_until": time.Now().Add(time.Hour).Unix()}); st != 200 {
		t.Errorf("snooze: %d", st)
	}
	if st := part(map[string]any{"message_type": "close", "type": "admin", "admin_id": ivy.ID}); st != 200 {
		t.Errorf("close: %d", st)
	}
	if st := part(map[string]any{"message_type": "snoozed", "admin_id": ivy.ID, "snoozed_until": time.Now().Add(time.Hour).Unix()}); st != 400 {
		t.Errorf("snoozing a closed conversation: %d", st)
	}
	c.call("POST", "/conversations/"+id+"/reply", map[string]any{"message_type": "comment", "type": "user", "intercom_user_id": ct.ID, "body": "again"}, nil)
	var conv struct {
		State string
		Parts struct {
			Parts []struct {
				PartType string `json:"part_type"`
				Body     string
			} `json:"conversation_parts"`
		} `json:"conversation_parts"`
	}
	req, _ := http.NewRequest("GET", c.base+"/conversations/"+id, nil)
	req.Header.Set("Authorization", "Bearer "+c.tok)
	req.Header.Set("Intercom-Version", "2.11")
	resp, _ := http.DefaultClient.Do(req)
	json.NewDecoder(resp.Body).Decode(&conv)
	resp.Body.Close()
	if conv.State != "open" || len(conv.Parts.Parts) != 4 || conv.Parts.Parts[0].Body != "<p>via last</p>" {
		t.Errorf("a user reply reopens, bodies are HTML before 2.15: %+v", conv)
	}
	if got, _ := s.Conversation(id); got.State != "open" {
		t.Errorf("state %s", got.State)
	}
}

// receiver records the webhooks it is sent, answering with status.
type receiver struct {
	mu     sync.Mutex
	heads  int
	bodies [][]byte
	sigs   []string
	status []int // answers to give, in order; 200 after
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if r.Method == http.MethodHead {
		rc.heads++
		return
	}
	b, _ := io.ReadAll(r.Body)
	rc.bodies = append(rc.bodies, b)
	rc.sigs = append(rc.sigs, r.Header.Get("X-Hub-Signature"))
	if len(rc.status) > 0 {
		w.WriteHeader(rc.status[0])
		rc.status = rc.status[1:]
	}
}

type envelope struct {
	Type     string  `json:"type"`
	ID       *string `json:"id"`
	Topic    string  `json:"topic"`
	Attempts int     `json:"delivery_attempts"`
	Data     struct {
		Item struct {
			ID    string `json:"id"`
			Parts struct {
				Parts []struct {
					PartType string `json:"part_type"`
					Body     string `json:"body"`
				} `json:"conversation_parts"`
			} `json:"conversation_parts"`
		} `json:"item"`
	} `json:"data"`
}

func TestWebhooks(t *testing.T) {
	t.Parallel()
	s, c, ivy := newAPI(t, intercomsim.Config{ClientSecret: "client-secret", Retry: []time.Duration{time.Millisecond, time.Millisecond}})
	rc := &receiver{status: []int{200, 200, 500, 429}} // the ping, user.created, then the reply's first two
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	ctx := context.Background()
	if _, err := s.Subscribe(ctx, srv.URL+"/hook"); err != nil {
		t.Fatal(err)
	}
	var ct struct{ ID string }
	c.call("POST", "/contacts", map[string]string{"external_id": "u1"}, &ct)
	var msg struct {
		ConversationID string `json:"conversation_id"`
	}
	c.call("POST", "/conversations", map[string]any{"from": map[string]string{"type": "user", "id": ct.ID}, "body": "Help"}, &msg)
	if _, err := s.Reply(msg.ConversationID, ivy.ID, "Hello"); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.heads != 1 {
		t.Errorf("%d HEAD probes, want 1", rc.heads)
	}
	var envs []envelope
	for i, b := range rc.bodies {
		m := hmac.New(sha1.New, []byte("client-secret"))
		m.Write(b)
		if want := "sha1=" + hex.EncodeToString(m.Sum(nil)); rc.sigs[i] != want {
			t.Errorf("delivery %d signed %s, want %s", i, rc.sigs[i], want)
		}
		var e envelope
		json.Unmarshal(b, &e)
		envs = append(envs, e)
	}
	// ping, user.created, then admin.replied three times (500, 429, 200).
	if len(envs) != 5 || envs[0].Topic != "ping" || envs[0].ID != nil || envs[1].Topic != "conversation.user.created" {
		t.Fatalf("deliveries %+v", envs)
	}
	r := envs[2:]
	for i, e := range r {
		if e.Topic != "conversation.admin.replied" || e.ID == nil || *e.ID != *r[0].ID || e.Attempts != i+1 ||
			len(e.Data.Item.Parts.Parts) != 1 || e.Data.Item.Parts.Parts[0].Body != "Hello" {
			t.Errorf("attempt %d: %+v", i+1, e)
		}
	}
}

// TestHTTPDriver acts as an admin through /_sim/: the webhook is saved,
// a reply with a file, a snooze and a close go out as notifications.
func TestHTTPDriver(t *testing.T) {
	t.Parallel()
	s, c, ivy := newAPI(t, intercomsim.Config{})
	rc := &receiver{}
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	post := func(path string, in any) int {
		b, _ := json.Marshal(in)
		resp, err := http.Post(c.base+path, "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if st := post("/_sim/webhooks", map[string]any{"url": srv.URL, "topics": []string{"conversation.admin.replied", "conversation.admin.snoozed", "conversation.admin.closed"}}); st != 200 {
		t.Fatalf("saving the webhook: %d", st)
	}
	var ct struct{ ID string }
	c.call("POST", "/contacts", map[string]string{"email": "a@x.org"}, &ct)
	var msg struct {
		ConversationID string `json:"conversation_id"`
	}
	c.call("POST", "/conversations", map[string]any{"from": map[string]string{"type": "user", "id": ct.ID}, "body": "Help"}, &msg)
	id := msg.ConversationID
	for _, step := range []struct {
		verb string
		in   map[string]any
	}{
		{"reply", map[string]any{"admin_id": ivy.ID, "text": "Form attached", "attachments": []map[string]string{{"url": "https://f.example/form.pdf", "name": "form.pdf"}}}},
		{"snooze", map[string]any{"admin_id": ivy.ID, "until": time.Now().Add(time.Hour).Unix()}},
		{"close", map[string]any{"admin_id": ivy.ID}},
	} {
		if st := post("/_sim/conversations/"+id+"/"+step.verb, step.in); st != 200 {
			t.Errorf("%s: %d", step.verb, st)
		}
	}
	if st := post("/_sim/conversations/"+id+"/reply", map[string]any{"admin_id": "nobody", "text": "x"}); st != 404 {
		t.Errorf("an unknown admin: %d, want 404", st)
	}
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var topics []string
	for _, b := range rc.bodies {
		var e envelope
		json.Unmarshal(b, &e)
		topics = append(topics, e.Topic)
	}
	if want := []string{"ping", "conversation.admin.replied", "conversation.admin.snoozed", "conversation.admin.closed"}; strings.Join(topics, " ") != strings.Join(want, " ") {
		t.Errorf("notifications %q, want %q", topics, want)
	}
	if got, _ := s.Conversation(id); got.State != "closed" || got.Parts[0].Attachments[0].URL != "https://f.example/form.pdf" {
		t.Errorf("the conversation: %+v", got)
	}
}
