package httpapi_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
)

// TestIdempotency replays POSTs with the same Idempotency-Key: the same body
// gets the same result marked Idempotent-Replayed and changes nothing; another
// body is a 422 idempotency problem and changes nothing either.
func TestIdempotency(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	open := f.queued("c-idem-open")

	type step struct {
		path   string
		key    string // the bearer token
		body   any
		other  any // a different body for the same path
		status int
		settle func(first map[string]any) // waits for the worker to finish what the first request started
	}
	tests := []struct {
		name string
		prep func() step
	}{
		{"create handoff", func() step {
			return step{path: "/v1/handoffs", key: key1, body: createBody("c-idem-1"), other: createBody("c-idem-2"), status: http.StatusCreated,
				settle: func(first map[string]any) { f.waitState(first["id"].(string), "queued") }}
		}},
		{"customer message", func() step {
			return step{path: "/v1/handoffs/" + open.ID + "/messages", key: key1,
				body: map[string]any{"text": "hello"}, other: map[string]any{"text": "hello again"}, status: http.StatusCreated}
		}},
		{"bot message", func() step {
			return step{path: "/v1/conversations/c-idem-bot/bot-messages", key: key1,
				body: map[string]any{"epoch": 0, "text": "hi"}, other: map[string]any{"epoch": 0, "text": "hey"}, status: http.StatusCreated}
		}},
		{"keep waiting", func() step {
			h := f.queued("c-idem-wait")
			return step{path: "/v1/handoffs/" + h.ID + "/keep-waiting", key: key1, body: map[string]any{}, other: nil, status: http.StatusOK}
		}},
		{"end", func() step {
			h := f.queued("c-idem-end")
			return step{path: "/v1/handoffs/" + h.ID + "/end", key: key1,
				body: map[string]any{"reason": "customer_closed"}, other: map[string]any{"reason": "bot_closed"}, status: http.StatusOK}
		}},
		{"email", func() step {
			b := createBody("c-idem-email")
			b["desk_id"] = emailDesk
			b["customer"] = map[string]any{"id": "cu"}
			h := must[wireHandoff](t, f.do(req{method: "POST", path: "/v1/handoffs", key: key1, body: b}), http.StatusCreated)
			return step{path: "/v1/handoffs/" + h.ID + "/email", key: key1,
				body: map[string]any{"email": "a@example.com"}, other: map[string]any{"email": "b@example.com"}, status: http.StatusOK,
				settle: func(map[string]any) { f.waitState(h.ID, "queued") }}
		}},
		{"inbox claim", func() step {
			h := f.queued("c-idem-claim")
			return step{path: "/v1/inbox/handoffs/" + h.ID + "/claim", key: agentKey1, body: nil, other: map[string]any{}, status: http.StatusOK}
		}},
		{"inbox reply", func() step {
			h := f.queued("c-idem-reply")
			return step{path: "/v1/inbox/handoffs/" + h.ID + "/messages", key: agentKey1,
				body: map[string]any{"text": "On it."}, other: map[string]any{"text": "Working on it."}, status: http.StatusCreated}
		}},
		{"inbox end", func() step {
			h := f.queued("c-idem-iend")
			return step{path: "/v1/inbox/handoffs/" + h.ID + "/end", key: agentKey1, body: nil, other: map[string]any{}, status: http.StatusOK}
		}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.prep()
			key := map[string]string{"Idempotency-Key": "idem-" + itoa(int64(i))}
			first := f.do(req{method: "POST", path: s.path, key: s.key, body: s.body, header: key})
			one := must[map[string]any](t, first, s.status)
			if first.header.Get("Idempotent-Replayed") != "" {
				t.Error("the first request is marked as a replay")
			}
			if s.settle != nil {
				s.settle(one)
			}
			after := f.snapshot()

			again := f.do(req{method: "POST", path: s.path, key: s.key, body: s.body, header: key})
			two := must[map[string]any](t, again, s.status)
			if again.header.Get("Idempotent-Replayed") != "true" {
				t.Errorf("the replay is not marked: %v", again.header)
			}
			if one["id"] != two["id"] {
				t.Errorf("replay answered %v, first %v", two["id"], one["id"])
			}
			if now := f.snapshot(); now != after {
				t.Errorf("the replay changed the store:\nbefore:\n%s\nafter:\n%s", after, now)
			}

			other := f.do(req{method: "POST", path: s.path, key: s.key, body: s.other, header: key})
			wantProblem(t, other, http.StatusUnprocessableEntity, "idempotency", "Idempotency-Key")
			if now := f.snapshot(); now != after {
				t.Errorf("the reused key changed the store:\nbefore:\n%s\nafter:\n%s", after, now)
			}
		})
	}

	t.Run("same key on another path", func(t *testing.T) {
		h := f.queued("c-idem-path")
		k := map[string]string{"Idempotency-Key": "shared"}
		must[wireMessage](t, f.do(req{method: "POST", path: "/v1/handoffs/" + h.ID + "/messages", key: key1, body: map[string]any{"text": "a"}, header: k}), http.StatusCreated)
		before := f.snapshot()
		r := f.do(req{method: "POST", path: "/v1/conversations/c-other/bot-messages", key: key1, body: map[string]any{"text": "a", "epoch": 0}, header: k})
		wantProblem(t, r, http.StatusUnprocessableEntity, "idempotency", "Idempotency-Key")
		if after := f.snapshot(); after != before {
			t.Errorf("changed:\n%s\n%s", before, after)
		}
	})

	t.Run("keys belong to a workspace", func(t *testing.T) {
		k := map[string]string{"Idempotency-Key": "per-workspace"}
		a := must[wireHandoff](t, f.do(req{method: "POST", path: "/v1/handoffs", key: key1, body: createBody("c-ws"), header: k}), http.StatusCreated)
		b := f.do(req{method: "POST", path: "/v1/handoffs", key: key2, body: createBody("c-ws"), header: k})
		hb := must[wireHandoff](t, b, http.StatusCreated)
		if a.ID == hb.ID || b.header.Get("Idempotent-Replayed") != "" || hb.BotID != bot2 {
			t.Errorf("workspace two replayed workspace one's request: %+v", hb)
		}
	})

	t.Run("without a key a retry is a new request", func(t *testing.T) {
		h := f.queued("c-idem-none")
		a := must[wireMessage](t, f.do(req{method: "POST", path: "/v1/handoffs/" + h.ID + "/messages", key: key1, body: map[string]any{"text": "x"}}), http.StatusCreated)
		b := must[wireMessage](t, f.do(req{method: "POST", path: "/v1/handoffs/" + h.ID + "/messages", key: key1, body: map[string]any{"text": "x"}}), http.StatusCreated)
		if a.ID == b.ID || b.Seq != a.Seq+1 {
			t.Errorf("two messages expected: %+v %+v", a, b)
		}
	})
}

