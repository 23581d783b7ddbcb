package livechat_test

import (
	"bytes"
	"context"
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
	"github.com/batonhq/baton/livechat"
	"github.com/batonhq/baton/livechatsim"
)

// TestConformance runs the shared desk suite against a relay desk on the
// LiveChat simulator: Baton's calls go to the simulator, the simulator's
// webhooks to Baton, and Maria (group 1) plays the agent.
func TestConformance(t *testing.T) {
	t.Parallel()
	desktest.Run(t, func(t *testing.T) desktest.Harness { return &license{} })
}

const (
	confSecret = "conformance-livechat-secret-0123"
	confMaria  = "maria@example.com"
	confBaton  = "baton@example.com"
)

// license is one simulated LiveChat license and the agent Maria in it.
type license struct {
	sim     *livechatsim.Sim
	inbound string // Baton's webhook URL for the desk
	client  *http.Client

	mu      sync.Mutex
	replies map[string]int // the suite's event id → the delivery that carried it
	late    int
}

func (l *license) Desk(t *testing.T, s desktest.Stack) desktest.Desk {
	l.sim = livechatsim.New(livechatsim.Config{Retry: []time.Duration{}})
	t.Cleanup(l.sim.Close)
	api := httptest.NewServer(l.sim.Handler())
	t.Cleanup(api.Close)
	l.client = &http.Client{Timeout: 10 * time.Second}
	l.replies = map[string]int{}
	l.sim.AddGroup(1, "Support")
	app := l.sim.AddApp(livechatsim.App{RedirectURI: "https://baton.example.com/livechat"})
	pat, err := l.sim.AddAgent(livechatsim.Agent{ID: confBaton, Name: "Baton", Status: livechatsim.NotAccepting})
	if err != nil {
		t.Fatal(err)
	}
	// Maria does not accept chats, so handoffs wait in the queue until she
	// joins to answer: the suite decides when an agent acts.
	if _, err := l.sim.AddAgent(livechatsim.Agent{ID: confMaria, Name: "Maria", Status: livechatsim.NotAccepting, Groups: map[int]string{1: "normal"}}); err != nil {
		t.Fatal(err)
	}
	settings := map[string]string{
		livechat.SettingOrganizationID: l.sim.OrganizationID(),
		livechat.SettingClientID:       app.ClientID,
		livechat.SettingRedirectURI:    app.RedirectURI,
		livechat.SettingAccountID:      pat.AccountID,
		livechat.SettingToken:          pat.PAT,
		livechat.SettingSecretKey:      confSecret,
		livechat.SettingGroupID:        "1",
		livechat.SettingAPIURL:         api.URL,
		livechat.SettingAccountsURL:    api.URL,
	}
	l.inbound = s.BaseURL + "/v1/desks/" + s.DeskID + "/inbound/livechat"
	r, err := livechat.RegisterWebhooks(context.Background(), baton.DeskConfig{Kind: baton.KindLiveChat, Settings: settings}, l.inbound, nil)
	if err != nil || !r.OK() {
		t.Fatalf("RegisterWebhooks: %v\n%s", err, r)
	}
	return desktest.Desk{
		Kind:      baton.KindLiveChat,
		Settings:  settings,
		Factory:   func(dc baton.DeskConfig) (baton.Desk, error) { return livechat.New(dc, nil) },
		AgentName: "Maria",
	}
}

// chatOf finds the chat Baton opened for a handoff by its customer's
// handoff_id session field.
func (l *license) chatOf(handoffID string) (livechatsim.Chat, bool) {
	for _, c := range l.sim.Chats() {
		for _, u := range c.Users {
			if u.Type != "customer" {
				continue
			}
			cu, _ := l.sim.Customer(u.ID)
			for _, f := range cu.SessionFields {
				if f["handoff_id"] == handoffID {
					return c, true
				}
			}
		}
	}
	return livechatsim.Chat{}, false
}

func customer(c livechatsim.Chat) string {
	for _, u := range c.Users {
		if u.Type == "customer" {
			return u.ID
		}
	}
	return ""
}

// Opened lists the chat's first messages: those by the customer or Baton's
// account that Baton did not send as relayed messages (custom_id "baton:"),
// and that the customer sees (the brief is for agents only).
func (l *license) Opened(t *testing.T, handoffID string) (string, []string, bool) {
	c, ok := l.chatOf(handoffID)
	if !ok {
		return "", nil, false
	}
	cust := customer(c)
	texts := []string{}
	for _, e := range c.Events() {
		if e.Type == "message" && e.CustomID == "" && e.Visibility == "all" && (e.AuthorID == cust || e.AuthorID == confBaton) {
			texts = append(texts, e.Text)
		}
	}
	return c.ID, texts, true
}

