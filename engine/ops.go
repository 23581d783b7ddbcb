package engine

import (
	"context"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/hours"
)

// Limits on what a bot may send.
const (
	MaxText        = 16 << 10 // bytes of text in one message
	MaxAttachments = 10
	MaxHistory     = 200 // history items in a create request
)

// Turn is one message of the history a bot hands over.
type Turn struct {
	Author      baton.Author       `json:"author"` // customer or bot
	Text        string             `json:"text"`
	Attachments []baton.Attachment `json:"attachments,omitempty"`
}

// CreateRequest asks for a human.
type CreateRequest struct {
	BotID          string         // optional when the workspace has one bot
	DeskID         string         // optional: the bot's desk by default
	ConversationID string         // the bot's own id for the conversation
	Customer       baton.Customer // id required; name, email, metadata optional
	History        []Turn         // older first; trimmed to the policy's rounds
	Question       string         // the customer's latest question
	Routing        string         // a hint for the desk's routing (group, team, skill)
}

// Valid checks a request's shape and names the first bad field.
func (r CreateRequest) Valid() error {
	switch {
	case strings.TrimSpace(r.ConversationID) == "":
		return baton.FieldErrorf("conversation_id", "is required")
	case len(r.ConversationID) > 200:
		return baton.FieldErrorf("conversation_id", "is longer than 200 characters")
	case strings.TrimSpace(r.Customer.ID) == "":
		return baton.FieldErrorf("customer.id", "is required")
	case r.Customer.Email != "" && !validEmail(r.Customer.Email):
		return baton.FieldErrorf("customer.email", "%q is not an email address", r.Customer.Email)
	case strings.TrimSpace(r.Question) == "":
		return baton.FieldErrorf("question", "is required")
	case len(r.Question) > MaxText:
		return baton.FieldErrorf("question", "is longer than %d bytes", MaxText)
	case len(r.History) > MaxHistory:
		return baton.FieldErrorf("history", "has more than %d items", MaxHistory)
	}
	for i, t := range r.History {
		f := fmt.Sprintf("history[%d]", i)
		if t.Author != baton.ByCustomer && t.Author != baton.ByBot && t.Author != baton.ByAgent {
			return baton.FieldErrorf(f+".author", "must be customer, bot or agent")
		}
		if err := validMessage(f, t.Text, t.Attachments); err != nil {
			return err
		}
	}
	return nil
}

func validEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s
}

// ValidMessage checks a message's text and attachments against Baton's
// limits, naming the first bad field.
func ValidMessage(text string, atts []baton.Attachment) error { return validMessage("", text, atts) }

// validMessage is ValidMessage with the fields named under prefix.
func validMessage(prefix, text string, atts []baton.Attachment) error {
	field := func(name string) string {
		if prefix == "" {
			return name
		}
		return prefix + "." + name
	}
	if strings.TrimSpace(text) == "" && len(atts) == 0 {
		return baton.FieldErrorf(field("text"), "is required when there are no attachments")
	}
	if len(text) > MaxText {
		return baton.FieldErrorf(field("text"), "is longer than %d bytes", MaxText)
	}
	if len(atts) > MaxAttachments {
		return baton.FieldErrorf(field("attachments"), "has more than %d items", MaxAttachments)
	}
	for i, a := range atts {
		f := field(fmt.Sprintf("attachments[%d]", i))
		if !strings.HasPrefix(a.URL, "https://") && !strings.HasPrefix(a.URL, "http://") {
			return baton.FieldErrorf(f+".url", "must be an http or https URL")
		}
		if a.Size < 0 {
			return baton.FieldErrorf(f+".size", "must not be negative")
		}
	}
	return nil
}

// keyTTL is how long a verified API key is trusted without reading the store
// again: a revoked key stops working within this time.
const keyTTL = 10 * time.Second

// Authenticate returns the workspace an API key belongs to.
func (e *Engine) Authenticate(ctx context.Context, key string) (string, error) {
	hash := HashKey(key)
	e.mu.Lock()
	k, ok := e.keys[hash]
	e.mu.Unlock()
	if ok && time.Now().Before(k.until) {
		return k.ws, nil
	}
	var ws string
	err := e.store.View(ctx, func(tx baton.Tx) error {
		k, err := tx.APIKey(hash)
		ws = k.WorkspaceID
		return err
	})
	if baton.ErrorCode(err) == baton.ENOTFOUND {
		return "", baton.Errorf(baton.EUNAUTHORIZED, "unknown API key")
	} else if err != nil {
		return "", err
	}
	e.mu.Lock()
	if len(e.keys) > 10000 {
		clear(e.keys)
	}
	e.keys[hash] = cachedKey{ws: ws, until: time.Now().Add(keyTTL)}
	e.mu.Unlock()
	return ws, nil
}

