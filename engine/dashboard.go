package engine

import (
	"cmp"
	"context"
	"time"

	"github.com/batonhq/baton"
)

// The dashboard's figures, for one workspace over a range of time. The
// handoffs counted are those created in the range (one cohort for every
// handoff figure, so that they add up), in buckets of an hour, or of a day
// when the range is longer than a week. Its definitions:
//
//   - outcome: the handoff's end reason, or open while it has not ended;
//   - first reply time: from QueuedAt (open in the desk) to ActiveAt (the
//     first agent reply), for the handoffs that had one; p50 and p90 are
//     exact nearest-rank percentiles, computed by the store;
//   - abandoned: ended customer_closed after reaching the queue, never
//     taken by an agent (TakenAt zero): the customer left while queued.
//     A wait_timeout is Baton giving up on the wait, not the customer
//     leaving: it is counted apart (TimedOut). The rate is abandoned over
//     the handoffs that reached the queue;
//   - a desk's failures: its failed calls (each attempt, retries included);
//     its timeline: its status from its history of changes.

// MaxDashboardRange is the longest range the dashboard covers: the desk
// history keeps no more (baton.DeskHistoryKept).
const MaxDashboardRange = baton.DeskHistoryKept

// DashboardQuery asks for a workspace's dashboard over [From, To).
type DashboardQuery struct {
	Workspace string
	Desk      string // only this desk's figures; "" for every desk
	From, To  time.Time
}

// Dashboard is a workspace's figures over a range.
type Dashboard struct {
	From, To time.Time
	Bucket   time.Duration // an hour, or a day for ranges over a week
	Buckets  []HandoffBucket
	Total    int64          // handoffs created in the range
	Outcomes []OutcomeCount // the range's handoffs by outcome, in outcome order, without zeros
	Replies  ReplyFigures
	Queued   int64 // handoffs that reached their desk's queue
	// Abandoned counts the handoffs whose customer left while queued:
	// ended customer_closed, never taken by an agent.
	Abandoned int64
	// TimedOut counts the handoffs whose wait timed out before an agent
	// took them (wait_timeout, never taken).
	TimedOut int64
	Desks    []DeskFigures
}

// AbandonRate is Abandoned over Queued, 0 when none was queued.
func (d Dashboard) AbandonRate() float64 {
	if d.Queued == 0 {
		return 0
	}
	return float64(d.Abandoned) / float64(d.Queued)
}

// HandoffBucket is the handoffs created in one bucket.
type HandoffBucket struct {
	Start, End time.Time // End is the range's end for the last bucket
	Total      int64
	Outcomes   []OutcomeCount // in outcome order, without zeros
	Abandoned  int64
}

// OutcomeCount is how many handoffs had one outcome.
type OutcomeCount struct {
	Reason baton.EndReason // "" for the handoffs still open
	N      int64
}

// Outcome names the outcome: the end reason, or open.
func (o OutcomeCount) Outcome() string { return cmp.Or(string(o.Reason), "open") }

// ReplyFigures is the distribution of first reply times.
type ReplyFigures struct {
	N        int64 // handoffs with a first agent reply
	P50, P90 time.Duration
}

// DeskFigures is one desk's delivery failures and status over the range.
type DeskFigures struct {
	ID, Name string
	Status   baton.DeskStatus // now
	Failures []int64          // failed calls per bucket
	Failed   int64            // failed calls in the range
	Timeline []StatusSpan     // from the range's start to its end or now, whichever is first
}

// StatusSpan is a stretch of time a desk had one status. Before the first
// change its history holds, a desk was not configured: a desk starts
// unset, and its history keeps its status at the start of any range the
// dashboard covers.
type StatusSpan struct {
	Status   baton.DeskStatus
	Error    string
	From, To time.Time
}

// outcomes is the order outcomes are shown in.
var outcomes = []baton.EndReason{"", baton.AgentClosed, baton.CustomerClosed, baton.BotClosed, baton.WaitTimeout,
	baton.SessionTimeout, baton.IdleExpired, baton.OutOfHours, baton.DeskUnavailable, baton.Transferred}

// Outcomes lists every outcome, in the order the dashboard shows them
// ("" is open).
func Outcomes() []baton.EndReason { return append([]baton.EndReason(nil), outcomes...) }

// DashboardBucket is the bucket the dashboard counts a range in: an hour,
// or a day when the range is longer than a week.
func DashboardBucket(from, to time.Time) time.Duration {
	if to.Sub(from) > 7*24*time.Hour {
		return 24 * time.Hour
	}
	return time.Hour
}

