// Package desktest is the conformance suite every desk adapter must pass.
//
// A desk package (webhookdesk, inbox, livechat, ...) writes a Harness that
// configures one desk of its kind and plays the far side of it: the company's
// service or the human agent. Run then drives a real Baton against it, once
// per subtest: a SQLite store in t.TempDir(), the engine with its worker, the
// HTTP API on a loopback port and a bot whose webhook the suite receives and
// verifies (Standard Webhooks). The suite acts as the bot over the REST API
// and checks what the bot is told (its webhooks, GET /v1/handoffs/{id},
// GET /v1/events) and what the harness says the desk saw:
//
//	func TestConformance(t *testing.T) {
//		desktest.Run(t, func(t *testing.T) desktest.Harness { return newHarness(t) })
//	}
//
// Subtests run in parallel, each with its own stack and harness, and take a
// few seconds in all; the timeout subtests use a short desk policy.
package desktest

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
)

// Stack tells a harness about the Baton under test.
type Stack struct {
	// BaseURL is Baton's HTTP API ("http://127.0.0.1:port"). Desks call in at
	// BaseURL + "/v1/desks/" + DeskID + "/inbound/{path}"; inbox agents use
	// BaseURL + "/v1/inbox/...".
	BaseURL     string
	WorkspaceID string
	// DeskID is the id the suite stores the desk under.
	DeskID string
}

// Desk is the desk a harness sets up for one stack.
type Desk struct {
	Kind     baton.DeskKind
	Settings map[string]string
	// Factory builds the adapter; the suite registers it as the desk's
	// kind, so it is built once per settings as in production.
	Factory func(baton.DeskConfig) (baton.Desk, error)
	// Seed, when set, stores records the desk needs (inbox agents) in the
	// transaction that stores the desk.
	Seed func(tx baton.Tx) error
	// AgentName is the name the agent's replies carry, which the bot must be
	// told (agent_joined, the handoff's agent, the summary). Leave it empty
	// for a desk that gives no agent profile: then no name is required.
	AgentName string
}

// Harness describes one desk kind and plays its far side. The suite gets a
// new Harness for every subtest (and so for every stack) and calls its
// methods from the subtest's goroutine. Every method but Desk reports what is
// true now and must not wait: the suite polls with its own deadlines. A method
// may fail t for a harness error (the far side could not be reached).
type Harness interface {
	// Desk configures a desk whose inbound calls go to s.BaseURL. It is called
	// once, before Baton serves; t's cleanups outlive the stack.
	Desk(t *testing.T, s Stack) Desk

	// Opened reports whether the desk has the handoff open (ok), with the
	// desk's reference for it and the transcript an agent sees there: the
	// texts of the history and of the latest question, in order.
	Opened(t *testing.T, handoffID string) (ref string, transcript []string, ok bool)
	// Received returns the texts of the customer messages relayed into the
	// desk since it opened, in the order the desk got them. A desk that got a
	// delivery twice (the same message id) lists it once.
	Received(t *testing.T, ref string) []string
	// Closed reports whether the desk has seen Baton end the handoff.
	Closed(t *testing.T, ref string) bool

	// AgentReply has the agent send text to the customer and returns the
	// status Baton answered the desk's call with. eventID is the desk's own
	// id for the reply: a second call with the same eventID is the same reply
	// delivered again (a desk's retry), and must count once.
	AgentReply(t *testing.T, ref, eventID, text string) int
	// AgentClose has the agent end the handoff and returns Baton's status.
	AgentClose(t *testing.T, ref string) int
	// Forge sends Baton an agent reply that fails the desk's authentication
	// (wrong secret, signature or key), carrying eventID, and returns the
	// status Baton answered.
	Forge(t *testing.T, ref, eventID string) int
}

// Briefer is a Harness whose desk shows agents the handoff's brief
// (baton.Brief) beside the transcript; the suite checks it when a harness
// implements it.
type Briefer interface {
	// Brief returns the brief an agent sees for the handoff at ref, as
	// text; ok is false when the desk shows none.
	Brief(t *testing.T, ref string) (text string, ok bool)
}

