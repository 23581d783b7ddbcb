package gorgias_test

import (
	"errors"
	"net/url"
	"testing"
	"unicode/utf8"

	"github.com/batonhq/baton"
)

// FuzzInbound: whatever the integration sends, Inbound refuses it as
// forged, as malformed (a precise client error) or ignored, or returns
// events naming a ticket and an id; it never panics. The normal run
// executes the seeds.
func FuzzInbound(f *testing.F) {
	tok := "token=" + url.QueryEscape(confToken)
	f.Add(tok+"&ticket_id=42&event_type=ticket-message-created&event_id=77&text=Hi&from_agent=True", "", "")
	f.Add(tok+"&ticket_id=42&event_type=ticket-updated&status=closed", "", "")
	f.Add(tok, "application/json", `{"context":{"ticket":{"id":42},"event":{"type":"ticket-message-created","id":1},"message":{"id":2,"body_text":"x","from_agent":true}}}`)
	f.Add(tok, "application/json", `{"context":"{\"ticket\":{\"id\":1}}"}`)
	f.Add(tok, "application/json", `{"ticket_id":[1],"event":7}`)
	f.Add(tok, "application/x-www-form-urlencoded", "ticket_id=1&from_agent=True&text=%zz")
	f.Add("ticket_id=1&text=x&from_agent=True", "", "")
	f.Add(tok+"&ticket_id=9223372036854775808&event_id=1&text=x&from_agent=TRUE", "", "")
	f.Add(tok, "application/json", `{"message":{"attachments":[{"url":""}]},"ticket":{"id":"1"}}`)
	d := inboundDesk(f)
	f.Fuzz(func(t *testing.T, query, ctype, body string) {
		evs, err := call(d, query, map[string]string{"Content-Type": ctype}, body)
		var ig *baton.Ignored
		switch code := baton.ErrorCode(err); {
		case err == nil:
			for _, ev := range evs {
				if ev.ID == "" || ev.Ref == "" || ev.Type == "" || !utf8.ValidString(ev.Text) {
					t.Fatalf("event %+v from %q %q", ev, query, body)
				}
			}
		case errors.Is(err, baton.ErrForged), errors.As(err, &ig):
		case code == baton.EBADREQUEST || code == baton.EINVALID:
		default:
			t.Fatalf("Inbound(%q, %q) = %v (code %q)", query, body, err, code)
		}
	})
}
