package proof

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestOutages takes the receivers down for a while: the company's service
// answering 503 and then 429 with Retry-After, the bot's endpoint answering
// 503, and a desk that hangs. Everything accepted is delivered afterwards,
// in order; no retry comes before the Retry-After it was given; the outage
// shows in GET /v1/availability and /metrics while it lasts; a hanging desk
// blocks no other desk's conversations.
func TestOutages(t *testing.T) {
	eachStore(t, func(t *testing.T, store string) {
		w := newWorld(t, store, 1)
		t.Run("desk 503 then 429", func(t *testing.T) { deskDown(t, w) })
		t.Run("bot endpoint down", func(t *testing.T) { botDown(t, w) })
		t.Run("desk hangs", func(t *testing.T) { deskHangs(t, w) })
		w.check(t, checkOpts{timerSlack: 3 * time.Second})
	})
}

// metric sums the samples of name whose labels include every one of labels.
func (w *world) metric(name string, labels ...string) (float64, error) {
	res, err := http.Get(w.cl.base() + "/metrics")
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	var sum float64
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		ok := true
		for _, l := range labels {
			ok = ok && strings.Contains(line, l)
		}
		if !ok {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err == nil {
			sum += v
		}
	}
	return sum, sc.Err()
}

// availability is GET /v1/availability for bot.
type availability struct {
	Status    string `json:"status"`
	LastError string `json:"last_error"`
}

func (w *world) availability(bot string) (availability, error) {
	var av availability
	a, err := w.api.do("GET", "/v1/availability?bot_id="+bot, nil, "")
	if err != nil {
		return av, err
	}
	if a.status != 200 {
		return av, fmt.Errorf("GET /v1/availability: %s", a)
	}
	return av, json.Unmarshal(a.body, &av)
}

// openTalking opens n handoffs of kind, each with one round of messages.
func (w *world) openTalking(t *testing.T, k kind, tag string, n int) []*hrec {
	var hs []*hrec
	for i := range n {
		h, err := w.open(k, fmt.Sprintf("%s-%d", tag, i))
		if err != nil {
			t.Fatal(err)
		}
		h.kind = tag
		hs = append(hs, h)
	}
	for _, h := range hs {
		if h.desk == "company" {
			if err := w.awaitEstablish(h); err != nil {
				t.Fatal(err)
			}
		}
	}
	return hs
}

// retryAfterHonoured checks that after each refusal with Retry-After, the
// next attempt in the same lane came no earlier than asked.
func retryAfterHonoured(t *testing.T, what string, attempts []attempt) {
	for i := 1; i < len(attempts); i++ {
		p, a := attempts[i-1], attempts[i]
		if p.retryAfter == 0 || p.lane != a.lane {
			continue
		}
		if gap := a.at.Sub(p.at); gap < p.retryAfter-50*time.Millisecond {
			t.Errorf("Retry-After not honoured: %s %s: retried %v after a %d with Retry-After %v", what, a.lane, gap.Round(time.Millisecond), p.status, p.retryAfter)
		}
	}
}

// attempt is one delivery attempt in a lane, with what it was answered.
type attempt struct {
	lane       string
	at         time.Time
	status     int
	retryAfter time.Duration
}

// deskDown: the company's service answers /chat 503, then 429, with
// Retry-After: 1 for a while.
func deskDown(t *testing.T, w *world) {
	hs := w.openTalking(t, kindNamed("webhook agent close"), "desk-down", 3)
	errsBefore, err := w.metric("baton_deliveries_total", `result="error"`, `target="desk"`)
	if err != nil {
		t.Fatal(err)
	}
	for _, status := range []int{http.StatusServiceUnavailable, http.StatusTooManyRequests} {
		w.company.setFault("company", &fault{status: status, retryAfter: time.Second, onlyChat: true})
		refusedBefore := refused(w.company.all(), "company", status)
		var wg sync.WaitGroup
		for _, h := range hs {
			wg.Go(func() {
				for range 3 {
					if err := w.customerSays(h, -1); err != nil {
						w.led.problem("%s: %v", h.id, err)
					}
				}
			})
		}
		wg.Wait()
		// While it lasts: the desk's refusals, the availability and the metrics show it.
		if !eventually(10*time.Second, func() bool { return refused(w.company.all(), "company", status) > refusedBefore }) {
			t.Fatalf("the company's service refused nothing while answering %d", status)
		}
		var av availability
		sawAv := eventually(5*time.Second, func() bool {
			av, err = w.availability("webbot")
			return err == nil && av.Status == "unavailable" && av.LastError != ""
		})
		if !sawAv {
			t.Errorf("the desk answering %d with Retry-After does not show in GET /v1/availability: status %q, last_error %q (%v); want unavailable with the last error", status, av.Status, av.LastError, err)
		}
		var errsNow float64
		if !eventually(5*time.Second, func() bool {
			errsNow, err = w.metric("baton_deliveries_total", `result="error"`, `target="desk"`)
			return err == nil && errsNow > errsBefore
		}) {
			t.Errorf("the desk answering %d does not show in /metrics: baton_deliveries_total{result=\"error\",target=\"desk\"} stayed %v (%v)", status, errsNow, err)
		}
		errsBefore = errsNow
		// At least two refusals per status, so that a retry follows a refusal.
		eventually(5*time.Second, func() bool { return refused(w.company.all(), "company", status) >= refusedBefore+2 })
		w.company.setFault("company", nil)
		lifted := time.Now()
		if !eventually(5*time.Second, func() bool { return w.undelivered(hs...) == "" }) {
			t.Errorf("%v after the desk stopped answering %d, still undelivered: %s", time.Since(lifted).Round(time.Millisecond), status, w.undelivered(hs...))
		}
	}
	if !eventually(10*time.Second, func() bool {
		av, err := w.availability("webbot")
		return err == nil && av.Status == "available"
	}) {
		av, err := w.availability("webbot")
		t.Errorf("after the outage the desk still shows %+v (%v); want available", av, err)
	}
	var attempts []attempt
	for _, c := range w.company.all() {
		if c.desk == "company" && !c.istest && c.path == "chat" {
			a := attempt{lane: c.handoff, at: c.at, status: c.status}
			if c.status == 503 || c.status == 429 {
				a.retryAfter = time.Second
			}
			attempts = append(attempts, a)
		}
	}
	retryAfterHonoured(t, "desk", attempts)
	for _, h := range hs {
		if err := w.companyCloses(h); err != nil {
			t.Error(err)
		}
	}
}

