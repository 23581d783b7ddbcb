package sqlstore

import (
	"context"

	"github.com/batonhq/baton"
)

// FailCommit makes every grouped commit after it call f, and roll back with
// f's error instead of committing when that is not nil.
func (s *Store) FailCommit(f func() error) { s.failCommit = f }

// Outcome is how one function of RunBatch went.
type Outcome struct {
	Err      error
	Panicked bool
	Panic    any
}

// RunBatch runs fns as one batch of a group writer (in one transaction,
// each under its savepoint), then the batches of their retries the way a
// writer does, and returns how each went.
func (s *Store) RunBatch(ctx context.Context, fns ...func(baton.Tx) error) []Outcome {
	out := make([]Outcome, len(fns))
	batch := make([]call, len(fns))
	idx := map[chan outcome]int{}
	for i, fn := range fns {
		batch[i] = call{ctx: ctx, fn: fn, done: make(chan outcome, 1)}
		idx[batch[i].done] = i
	}
	for len(batch) > 0 {
		again := s.commitGroup(batch)
		for _, c := range batch {
			select {
			case o := <-c.done:
				out[idx[c.done]] = Outcome{Err: o.err, Panicked: o.panicked, Panic: o.panic}
			default: // to run again
			}
		}
		batch = again
	}
	return out
}
