package livechat

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	baton "github.com/batonhq/baton"
	"github.com/batonhq/baton/livechatsim"
)

// webhookFixture reads testdata/webhooks/name with {{secret}}, {{org}} and
// {{self}} filled in.
func webhookFixture(t *testing.T, name, secret, org string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "webhooks", name))
	if err != nil {
		t.Fatal(err)
	}
	s := strings.NewReplacer("{{secret}}", secret, "{{org}}", org, "{{self}}", batonAgent).Replace(string(b))
	return []byte(s)
}

// TestInboundVerification: the secret_key is checked before anything else;
// forged, missing and unreadable bodies are refused as forged; the legacy
// envelope and another organization's are refused precisely; unknown
// actions are acknowledged with no events.
func TestInboundVerification(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWorld(t, ModeRelay)
	org := w.sim.OrganizationID()
	tests := []struct {
		name   string
		body   []byte
		forged bool
		code   string // error code when not forged; "" means no error
		events int
	}{
		{"genuine", webhookFixture(t, "incoming_event_agent.json", secretKey, org), false, "", 1},
		{"wrong secret", webhookFixture(t, "incoming_event_agent.json", secretKey+"x", org), true, "", 0},
		{"same length, last character differs", webhookFixture(t, "incoming_event_agent.json", secretKey[:len(secretKey)-1]+"8", org), true, "", 0},
		{"no secret", webhookFixture(t, "no_secret.json", secretKey, org), true, "", 0},
		{"empty secret", webhookFixture(t, "incoming_event_agent.json", "", org), true, "", 0},
		{"malformed JSON", []byte(`{"secret_key":"` + secretKey + `","action":`), true, "", 0},
		{"JSON array", []byte(`[{"secret_key":"` + secretKey + `"}]`), true, "", 0},
		{"empty body", nil, true, "", 0},
		{"legacy envelope", webhookFixture(t, "legacy.json", secretKey, org), false, baton.EBADREQUEST, 0},
		{"legacy envelope, wrong secret", webhookFixture(t, "legacy.json", "nope-nope-nope-nope", org), true, "", 0},
		{"another organization", webhookFixture(t, "incoming_event_agent.json", secretKey, "11111111-2222-4333-8444-555555555555"), false, baton.EINVALID, 0},
		{"unknown action", webhookFixture(t, "routing_status_set.json", secretKey, org), false, "", 0},
		{"unreadable payload", webhookFixture(t, "bad_payload.json", secretKey, org), false, baton.EBADREQUEST, 0},
		{"own echo", webhookFixture(t, "incoming_event_self.json", secretKey, org), false, "", 0},
		{"agents only", webhookFixture(t, "incoming_event_whisper.json", secretKey, org), false, "", 0},
		{"system message", webhookFixture(t, "incoming_event_system.json", secretKey, org), false, "", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			evs, err := w.desk.Inbound(ctx, "livechat", http.Header{}, tc.body)
			switch {
			case tc.forged:
				if !errors.Is(err, baton.ErrForged) {
					t.Errorf("error %v, want one wrapping baton.ErrForged", err)
				}
			case tc.code != "":
				if err == nil || errors.Is(err, baton.ErrForged) || baton.ErrorCode(err) != tc.code {
					t.Errorf("error %v, want code %s (not forged)", err, tc.code)
				}
			case err != nil:
				t.Errorf("error %v, want none", err)
			}
			if len(evs) != tc.events {
				t.Errorf("%d events (%v), want %d", len(evs), types(evs), tc.events)
			}
		})
	}

	// A duplicate delivery carries the same event id.
	body := webhookFixture(t, "incoming_event_agent.json", secretKey, org)
	a, _ := w.desk.Inbound(ctx, "livechat", nil, body)
	b, _ := w.desk.Inbound(ctx, "livechat", nil, body)
	if len(a) != 1 || len(b) != 1 || a[0].ID != b[0].ID || a[0].ID != "event:PJ0MRSHTDG/K600PKZON8_3" {
		t.Errorf("two deliveries gave %v and %v, want the same id event:PJ0MRSHTDG/K600PKZON8_3", ids(a), ids(b))
	}
	if a[0].Agent != (baton.Agent{ID: maria, Name: "Maria"}) || a[0].Text != "14" {
		t.Errorf("event %+v", a[0])
	}

	// The simulator's legacy envelopes are refused, not taken.
	h, err := w.desk.Open(ctx, openRequest("ho_1", ""))
	if err != nil {
		t.Fatal(err)
	}
	w.takeOK()
	w.sim.SetFaults(livechatsim.Faults{Legacy: true})
	if _, err := w.sim.AgentSend(h.Ref, maria, "hello"); err != nil {
		t.Fatal(err)
	}
	evs, errs := w.take()
	if len(evs) != 0 || len(errs) != 1 || baton.ErrorCode(errs[0]) != baton.EBADREQUEST {
		t.Errorf("a legacy delivery gave events %v, errors %v", types(evs), errs)
	}
}

