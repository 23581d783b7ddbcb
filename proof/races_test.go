package proof

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestRaces puts requests that touch the same thing at the same moment:
// an agent answering within milliseconds of the open, one Idempotency-Key
// sent to two instances at once, two agents claiming one handoff, and a
// customer ending while the agent replies. On PostgreSQL the requests of a
// pair go to two instances on one database.
func TestRaces(t *testing.T) {
	eachStore(t, func(t *testing.T, store string) {
		n := 1
		if store == "postgres" {
			n = 2
		}
		w := newWorld(t, store, n)
		t.Run("agent answers at the open", func(t *testing.T) { raceOpen(t, w) })
		t.Run("one Idempotency-Key twice at once", func(t *testing.T) { raceIdempotency(t, w) })
		t.Run("two agents claim one handoff", func(t *testing.T) { raceClaim(t, w) })
		t.Run("customer ends while the agent replies", func(t *testing.T) { raceEnd(t, w) })
		w.check(t, checkOpts{timerSlack: 3 * time.Second, blockBound: 5 * time.Second})
	})
}

// pair is the two instances a racing pair of requests goes to.
func (w *world) pair() (string, string) {
	return w.cl.procs[0].base, w.cl.procs[len(w.cl.procs)-1].base
}

// raceOpen: the company's agent answers from inside the establish handler,
// before the service answers Baton, and again right after it answered.
// Every message Baton acknowledged 200 must reach the bot, in order.
func raceOpen(t *testing.T, w *world) {
	const handoffs = 12
	var mu sync.Mutex
	acked := map[string][]sent{} // handoff → agent messages answered 200, in order
	var wg sync.WaitGroup
	say := func(desk, h string, n int, text string, window time.Duration) {
		raw, _ := json.Marshal(agentMessage(h, n, text))
		code, body, err := w.company.post(desk, "message", w.company.secret, raw, window)
		if err != nil || code != 200 {
			if code != 503 {
				w.led.problem("race at the open: agent message %d of %s: %d %s %v", n, h, code, body, err)
			}
			return
		}
		mu.Lock()
		acked[h] = append(acked[h], sent{fmt.Sprint(n), text, time.Now()})
		mu.Unlock()
	}
	// Three timings, in turn: inside the establish handler before it
	// answers (a 503 "still opening" is an honest refusal, delivered again
	// after the answer); concurrently with the answer; right after it.
	var mode sync.Map // handoff → 0, 1 or 2
	var turn atomic.Int64
	w.company.mu.Lock()
	w.company.onEstablish = func(desk, h string) {
		if desk != "company" {
			return
		}
		m := int(turn.Add(1) % 3)
		mode.Store(h, m)
		switch m {
		case 0:
			say(desk, h, 1, "at the open "+h, 0)
		case 1:
			wg.Go(func() {
				say(desk, h, 1, "at the open "+h, retryWindow())
				say(desk, h, 2, "right after the open "+h, retryWindow())
			})
		}
	}
	var hooked sync.Map // handoff → true once afterEstablish has run (and added to wg)
	w.company.afterEstablish = func(desk, h string) {
		defer hooked.Store(h, true)
		m, ok := mode.Load(h)
		if desk != "company" || !ok || m == 1 {
			return
		}
		mu.Lock()
		first := len(acked[h]) > 0
		mu.Unlock()
		wg.Go(func() {
			if !first {
				say(desk, h, 1, "at the open "+h, retryWindow())
			}
			say(desk, h, 2, "right after the open "+h, retryWindow())
		})
	}
	w.company.mu.Unlock()
	defer func() {
		w.company.mu.Lock()
		w.company.onEstablish, w.company.afterEstablish = nil, nil
		w.company.mu.Unlock()
	}()
	var hs []*hrec
	for i := range handoffs {
		h, err := w.open(kindNamed("webhook agent close"), fmt.Sprintf("race-open-%d", i))
		if err != nil {
			t.Fatal(err)
		}
		h.kind = "agent answers at the open"
		hs = append(hs, h)
	}
	// Every establish answered and its hook run, so that nothing adds to
	// wg while it is waited for.
	if !eventually(retryWindow(), func() bool {
		for _, h := range hs {
			if _, ok := hooked.Load(h.id); !ok {
				return false
			}
		}
		return true
	}) {
		t.Fatalf("the company's service did not answer every establish")
	}
	wg.Wait()
	for _, h := range hs {
		mu.Lock()
		msgs := acked[h.id]
		mu.Unlock()
		if len(msgs) == 0 {
			t.Errorf("race at the open: no agent message of %s was acknowledged", h.id)
		}
		w.led.update(h, func(h *hrec) { h.agent = append(h.agent, msgs...) })
	}
	// The agents close once the bot has what was acknowledged, or a while
	// after: what never arrives, the check names lost.
	eventually(3*time.Second, func() bool {
		for _, h := range hs {
			got := 0
			for _, d := range w.bots.events(h.id) {
				if d.env.Type == "handoff.agent_message" {
					got++
				}
			}
			mu.Lock()
			n := len(acked[h.id])
			mu.Unlock()
			if got < n {
				return false
			}
		}
		return true
	})
	for _, h := range hs {
		// The company's numbering goes on after the hook's 1 and 2.
		w.company.mu.Lock()
		w.company.numbers[h.id] = 2
		w.company.mu.Unlock()
		if err := w.companyCloses(h); err != nil {
			t.Error(err)
		}
	}
}