// resolveBot finds the bot a request is for: the named one, or the workspace's only bot.
func resolveBot(tx baton.Tx, ws, id string) (baton.Bot, error) {
	if id != "" {
		b, err := tx.Bot(ws, id)
		if baton.ErrorCode(err) == baton.ENOTFOUND {
			return b, &baton.Error{Code: baton.ENOTFOUND, Field: "bot_id", Message: "no such bot in this workspace"}
		}
		return b, err
	}
	bots, err := tx.Bots(ws)
	if err != nil {
		return baton.Bot{}, err
	}
	if len(bots) != 1 {
		return baton.Bot{}, baton.FieldErrorf("bot_id", "is required: the workspace has %d bots", len(bots))
	}
	return bots[0], nil
}

// policyFor is the desk's policy if it has one, else the bot's, else the defaults.
func policyFor(b baton.Bot, d baton.DeskConfig) baton.Policy {
	switch {
	case d.Policy != nil:
		return d.Policy.Effective()
	case b.Policy != nil:
		return b.Policy.Effective()
	}
	return baton.Policy{}.Effective()
}

// CreateHandoff asks for a human. The result is one of: a handoff in state
// requested (the desk is being opened; queued follows as an event), a handoff
// in requested with NeedsEmail (ask the customer, then call ProvideEmail), or a
// handoff ended out_of_hours carrying the reply text.
func (e *Engine) CreateHandoff(ctx context.Context, ws string, r CreateRequest) (baton.Handoff, bool, error) {
	if err := r.Valid(); err != nil {
		return baton.Handoff{}, false, err
	}
	var h baton.Handoff
	ref, replay, err := e.write(ctx, ws, func(tx baton.Tx) (string, error) {
		bot, err := resolveBot(tx, ws, r.BotID)
		if err != nil {
			return "", err
		}
		deskID := r.DeskID
		if deskID == "" {
			deskID = bot.DeskID
		}
		if deskID == "" {
			return "", baton.FieldErrorf("desk_id", "is required: the bot has no default desk")
		}
		dc, err := tx.Desk(ws, deskID)
		if baton.ErrorCode(err) == baton.ENOTFOUND {
			return "", &baton.Error{Code: baton.ENOTFOUND, Field: "desk_id", Message: "no such desk in this workspace"}
		} else if err != nil {
			return "", err
		}
		desk, err := e.desks(dc)
		if err != nil {
			return "", baton.Errorf(baton.EUNAVAILABLE, "desk %s is not usable: %v", dc.ID, err)
		}
		t := now()
		c, err := tx.Conversation(ws, bot.ID, r.ConversationID)
		switch {
		case baton.ErrorCode(err) == baton.ENOTFOUND:
			c = baton.Conversation{ID: NewID("cv"), WorkspaceID: ws, BotID: bot.ID, ExternalID: r.ConversationID, Owner: baton.OwnerBot}
		case err != nil:
			return "", err
		case c.HandoffID != "":
			return "", &baton.Error{Code: baton.ECONFLICT, Field: "conversation_id", Message: "the conversation already has an open handoff " + c.HandoffID}
		}
		c.Customer = mergeCustomer(c.Customer, r.Customer)
		c.UpdatedAt = t
		pol := policyFor(bot, dc)
		h = baton.Handoff{ID: NewID("ho"), WorkspaceID: ws, ConversationID: c.ID, ExternalID: c.ExternalID, BotID: bot.ID,
			DeskID: dc.ID, State: baton.Requested, Routing: r.Routing, Question: r.Question, CreatedAt: t, LastMessageAt: t, LastCustomerAt: t}
		cal, err := hours.Compile(pol)
		if err != nil {
			return "", baton.Errorf(baton.EINTERNAL, "stored policy is invalid: %v", err)
		}
		if !cal.Open(t) {
			h.State, h.EndReason, h.EndedAt, h.Epoch = baton.Ended, baton.OutOfHours, t, c.Epoch
			h.Reply = pol.OutOfHoursReply
			if err := tx.PutConversation(c); err != nil {
				return "", err
			}
			ended(tx, baton.OutOfHours)
			return h.ID, tx.PutHandoff(h)
		}
		if err := tx.PutConversation(c); err != nil {
			return "", err
		}
		if err := e.addHistory(tx, c, h, r, pol.HistoryRounds); err != nil {
			return "", err
		}
		if c.Customer.Email == "" && (pol.RequireEmail || desk.Capabilities().NeedsEmail) {
			h.NeedsEmail = true
			c.HandoffID = h.ID
			if err := tx.PutConversation(c); err != nil {
				return "", err
			}
			if err := tx.PutHandoff(h); err != nil {
				return "", err
			}
			return h.ID, e.schedule(tx, h, pol)
		}
		return h.ID, e.request(tx, &c, &h, pol)
	})
	if err != nil {
		return baton.Handoff{}, false, err
	}
	if replay {
		h, err = e.Handoff(ctx, ws, ref)
	}
	return h, replay, err
}

