package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/batonhq/baton"
)

// HandleInbound verifies and applies a request a desk sent to Baton. An
// authentic request that changed nothing is acknowledged and ignored: the
// reason says why (one of baton.IgnoredReasons, or a
// desk's *baton.Ignored reason), and is "" when an event was applied. A desk
// id that does not exist fails verification like a wrong secret. body reads
// the request's body, at most the desk's own limit (baton.InboundLimiter;
// 0 when the desk sets none, for the caller's).
func (e *Engine) HandleInbound(ctx context.Context, deskID, path string, h map[string][]string, body func(limit int) ([]byte, error)) (ignored string, err error) {
	var kind baton.DeskKind
	ignored, kind, err = e.handleInbound(ctx, deskID, path, h, body)
	if err == nil && ignored != "" {
		e.ignored(kind, ignored)
	}
	return ignored, err
}

func (e *Engine) handleInbound(ctx context.Context, deskID, path string, h map[string][]string, read func(limit int) ([]byte, error)) (ignored string, kind baton.DeskKind, err error) {
	var dc baton.DeskConfig
	err = e.store.View(ctx, func(tx baton.Tx) (err error) {
		dc, err = tx.DeskByID(deskID)
		return err
	})
	if baton.ErrorCode(err) == baton.ENOTFOUND {
		// Answered as a request that fails verification, so that desk ids
		// cannot be probed.
		e.log.Warn("inbound desk request for an unknown desk", "desk", deskID)
		return "", "", fmt.Errorf("%w: no such desk", baton.ErrForged)
	} else if err != nil {
		return "", dc.Kind, err
	}
	desk, err := e.adapter(dc)
	if err != nil {
		// A desk that cannot be built cannot verify either: answered as a
		// request that fails verification, so that a caller learns nothing
		// of how it is configured.
		e.log.Warn("inbound desk request for a desk that is not usable", "desk", deskID, "err", err)
		return "", dc.Kind, fmt.Errorf("%w: the desk is not usable", baton.ErrForged)
	}
	limit := 0
	if l, ok := desk.(baton.InboundLimiter); ok {
		limit = l.InboundLimit()
	}
	body, err := read(limit)
	if err != nil {
		return "", dc.Kind, err
	}
	evs, err := desk.Inbound(ctx, path, h, body)
	var ig *baton.Ignored
	switch {
	case errors.As(err, &ig):
		e.log.Info("inbound desk request acknowledged and ignored", "desk", dc.ID, "path", path, "reason", ig.Reason, "err", ig.Err)
		return ig.Reason, dc.Kind, nil
	case errors.Is(err, baton.ErrForged):
		e.log.Warn("inbound desk request failed verification", "desk", dc.ID, "path", path)
		return "", dc.Kind, err
	case err != nil:
		return "", dc.Kind, err
	case len(evs) == 0:
		return baton.IgnoredNoEvents, dc.Kind, nil
	}
	if err := checkEvents(body, evs); err != nil {
		return "", dc.Kind, err
	}
	applied := false
	for _, ev := range evs {
		why, err := e.applyDeskEvent(ctx, dc, desk, ev)
		if err != nil {
			return "", dc.Kind, err
		}
		if why == "" {
			applied = true
		} else if ignored == "" || why == baton.IgnoredUnknown {
			ignored = why
		}
	}
	if applied {
		return "", dc.Kind, nil
	}
	return ignored, dc.Kind, nil
}

// ApplyDeskEvent applies one verified desk event, once.
func (e *Engine) ApplyDeskEvent(ctx context.Context, dc baton.DeskConfig, ev baton.DeskEvent) error {
	desk, err := e.adapter(dc)
	if err != nil {
		return err
	}
	_, err = e.applyDeskEvent(ctx, dc, desk, ev)
	return err
}

