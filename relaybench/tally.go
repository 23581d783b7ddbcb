package relaybench

import (
	"strings"
	"sync"
	"time"
)

// tally is a desk whose arrivals are read by scanning the far side: scan
// calls add for every message there, the bench's ids among them.
type tally struct {
	scan func(add func(text string, at time.Time))

	mu  sync.Mutex
	at  map[string]time.Time
	dup int
}

func (d *tally) count() int {
	at, dup := map[string]time.Time{}, 0
	d.scan(func(text string, t time.Time) {
		if !strings.HasPrefix(text, "m") {
			return
		}
		if _, seen := at[text]; seen {
			dup++
		} else {
			at[text] = t
		}
	})
	d.mu.Lock()
	defer d.mu.Unlock()
	d.at, d.dup = at, dup
	return len(at)
}

func (d *tally) arrived(id string) (time.Time, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	t, ok := d.at[id]
	return t, ok
}

func (d *tally) duplicates() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.dup
}