// TestInboundUnavailable: a webhook whose mapping needs the LiveChat API
// (the relay's own agent id, the seat's chat presence) while the API cannot
// answer (503s, 5xx, a rate limit, a closed port) is EUNAVAILABLE, with the
// desk error kept for its Retry-After, so that LiveChat delivers it again.
func TestInboundUnavailable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	tests := []struct {
		name   string
		mode   string
		faults livechatsim.Faults
		apiURL string // "" keeps the simulator
	}{
		{"relay, 503", ModeRelay, livechatsim.Faults{Unavailable: 100}, ""},
		{"relay, 500", ModeRelay, livechatsim.Faults{Internal: 100}, ""},
		{"relay, 429", ModeRelay, livechatsim.Faults{TooMany: 100}, ""},
		{"relay, unreachable", ModeRelay, livechatsim.Faults{}, closed.URL},
		{"seat, 503", ModeSeat, livechatsim.Faults{Unavailable: 100}, ""},
		{"seat, 500", ModeSeat, livechatsim.Faults{Internal: 100}, ""},
		{"seat, 429", ModeSeat, livechatsim.Faults{TooMany: 100}, ""},
		{"seat, unreachable", ModeSeat, livechatsim.Faults{}, closed.URL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, tt.mode)
			org := w.sim.OrganizationID()
			body := webhookFixture(t, "incoming_event_agent.json", secretKey, org)
			if tt.mode == ModeSeat {
				// No presence in additional_data: the seat must ask get_chat.
				body = []byte(`{"webhook_id":"x","secret_key":"` + secretKey + `","action":"incoming_event","organization_id":"` + org +
					`","payload":{"chat_id":"PJ0MRSHTDG","thread_id":"T","event":{"id":"E1","type":"message","text":"hi","author_id":"cust-1","visibility":"all"}},"additional_data":{}}`)
			}
			cfg := w.cfg
			cfg.Settings = maps.Clone(w.cfg.Settings)
			if tt.apiURL != "" {
				cfg.Settings[SettingAPIURL] = tt.apiURL
				cfg.Settings[SettingAccountsURL] = tt.apiURL
			}
			desk, err := New(cfg, nil) // a new desk: nothing cached from the world's setup
			if err != nil {
				t.Fatal(err)
			}
			w.sim.SetFaults(tt.faults)
			evs, err := desk.Inbound(ctx, "livechat", http.Header{}, body)
			if baton.ErrorCode(err) != baton.EUNAVAILABLE || evs != nil {
				t.Fatalf("Inbound = %v, %v; want no events and an unavailable error", evs, err)
			}
			var de *baton.DeskError
			if !errors.As(err, &de) {
				t.Fatalf("error %v does not keep the desk error", err)
			}
			if strings.Contains(baton.ErrorMessage(err), tt.apiURL) && tt.apiURL != "" {
				t.Errorf("the message shows the API URL: %s", baton.ErrorMessage(err))
			}
		})
	}
}