// applyDeskEvent applies ev, once; ignored says why it changed nothing
// (baton.IgnoredDuplicate, baton.IgnoredUnknown), or is "".
func (e *Engine) applyDeskEvent(ctx context.Context, dc baton.DeskConfig, desk baton.Desk, ev baton.DeskEvent) (ignored string, err error) {
	if ev.ID == "" || ev.Ref == "" {
		return "", baton.Errorf(baton.EINVALID, "desk event needs an id and a reference")
	}
	_, seat := desk.(baton.Seat)
	opener, _ := desk.(baton.Opener)
	_, _, err = e.write(ctx, dc.WorkspaceID, func(tx *wtx) (string, error) {
		ignored = ""
		// seen records the event; an event for no handoff is not recorded,
		// so that a repeat of it is unknown again, not a duplicate.
		seen := func() (bool, error) {
			seen, err := tx.SeenDeskEvent(dc.ID, ev.ID, now())
			if seen {
				ignored = baton.IgnoredDuplicate
			}
			return seen, err
		}
		if seat {
			if dup, err := seen(); err != nil || dup {
				return "", err
			}
			return "", e.seatEvent(tx, dc, ev)
		}
		h, err := handoffOf(tx, dc, opener, ev.Ref)
		if baton.ErrorCode(err) == baton.ENOTFOUND {
			e.log.Info("desk event for an unknown handoff ignored", "desk", dc.ID, "ref", ev.Ref, "type", ev.Type)
			ignored = baton.IgnoredUnknown
			return "", nil
		} else if err != nil {
			return "", err
		}
		if dup, err := seen(); err != nil || dup {
			return "", err
		}
		l, err := e.loadWith(tx, h) // h was read locked, as load would read it
		if err != nil {
			return "", err
		}
		if !l.h.Open() {
			// Kept when it is an agent's message, never acted on.
			ignored = baton.IgnoredEnded
		}
		return "", e.apply(tx, &l, ev)
	})
	if err != nil {
		return "", err
	}
	return ignored, nil
}

// maxOpening is how many opening handoffs handoffOf reads.
const maxOpening = 100

