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
	"github.com/batonhq/baton/outbox"
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

// blockedDesk holds every send until release is closed.
type blockedDesk struct {
	quickDesk
	release chan struct{}
}

func (d *blockedDesk) Send(ctx context.Context, _ baton.Handle, _ baton.Message) error {
	select {
	case <-d.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// TestLag: while the only worker is held by a slow desk call, a job due in
// another lane waits, and the worker's lag (baton_outbox_lag_seconds)
// grows with the wait; once the worker is free again it is back to zero.
func TestLag(t *testing.T) {
	t.Parallel()
	eachOpener(t, func(t *testing.T, open func(*testing.T) baton.Store) {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			st := open(t)
			desk := &blockedDesk{release: make(chan struct{})}
			desks := func(baton.DeskConfig) (baton.Desk, error) { return desk, nil }
			s := newStackOn(t, st, desks, nil)
			s.eng = newNode(st, desks, outbox.Config{Workers: 1})
			var wg sync.WaitGroup
			defer wg.Wait()
			defer cancel()
			wg.Go(func() { s.eng.Run(ctx) })
			one, two := s.create(t, "one"), s.create(t, "two")
			time.Sleep(time.Second)
			synctest.Wait()
			for _, h := range []baton.Handoff{one, two} {
				if _, err := s.eng.CustomerMessage(ctx, s.ws, h.ID, "hello", nil); err != nil {
					t.Fatal(err)
				}
			}
			time.Sleep(40 * time.Second)
			synctest.Wait()
			if lag := s.eng.app.Worker.Lag(); lag < 39*time.Second || lag > 41*time.Second {
				t.Fatalf("after 40 s with the only worker held, the lag is %v, want about 40 s", lag)
			}
			close(desk.release)
			time.Sleep(2 * time.Second)
			synctest.Wait()
			if lag := s.eng.app.Worker.Lag(); lag != 0 {
				t.Fatalf("with the worker free again, the lag is %v, want 0", lag)
			}
		})
	})
}