// TestIdempotencyConcurrentReplay sends one POST with one Idempotency-Key
// several times at once, on both stores: all answers carry the one object
// made, and every answer but the original's says Idempotent-Replayed.
func TestIdempotencyConcurrentReplay(t *testing.T) {
	t.Parallel()
	for _, store := range stores {
		t.Run(store, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, withStore(store))
			open := f.queued("c-idem-race")
			for round := range 5 {
				const n = 6
				answers := make([]res, n)
				var wg sync.WaitGroup
				start := make(chan struct{})
				for i := range n {
					wg.Go(func() {
						<-start
						answers[i] = f.do(req{method: "POST", path: "/v1/handoffs/" + open.ID + "/messages", key: key1,
							header: map[string]string{"Idempotency-Key": fmt.Sprint("race-", round)}, body: map[string]any{"text": fmt.Sprint("once ", round)}})
					})
				}
				close(start)
				wg.Wait()
				ids, originals := map[string]bool{}, 0
				for _, a := range answers {
					m := must[map[string]any](t, a, http.StatusCreated)
					ids[fmt.Sprint(m["id"])] = true
					if a.header.Get("Idempotent-Replayed") != "true" {
						originals++
					}
				}
				if len(ids) != 1 || originals != 1 {
					t.Fatalf("round %d: %d message ids and %d answers not marked as replays; want 1 and 1", round, len(ids), originals)
				}
			}
		})
	}
}

// TestIdempotencyKeyPerAgent: an inbox agent's Idempotency-Key is the
// agent's own. Another agent sending the same key makes its own request,
// which the handoff's holder decides, and is never answered with the first
// agent's replay.
func TestIdempotencyKeyPerAgent(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	h := f.queued("c-idem-agents")
	for _, step := range []struct {
		path       string
		body       any
		ada, other int
	}{
		{"/claim", nil, http.StatusOK, http.StatusConflict},
		{"/messages", map[string]any{"text": "Ada here"}, http.StatusCreated, http.StatusConflict},
		{"/end", nil, http.StatusOK, http.StatusConflict},
	} {
		path := "/v1/inbox/handoffs/" + h.ID + step.path
		key := map[string]string{"Idempotency-Key": "shared" + step.path}
		if r := f.do(req{method: "POST", path: path, key: agentKey1, body: step.body, header: key}); r.status != step.ada {
			t.Fatalf("Ada %s: %d %s", step.path, r.status, r.body)
		}
		r := f.do(req{method: "POST", path: path, key: agentKey2, body: step.body, header: key})
		if r.status != step.other || r.header.Get("Idempotent-Replayed") != "" {
			t.Errorf("Bob %s with Ada's key: %d replayed=%q %s; want %d, not a replay", step.path, r.status, r.header.Get("Idempotent-Replayed"), r.body, step.other)
		}
		if r := f.do(req{method: "POST", path: path, key: agentKeyOther, body: step.body, header: key}); r.status != http.StatusUnauthorized && r.status != http.StatusNotFound {
			t.Errorf("Eve of another workspace %s with Ada's key: %d %s", step.path, r.status, r.body)
		}
		r = f.do(req{method: "POST", path: path, key: agentKey1, body: step.body, header: key})
		if r.status != step.ada || r.header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("Ada's replay of %s: %d replayed=%q", step.path, r.status, r.header.Get("Idempotent-Replayed"))
		}
	}
}

// TestIdempotencyKeyShape: a key that is not printable text, or given
// twice, is refused naming the header, and nothing happens.
func TestIdempotencyKeyShape(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, key := range []string{"\xff\xfe", "a\u0085b"} { // not UTF-8; a control character
		r := f.do(req{method: "POST", path: "/v1/handoffs", key: key1, body: createBody("c-key-shape"), header: map[string]string{"Idempotency-Key": key}, offSpec: true})
		wantProblem(t, r, http.StatusBadRequest, "bad_request", "Idempotency-Key")
	}
	hr, _ := http.NewRequest("POST", f.srv.URL+"/v1/handoffs", bodyOf(t, createBody("c-key-twice")))
	hr.Header.Set("Authorization", "Bearer "+key1)
	hr.Header.Add("Idempotency-Key", "one")
	hr.Header.Add("Idempotency-Key", "two")
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("two keys: %d, want 400", resp.StatusCode)
	}
	for _, cid := range []string{"c-key-shape", "c-key-twice"} {
		if c := must[wireConversation](t, f.do(req{method: "GET", path: "/v1/conversations/" + cid, key: key1}), http.StatusOK); len(c.Handoffs) != 0 {
			t.Errorf("a refused request made handoff %+v", c.Handoffs)
		}
	}
}