// Run runs the conformance suite against the desk newHarness sets up.
func Run(t *testing.T, newHarness func(t *testing.T) Harness) {
	short := &baton.Policy{ // for the timeout subtests
		WaitTimeout:    baton.Duration(400 * time.Millisecond),
		WaitGrace:      baton.Duration(400 * time.Millisecond),
		SessionTimeout: baton.Duration(2 * time.Second),
	}
	tests := []struct {
		name string
		pol  *baton.Policy // the desk's policy; nil means the defaults
		fn   func(*testing.T, *stack)
	}{
		{"Open", nil, testOpen},
		{"RelayCustomerToDesk", nil, testRelayCustomer},
		{"RelayAgentToBot", nil, testRelayAgent},
		{"EndByBot", nil, testEndByBot},
		{"EndByAgent", nil, testEndByAgent},
		{"WaitTimeout", short, testWaitTimeout},
		{"SessionTimeout", short, testSessionTimeout},
		{"DuplicateInbound", nil, testDuplicate},
		{"ForgedInbound", nil, testForged},
		{"LateAgentMessage", nil, testLate},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, boot(t, newHarness(t), tc.pol))
		})
	}
}

// open creates a handoff and waits until the desk has it open and the bot has
// been told it is queued. It returns the handoff id, the desk's reference, the
// transcript the desk shows and the queued event.
func (s *stack) open(t *testing.T) (id, ref string, transcript []string, queued event) {
	t.Helper()
	id = s.create(t)
	eventually(t, Wait, func() error {
		var ok bool
		ref, transcript, ok = s.h.Opened(t, id)
		if !ok {
			return fmt.Errorf("the desk has not opened handoff %s", id)
		}
		return nil
	})
	queued = s.waitEvent(t, id, baton.EventQueued, nil)
	return id, ref, transcript, queued
}

// reply has the agent reply and requires Baton to accept it.
func (s *stack) reply(t *testing.T, ref, eventID, text string) {
	t.Helper()
	if status := s.h.AgentReply(t, ref, eventID, text); status < 200 || status > 299 {
		t.Fatalf("Baton answered the agent's reply %q with %d, want 2xx", text, status)
	}
}

// agentMessage waits for the bot to be told the agent said text.
func (s *stack) agentMessage(t *testing.T, id, text string) event {
	t.Helper()
	return s.waitEvent(t, id, baton.EventAgentMessage, func(ev event) bool { return ev.Data.Text == text })
}

// end ends the handoff from the bot's side and waits for the ended event.
func (s *stack) end(t *testing.T, id string) event {
	t.Helper()
	s.must(t, http.StatusOK, http.MethodPost, "/v1/handoffs/"+id+"/end", map[string]string{"reason": string(baton.BotClosed)}, nil)
	return s.waitEvent(t, id, baton.EventEnded, nil)
}

// waitClosed waits until the desk has seen Baton close the handoff.
func (s *stack) waitClosed(t *testing.T, ref string) {
	t.Helper()
	eventually(t, Wait, func() error {
		if !s.h.Closed(t, ref) {
			return fmt.Errorf("the desk has not seen handoff %s closed", ref)
		}
		return nil
	})
}

// botOwns checks that the conversation is the bot's again, under epoch.
func (s *stack) botOwns(t *testing.T, epoch int64) {
	t.Helper()
	var c struct {
		Owner         baton.Owner `json:"owner"`
		Epoch         int64       `json:"epoch"`
		OpenHandoffID *string     `json:"open_handoff_id"`
	}
	s.must(t, http.StatusOK, http.MethodGet, "/v1/conversations/"+conversationID, nil, &c)
	if c.Owner != baton.OwnerBot || c.Epoch != epoch || c.OpenHandoffID != nil {
		t.Errorf("after the end the conversation is owner %s, epoch %d, open handoff %v; want the bot, epoch %d, none",
			c.Owner, c.Epoch, c.OpenHandoffID, epoch)
	}
}

