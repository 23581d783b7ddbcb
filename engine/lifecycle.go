package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/batonhq/baton"
)

// Job kinds.
const (
	jobOpen  = "desk.open"
	jobSend  = "desk.send"
	jobClose = "desk.close"
	jobBot   = "bot.webhook"
	jobTimer = "timer"
)

// deskLane orders everything sent to the desk for one handoff.
func deskLane(handoffID string) string { return "desk:" + handoffID }

// botLane orders a conversation's events to its bot.
func botLane(conversationID string) string { return "bot:" + conversationID }

func timerKey(handoffID string) string { return "timer:" + handoffID }

// ref is a job's payload: the workspace, the handoff and, for sends, the message.
type ref struct {
	WS      string `json:"ws"`
	Handoff string `json:"h,omitempty"`
	Message string `json:"m,omitempty"`
	Event   string `json:"e,omitempty"`
}

func jobRef(ws, handoff string, message ...string) []byte {
	r := ref{WS: ws, Handoff: handoff}
	if len(message) > 0 {
		r.Message = message[0]
	}
	b, _ := json.Marshal(r)
	return b
}

// emit records a handoff's event for the bot and schedules its webhook delivery.
func (e *Engine) emit(tx baton.Tx, h baton.Handoff, typ string, data map[string]any) error {
	if data == nil {
		data = map[string]any{}
	}
	data["handoff_id"] = h.ID
	data["state"] = h.State
	return e.tell(tx, h.WorkspaceID, h.BotID, h.ConversationID, h.ExternalID, h.ID, h.Epoch, typ, data)
}

// tell records an event for a bot about one of its conversations and
// schedules its webhook delivery, in the conversation's order.
func (e *Engine) tell(tx baton.Tx, ws, botID, conv, external, handoff string, epoch int64, typ string, data map[string]any) error {
	data["conversation_id"] = external
	data["epoch"] = epoch
	body, err := json.Marshal(data)
	if err != nil {
		return err
	}
	ev := baton.Event{ID: NewID("evt"), WorkspaceID: ws, BotID: botID, Type: typ, HandoffID: handoff,
		ConversationID: external, Epoch: epoch, Data: body, CreatedAt: now()}
	if err := tx.AddEvent(&ev); err != nil {
		return err
	}
	bot, err := e.botConfig(tx, ws, botID)
	if err != nil {
		return err
	}
	if bot.WebhookURL == "" {
		return nil
	}
	b, _ := json.Marshal(ref{WS: ws, Event: ev.ID})
	return tx.PutJob(baton.Job{Kind: jobBot, Lane: botLane(conv), HandoffID: handoff, RunAt: ev.CreatedAt, Payload: b})
}

// end ends an open handoff: ownership returns to the bot under a new epoch,
// the bot is told with a summary, and the desk is closed when Baton's side ended it.
func (e *Engine) end(tx baton.Tx, h *baton.Handoff, c *baton.Conversation, reason baton.EndReason, closeDesk bool) error {
	t := now()
	h.State, h.EndReason, h.EndedAt = baton.Ended, reason, t
	if c.Owner != baton.OwnerBot { // a handoff still waiting for an email never took ownership
		c.Epoch++
	}
	c.Owner, c.HandoffID, c.UpdatedAt = baton.OwnerBot, "", t
	h.Epoch = c.Epoch
	sum, err := summarize(tx, *h)
	if err != nil {
		return err
	}
	h.Summary = sum
	if err := tx.PutConversation(*c); err != nil {
		return err
	}
	if err := tx.PutHandoff(*h); err != nil {
		return err
	}
	if err := tx.DeleteJobByKey(timerKey(h.ID)); err != nil {
		return err
	}
	if closeDesk && !h.NeedsEmail {
		if err := tx.PutJob(baton.Job{Kind: jobClose, Lane: deskLane(h.ID), HandoffID: h.ID, RunAt: t, Payload: jobRef(h.WorkspaceID, h.ID)}); err != nil {
			return err
		}
	}
	ended(tx, reason)
	return e.emit(tx, *h, baton.EventEnded, map[string]any{"reason": reason, "summary": json.RawMessage(sum)})
}

