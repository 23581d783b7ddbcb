package httpapi_test

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestInboundMessageIDPerConversation: a company service that numbers
// message_id per conversation sends message "1" in two conversations; both
// reach the bot, on both stores, and a true repeat is still dropped.
func TestInboundMessageIDPerConversation(t *testing.T) {
	t.Parallel()
	for _, store := range stores {
		t.Run(store, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, withStore(store))
			auth := map[string]string{"Authorization": "Bearer " + hookSecret}
			var hs []wireHandoff
			for _, cid := range []string{"c-a", "c-b"} {
				body := createBody(cid)
				body["desk_id"] = hookDesk
				h := must[wireHandoff](t, f.do(req{method: "POST", path: "/v1/handoffs", key: key1, body: body}), http.StatusCreated)
				hs = append(hs, f.waitState(h.ID, "queued"))
			}
			for _, h := range hs {
				msg := map[string]any{"conversation_id": h.ID, "body": "Hello from " + h.ID, "message_id": "1",
					"agent": map[string]any{"id": "zoe", "name": "Zoe"}}
				must[ack](t, f.do(req{method: "POST", path: "/v1/desks/" + hookDesk + "/inbound/message", header: auth, body: msg}), http.StatusOK)
				if got := f.handoff(h.ID); got.State != "active" {
					t.Errorf("handoff %s is %s after its agent's message 1, want active", h.ID, got.State)
				}
				before := f.snapshot()
				must[ack](t, f.do(req{method: "POST", path: "/v1/desks/" + hookDesk + "/inbound/message", header: auth, body: msg}), http.StatusOK)
				if after := f.snapshot(); after != before {
					t.Errorf("a repeated message changed things:\n%s\n%s", before, after)
				}
			}
			for _, h := range hs {
				if types := f.eventTypes(h.ID); !slices.Contains(types, "handoff.agent_message") {
					t.Errorf("handoff %s: events %q, want its agent's message", h.ID, types)
				}
			}
		})
	}
}

