package intercom_test

import (
	"context"
	"errors"
	"testing"
	"unicode/utf8"

	"github.com/batonhq/baton"
)

var t0ctx = context.Background()

// FuzzInbound: whatever is posted, signed or not, Inbound refuses it as
// forged, as malformed (a precise client error) or ignored, or returns
// events naming a conversation and an id, or (a snooze, checked against
// the API, which is not there) says the API is unavailable; it never panics. The normal run
// executes the seeds.
func FuzzInbound(f *testing.F) {
	for _, s := range []string{replied, repliedHTML, snoozed, assigned, ping, "", "null", "{}", `{"type":"notification_event","id":"x","topic":"conversation.admin.replied","data":{"item":{"id":"1","conversation_parts":{"conversation_parts":[{"id":null,"part_type":"comment","body":"<p","author":{"type":"admin"}}]}}}}`} {
		f.Add(s, true)
	}
	f.Add(replied, false)
	d := inboundDesk(f)
	f.Fuzz(func(t *testing.T, body string, sign bool) {
		evs, err := inbound(d, body, sign)
		var ig *baton.Ignored
		switch code := baton.ErrorCode(err); {
		case err == nil:
			for _, ev := range evs {
				if ev.ID == "" || ev.Ref == "" || ev.Type == "" || !utf8.ValidString(ev.Text) && utf8.ValidString(body) {
					t.Fatalf("event %+v from %q", ev, body)
				}
			}
		case !sign && !errors.Is(err, baton.ErrForged):
			t.Fatalf("unsigned %q: %v, want forged", body, err)
		case errors.Is(err, baton.ErrForged), errors.As(err, &ig):
		case code == baton.EBADREQUEST || code == baton.EINVALID:
		case code == baton.EUNAVAILABLE: // a snooze checked against an API that is not there
		default:
			t.Fatalf("Inbound(%q) = %v (code %q)", body, err, code)
		}
	})
}
