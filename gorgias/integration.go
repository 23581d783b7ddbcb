package gorgias

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	baton "github.com/batonhq/baton"
)

// IntegrationName names the HTTP integration Baton creates.
const IntegrationName = "Baton handoff"

// InboundURL is the inbound URL of desk deskID at the Baton whose public
// base URL is base.
func InboundURL(base, deskID string) string {
	return strings.TrimRight(base, "/") + "/v1/desks/" + url.PathEscape(deskID) + "/inbound/gorgias"
}

// Template is the HTTP integration that reaches desk deskID at base: the
// token and CSML Studio's keys in the URL, the whole context in the body,
// on new messages and ticket updates.
func Template(base, deskID, token string) HTTP {
	u := InboundURL(base, deskID) + "?token=" + url.QueryEscape(token) +
		"&external_id={{ticket.external_id}}&ticket_id={{ticket.id}}&event_type={{event.type}}&event_id={{event.id}}" +
		"&message_id={{event.object_id}}&from_agent={{message.from_agent}}&status={{ticket.status}}"
	return HTTP{URL: u, Method: http.MethodPost, Form: json.RawMessage(`{"context":"{{context}}"}`),
		RequestContentType: "application/json", ResponseContentType: "application/json",
		Triggers: map[string]bool{"ticket-created": false, TriggerTicketUpdated: true, TriggerMessageCreated: true}}
}

// Print writes the integration to paste into Gorgias (Settings → HTTP
// integration → Add), field by field.
func (h HTTP) Print() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Name:                  %s\n", IntegrationName)
	fmt.Fprintf(&b, "URL:                   %s\n", h.URL)
	fmt.Fprintf(&b, "HTTP method:           %s\n", h.Method)
	fmt.Fprintf(&b, "Request content type:  %s\n", h.RequestContentType)
	fmt.Fprintf(&b, "Response content type: %s\n", h.ResponseContentType)
	fmt.Fprintf(&b, "Headers:               (none)\n")
	fmt.Fprintf(&b, "Request body (JSON):   %s\n", h.Form)
	var on []string
	for _, t := range []string{"ticket-created", TriggerTicketUpdated, TriggerMessageCreated} {
		if h.Triggers[t] {
			on = append(on, t)
		}
	}
	fmt.Fprintf(&b, "Triggers:              %s\n", strings.Join(on, ", "))
	return b.String()
}

// RegisterIntegration creates desk dc's HTTP integration through the API,
// unless one with the same URL exists, and returns it and whether it was
// created now.
func RegisterIntegration(ctx context.Context, dc baton.DeskConfig, base string, client *http.Client) (Integration, bool, error) {
	d, err := newDesk(dc, client)
	if err != nil {
		return Integration{}, false, err
	}
	want := Integration{Name: IntegrationName, Type: "http", HTTP: Template(base, dc.ID, d.st.Token)}
	have, err := d.api.Integrations(ctx)
	if err != nil {
		return Integration{}, false, err
	}
	for _, in := range have {
		if in.Type == "http" && in.HTTP.URL == want.HTTP.URL {
			return in, false, nil
		}
	}
	got, err := d.api.CreateIntegration(ctx, want)
	return got, err == nil, err
}
