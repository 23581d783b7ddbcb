package httpapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/app"
)

// sseEvent is one event read off the stream.
type sseEvent struct {
	id, event, data string
}

// stream opens the event stream and returns its events as they arrive; the
// stream closes when the test's cleanup runs or close is called.
func (f *fixture) stream(query string, header map[string]string) (events <-chan sseEvent, resp *http.Response, close func()) {
	f.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	hr, err := http.NewRequestWithContext(ctx, "GET", f.srv.URL+"/v1/events/stream"+query, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	hr.Header.Set("Authorization", "Bearer "+key1)
	for k, v := range header {
		hr.Header.Set(k, v)
	}
	resp, err = f.client.Do(hr)
	if err != nil {
		cancel()
		f.t.Fatalf("opening the stream: %v", err)
	}
	out := make(chan sseEvent, 100)
	go readSSE(resp.Body, out)
	close = func() { cancel(); resp.Body.Close() }
	f.t.Cleanup(close)
	return out, resp, close
}

// readSSE parses server-sent events until the body ends.
func readSSE(body io.Reader, out chan<- sseEvent) {
	defer close(out)
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	var cur sseEvent
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if cur.event != "" || cur.data != "" {
				out <- cur
			}
			cur = sseEvent{}
		case strings.HasPrefix(line, ":"), strings.HasPrefix(line, "retry:"):
		case strings.HasPrefix(line, "id: "):
			cur.id = strings.TrimPrefix(line, "id: ")
		case strings.HasPrefix(line, "event: "):
			cur.event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			cur.data += strings.TrimPrefix(line, "data: ")
		}
	}
}

// next waits for the next event on the stream.
func next(t *testing.T, events <-chan sseEvent) (sseEvent, wireEvent) {
	t.Helper()
	select {
	case ev, ok := <-events:
		if !ok {
			t.Fatal("the stream ended")
		}
		var env wireEvent
		if err := json.Unmarshal([]byte(ev.data), &env); err != nil {
			t.Fatalf("data %q: %v", ev.data, err)
		}
		if ev.id != strconv.FormatInt(env.Seq, 10) || ev.event != env.Type {
			t.Errorf("id %q event %q for envelope seq %d type %s", ev.id, ev.event, env.Seq, env.Type)
		}
		return ev, env
	case <-time.After(defaultTimeout):
		t.Fatal("no event on the stream")
	}
	panic("unreachable")
}

func TestEventStream(t *testing.T) {
	t.Parallel()
	f := newFixture(t)

	events, resp, stop := f.stream("", nil)
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" || resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, Content-Type %q", resp.StatusCode, ct)
	}

	// Live: the queued event arrives as the worker writes it.
	h := f.create("c-stream")
	_, queued := next(t, events)
	if queued.Type != "handoff.queued" || queued.Data["handoff_id"] != h.ID || queued.Data["conversation_id"] != "c-stream" {
		t.Fatalf("first event %+v", queued)
	}
	must[wireHandoff](t, f.do(req{method: "POST", path: "/v1/inbox/handoffs/" + h.ID + "/claim", key: agentKey1}), http.StatusOK)
	_, joined := next(t, events)
	if joined.Type != "handoff.agent_joined" || joined.Seq <= queued.Seq {
		t.Fatalf("second event %+v", joined)
	}
	// The stream carries the same envelopes as the list (and the webhooks).
	list := f.events(0)
	if len(list) != 2 || list[0].ID != queued.ID || list[1].ID != joined.ID || !list[1].Timestamp.Equal(joined.Timestamp) {
		t.Errorf("list %+v", list)
	}
	stop()

	// While nobody listens, the agent replies.
	must[wireHandoff](t, f.do(req{method: "POST", path: "/v1/inbox/handoffs/" + h.ID + "/messages", key: agentKey1, body: map[string]any{"text": "Hello"}}), http.StatusCreated)

	t.Run("resume with Last-Event-ID", func(t *testing.T) {
		events, _, _ := f.stream("?after=0", map[string]string{"Last-Event-ID": strconv.FormatInt(queued.Seq, 10)})
		_, a := next(t, events)
		_, b := next(t, events)
		if a.ID != joined.ID || b.Type != "handoff.agent_message" || b.Data["text"] != "Hello" {
			t.Errorf("resumed with %+v then %+v", a, b)
		}
	})

	t.Run("resume with after", func(t *testing.T) {
		events, _, _ := f.stream("?bot_id="+bot1+"&after="+strconv.FormatInt(joined.Seq, 10), nil)
		_, a := next(t, events)
		if a.Type != "handoff.agent_message" {
			t.Errorf("resumed with %+v", a)
		}
	})

	t.Run("events written by another instance", func(t *testing.T) {
		events, _, _ := f.stream("?after="+strconv.FormatInt(joined.Seq, 10), nil)
		next(t, events) // the agent message
		other := app.New(app.Params{Store: f.store, Desks: f.desks()}).Engine
		if _, err := other.End(context.Background(), ws1, h.ID, baton.CustomerClosed); err != nil {
			t.Fatal(err)
		}
		_, ended := next(t, events)
		if ended.Type != "handoff.ended" || ended.Data["reason"] != "customer_closed" {
			t.Errorf("got %+v", ended)
		}
	})
}
