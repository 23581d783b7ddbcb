package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/inbox"
	"github.com/batonhq/baton/outbox"
	"github.com/batonhq/baton/stdwebhook"
)

// hangDesk's Send blocks until released, as a desk that hangs mid-call.
type hangDesk struct {
	quickDesk
	entered chan string   // a message id each time Send starts
	release chan struct{} // closed to let every Send return
}

func (d *hangDesk) Send(ctx context.Context, _ baton.Handle, m baton.Message) error {
	d.entered <- m.ID
	<-d.release
	return nil
}

// cutOff is a store that fails every transaction once cut: an instance that
// has died, or lost the database, while its job was running.
type cutOff struct {
	baton.Store
	cut atomic.Bool
}

var errGone = errors.New("instance gone")

func (s *cutOff) Tx(ctx context.Context, fn func(baton.Tx) error) error {
	if s.cut.Load() {
		return errGone
	}
	return s.Store.Tx(ctx, fn)
}

func (s *cutOff) View(ctx context.Context, fn func(baton.Tx) error) error {
	if s.cut.Load() {
		return errGone
	}
	return s.Store.View(ctx, fn)
}

// TestLeaseHeartbeat runs two engines on one store. While the first runs a
// delivery that takes many leases, it renews its lease and the second never
// runs the same job; once the first stops renewing (it died), the second
// takes the job over within a lease.
func TestLeaseHeartbeat(t *testing.T) {
	t.Parallel()
	const lease, poll = 3 * time.Second, 200 * time.Millisecond
	eachOpener(t, func(t *testing.T, open func(*testing.T) baton.Store) {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			st := &cutOff{Store: open(t)}
			a := &hangDesk{entered: make(chan string, 10), release: make(chan struct{})}
			b := &hangDesk{entered: make(chan string, 10), release: make(chan struct{})}
			close(b.release)
			s := newStackOn(t, st, func(baton.DeskConfig) (baton.Desk, error) { return a, nil }, nil)
			engA := newNode(st, func(baton.DeskConfig) (baton.Desk, error) { return a, nil }, outbox.Config{Lease: lease, Poll: poll})
			engB := newNode(st.Store, func(baton.DeskConfig) (baton.Desk, error) { return b, nil }, outbox.Config{Lease: lease, Poll: poll})
			var wg sync.WaitGroup
			defer wg.Wait()
			defer cancel()
			defer close(a.release)
			wg.Go(func() { engA.Run(ctx) })

			h, _, err := engA.CreateHandoff(ctx, s.ws, baton.CreateRequest{ExternalID: "c", Customer: baton.Customer{ID: "u"}, Question: "hi"})
			if err != nil {
				t.Fatal(err)
			}
			m, err := engA.CustomerMessage(ctx, s.ws, h.ID, "are you there?", nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := <-a.entered; got != m.ID {
				t.Fatalf("instance A sends %s, want %s", got, m.ID)
			}
			wg.Go(func() { engB.Run(ctx) })
			time.Sleep(10 * lease)
			synctest.Wait()
			select {
			case id := <-b.entered:
				t.Fatalf("instance B sent %s while A was alive and renewing its lease", id)
			default:
			}
			st.cut.Store(true) // A dies with the send in flight
			start := time.Now()
			select {
			case id := <-b.entered:
				if id != m.ID {
					t.Fatalf("instance B sent %s, want %s", id, m.ID)
				}
				if waited := time.Since(start); waited > lease+poll {
					t.Fatalf("B took the job over after %v, want within a lease (%v)", waited, lease)
				}
			case <-time.After(10 * lease):
				t.Fatal("B never took over the dead instance's job")
			}
		})
	})
}

// flakyBot is a bot webhook endpoint that answers 503 until it is up, and
// records the event types it took.
type flakyBot struct {
	up  atomic.Bool
	mu  sync.Mutex
	got []string
	at  []time.Time
}

func (b *flakyBot) RoundTrip(r *http.Request) (*http.Response, error) {
	body, _ := io.ReadAll(r.Body)
	status := http.StatusServiceUnavailable
	if b.up.Load() {
		status = http.StatusOK
		var env struct{ Type string }
		if err := json.Unmarshal(body, &env); err != nil {
			return nil, err
		}
		b.mu.Lock()
		b.got, b.at = append(b.got, env.Type), append(b.at, time.Now())
		b.mu.Unlock()
	}
	return &http.Response{StatusCode: status, Body: io.NopCloser(strings.NewReader("")), Header: http.Header{}, Request: r}, nil
}

// TestWaitGraceAfterDelivery: while the bot's endpoint is down, the
// wait-timeout event cannot reach it, and the handoff must not end
// wait_timeout before the bot had the event and its grace to answer.
func TestWaitGraceAfterDelivery(t *testing.T) {
	t.Parallel()
	eachOpener(t, func(t *testing.T, open func(*testing.T) baton.Store) {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			st := open(t)
			bot := &flakyBot{}
			pol := &baton.Policy{WaitTimeout: baton.Duration(time.Minute), WaitGrace: baton.Duration(time.Minute), SessionTimeout: baton.Duration(time.Hour), IdleExpiry: baton.Duration(time.Hour)}
			s := newStackOn(t, st, nil, pol)
			if err := st.Tx(ctx, func(tx baton.Tx) error {
				return tx.PutBot(baton.Bot{ID: s.bot, WorkspaceID: s.ws, Name: "Bot", DeskID: s.desk, WebhookURL: "http://bot.example/hook", WebhookSecret: stdwebhook.NewSecret()})
			}); err != nil {
				t.Fatal(err)
			}
			s.eng = newNode(st, func(d baton.DeskConfig) (baton.Desk, error) { return inbox.New(d) }, outbox.Config{Client: &http.Client{Transport: bot}, BotSchedule: everyTenSeconds()})
			var wg sync.WaitGroup
			defer wg.Wait()
			defer cancel()
			wg.Go(func() { s.eng.Run(ctx) })
			h := s.create(t, "c")
			time.Sleep(4 * time.Minute) // wait timeout at 1 min, the bot down all along
			synctest.Wait()
			if got := s.handoff(t, h.ID); got.State != baton.Queued {
				t.Fatalf("with the bot unreachable the handoff is %s %s; want queued until the bot is told", got.State, got.EndReason)
			}
			bot.up.Store(true)
			time.Sleep(15 * time.Second) // the next retry delivers
			synctest.Wait()
			bot.mu.Lock()
			told := -1
			for i, typ := range bot.got {
				if typ == baton.EventWaitTimeout {
					told = i
				}
			}
			if told < 0 {
				bot.mu.Unlock()
				t.Fatalf("the bot never got the wait timeout: %v", bot.got)
			}
			toldAt := bot.at[told]
			bot.mu.Unlock()
			time.Sleep(toldAt.Add(50 * time.Second).Sub(time.Now()))
			synctest.Wait()
			if got := s.handoff(t, h.ID); got.State != baton.Queued {
				t.Fatalf("50 s after the bot was told: %s %s, want still queued (grace 60 s)", got.State, got.EndReason)
			}
			time.Sleep(15 * time.Second)
			synctest.Wait()
			if got := s.handoff(t, h.ID); got.State != baton.Ended || got.EndReason != baton.WaitTimeout {
				t.Fatalf("65 s after the bot was told: %s %s, want ended wait_timeout", got.State, got.EndReason)
			}
		})
	})
}

func everyTenSeconds() []time.Duration {
	s := make([]time.Duration, 100)
	for i := range s {
		s[i] = 10 * time.Second
	}
	return s
}