// TestUnstorableTextRefused: a NUL character, or text that is not UTF-8, in
// any string the API decodes (bot API, inbox, inbound desk events) is
// answered 400 naming the field, and a path id holding one 404, on both
// stores, and nothing is stored.
func TestUnstorableTextRefused(t *testing.T) {
	t.Parallel()
	for _, store := range stores {
		t.Run(store, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, withStore(store))
			h := f.queued("c-nul")
			hook := createBody("c-nul-hook")
			hook["desk_id"] = hookDesk
			hh := must[wireHandoff](t, f.do(req{method: "POST", path: "/v1/handoffs", key: key1, body: hook}), http.StatusCreated)
			hh = f.waitState(hh.ID, "queued")
			with := func(edit func(map[string]any)) map[string]any {
				b := createBody("c-new")
				edit(b)
				return b
			}
			auth := map[string]string{"Authorization": "Bearer " + hookSecret}
			tests := []struct {
				name   string
				r      req
				status int
				field  string
			}{
				{"conversation id", req{method: "POST", path: "/v1/handoffs", key: key1, body: with(func(b map[string]any) { b["conversation_id"] = "c\x00" })}, 400, "conversation_id"},
				{"customer name", req{method: "POST", path: "/v1/handoffs", key: key1, body: with(func(b map[string]any) {
					b["customer"] = map[string]any{"id": "cu_1", "name": "Gr\x00ce"}
				})}, 400, "customer.name"},
				{"customer metadata value", req{method: "POST", path: "/v1/handoffs", key: key1, body: with(func(b map[string]any) {
					b["customer"] = map[string]any{"id": "cu_1", "metadata": map[string]any{"foo": "\x00"}}
				})}, 400, "customer.metadata.foo"},
				{"customer metadata key", req{method: "POST", path: "/v1/handoffs", key: key1, body: with(func(b map[string]any) {
					b["customer"] = map[string]any{"id": "cu_1", "metadata": map[string]any{"f\x00o": "bar"}}
				})}, 400, `customer.metadata.f\u0000o`},
				{"history text", req{method: "POST", path: "/v1/handoffs", key: key1, body: with(func(b map[string]any) {
					b["history"] = []map[string]any{{"author": "customer", "text": "a"}, {"author": "bot", "text": "b"}, {"author": "customer", "text": "c\x00"}}
				})}, 400, "history[2].text"},
				{"question", req{method: "POST", path: "/v1/handoffs", key: key1, body: with(func(b map[string]any) { b["question"] = "\x00" })}, 400, "question"},
				{"customer message", req{method: "POST", path: "/v1/handoffs/" + h.ID + "/messages", key: key1, body: map[string]any{"text": "hi\x00"}}, 400, "text"},
				{"inbox reply", req{method: "POST", path: "/v1/inbox/handoffs/" + h.ID + "/messages", key: agentKey1, body: map[string]any{"text": "\x00"}}, 400, "text"},
				{"path id", req{method: "GET", path: "/v1/handoffs/ho%00x", key: key1, offSpec: true}, 404, ""},
				{"path id on a POST", req{method: "POST", path: "/v1/handoffs/%00/messages", key: key1, body: map[string]any{"text": "hi"}, offSpec: true}, 404, ""},
				{"conversation path id", req{method: "GET", path: "/v1/conversations/c%00", key: key1, offSpec: true}, 404, ""},
				{"path id with another control character", req{method: "GET", path: "/v1/handoffs/ho%01x", key: key1, offSpec: true}, 404, ""},
				{"query parameter", req{method: "GET", path: "/v1/events?bot_id=b%00", key: key1, offSpec: true}, 422, "bot_id"},
				{"inbound agent body", req{method: "POST", path: "/v1/desks/" + hookDesk + "/inbound/message", header: auth,
					body: map[string]any{"conversation_id": hh.ID, "body": "hi\x00", "message_id": "m-1"}}, 400, "body"},
				{"inbound agent name", req{method: "POST", path: "/v1/desks/" + hookDesk + "/inbound/join", header: auth,
					body: map[string]any{"conversation_id": hh.ID, "agent": map[string]any{"id": "zoe", "name": "Z\x00e"}}}, 400, "agent.name"},
				{"inbound conversation id", req{method: "POST", path: "/v1/desks/" + hookDesk + "/inbound/close", header: auth,
					body: map[string]any{"conversation_id": "\x00"}}, 400, "conversation_id"},
				{"inbound desk id", req{method: "POST", path: "/v1/desks/dk%00/inbound/message", header: auth, body: `{"istest":true}`, offSpec: true}, 404, ""},
				// Text that is not UTF-8 would be turned into U+FFFD by the decoder
				// (two ids becoming one): refused like a NUL.
				{"invalid UTF-8 conversation id", req{method: "POST", path: "/v1/handoffs", key: key1, offSpec: true,
					body: "{\"conversation_id\":\"c\xff\",\"customer\":{\"id\":\"cu_1\"},\"question\":\"q\"}"}, 400, "conversation_id"},
				{"unpaired surrogate in a customer name", req{method: "POST", path: "/v1/handoffs", key: key1, offSpec: true,
					body: `{"conversation_id":"c-s","customer":{"id":"cu_1","name":"x\ud800"},"question":"q"}`}, 400, "customer.name"},
				{"invalid UTF-8 customer message", req{method: "POST", path: "/v1/handoffs/" + h.ID + "/messages", key: key1, offSpec: true,
					body: "{\"text\":\"bad\xff\xfebytes\"}"}, 400, "text"},
				{"invalid UTF-8 inbound agent body", req{method: "POST", path: "/v1/desks/" + hookDesk + "/inbound/message", header: auth, offSpec: true,
					body: "{\"conversation_id\":\"" + hh.ID + "\",\"body\":\"agent\xffbad\",\"message_id\":\"m-2\"}"}, 400, "body"},
				{"invalid UTF-8 path id", req{method: "GET", path: "/v1/conversations/a%ffb", key: key1, offSpec: true}, 404, ""},
				{"empty path segment", req{method: "POST", path: "/v1/conversations/0//bot-messages", key: key1, body: map[string]any{"epoch": 0, "text": "hi"}, offSpec: true}, 404, ""},
				{"dot-dot path segment", req{method: "GET", path: "/v1/handoffs/x/..", key: key1, offSpec: true}, 404, ""},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					before := f.snapshot()
					wantProblem(t, f.do(tt.r), tt.status, map[int]string{400: "bad_request", 404: "not_found", 422: "invalid"}[tt.status], tt.field)
					if after := f.snapshot(); after != before {
						t.Errorf("changed:\n%s\n%s", before, after)
					}
				})
			}
		})
	}
}

