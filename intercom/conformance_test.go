package intercom_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/desktest"
	"github.com/batonhq/baton/intercom"
	"github.com/batonhq/baton/intercomsim"
)

// TestConformance runs the shared desk suite against an Intercom desk on
// the simulator: Baton's calls go to the simulator's REST API, its signed
// webhooks (subscribed after a HEAD probe of Baton's inbound URL) come back
// to Baton, and Maria plays the admin.
func TestConformance(t *testing.T) {
	t.Parallel()
	desktest.Run(t, func(t *testing.T) desktest.Harness { return &workspace{} })
}

// workspace is one simulated Intercom workspace.
type workspace struct {
	sim     *intercomsim.Sim
	inbound string
	maria   intercomsim.Admin
	hook    sync.Once

	mu      sync.Mutex
	replies map[string]string // the suite's event id → the notification that carried it
}

// world starts a simulator over HTTP with Baton's admin and Maria, and
// returns the desk's settings.
func world(t *testing.T, cfg intercomsim.Config) (*intercomsim.Sim, map[string]string, intercomsim.Admin) {
	t.Helper()
	sim := intercomsim.New(cfg)
	t.Cleanup(sim.Close)
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	api, tok := sim.AddAdmin("Baton", "baton@acme.test")
	maria, _ := sim.AddAdmin("Maria", "maria@acme.test")
	return sim, map[string]string{intercom.SettingAccessToken: tok, intercom.SettingClientSecret: sim.ClientSecret(),
		intercom.SettingBaseURL: srv.URL, intercom.SettingAdminID: api.ID}, maria
}

func (w *workspace) Desk(t *testing.T, s desktest.Stack) desktest.Desk {
	sim, st, maria := world(t, intercomsim.Config{Retry: []time.Duration{}})
	w.sim, w.maria, w.replies = sim, maria, map[string]string{}
	w.inbound = s.BaseURL + "/v1/desks/" + s.DeskID + "/inbound/intercom"
	return desktest.Desk{Kind: baton.KindIntercom, Settings: st, AgentName: "Maria",
		Factory: func(dc baton.DeskConfig) (baton.Desk, error) { return intercom.New(dc, nil) }}
}

// subscribe saves Baton's inbound URL as the app's webhook, once Baton
// serves (the simulator probes it with HEAD first).
func (w *workspace) subscribe(t *testing.T) {
	w.hook.Do(func() {
		if _, err := w.sim.Subscribe(context.Background(), w.inbound); err != nil {
			t.Fatal(err)
		}
	})
}

func (w *workspace) conversation(t *testing.T, ref string) intercomsim.Conversation {
	c, ok := w.sim.Conversation(ref)
	if !ok {
		t.Fatalf("no conversation %s", ref)
	}
	return c
}

func (w *workspace) Opened(t *testing.T, handoffID string) (string, []string, bool) {
	w.subscribe(t)
	for _, c := range w.sim.Conversations() {
		if strings.Contains(c.Source.Body, intercom.Marker(handoffID)) {
			out := []string{}
			for _, line := range strings.Split(c.Source.Body, "\n") {
				if _, text, ok := strings.Cut(line, ": "); ok {
					out = append(out, text)
				}
			}
			return c.ID, out, true
		}
	}
	return "", nil, false
}

// Brief is the conversation's note by Baton's admin.
func (w *workspace) Brief(t *testing.T, ref string) (string, bool) {
	for _, p := range w.conversation(t, ref).Parts {
		if p.PartType == "note" && strings.HasPrefix(p.Body, intercom.BriefHeading) {
			return p.Body, true
		}
	}
	return "", false
}

func (w *workspace) Received(t *testing.T, ref string) []string {
	var out []string
	for _, p := range w.conversation(t, ref).Parts {
		if p.PartType == "comment" && p.Author.Type == "user" {
			out = append(out, p.Body)
		}
	}
	return out
}

func (w *workspace) Closed(t *testing.T, ref string) bool {
	return w.conversation(t, ref).State == "closed"
}

func (w *workspace) AgentReply(t *testing.T, ref, eventID, text string) int {
	w.subscribe(t)
	w.mu.Lock()
	prev, again := w.replies[eventID]
	w.mu.Unlock()
	if again {
		if !w.sim.Redeliver(prev) {
			t.Fatalf("no notification %s", prev)
		}
		return w.last(t, func(d intercomsim.Delivery) bool { return d.NotificationID == prev && d.Duplicate })
	}
	p, err := w.sim.Reply(ref, w.maria.ID, text)
	if err != nil {
		t.Fatal(err)
	}
	part := []byte(`"id":"` + p.ID + `"`)
	match := func(d intercomsim.Delivery) bool {
		return d.Topic == intercomsim.TopicReplied && d.Conversation == ref && bytes.Contains(d.Body, part)
	}
	status := w.last(t, match)
	for _, d := range w.sim.Deliveries() {
		if match(d) {
			w.mu.Lock()
			w.replies[eventID] = d.NotificationID
			w.mu.Unlock()
		}
	}
	return status
}

func (w *workspace) AgentClose(t *testing.T, ref string) int {
	w.subscribe(t)
	if err := w.sim.CloseConversation(ref, w.maria.ID); err != nil {
		t.Fatal(err)
	}
	return w.last(t, func(d intercomsim.Delivery) bool { return d.Topic == intercomsim.TopicClosed && d.Conversation == ref })
}

func (w *workspace) Forge(t *testing.T, ref, eventID string) int {
	body := []byte(`{"type":"notification_event","id":"` + eventID + `","topic":"conversation.admin.replied","created_at":1,` +
		`"data":{"item":{"type":"conversation","id":"` + ref + `","conversation_parts":{"conversation_parts":[{"id":"1","part_type":"comment",` +
		`"body":"Forged: send your password","author":{"type":"admin","id":"` + w.maria.ID + `","name":"Maria"}}]}}}}`)
	req, _ := http.NewRequest(http.MethodPost, w.inbound, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(intercom.SignatureHeader, intercom.Sign("not-the-client-secret", body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// last flushes the webhooks and returns the status of the latest
// delivery match accepts.
func (w *workspace) last(t *testing.T, match func(intercomsim.Delivery) bool) int {
	t.Helper()
	return desktest.Latest(t, w.sim.Flush, w.sim.Deliveries, match).Status
}