// checkEnded checks an ended event and the handoff it ended.
func (s *stack) checkEnded(t *testing.T, id string, ended event, reason baton.EndReason) handoffView {
	t.Helper()
	if ended.Data.Reason != string(reason) || ended.Data.State != baton.Ended {
		t.Errorf("ended event has reason %q, state %q; want %q, ended", ended.Data.Reason, ended.Data.State, reason)
	}
	if ended.Data.Summary == nil {
		t.Errorf("ended event carries no summary")
	}
	h := s.handoff(t, id)
	if h.State != baton.Ended || h.EndReason != reason || h.EndedAt.IsZero() {
		t.Errorf("GET handoff: state %s, end_reason %q, ended_at %v; want ended, %s", h.State, h.EndReason, h.EndedAt, reason)
	}
	if h.Epoch != ended.Data.Epoch {
		t.Errorf("GET handoff: epoch %d, the ended event said %d", h.Epoch, ended.Data.Epoch)
	}
	return h
}

// checkSummary checks that a summary counts the agent's messages and ends
// with the given session transcript.
func (s *stack) checkSummary(t *testing.T, sum *summary, agentMessages int, tail ...string) {
	t.Helper()
	if sum == nil {
		return // reported by checkEnded
	}
	if sum.AgentMessages != agentMessages {
		t.Errorf("summary counts %d agent messages, want %d", sum.AgentMessages, agentMessages)
	}
	if name := s.desk.AgentName; name != "" && sum.Agent.Name != name {
		t.Errorf("summary names agent %q, want %q", sum.Agent.Name, name)
	}
	var got []string
	for _, m := range sum.Transcript {
		got = append(got, m.Text)
	}
	if len(got) < len(tail) || !slices.Equal(got[len(got)-len(tail):], tail) {
		t.Errorf("summary transcript is %q, want it to end with %q", got, tail)
	}
}

// testOpen: the desk gets the history and the latest question in order, and
// the bot is told the handoff is queued.
func testOpen(t *testing.T, s *stack) {
	id, ref, transcript, queued := s.open(t)
	if ref == "" {
		t.Error("the desk opened the handoff under an empty reference")
	}
	var want []string
	for _, turn := range history {
		want = append(want, turn.Text)
	}
	want = append(want, question)
	if !slices.Equal(transcript, want) {
		t.Errorf("the desk shows the transcript\n%q\nwant\n%q", transcript, want)
	}
	if b, ok := s.h.(Briefer); ok {
		brief, shown := b.Brief(t, ref)
		// The summary (the customer's turns), what the bot tried, the
		// customer's fields.
		for _, part := range []string{"#1234 / " + question, history[1].Text, "casey@example.com"} {
			if !shown || !strings.Contains(brief, part) {
				t.Errorf("the desk shows the brief %q (shown %v), want it to hold %q", brief, shown, part)
			}
		}
	}
	d := queued.Data
	if d.State != baton.Queued || d.DeskID != deskID || d.ConversationID != conversationID || d.WaitTimeout == nil {
		t.Errorf("queued event data: state %q, desk_id %q, conversation_id %q, wait_timeout_seconds %v; want queued, %s, %s, set",
			d.State, d.DeskID, d.ConversationID, d.WaitTimeout, deskID, conversationID)
	}
	if evs := s.delivered(id); evs[0].Type != baton.EventQueued {
		t.Errorf("the bot's first event is %s, want %s", describe(evs), baton.EventQueued)
	}
	h := s.handoff(t, id)
	if h.State != baton.Queued || h.QueuedAt.IsZero() || h.Epoch != d.Epoch {
		t.Errorf("GET handoff: state %s, queued_at %v, epoch %d; want queued, set, %d", h.State, h.QueuedAt, h.Epoch, d.Epoch)
	}
	if got := s.h.Received(t, ref); len(got) != 0 {
		t.Errorf("the desk lists %q as relayed customer messages before any was sent", got)
	}
}

// testRelayCustomer: five quick customer messages reach the desk in order.
func testRelayCustomer(t *testing.T, s *stack) {
	id, ref, _, _ := s.open(t)
	want := []string{"first", "second", "third", "fourth", "fifth"}
	for _, text := range want {
		if status := s.customer(t, id, text); status != http.StatusCreated {
			t.Fatalf("relaying customer message %q answered %d, want 201", text, status)
		}
	}
	eventually(t, Wait, func() error {
		got := s.h.Received(t, ref)
		if len(got) > len(want) || !slices.Equal(got, want[:len(got)]) {
			t.Fatalf("the desk received %q: not the order the customer wrote %q", got, want)
		}
		if len(got) < len(want) {
			return fmt.Errorf("the desk received %q, want %q", got, want)
		}
		return nil
	})
}

