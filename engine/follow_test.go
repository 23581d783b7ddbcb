package engine_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/batonhq/baton"
)

// flakyDesk fails the first send of each text in fail (a 503 with a short
// Retry-After) and records every send it took, in the order it took them.
type flakyDesk struct {
	quickDesk
	mu   sync.Mutex
	fail map[string]bool
	sent []string
}

func (d *flakyDesk) Send(_ context.Context, _ baton.Handle, m baton.Message) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.fail[m.Text] {
		delete(d.fail, m.Text)
		return &baton.DeskError{RetryAfter: time.Second, Err: errors.New("503 Service Unavailable")}
	}
	d.sent = append(d.sent, m.Text)
	return nil
}

// TestFollowersKeepOrder: a busy conversation's queued messages are taken
// behind their lane's head and run one after another; when one of them
// fails, none after it goes before it, and each is sent once, in order.
func TestFollowersKeepOrder(t *testing.T) {
	t.Parallel()
	eachOpener(t, func(t *testing.T, open func(*testing.T) baton.Store) {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			st := open(t)
			desk := &flakyDesk{fail: map[string]bool{"m3": true, "m17": true, "m18": true}}
			s := newStackOn(t, st, func(baton.DeskConfig) (baton.Desk, error) { return desk, nil }, nil)
			h := s.create(t, "c")
			// Queued before the worker starts: its first claim finds the
			// lane full, and takes the head with the ones behind it.
			var want []string
			for i := range 40 {
				text := fmt.Sprint("m", i)
				want = append(want, text)
				if _, err := s.eng.CustomerMessage(ctx, s.ws, h.ID, text, nil); err != nil {
					t.Fatal(err)
				}
			}
			var wg sync.WaitGroup
			defer wg.Wait()
			defer cancel()
			wg.Go(func() { s.eng.Run(ctx) })
			time.Sleep(time.Minute)
			synctest.Wait()
			desk.mu.Lock()
			defer desk.mu.Unlock()
			if !slices.Equal(desk.sent, want) {
				t.Fatalf("the desk took %v, want m0 to m39 in order, each once", desk.sent)
			}
		})
	})
}