// request moves ownership to the human side and schedules the desk open.
func (e *Engine) request(tx baton.Tx, c *baton.Conversation, h *baton.Handoff, pol baton.Policy) error {
	return e.takeOver(tx, c, h, pol, jobOpen, now())
}

// takeOver gives the conversation to the human side under a new epoch and
// schedules the job (kind, at) that brings the handoff to the desk.
func (e *Engine) takeOver(tx baton.Tx, c *baton.Conversation, h *baton.Handoff, pol baton.Policy, kind string, at time.Time) error {
	c.Owner, c.Epoch, c.HandoffID, c.UpdatedAt = baton.OwnerHuman, c.Epoch+1, h.ID, now()
	h.Epoch, h.NeedsEmail = c.Epoch, false
	if err := tx.PutConversation(*c); err != nil {
		return err
	}
	if err := tx.PutHandoff(*h); err != nil {
		return err
	}
	if err := tx.PutJob(baton.Job{Kind: kind, Lane: deskLane(h.ID), HandoffID: h.ID, RunAt: at, Payload: jobRef(h.WorkspaceID, h.ID)}); err != nil {
		return err
	}
	return e.schedule(tx, *h, pol)
}

func mergeCustomer(old, nu baton.Customer) baton.Customer {
	old.ID = nu.ID
	if nu.Name != "" {
		old.Name = nu.Name
	}
	if nu.Email != "" {
		old.Email = nu.Email
	}
	if len(nu.Metadata) > 0 {
		if old.Metadata == nil {
			old.Metadata = map[string]any{}
		}
		for k, v := range nu.Metadata {
			old.Metadata[k] = v
		}
	}
	return old
}

// addHistory stores the last rounds of the bot's history and the question as
// the handoff's first messages. A round starts at a customer turn.
func (e *Engine) addHistory(tx baton.Tx, c baton.Conversation, h baton.Handoff, r CreateRequest, rounds int) error {
	start, seen := len(r.History), 0
	for i := len(r.History) - 1; i >= 0 && seen < rounds; i-- {
		start = i
		if r.History[i].Author == baton.ByCustomer {
			seen++
		}
	}
	// Also drop a leading bot greeting that belongs to a round we cut.
	t := now()
	for _, turn := range r.History[start:] {
		m := baton.Message{ID: NewID("msg"), ConversationID: c.ID, HandoffID: h.ID, Author: turn.Author,
			Text: turn.Text, Attachments: turn.Attachments, Epoch: c.Epoch, CreatedAt: t}
		if err := tx.AddMessage(&m); err != nil {
			return err
		}
	}
	q := baton.Message{ID: NewID("msg"), ConversationID: c.ID, HandoffID: h.ID, Author: baton.ByCustomer, Text: r.Question, Epoch: c.Epoch, CreatedAt: t}
	return tx.AddMessage(&q)
}

