package outbox

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/engine"
	"github.com/batonhq/baton/llm"
	"github.com/batonhq/baton/router"
	"github.com/batonhq/baton/stdwebhook"
)

// A failed desk call is judged three ways, each for its own question:
//
//   - the desk's status (call, after every call, whatever its outcome;
//     and app.Run's periodic check): a desk that answered busy is up, a
//     permanent refusal of one request says nothing of it; anything else (refused credentials,
//     an error status, a 429, a timeout, no answer) makes it unavailable;
//   - bringing a handoff to the desk (retryOrEnd): busy, refused
//     credentials or a permanent refusal end the handoff desk_unavailable
//     at once, since the customer is waiting for an answer now; other
//     failures are retried a few times (Config.OpenAttempts) first;
//   - a delivery into an open handoff (retryDesk): only busy and permanent
//     refusals are dropped; refused credentials are retried on the desk's
//     schedule like an outage, since mending them must not lose messages.

// call makes one desk call for task t, measures it and keeps the desk's
// status current. A failed call joins t's failures, which are recorded in
// the desk's history with the job's outcome (Worker.record).
func (w *Worker) call(ctx context.Context, t task, dc baton.DeskConfig, op string, fn func() error) error {
	start := time.Now()
	err := fn()
	if err != nil && ctx.Err() == nil && t.fails != nil {
		*t.fails = append(*t.fails, baton.DeskFailure{WorkspaceID: dc.WorkspaceID, DeskID: dc.ID, Op: op, Error: err.Error(), At: now()})
	}
	w.obs.DeskCall(dc.Kind, op, time.Since(start), err == nil)
	w.obs.Delivery("desk", err == nil)
	var de *baton.DeskError
	status, msg := dc.Status, dc.LastError
	switch {
	case err == nil:
		status, msg = baton.Available, ""
	case ctx.Err() != nil:
		// Baton is shutting down: the desk said nothing about itself.
	case errors.As(err, &de) && de.Busy:
		// The desk answered and refused one request: it is up.
		status, msg = baton.Available, ""
	case errors.As(err, &de) && de.Permanent:
		// One request that can never be made (it may not have left
		// Baton): nothing is known of the desk.
	default:
		// Refused credentials, an error status, a 429, a timeout or no
		// answer at all: the desk cannot serve handoffs now.
		status, msg = baton.Unavailable, err.Error()
	}
	if status != dc.Status || msg != dc.LastError {
		if serr := w.engine.SetDeskStatus(ctx, baton.DeskState{DeskID: dc.ID, Status: status, LastError: msg}); serr != nil {
			w.log.Error("saving desk status failed", "desk", dc.ID, "err", serr)
		}
	}
	return err
}

// final reports whether a desk's refusal will not change if asked again.
func final(err error) bool {
	var de *baton.DeskError
	return errors.As(err, &de) && (de.Busy || de.Auth || de.Permanent)
}

// retryDesk turns a failed desk call into a retry (honouring Retry-After)
// or, for a request the desk refused for good, nil after logging.
func (w *Worker) retryDesk(op, handoff string, err error) error {
	var de *baton.DeskError
	if errors.As(err, &de) {
		if de.Permanent || de.Busy {
			w.log.Error("desk refused a call for good", "op", op, "handoff", handoff, "err", err)
			return nil
		}
		return &retry{after: de.RetryAfter, err: err}
	}
	return &retry{err: err}
}