// handoffOf finds the handoff a desk event refers to. A desk may act on a
// handoff before the open call's answer is committed (its agent answers as
// soon as the open arrives), so a miss is not final while one of the desk's
// handoffs is still opening and may be ref's: then the event is refused as
// unavailable and the desk delivers it again. A desk that is a
// baton.Opener says, from a handoff's saved progress, which reference its
// open has reached, so events for other references (a license's other
// chats) are not held back; for other desks any opening handoff may be
// ref's. The order of the reads matters on databases where each statement
// sees the latest commit (PostgreSQL, READ COMMITTED): a handoff seen not
// opening has committed its open, so the second lookup, made after, finds it.
func handoffOf(tx baton.Tx, dc baton.DeskConfig, opener baton.Opener, ref string) (baton.Handoff, error) {
	h, err := byRef(tx, dc, ref)
	if baton.ErrorCode(err) != baton.ENOTFOUND {
		return h, err
	}
	opening, err := tx.HandoffsInState(dc.ID, baton.Requested, maxOpening)
	if err != nil {
		return h, err
	}
	if len(opening) == maxOpening {
		opener = nil // more may be opening than were read: any may be ref's
	}
	for _, o := range opening {
		if o.DeskRef != "" || o.NeedsEmail {
			continue
		}
		if opener != nil {
			if at, known := opener.OpeningRef(o.DeskData); known && at != ref {
				continue
			}
		}
		return h, baton.Errorf(baton.EUNAVAILABLE, "a handoff of desk %s is still opening: deliver the event again", dc.ID)
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

// apply applies a desk event to the loaded handoff.
func (e *Engine) apply(tx *wtx, l *loaded, ev baton.DeskEvent) error {
	if l.h.State == baton.Requested && !l.h.NeedsEmail {
		// The desk acts on the handoff, so it is open there even if the open
		// call's answer has not been recorded yet.
		if err := e.queue(tx, l, ev.Ref); err != nil {
			return err
		}
	}
	switch ev.Type {
	case baton.DeskAgentMessage:
		text, ends := l.pol.SessionPayloads.Closing(ev.Text)
		ev.Text = text
		t := now()
		m := baton.Message{ID: baton.NewID("msg"), ConversationID: l.c.ID, HandoffID: l.h.ID, Author: baton.ByAgent, AgentName: l.h.AgentName(ev.Agent),
			Text: ev.Text, Attachments: ev.Attachments, Late: l.h.Late(), CreatedAt: t}
		if m.Late {
			e.log.Info("agent message kept, not relayed: the handoff has ended or is not in the desk", "handoff", l.h.ID)
			m.Epoch = l.c.Epoch
			return tx.AddMessage(&m)
		}
		eff, err := l.h.AgentReply(&l.c, m, ev.Agent, t)
		if err != nil {
			return err
		}
		m.Epoch = l.c.Epoch // the first reply belongs to the session it begins
		if err := tx.AddMessage(&m); err != nil {
			return err
		}
		var c *baton.Conversation // the conversation changes only when the session begins
		if eff.Accepted {
			c = &l.c
		}
		if ends {
			markClosing(eff.Events, l.pol.SessionPayloads.End)
		}
		if err := e.save(tx, c, &l.h, l.pol, eff); err != nil || !ends {
			return err
		}
		// The agent's words ended the session: the desk is closed too, as
		// the agent did not close it there.
		return e.end(tx, l, baton.AgentClosed, true)
	case baton.DeskAgentJoined, baton.DeskTransferred:
		eff := l.h.Join(ev.Agent, now())
		eff.Placed = l.h.DeskPlaced(ev.Position).Placed // a transfer may queue it, with the desk's figure
		return e.save(tx, nil, &l.h, l.pol, eff)
	case baton.DeskAgentRead:
		return e.save(tx, nil, &l.h, l.pol, l.h.AgentRead(ev.Agent, eventTime(ev)))
	case baton.DeskAgentPaused:
		return e.save(tx, nil, &l.h, l.pol, l.h.Pause(ev.Agent, ev.Until, now()))
	case baton.DeskAgentResumed:
		return e.save(tx, nil, &l.h, l.pol, l.h.Resume(ev.Agent, now()))
	case baton.DeskAgentClosed, baton.DeskCustomerClosed:
		if !l.h.Open() {
			return nil
		}
		reason := baton.AgentClosed
		if ev.Type == baton.DeskCustomerClosed {
			reason = baton.CustomerClosed
		}
		return e.end(tx, l, reason, false)
	}
	return baton.Errorf(baton.EINVALID, "unknown desk event type %q", ev.Type)
}

// eventTime is when a desk event happened: the desk's time when it gives
// one that is not in the future, now otherwise.
func eventTime(ev baton.DeskEvent) time.Time {
	t := now()
	if ev.At.IsZero() || ev.At.After(t) {
		return t
	}
	return ev.At
}

// The decisions the outbox asks for while it runs jobs.

// Fire applies whatever timer rule is due for a handoff, then reschedules.
func (e *Engine) Fire(ctx context.Context, t baton.Target) error {
	return e.each(ctx, t, func(tx *wtx, l *loaded) error {
		at, what := l.h.Deadline(l.pol)
		switch {
		case at.IsZero():
			return nil
		case now().Before(at):
			return schedule(tx, l.h, l.pol)
		case what != "":
			return e.end(tx, l, what, true)
		}
		bot, err := e.BotConfig(tx, l.h.WorkspaceID, l.h.BotID)
		if err != nil {
			return err
		}
		// A bot without a webhook reads the event from the stream, now.
		return e.save(tx, nil, &l.h, l.pol, l.h.NotifyWait(l.pol, bot.WebhookURL == "", now()))
	})
}

// Told records that the bot took event ev (its webhook answered 2xx): a
// wait-timeout event starts the grace before the handoff ends.
func (e *Engine) Told(ctx context.Context, ev baton.Event) error {
	if ev.Type != baton.EventWaitTimeout {
		return nil
	}
	return e.each(ctx, baton.Target{Workspace: ev.WorkspaceID, Handoff: ev.HandoffID}, func(tx *wtx, l *loaded) error {
		if !l.h.Told(ev.CreatedAt, now()) {
			return nil
		}
		return e.save(tx, nil, &l.h, l.pol, baton.Effects{Timer: true})
	})
}

// each loads the handoff a job targets and applies fn, in one write; a
// handoff gone meanwhile is nothing to do.
func (e *Engine) each(ctx context.Context, t baton.Target, fn func(*wtx, *loaded) error) error {
	_, _, err := e.write(ctx, t.Workspace, func(tx *wtx) (string, error) {
		l, err := e.load(tx, t.Workspace, t.Handoff)
		if baton.ErrorCode(err) == baton.ENOTFOUND {
			return "", nil
		} else if err != nil {
			return "", err
		}
		return "", fn(tx, &l)
	})
	return err
}

// Opening is what the outbox needs to open a handoff in its desk.
type Opening struct {
	Handoff baton.Handoff
	Desk    baton.DeskConfig
	Request baton.OpenRequest
}

// Opening reads a handoff to open and builds its desk's open request; ok
// is false when it needs no opening (it ended first, or is open already).
func (e *Engine) Opening(ctx context.Context, t baton.Target) (o Opening, ok bool, err error) {
	err = e.store.View(ctx, func(tx baton.Tx) error {
		l, err := e.load(tx, t.Workspace, t.Handoff)
		if err != nil {
			return err
		}
		if l.h.State != baton.Requested || l.h.DeskRef != "" {
			return nil
		}
		if o.Desk, err = e.DeskConfig(tx, t.Workspace, l.h.DeskID); err != nil {
			return err
		}
		msgs, err := tx.HandoffMessages(l.h.ID)
		// The brief is the history and then the question, dated when the
		// handoff was created; what the customer wrote since goes to the
		// desk as messages, after the open.
		var hist []baton.Message
		for i, m := range msgs {
			if m.CreatedAt.After(l.h.CreatedAt) {
				break
			}
			if i > 0 {
				hist = append(hist, msgs[i-1])
			}
		}
		o.Handoff, ok = l.h, true
		o.Request = baton.OpenRequest{HandoffID: l.h.ID, ExternalID: l.h.ExternalID, Customer: l.c.Customer, History: hist,
			Question: l.h.Question, Routing: l.h.Routing, Progress: l.h.DeskData, Brief: baton.MakeBrief(l.c.Customer, hist, l.h.Question),
			Save: func(p string) error { return e.saveOpening(ctx, t, p) }}
		return err
	})
	return o, ok && err == nil, err
}

// saveOpening keeps a desk's progress in opening a handoff in its desk data
// (until the open's handle replaces it), so that an attempt after a crash
// continues where this one stopped.
func (e *Engine) saveOpening(ctx context.Context, t baton.Target, progress string) error {
	return e.each(ctx, t, func(tx *wtx, l *loaded) error {
		if l.h.State != baton.Requested || l.h.DeskRef != "" {
			return nil
		}
		l.h.DeskData = progress
		return tx.PutHandoff(l.h)
	})
}

// Opened records the desk's handle of an opened handoff: it is queued. A
// handoff that ended while the desk was opening it is closed there.
func (e *Engine) Opened(ctx context.Context, t baton.Target, opened baton.Handle) error {
	return e.each(ctx, t, func(tx *wtx, l *loaded) error {
		l.h.DeskData = opened.Data
		switch {
		case !l.h.Open():
			l.h.DeskRef = opened.Ref
			return e.save(tx, nil, &l.h, l.pol, baton.Effects{Jobs: []baton.Job{baton.DeskJob(baton.JobClose, l.h, now())}})
		case l.h.State != baton.Requested:
			// A desk event already showed it open; keep the desk's state.
			return tx.PutHandoff(l.h)
		}
		return e.queue(tx, l, opened.Ref)
	})
}

// OpenRetrying tells the bot that an attempt to open (or transfer) a
// requested handoff failed and when the next runs; a handoff no longer
// requested is nothing to tell.
func (e *Engine) OpenRetrying(ctx context.Context, t baton.Target, attempt, attempts int, next time.Time, lastErr string) error {
	return e.each(ctx, t, func(tx *wtx, l *loaded) error {
		eff, err := l.h.OpenRetrying(attempt, attempts, next, lastErr)
		if err != nil {
			return nil
		}
		return e.save(tx, nil, &l.h, l.pol, eff)
	})
}

// Unopened ends a handoff its desk could not open (or, for a seat, could
// not transfer): desk_unavailable.
func (e *Engine) Unopened(ctx context.Context, t baton.Target) error {
	return e.each(ctx, t, func(tx *wtx, l *loaded) error {
		if !l.h.Open() {
			return nil
		}
		return e.end(tx, l, baton.DeskUnavailable, false)
	})
}

// checkEvents refuses, before any is applied, what a verified desk request
// carries that no message may hold: a body that is not UTF-8 (a JSON decoder
// would have changed its text), text with a NUL (400), more than
// baton.MaxAttachments files or a file that is not an http or https URL
// (422), as the bot API does. An agent's text may be longer than a bot's
// (baton.MaxText): the desk's body limit bounds it. The field is the
// message's ("text", "attachments[0].url"), under "events[i]." when the
// request carried several.
func checkEvents(body []byte, evs []baton.DeskEvent) error {
	if !utf8.Valid(body) {
		return &baton.Error{Code: baton.EBADREQUEST, Field: "body", Message: "the desk's request is not valid UTF-8"}
	}
	for i, ev := range evs {
		if ev.Text == "" && len(ev.Attachments) == 0 {
			continue
		}
		prefix := ""
		if len(evs) > 1 {
			prefix = fmt.Sprintf("events[%d].", i)
		}
		if !utf8.ValidString(ev.Text) || strings.ContainsRune(ev.Text, 0) {
			return &baton.Error{Code: baton.EBADREQUEST, Field: prefix + "text", Message: "the desk's message text is not valid UTF-8 or holds a NUL character"}
		}
		// The words are checked above; the files as a bot's are.
		if err := baton.ValidMessage("-", ev.Attachments); err != nil {
			var be *baton.Error
			if errors.As(err, &be) && prefix != "" {
				be.Field = prefix + be.Field
			}
			return err
		}
	}
	return nil
}
