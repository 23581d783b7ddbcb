package proof

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

// A kind is one way a handoff can go, from its request to its end: which
// bot asks, which desk answers, what the people do, and so which end
// reason the handoff must get.
type kind struct {
	name string
	bot  string
	desk string
	want string
	// play acts out the handoff after it was requested.
	play func(w *world, h *hrec, rounds int) error
}

// kinds are every ending there is, over every desk.
var kinds = []kind{
	{"webhook agent close", "webbot", "company", "agent_closed", func(w *world, h *hrec, n int) error {
		if err := w.awaitEstablish(h); err != nil {
			return err
		}
		if err := w.talk(h, n, w.companySays); err != nil {
			return err
		}
		return w.companyCloses(h)
	}},
	{"webhook customer close", "webbot", "company", "customer_closed", func(w *world, h *hrec, n int) error {
		if err := w.awaitEstablish(h); err != nil {
			return err
		}
		if err := w.talk(h, n, w.companySays); err != nil {
			return err
		}
		return w.botEnds(h, "customer_closed")
	}},
	{"webhook bot close", "webbot", "company", "bot_closed", func(w *world, h *hrec, n int) error {
		if err := w.awaitEstablish(h); err != nil {
			return err
		}
		if err := w.talk(h, n, w.companySays); err != nil {
			return err
		}
		return w.botEnds(h, "bot_closed")
	}},
	{"webhook desk busy", "webbot", "company", "desk_unavailable", func(w *world, h *hrec, n int) error {
		return nil // the company's service refuses the establish (customer "busy-…")
	}},
	{"wait timeout", "timerbot", "timers", "wait_timeout", func(w *world, h *hrec, n int) error {
		return w.customerSays(h, 0)
	}},
	{"wait timeout after keep-waiting", "timerbot", "timers", "wait_timeout", func(w *world, h *hrec, n int) error {
		ended := false
		if !eventually(retryWindow(), func() bool {
			ended = w.loose(*h) && w.bots.has(h.id, "handoff.ended")
			return ended || w.bots.has(h.id, "handoff.wait_timeout")
		}) {
			return fmt.Errorf("no handoff.wait_timeout")
		}
		if ended && !w.bots.has(h.id, "handoff.wait_timeout") {
			return errEndedFirst // another timer, delayed by a kill, ended it first
		}
		a, err := w.api.do("POST", "/v1/handoffs/"+h.id+"/keep-waiting", map[string]any{}, "")
		if err == nil && a.status == 409 && w.endedFirst(h) {
			return errEndedFirst // the grace, delayed event and all, ran out under kills
		}
		if err != nil || a.status/100 != 2 {
			return fmt.Errorf("keep-waiting: %v %v", a, err)
		}
		w.led.update(h, func(h *hrec) { h.keepWaits++ })
		return nil
	}},
	{"session timeout", "timerbot", "timers", "session_timeout", func(w *world, h *hrec, n int) error {
		if err := w.awaitEstablish(h); err != nil {
			return err
		}
		return w.companySays(h, 0)
	}},
	{"idle expiry", "timerbot", "timers", "idle_expired", func(w *world, h *hrec, n int) error {
		if err := w.awaitEstablish(h); err != nil {
			return err
		}
		if err := w.companySays(h, 0); err != nil {
			return err
		}
		return w.customerSays(h, 1)
	}},
	{"out of hours", "closedbot", "closed", "out_of_hours", nil},
	{"inbox agent close", "inboxbot", "inbox", "agent_closed", func(w *world, h *hrec, n int) error {
		if err := w.inboxClaim(h, w.ana, "ana"); err != nil {
			return err
		}
		if err := w.talk(h, n, w.inboxSays); err != nil {
			return err
		}
		return w.inboxEnds(h)
	}},
	{"inbox customer close", "inboxbot", "inbox", "customer_closed", func(w *world, h *hrec, n int) error {
		if err := w.inboxClaim(h, w.bob, "bob"); err != nil {
			return err
		}
		if err := w.talk(h, n, w.inboxSays); err != nil {
			return err
		}
		return w.botEnds(h, "customer_closed")
	}},
	{"livechat agent close", "lcbot", "livechat", "agent_closed", func(w *world, h *hrec, n int) error {
		if err := w.talk(h, n, w.marieSays); err != nil {
			return err
		}
		chat, _ := w.lc.chatOf(h.id)
		return w.lc.sim.AgentClose(chat.ID, lcMarie)
	}},
	{"livechat customer close", "lcbot", "livechat", "customer_closed", func(w *world, h *hrec, n int) error {
		if err := w.talk(h, n, w.marieSays); err != nil {
			return err
		}
		return w.botEnds(h, "customer_closed")
	}},
}

// kindNamed finds a kind.
func kindNamed(name string) kind {
	for _, k := range kinds {
		if k.name == name {
			return k
		}
	}
	panic("no kind " + name)
}

// botAPI is the API client of bot's workspace.
func (w *world) botAPI(bot string) client {
	if strings.HasPrefix(bot, "other") {
		return w.other
	}
	return w.api
}

