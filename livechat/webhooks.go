package livechat

import (
	"context"
	"crypto/subtle"
	"fmt"
	"net/http"
	"slices"
	"strings"

	baton "github.com/batonhq/baton"
)

// WebhookActions are the chat webhooks Baton needs, in registration order.
var WebhookActions = []string{ActionIncomingChat, ActionIncomingEvent, ActionChatTransferred, ActionChatDeactivated}

// webhookData is the additional_data Baton asks for: who is in the chat.
var webhookData = []string{"chat_presence_user_ids"}

// Report is what RegisterWebhooks did and found, for the CLI to print.
type Report struct {
	URL           string   // Baton's inbound URL the webhooks point at
	OwnerClientID string   // the app (client_id) that owns them
	Created       []string // actions registered now
	Kept          []string // actions already registered for URL as Baton needs them
	Replaced      []string // actions registered for URL otherwise (secret_key, type, additional_data): registered again
	// Registered lists the app's webhooks for URL after the changes.
	Registered []RegisteredWebhook
	// Missing lists the actions Baton needs that are still not registered
	// for URL; empty when the setup is complete.
	Missing []string
	// LicenseWebhooksEnabled says whether the app's license webhooks are
	// on; EnabledNow that RegisterWebhooks turned them on.
	LicenseWebhooksEnabled bool
	EnabledNow             bool // RegisterWebhooks turned them on
	// Notes are things the operator should know (the app must be installed
	// on the license, the propagation delay, ...).
	Notes []string
}

// OK reports whether every webhook Baton needs is registered and license
// webhooks are on.
func (r Report) OK() bool { return len(r.Missing) == 0 && r.LicenseWebhooksEnabled }

// String renders the report for a terminal.
func (r Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "LiveChat webhooks of app %s for %s\n", r.OwnerClientID, r.URL)
	for _, a := range WebhookActions {
		state := "missing"
		switch {
		case slices.Contains(r.Created, a):
			state = "registered now"
		case slices.Contains(r.Replaced, a):
			state = "registered again (it had another secret_key, type or additional_data)"
		case slices.Contains(r.Kept, a):
			state = "already registered"
		}
		id := ""
		for _, w := range r.Registered {
			if w.Action == a {
				id = " (" + w.ID + ")"
				break
			}
		}
		fmt.Fprintf(&b, "  %-18s %s%s\n", a, state, id)
	}
	switch {
	case r.EnabledNow:
		b.WriteString("  license webhooks were disabled for the app: enabled now\n")
	case !r.LicenseWebhooksEnabled:
		b.WriteString("  license webhooks are disabled for the app: LiveChat will not deliver them\n")
	}
	if len(r.Missing) > 0 {
		fmt.Fprintf(&b, "missing: %s\n", strings.Join(r.Missing, ", "))
	} else {
		b.WriteString("all webhooks Baton needs are registered\n")
	}
	for _, n := range r.Notes {
		b.WriteString("note: " + n + "\n")
	}
	return b.String()
}

