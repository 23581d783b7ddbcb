package livechat

import (
	"context"
	"slices"
	"strings"
	"testing"

	baton "github.com/batonhq/baton"
	"github.com/batonhq/baton/livechatsim"
)

// TestRegisterWebhooks: the four chat webhooks are registered once, as
// Baton needs them; a second run changes nothing; a webhook registered for
// the URL with another secret is replaced; disabled license webhooks are
// turned on.
func TestRegisterWebhooks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWorld(t, ModeRelay)
	r := w.register // newWorld's first run
	if !slices.Equal(r.Created, WebhookActions) || len(r.Kept)+len(r.Replaced)+len(r.Missing) != 0 || !r.OK() {
		t.Errorf("first run: %+v", r)
	}
	if len(r.Registered) != 4 {
		t.Fatalf("registered %+v", r.Registered)
	}
	for _, h := range r.Registered {
		if h.Type != WebhookLicense || h.SecretKey != secretKey || h.OwnerClientID != w.app.ClientID ||
			!slices.Equal(h.AdditionalData, []string{"chat_presence_user_ids"}) || h.URL != w.inbound {
			t.Errorf("registered webhook %+v", h)
		}
	}

	r, err := RegisterWebhooks(ctx, w.cfg, w.inbound, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r.Kept, WebhookActions) || len(r.Created)+len(r.Replaced)+len(r.Missing) != 0 || len(r.Registered) != 4 {
		t.Errorf("second run: %+v", r)
	}
	if s := r.String(); !strings.Contains(s, "all webhooks Baton needs are registered") || !strings.Contains(s, "already registered") {
		t.Errorf("report:\n%s", s)
	}

	// Another URL with a stale webhook (another secret) and license webhooks off.
	other := w.inbound + "2"
	if _, err := w.sim.AddWebhook(livechatsim.Webhook{URL: other, Action: ActionChatDeactivated, SecretKey: "an-old-secret-key-000",
		Type: "license", OwnerClientID: w.app.ClientID, AdditionalData: []string{"chat_presence_user_ids"}}); err != nil {
		t.Fatal(err)
	}
	d := w.desk.(*Relay)
	if err := d.api.Configuration(ctx, "disable_license_webhooks", OwnerRequest{OwnerClientID: w.app.ClientID}, nil); err != nil {
		t.Fatal(err)
	}
	r, err = RegisterWebhooks(ctx, w.cfg, other, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r.Replaced, []string{ActionChatDeactivated}) || len(r.Created) != 3 || !r.EnabledNow || !r.OK() || len(r.Registered) != 4 {
		t.Errorf("run with a stale webhook: %+v", r)
	}
	hooks, err := d.api.ListWebhooks(ctx, w.app.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, h := range hooks {
		if h.URL == other && h.Action == ActionChatDeactivated {
			n++
			if h.SecretKey != secretKey {
				t.Errorf("the stale webhook is still there: %+v", h)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d chat_deactivated webhooks for the URL, want 1", n)
	}
	if on, _ := d.api.LicenseWebhooksEnabled(ctx, w.app.ClientID); !on {
		t.Error("license webhooks are still off")
	}

	if _, err := RegisterWebhooks(ctx, w.cfg, "not a url", nil); baton.ErrorField(err) != "url" {
		t.Errorf("a bad URL: %v", err)
	}
	bad := w.cfg
	bad.Settings = map[string]string{SettingMode: "seat"}
	if _, err := RegisterWebhooks(ctx, bad, other, nil); baton.ErrorCode(err) != baton.EINVALID {
		t.Errorf("bad settings: %v", err)
	}
}

// TestRegisterDeskWebhooks: a desk's webhooks point at its inbound URL
// under Baton's base URL, and only LiveChat desks have them.
func TestRegisterDeskWebhooks(t *testing.T) {
	w := newWorld(t, ModeRelay)
	for _, base := range []string{"https://baton.example.com", "https://baton.example.com/"} {
		r, err := RegisterDeskWebhooks(t.Context(), w.cfg, base, nil)
		if want := "https://baton.example.com/v1/desks/desk_lc/inbound/webhook"; err != nil || r.URL != want || !r.OK() {
			t.Errorf("base %q: %+v %v; want every webhook registered for %s", base, r, err, want)
		}
	}
	other := w.cfg
	other.Kind = baton.KindWebhook
	if _, err := RegisterDeskWebhooks(t.Context(), other, "https://baton.example.com", nil); err == nil || err.Error() != `desk "desk_lc" is a webhook desk` {
		t.Errorf("a webhook desk: %v", err)
	}
}