// open asks for a human in a new conversation as k's bot and records the handoff.
func (w *world) open(k kind, conv string) (*hrec, error) {
	cust := map[string]any{"id": "cust-" + conv, "name": "Customer " + conv, "email": conv + "@customers.example"}
	if k.want == "desk_unavailable" {
		cust["id"] = "busy-" + conv
	}
	a, err := w.botAPI(k.bot).do("POST", "/v1/handoffs", map[string]any{"bot_id": k.bot, "conversation_id": conv, "customer": cust,
		"history":  []map[string]string{{"author": "customer", "text": "hello"}, {"author": "bot", "text": "hi, how can I help?"}},
		"question": "a person please (" + conv + ")"}, "")
	if err != nil {
		return nil, fmt.Errorf("create handoff in %s: %v", conv, err)
	}
	if a.status != 201 && a.status != 200 {
		return nil, fmt.Errorf("create handoff in %s: %s", conv, a)
	}
	var v handoffView
	json.Unmarshal(a.body, &v)
	h := &hrec{id: v.ID, conv: conv, bot: k.bot, desk: k.desk, kind: k.name, want: k.want, created: a.at, createdFrom: a.sent}
	if k.want == "out_of_hours" && (v.State != "ended" || v.EndReason != "out_of_hours") {
		w.led.problem("out of hours: creating %s answered %s; want ended out_of_hours", conv, a)
	}
	w.led.add(h)
	return h, nil
}

// converse acts out one conversation of kind k, recording what it sees.
func (w *world) converse(k kind, conv string, rounds int) {
	h, err := w.open(k, conv)
	if err != nil {
		w.led.problem("%s: %v", k.name, err)
		return
	}
	if k.play == nil {
		return
	}
	if err := k.play(w, h, rounds); err != nil && !errors.Is(err, errEndedFirst) {
		w.led.problem("%s, handoff %s (conversation %s): %v", k.name, h.id, conv, err)
	}
}

// soak runs conversations of every kind, per copies of each, concurrently,
// each with rounds of messages both ways; tag names the conversations.
func (w *world) soak(tag string, copies, rounds int) {
	var wg sync.WaitGroup
	only := os.Getenv("BATON_PROOF_KINDS")
	for i := range copies {
		for j, k := range kinds {
			if only != "" && !regexp.MustCompile(only).MatchString(k.name) {
				continue
			}
			conv := fmt.Sprintf("%s-%d-%d", tag, j, i)
			wg.Go(func() {
				time.Sleep(rand.N(200 * time.Millisecond)) // spread the requests a little
				w.converse(k, conv, rounds)
			})
		}
	}
	wg.Wait()
}

// talk runs n rounds: the customer writes, the agent sees it, then (say) answers.
func (w *world) talk(h *hrec, n int, say func(h *hrec, i int) error) error {
	for i := range n {
		if err := w.customerSays(h, i); err != nil {
			return err
		}
		if err := w.seen(h); err != nil {
			return err
		}
		if err := say(h, i); err != nil {
			return err
		}
	}
	return nil
}

// customerSays posts customer message i of h (the next one if i < 0)
// through the bot API.
func (w *world) customerSays(h *hrec, i int) error {
	if i < 0 {
		w.led.mu.Lock()
		i = len(h.customer)
		w.led.mu.Unlock()
	}
	text := fmt.Sprintf("customer %s #%d", h.conv, i)
	a, err := w.botAPI(h.bot).do("POST", "/v1/handoffs/"+h.id+"/messages", map[string]any{"text": text}, "")
	if err != nil {
		return fmt.Errorf("customer message %d: %v", i, err)
	}
	if a.status == 409 && w.endedFirst(h) {
		return errEndedFirst // a timer, late under kills or load, ended it first
	}
	if a.status != 201 {
		return fmt.Errorf("customer message %d: %s", i, a)
	}
	var m messageView
	json.Unmarshal(a.body, &m)
	w.led.update(h, func(h *hrec) {
		h.customer = append(h.customer, sent{m.ID, text, a.at})
		h.lastFrom = sent{m.ID, text, a.sent}
	})
	return nil
}

// seen waits until h's desk shows the customer's last message (an agent
// answers what it has read, and closes only after reading).
func (w *world) seen(h *hrec) error {
	w.led.mu.Lock()
	last := h.customer[len(h.customer)-1]
	w.led.mu.Unlock()
	if h.desk == "inbox" {
		return nil // the inbox shows what is committed
	}
	rec := hrec{id: h.id, desk: h.desk}
	ok := eventually(retryWindow(), func() bool {
		return slices.ContainsFunc(w.customerArrivals(rec), func(a arrival) bool { return a.id == last.id })
	})
	if !ok {
		return fmt.Errorf("customer message %s never showed at the desk", last.id)
	}
	return nil
}

// errEndedFirst says a handoff ended (by a timer delayed by a kill)
// before its desk opened it: see world.loose.
var errEndedFirst = errors.New("the handoff ended before the desk opened it")