// Dashboard reads a workspace's dashboard. It takes an admin's context
// (WithAdmin), as the admin API and the console give.
func (e *Engine) Dashboard(ctx context.Context, q DashboardQuery) (Dashboard, error) {
	if _, ok := ctx.Value(adminScopeKey{}).(string); !ok {
		return Dashboard{}, baton.Errorf(baton.EUNAUTHORIZED, "the dashboard is for admins")
	}
	switch {
	case q.From.IsZero():
		return Dashboard{}, baton.FieldErrorf("from", "from is required")
	case q.To.IsZero():
		return Dashboard{}, baton.FieldErrorf("to", "to is required")
	case !q.From.Before(q.To):
		return Dashboard{}, baton.FieldErrorf("to", "to must be after from")
	case q.To.Sub(q.From) > MaxDashboardRange:
		return Dashboard{}, baton.FieldErrorf("from", "the range is longer than %d days", int(MaxDashboardRange/(24*time.Hour)))
	}
	d := Dashboard{From: q.From.UTC(), To: q.To.UTC(), Bucket: DashboardBucket(q.From, q.To)}
	sq := baton.StatsQuery{WorkspaceID: q.Workspace, DeskID: q.Desk, From: d.From, To: d.To, Bucket: d.Bucket}
	var counts []baton.HandoffCount
	var replies baton.ReplyTimes
	var fails []baton.DeskCount
	var changes []baton.DeskChange
	var desks []baton.DeskConfig
	err := e.store.View(ctx, func(tx baton.Tx) (err error) {
		if _, err := live(tx, q.Workspace); err != nil {
			return err
		}
		if q.Desk != "" {
			dc, err := tx.Desk(q.Workspace, q.Desk)
			if err != nil {
				return err // ENOTFOUND for another workspace's desk too
			}
			desks = []baton.DeskConfig{dc}
		} else if desks, err = tx.Desks(q.Workspace); err != nil {
			return err
		}
		if counts, err = tx.HandoffCounts(sq); err != nil {
			return err
		}
		if replies, err = tx.ReplyTimes(sq, 0.5, 0.9); err != nil {
			return err
		}
		if fails, err = tx.DeskFailures(sq); err != nil {
			return err
		}
		changes, err = tx.DeskChanges(sq)
		return err
	})
	if err != nil {
		return Dashboard{}, err
	}
	n := int((d.To.Sub(d.From) + d.Bucket - 1) / d.Bucket)
	d.tally(counts, n)
	d.Replies.N = replies.N
	if len(replies.Percentiles) == 2 {
		d.Replies.P50, d.Replies.P90 = replies.Percentiles[0], replies.Percentiles[1]
	}
	d.desks(desks, fails, changes, n, now())
	return d, nil
}

// tally fills the handoff figures from the store's counts, over n buckets.
// An end reason this build does not know is shown after the known ones.
func (d *Dashboard) tally(counts []baton.HandoffCount, n int) {
	order := Outcomes()
	rank := map[baton.EndReason]int{}
	for i, r := range order {
		rank[r] = i
	}
	for _, c := range counts {
		if _, ok := rank[c.EndReason]; !ok {
			rank[c.EndReason] = len(order)
			order = append(order, c.EndReason)
		}
	}
	per := make([][]int64, n)
	total := make([]int64, len(order))
	d.Buckets = make([]HandoffBucket, n)
	for i := range d.Buckets {
		b := &d.Buckets[i]
		b.Start = d.From.Add(time.Duration(i) * d.Bucket)
		b.End = earliest(b.Start.Add(d.Bucket), d.To)
		per[i] = make([]int64, len(order))
	}
	for _, c := range counts {
		if c.Bucket < 0 || c.Bucket >= n {
			continue // the store counts only the range: never
		}
		r, b := rank[c.EndReason], &d.Buckets[c.Bucket]
		per[c.Bucket][r] += c.N
		total[r] += c.N
		b.Total += c.N
		d.Total += c.N
		if c.Queued {
			d.Queued += c.N
		}
		if c.Queued && !c.Taken && c.EndReason == baton.CustomerClosed {
			b.Abandoned += c.N
			d.Abandoned += c.N
		}
		if !c.Taken && c.EndReason == baton.WaitTimeout {
			d.TimedOut += c.N
		}
	}
	for i := range d.Buckets {
		d.Buckets[i].Outcomes = nonzero(order, per[i])
	}
	d.Outcomes = nonzero(order, total)
}

// nonzero lists the counts by outcome that are not zero, in order.
func nonzero(order []baton.EndReason, by []int64) []OutcomeCount {
	var out []OutcomeCount
	for i, n := range by {
		if n > 0 {
			out = append(out, OutcomeCount{Reason: order[i], N: n})
		}
	}
	return out
}

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// desks fills the figures of each desk from its failures and changes.
func (d *Dashboard) desks(desks []baton.DeskConfig, fails []baton.DeskCount, changes []baton.DeskChange, n int, now time.Time) {
	byID := map[string]*DeskFigures{}
	d.Desks = make([]DeskFigures, len(desks))
	for i, dc := range desks {
		d.Desks[i] = DeskFigures{ID: dc.ID, Name: cmp.Or(dc.Name, dc.ID), Status: cmp.Or(dc.Status, baton.NotConfigured), Failures: make([]int64, n)}
		byID[dc.ID] = &d.Desks[i]
	}
	for _, f := range fails {
		if df := byID[f.DeskID]; df != nil && f.Bucket >= 0 && f.Bucket < n {
			df.Failures[f.Bucket] += f.N
			df.Failed += f.N
		}
	}
	end := earliest(d.To, now)
	if !end.After(d.From) {
		return // the range is all to come: no timeline yet
	}
	history := map[string][]baton.DeskChange{}
	for _, c := range changes {
		history[c.DeskID] = append(history[c.DeskID], c)
	}
	for i := range d.Desks {
		df := &d.Desks[i]
		hs := history[df.ID]
		if len(hs) == 0 {
			// No change recorded: the status it has now is the one it had.
			df.Timeline = []StatusSpan{{Status: df.Status, From: d.From, To: end}}
			continue
		}
		cur := StatusSpan{Status: baton.NotConfigured, From: d.From}
		for _, c := range hs {
			at := latest(c.At, d.From)
			if !at.Before(end) {
				break
			}
			if at.After(cur.From) {
				cur.To = at
				df.Timeline = append(df.Timeline, cur)
			}
			cur = StatusSpan{Status: c.Status, Error: c.Error, From: at}
		}
		cur.To = end
		df.Timeline = append(df.Timeline, cur)
	}
}
