package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/batonhq/baton"
)

// keyTTL is how long a verified key is trusted without reading the store
// again: a revoked key stops working on every instance within this time.
const keyTTL = 500 * time.Millisecond

// touchEvery is how stale a key's "last used" time may get: a key in use is
// written at most this often.
const touchEvery = time.Minute

// Authenticate returns the API key a bot presents, with its workspace,
// scope and bot. An admin key is refused with a message that says so.
func (e *Engine) Authenticate(ctx context.Context, key string) (baton.APIKey, error) {
	hash := baton.HashKey(key)
	return e.keys.get("", hash, func() (found baton.APIKey, err error) {
		err = e.store.View(ctx, func(tx baton.Tx) (err error) {
			found, err = tx.APIKey(hash)
			if baton.ErrorCode(err) == baton.ENOTFOUND {
				if _, aerr := tx.AdminKey(hash); aerr == nil {
					return baton.Errorf(baton.EUNAUTHORIZED, "this is an admin key: the bot API takes a workspace API key")
				}
				if _, aerr := tx.InboxAgentByKey(hash); aerr == nil {
					return baton.Errorf(baton.EUNAUTHORIZED, "this is an inbox agent key: the bot API takes a workspace API key")
				}
				return baton.Errorf(baton.EUNAUTHORIZED, "unknown API key")
			}
			return err
		})
		if err == nil && time.Since(found.LastUsedAt) > touchEvery {
			found.LastUsedAt = now()
			e.touch(ctx, func(tx baton.Tx) error { return tx.TouchAPIKey(hash, found.LastUsedAt) })
		}
		return found, err
	})
}

// touch records a key's use; a failure only delays the record.
func (e *Engine) touch(ctx context.Context, fn func(baton.Tx) error) {
	if err := e.store.Tx(ctx, fn); err != nil {
		e.log.Warn("recording a key's use", "err", err)
	}
}

// AuthenticateAgent returns the inbox agent a key belongs to.
func (e *Engine) AuthenticateAgent(ctx context.Context, key string) (baton.InboxAgent, error) {
	var a baton.InboxAgent
	err := e.store.View(ctx, func(tx baton.Tx) (err error) {
		a, err = tx.InboxAgentByKey(baton.HashKey(key))
		return err
	})
	if baton.ErrorCode(err) == baton.ENOTFOUND {
		return a, baton.Errorf(baton.EUNAUTHORIZED, "unknown agent key (or the agent is disabled): the inbox API takes an inbox agent key")
	}
	if err == nil {
		e.AgentSeen(ctx, &a)
	}
	return a, err
}

// AgentSeen records that an inbox agent just used the inbox, at most once
// a minute (touchEvery): the availability read counts the agents seen
// within baton.OnlineWindow as online. The web inbox calls it for each
// page of a signed-in agent; the inbox API's authentication does.
func (e *Engine) AgentSeen(ctx context.Context, a *baton.InboxAgent) {
	if now().Sub(a.SeenAt) <= touchEvery {
		return
	}
	a.SeenAt = now()
	e.touch(ctx, func(tx baton.Tx) error { return tx.TouchInboxAgent(a.WorkspaceID, a.ID, a.SeenAt) })
}

type botScopeKey struct{}

// WithBotScope returns ctx for a request made with a key scoped to one bot:
// it reaches only that bot's conversations, handoffs and events.
func WithBotScope(ctx context.Context, botID string) context.Context {
	return context.WithValue(ctx, botScopeKey{}, botID)
}

func botScope(ctx context.Context) string {
	b, _ := ctx.Value(botScopeKey{}).(string)
	return b
}

// inScope refuses a handoff of another bot than the request's key is scoped to.
func inScope(ctx context.Context, h baton.Handoff) error {
	if b := botScope(ctx); b != "" && h.BotID != b {
		return baton.Errorf(baton.ENOTFOUND, "handoff %s not found", h.ID)
	}
	return nil
}

