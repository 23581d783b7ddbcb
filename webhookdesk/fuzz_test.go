package webhookdesk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
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

// roundTripFunc serves HTTP requests in memory.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// FuzzOutboundAnswer checks how the desk reads the company service's answers
// to establish, chat and close: a 2xx succeeds, anything else is a
// *baton.DeskError of exactly one class wrapping an *HTTPError with the
// status and a one-line message of at most 200 characters; 401/403 is Auth,
// establish refusals are Busy, and Retry-After stays in 0..1h.
func FuzzOutboundAnswer(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "outbound", "*.json"))
	for i, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(i), 200+i, "", b)
	}
	f.Add(uint8(0), 503, "120", []byte(`{"code":1,"message":"busy\nnow"}`))
	f.Add(uint8(1), 429, "Wed, 21 Oct 2015 07:28:00 GMT", []byte(`{"message":""}`))
	f.Add(uint8(2), 401, "", []byte(`not json`))
	f.Add(uint8(0), 409, "", []byte(`{"message":7}`))
	f.Add(uint8(1), 500, "-3", []byte(strings.Repeat("ü ", 3000)))
	f.Add(uint8(2), 302, "", []byte(nil))
	f.Add(uint8(3), 999, "", []byte("\xff"))
	f.Fuzz(func(t *testing.T, call uint8, status int, retryAfter string, body []byte) {
		if status < 100 || status > 999 || len(body) > 128<<10 {
			return
		}
		client := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			h := http.Header{"Content-Type": {"application/json"}}
			if retryAfter != "" {
				h.Set("Retry-After", retryAfter)
			}
			return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(bytes.NewReader(body))}, nil
		})}
		d, err := New(baton.DeskConfig{ID: "desk_1", Kind: baton.KindWebhook, Settings: map[string]string{"url": "https://crm.example.com", "secret": testSecret}}, client)
		if err != nil {
			t.Fatal(err)
		}
		d.now = func() time.Time { return time.Date(2015, 10, 21, 7, 27, 0, 0, time.UTC) }
		ctx := context.Background()
		h := baton.Handle{Ref: "ho_1"}
		establish := false
		switch call % 4 {
		case 0:
			_, err = d.Open(ctx, openRequest())
			establish = true
		case 1:
			err = d.Send(ctx, h, baton.Message{ID: "m1", Text: "hello"})
		case 2:
			err = d.Close(ctx, h, baton.BotClosed)
		default:
			err = d.Check(ctx)
		}
		if status >= 200 && status < 300 {
			if err != nil {
				t.Fatalf("a %d answer failed: %v", status, err)
			}
			return
		}
		var de *baton.DeskError
		var he *HTTPError
		if !errors.As(err, &de) || !errors.As(err, &he) {
			t.Fatalf("a %d answer gave %v (%T), want a *baton.DeskError wrapping an *HTTPError", status, err, err)
		}
		classes := 0
		for _, b := range []bool{de.Auth, de.Busy, de.Permanent, !de.Auth && !de.Busy && !de.Permanent} {
			if b {
				classes++
			}
		}
		switch {
		case he.Status != status:
			t.Fatalf("HTTPError status %d, answer %d", he.Status, status)
		case classes != 1:
			t.Fatalf("DeskError %+v is not of exactly one class", de)
		case strings.ContainsAny(he.Message, "\n\r\t") || len([]rune(he.Message)) > 201:
			t.Fatalf("message %q is not one clipped line", he.Message)
		case de.RetryAfter < 0 || de.RetryAfter > time.Hour:
			t.Fatalf("Retry-After %q read as %v", retryAfter, de.RetryAfter)
		case (status == 401 || status == 403) && !de.Auth:
			t.Fatalf("a %d is not an Auth error: %+v", status, de)
		case establish && status != 401 && status != 403 && !de.Busy && !retryable(status):
			t.Fatalf("establish refused with %d is not Busy: %+v", status, de)
		case retryable(status) && (de.Permanent || de.Busy || de.Auth):
			t.Fatalf("a %d is not retried: %+v", status, de)
		}
	})
}

// retryable reports whether Baton retries a call the service answered with status.
func retryable(status int) bool {
	switch status {
	case 408, 429, 502, 503, 504:
		return true
	}
	return false
}