// summarize describes the human segment for the bot taking the conversation back.
func summarize(tx baton.Tx, h baton.Handoff) (json.RawMessage, error) {
	all, err := tx.HandoffMessages(h.ID)
	if err != nil {
		return nil, err
	}
	var customer, agent int
	last := []map[string]any{}
	for _, m := range all {
		if m.Late || !(m.Author == baton.ByAgent || m.CreatedAt.After(h.CreatedAt)) {
			continue // the brief given to the desk is not part of the human segment
		}
		switch m.Author {
		case baton.ByAgent:
			agent++
		case baton.ByCustomer:
			customer++
		}
		if !h.ActiveAt.IsZero() && !m.CreatedAt.Before(h.ActiveAt) {
			last = append(last, map[string]any{"author": m.Author, "text": m.Text})
		}
	}
	if len(last) > 20 {
		last = last[len(last)-20:]
	}
	s := map[string]any{"agent": h.Agent, "customer_messages": customer, "agent_messages": agent, "transcript": last}
	if !h.QueuedAt.IsZero() {
		end := h.EndedAt
		if !h.ActiveAt.IsZero() {
			end = h.ActiveAt
		}
		s["waited_seconds"] = int64(end.Sub(h.QueuedAt).Seconds())
	}
	if !h.ActiveAt.IsZero() {
		s["session_seconds"] = int64(h.EndedAt.Sub(h.ActiveAt).Seconds())
	}
	return json.Marshal(s)
}

// deadline is the next moment a timer rule applies to h, and what happens then.
func deadline(h baton.Handoff, pol baton.Policy) (time.Time, baton.EndReason) {
	if !h.Open() || h.Decision != nil {
		// Seat transfers wait in the desk's own queue, under its own rules.
		return time.Time{}, ""
	}
	at, what := h.LastMessageAt.Add(pol.IdleExpiry.D()), baton.IdleExpired
	consider := func(t time.Time, r baton.EndReason) {
		if t.Before(at) {
			at, what = t, r
		}
	}
	switch h.State {
	case baton.Queued:
		switch {
		case h.WaitNotifiedAt.IsZero():
			consider(h.WaitingSince.Add(pol.WaitTimeout.D()), "") // "" = notify the bot
		case !h.WaitToldAt.IsZero():
			// The grace runs from when the bot could act on the event: a
			// delivery held up by an outage does not use it up.
			consider(h.WaitToldAt.Add(pol.WaitGrace.D()), baton.WaitTimeout)
		}
	case baton.Active:
		if h.LastAgentAt.After(h.LastCustomerAt) {
			consider(h.LastAgentAt.Add(pol.SessionTimeout.D()), baton.SessionTimeout)
		}
	}
	return at, what
}

// schedule writes (or moves) the handoff's one timer row to its next deadline.
func (e *Engine) schedule(tx baton.Tx, h baton.Handoff, pol baton.Policy) error {
	at, _ := deadline(h, pol)
	if at.IsZero() {
		return tx.DeleteJobByKey(timerKey(h.ID))
	}
	return tx.PutJob(baton.Job{Kind: jobTimer, Key: timerKey(h.ID), HandoffID: h.ID, RunAt: at, Payload: jobRef(h.WorkspaceID, h.ID)})
}

