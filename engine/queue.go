package engine

import (
	"time"

	"github.com/batonhq/baton"
)

// The queue (see the root package's queue.go for its rules). A handoff
// stands in its desk's queue from queued until an agent takes it or it
// ends; the engine's reads say where (Handoff.Place), and its writes tell
// the bots of the handoffs whose position moved, in the transaction that
// moved them, with handoff.queue_updated:
//
//   - a write whose transition moves a desk's queue (Effects.Queue: a
//     handoff entered it, or left it: taken, ended, transferred) first
//     locks that queue (Tx.LockQueue, so that two such writes at one desk
//     run one after the other and each sees the other's change) and notes
//     the positions of its first baton.QueueUpdates+1 handoffs; once the
//     write's work is done, the first baton.QueueUpdates handoffs of the
//     queue whose position differs from the noted one are told it. A
//     handoff that entered in this write is not told (its bot has
//     handoff.queued, and reads its place with the handoff), nor is one
//     whose place is the desk's own figure, which others do not move.
//   - a desk's new figure for a handoff (Effects.Placed) is told to its bot
//     at once.
//
// The estimate an event carries is the one of that moment; a change of
// the estimate alone (a new wait at the desk, with no position moving) is
// not told.

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

// watchQueue locks the queue of desk for this write and notes where its
// front stands, before the write's first change there; later calls for the
// same desk do nothing.
func (t *wtx) watchQueue(desk string) error {
	if _, ok := t.queues[desk]; ok {
		return nil
	}
	if err := t.LockQueue(desk); err != nil {
		return err
	}
	q, err := t.QueuedHandoffs(desk, baton.QueueUpdates+1)
	if err != nil {
		return err
	}
	before := make(map[string]int, len(q))
	for i, h := range q {
		p, _ := h.QueuePlace(i+1, nil)
		before[h.ID] = p.Position
	}
	if t.queues == nil {
		t.queues = map[string]map[string]int{}
	}
	t.queues[desk] = before
	t.watched = append(t.watched, desk)
	return nil
}

// tellQueues tells the bots of the handoffs at the front of each queue the
// write moved whose position changed (see the top of this file).
func (e *Engine) tellQueues(t *wtx) error {
	for _, desk := range t.watched {
		before := t.queues[desk]
		q, err := t.QueuedHandoffs(desk, baton.QueueUpdates)
		if err != nil {
			return err
		}
		var waits []time.Duration
		read := false
		for i, h := range q {
			was, ok := before[h.ID]
			if p, _ := h.QueuePlace(i+1, nil); !ok || p.Position == was {
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
	if before, watched := t.queues[h.DeskID]; watched {
		if _, ok := before[h.ID]; ok {
			before[h.ID] = p.Position // told now: not again at the end of the write
		}
	}
	return e.tell(t, h.WorkspaceID, h.BotID, h.ConversationID, h.QueueUpdate(p))
}