// raceIdempotency sends identical requests with one Idempotency-Key to two
// instances at the same moment: one object, the other answer a replay with
// the same id.
func raceIdempotency(t *testing.T, w *world) {
	a, b := w.pair()
	send := func(path string, body any, key string) [2]answer {
		raw, _ := json.Marshal(body)
		var out [2]answer
		var errs [2]error
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i, base := range []string{a, b} {
			wg.Go(func() {
				<-start
				out[i], errs[i] = w.api.once(base, "POST", path, raw, key)
			})
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("POST %s (instance %d): %v", path, i, err)
			}
		}
		return out
	}
	idOf := func(a answer) string {
		var v struct {
			ID string `json:"id"`
		}
		json.Unmarshal(a.body, &v)
		return v.ID
	}
	judge := func(what string, out [2]answer) (string, bool) {
		ok := true
		for _, x := range out {
			if x.status/100 != 2 {
				t.Errorf("%s: an identical request with the same Idempotency-Key answered %s (the other %s); want the object or its replay", what, x, out[0])
				ok = false
			}
		}
		if !ok {
			return "", false
		}
		if idOf(out[0]) != idOf(out[1]) {
			t.Errorf("%s: one Idempotency-Key made two objects: %s and %s", what, idOf(out[0]), idOf(out[1]))
			return "", false
		}
		if out[0].replayed == out[1].replayed {
			t.Errorf("%s: the two answers for one Idempotency-Key (same id %s) carry Idempotent-Replayed %v and %v; want exactly one replay", what, idOf(out[0]), out[0].replayed, out[1].replayed)
		}
		return idOf(out[0]), true
	}
	const trials = 5
	for i := range trials {
		conv := fmt.Sprintf("race-idem-%d", i)
		body := map[string]any{"bot_id": "webbot", "conversation_id": conv, "customer": map[string]any{"id": "cust-" + conv}, "question": "help " + conv}
		out := send("/v1/handoffs", body, "idem-create-"+conv)
		id, ok := judge("create handoff "+conv, out)
		// Exactly one handoff in the conversation, whatever was answered.
		g, err := w.api.do("GET", "/v1/conversations/"+conv+"?bot_id=webbot", nil, "")
		var cv struct {
			Handoffs []handoffView `json:"handoffs"`
		}
		json.Unmarshal(g.body, &cv)
		if err != nil || g.status != 200 || len(cv.Handoffs) != 1 {
			t.Errorf("create handoff %s: after one Idempotency-Key sent twice at once the conversation holds %d handoffs (%v %v)", conv, len(cv.Handoffs), g, err)
		}
		if !ok {
			if len(cv.Handoffs) == 0 {
				continue
			}
			id = cv.Handoffs[0].ID
		}
		h := &hrec{id: id, conv: conv, bot: "webbot", desk: "company", kind: "one Idempotency-Key twice at once", want: "bot_closed", created: time.Now()}
		w.led.add(h)
		if err := w.awaitEstablish(h); err != nil {
			t.Fatal(err)
		}
		text := "twice at once " + conv
		out = send("/v1/handoffs/"+id+"/messages", map[string]any{"text": text}, "idem-msg-"+conv)
		if mid, ok := judge("customer message in "+conv, out); ok {
			w.led.update(h, func(h *hrec) { h.customer = append(h.customer, sent{mid, text, out[0].at}) })
		} else {
			// Whatever was answered, the desk must get the text once.
			w.led.update(h, func(h *hrec) { h.customer = append(h.customer, sent{idOf(out[0]), text, out[0].at}) })
		}
		// The same key with another body is refused.
		if x, err := w.api.do("POST", "/v1/handoffs/"+id+"/messages", map[string]any{"text": "another body"}, "idem-msg-"+conv); err != nil || x.status/100 == 2 {
			t.Errorf("the Idempotency-Key of a message reused with another body: %v %v; want it refused", x, err)
		}
		if err := w.seen(h); err != nil {
			t.Error(err)
		}
		if err := w.botEnds(h, "bot_closed"); err != nil {
			t.Error(err)
		}
	}
}