// fire applies whatever timer rule is due for a handoff, then reschedules.
func (e *Engine) fire(ctx context.Context, r ref) error {
	_, _, err := e.write(ctx, r.WS, func(tx baton.Tx) (string, error) {
		h, c, pol, err := e.load(tx, r.WS, r.Handoff)
		if baton.ErrorCode(err) == baton.ENOTFOUND {
			return "", nil
		} else if err != nil {
			return "", err
		}
		at, what := deadline(h, pol)
		if at.IsZero() {
			return "", nil
		}
		if now().Before(at) {
			return "", e.schedule(tx, h, pol)
		}
		if what == "" {
			t := now()
			h.WaitNotifiedAt = t
			bot, err := e.botConfig(tx, h.WorkspaceID, h.BotID)
			if err != nil {
				return "", err
			}
			if bot.WebhookURL == "" {
				h.WaitToldAt = t // the bot reads the event from the stream, now
			}
			if err := tx.PutHandoff(h); err != nil {
				return "", err
			}
			if err := e.emit(tx, h, baton.EventWaitTimeout, map[string]any{
				"waited_seconds": int64(now().Sub(h.WaitingSince).Seconds()),
				"choices":        []string{"keep_waiting", "end"},
				"grace_seconds":  int64(pol.WaitGrace.D().Seconds()),
			}); err != nil {
				return "", err
			}
			return "", e.schedule(tx, h, pol)
		}
		return "", e.end(tx, &h, &c, what, true)
	})
	return err
}

// told records that the bot has a wait-timeout event in hand, which starts
// the grace before the handoff ends. A delivery of an event from an earlier
// wait (the bot has chosen to keep waiting since) changes nothing.
func (e *Engine) told(ctx context.Context, ev baton.Event) error {
	_, _, err := e.write(ctx, ev.WorkspaceID, func(tx baton.Tx) (string, error) {
		h, _, pol, err := e.load(tx, ev.WorkspaceID, ev.HandoffID)
		if baton.ErrorCode(err) == baton.ENOTFOUND {
			return "", nil
		} else if err != nil {
			return "", err
		}
		if h.State != baton.Queued || h.WaitNotifiedAt.IsZero() || !h.WaitToldAt.IsZero() || ev.CreatedAt.Before(h.WaitNotifiedAt) {
			return "", nil
		}
		h.WaitToldAt = now()
		if err := tx.PutHandoff(h); err != nil {
			return "", err
		}
		return "", e.schedule(tx, h, pol)
	})
	return err
}

// HandleInbound verifies and applies a request a desk sent to Baton.
// Duplicates (by the desk's event id) are acknowledged and ignored. A desk id
// that does not exist fails verification like a wrong secret.
func (e *Engine) HandleInbound(ctx context.Context, deskID, path string, h map[string][]string, body []byte) error {
	var dc baton.DeskConfig
	err := e.store.View(ctx, func(tx baton.Tx) (err error) {
		dc, err = tx.DeskByID(deskID)
		return err
	})
	if baton.ErrorCode(err) == baton.ENOTFOUND {
		// Answered as a request that fails verification, so that desk ids
		// cannot be probed.
		e.log.Warn("inbound desk request for an unknown desk", "desk", deskID)
		return fmt.Errorf("%w: no such desk", baton.ErrForged)
	} else if err != nil {
		return err
	}
	desk, err := e.desks(dc)
	if err != nil {
		return baton.Errorf(baton.EUNAVAILABLE, "desk %s is not usable: %v", dc.ID, err)
	}
	evs, err := desk.Inbound(ctx, path, h, body)
	if err != nil {
		if errors.Is(err, baton.ErrForged) {
			e.log.Warn("inbound desk request failed verification", "desk", dc.ID, "path", path)
		}
		return err
	}
	for _, ev := range evs {
		if err := e.ApplyDeskEvent(ctx, dc, ev); err != nil {
			return err
		}
	}
	return nil
}

