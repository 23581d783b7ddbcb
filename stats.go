package baton

import "time"

// The dashboard's figures come from the store in a few aggregate reads
// (Tx.HandoffCounts, Tx.ReplyTimes, Tx.DeskFailures, Tx.DeskChanges), each
// for one workspace over a range of time cut into buckets. The handoffs
// they count are those created in the range, whatever became of them
// since: one cohort for every handoff figure, so that the figures of one
// range add up.

// DeskHistoryKept is how long a desk's history (its status changes and
// failed calls) is kept: older rows are pruned as new ones are written,
// except each desk's latest status change before then, which says what its
// status was then.
const DeskHistoryKept = 90 * 24 * time.Hour

// StatsQuery asks for one workspace's figures over [From, To), counted in
// buckets of Bucket starting at From: bucket i is [From+i·Bucket,
// From+(i+1)·Bucket).
type StatsQuery struct {
	WorkspaceID string
	DeskID      string // only this desk's handoffs and history; "" for every desk
	From, To    time.Time
	Bucket      time.Duration
}

// HandoffCount is how many handoffs created in one bucket share an outcome.
type HandoffCount struct {
	Bucket    int
	EndReason EndReason // "" while the handoff is open
	Queued    bool      // it reached its desk's queue (QueuedAt set)
	Taken     bool      // an agent took it (TakenAt set)
	N         int64
}

// ReplyTimes is the distribution of the time from queue to first agent
// reply (ActiveAt − QueuedAt) of the handoffs created in a range that had
// one.
type ReplyTimes struct {
	N int64 // how many handoffs had a first agent reply
	// Percentiles has one duration per fraction asked for, by the
	// nearest-rank method: the smallest time that at least that fraction of
	// the N times are no longer than. Empty when N is 0.
	Percentiles []time.Duration
}

// DeskFailure is one failed call to a desk, for its history.
type DeskFailure struct {
	WorkspaceID string
	DeskID      string
	Op          string // the call: open, send, close, reply, groups, transfer
	Error       string
	At          time.Time
}

// DeskCount is how many calls to one desk failed in one bucket.
type DeskCount struct {
	DeskID string
	Bucket int
	N      int64
}

// DeskChange is a change of a desk's service status.
type DeskChange struct {
	DeskID string
	Status DeskStatus
	Error  string
	At     time.Time
}
