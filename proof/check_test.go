package proof

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// sent is one message the driver got an acknowledgement for.
type sent struct {
	id   string // Baton's message id (customer) or the desk's message number (agent)
	text string
	at   time.Time // when the acknowledgement came
}

// hrec is what the driver knows of one handoff: what it asked for and what
// Baton acknowledged.
type hrec struct {
	id, conv, bot, desk, kind string
	want                      string // the end reason that matches what the driver did
	created                   time.Time
	createdFrom               time.Time // when the create request was first sent (zero: created)
	lastFrom                  sent      // the last customer message customerSays sent, with at when its request was first sent
	customer                  []sent    // answered 201, in order
	agent                     []sent    // acknowledged by the desk side, in order
	maybe                     []sent    // agent messages racing the end: delivered before it, or never
	keepWaits                 int       // keep-waiting answers given
	agentBy                   string    // inbox agent key holder
	agentStamp                time.Time // the desk's timestamp on its last agent message
}

// ledger is the driver's record of every handoff, for the checks.
type ledger struct {
	mu       sync.Mutex
	hs       map[string]*hrec
	order    []string
	problems []string // what the driver itself saw go wrong
}

func newLedger() *ledger { return &ledger{hs: map[string]*hrec{}} }

func (l *ledger) add(h *hrec) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.hs[h.id] = h
	l.order = append(l.order, h.id)
}

// update runs f on handoff h's record under the ledger's lock.
func (l *ledger) update(h *hrec, f func(h *hrec)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f(h)
}

// problem records something the driver saw go wrong (an unexpected answer).
func (l *ledger) problem(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.problems = append(l.problems, fmt.Sprintf(format, args...))
}

// records returns copies of every handoff record, in creation order.
func (l *ledger) records() []hrec {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []hrec
	for _, id := range l.order {
		h := *l.hs[id]
		h.customer, h.agent, h.maybe = slices.Clone(h.customer), slices.Clone(h.agent), slices.Clone(h.maybe)
		out = append(out, h)
	}
	return out
}

// arrival is one delivery of a message to its receiver.
type arrival struct {
	id   string // the id the receiver dedupes on
	text string
	at   time.Time
}

// customerArrivals returns what reached handoff h's desk of its customer's
// messages, in arrival order, repeats included.
func (w *world) customerArrivals(h hrec) []arrival {
	var out []arrival
	switch h.desk {
	case "company", "timers", "closed", "other-company":
		for _, c := range w.company.got("chat", h.id) {
			out = append(out, arrival{c.messageID, c.text, c.at})
		}
	case "livechat":
		for _, c := range w.lc.chatsOf(h.id) {
			for _, e := range c.Events() {
				if id, ok := strings.CutPrefix(e.CustomID, "baton:"); ok && e.Type == "message" {
					out = append(out, arrival{id, e.Text, e.CreatedAt})
				}
			}
		}
	case "inbox", "other-inbox":
		agent := w.ana
		if h.desk == "other-inbox" {
			agent = w.zed
		}
		a, err := agent.do("GET", "/v1/inbox/handoffs/"+h.id+"/messages", nil, "")
		if err == nil && a.status == 200 {
			var tr struct {
				Messages []messageView `json:"messages"`
			}
			json.Unmarshal(a.body, &tr)
			for _, m := range tr.Messages {
				if m.Author == "customer" {
					out = append(out, arrival{m.ID, m.Text, a.at})
				}
			}
		}
	}
	return out
}

// loose reports whether h's deliveries and end may legitimately depend on
// when a kill fell: in the crash scenario, on the short-timer desk, a timer
// delayed by a kill may end the handoff before a message reaches its
// receiver, and which timer wins depends on the delay. Such a message must
// then arrive in order and under one id, or never (after the end).
func (w *world) loose(h hrec) bool { return (w.crash || w.starved()) && h.desk == "timers" }