// TestInboundUnknownDesk: an inbound request for a desk id that does not
// exist, or for the inbox desk (which takes none), gets exactly the answer a
// wrong secret gets: desk ids cannot be probed.
func TestInboundUnknownDesk(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	send := func(desk, secret string) res {
		return f.do(req{method: "POST", path: "/v1/desks/" + desk + "/inbound/message",
			header: map[string]string{"Authorization": "Bearer " + secret}, body: `{"istest":true}`})
	}
	forged := send(hookDesk, "not-the-secret-at-all")
	wantProblem(t, forged, http.StatusUnauthorized, "unauthorized", "")
	for _, tt := range []struct{ name, desk, secret string }{
		{"unknown desk", "dk_nope", "not-the-secret-at-all"},
		{"unknown desk with the right secret of another", "dk_nope", hookSecret},
		{"inbox desk", inboxDesk, "not-the-secret-at-all"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := send(tt.desk, tt.secret)
			if got.status != forged.status || !bytes.Equal(got.body, forged.body) {
				t.Errorf("answer %d %s, want the wrong secret's %d %s", got.status, got.body, forged.status, forged.body)
			}
			for _, k := range []string{"Content-Type", "WWW-Authenticate", "Cache-Control"} {
				if got.header.Get(k) != forged.header.Get(k) {
					t.Errorf("%s %q, want the wrong secret's %q", k, got.header.Get(k), forged.header.Get(k))
				}
			}
		})
	}
}

// TestBodyTimeout: a client trickling its body is answered 408 and cut once
// the body deadline passes, while the event stream, a long-lived answer,
// keeps working well past it.
func TestBodyTimeout(t *testing.T) {
	t.Parallel()
	const deadline = 300 * time.Millisecond
	f := newFixture(t, withBodyTimeout(deadline))

	t.Run("slow body", func(t *testing.T) {
		t.Parallel()
		conn, err := net.Dial("tcp", strings.TrimPrefix(f.srv.URL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		start := time.Now()
		fmt.Fprintf(conn, "POST /v1/handoffs HTTP/1.1\r\nHost: baton\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{", key1)
		// One more byte every 50 ms: the body would take 50 s to arrive.
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			tick := time.NewTicker(50 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
					if _, err := conn.Write([]byte(" ")); err != nil {
						return
					}
				}
			}
		}()
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("no answer before the test's own deadline: %v", err)
		}
		resp.Body.Close()
		took := time.Since(start)
		if resp.StatusCode != http.StatusRequestTimeout || resp.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("answer %d %s, want a 408 problem", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if took < deadline || took > deadline+5*time.Second {
			t.Errorf("answered after %v, want soon after the %v deadline", took, deadline)
		}
		if !resp.Close {
			t.Errorf("the connection is kept open after a body timed out")
		}
	})

	t.Run("event stream outlives it", func(t *testing.T) {
		t.Parallel()
		events, resp, _ := f.stream("", nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("stream: %d", resp.StatusCode)
		}
		past := time.NewTimer(3 * deadline)
		defer past.Stop()
	wait: // events of the other subtests may come meanwhile
		for {
			select {
			case _, ok := <-events:
				if !ok {
					t.Fatal("the stream ended before the body deadline passed")
				}
			case <-past.C:
				break wait
			}
		}
		h := f.create("c-after-deadline")
		end := time.NewTimer(defaultTimeout)
		defer end.Stop()
		for {
			select {
			case ev, ok := <-events:
				if !ok {
					t.Fatal("the stream ended")
				}
				if ev.event == "handoff.queued" && strings.Contains(ev.data, h.ID) {
					return
				}
			case <-end.C:
				t.Fatal("no handoff.queued on the stream past the body deadline")
			}
		}
	})

	t.Run("a body in time is served", func(t *testing.T) {
		t.Parallel()
		f.create("c-in-time")
	})
}