// ProvideEmail gives the customer's email to a handoff waiting for it, and opens it.
func (e *Engine) ProvideEmail(ctx context.Context, ws, id, email string) (baton.Handoff, error) {
	if !validEmail(email) {
		return baton.Handoff{}, baton.FieldErrorf("email", "%q is not an email address", email)
	}
	return e.change(ctx, ws, id, func(tx baton.Tx, h *baton.Handoff, c *baton.Conversation, pol baton.Policy) error {
		if !h.NeedsEmail || h.State != baton.Requested {
			return baton.Errorf(baton.ECONFLICT, "handoff %s is not waiting for an email (state %s)", h.ID, h.State)
		}
		c.Customer.Email = email
		return e.request(tx, c, h, pol)
	})
}

// CustomerMessage relays a customer message to the desk.
func (e *Engine) CustomerMessage(ctx context.Context, ws, id, text string, atts []baton.Attachment) (baton.Message, error) {
	if err := ValidMessage(text, atts); err != nil {
		return baton.Message{}, err
	}
	var m baton.Message
	ref, replay, err := e.write(ctx, ws, func(tx baton.Tx) (string, error) {
		// The hot path: the handoff alone. While it is open its epoch is the
		// conversation's, and a customer message only moves its deadlines
		// later, so the timer row stays (it fires, finds nothing due, and
		// moves itself).
		h, err := tx.Handoff(ws, id)
		if err != nil {
			return "", err
		}
		if !h.Open() {
			return "", baton.Errorf(baton.ECONFLICT, "handoff %s has ended (%s)", h.ID, h.EndReason)
		}
		if h.NeedsEmail {
			return "", baton.Errorf(baton.ECONFLICT, "handoff %s is waiting for the customer's email", h.ID)
		}
		t := now()
		m = baton.Message{ID: NewID("msg"), ConversationID: h.ConversationID, HandoffID: h.ID, Author: baton.ByCustomer, Text: text, Attachments: atts, Epoch: h.Epoch, CreatedAt: t}
		if err := tx.AddMessage(&m); err != nil {
			return "", err
		}
		h.LastCustomerAt, h.LastMessageAt = t, t
		if err := tx.PutHandoff(h); err != nil {
			return "", err
		}
		return h.ConversationID + "/" + m.ID, tx.PutJob(baton.Job{Kind: jobSend, Lane: deskLane(h.ID), HandoffID: h.ID, RunAt: t, Payload: jobRef(ws, h.ID, m.ID)})
	})
	if err == nil && replay {
		m, err = e.message(ctx, ws, ref)
	}
	return m, err
}

// BotMessage records a bot reply to the customer, allowed only while the bot
// owns the conversation under the epoch the bot decided it in. It is how a bot
// asks "may I still speak?" and keeps the transcript whole.
func (e *Engine) BotMessage(ctx context.Context, ws, botID, conversationID string, epoch int64, text string, atts []baton.Attachment) (baton.Message, error) {
	if err := ValidMessage(text, atts); err != nil {
		return baton.Message{}, err
	}
	var m baton.Message
	ref, replay, err := e.write(ctx, ws, func(tx baton.Tx) (string, error) {
		bot, err := resolveBot(tx, ws, botID)
		if err != nil {
			return "", err
		}
		c, err := tx.Conversation(ws, bot.ID, conversationID)
		if baton.ErrorCode(err) == baton.ENOTFOUND {
			c = baton.Conversation{ID: NewID("cv"), WorkspaceID: ws, BotID: bot.ID, ExternalID: conversationID, Owner: baton.OwnerBot, UpdatedAt: now()}
			if err := tx.PutConversation(c); err != nil {
				return "", err
			}
		} else if err != nil {
			return "", err
		}
		if c.Owner != baton.OwnerBot {
			return "", &baton.Error{Code: baton.ESTALE, Field: "epoch", Message: fmt.Sprintf("a human holds the conversation (epoch %d): the bot must not speak", c.Epoch)}
		}
		if c.Epoch != epoch {
			return "", &baton.Error{Code: baton.ESTALE, Field: "epoch", Message: fmt.Sprintf("epoch %d is stale: the conversation is at epoch %d", epoch, c.Epoch)}
		}
		m = baton.Message{ID: NewID("msg"), ConversationID: c.ID, Author: baton.ByBot, Text: text, Attachments: atts, Epoch: c.Epoch, CreatedAt: now()}
		if err := tx.AddMessage(&m); err != nil {
			return "", err
		}
		return c.ID + "/" + m.ID, e.seatReply(tx, bot, &c, m)
	})
	if err == nil && replay {
		m, err = e.message(ctx, ws, ref)
	}
	return m, err
}

