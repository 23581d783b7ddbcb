package webhookdesk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	baton "github.com/batonhq/baton"
)

// inboundPaths are the paths a fuzzed input picks from by index; the last
// entry stands for the fuzzed path itself.
var inboundPaths = []string{InboundMessage, InboundClose, InboundJoin, "v1/human/message/receive", "/human/close/", ""}

// FuzzInbound checks that Inbound, given any body on any path with the right
// secret, either fails with a *baton.Error of an expected code naming its
// field when invalid, or returns events that hold up: a known type for the
// path, an id, a non-blank ref, http(s) attachments; that the result does not
// depend on how the JSON is laid out; and that with a wrong secret it is
// always forged.
func FuzzInbound(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "inbound", "*"))
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		for i := range 3 {
			f.Add(uint8(i), "", b)
		}
	}
	f.Add(uint8(5), "messages", []byte(`{"conversation_id":"ho_1","body":"hi","message_id":"m1"}`))
	f.Add(uint8(0), "", []byte(`{"conversation_id":"ho_1","body":"hi","timestamp":"-1"}`))
	f.Add(uint8(0), "", []byte(`{"conversation_id":"ho_1","body":" ","timestamp":"00012","attachments":[{"url":"https://x.example/a","size":-1}]}`))
	f.Add(uint8(0), "", []byte(`{"conversation_id":"ho_1","timestamp":9223372036854775807,"attachments":[{"url":"HTTPS://X/%zz"},null]}`))
	f.Add(uint8(1), "", []byte(`{"istest":true,"conversation_id":5}`))
	f.Add(uint8(2), "", []byte(`{"conversation_id":"ho_1","agent":{"id":"ag","name":"N"},"timestamp":"1e3"}`))
	f.Add(uint8(0), "", []byte(`{"conversation_id":"a","conversation_id":"b","body":"x","message_id":""} `))
	f.Add(uint8(0), "", []byte("\ufeff{}"))
	f.Fuzz(func(t *testing.T, pick uint8, fuzzPath string, body []byte) {
		if len(body) > 64<<10 {
			return
		}
		path := inboundPaths[int(pick)%len(inboundPaths)]
		if path == "" {
			path = fuzzPath
		}
		d, err := New(baton.DeskConfig{ID: "desk_1", Kind: baton.KindWebhook, Settings: map[string]string{"url": "https://crm.example.com", "secret": testSecret}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()

		if _, err := d.Inbound(ctx, path, bearer(testSecret+"x"), body); !errors.Is(err, baton.ErrForged) {
			t.Fatalf("wrong secret: %v, want baton.ErrForged", err)
		}
		events, err := d.Inbound(ctx, path, bearer(testSecret), body)
		if err != nil {
			var e *baton.Error
			switch {
			case events != nil:
				t.Fatalf("events %v with error %v", events, err)
			case errors.Is(err, baton.ErrForged) || !errors.As(err, &e):
				t.Fatalf("error %v is not a *baton.Error", err)
			case e.Code == baton.EINVALID && e.Field == "":
				t.Fatalf("invalid without a field: %v", err)
			case e.Code != baton.EINVALID && e.Code != baton.EBADREQUEST && e.Code != baton.ENOTFOUND:
				t.Fatalf("unexpected code %q: %v", e.Code, err)
			}
			if e.Code == baton.ENOTFOUND {
				if _, known := aliases[strings.Trim(path, "/")]; known {
					t.Fatalf("known path %q answered not found", path)
				}
			}
			return
		}
		kind, known := aliases[strings.Trim(path, "/")]
		if !known {
			t.Fatalf("unknown path %q accepted", path)
		}
		if !json.Valid(body) {
			t.Fatalf("invalid JSON accepted: %q", body)
		}
		if len(events) > 1 {
			t.Fatalf("%d events from one request", len(events))
		}
		want := map[string]baton.DeskEventType{InboundMessage: baton.DeskAgentMessage, InboundClose: baton.DeskAgentClosed, InboundJoin: baton.DeskAgentJoined}[kind]
		for _, ev := range events {
			if ev.Type != want {
				t.Fatalf("path %q gave a %s event", path, ev.Type)
			}
			if !strings.HasPrefix(ev.ID, kind+":") || len(ev.ID) == len(kind)+1 {
				t.Fatalf("event id %q on path %q", ev.ID, path)
			}
			if strings.TrimSpace(ev.Ref) == "" {
				t.Fatalf("blank ref in %+v", ev)
			}
			if ev.Type == baton.DeskAgentMessage && strings.TrimSpace(ev.Text) == "" && len(ev.Attachments) == 0 {
				t.Fatalf("an empty message: %+v", ev)
			}
			if !ev.At.IsZero() && ev.At.Before(time.Unix(0, 0)) {
				t.Fatalf("time %v before 1970", ev.At)
			}
			for i, a := range ev.Attachments {
				u, err := url.Parse(a.URL)
				if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || a.Size < 0 {
					t.Fatalf("attachment %d accepted: %+v", i, a)
				}
			}
		}
		// The same JSON laid out otherwise gives the same events.
		var b bytes.Buffer
		if err := json.Indent(&b, body, "", "\t"); err != nil {
			t.Fatalf("Indent: %v", err)
		}
		again, err := d.Inbound(ctx, path, bearer(testSecret), b.Bytes())
		if err != nil || !reflect.DeepEqual(again, events) {
			t.Fatalf("indented body gave %+v, %v; compact gave %+v", again, err, events)
		}
	})
}
