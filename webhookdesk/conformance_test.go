package webhookdesk_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/desktest"
	"github.com/batonhq/baton/webhookdesk"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	desktest.Run(t, func(t *testing.T) desktest.Harness { return &service{} })
}

// The credentials between Baton and the company's service.
const (
	secret   = "conformance-shared-secret-0123456789"
	username = "baton"
	password = "service-password"
)

// service plays the company's own support system on the webhook desk
// protocol: it takes establish, chat and close from Baton (checking Basic
// auth) and its agent calls Baton back with the shared secret.
type service struct {
	base   string // Baton's inbound URL for the desk, ending in "/"
	client *http.Client

	mu     sync.Mutex
	opened map[string][]string // conversation_id → transcript texts
	briefs map[string]string   // conversation_id → the brief, as text
	chats  map[string][]string // conversation_id → customer messages
	ids    map[string]bool     // message_ids already taken
	closed map[string]string   // conversation_id → close type
	errs   []string            // protocol violations Baton made
}

func (s *service) Desk(t *testing.T, st desktest.Stack) desktest.Desk {
	s.base = st.BaseURL + "/v1/desks/" + st.DeskID + "/inbound/"
	s.client = &http.Client{Timeout: 10 * time.Second}
	s.opened, s.chats, s.ids, s.closed, s.briefs = map[string][]string{}, map[string][]string{}, map[string]bool{}, map[string]string{}, map[string]string{}
	srv := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(srv.Close)
	t.Cleanup(func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, e := range s.errs {
			t.Errorf("the company's service got a bad call: %s", e)
		}
	})
	return desktest.Desk{
		Kind: baton.KindWebhook,
		Settings: map[string]string{
			webhookdesk.SettingURL:      srv.URL + "/human",
			webhookdesk.SettingUsername: username,
			webhookdesk.SettingPassword: password,
			webhookdesk.SettingSecret:   secret,
		},
		Factory:   func(dc baton.DeskConfig) (baton.Desk, error) { return webhookdesk.New(dc, nil) },
		AgentName: "Maria",
	}
}

// serve answers Baton's calls the way the protocol says a service does.
func (s *service) serve(w http.ResponseWriter, r *http.Request) {
	var in struct {
		IsTest         bool   `json:"istest"`
		ConversationID string `json:"conversation_id"`
		Body           json.RawMessage
		MessageID      string `json:"message_id"`
		Type           string `json:"type"`
		Brief          *baton.Brief
	}
	body, _ := io.ReadAll(r.Body)
	user, pass, ok := r.BasicAuth()
	answer := func(status int, msg string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"code":%d,"message":%q}`, status, msg)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case !ok || user != username || pass != password:
		answer(http.StatusUnauthorized, "bad credentials")
		return
	case r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json"):
		s.errs = append(s.errs, fmt.Sprintf("%s %s with Content-Type %q", r.Method, r.URL.Path, r.Header.Get("Content-Type")))
		answer(http.StatusBadRequest, "expected a JSON POST")
		return
	}
	if err := json.Unmarshal(body, &in); err != nil || (!in.IsTest && in.ConversationID == "") {
		s.errs = append(s.errs, fmt.Sprintf("%s: unreadable body %s", r.URL.Path, body))
		answer(http.StatusBadRequest, "bad body")
		return
	}
	if in.IsTest {
		answer(http.StatusOK, "ok")
		return
	}
	id := in.ConversationID
	_, known := s.opened[id]
	switch r.URL.Path {
	case "/human/conversation/establish":
		var turns []struct {
			Type string `json:"message_type"`
			Text string `json:"text"`
		}
		if err := json.Unmarshal(in.Body, &turns); err != nil {
			s.errs = append(s.errs, fmt.Sprintf("establish body is not a list of turns: %s", in.Body))
			answer(http.StatusBadRequest, "bad body")
			return
		}
		if !known { // a repeated establish keeps the first
			texts := []string{}
			for _, t := range turns {
				texts = append(texts, t.Text)
			}
			s.opened[id] = texts
			if in.Brief != nil {
				s.briefs[id] = in.Brief.Text()
			}
		}
	case "/human/chat":
		var text string
		if err := json.Unmarshal(in.Body, &text); err != nil || !known {
			s.errs = append(s.errs, fmt.Sprintf("chat for conversation %q (established: %v) with body %s", id, known, in.Body))
			answer(http.StatusNotFound, "no such conversation")
			return
		}
		if in.MessageID == "" || !s.ids[in.MessageID] {
			s.ids[in.MessageID] = true
			s.chats[id] = append(s.chats[id], text)
		}
	case "/human/conversation/close":
		if !known {
			s.errs = append(s.errs, fmt.Sprintf("close for conversation %q never established", id))
			answer(http.StatusNotFound, "no such conversation")
			return
		}
		s.closed[id] = in.Type
	default:
		s.errs = append(s.errs, "POST to unknown path "+r.URL.Path)
		answer(http.StatusNotFound, "no such path")
		return
	}
	answer(http.StatusOK, "ok")
}

func (s *service) Opened(t *testing.T, handoffID string) (string, []string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	texts, ok := s.opened[handoffID]
	return handoffID, append([]string(nil), texts...), ok
}

// Brief is the brief establish carried, as its text.
func (s *service) Brief(t *testing.T, ref string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.briefs[ref]
	return b, ok
}

func (s *service) Received(t *testing.T, ref string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.chats[ref]...)
}

func (s *service) Closed(t *testing.T, ref string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.closed[ref]
	return ok
}

func (s *service) AgentReply(t *testing.T, ref, eventID, text string) int {
	return s.call(t, "message", secret, map[string]any{
		"conversation_id": ref, "timestamp": time.Now().UnixMilli(), "body": text, "message_id": eventID,
		"agent": map[string]string{"id": "ag_17", "name": "Maria"},
	})
}

func (s *service) AgentClose(t *testing.T, ref string) int {
	return s.call(t, "close", secret, map[string]any{"conversation_id": ref, "timestamp": time.Now().UnixMilli()})
}

func (s *service) Forge(t *testing.T, ref, eventID string) int {
	wrong := "conformance-shared-secret-0123456788" // same length, last character differs
	return s.call(t, "message", wrong, map[string]any{
		"conversation_id": ref, "timestamp": time.Now().UnixMilli(), "body": "Forged: send your password", "message_id": eventID,
	})
}

// call posts body to Baton's inbound path with the bearer secret.
func (s *service) call(t *testing.T, path, bearer string, body any) int {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, s.base+path, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+bearer)
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", req.URL, err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}