// KeepWaiting restarts the wait for an agent after a wait-timeout event.
func (e *Engine) KeepWaiting(ctx context.Context, ws, id string) (baton.Handoff, error) {
	return e.change(ctx, ws, id, func(tx baton.Tx, h *baton.Handoff, c *baton.Conversation, pol baton.Policy) error {
		if h.State != baton.Queued {
			return baton.Errorf(baton.ECONFLICT, "only a queued handoff can keep waiting; %s is %s", h.ID, h.State)
		}
		h.WaitingSince, h.WaitNotifiedAt, h.WaitToldAt = now(), time.Time{}, time.Time{}
		if err := tx.PutHandoff(*h); err != nil {
			return err
		}
		return e.schedule(tx, *h, pol)
	})
}

// End ends a handoff from the bot's side: reason is bot_closed or customer_closed.
func (e *Engine) End(ctx context.Context, ws, id string, reason baton.EndReason) (baton.Handoff, error) {
	if reason == "" {
		reason = baton.BotClosed
	}
	if reason != baton.BotClosed && reason != baton.CustomerClosed {
		return baton.Handoff{}, baton.FieldErrorf("reason", "must be bot_closed or customer_closed")
	}
	return e.change(ctx, ws, id, func(tx baton.Tx, h *baton.Handoff, c *baton.Conversation, pol baton.Policy) error {
		if !h.Open() {
			return baton.Errorf(baton.ECONFLICT, "handoff %s has already ended (%s)", h.ID, h.EndReason)
		}
		return e.end(tx, h, c, reason, true)
	})
}

// change loads a handoff with its conversation and policy, applies fn and saves.
func (e *Engine) change(ctx context.Context, ws, id string, fn func(baton.Tx, *baton.Handoff, *baton.Conversation, baton.Policy) error) (baton.Handoff, error) {
	var h baton.Handoff
	_, replay, err := e.write(ctx, ws, func(tx baton.Tx) (string, error) {
		var c baton.Conversation
		var pol baton.Policy
		var err error
		h, c, pol, err = e.load(tx, ws, id)
		if err != nil {
			return "", err
		}
		return h.ID, fn(tx, &h, &c, pol)
	})
	if err == nil && replay {
		h, err = e.Handoff(ctx, ws, id)
	}
	return h, err
}

// load reads a handoff, its conversation and its effective policy.
func (e *Engine) load(tx baton.Tx, ws, id string) (baton.Handoff, baton.Conversation, baton.Policy, error) {
	h, err := tx.Handoff(ws, id)
	if err != nil {
		return h, baton.Conversation{}, baton.Policy{}, err
	}
	c, err := tx.ConversationByID(h.ConversationID)
	if err != nil {
		return h, c, baton.Policy{}, err
	}
	bot, err := e.botConfig(tx, ws, h.BotID)
	if err != nil {
		return h, c, baton.Policy{}, err
	}
	dc, err := e.deskConfig(tx, ws, h.DeskID)
	if err != nil {
		return h, c, baton.Policy{}, err
	}
	return h, c, policyFor(bot, dc), nil
}

// Handoff reads one handoff.
func (e *Engine) Handoff(ctx context.Context, ws, id string) (baton.Handoff, error) {
	var h baton.Handoff
	err := e.store.View(ctx, func(tx baton.Tx) (err error) {
		h, err = tx.Handoff(ws, id)
		return err
	})
	return h, err
}

// Conversation reads a conversation by the bot's id for it, and its handoffs, newest first.
func (e *Engine) Conversation(ctx context.Context, ws, botID, externalID string) (baton.Conversation, []baton.Handoff, error) {
	var c baton.Conversation
	var hs []baton.Handoff
	err := e.store.View(ctx, func(tx baton.Tx) error {
		bot, err := resolveBot(tx, ws, botID)
		if err != nil {
			return err
		}
		if c, err = tx.Conversation(ws, bot.ID, externalID); err != nil {
			return err
		}
		hs, err = tx.Handoffs(c.ID)
		return err
	})
	return c, hs, err
}