// starved reports whether the world's timing may be starved of CPU beyond
// its bounds: in short mode, on PostgreSQL. Short mode runs inside `go test
// ./...`, beside the other packages' tests, on two cores; Baton on
// PostgreSQL makes a dozen round trips to a server process per timer, and
// with the cores taken it was seen firing timers 5 s late where SQLite, in
// process, stayed within milliseconds (making PostgreSQL keep pace under
// load is the delivery-speed work). Such a world's timers and deliveries
// are held to the bounds below, and a short timer may be overtaken by the idle
// expiry as with kills. Long mode runs one world at a time and keeps the
// scenarios' own bounds.
func (w *world) starved() bool {
	return w.store == "postgres" && (os.Getenv("BATON_PROOF_LONG") == "" || testing.Short())
}

// The starved world's bounds.
const (
	starvedTimerSlack = 10 * time.Second
	starvedBlockBound = 15 * time.Second
)

// checkOpts are the bounds of one scenario's checks.
type checkOpts struct {
	timerSlack time.Duration // how much later than due a timer may fire
	blockBound time.Duration // how long an acknowledged message may wait for its delivery
	settle     time.Duration // how long to wait for outstanding deliveries
}

// summary counts what a run did and saw, for RESULTS.md.
type summary struct {
	store                       string
	conversations, handoffs     int
	customerMessages, agentMsgs int
	kills                       int
	deskRepeats, botRepeats     int
	lost, reordered, doubled    int
	timers                      int
	maxTimerLate, maxLatency    time.Duration
	reasons                     map[string]int
	problems                    []string
}