// retryOrEnd retries a failed step that brings a handoff to its desk (an
// open, a seat transfer) while attempts remain and the failure may pass,
// and otherwise ends the handoff desk_unavailable.
// Each retry tells the bot (handoff.opening_retry, with the attempt, when
// the next runs and the desk's error), so that it can tell the customer.
func (w *Worker) retryOrEnd(ctx context.Context, t task, op string, err error) error {
	after, more := stdwebhook.Backoff(t.Attempts+2, w.cfg.DeskSchedule, nil)
	if more && !final(err) && baton.ErrorCode(err) != baton.EUNAVAILABLE && t.Attempts+1 < w.cfg.OpenAttempts {
		var de *baton.DeskError
		if errors.As(err, &de) && de.RetryAfter > 0 {
			after = de.RetryAfter
		}
		if terr := w.engine.OpenRetrying(ctx, t.target, t.Attempts+1, w.cfg.OpenAttempts, now().Add(after), err.Error()); terr != nil {
			return terr // the attempt runs again soon, and tells the bot then
		}
		return &retry{after: after, err: err}
	}
	w.log.Warn("desk could not take the handoff", "op", op, "handoff", t.target.Handoff, "err", err)
	return w.engine.Unopened(ctx, t.target)
}

// open opens a requested handoff in its desk.
func (w *Worker) open(ctx context.Context, t task) error {
	o, ok, err := w.engine.Opening(ctx, t.target)
	if err != nil || !ok {
		return err
	}
	desk, err := w.desks.Desk(o.Desk)
	if err != nil {
		w.unbuilt(ctx, o.Desk, err)
		return w.retryOrEnd(ctx, t, "open", err)
	}
	w.brief(ctx, &o)
	var opened baton.Handle
	err = w.call(ctx, t, o.Desk, "open", func() (err error) {
		opened, err = desk.Open(ctx, o.Request)
		return err
	})
	if err != nil {
		return w.retryOrEnd(ctx, t, "open", err)
	}
	err = w.engine.Opened(ctx, t.target, opened)
	if baton.ErrorCode(err) == baton.EINVALID {
		// The desk answered with a reference that cannot be stored.
		w.log.Warn("desk opened the handoff with an unusable reference", "handoff", o.Handoff.ID, "desk", o.Desk.ID, "err", err)
		return w.engine.Unopened(ctx, t.target)
	}
	return err
}

// brief has the desk's LLM endpoint, when it has one, write the brief of
// the handoff o opens; when it cannot, the extractive brief goes.
func (w *Worker) brief(ctx context.Context, o *engine.Opening) {
	cfg, ok, err := llm.ParseSettings(o.Desk.Settings)
	if !ok || err != nil {
		return
	}
	b, err := llm.New(cfg, w.llm).Brief(ctx, o.Request)
	if err != nil {
		w.log.Warn("the LLM did not write the handoff's brief: the extractive one goes", "handoff", o.Handoff.ID, "desk", o.Desk.ID, "err", err)
		return
	}
	o.Request.Brief = b
}

// adapter builds a desk's adapter for a delivery. A desk that cannot be
// built (its settings were changed to something wrong) cannot serve now:
// it shows as unavailable, and the delivery is retried on the desk's
// schedule, in case the settings are mended.
func (w *Worker) adapter(ctx context.Context, dc baton.DeskConfig) (baton.Desk, error) {
	desk, err := w.desks.Desk(dc)
	if err != nil {
		w.unbuilt(ctx, dc, err)
		return nil, &retry{err: err}
	}
	return desk, nil
}

// unbuilt records that desk dc cannot serve: its adapter does not build.
func (w *Worker) unbuilt(ctx context.Context, dc baton.DeskConfig, err error) {
	if serr := w.engine.SetDeskStatus(ctx, baton.DeskState{DeskID: dc.ID, Status: baton.Unavailable, LastError: err.Error()}); serr != nil {
		w.log.Error("saving desk status failed", "desk", dc.ID, "err", serr)
	}
}

// send relays one customer message into the desk.
func (w *Worker) send(ctx context.Context, t task) error {
	h, m := t.handoff, t.message
	if h.DeskRef == "" {
		return nil // the handoff never opened in the desk (it ended first)
	}
	desk, err := w.adapter(ctx, t.desk)
	if err != nil {
		return err
	}
	if !desk.Capabilities().Attachments && len(m.Attachments) > 0 {
		m.Text, m.Attachments = linkify(m), nil
	}
	if t.Attempts > 0 {
		ctx = baton.Repeat(ctx)
	}
	if err := w.call(ctx, t, t.desk, "send", func() error { return desk.Send(ctx, baton.Handle{Ref: h.DeskRef, Data: h.DeskData}, m) }); err != nil {
		return w.retryDesk("send", h.ID, err)
	}
	return nil
}

