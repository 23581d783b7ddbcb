package engine_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/batonhq/baton"
)

// recordingDesk records what Baton asks of it. When hold is set, Open says
// so on entered and waits for hold to be closed.
type recordingDesk struct {
	hold, entered chan struct{}

	mu     sync.Mutex
	opened []baton.OpenRequest
	sent   []string
	closes int
}

func (d *recordingDesk) Capabilities() baton.Capabilities { return baton.Capabilities{} }
func (d *recordingDesk) Check(context.Context) error      { return nil }
func (d *recordingDesk) Open(_ context.Context, r baton.OpenRequest) (baton.Handle, error) {
	if d.hold != nil {
		d.entered <- struct{}{}
		<-d.hold
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.opened = append(d.opened, r)
	return baton.Handle{Ref: "chat-" + r.HandoffID}, nil
}
func (d *recordingDesk) Send(_ context.Context, _ baton.Handle, m baton.Message) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.sent = append(d.sent, m.Text)
	return nil
}
func (d *recordingDesk) Close(context.Context, baton.Handle, baton.EndReason) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closes++
	return nil
}
func (d *recordingDesk) Inbound(context.Context, string, http.Header, []byte) ([]baton.DeskEvent, error) {
	return nil, nil
}

func texts(ms []baton.Message) (out []string) {
	for _, m := range ms {
		out = append(out, m.Text)
	}
	return out
}

// TestBriefWhileOpening: a customer message written before the desk opened
// the handoff is relayed after the open, not put into the history the desk
// is given, and the question is not given twice.
func TestBriefWhileOpening(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, st baton.Store) {
		ctx := context.Background()
		desk := &recordingDesk{}
		s := newStackOn(t, st, func(baton.DeskConfig) (baton.Desk, error) { return desk, nil }, nil)
		h := s.create(t, "a")
		if _, err := s.eng.CustomerMessage(ctx, s.ws, h.ID, "are you there?", nil); err != nil {
			t.Fatal(err)
		}
		s.drain(t)
		desk.mu.Lock()
		defer desk.mu.Unlock()
		if len(desk.opened) != 1 {
			t.Fatalf("%d opens", len(desk.opened))
		}
		r := desk.opened[0]
		if got := texts(r.History); !slices.Equal(got, []string{"hi", "hello"}) || r.Question != "I need a human" {
			t.Errorf("the desk was given history %q and question %q", got, r.Question)
		}
		if !slices.Equal(desk.sent, []string{"are you there?"}) {
			t.Errorf("relayed %q", desk.sent)
		}
	})
}

// TestCloseOnceWhenEndedOpening: a handoff the bot ends while its desk is
// still opening it is closed in the desk once, when the open returns.
func TestCloseOnceWhenEndedOpening(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, st baton.Store) {
		ctx := context.Background()
		desk := &recordingDesk{hold: make(chan struct{}), entered: make(chan struct{}, 1)}
		s := newStackOn(t, st, func(baton.DeskConfig) (baton.Desk, error) { return desk, nil }, nil)
		h := s.create(t, "a")
		done := make(chan error, 1)
		go func() { _, err := s.eng.RunDue(ctx); done <- err }() // the open, held in the desk
		<-desk.entered
		if _, err := s.eng.End(ctx, s.ws, h.ID, baton.BotClosed); err != nil {
			t.Fatal(err)
		}
		close(desk.hold)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		s.drain(t)
		desk.mu.Lock()
		defer desk.mu.Unlock()
		if len(desk.opened) != 1 || desk.closes != 1 {
			t.Errorf("%d opens and %d closes; want the ended handoff closed once", len(desk.opened), desk.closes)
		}
	})
}

// TestUnbuildableDeskKeepsMessages: a desk whose settings stop building
// (changed to something wrong) shows as unavailable, and the customer
// messages for it wait, retried, until it builds again; none is dropped.
func TestUnbuildableDeskKeepsMessages(t *testing.T) {
	t.Parallel()
	eachOpener(t, func(t *testing.T, open func(*testing.T) baton.Store) {
		synctest.Test(t, func(t *testing.T) {
			ctx := context.Background()
			desk := &recordingDesk{}
			var broken atomic.Bool
			s := newStackOn(t, open(t), func(baton.DeskConfig) (baton.Desk, error) {
				if broken.Load() {
					return nil, baton.FieldErrorf("settings.url", "not a URL: %w", errors.New("missing protocol scheme"))
				}
				return desk, nil
			}, nil)
			runWorker(t, s)
			h := s.create(t, "a")
			time.Sleep(time.Second)
			synctest.Wait()
			broken.Store(true)
			if _, err := s.eng.CustomerMessage(ctx, s.ws, h.ID, "hello?", nil); err != nil {
				t.Fatal(err)
			}
			time.Sleep(10 * time.Second)
			synctest.Wait()
			if dc, _ := s.eng.Desk(ctx, s.ws, s.desk); dc.Status != baton.Unavailable {
				t.Errorf("desk status %s while it cannot be built", dc.Status)
			}
			broken.Store(false)
			time.Sleep(time.Minute)
			synctest.Wait()
			desk.mu.Lock()
			defer desk.mu.Unlock()
			if !slices.Equal(desk.sent, []string{"hello?"}) {
				t.Errorf("relayed %q once the desk built again; want the message kept", desk.sent)
			}
		})
	})
}