// RegisterWebhooks registers, through the Configuration API with the desk's
// PAT, the chat webhooks Baton reads (incoming_chat, incoming_event,
// chat_transferred, chat_deactivated) for url: type license, the desk's
// secret_key, additional_data chat_presence_user_ids, owner_client_id the
// desk's client_id. Webhooks already registered for url as Baton needs them
// are kept; one registered for url otherwise is unregistered and registered
// again. It then turns the app's license webhooks on if they are off, lists
// what is registered for url and says what is missing. It is idempotent.
// url is Baton's inbound URL of the desk (see RegisterDeskWebhooks).
func RegisterWebhooks(ctx context.Context, cfg baton.DeskConfig, url string, client *http.Client) (Report, error) {
	c, err := newCore(cfg, client)
	if err != nil {
		return Report{}, err
	}
	r := Report{URL: url, OwnerClientID: c.st.ClientID}
	switch {
	case !absoluteURL(url):
		return r, baton.FieldErrorf("url", "must be an absolute http or https URL: the desk's inbound URL")
	case len(url) > 500:
		return r, baton.FieldErrorf("url", "LiveChat takes webhook URLs of at most 500 characters")
	}
	owner := c.st.ClientID
	have, err := c.api.ListWebhooks(ctx, owner)
	if err != nil {
		return r, err
	}
	for _, action := range WebhookActions {
		var found, stale []RegisteredWebhook
		for _, w := range have {
			if w.URL != url || w.Action != action {
				continue
			}
			if c.wanted(w) {
				found = append(found, w)
			} else {
				stale = append(stale, w)
			}
		}
		if len(found) > 0 {
			r.Kept = append(r.Kept, action)
			if len(found) > 1 {
				r.Notes = append(r.Notes, fmt.Sprintf("%s is registered %d times for this URL: LiveChat delivers each event that often (Baton drops the duplicates)", action, len(found)))
			}
			continue
		}
		for _, w := range stale {
			if err := c.api.UnregisterWebhook(ctx, w.ID, owner); err != nil && errType(err) != "not_found" {
				return r, err
			}
		}
		if _, err := c.api.RegisterWebhook(ctx, RegisterWebhookRequest{URL: url, Action: action, SecretKey: c.st.SecretKey,
			Type: WebhookLicense, OwnerClientID: owner, Description: "Baton " + c.st.Mode + " desk", AdditionalData: webhookData}); err != nil {
			return r, err
		}
		if len(stale) > 0 {
			r.Replaced = append(r.Replaced, action)
		} else {
			r.Created = append(r.Created, action)
		}
	}

	enabled, err := c.api.LicenseWebhooksEnabled(ctx, owner)
	if err != nil {
		return r, err
	}
	if !enabled {
		if err := c.api.EnableLicenseWebhooks(ctx, owner); err != nil {
			return r, err
		}
		enabled, r.EnabledNow = true, true
	}
	r.LicenseWebhooksEnabled = enabled

	if have, err = c.api.ListWebhooks(ctx, owner); err != nil {
		return r, err
	}
	for _, w := range have {
		if w.URL == url && slices.Contains(WebhookActions, w.Action) {
			r.Registered = append(r.Registered, w)
		}
	}
	for _, action := range WebhookActions {
		if !slices.ContainsFunc(r.Registered, func(w RegisteredWebhook) bool { return w.Action == action && c.wanted(w) }) {
			r.Missing = append(r.Missing, action)
		}
	}
	r.Notes = append(r.Notes,
		"license webhooks reach Baton only while the app is installed on the license (Developer Console: Private installation)",
		"LiveChat applies configuration changes within about 2 minutes")
	return r, nil
}

// RegisterDeskWebhooks registers the chat webhooks of the LiveChat desk cfg
// (see RegisterWebhooks) for the Baton whose public base URL is base: they
// point at the desk's inbound URL, base/v1/desks/{desk}/inbound/webhook.
func RegisterDeskWebhooks(ctx context.Context, cfg baton.DeskConfig, base string, client *http.Client) (Report, error) {
	if cfg.Kind != baton.KindLiveChat {
		return Report{}, fmt.Errorf("desk %q is a %s desk", cfg.ID, cfg.Kind)
	}
	return RegisterWebhooks(ctx, cfg, InboundURL(base, cfg.ID), client)
}

// InboundURL is the URL at which the Baton whose public base URL is base
// receives the webhooks of desk.
func InboundURL(base, desk string) string {
	return strings.TrimRight(base, "/") + "/v1/desks/" + desk + "/inbound/webhook"
}

// wanted reports whether a registered webhook is one Baton can use: type
// license, the desk's secret_key (when LiveChat lists it) and
// chat_presence_user_ids among its additional data, without filters that
// would hide events.
func (c *core) wanted(w RegisteredWebhook) bool {
	if w.Type != WebhookLicense || !slices.Contains(w.AdditionalData, "chat_presence_user_ids") {
		return false
	}
	if f := strings.TrimSpace(string(w.Filters)); f != "" && f != "{}" && f != "null" {
		return false
	}
	return w.SecretKey == "" || subtle.ConstantTimeCompare([]byte(w.SecretKey), []byte(c.st.SecretKey)) == 1
}