// resolveBot finds the bot a request is for: the named one, or the
// workspace's only bot (the key's bot, for a key scoped to one).
func resolveBot(ctx context.Context, tx baton.Tx, ws, id string) (baton.Bot, error) {
	if b := botScope(ctx); b != "" {
		if id != "" && id != b {
			return baton.Bot{}, &baton.Error{Code: baton.ENOTFOUND, Field: "bot_id", Message: "no such bot in this workspace"}
		}
		id = b
	}
	if id != "" {
		b, err := tx.Bot(ws, id)
		if baton.ErrorCode(err) == baton.ENOTFOUND {
			return b, &baton.Error{Code: baton.ENOTFOUND, Field: "bot_id", Message: "no such bot in this workspace", Err: err}
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

// deskOf reads the desk a request names, or the bot's, for field desk_id.
func deskOf(tx baton.Tx, ws string, bot baton.Bot, id string) (baton.DeskConfig, error) {
	if id == "" {
		id = bot.DeskID
	}
	if id == "" {
		return baton.DeskConfig{}, baton.FieldErrorf("desk_id", "is required: the bot has no default desk")
	}
	dc, err := tx.Desk(ws, id)
	if baton.ErrorCode(err) == baton.ENOTFOUND {
		return dc, &baton.Error{Code: baton.ENOTFOUND, Field: "desk_id", Message: "no such desk in this workspace", Err: err}
	}
	return dc, err
}

// adapter returns the desk adapter of dc, refusing the request as
// unavailable when the desk cannot be built.
func (e *Engine) adapter(dc baton.DeskConfig) (baton.Desk, error) {
	d, err := e.desks.Desk(dc)
	if err != nil {
		return nil, baton.Errorf(baton.EUNAVAILABLE, "desk %s is not usable: %w", dc.ID, err)
	}
	return d, nil
}

// CreateHandoff asks for a human. The result is one of: a handoff in state
// requested (the desk is being opened; queued follows as an event), a handoff
// in requested with NeedsEmail (ask the customer, then call ProvideEmail), or a
// handoff ended out_of_hours carrying the reply text.
func (e *Engine) CreateHandoff(ctx context.Context, ws string, r baton.CreateRequest) (baton.Handoff, bool, error) {
	if err := r.Valid(); err != nil {
		return baton.Handoff{}, false, err
	}
	var h baton.Handoff
	result, replay, err := e.write(ctx, ws, func(tx *wtx) (string, error) {
		var err error
		h, err = e.create(ctx, tx, ws, r)
		return h.ID, err
	})
	if err != nil {
		return baton.Handoff{}, false, err
	}
	if replay {
		h, err = e.Handoff(ctx, ws, result)
	}
	return h, replay, err
}

// create makes the handoff r asks for, in tx; r is valid.
func (e *Engine) create(ctx context.Context, tx *wtx, ws string, r baton.CreateRequest) (baton.Handoff, error) {
	bot, err := resolveBot(ctx, tx, ws, r.BotID)
	if err != nil {
		return baton.Handoff{}, err
	}
	dc, err := deskOf(tx, ws, bot, r.DeskID)
	if err != nil {
		return baton.Handoff{}, err
	}
	if err := tx.Pin(baton.Pin{WorkspaceID: ws, BotID: bot.ID, DeskID: dc.ID}); err != nil {
		return baton.Handoff{}, baton.Errorf(baton.ENOTFOUND, "the workspace, bot or desk of this handoff was just deleted: %w", err)
	}
	desk, err := e.adapter(dc)
	if err != nil {
		return baton.Handoff{}, err
	}
	t := now()
	c, err := tx.Conversation(baton.ConversationKey{WorkspaceID: ws, BotID: bot.ID, ExternalID: r.ExternalID})
	switch {
	case baton.ErrorCode(err) == baton.ENOTFOUND:
		c = baton.Conversation{ID: baton.NewID("cv"), WorkspaceID: ws, BotID: bot.ID, ExternalID: r.ExternalID, Owner: baton.OwnerBot}
	case err != nil:
		return baton.Handoff{}, err
	case c.HandoffID != "":
		return baton.Handoff{}, &baton.Error{Code: baton.ECONFLICT, Field: "conversation_id", Message: "the conversation already has an open handoff " + c.HandoffID}
	}
	c.Customer = mergeCustomer(c.Customer, r.Customer)
	c.UpdatedAt = t
	pol := policyFor(bot, dc)
	h := baton.Handoff{ID: baton.NewID("ho"), WorkspaceID: ws, ConversationID: c.ID, ExternalID: c.ExternalID, BotID: bot.ID,
		DeskID: dc.ID, State: baton.Requested, Routing: r.Routing, Question: r.Question, CreatedAt: t, LastMessageAt: t, LastCustomerAt: t}
	cal, err := calendar(pol)
	if err != nil {
		return baton.Handoff{}, err
	}
	if !cal.Open(t) {
		eff, err := h.Refuse(&c, pol.OutOfHoursReply, t)
		if err != nil {
			return baton.Handoff{}, err
		}
		return h, e.save(tx, &c, &h, pol, eff)
	}
	// The brief is written under the epoch the bot handed over in.
	if err := tx.PutConversation(c); err != nil {
		return baton.Handoff{}, err
	}
	if err := addHistory(tx, c, h, r, pol.HistoryRounds); err != nil {
		return baton.Handoff{}, err
	}
	var eff baton.Effects
	if c.Customer.Email == "" && (pol.RequireEmail || desk.Capabilities().NeedsEmail) {
		eff, err = h.AwaitEmail(&c)
	} else {
		eff, err = h.Request(&c, baton.JobOpen, t, t)
	}
	if err != nil {
		return baton.Handoff{}, err
	}
	return h, e.save(tx, &c, &h, pol, eff)
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
// the handoff's first messages, the brief, dated when the handoff was
// created: what follows is the human segment. A round starts at a customer
// turn.
func addHistory(tx baton.Tx, c baton.Conversation, h baton.Handoff, r baton.CreateRequest, rounds int) error {
	start, seen := len(r.History), 0
	for i := len(r.History) - 1; i >= 0 && seen < rounds; i-- {
		start = i
		if r.History[i].Author == baton.ByCustomer {
			seen++
		}
	}
	t := h.CreatedAt
	for _, turn := range r.History[start:] {
		m := baton.Message{ID: baton.NewID("msg"), ConversationID: c.ID, HandoffID: h.ID, Author: turn.Author,
			Text: turn.Text, Attachments: turn.Attachments, Epoch: c.Epoch, CreatedAt: t}
		if err := tx.AddMessage(&m); err != nil {
			return err
		}
	}
	q := baton.Message{ID: baton.NewID("msg"), ConversationID: c.ID, HandoffID: h.ID, Author: baton.ByCustomer, Text: r.Question, Epoch: c.Epoch, CreatedAt: t}
	return tx.AddMessage(&q)
}

// ProvideEmail gives the customer's email to a handoff waiting for it, and opens it.
func (e *Engine) ProvideEmail(ctx context.Context, ws, id, email string) (baton.Handoff, error) {
	if !baton.ValidEmail(email) {
		return baton.Handoff{}, baton.FieldErrorf("email", "%q is not an email address", email)
	}
	return e.change(ctx, ws, id, func(tx *wtx, l *loaded) error {
		if !l.h.NeedsEmail || l.h.State != baton.Requested {
			return baton.Errorf(baton.ECONFLICT, "handoff %s is not waiting for an email (state %s)", l.h.ID, l.h.State)
		}
		l.c.Customer.Email = email
		t := now()
		eff, err := l.h.Request(&l.c, baton.JobOpen, t, t)
		if err != nil {
			return err
		}
		return e.save(tx, &l.c, &l.h, l.pol, eff)
	})
}

// CustomerMessage relays a customer message to the desk.
func (e *Engine) CustomerMessage(ctx context.Context, ws, id, text string, atts []baton.Attachment) (baton.Message, error) {
	if err := baton.ValidMessage(text, atts); err != nil {
		return baton.Message{}, err
	}
	var m baton.Message
	result, replay, err := e.write(ctx, ws, func(tx *wtx) (string, error) {
		var err error
		m, err = e.customerMessage(ctx, tx, ws, id, text, atts)
		return m.ID, err
	})
	if err == nil && replay {
		m, err = e.message(ctx, ws, result)
	}
	return m, err
}

// customerMessage records a customer message in handoff id and queues it
// for the desk, in tx; the message is valid.
func (e *Engine) customerMessage(ctx context.Context, tx *wtx, ws, id, text string, atts []baton.Attachment) (baton.Message, error) {
	// The hot path: the handoff alone. While it is open its epoch is the
	// conversation's.
	h, err := readHandoff(ctx, tx, ws, id)
	if err != nil {
		return baton.Message{}, err
	}
	t := now()
	if err := h.CustomerWrote(t); err != nil {
		return baton.Message{}, err
	}
	m := baton.Message{ID: baton.NewID("msg"), ConversationID: h.ConversationID, HandoffID: h.ID, Author: baton.ByCustomer, Text: text, Attachments: atts, Epoch: h.Epoch, CreatedAt: t}
	if err := tx.AddMessage(&m); err != nil {
		return baton.Message{}, err
	}
	if err := tx.PutHandoff(h); err != nil {
		return baton.Message{}, err
	}
	return m, tx.PutJob(baton.SendJob(h, m))
}

// BotSays is a bot's reply to its customer, decided under an epoch.
type BotSays struct {
	BotID       string // optional when the workspace has one bot
	ExternalID  string // the bot's id for the conversation
	Epoch       int64  // the epoch the bot decided the reply under
	Text        string
	Attachments []baton.Attachment
}

// BotMessage records a bot reply to the customer, allowed only while the bot
// owns the conversation under the epoch the bot decided it in. It is how a bot
// asks "may I still speak?" and keeps the transcript whole.
func (e *Engine) BotMessage(ctx context.Context, ws string, r BotSays) (baton.Message, error) {
	switch {
	case len(r.ExternalID) > baton.MaxExternalID:
		return baton.Message{}, baton.FieldErrorf("conversation_id", "is longer than %d characters", baton.MaxExternalID)
	case r.Epoch < 0:
		return baton.Message{}, baton.FieldErrorf("epoch", "must not be negative")
	}
	if err := baton.ValidMessage(r.Text, r.Attachments); err != nil {
		return baton.Message{}, err
	}
	var m baton.Message
	result, replay, err := e.write(ctx, ws, func(tx *wtx) (string, error) {
		bot, err := resolveBot(ctx, tx, ws, r.BotID)
		if err != nil {
			return "", err
		}
		c, err := tx.Conversation(baton.ConversationKey{WorkspaceID: ws, BotID: bot.ID, ExternalID: r.ExternalID})
		if baton.ErrorCode(err) == baton.ENOTFOUND {
			c = baton.Conversation{ID: baton.NewID("cv"), WorkspaceID: ws, BotID: bot.ID, ExternalID: r.ExternalID, Owner: baton.OwnerBot, UpdatedAt: now()}
			if err := tx.PutConversation(c); err != nil {
				return "", err
			}
		} else if err != nil {
			return "", err
		}
		if c.Owner != baton.OwnerBot {
			return "", &baton.Error{Code: baton.ESTALE, Field: "epoch", Message: fmt.Sprintf("a human holds the conversation (epoch %d): the bot must not speak", c.Epoch)}
		}
		if r.Epoch > c.Epoch {
			return "", &baton.Error{Code: baton.ESTALE, Field: "epoch", Message: fmt.Sprintf("epoch %d is ahead of the conversation, at epoch %d: it is unknown, not one Baton gave", r.Epoch, c.Epoch)}
		}
		if c.Epoch != r.Epoch {
			return "", &baton.Error{Code: baton.ESTALE, Field: "epoch", Message: fmt.Sprintf("epoch %d is stale: the conversation is at epoch %d", r.Epoch, c.Epoch)}
		}
		m = baton.Message{ID: baton.NewID("msg"), ConversationID: c.ID, Author: baton.ByBot, Text: r.Text, Attachments: r.Attachments, Epoch: c.Epoch, CreatedAt: now()}
		if err := tx.AddMessage(&m); err != nil {
			return "", err
		}
		return m.ID, e.seatReply(tx, bot, &c, m)
	})
	if err == nil && replay {
		m, err = e.message(ctx, ws, result)
	}
	return m, err
}

// KeepWaiting restarts the wait for an agent after a wait-timeout event.
func (e *Engine) KeepWaiting(ctx context.Context, ws, id string) (baton.Handoff, error) {
	return e.change(ctx, ws, id, func(tx *wtx, l *loaded) error {
		eff, err := l.h.KeepWaiting(now())
		if err != nil {
			return err
		}
		return e.save(tx, nil, &l.h, l.pol, eff)
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
	return e.change(ctx, ws, id, func(tx *wtx, l *loaded) error {
		return e.end(tx, l, reason, true)
	})
}

// change loads a handoff with its conversation and policy, and applies fn,
// which saves what it changes.
func (e *Engine) change(ctx context.Context, ws, id string, fn func(*wtx, *loaded) error) (baton.Handoff, error) {
	var h baton.Handoff
	_, replay, err := e.write(ctx, ws, func(tx *wtx) (string, error) {
		l, err := e.load(tx, ws, id)
		if err == nil {
			err = inScope(ctx, l.h)
		}
		if err != nil {
			return "", err
		}
		if err := fn(tx, &l); err != nil {
			return "", err
		}
		h = l.h
		return h.ID, placeOne(tx, &h)
	})
	if err == nil && replay {
		h, err = e.Handoff(ctx, ws, id)
	}
	return h, err
}