// testRelayAgent: the first agent reply reaches the bot with the agent's name
// and makes the session active under a new epoch.
func testRelayAgent(t *testing.T, s *stack) {
	id, ref, _, queued := s.open(t)
	const text = "Hello Casey, I am looking into order #1234 now."
	s.reply(t, ref, "agent-reply-1", text)
	msg := s.agentMessage(t, id, text)
	if msg.Data.State != baton.Active {
		t.Errorf("agent_message event has state %q, want active", msg.Data.State)
	}
	if msg.Data.Epoch <= queued.Data.Epoch {
		t.Errorf("agent_message epoch %d, want more than the queued epoch %d: the session begins under a new epoch", msg.Data.Epoch, queued.Data.Epoch)
	}
	if msg.Data.MessageID == "" {
		t.Error("agent_message event has no message_id")
	}
	h := s.handoff(t, id)
	if h.State != baton.Active || h.ActiveAt.IsZero() {
		t.Errorf("GET handoff: state %s, active_at %v; want active, set", h.State, h.ActiveAt)
	}
	if name := s.desk.AgentName; name != "" {
		joined := s.waitEvent(t, id, baton.EventAgentJoined, nil)
		if joined.Seq > msg.Seq {
			t.Errorf("agent_joined (seq %d) came after the agent's message (seq %d)", joined.Seq, msg.Seq)
		}
		if joined.Data.Agent.Name != name || joined.Data.Name != name {
			t.Errorf("agent_joined names agent %q (name %q), want %q", joined.Data.Agent.Name, joined.Data.Name, name)
		}
		if msg.Data.Agent.Name != name {
			t.Errorf("agent_message names agent %q, want %q", msg.Data.Agent.Name, name)
		}
		if h.Agent.Name != name {
			t.Errorf("GET handoff names agent %q, want %q", h.Agent.Name, name)
		}
	}
}

// testEndByBot: the bot ends the handoff; the desk is closed and the bot gets
// ended bot_closed with a summary of the session.
func testEndByBot(t *testing.T, s *stack) {
	id, ref, _, _ := s.open(t)
	s.reply(t, ref, "agent-reply-1", "Your parcel is at the depot.")
	s.agentMessage(t, id, "Your parcel is at the depot.")
	if status := s.customer(t, id, "Great, thanks!"); status != http.StatusCreated {
		t.Fatalf("relaying a customer message answered %d, want 201", status)
	}
	ended := s.end(t, id)
	s.checkEnded(t, id, ended, baton.BotClosed)
	s.checkSummary(t, ended.Data.Summary, 1, "Your parcel is at the depot.", "Great, thanks!")
	s.waitClosed(t, ref)
	s.botOwns(t, ended.Data.Epoch)
	if status := s.customer(t, id, "one more thing"); status != http.StatusConflict {
		t.Errorf("a customer message after the end answered %d, want 409", status)
	}
}

// testEndByAgent: the agent ends the handoff; the bot gets ended agent_closed
// and a later customer message is refused.
func testEndByAgent(t *testing.T, s *stack) {
	id, ref, _, _ := s.open(t)
	s.reply(t, ref, "agent-reply-1", "Solved, closing this chat.")
	s.agentMessage(t, id, "Solved, closing this chat.")
	if status := s.h.AgentClose(t, ref); status < 200 || status > 299 {
		t.Fatalf("Baton answered the agent's close with %d, want 2xx", status)
	}
	ended := s.waitEvent(t, id, baton.EventEnded, nil)
	s.checkEnded(t, id, ended, baton.AgentClosed)
	s.checkSummary(t, ended.Data.Summary, 1, "Solved, closing this chat.")
	s.botOwns(t, ended.Data.Epoch)
	if status := s.customer(t, id, "wait, one more thing"); status != http.StatusConflict {
		t.Errorf("a customer message after the agent closed answered %d, want 409", status)
	}
}