// close ends the handoff in the desk, or, for one that ended while it was
// opening, abandons what its open may have made (baton.Abandoner).
func (w *Worker) close(ctx context.Context, t task) error {
	h := t.handoff
	if h.DeskRef == "" && h.DeskData == "" {
		return nil
	}
	desk, err := w.adapter(ctx, t.desk)
	if err != nil {
		return err
	}
	if h.DeskRef == "" {
		ab, ok := desk.(baton.Abandoner)
		if !ok {
			return nil
		}
		if err := w.call(ctx, t, t.desk, "close", func() error {
			return ab.Abandon(ctx, baton.OpenRequest{HandoffID: h.ID, ExternalID: h.ExternalID, Progress: h.DeskData})
		}); err != nil {
			return w.retryDesk("abandon", h.ID, err)
		}
		return nil
	}
	if err := w.call(ctx, t, t.desk, "close", func() error { return desk.Close(ctx, baton.Handle{Ref: h.DeskRef, Data: h.DeskData}, h.EndReason) }); err != nil {
		return w.retryDesk("close", h.ID, err)
	}
	return nil
}

// reply posts one bot message into its seat chat.
func (w *Worker) reply(ctx context.Context, t task) error {
	r, ok, err := w.engine.Replying(ctx, t.target)
	if err != nil || !ok {
		return err
	}
	desk, err := w.adapter(ctx, r.Desk)
	if err != nil {
		return err
	}
	seat, ok := desk.(baton.Seat)
	if !ok {
		return nil
	}
	if err := w.call(ctx, t, r.Desk, "reply", func() error { return seat.Reply(ctx, r.Chat, r.Message) }); err != nil {
		return w.retryDesk("reply", "", err)
	}
	return nil
}

// transfer runs a seat transfer: list the groups, let the router choose,
// record the decision, move the chat, and queue the handoff. When the desk
// cannot, the bot keeps the chat: the handoff ends desk_unavailable.
func (w *Worker) transfer(ctx context.Context, t task) error {
	tr, ok, err := w.engine.Transferring(ctx, t.target)
	if err != nil || !ok {
		return err
	}
	desk, err := w.desks.Desk(tr.Desk)
	if err != nil {
		w.unbuilt(ctx, tr.Desk, err)
		return w.retryOrEnd(ctx, t, "transfer", err)
	}
	seat, ok := desk.(baton.Seat)
	if !ok {
		return nil
	}
	var groups []baton.Group
	var d baton.Decision
	err = w.call(ctx, t, tr.Desk, "groups", func() (err error) {
		groups, err = seat.Groups(ctx)
		return err
	})
	if err == nil {
		if tr.Policy.Transfer != nil {
			for i, g := range groups {
				if desc := tr.Policy.Transfer.Groups[g.ID]; desc != "" && g.Description == "" {
					groups[i].Description = desc
				}
			}
		}
		d, err = router.ForDesk(tr.Desk, w.cfg.Router, w.llm).Route(ctx, groups, tr.Transcript, tr.Handoff.Routing)
	}
	if err == nil {
		d.Trigger = tr.Handoff.Decision.Trigger
		err = w.engine.Decided(ctx, t.target, d)
	}
	if err == nil {
		err = w.call(ctx, t, tr.Desk, "transfer", func() error { return seat.Transfer(ctx, tr.Handoff.DeskRef, d.GroupID) })
	}
	if err != nil {
		return w.retryOrEnd(ctx, t, "transfer", err)
	}
	return w.engine.Placed(ctx, t.target)
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