// ApplyDeskEvent applies one verified desk event, once.
func (e *Engine) ApplyDeskEvent(ctx context.Context, dc baton.DeskConfig, ev baton.DeskEvent) error {
	if ev.ID == "" || ev.Ref == "" {
		return baton.Errorf(baton.EINVALID, "desk event needs an id and a reference")
	}
	desk, err := e.desks(dc)
	if err != nil {
		return baton.Errorf(baton.EUNAVAILABLE, "desk %s is not usable: %v", dc.ID, err)
	}
	_, seat := desk.(baton.Seat)
	_, _, err = e.write(ctx, dc.WorkspaceID, func(tx baton.Tx) (string, error) {
		seen, err := tx.SeenDeskEvent(dc.ID, ev.ID, now())
		if err != nil || seen {
			return "", err
		}
		if seat {
			return "", e.seatEvent(tx, dc, ev)
		}
		h, err := e.handoffOf(tx, dc, ev.Ref)
		if baton.ErrorCode(err) == baton.ENOTFOUND {
			e.log.Info("desk event for an unknown handoff ignored", "desk", dc.ID, "ref", ev.Ref, "type", ev.Type)
			return "", nil
		} else if err != nil {
			return "", err
		}
		h, c, pol, err := e.load(tx, h.WorkspaceID, h.ID)
		if err != nil {
			return "", err
		}
		return "", e.apply(tx, &h, &c, pol, ev)
	})
	return err
}

// handoffOf finds the handoff a desk event refers to. A desk may act on a
// handoff before the open call's answer is committed (its agent answers as
// soon as the open arrives), so a miss is not final while one of the desk's
// handoffs is still opening: then the event is refused as unavailable and
// the desk delivers it again. The order of the reads matters on databases
// where each statement sees the latest commit (PostgreSQL, READ COMMITTED):
// a handoff seen not opening has committed its open, so the second lookup,
// made after, finds it.
func (e *Engine) handoffOf(tx baton.Tx, dc baton.DeskConfig, ref string) (baton.Handoff, error) {
	h, err := byRef(tx, dc, ref)
	if baton.ErrorCode(err) != baton.ENOTFOUND {
		return h, err
	}
	opening, err := tx.HandoffsInState(dc.ID, baton.Requested, 100)
	if err != nil {
		return h, err
	}
	for _, o := range opening {
		if o.DeskRef == "" && !o.NeedsEmail {
			return h, baton.Errorf(baton.EUNAVAILABLE, "a handoff of desk %s is still opening: deliver the event again", dc.ID)
		}
	}
	return byRef(tx, dc, ref)
}

// byRef finds a desk's handoff by its desk reference or, for desks that
// use Baton's handoff id as theirs, by that id while it is being opened.
func byRef(tx baton.Tx, dc baton.DeskConfig, ref string) (baton.Handoff, error) {
	h, err := tx.HandoffByRef(dc.ID, ref)
	if baton.ErrorCode(err) != baton.ENOTFOUND {
		return h, err
	}
	h, err = tx.Handoff(dc.WorkspaceID, ref)
	if err == nil && (h.DeskID != dc.ID || (h.DeskRef != "" && h.DeskRef != ref) || (h.DeskRef == "" && h.State != baton.Requested)) {
		err = baton.Errorf(baton.ENOTFOUND, "no handoff with ref %s", ref)
	}
	return h, err
}

