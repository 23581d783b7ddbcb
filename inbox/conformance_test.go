package inbox_test

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/desktest"
	"github.com/batonhq/baton/inbox"
)

func TestConformance(t *testing.T) {
	desktest.Run(t, func(t *testing.T) desktest.Harness { return &agent{} })
}

// agent plays a person answering in the built-in inbox through Baton's agent
// API with their own key. The inbox's reference for a handoff is its id.
type agent struct {
	base    string
	key     string
	client  *http.Client
	opening map[string]int  // handoff → messages in the transcript when it opened
	claimed map[string]bool // handoffs this agent has claimed
}

func (a *agent) Desk(t *testing.T, s desktest.Stack) desktest.Desk {
	a.base, a.key = s.BaseURL, "ak_"+baton.NewID("conformance")
	a.client = &http.Client{Timeout: 10 * time.Second}
	a.opening, a.claimed = map[string]int{}, map[string]bool{}
	me := baton.InboxAgent{ID: "ag_ana", WorkspaceID: s.WorkspaceID, DeskID: s.DeskID, Name: "Ana",
		Email: "ana@example.com", KeyHash: baton.HashKey(a.key), CreatedAt: time.Now()}
	return desktest.Desk{
		Kind:      baton.KindInbox,
		Factory:   func(dc baton.DeskConfig) (baton.Desk, error) { return inbox.New(dc) },
		Seed:      func(tx baton.Tx) error { return tx.PutInboxAgent(me) },
		AgentName: me.Name,
	}
}

type message struct {
	Author baton.Author `json:"author"`
	Text   string       `json:"text"`
}

// Brief is the brief the agent reads with the transcript.
func (a *agent) Brief(t *testing.T, ref string) (string, bool) {
	var out struct {
		Brief baton.Brief `json:"brief"`
	}
	if status := a.call(t, http.MethodGet, "/v1/inbox/handoffs/"+ref+"/messages", a.key, "", nil, &out); status != http.StatusOK {
		t.Fatalf("reading the transcript of %s answered %d", ref, status)
	}
	return out.Brief.Text(), out.Brief.Summary != ""
}

// transcript reads GET /v1/inbox/handoffs/{id}/messages.
func (a *agent) transcript(t *testing.T, id string) (baton.State, []message) {
	t.Helper()
	var out struct {
		Handoff struct {
			State baton.State `json:"state"`
		} `json:"handoff"`
		Messages []message `json:"messages"`
	}
	if status := a.call(t, http.MethodGet, "/v1/inbox/handoffs/"+id+"/messages", a.key, "", nil, &out); status != http.StatusOK {
		t.Fatalf("reading the transcript of %s answered %d", id, status)
	}
	return out.Handoff.State, out.Messages
}

// Opened: the handoff waits in the agent's queue; the agent reads its transcript.
func (a *agent) Opened(t *testing.T, id string) (string, []string, bool) {
	var queue struct {
		Waiting []struct {
			ID string `json:"id"`
		} `json:"waiting"`
	}
	if status := a.call(t, http.MethodGet, "/v1/inbox/handoffs", a.key, "", nil, &queue); status != http.StatusOK {
		t.Fatalf("reading the queue answered %d", status)
	}
	if !slices.ContainsFunc(queue.Waiting, func(h struct {
		ID string `json:"id"`
	}) bool {
		return h.ID == id
	}) {
		return "", nil, false
	}
	_, ms := a.transcript(t, id)
	texts := []string{}
	for _, m := range ms {
		texts = append(texts, m.Text)
	}
	a.opening[id] = len(ms)
	return id, texts, true
}

// Received: the customer's messages after those the handoff opened with.
func (a *agent) Received(t *testing.T, ref string) []string {
	_, ms := a.transcript(t, ref)
	texts := []string{}
	for _, m := range ms[min(a.opening[ref], len(ms)):] {
		if m.Author == baton.ByCustomer {
			texts = append(texts, m.Text)
		}
	}
	return texts
}

// Closed: the inbox's state is the handoff's.
func (a *agent) Closed(t *testing.T, ref string) bool {
	state, _ := a.transcript(t, ref)
	return state == baton.Ended
}

// AgentReply claims the handoff on the first reply, then replies with eventID
// as the Idempotency-Key.
func (a *agent) AgentReply(t *testing.T, ref, eventID, text string) int {
	if !a.claimed[ref] {
		if status := a.call(t, http.MethodPost, "/v1/inbox/handoffs/"+ref+"/claim", a.key, "", nil, nil); status != http.StatusOK {
			return status
		}
		a.claimed[ref] = true
	}
	return a.call(t, http.MethodPost, "/v1/inbox/handoffs/"+ref+"/messages", a.key, eventID, map[string]string{"text": text}, nil)
}

func (a *agent) AgentClose(t *testing.T, ref string) int {
	return a.call(t, http.MethodPost, "/v1/inbox/handoffs/"+ref+"/end", a.key, "", nil, nil)
}

// Forge replies with a key that is not an agent's.
func (a *agent) Forge(t *testing.T, ref, eventID string) int {
	return a.call(t, http.MethodPost, "/v1/inbox/handoffs/"+ref+"/messages", "ak_not-a-real-agent-key", eventID,
		map[string]string{"text": "Forged: send your password"}, nil)
}

// call sends one agent API request and decodes a 2xx answer into out.
func (a *agent) call(t *testing.T, method, path, key, idemKey string, body, out any) int {
	t.Helper()
	status, _ := desktest.Client{Base: a.base, Key: key, HTTP: a.client}.Call(t, method, path, idemKey, body, out)
	return status
}
