package baton

import (
	"slices"
	"time"
)

// The queue: where a handoff waiting for a person stands among its desk's
// other waiting handoffs, and how long it may still wait. These are the
// rules alone; the store finds the queue (Tx.QueuedHandoffs,
// Tx.QueuePosition, Tx.RecentWaits) and the engine tells the bots.
//
// A handoff is in its desk's queue from the moment the desk has it (queued)
// until an agent takes it (joins or answers) or it ends. The queue's order
// is the order the handoffs entered it, QueuedAt then ID: keeping a handoff
// waiting after a wait timeout keeps its place. Its position is 1 for the
// next one, or the desk's own figure when the desk reports one
// (Handoff.DeskPosition: LiveChat gives it when it queues a chat). The
// estimate is the median of the desk's recent waits (the last WaitSamples
// handoffs an agent took within WaitWindow, from entering the queue to
// being taken) times the position; a desk with no such wait has none.

// The queue's bounds.
const (
	WaitSamples = 20             // the recent waits an estimate reads
	WaitWindow  = 24 * time.Hour // how old a wait may be to count
	// QueueUpdates is how many of a desk's queued handoffs, from the front,
	// are told that their position moved when a handoff enters or leaves
	// the queue: the work of one change is bounded. A handoff further back
	// is told when a later change finds it among them (and GET tells it
	// its position at any time).
	QueueUpdates = 50
)

// InQueue reports whether h waits in its desk's queue: the desk has it
// (queued) and no agent has taken it yet.
func (h Handoff) InQueue() bool { return h.State == Queued && h.TakenAt.IsZero() }

// QueueBefore reports whether a comes before b in their desk's queue: it
// entered first, or at the same instant with the smaller id.
func QueueBefore(a, b Handoff) bool {
	if !a.QueuedAt.Equal(b.QueuedAt) {
		return a.QueuedAt.Before(b.QueuedAt)
	}
	return a.ID < b.ID
}

// QueuePlace is where a handoff stands in its desk's queue.
type QueuePlace struct {
	Position int // 1 is next
	// Wait is the estimated wait, in whole seconds, when Estimated: a desk
	// with no recent wait to go by has no estimate.
	Wait      time.Duration
	Estimated bool
}

// WaitSeconds is the estimated wait in seconds, nil when there is none.
func (p QueuePlace) WaitSeconds() *int64 {
	if !p.Estimated {
		return nil
	}
	s := int64(p.Wait / time.Second)
	return &s
}

// QueuePlace is where h stands: rank is its position among the desk's queued
// handoffs (1 + how many come before it, QueueBefore), which the desk's own
// figure overrides when it gave one, and waits are the desk's recent waits
// (Tx.RecentWaits). ok is false when h is not in the queue.
func (h Handoff) QueuePlace(rank int, waits []time.Duration) (p QueuePlace, ok bool) {
	if !h.InQueue() {
		return QueuePlace{}, false
	}
	p.Position = max(rank, 1)
	if h.DeskPosition > 0 {
		p.Position = h.DeskPosition
	}
	p.Wait, p.Estimated = EstimateWait(waits, p.Position)
	return p, true
}

// EstimateWait estimates the wait of the handoff at position in a queue
// whose recent waits were waits: their median, once for each handoff up to
// and including it, in whole seconds. ok is false when there are no waits.
func EstimateWait(waits []time.Duration, position int) (wait time.Duration, ok bool) {
	if len(waits) == 0 {
		return 0, false
	}
	m := MedianWait(waits) * time.Duration(max(position, 1))
	return m.Truncate(time.Second), true
}

// MedianWait is the median of waits (the mean of the middle two for an
// even count), 0 for none. A negative wait (clocks of two instances apart)
// counts as 0.
func MedianWait(waits []time.Duration) time.Duration {
	if len(waits) == 0 {
		return 0
	}
	w := make([]time.Duration, len(waits))
	for i, d := range waits {
		w[i] = max(d, 0)
	}
	slices.Sort(w)
	n := len(w)
	if n%2 == 1 {
		return w[n/2]
	}
	return w[n/2-1] + (w[n/2]-w[n/2-1])/2
}

// QueueUpdate is the handoff.queue_updated event telling h's bot where h
// now stands.
func (h Handoff) QueueUpdate(p QueuePlace) EventData {
	return h.event(QueueUpdatedData{DeskID: h.DeskID, Position: p.Position, EstimatedWaitSeconds: p.WaitSeconds()})
}

// DeskPlaced records the desk's own figure for h's place in its queue
// (position 1 is next; 0 means the desk gave none, which changes nothing).
// The figure stands until the desk reports another. The effects say
// whether the bot is to be told: h waits in the queue and the figure is new.
func (h *Handoff) DeskPlaced(position int) Effects {
	if position <= 0 || position == h.DeskPosition || !h.Open() || h.NeedsEmail || !h.TakenAt.IsZero() {
		return Effects{}
	}
	h.DeskPosition = position
	return Effects{Placed: h.InQueue()}
}