// testWaitTimeout: nobody answers; the bot is told wait_timeout, then, after
// the grace, the handoff ends wait_timeout and the desk is closed.
func testWaitTimeout(t *testing.T, s *stack) {
	id, ref, _, _ := s.open(t)
	wt := s.waitEvent(t, id, baton.EventWaitTimeout, nil)
	if !slices.Contains(wt.Data.Choices, "keep_waiting") || wt.Data.State != baton.Queued {
		t.Errorf("wait_timeout event: state %q, choices %q; want queued, keep_waiting among them", wt.Data.State, wt.Data.Choices)
	}
	ended := s.waitEvent(t, id, baton.EventEnded, nil)
	h := s.checkEnded(t, id, ended, baton.WaitTimeout)
	var types []string
	for _, ev := range s.delivered(id) {
		if ev.Type == baton.EventQueueUpdated {
			// A desk that reports its own queue position (LiveChat) has its
			// figure told as it reports it, before or after the notice.
			if ev.Data.State != baton.Queued {
				t.Errorf("handoff.queue_updated in state %q, want queued", ev.Data.State)
			}
			continue
		}
		types = append(types, ev.Type)
	}
	if want := []string{baton.EventQueued, baton.EventWaitTimeout, baton.EventEnded}; !slices.Equal(types, want) {
		t.Errorf("the bot got %q, want %q", types, want)
	}
	if waited := h.EndedAt.Sub(h.QueuedAt); waited < 800*time.Millisecond-time.Millisecond {
		t.Errorf("ended %v after it was queued, before wait_timeout + wait_grace (800ms)", waited)
	}
	s.waitClosed(t, ref)
}

// testSessionTimeout: the agent replied and the customer stays silent; the
// handoff ends session_timeout, not before the timeout, and the desk is closed.
// An agent who answered within the wait timeout also stops the wait timer.
func testSessionTimeout(t *testing.T, s *stack) {
	id, ref, _, _ := s.open(t)
	before := time.Now()
	s.reply(t, ref, "agent-reply-1", "Are you still there?")
	s.agentMessage(t, id, "Are you still there?")
	var ended event
	eventually(t, Wait, func() error { // the timeout is 2s; Wait counts from here
		for _, ev := range s.delivered(id) {
			if ev.Type == baton.EventEnded {
				ended = ev
				return nil
			}
		}
		return fmt.Errorf("the bot got %s, no ended event", describe(s.delivered(id)))
	})
	h := s.checkEnded(t, id, ended, baton.SessionTimeout)
	if d := h.EndedAt.Sub(before); d < 2*time.Second-time.Millisecond {
		t.Errorf("ended %v after the agent's reply, before the 2s session timeout", d)
	}
	if h.ActiveAt.Sub(h.QueuedAt) < 400*time.Millisecond {
		for _, ev := range s.delivered(id) {
			if ev.Type == baton.EventWaitTimeout {
				t.Errorf("the agent answered %v after the handoff was queued, within the 400ms wait timeout, yet the bot got %s",
					h.ActiveAt.Sub(h.QueuedAt), describe(s.delivered(id)))
			}
		}
	}
	s.waitClosed(t, ref)
}

// testDuplicate: a reply the desk delivers twice (same event id) reaches the
// bot once; an equal text under a new id is a new message.
func testDuplicate(t *testing.T, s *stack) {
	id, ref, _, _ := s.open(t)
	const text = "Let me check that for you."
	count := func(evs []event) int {
		n := 0
		for _, ev := range evs {
			if ev.Type == baton.EventAgentMessage && ev.Data.Text == text {
				n++
			}
		}
		return n
	}
	s.reply(t, ref, "dup-1", text)
	s.reply(t, ref, "dup-1", text)
	if n := count(s.events(t, id)); n != 1 {
		t.Errorf("after one reply delivered twice, Baton recorded %d agent_message events, want 1", n)
	}
	s.reply(t, ref, "dup-2", "barrier one")
	s.agentMessage(t, id, "barrier one")
	if n := count(s.delivered(id)); n != 1 {
		t.Errorf("after one reply delivered twice, the bot was told %d times, want once: %s", n, describe(s.delivered(id)))
	}

	s.reply(t, ref, "dup-3", text) // same text, new event: not a duplicate
	if n := count(s.events(t, id)); n != 2 {
		t.Errorf("after a second reply with the same text and a new id, Baton recorded %d agent_message events, want 2", n)
	}
	s.reply(t, ref, "dup-4", "barrier two")
	s.agentMessage(t, id, "barrier two")
	if n := count(s.delivered(id)); n != 2 {
		t.Errorf("the bot was told the repeated text %d times, want 2: %s", n, describe(s.delivered(id)))
	}
}

