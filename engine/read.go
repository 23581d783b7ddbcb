package engine

import (
	"context"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/hours"
)

// Reads run in read-only transactions.

// Handoff reads one handoff, with its place in its desk's queue.
func (e *Engine) Handoff(ctx context.Context, ws, id string) (baton.Handoff, error) {
	var h baton.Handoff
	err := e.store.View(ctx, func(tx baton.Tx) (err error) {
		if h, err = readHandoff(ctx, tx, ws, id); err != nil {
			return err
		}
		return placeOne(tx, &h)
	})
	return h, err
}

// ExternalID reads the bot's id for a handoff's conversation: what a
// message's answer names, without the queue reads a whole handoff takes
// (a customer message, Baton's hot path, needs no more).
func (e *Engine) ExternalID(ctx context.Context, ws, id string) (string, error) {
	var h baton.Handoff
	err := e.store.View(ctx, func(tx baton.Tx) (err error) {
		h, err = readHandoff(ctx, tx, ws, id)
		return err
	})
	return h.ExternalID, err
}

// readHandoff reads a handoff the request's key may reach.
func readHandoff(ctx context.Context, tx baton.Tx, ws, id string) (baton.Handoff, error) {
	h, err := tx.Handoff(ws, id)
	if err == nil {
		err = inScope(ctx, h)
	}
	return h, err
}

// Conversation reads a conversation by the bot's id for it, and its
// handoffs, newest first, with their places in their desks' queues.
func (e *Engine) Conversation(ctx context.Context, ws, botID, externalID string) (baton.Conversation, []baton.Handoff, error) {
	var c baton.Conversation
	var hs []baton.Handoff
	err := e.store.View(ctx, func(tx baton.Tx) error {
		bot, err := resolveBot(ctx, tx, ws, botID)
		if err != nil {
			return err
		}
		if c, err = tx.Conversation(baton.ConversationKey{WorkspaceID: ws, BotID: bot.ID, ExternalID: externalID}); err != nil {
			return err
		}
		if hs, err = tx.Handoffs(c.ID); err != nil {
			return err
		}
		return place(tx, hs)
	})
	return c, hs, err
}

// Transcript reads a handoff, with its place in its desk's queue, and
// lists its messages in order.
func (e *Engine) Transcript(ctx context.Context, ws, id string) (baton.Handoff, []baton.Message, error) {
	var h baton.Handoff
	var ms []baton.Message
	err := e.store.View(ctx, func(tx baton.Tx) (err error) {
		if h, err = tx.Handoff(ws, id); err != nil {
			return err
		}
		if err := placeOne(tx, &h); err != nil {
			return err
		}
		ms, err = tx.HandoffMessages(h.ID)
		return err
	})
	return h, ms, err
}