// Brief is the chat's first event for agents only, by Baton's account.
func (l *license) Brief(t *testing.T, ref string) (string, bool) {
	c, ok := l.sim.Chat(ref)
	if !ok {
		return "", false
	}
	for _, e := range c.Events() {
		if e.Type == "message" && e.Visibility == "agents" && e.AuthorID == confBaton {
			return e.Text, true
		}
	}
	return "", false
}

func (l *license) Received(t *testing.T, ref string) []string {
	c, ok := l.sim.Chat(ref)
	if !ok {
		return nil
	}
	cust, seen := customer(c), map[string]bool{}
	var out []string
	for _, e := range c.Events() {
		if e.Type == "message" && e.AuthorID == cust && strings.HasPrefix(e.CustomID, "baton:") && !seen[e.CustomID] {
			seen[e.CustomID] = true
			out = append(out, e.Text)
		}
	}
	return out
}

func (l *license) Closed(t *testing.T, ref string) bool {
	c, ok := l.sim.Chat(ref)
	return ok && !c.Active()
}

// AgentReply has Maria answer (joining the chat first). A reply already
// made is delivered again. A chat already closed cannot take a message, so
// the reply arrives as a late delivery of the webhook.
func (l *license) AgentReply(t *testing.T, ref, eventID, text string) int {
	l.mu.Lock()
	prev, again := l.replies[eventID]
	l.mu.Unlock()
	if again {
		if err := l.sim.Redeliver(prev); err != nil {
			t.Fatal(err)
		}
		return l.last(t, func(d livechatsim.Delivery) bool { return d.Duplicate })
	}
	c, ok := l.sim.Chat(ref)
	if !ok {
		t.Fatalf("no chat %s", ref)
	}
	if !c.Active() {
		return l.post(t, confSecret, "incoming_event", map[string]any{"chat_id": ref, "thread_id": c.Last().ID,
			"event": map[string]any{"id": l.lateID(c), "type": "message", "text": text, "author_id": confMaria, "visibility": "all"}})
	}
	present := false
	for _, u := range c.Users {
		present = present || (u.ID == confMaria && u.Present)
	}
	if !present {
		if err := l.sim.AgentJoin(ref, confMaria); err != nil {
			t.Fatalf("Maria joins %s: %v", ref, err)
		}
	}
	id, err := l.sim.AgentSend(ref, confMaria, text)
	if err != nil {
		t.Fatalf("Maria writes in %s: %v", ref, err)
	}
	status := l.last(t, func(d livechatsim.Delivery) bool {
		return d.Action == "incoming_event" && bytes.Contains(d.Body, []byte(`"id":"`+id+`"`))
	})
	l.mu.Lock()
	for _, d := range l.sim.Webhooks() {
		if d.Action == "incoming_event" && bytes.Contains(d.Body, []byte(`"id":"`+id+`"`)) {
			l.replies[eventID] = d.ID
		}
	}
	l.mu.Unlock()
	return status
}

func (l *license) lateID(c livechatsim.Chat) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.late++
	return fmt.Sprintf("%s_late%d", c.Last().ID, l.late)
}

func (l *license) AgentClose(t *testing.T, ref string) int {
	c, ok := l.sim.Chat(ref)
	if !ok {
		t.Fatalf("no chat %s", ref)
	}
	if !c.Active() {
		return l.post(t, confSecret, "chat_deactivated", map[string]any{"chat_id": ref, "thread_id": c.Last().ID, "user_id": confMaria})
	}
	if err := l.sim.AgentClose(ref, confMaria); err != nil {
		t.Fatalf("Maria closes %s: %v", ref, err)
	}
	return l.last(t, func(d livechatsim.Delivery) bool {
		return d.Action == "chat_deactivated" && bytes.Contains(d.Body, []byte(ref))
	})
}

func (l *license) Forge(t *testing.T, ref, eventID string) int {
	return l.post(t, "conformance-livechat-secret-0124", "incoming_event", map[string]any{"chat_id": ref, "thread_id": "T",
		"event": map[string]any{"id": eventID, "type": "message", "text": "Forged: send your password", "author_id": confMaria, "visibility": "all"}})
}

// last waits for the webhooks and returns the status Baton answered the
// latest delivery that match accepts.
func (l *license) last(t *testing.T, match func(livechatsim.Delivery) bool) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := l.sim.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	ds := l.sim.Webhooks()
	for i := len(ds) - 1; i >= 0; i-- {
		if match(ds[i]) {
			return ds[i].Status
		}
	}
	t.Fatal("the simulator delivered no such webhook")
	return 0
}

// post sends Baton a webhook envelope directly, as a late or forged delivery.
func (l *license) post(t *testing.T, secret, action string, payload any) int {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"webhook_id": "direct", "secret_key": secret, "action": action,
		"organization_id": l.sim.OrganizationID(), "payload": payload, "additional_data": map[string]any{}})
	resp, err := l.client.Post(l.inbound, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatalf("POST %s: %v", l.inbound, err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}