// Transcript lists a handoff's conversation messages in order.
func (e *Engine) Transcript(ctx context.Context, ws, id string) (baton.Handoff, []baton.Message, error) {
	var h baton.Handoff
	var ms []baton.Message
	err := e.store.View(ctx, func(tx baton.Tx) (err error) {
		if h, err = tx.Handoff(ws, id); err != nil {
			return err
		}
		ms, err = tx.HandoffMessages(h.ID)
		return err
	})
	return h, ms, err
}

// message finds a message from a ref "conversationID/messageID" (idempotent replays).
func (e *Engine) message(ctx context.Context, ws, ref string) (baton.Message, error) {
	_, id, _ := strings.Cut(ref, "/")
	var m baton.Message
	err := e.store.View(ctx, func(tx baton.Tx) error {
		var err error
		if m, err = tx.Message(id); err != nil {
			return err
		}
		c, err := tx.ConversationByID(m.ConversationID)
		if err == nil && c.WorkspaceID != ws {
			err = baton.Errorf(baton.ENOTFOUND, "message %s not found", id)
		}
		return err
	})
	return m, err
}

// Availability is a desk's service status and hours.
type Availability struct {
	DeskID     string
	Status     baton.DeskStatus
	LastError  string
	CheckedAt  time.Time
	OpenNow    bool
	NextOpenAt time.Time // zero if open now or never
	Zone       string
}

// Availability answers whether a handoff through the bot's desk (or the named desk) can be served now.
func (e *Engine) Availability(ctx context.Context, ws, botID, deskID string) (Availability, error) {
	var a Availability
	err := e.store.View(ctx, func(tx baton.Tx) error {
		bot, err := resolveBot(tx, ws, botID)
		if err != nil {
			return err
		}
		if deskID == "" {
			deskID = bot.DeskID
		}
		dc, err := tx.Desk(ws, deskID)
		if baton.ErrorCode(err) == baton.ENOTFOUND {
			return &baton.Error{Code: baton.ENOTFOUND, Field: "desk_id", Message: "no such desk in this workspace"}
		} else if err != nil {
			return err
		}
		pol := policyFor(bot, dc)
		cal, err := hours.Compile(pol)
		if err != nil {
			return err
		}
		t := now()
		a = Availability{DeskID: dc.ID, Status: dc.Status, LastError: dc.LastError, CheckedAt: dc.CheckedAt, OpenNow: cal.Open(t), Zone: cal.Location().String()}
		if a.Status == "" {
			a.Status = baton.NotConfigured
		}
		if !a.OpenNow {
			a.NextOpenAt, _ = cal.NextOpen(t)
		}
		return nil
	})
	return a, err
}

// Events lists a bot's events after a sequence number.
func (e *Engine) Events(ctx context.Context, ws, botID string, after int64, limit int) ([]baton.Event, error) {
	var evs []baton.Event
	err := e.store.View(ctx, func(tx baton.Tx) error {
		bot, err := resolveBot(tx, ws, botID)
		if err != nil {
			return err
		}
		evs, err = tx.Events(ws, bot.ID, after, limit)
		return err
	})
	return evs, err
}

// AuthenticateAgent returns the inbox agent a key belongs to.
func (e *Engine) AuthenticateAgent(ctx context.Context, key string) (baton.InboxAgent, error) {
	var a baton.InboxAgent
	err := e.store.View(ctx, func(tx baton.Tx) (err error) {
		a, err = tx.InboxAgentByKey(HashKey(key))
		return err
	})
	if baton.ErrorCode(err) == baton.ENOTFOUND {
		return a, baton.Errorf(baton.EUNAUTHORIZED, "unknown agent key")
	}
	return a, err
}

// DeskHandoffs lists a desk's handoffs in a state, oldest first.
func (e *Engine) DeskHandoffs(ctx context.Context, ws, deskID string, s baton.State, limit int) ([]baton.Handoff, error) {
	var hs []baton.Handoff
	err := e.store.View(ctx, func(tx baton.Tx) error {
		if _, err := tx.Desk(ws, deskID); err != nil {
			return err
		}
		var err error
		hs, err = tx.HandoffsInState(deskID, s, limit)
		return err
	})
	return hs, err
}

// Desk reads a desk's configuration.
func (e *Engine) Desk(ctx context.Context, ws, id string) (baton.DeskConfig, error) {
	var d baton.DeskConfig
	err := e.store.View(ctx, func(tx baton.Tx) (err error) {
		d, err = tx.Desk(ws, id)
		return err
	})
	return d, err
}