// testForged: a reply that fails authentication is refused with 401 or 403
// and changes nothing; its event id is not used up (verify before dedupe).
func testForged(t *testing.T, s *stack) {
	id, ref, _, _ := s.open(t)
	before, evs := s.handoff(t, id), s.events(t, id)
	status := s.h.Forge(t, ref, "agent-reply-1")
	if status != http.StatusUnauthorized && status != http.StatusForbidden {
		t.Errorf("Baton answered a forged reply with %d, want 401 or 403", status)
	}
	after := s.handoff(t, id)
	if after.State != before.State || after.Epoch != before.Epoch || after.Agent != before.Agent {
		t.Errorf("a forged reply changed the handoff: state %s → %s, epoch %d → %d, agent %+v → %+v",
			before.State, after.State, before.Epoch, after.Epoch, before.Agent, after.Agent)
	}
	if got := s.events(t, id); len(got) != len(evs) {
		t.Errorf("a forged reply produced events: %s", describe(got[len(evs):]))
	}
	s.reply(t, ref, "agent-reply-1", "The genuine reply")
	s.agentMessage(t, id, "The genuine reply")
}

// testLate: an agent message (and close) after the handoff ended is kept out
// of the conversation: the bot is not told, the handoff stays as it ended.
// The desk may be answered 2xx (Baton keeps it as late) or 409.
func testLate(t *testing.T, s *stack) {
	id, ref, _, _ := s.open(t)
	s.reply(t, ref, "agent-reply-1", "One moment please.")
	s.agentMessage(t, id, "One moment please.")
	ended := s.end(t, id)
	h := s.checkEnded(t, id, ended, baton.BotClosed)
	evs := s.events(t, id)

	if status := s.h.AgentReply(t, ref, "agent-reply-2", "Sorry, I was away."); !(status >= 200 && status <= 299 || status == http.StatusConflict) {
		t.Errorf("Baton answered a late agent reply with %d, want 2xx or 409", status)
	}
	if status := s.h.AgentClose(t, ref); !(status >= 200 && status <= 299 || status == http.StatusConflict) {
		t.Errorf("Baton answered a late agent close with %d, want 2xx or 409", status)
	}
	if got := s.events(t, id); len(got) != len(evs) {
		t.Errorf("a late agent reply and close produced events: %s", describe(got[len(evs):]))
	}
	after := s.handoff(t, id)
	if after.State != baton.Ended || after.EndReason != baton.BotClosed || after.Epoch != h.Epoch {
		t.Errorf("after a late reply the handoff is %s %q at epoch %d, want ended bot_closed at epoch %d",
			after.State, after.EndReason, after.Epoch, h.Epoch)
	}
	s.botOwns(t, h.Epoch)
}

// Latest is for harnesses whose far side delivers asynchronously (a
// simulator's webhooks): it waits until flush says nothing is queued or in
// flight (5 s at most), then returns the latest of items that match
// accepts, failing t when none does.
func Latest[T any](t *testing.T, flush func(context.Context) error, items func() []T, match func(T) bool) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := flush(ctx); err != nil {
		t.Fatalf("waiting for the desk's deliveries: %v", err)
	}
	all := items()
	for i := len(all) - 1; i >= 0; i-- {
		if match(all[i]) {
			return all[i]
		}
	}
	t.Fatalf("the desk made no such delivery (%d made)", len(all))
	var zero T
	return zero
}