// message reads a message of the workspace (idempotent replays).
func (e *Engine) message(ctx context.Context, ws, id string) (baton.Message, error) {
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

// Availability is a desk's service status and hours at an instant.
type Availability struct {
	DeskID     string
	Status     baton.DeskStatus
	LastError  string
	CheckedAt  time.Time
	At         time.Time // the instant asked about
	OpenNow    bool      // open at At
	NextOpenAt time.Time // zero if open at At or never after it
	Zone       string
	// AgentsOnline is how many of the desk's people can answer now, when
	// AgentsKnown: the inbox's agents seen within baton.OnlineWindow. A
	// desk whose API does not say has no figure.
	AgentsOnline int
	AgentsKnown  bool
	// Accepting says whether someone at the desk takes a handoff now, when
	// AcceptingKnown: the inbox has an agent online; a desk that is a
	// baton.Staffed says (LiveChat: its group's routing status).
	Accepting      bool
	AcceptingKnown bool
	// QueueLength is how many of the desk's handoffs wait for a person
	// now: a handoff asked for now would enter the queue at QueueLength+1.
	QueueLength int
	// Wait is the estimated wait of a handoff asked for now, when
	// Estimated: the desk's recent waits (baton.EstimateWait) at position
	// QueueLength+1. A desk with no recent wait has no estimate.
	Wait      time.Duration
	Estimated bool
}

// DeskQuery names the desk a read is about: the named one, or the bot's.
type DeskQuery struct {
	BotID  string // optional when the workspace has one bot
	DeskID string // optional: the bot's desk by default
}

// policyOf reads the desk a query names and its effective policy's calendar.
func (e *Engine) policyOf(ctx context.Context, tx baton.Tx, ws string, q DeskQuery) (baton.DeskConfig, *hours.Calendar, error) {
	bot, err := resolveBot(ctx, tx, ws, q.BotID)
	if err != nil {
		return baton.DeskConfig{}, nil, err
	}
	dc, err := deskOf(tx, ws, bot, q.DeskID)
	if err != nil {
		return dc, nil, err
	}
	cal, err := calendar(policyFor(bot, dc))
	return dc, cal, err
}

// Availability answers whether a handoff through the desk could be served
// at an instant (zero means now), asking a desk that can tell whether
// someone takes handoffs now (baton.Staffed).
func (e *Engine) Availability(ctx context.Context, ws string, q DeskQuery, at time.Time) (Availability, error) {
	a, dc, err := e.availability(ctx, ws, q, at)
	if err == nil && !a.AcceptingKnown {
		e.accepting(ctx, dc, &a)
	}
	return a, err
}

// Queue is Availability now from the store alone, without asking the
// desk: for a caller that needs the queue's length and estimate.
func (e *Engine) Queue(ctx context.Context, ws string, q DeskQuery) (Availability, error) {
	a, _, err := e.availability(ctx, ws, q, time.Time{})
	return a, err
}

func (e *Engine) availability(ctx context.Context, ws string, q DeskQuery, at time.Time) (Availability, baton.DeskConfig, error) {
	if at.IsZero() {
		at = now()
	}
	var a Availability
	var dc baton.DeskConfig
	err := e.store.View(ctx, func(tx baton.Tx) error {
		var cal *hours.Calendar
		var err error
		dc, cal, err = e.policyOf(ctx, tx, ws, q)
		if err != nil {
			return err
		}
		a = Availability{DeskID: dc.ID, Status: dc.Status, LastError: dc.LastError, CheckedAt: dc.CheckedAt, At: at, OpenNow: cal.Open(at), Zone: cal.Location().String()}
		if a.Status == "" {
			a.Status = baton.NotConfigured
		}
		if !a.OpenNow {
			a.NextOpenAt, _ = cal.NextOpen(at)
		}
		return e.staffing(tx, dc, &a)
	})
	return a, dc, err
}

// accepting asks a desk that can tell whether someone takes a handoff now,
// within baton.StaffedTimeout; a desk that cannot answer leaves it unknown.
func (e *Engine) accepting(ctx context.Context, dc baton.DeskConfig, a *Availability) {
	d, err := e.desks.Desk(dc)
	if err != nil {
		return
	}
	s, ok := d.(baton.Staffed)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, baton.StaffedTimeout)
	defer cancel()
	yes, err := s.Accepting(ctx)
	if err != nil {
		e.log.Info("the desk could not tell whether someone takes handoffs", "desk", dc.ID, "err", err)
		return
	}
	a.Accepting, a.AcceptingKnown = yes, true
}

// staffing fills in who can answer at the desk now and how long its queue
// is: the present, whatever instant a asks about.
func (e *Engine) staffing(tx baton.Tx, dc baton.DeskConfig, a *Availability) error {
	t := now()
	// The rank a handoff entering the queue now would have: one past
	// every handoff waiting in it, those that entered at this very
	// microsecond included (the store keeps microseconds).
	rank, err := tx.QueuePosition(baton.Handoff{DeskID: dc.ID, QueuedAt: t.Add(time.Microsecond)})
	if err != nil {
		return err
	}
	a.QueueLength = rank - 1
	waits, err := recentWaits(tx, dc.ID)
	if err != nil {
		return err
	}
	a.Wait, a.Estimated = baton.EstimateWait(waits, rank)
	if dc.Kind != baton.KindInbox {
		return nil
	}
	agents, err := tx.InboxAgents(dc.WorkspaceID)
	if err != nil {
		return err
	}
	a.AgentsKnown = true
	for _, ag := range agents {
		if ag.DeskID == dc.ID && ag.Online(t) {
			a.AgentsOnline++
		}
	}
	a.Accepting, a.AcceptingKnown = a.AgentsOnline > 0, true
	return nil
}