// raceClaim: Ana and Bob claim one inbox handoff at the same moment, on two
// instances: exactly one wins; the other is refused and cannot reply.
func raceClaim(t *testing.T, w *world) {
	a, b := w.pair()
	const trials = 6
	for i := range trials {
		h, err := w.open(kindNamed("inbox agent close"), fmt.Sprintf("race-claim-%d", i))
		if err != nil {
			t.Fatal(err)
		}
		h.kind = "two agents claim one handoff"
		// Wait until it is in the queue.
		if !eventually(retryWindow(), func() bool {
			x, err := w.ana.do("GET", "/v1/inbox/handoffs", nil, "")
			return err == nil && strings.Contains(string(x.body), h.id)
		}) {
			t.Fatalf("%s never showed in the inbox", h.id)
		}
		var out [2]answer
		var errs [2]error
		agents := []client{w.ana, w.bob}
		start := make(chan struct{})
		var wg sync.WaitGroup
		for j, base := range []string{a, b} {
			wg.Go(func() {
				<-start
				out[j], errs[j] = agents[j].once(base, "POST", "/v1/inbox/handoffs/"+h.id+"/claim", nil, "claim-"+randID(6))
			})
		}
		close(start)
		wg.Wait()
		if errs[0] != nil || errs[1] != nil {
			t.Fatalf("claims: %v %v", errs[0], errs[1])
		}
		wins := 0
		winner := -1
		for j, x := range out {
			if x.status == 200 {
				wins++
				winner = j
			} else if x.status != 409 {
				t.Errorf("handoff %s: a losing claim answered %s; want 409", h.id, x)
			}
		}
		if wins != 1 {
			t.Errorf("two agents claimed handoff %s at once: %d claims won (Ana %s, Bob %s); want exactly one", h.id, wins, out[0], out[1])
		}
		// Whoever the handoff names holds it.
		if x, err := w.ana.do("GET", "/v1/inbox/handoffs/"+h.id+"/messages", nil, ""); err == nil && x.status == 200 {
			var tr struct {
				Handoff struct {
					Agent struct {
						ID string `json:"id"`
					} `json:"agent"`
				} `json:"handoff"`
			}
			json.Unmarshal(x.body, &tr)
			if tr.Handoff.Agent.ID == "bob" {
				winner = 1
			} else if tr.Handoff.Agent.ID == "ana" {
				winner = 0
			}
		}
		if winner < 0 {
			winner = 0
		}
		name := []string{"ana", "bob"}[winner]
		w.led.update(h, func(h *hrec) { h.agentBy = name })
		if wins == 1 {
			loser := agents[1-winner]
			if x, err := loser.do("POST", "/v1/inbox/handoffs/"+h.id+"/messages", map[string]any{"text": "I claimed it too"}, ""); err != nil || x.status/100 == 2 {
				t.Errorf("handoff %s: the agent whose claim lost replied: %v %v; want it refused", h.id, x, err)
			}
		}
		if err := w.inboxSays(h, 0); err != nil {
			t.Error(err)
		}
		if err := w.inboxEnds(h); err != nil {
			t.Error(err)
		}
	}
}

