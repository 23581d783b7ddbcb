package gorgias_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/gorgias"
)

func inboundDesk(t testing.TB) *gorgias.Desk {
	d, err := gorgias.New(baton.DeskConfig{Kind: baton.KindGorgias, Settings: map[string]string{
		"domain": "acme", "email": "a@acme.test", "api_key": "k", "integration_token": confToken}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return d.(*gorgias.Desk)
}

func call(d *gorgias.Desk, query string, hdr map[string]string, body string) ([]baton.DeskEvent, error) {
	h := http.Header{}
	if query != "" {
		h.Set(baton.InboundQuery, query)
	}
	for k, v := range hdr {
		h.Set(k, v)
	}
	return d.Inbound(context.Background(), "gorgias", h, []byte(body))
}

func TestInbound(t *testing.T) {
	t.Parallel()
	d := inboundDesk(t)
	tok := "token=" + url.QueryEscape(confToken)
	csml := tok + "&external_id=hnd_1&ticket_id=42&event_type=ticket-message-created&event_id=77&message_id=9&text=Hello+there&from_agent=True"
	json := `{"context":{"ticket":{"id":42,"external_id":"hnd_1","status":"open"},"event":{"type":"ticket-message-created","id":78,"object_id":10},` +
		`"message":{"id":10,"body_text":"With a file","from_agent":true,"public":true,"channel":"api","sender":{"id":5,"name":"Gia"},` +
		`"attachments":[{"url":"https://f.test/a.pdf","name":"a.pdf","content_type":"application/pdf","size":12}]}}}`
	tests := []struct {
		name   string
		query  string
		hdr    map[string]string
		body   string
		want   baton.DeskEvent
		reason string // an Ignored reason
		err    string // an error code, or "forged"
		field  string // the field the error names
	}{
		{name: "csml query", query: csml, want: baton.DeskEvent{ID: "message:9", Ref: "42", Type: baton.DeskAgentMessage, Text: "Hello there"}},
		{name: "header token, json keys", hdr: map[string]string{gorgias.TokenHeader: confToken, "Content-Type": "application/json"},
			body: `{"ticket_id":"42","event_type":"ticket-message-created","message_id":9,"text":"Hi","from_agent":"true"}`,
			want: baton.DeskEvent{ID: "message:9", Ref: "42", Type: baton.DeskAgentMessage, Text: "Hi"}},
		{name: "whole context", query: tok, body: json, want: baton.DeskEvent{ID: "message:10", Ref: "42", Type: baton.DeskAgentMessage, Text: "With a file",
			Agent: baton.Agent{ID: "5", Name: "Gia"}, Attachments: []baton.Attachment{{URL: "https://f.test/a.pdf", Name: "a.pdf", Type: "application/pdf", Size: 12}}}},
		{name: "form body", query: tok, hdr: map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
			body: "ticket_id=42&event_id=5&text=Yo&from_agent=True", want: baton.DeskEvent{ID: "5", Ref: "42", Type: baton.DeskAgentMessage, Text: "Yo"}},
		{name: "echo of Baton's message", query: tok + "&ticket_id=42&event_type=ticket-message-created&event_id=1&text=x&from_agent=False", reason: baton.IgnoredNoEvents},
		{name: "internal note", query: tok + "&ticket_id=42&event_type=ticket-message-created&event_id=1&text=x&from_agent=True&channel=internal-note", reason: baton.IgnoredNoEvents},
		{name: "closed", query: tok + "&ticket_id=42&event_type=ticket-updated&event_id=3&status=closed", want: baton.DeskEvent{ID: "3", Ref: "42", Type: baton.DeskAgentClosed}},
		{name: "status updated", query: tok + "&ticket_id=42&event_type=ticket-status-updated&status=closed", want: baton.DeskEvent{ID: "closed:42", Ref: "42", Type: baton.DeskAgentClosed}},
		{name: "updated, open", query: tok + "&ticket_id=42&event_type=ticket-updated&event_id=3&status=open", reason: baton.IgnoredNoEvents},
		{name: "probe", query: tok, reason: baton.IgnoredNoEvents},
		{name: "no token", query: "ticket_id=42&event_id=1&text=x&from_agent=True", err: "forged"},
		{name: "wrong token", query: "token=conformance-gorgias-token-0124&ticket_id=42&event_id=1&text=x&from_agent=True", err: "forged"},
		{name: "bad from_agent", query: tok + "&ticket_id=42&event_id=1&text=x&from_agent=maybe", err: baton.EINVALID},
		{name: "bad ticket", query: tok + "&ticket_id=abc&event_id=1&text=x&from_agent=True", err: baton.EINVALID},
		{name: "bad json", query: tok, body: `{"ticket_id":`, err: baton.EBADREQUEST, field: "body"},
		{name: "not utf-8", query: tok, body: "{\"text\":\"a\xff\xfeb\",\"ticket_id\":42,\"from_agent\":true,\"event_id\":1}", err: baton.EBADREQUEST, field: "body"},
		{name: "attachments not a list", query: tok, body: `{"context":{"message":{"attachments":{"url":"x"}}}}`, err: baton.EBADREQUEST, field: "context.message.attachments"},
		{name: "an array", query: tok, body: `[1,2]`, err: baton.EBADREQUEST, field: "body"},
		{name: "an unrendered context", query: tok, body: `{"context":"{{context}}"}`, err: baton.EBADREQUEST, field: "context"},
		{name: "a number for context", query: tok, body: `{"context":5}`, err: baton.EINVALID, field: "context"},
		{name: "from_agent yes", query: tok + "&ticket_id=42&event_id=1&text=x&from_agent=yes", err: baton.EINVALID, field: "from_agent"},
		{name: "from_agent 1", query: tok + "&ticket_id=42&event_id=1&text=x&from_agent=1", err: baton.EINVALID, field: "from_agent"},
		{name: "two tokens, the first right", query: tok + "&token=wrong-wrong-wrong-wrong&ticket_id=42&event_id=1&text=x&from_agent=True", err: "forged"},
		{name: "a wrong header beside the right query", query: tok + "&ticket_id=42&event_id=1&text=x&from_agent=True",
			hdr: map[string]string{gorgias.TokenHeader: "wrong-wrong-wrong-wrong"}, err: "forged"},
		{name: "another event type", query: tok + "&ticket_id=42&event_type=ticket-deleted&event_id=1&text=x&from_agent=True", reason: baton.IgnoredNoEvents},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			evs, err := call(d, tc.query, tc.hdr, tc.body)
			var ig *baton.Ignored
			switch {
			case tc.err == "forged":
				if !errors.Is(err, baton.ErrForged) {
					t.Errorf("err %v, want forged", err)
				}
			case tc.err != "":
				if baton.ErrorCode(err) != tc.err || (tc.field != "" && baton.ErrorField(err) != tc.field) {
					t.Errorf("err %v (field %q), want %s naming %q", err, baton.ErrorField(err), tc.err, tc.field)
				}
				if strings.Contains(fmt.Sprint(err), "gorgias.") || strings.Contains(fmt.Sprint(err), "Go struct") {
					t.Errorf("err %v speaks of Go's types", err)
				}
			case tc.reason != "":
				if !errors.As(err, &ig) || ig.Reason != tc.reason {
					t.Errorf("err %v, want ignored %s", err, tc.reason)
				}
			case err != nil || len(evs) != 1:
				t.Errorf("events %+v, err %v", evs, err)
			default:
				got := evs[0]
				if got.ID != tc.want.ID || got.Ref != tc.want.Ref || got.Type != tc.want.Type || got.Text != tc.want.Text || got.Agent != tc.want.Agent ||
					len(got.Attachments) != len(tc.want.Attachments) || (len(got.Attachments) > 0 && got.Attachments[0] != tc.want.Attachments[0]) {
					t.Errorf("event %+v, want %+v", got, tc.want)
				}
			}
		})
	}
}
