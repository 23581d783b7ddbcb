package engine

import (
	"slices"
	"time"

	"github.com/batonhq/baton"
)

// The queue (see the root package's queue.go for its rules). A handoff
// stands in its desk's queue from queued until an agent takes it or it
// ends; the engine's reads say where (Handoff.Place), and its writes tell
// the bots of the handoffs whose position moved, in the transaction that
// moved them, with handoff.queue_updated:
//
//   - save notes each handoff whose transition moves its desk's queue
//     (Effects.Queue: it entered the queue, or left it: taken, ended,
//     transferred). Once the write's work is done, tellQueues locks each
//     queue the write moved (Tx.LockQueue, so that two writes at one desk
//     tell one after the other and each sees the other's change), reads
//     its front, works out where the front stood before this write's
//     changes (the handoffs that left put back, those that entered taken
//     out) and tells the first baton.QueueUpdates handoffs whose position
//     differs. A handoff that entered in this write is not told (its bot
//     has handoff.queued, and reads its place with the handoff), nor is one
//     whose place is the desk's own figure, which others do not move.
//   - a desk's new figure for a handoff (Effects.Placed) is told to its bot
//     at once.
//
// The estimate an event carries is the one of that moment; a change of
// the estimate alone (a new wait at the desk, with no position moving) is
// not told. The queue is locked at the end of the write, when the write
// has written its own events (and so holds its workspace's event counter):
// a transaction never holds a queue while it waits for a workspace.

// maxPlaced is how many of a desk's queue one read ranks at once; a
// handoff further back is counted on its own.
const maxPlaced = 1000

// recentWaits reads the waits a desk's estimates go by.
func recentWaits(tx baton.Tx, desk string) ([]time.Duration, error) {
	return tx.RecentWaits(desk, now().Add(-baton.WaitWindow), baton.WaitSamples)
}

// place sets where each of hs stands in its desk's queue (Handoff.Place),
// as tx sees the queues: nil for those not in one.
func place(tx baton.Tx, hs []baton.Handoff) error {
	byDesk := map[string][]int{}
	for i := range hs {
		hs[i].Place = nil
		if hs[i].InQueue() {
			byDesk[hs[i].DeskID] = append(byDesk[hs[i].DeskID], i)
		}
	}
	for desk, idx := range byDesk {
		waits, err := recentWaits(tx, desk)
		if err != nil {
			return err
		}
		ranks := map[string]int{}
		if len(idx) > 1 {
			q, err := tx.QueuedHandoffs(desk, maxPlaced)
			if err != nil {
				return err
			}
			for j, h := range q {
				ranks[h.ID] = j + 1
			}
		}
		for _, i := range idx {
			rank, ok := ranks[hs[i].ID]
			if !ok && hs[i].DeskPosition == 0 {
				if rank, err = tx.QueuePosition(hs[i]); err != nil {
					return err
				}
			}
			p, _ := hs[i].QueuePlace(rank, waits)
			hs[i].Place = &p
		}
	}
	return nil
}

// placeOne is place for one handoff.
func placeOne(tx baton.Tx, h *baton.Handoff) error {
	hs := []baton.Handoff{*h}
	if err := place(tx, hs); err != nil {
		return err
	}
	*h = hs[0]
	return nil
}

// queueMoves are the handoffs a write moved into or out of one desk's queue.
type queueMoves struct {
	entered map[string]bool          // by id
	left    map[string]baton.Handoff // by id, as saved: their place in the queue (QueuedAt, ID) is the one they left
}

// moveQueue notes that h, just saved, entered or left its desk's queue.
func (t *wtx) moveQueue(h baton.Handoff) {
	m, ok := t.queues[h.DeskID]
	if !ok {
		if t.queues == nil {
			t.queues = map[string]*queueMoves{}
		}
		m = &queueMoves{entered: map[string]bool{}, left: map[string]baton.Handoff{}}
		t.queues[h.DeskID] = m
		t.watched = append(t.watched, h.DeskID)
	}
	switch {
	case h.InQueue():
		m.entered[h.ID] = true
	case m.entered[h.ID]:
		delete(m.entered, h.ID) // in and out within this write: nobody moved
	default:
		m.left[h.ID] = h
	}
}

// tellQueues tells the bots of the handoffs at the front of each queue the
// write moved whose position changed (see the top of this file).
func (e *Engine) tellQueues(t *wtx) error {
	for _, desk := range t.watched {
		m := t.queues[desk]
		if err := t.LockQueue(desk); err != nil {
			return err
		}
		q, err := t.QueuedHandoffs(desk, baton.QueueUpdates+1)
		if err != nil {
			return err
		}
		// The front as it was: without those that entered, with those that
		// left. One that left from further back than q reaches does not
		// move any handoff of q.
		var before []baton.Handoff
		for _, h := range q {
			if !m.entered[h.ID] {
				before = append(before, h)
			}
		}
		for _, h := range m.left {
			before = append(before, h)
		}
		slices.SortFunc(before, func(a, b baton.Handoff) int {
			if baton.QueueBefore(a, b) {
				return -1
			}
			return 1
		})
		was := make(map[string]int, len(before))
		for i, h := range before {
			p, _ := h.QueuePlace(i+1, nil)
			was[h.ID] = p.Position
		}
		var waits []time.Duration
		read := false
		for i, h := range q[:min(len(q), baton.QueueUpdates)] {
			if p, _ := h.QueuePlace(i+1, nil); m.entered[h.ID] || p.Position == was[h.ID] {
				continue
			}
			if !read {
				if waits, err = recentWaits(t, desk); err != nil {
					return err
				}
				read = true
			}
			p, _ := h.QueuePlace(i+1, waits)
			if err := e.tell(t, h.WorkspaceID, h.BotID, h.ConversationID, h.QueueUpdate(p)); err != nil {
				return err
			}
		}
	}
	t.queues, t.watched = nil, nil
	return nil
}

// tellPlace tells h's bot the desk's new figure for h's place.
func (e *Engine) tellPlace(t *wtx, h baton.Handoff) error {
	waits, err := recentWaits(t, h.DeskID)
	if err != nil {
		return err
	}
	p, ok := h.QueuePlace(0, waits)
	if !ok {
		return nil
	}
	return e.tell(t, h.WorkspaceID, h.BotID, h.ConversationID, h.QueueUpdate(p))
}