// raceEnd: the bot ends the handoff for the customer while the agent
// replies. It ends customer_closed, once; the agent's reply reaches the bot
// before handoff.ended or never (an inbox reply answered 201 must reach it).
func raceEnd(t *testing.T, w *world) {
	a, b := w.pair()
	const trials = 4
	for i := range trials {
		// The webhook desk: the inbound reply is acknowledged either way.
		h, err := w.open(kindNamed("webhook customer close"), fmt.Sprintf("race-end-webhook-%d", i))
		if err != nil {
			t.Fatal(err)
		}
		h.kind = "customer ends while the agent replies"
		if err := w.awaitEstablish(h); err != nil {
			t.Fatal(err)
		}
		if err := w.companySays(h, 0); err != nil {
			t.Fatal(err)
		}
		start := make(chan struct{})
		var wg sync.WaitGroup
		var end answer
		var endErr error
		wg.Go(func() {
			<-start
			end, endErr = w.api.once(a, "POST", "/v1/handoffs/"+h.id+"/end", []byte(`{"reason":"customer_closed"}`), "end-"+h.id)
		})
		wg.Go(func() {
			<-start
			text := "racing the end " + h.conv
			n, _, code, _, err := w.company.say(h.desk, h.id, text)
			if err == nil && code == 200 {
				w.led.update(h, func(h *hrec) { h.maybe = append(h.maybe, sent{fmt.Sprint(n), text, time.Now()}) })
			}
		})
		close(start)
		wg.Wait()
		if endErr != nil || end.status != 200 {
			t.Errorf("handoff %s: the customer's end racing the agent: %v %v", h.id, end, endErr)
		}

		// The inbox: a reply answered 201 was accepted before the end.
		hi, err := w.open(kindNamed("inbox customer close"), fmt.Sprintf("race-end-inbox-%d", i))
		if err != nil {
			t.Fatal(err)
		}
		hi.kind = "customer ends while the agent replies"
		if err := w.inboxClaim(hi, w.ana, "ana"); err != nil {
			t.Fatal(err)
		}
		start = make(chan struct{})
		var reply answer
		var replyErr error
		text := "racing the end " + hi.conv
		wg.Go(func() {
			<-start
			end, endErr = w.api.once(a, "POST", "/v1/handoffs/"+hi.id+"/end", []byte(`{"reason":"customer_closed"}`), "end-"+hi.id)
		})
		wg.Go(func() {
			<-start
			reply, replyErr = w.ana.once(b, "POST", "/v1/inbox/handoffs/"+hi.id+"/messages", []byte(`{"text":"`+text+`"}`), "reply-"+hi.id)
		})
		close(start)
		wg.Wait()
		if endErr != nil || end.status != 200 {
			t.Errorf("handoff %s: the customer's end racing the agent: %v %v", hi.id, end, endErr)
		}
		switch {
		case replyErr != nil:
			t.Errorf("handoff %s: the reply racing the end: %v", hi.id, replyErr)
		case reply.status == 201:
			w.led.update(hi, func(h *hrec) { h.agent = append(h.agent, sent{"1", text, reply.at}) })
		case reply.status != 409:
			t.Errorf("handoff %s: the reply racing the end answered %s; want 201 or 409", hi.id, reply)
		}
	}
}