// endedFirst reports, for a handoff whose timers may be overtaken (see
// world.loose), whether the bot is told it ended, waiting for the event the
// end's 409 implies.
func (w *world) endedFirst(h *hrec) bool {
	return w.loose(*h) && eventually(retryWindow(), func() bool { return w.bots.has(h.id, "handoff.ended") })
}

// awaitEstablish waits for the company's service to have opened h.
func (w *world) awaitEstablish(h *hrec) error {
	ended := false
	if !eventually(retryWindow(), func() bool {
		ended = w.loose(*h) && w.bots.has(h.id, "handoff.ended")
		return ended || len(w.company.got("establish", h.id)) > 0
	}) {
		return fmt.Errorf("the company's service never got establish")
	}
	if ended && len(w.company.got("establish", h.id)) == 0 {
		return errEndedFirst
	}
	return nil
}

// companySays answers as the company's agent through the inbound API.
func (w *world) companySays(h *hrec, i int) error {
	text := fmt.Sprintf("agent %s #%d", h.conv, i)
	n, stamp, code, body, err := w.company.say(h.desk, h.id, text)
	if err != nil || code != 200 {
		return fmt.Errorf("agent message %d: %d %s %v", i, code, body, err)
	}
	w.led.update(h, func(h *hrec) {
		h.agent = append(h.agent, sent{fmt.Sprint(n), text, time.Now()})
		h.agentStamp = stamp
	})
	return nil
}

// companyCloses ends h as the company's agent.
func (w *world) companyCloses(h *hrec) error {
	code, body, err := w.company.close(h.desk, h.id)
	if err != nil || code != 200 {
		return fmt.Errorf("agent close: %d %s %v", code, body, err)
	}
	return nil
}

// botEnds ends h through the bot API with reason.
func (w *world) botEnds(h *hrec, reason string) error {
	a, err := w.botAPI(h.bot).do("POST", "/v1/handoffs/"+h.id+"/end", map[string]any{"reason": reason}, "")
	if err != nil || a.status != 200 {
		return fmt.Errorf("end %s: %v %v", reason, a, err)
	}
	return nil
}

// inboxAgent is the inbox agent who claimed h.
func (w *world) inboxAgent(h *hrec) client {
	if h.agentBy == "bob" {
		return w.bob
	}
	return w.ana
}

// inboxClaim waits for h in the inbox and claims it as agent.
func (w *world) inboxClaim(h *hrec, agent client, name string) error {
	var last answer
	ok := eventually(retryWindow(), func() bool {
		a, err := agent.do("POST", "/v1/inbox/handoffs/"+h.id+"/claim", nil, "")
		last = a
		return err == nil && a.status == 200
	})
	if !ok {
		return fmt.Errorf("%s's claim: %s", name, last)
	}
	w.led.update(h, func(h *hrec) { h.agentBy = name })
	return nil
}

// inboxSays replies as the inbox agent who claimed h.
func (w *world) inboxSays(h *hrec, i int) error {
	text := fmt.Sprintf("agent %s #%d", h.conv, i)
	a, err := w.inboxAgent(h).do("POST", "/v1/inbox/handoffs/"+h.id+"/messages", map[string]any{"text": text}, "")
	if err != nil || a.status != 201 {
		return fmt.Errorf("inbox reply %d: %v %v", i, a, err)
	}
	w.led.update(h, func(h *hrec) { h.agent = append(h.agent, sent{fmt.Sprint(i + 1), text, a.at}) })
	return nil
}

// inboxEnds ends h as the inbox agent who claimed it.
func (w *world) inboxEnds(h *hrec) error {
	a, err := w.inboxAgent(h).do("POST", "/v1/inbox/handoffs/"+h.id+"/end", nil, "")
	if err != nil || a.status != 200 {
		return fmt.Errorf("inbox end: %v %v", a, err)
	}
	return nil
}

// marieSays answers in h's LiveChat chat as Marie, once the chat is hers.
func (w *world) marieSays(h *hrec, i int) error {
	text := fmt.Sprintf("agent %s #%d", h.conv, i)
	var err error
	var eventID string
	ok := eventually(retryWindow(), func() bool {
		chat, found := w.lc.chatOf(h.id)
		if !found || !slices.Contains(chat.Present(), lcMarie) {
			err = fmt.Errorf("no chat of Marie's yet")
			return false
		}
		eventID, err = w.lc.sim.AgentSend(chat.ID, lcMarie, text)
		return err == nil
	})
	if !ok {
		return fmt.Errorf("Marie's message %d: %v", i, err)
	}
	// Baton owes the message to the bot once it answered LiveChat's webhook 200.
	if !eventually(retryWindow(), func() bool { return w.lc.acked(eventID) }) {
		return fmt.Errorf("Marie's message %d (event %s): LiveChat's webhook was never answered 200", i, eventID)
	}
	w.led.update(h, func(h *hrec) { h.agent = append(h.agent, sent{eventID, text, time.Now()}) })
	return nil
}