// markdown renders s as a section of proof/RESULTS.md.
func (s summary) markdown(scenario string, took time.Duration) string {
	var b strings.Builder
	fmt.Fprintf(&b, "### %s, %v, %s\n\n", scenario, took.Round(time.Second), time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	b.WriteString("| conversations | handoffs | customer messages | agent messages | kills | repeats with the same id (desk / bot) | lost | reordered | doubled | timers checked | latest timer after due | slowest delivery |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	fmt.Fprintf(&b, "| %d | %d | %d | %d | %d | %d / %d | %d | %d | %d | %d | %v | %v |\n\n",
		s.conversations, s.handoffs, s.customerMessages, s.agentMsgs, s.kills, s.deskRepeats, s.botRepeats, s.lost, s.reordered, s.doubled,
		s.timers, s.maxTimerLate.Round(time.Millisecond), s.maxLatency.Round(time.Millisecond))
	var rs []string
	for r, n := range s.reasons {
		rs = append(rs, fmt.Sprintf("%s %d", r, n))
	}
	sort.Strings(rs)
	fmt.Fprintf(&b, "End reasons: %s.\n\n", strings.Join(rs, ", "))
	if len(s.problems) == 0 {
		b.WriteString("Every invariant held.\n")
	} else {
		fmt.Fprintf(&b, "%d violations; the first:\n\n", len(s.problems))
		for i, p := range s.problems {
			if i == 5 {
				break
			}
			fmt.Fprintf(&b, "- %s\n", p)
		}
	}
	return b.String()
}

// expectation reports whether every delivery the ledger expects has
// arrived, and if not, the first that is missing.
func (w *world) outstanding() string { return w.pending(true, nil) }

// undelivered is outstanding without the ends still to come, for the
// handoffs of only.
func (w *world) undelivered(only ...*hrec) string { return w.pending(false, only) }

// pending names the first expected delivery (and, with ends, handoff.ended)
// that has not arrived, or "", for the handoffs of only (all if empty).
func (w *world) pending(ends bool, only []*hrec) string {
	for _, h := range w.led.records() {
		if len(only) > 0 && !slices.ContainsFunc(only, func(o *hrec) bool { return o.id == h.id }) {
			continue
		}
		if w.loose(h) {
			if ends && h.want != "" && !w.bots.has(h.id, "handoff.ended") {
				return fmt.Sprintf("handoff.ended of %s", h.id)
			}
			continue
		}
		got := map[string]bool{}
		for _, a := range w.customerArrivals(h) {
			got[a.id] = true
		}
		for _, m := range h.customer {
			if !got[m.id] {
				return fmt.Sprintf("customer message %s of %s", m.id, h.id)
			}
		}
		texts := map[string]bool{}
		ended := false
		for _, d := range w.bots.events(h.id) {
			switch d.env.Type {
			case "handoff.agent_message":
				texts[d.env.d.Text] = true
			case "handoff.ended":
				ended = true
			}
		}
		for _, m := range h.agent {
			if !texts[m.text] {
				return fmt.Sprintf("agent message %q of %s", m.text, h.id)
			}
		}
		if ends && h.want != "" && h.want != "out_of_hours" && !ended {
			return fmt.Sprintf("handoff.ended of %s", h.id)
		}
	}
	return ""
}

// check waits for outstanding deliveries, then checks every invariant on
// what the receivers recorded. It fails t with one line per violation and
// returns the counts.
func (w *world) check(t testing.TB, o checkOpts) summary {
	t.Helper()
	if w.starved() {
		o.timerSlack = max(o.timerSlack, starvedTimerSlack)
		if o.blockBound > 0 {
			o.blockBound = max(o.blockBound, starvedBlockBound)
		}
		o.settle = max(o.settle, o.blockBound+3*time.Second)
	}
	if o.settle == 0 {
		o.settle = o.blockBound + 3*time.Second
		if o.blockBound == 0 {
			o.settle = 8 * time.Second
		}
	}
	eventually(o.settle, func() bool { return w.outstanding() == "" })
	s := summary{store: w.store, reasons: map[string]int{}, kills: len(w.cl.killed())}
	fail := func(format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		s.problems = append(s.problems, msg)
		t.Error(msg)
	}
	w.led.mu.Lock()
	for _, p := range w.led.problems {
		s.problems = append(s.problems, "driver: "+p)
		t.Error("driver: " + p)
	}
	w.led.mu.Unlock()

	// Every webhook signed; a webhook-id always the same body; an event id
	// under one webhook-id.
	byHook := map[string]botDelivery{}
	byEvent := map[string]string{}
	for _, d := range w.bots.all() {
		if d.err != nil {
			fail("forged or broken bot webhook (webhook-id %q) to %s: %v", d.webhookID, d.bot, d.err)
			continue
		}
		if p, ok := byHook[d.webhookID]; ok {
			if string(compact(p.env.Data)) != string(compact(d.env.Data)) || p.env.ID != d.env.ID || p.env.Type != d.env.Type {
				fail("repeat with another body: webhook-id %s carried %s %s and %s %s", d.webhookID, p.env.Type, p.env.Data, d.env.Type, d.env.Data)
			}
			if d.status/100 == 2 && p.status/100 == 2 {
				s.botRepeats++
			}
		} else {
			byHook[d.webhookID] = d
		}
		if p, ok := byEvent[d.env.ID]; ok && p != d.webhookID {
			fail("event %s (%s) came under two webhook-ids %s and %s", d.env.ID, d.env.Type, p, d.webhookID)
		}
		byEvent[d.env.ID] = d.webhookID
	}
	// Per conversation (bot), first arrivals in seq order.
	lastSeq := map[string]botDelivery{}
	for _, d := range w.bots.accepted() {
		k := d.bot + "/" + d.env.d.ConversationID
		if p, ok := lastSeq[k]; ok && d.env.Seq <= p.env.Seq {
			s.reordered++
			fail("reordered: conversation %s: bot %s received %s #%d (handoff %s) after %s #%d", d.env.d.ConversationID, d.bot, d.env.Type, d.env.Seq, d.env.d.HandoffID, p.env.Type, p.env.Seq)
		}
		lastSeq[k] = d
	}

	convs := map[string]bool{}
	for _, h := range w.led.records() {
		s.handoffs++
		convs[h.bot+"/"+h.conv] = true
		s.customerMessages += len(h.customer)
		s.agentMsgs += len(h.agent)
		w.checkCustomer(h, &s, o, fail)
		w.checkAgent(h, &s, o, fail)
		w.checkEnd(h, &s, o, fail)
	}
	s.conversations = len(convs)
	return s
}

// checkCustomer: every accepted customer message reached the desk, in
// order, a repeat only under the same id.
func (w *world) checkCustomer(h hrec, s *summary, o checkOpts, fail func(string, ...any)) {
	if h.desk == "livechat" {
		if cs := w.lc.chatsOf(h.id); len(cs) > 1 {
			s.doubled++
			var ids []string
			for _, c := range cs {
				ids = append(ids, fmt.Sprintf("%s (active %v, present %v)", c.ID, c.Active(), c.Present()))
			}
			fail("doubled: handoff %s (conversation %s) was opened in LiveChat %d times, as chats %s", h.id, h.conv, len(cs), strings.Join(ids, ", "))
		}
	}
	arr := w.customerArrivals(h)
	textOf := map[string]string{}
	idOf := map[string]string{}
	first := map[string]arrival{}
	var order []string
	for _, a := range arr {
		if p, ok := textOf[a.id]; ok {
			s.deskRepeats++
			if p != a.text {
				fail("repeat with another body: handoff %s: desk %s got message id %s as %q and as %q", h.id, h.desk, a.id, p, a.text)
			}
			continue
		}
		textOf[a.id] = a.text
		first[a.id] = a
		order = append(order, a.id)
		if p, ok := idOf[a.text]; ok {
			s.doubled++
			fail("doubled: handoff %s (conversation %s): desk %s got the customer's %q under two ids %s and %s", h.id, h.conv, h.desk, a.text, p, a.id)
		}
		idOf[a.text] = a.id
	}
	pos := map[string]int{}
	for i, id := range order {
		pos[id] = i
	}
	for i, m := range h.customer {
		a, ok := first[m.id]
		if !ok && w.loose(h) {
			continue
		}
		if !ok {
			s.lost++
			fail("lost: handoff %s (conversation %s, desk %s): customer message %s %q answered 201 at %s never reached the desk",
				h.id, h.conv, h.desk, m.id, m.text, m.at.Format(time.StampMilli))
			continue
		}
		if lat := a.at.Sub(m.at); lat > s.maxLatency && h.desk != "inbox" {
			s.maxLatency = lat
		}
		if lat := a.at.Sub(m.at); o.blockBound > 0 && lat > o.blockBound && h.desk != "inbox" {
			fail("blocked: handoff %s (desk %s): customer message %s reached the desk %v after its 201 (bound %v)", h.id, h.desk, m.id, lat.Round(time.Millisecond), o.blockBound)
		}
		if i > 0 {
			if p, ok := pos[h.customer[i-1].id]; ok && p > pos[m.id] {
				s.reordered++
				fail("reordered: handoff %s (desk %s): customer message %s %q reached the desk before %s %q",
					h.id, h.desk, m.id, m.text, h.customer[i-1].id, h.customer[i-1].text)
			}
		}
	}
}

// checkAgent: every acknowledged agent message reached the bot, in order,
// once per event id; none after the handoff's end.
func (w *world) checkAgent(h hrec, s *summary, o checkOpts, fail func(string, ...any)) {
	evs := w.bots.events(h.id)
	idOf := map[string]string{}
	first := map[string]botDelivery{}
	var order []string
	endedAt := -1
	for i, d := range evs {
		if d.env.Type == "handoff.ended" && endedAt < 0 {
			endedAt = i
		}
		if d.env.Type != "handoff.agent_message" {
			continue
		}
		if endedAt >= 0 {
			fail("relayed after the end: handoff %s: the bot got agent message %q (event %s) after handoff.ended", h.id, d.env.d.Text, d.env.ID)
		}
		if p, ok := idOf[d.env.d.Text]; ok {
			s.doubled++
			fail("doubled: handoff %s (conversation %s, desk %s): the bot got agent message %q as two events %s and %s",
				h.id, h.conv, h.desk, d.env.d.Text, p, d.env.ID)
			continue
		}
		idOf[d.env.d.Text] = d.env.ID
		first[d.env.d.Text] = d
		order = append(order, d.env.d.Text)
	}
	pos := map[string]int{}
	for i, x := range order {
		pos[x] = i
	}
	for i, m := range h.agent {
		d, ok := first[m.text]
		if !ok && w.loose(h) {
			continue
		}
		if !ok {
			s.lost++
			why := ""
			if u := w.company.firstUser(h.desk, m.id); u != "" && u != h.id {
				why = fmt.Sprintf("; its message_id %q had been used on desk %s by handoff %s (deduplicated per desk, not per conversation?)", m.id, h.desk, u)
			}
			fail("lost: handoff %s (conversation %s, desk %s): agent message %s %q acknowledged at %s never reached the bot %s (it got %s)%s",
				h.id, h.conv, h.desk, m.id, m.text, m.at.Format(time.StampMilli), h.bot, types(evs), why)
			continue
		}
		if lat := d.at.Sub(m.at); lat > s.maxLatency && h.desk != "livechat" {
			s.maxLatency = lat
		}
		if lat := d.at.Sub(m.at); o.blockBound > 0 && lat > o.blockBound && h.desk != "livechat" {
			fail("blocked: handoff %s (desk %s): agent message %q reached the bot %v after its acknowledgement (bound %v)", h.id, h.desk, m.text, lat.Round(time.Millisecond), o.blockBound)
		}
		if i > 0 {
			if p, ok := pos[h.agent[i-1].text]; ok && p > pos[m.text] {
				s.reordered++
				fail("reordered: handoff %s (desk %s): agent message %q reached the bot before %q", h.id, h.desk, m.text, h.agent[i-1].text)
			}
		}
	}
}

// Timer policies of proof.yaml's timers desk.
const (
	waitTimeout    = time.Second
	waitGrace      = time.Second
	sessionTimeout = 2 * time.Second
	idleExpiry     = 8 * time.Second
	timerEarly     = 250 * time.Millisecond // clock and measuring tolerance for "not before due"
)

// checkEnd: one handoff.ended with the reason that matches what happened;
// one wait_timeout per wait; timers neither early nor later than their bound.
func (w *world) checkEnd(h hrec, s *summary, o checkOpts, fail func(string, ...any)) {
	evs := w.bots.events(h.id)
	var ended, waits []botDelivery
	var queued, lastAgent botDelivery
	for _, d := range evs {
		switch d.env.Type {
		case "handoff.ended":
			ended = append(ended, d)
		case "handoff.wait_timeout":
			waits = append(waits, d)
		case "handoff.queued":
			if queued.env.ID == "" {
				queued = d
			}
		case "handoff.agent_message":
			lastAgent = d
		}
	}
	if len(ended) > 1 {
		fail("fired twice: handoff %s got %d handoff.ended events (ids %s)", h.id, len(ended), ids(ended))
	}
	if len(waits) > h.keepWaits+1 {
		fail("fired twice: handoff %s got %d handoff.wait_timeout events for %d waits (ids %s)", h.id, len(waits), h.keepWaits+1, ids(waits))
	}
	if h.want == "" {
		return
	}
	var view handoffView
	if a, err := w.botAPI(h.bot).do("GET", "/v1/handoffs/"+h.id+"?bot_id="+h.bot, nil, ""); err == nil && a.status == 200 {
		json.Unmarshal(a.body, &view)
	}
	reason := view.EndReason
	if len(ended) > 0 {
		reason = ended[0].env.d.Reason
		if view.EndReason != reason {
			fail("wrong reason: handoff %s: handoff.ended says %s, GET says %s %s", h.id, reason, view.State, view.EndReason)
		}
	} else if h.want != "out_of_hours" {
		fail("never ended: handoff %s (%s, desk %s) is %s; the driver made it end %s", h.id, h.kind, h.desk, view.State, h.want)
		return
	}
	s.reasons[reason]++
	if w.loose(h) {
		allowed := []string{"wait_timeout", "session_timeout", "idle_expired"}
		if lastAgent.env.ID != "" {
			allowed = []string{"session_timeout", "idle_expired"} // the agent had answered: no longer waiting
		} else {
			allowed = []string{"wait_timeout", "idle_expired"} // nobody answered: no session
		}
		if !slices.Contains(allowed, reason) {
			fail("wrong reason: handoff %s (%s, desk %s, with kills) ended %s; what happened allows only %v", h.id, h.kind, h.desk, reason, allowed)
			return
		}
	} else if reason != h.want {
		fail("wrong reason: handoff %s (%s, desk %s) ended %s; what happened calls for %s", h.id, h.kind, h.desk, reason, h.want)
		return
	}
	if len(ended) == 0 {
		return
	}
	at := ended[0].env.Timestamp
	// bound checks a timer that fired at at: not before due after the
	// earliest its start can be (early), not later than the bound after the
	// latest (from).
	boundFrom := func(what string, early, from time.Time, due time.Duration) {
		s.timers++
		late := at.Sub(from) - due
		if late > s.maxTimerLate {
			s.maxTimerLate = late
		}
		if at.Sub(early)-due < -timerEarly {
			fail("timer early: handoff %s: %s fired %v after its start, due after %v", h.id, what, at.Sub(early).Round(time.Millisecond), due)
		}
		if late > o.timerSlack {
			fail("timer late: handoff %s: %s fired %v after due (bound %v)", h.id, what, late.Round(time.Millisecond), o.timerSlack)
		}
	}
	bound := func(what string, from time.Time, due time.Duration) { boundFrom(what, from, from, due) }
	// The desk's own timestamp on the agent's message may be what Baton
	// counts from (it was written then, and delivered again after a 503).
	agentEarly := lastAgent.env.Timestamp
	if !h.agentStamp.IsZero() && h.agentStamp.Before(agentEarly) {
		agentEarly = h.agentStamp
	}
	switch reason {
	case "wait_timeout":
		if len(waits) == 0 {
			fail("wait_timeout without notice: handoff %s ended wait_timeout without handoff.wait_timeout", h.id)
			return
		}
		at = waits[0].env.Timestamp
		if h.keepWaits == 0 {
			bound("the wait timeout", queued.env.Timestamp, waitTimeout)
		}
		at = ended[0].env.Timestamp
		// The grace runs from the bot's receipt of the notice; never before it was written.
		last := waits[len(waits)-1]
		boundFrom("the wait grace", last.env.Timestamp, last.at, waitGrace)
	case "session_timeout":
		boundFrom("the session timeout", agentEarly, lastAgent.env.Timestamp, sessionTimeout)
	case "idle_expired":
		// The last message either way; the question itself when none
		// followed. Baton counts from the commit, which lies between the
		// request's first sending and its acknowledgement: with kills, the
		// answer to a retry can come a restart later.
		last, early := h.created, h.created
		if !h.createdFrom.IsZero() {
			early = h.createdFrom
		}
		if lastAgent.env.Timestamp.After(last) {
			last, early = lastAgent.env.Timestamp, agentEarly
		}
		if n := len(h.customer); n > 0 && h.customer[n-1].at.After(last) {
			m := h.customer[n-1]
			last, early = m.at, m.at
			if h.lastFrom.id == m.id {
				early = h.lastFrom.at
			}
		}
		boundFrom("the idle expiry", early, last, idleExpiry)
	}
}

// types lists the events of ds as "type@time".
func types(ds []botDelivery) string {
	var out []string
	for _, d := range ds {
		out = append(out, d.env.Type+"@"+d.env.Timestamp.Format("15:04:05.000"))
	}
	return strings.Join(out, ", ")
}

func ids(ds []botDelivery) string {
	var out []string
	for _, d := range ds {
		out = append(out, d.env.ID)
	}
	return strings.Join(out, ", ")
}

func compact(b []byte) []byte {
	var v any
	if json.Unmarshal(b, &v) != nil {
		return b
	}
	out, _ := json.Marshal(v)
	return out
}