func (e *Engine) apply(tx baton.Tx, h *baton.Handoff, c *baton.Conversation, pol baton.Policy, ev baton.DeskEvent) error {
	t := now()
	if ev.Held && h.Agent.ID != "" && h.Agent.ID != ev.Agent.ID {
		return baton.Errorf(baton.ECONFLICT, "handoff %s is held by %s", h.ID, h.Agent.Name)
	}
	if ev.Held && !h.Open() {
		// The agent can be told: the handoff ended since they looked.
		return baton.Errorf(baton.ECONFLICT, "handoff %s has ended (%s)", h.ID, h.EndReason)
	}
	if h.State == baton.Requested && !h.NeedsEmail {
		// The desk acts on the handoff, so it is open there even if the open
		// call's answer has not been recorded yet.
		if err := e.queue(tx, h, pol, ev.Ref); err != nil {
			return err
		}
	}
	switch ev.Type {
	case baton.DeskAgentMessage:
		m := baton.Message{ID: NewID("msg"), ConversationID: c.ID, HandoffID: h.ID, Author: baton.ByAgent, AgentName: agentName(ev.Agent, h.Agent),
			Text: ev.Text, Attachments: ev.Attachments, Epoch: c.Epoch, Late: !h.Open() || h.NeedsEmail, CreatedAt: t}
		if err := tx.AddMessage(&m); err != nil {
			return err
		}
		if m.Late {
			e.log.Info("agent message after the handoff ended kept, not relayed", "handoff", h.ID)
			return nil
		}
		if err := e.join(tx, h, c, ev.Agent); err != nil {
			return err
		}
		if h.State == baton.Queued {
			// The first agent reply: the session begins, under a new epoch.
			c.Epoch, c.UpdatedAt = c.Epoch+1, t
			h.State, h.ActiveAt, h.Epoch = baton.Active, t, c.Epoch
			if err := tx.PutConversation(*c); err != nil {
				return err
			}
			e.obs.Waited(t.Sub(h.QueuedAt))
		}
		h.LastAgentAt, h.LastMessageAt = t, t
		if err := tx.PutHandoff(*h); err != nil {
			return err
		}
		if err := e.emit(tx, *h, baton.EventAgentMessage, map[string]any{"message_id": m.ID, "text": m.Text,
			"attachments": attachmentsOrEmpty(m.Attachments), "agent": h.Agent}); err != nil {
			return err
		}
		return e.schedule(tx, *h, pol)
	case baton.DeskAgentJoined, baton.DeskTransferred:
		if !h.Open() || h.NeedsEmail {
			return nil
		}
		if err := e.join(tx, h, c, ev.Agent); err != nil {
			return err
		}
		return tx.PutHandoff(*h)
	case baton.DeskAgentClosed, baton.DeskCustomerClosed:
		if !h.Open() {
			return nil
		}
		reason := baton.AgentClosed
		if ev.Type == baton.DeskCustomerClosed {
			reason = baton.CustomerClosed
		}
		return e.end(tx, h, c, reason, false)
	}
	return baton.Errorf(baton.EINVALID, "unknown desk event type %q", ev.Type)
}

// queue records that the desk has opened the handoff and starts the wait.
func (e *Engine) queue(tx baton.Tx, h *baton.Handoff, pol baton.Policy, deskRef string) error {
	t := now()
	h.DeskRef, h.State, h.QueuedAt, h.WaitingSince = deskRef, baton.Queued, t, t
	if err := tx.PutHandoff(*h); err != nil {
		return err
	}
	data := map[string]any{"desk_id": h.DeskID, "wait_timeout_seconds": int64(pol.WaitTimeout.D().Seconds())}
	if h.Decision != nil {
		data["decision"] = h.Decision
		delete(data, "wait_timeout_seconds")
	}
	if err := e.emit(tx, *h, baton.EventQueued, data); err != nil {
		return err
	}
	return e.schedule(tx, *h, pol)
}

// join records the agent holding the handoff and, on the first agent reply,
// makes the session active: the accept step of the ownership model.
func (e *Engine) join(tx baton.Tx, h *baton.Handoff, c *baton.Conversation, a baton.Agent) error {
	changed := a != (baton.Agent{}) && a != h.Agent
	if changed {
		h.Agent = a
	}
	if changed {
		if err := e.emit(tx, *h, baton.EventAgentJoined, map[string]any{"agent": h.Agent, "name": h.Agent.Name}); err != nil {
			return err
		}
	}
	return nil
}

func agentName(a, fallback baton.Agent) string {
	if a.Name != "" {
		return a.Name
	}
	return fallback.Name
}

func attachmentsOrEmpty(a []baton.Attachment) []baton.Attachment {
	if a == nil {
		return []baton.Attachment{}
	}
	return a
}

// linkify renders attachments a desk cannot carry as links in the text.
func linkify(m baton.Message) string {
	if len(m.Attachments) == 0 {
		return m.Text
	}
	var b strings.Builder
	b.WriteString(m.Text)
	for _, a := range m.Attachments {
		if b.Len() > 0 {
			b.WriteString("\n")
		}
		name := a.Name
		if name == "" {
			name = "attachment"
		}
		b.WriteString("[" + name + "](" + a.URL + ")")
	}
	return b.String()
}
