package gorgias_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/desktest"
	"github.com/batonhq/baton/gorgias"
	"github.com/batonhq/baton/gorgiassim"
)

// TestConformance runs the shared desk suite against a Gorgias desk on the
// simulator: Baton's calls go to the simulator's REST API, its HTTP
// integration calls Baton, and Maria plays the agent.
func TestConformance(t *testing.T) {
	t.Parallel()
	desktest.Run(t, func(t *testing.T) desktest.Harness { return &account{} })
}

const (
	confToken = "conformance-gorgias-token-0123"
	confMaria = "maria@acme.test"
)

// account is one simulated Gorgias account.
type account struct {
	sim     *gorgiassim.Sim
	inbound string

	mu      sync.Mutex
	replies map[string]int // the suite's event id → the delivery that carried it
}

// world starts a simulator over HTTP with Baton's API user and Maria.
func world(t *testing.T, cfg gorgiassim.Config) (*gorgiassim.Sim, string, gorgiassim.User) {
	t.Helper()
	sim := gorgiassim.New(cfg)
	t.Cleanup(sim.Close)
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	api := sim.AddUser("baton@acme.test", "Baton API")
	sim.AddUser(confMaria, "Maria")
	return sim, srv.URL, api
}

func settings(base string, api gorgiassim.User, token string) map[string]string {
	return map[string]string{
		gorgias.SettingDomain: "acme", gorgias.SettingBaseURL: base, gorgias.SettingEmail: api.Email,
		gorgias.SettingAPIKey: api.APIKey, gorgias.SettingIntegrationToken: token,
	}
}

func (a *account) Desk(t *testing.T, s desktest.Stack) desktest.Desk {
	sim, base, api := world(t, gorgiassim.Config{Retry: []time.Duration{}})
	a.sim, a.replies = sim, map[string]int{}
	st := settings(base, api, confToken)
	a.inbound = gorgias.InboundURL(s.BaseURL, s.DeskID)
	if _, created, err := gorgias.RegisterIntegration(context.Background(),
		baton.DeskConfig{ID: s.DeskID, Kind: baton.KindGorgias, Settings: st}, s.BaseURL, nil); err != nil || !created {
		t.Fatalf("RegisterIntegration: created %v, %v", created, err)
	}
	return desktest.Desk{Kind: baton.KindGorgias, Settings: st, AgentName: "Maria",
		Factory: func(dc baton.DeskConfig) (baton.Desk, error) { return gorgias.New(dc, nil) }}
}

func (a *account) ticketOf(handoffID string) (gorgiassim.Ticket, bool) {
	for _, tk := range a.sim.Tickets() {
		if tk.ExternalID == handoffID {
			return tk, true
		}
	}
	return gorgiassim.Ticket{}, false
}

// transcript reads the opening message as an agent does: one turn a line,
// "Who: text".
func transcript(m gorgiassim.Message) []string {
	out := []string{}
	for _, line := range strings.Split(m.BodyText, "\n") {
		if _, text, ok := strings.Cut(line, ": "); ok {
			out = append(out, text)
		}
	}
	return out
}

func (a *account) Opened(t *testing.T, handoffID string) (string, []string, bool) {
	tk, ok := a.ticketOf(handoffID)
	if !ok || len(tk.Messages) == 0 {
		return "", nil, false
	}
	return strconv.FormatInt(tk.ID, 10), transcript(tk.Messages[0]), true
}

// Brief is the ticket's internal note by the API's user.
func (a *account) Brief(t *testing.T, ref string) (string, bool) {
	for _, m := range a.ticket(t, ref).Messages {
		if m.Channel == "internal-note" && m.FromAgent && strings.HasSuffix(m.ExternalID, ":brief") {
			return m.BodyText, true
		}
	}
	return "", false
}

func (a *account) ticket(t *testing.T, ref string) gorgiassim.Ticket {
	id, _ := strconv.ParseInt(ref, 10, 64)
	tk, ok := a.sim.Ticket(id)
	if !ok {
		t.Fatalf("no ticket %s", ref)
	}
	return tk
}

func (a *account) Received(t *testing.T, ref string) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range a.ticket(t, ref).Messages {
		if strings.HasPrefix(m.ExternalID, "baton:") && !m.FromAgent && !seen[m.ExternalID] {
			seen[m.ExternalID] = true
			out = append(out, m.BodyText)
		}
	}
	return out
}

func (a *account) Closed(t *testing.T, ref string) bool { return a.ticket(t, ref).Status == "closed" }

func (a *account) AgentReply(t *testing.T, ref, eventID, text string) int {
	a.mu.Lock()
	prev, again := a.replies[eventID]
	a.mu.Unlock()
	if again {
		if !a.sim.Redeliver(prev) {
			t.Fatalf("no delivery %d", prev)
		}
		return a.last(t, func(d gorgiassim.Delivery) bool { return d.ID == prev && d.Duplicate })
	}
	m, err := a.sim.Reply(a.ticket(t, ref).ID, confMaria, text)
	if err != nil {
		t.Fatal(err)
	}
	want := "message_id=" + strconv.FormatInt(m.ID, 10) + "&"
	status := a.last(t, func(d gorgiassim.Delivery) bool { return strings.Contains(d.URL, want) })
	for _, d := range a.sim.Deliveries() {
		if strings.Contains(d.URL, want) {
			a.mu.Lock()
			a.replies[eventID] = d.ID
			a.mu.Unlock()
		}
	}
	return status
}

func (a *account) AgentClose(t *testing.T, ref string) int {
	if err := a.sim.CloseTicket(a.ticket(t, ref).ID, confMaria); err != nil {
		t.Fatal(err)
	}
	return a.last(t, func(d gorgiassim.Delivery) bool {
		return d.Trigger == gorgiassim.TicketUpdated && strings.Contains(d.URL, "ticket_id="+ref+"&")
	})
}

func (a *account) Forge(t *testing.T, ref, eventID string) int {
	q := url.Values{"token": {"conformance-gorgias-token-0124"}, "ticket_id": {ref}, "event_type": {"ticket-message-created"},
		"event_id": {eventID}, "message_id": {eventID}, "text": {"Forged: send your password"}, "from_agent": {"True"}}
	resp, err := http.Post(a.inbound+"?"+q.Encode(), "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// last flushes the integration and returns the status of the latest
// delivery match accepts.
func (a *account) last(t *testing.T, match func(gorgiassim.Delivery) bool) int {
	t.Helper()
	return desktest.Latest(t, a.sim.Flush, a.sim.Deliveries, match).Status
}