// refused counts the desk's answers with status to Baton's real calls.
func refused(calls []deskCall, desk string, status int) int {
	n := 0
	for _, c := range calls {
		if c.desk == desk && !c.istest && c.status == status {
			n++
		}
	}
	return n
}

// botDown: the bot's endpoint answers 503 with Retry-After: 1 while agents
// write; every event arrives afterwards, in order.
func botDown(t *testing.T, w *world) {
	hs := w.openTalking(t, kindNamed("webhook agent close"), "bot-down", 2)
	errsBefore, err := w.metric("baton_deliveries_total", `result="error"`, `target="bot"`)
	if err != nil {
		t.Fatal(err)
	}
	w.bots.setDown("webbot", true, time.Second)
	for _, h := range hs {
		for i := range 3 {
			if err := w.companySays(h, i); err != nil {
				t.Fatal(err)
			}
		}
	}
	botRefused := func() int {
		n := 0
		for _, d := range w.bots.all() {
			if d.bot == "webbot" && d.status == 503 {
				n++
			}
		}
		return n
	}
	if !eventually(10*time.Second, func() bool { return botRefused() >= 3 }) {
		t.Errorf("the bot's endpoint refused %d deliveries while down; want some", botRefused())
	}
	var errsNow float64
	if !eventually(5*time.Second, func() bool {
		errsNow, err = w.metric("baton_deliveries_total", `result="error"`, `target="bot"`)
		return err == nil && errsNow > errsBefore
	}) {
		t.Errorf("the bot's endpoint down does not show in /metrics: baton_deliveries_total{result=\"error\",target=\"bot\"} stayed %v (%v)", errsNow, err)
	}
	w.bots.setDown("webbot", false, 0)
	lifted := time.Now()
	if !eventually(5*time.Second, func() bool { return w.undelivered(hs...) == "" }) {
		t.Errorf("%v after the bot came back, still undelivered: %s", time.Since(lifted).Round(time.Millisecond), w.undelivered(hs...))
	}
	var attempts []attempt
	for _, d := range w.bots.all() {
		if d.bot != "webbot" {
			continue
		}
		a := attempt{lane: d.env.d.ConversationID, at: d.at, status: d.status}
		if d.status == 503 {
			a.retryAfter = time.Second
		}
		attempts = append(attempts, a)
	}
	slices.SortStableFunc(attempts, func(a, b attempt) int { return strings.Compare(a.lane, b.lane) })
	retryAfterHonoured(t, "bot", attempts)
	for _, h := range hs {
		if err := w.companyCloses(h); err != nil {
			t.Error(err)
		}
	}
}

// deskHangs: the company's service holds /chat requests without answering.
// Meanwhile the LiveChat desk's conversations flow; once it answers again,
// the held messages arrive, in order.
func deskHangs(t *testing.T, w *world) {
	hs := w.openTalking(t, kindNamed("webhook agent close"), "desk-hangs", 2)
	lc := w.openTalking(t, kindNamed("livechat agent close"), "beside-hang", 1)[0]
	w.company.setFault("company", &fault{hang: true, onlyChat: true})
	for _, h := range hs {
		if err := w.customerSays(h, 0); err != nil {
			t.Fatal(err)
		}
	}
	// A conversation on another desk is not held up.
	start := time.Now()
	if err := w.customerSays(lc, 0); err != nil {
		t.Fatal(err)
	}
	if err := w.seen(lc); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("blocked: while the company's desk hangs, a LiveChat customer message took %v to arrive", d.Round(time.Millisecond))
	}
	for _, h := range hs {
		if err := w.customerSays(h, 1); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.marieSays(lc, 0); err != nil {
		t.Fatal(err)
	}
	w.company.setFault("company", nil)
	lifted := time.Now()
	if !eventually(15*time.Second, func() bool { return w.undelivered(append(hs, lc)...) == "" }) {
		t.Errorf("%v after the desk answered again, still undelivered: %s", time.Since(lifted).Round(time.Millisecond), w.undelivered(append(hs, lc)...))
	}
	for _, h := range hs {
		if err := w.companyCloses(h); err != nil {
			t.Error(err)
		}
	}
	if err := w.botEnds(lc, "customer_closed"); err != nil {
		t.Error(err)
	}
	w.led.update(lc, func(h *hrec) { h.want = "customer_closed" })
}