// MaxCalendarDays is the longest range Calendar lists.
const MaxCalendarDays = 92

// Day is one date's open time in the policy's zone, merged: a window past
// midnight shows as its part on each date.
type Day struct {
	Date    string // YYYY-MM-DD
	Windows []hours.Window
}

// Calendar lists the open time of each date from from to to, both
// included (civil dates; their clock and zone are ignored), in the zone of
// the desk's policy, which it returns.
func (e *Engine) Calendar(ctx context.Context, ws string, q DeskQuery, from, to time.Time) (zone string, days []Day, err error) {
	first := time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, time.UTC)
	last := time.Date(to.Year(), to.Month(), to.Day(), 0, 0, 0, 0, time.UTC)
	switch n := int(last.Sub(first).Hours()/24) + 1; {
	case n < 1:
		return "", nil, baton.FieldErrorf("to", "is before from")
	case n > MaxCalendarDays:
		return "", nil, baton.FieldErrorf("to", "makes %d dates; at most %d are listed at once", n, MaxCalendarDays)
	}
	err = e.store.View(ctx, func(tx baton.Tx) error {
		_, cal, err := e.policyOf(ctx, tx, ws, q)
		if err != nil {
			return err
		}
		zone = cal.Location().String()
		for d := first; !d.After(last); d = d.AddDate(0, 0, 1) {
			days = append(days, Day{Date: d.Format(time.DateOnly), Windows: cal.OnDate(d.Year(), d.Month(), d.Day())})
		}
		return nil
	})
	return zone, days, err
}

// Events lists a bot's events after a sequence number.
func (e *Engine) Events(ctx context.Context, ws, botID string, after int64, limit int) ([]baton.Event, error) {
	var evs []baton.Event
	err := e.store.View(ctx, func(tx baton.Tx) error {
		bot, err := resolveBot(ctx, tx, ws, botID)
		if err != nil {
			return err
		}
		evs, err = tx.Events(baton.EventPage{WorkspaceID: ws, BotID: bot.ID, After: after, Limit: limit})
		return err
	})
	return evs, err
}

// Idempotency reads the outcome the workspace stored for an
// Idempotency-Key; found is false when there is none.
func (e *Engine) Idempotency(ctx context.Context, ws, key string) (rec baton.Idempotency, found bool, err error) {
	err = e.store.View(ctx, func(tx baton.Tx) (err error) {
		rec, err = tx.Idempotency(ws, key)
		return err
	})
	if baton.ErrorCode(err) == baton.ENOTFOUND {
		return rec, false, nil
	}
	return rec, err == nil, err
}

// Trigger is the effective policy's TriggerDescription of the desk a query
// names (the bot's own policy where the bot has no desk): when an LLM
// agent should hand off, baton.DefaultTriggerDescription when neither
// policy says.
func (e *Engine) Trigger(ctx context.Context, ws string, q DeskQuery) (string, error) {
	var text string
	err := e.store.View(ctx, func(tx baton.Tx) error {
		bot, err := resolveBot(ctx, tx, ws, q.BotID)
		if err != nil {
			return err
		}
		dc, err := deskOf(tx, ws, bot, q.DeskID)
		if err != nil && (q.DeskID != "" || bot.DeskID != "") {
			return err
		}
		text = policyFor(bot, dc).TriggerDescription
		return nil
	})
	return text, err
}
