package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/app"
	"github.com/batonhq/baton/engine"
	"github.com/batonhq/baton/outbox"
)

// downDesk answers every send with an outage (a 503 asking to wait
// retryAfter) while down, and records the sends it took and when each
// attempt came.
type downDesk struct {
	quickDesk
	retryAfter time.Duration
	down       atomic.Bool
	mu         sync.Mutex
	attempts   []time.Time
	sent       []string
}

func (d *downDesk) Send(_ context.Context, _ baton.Handle, m baton.Message) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.attempts = append(d.attempts, time.Now())
	if d.down.Load() {
		return &baton.DeskError{RetryAfter: d.retryAfter, Err: errors.New("503 Service Unavailable")}
	}
	d.sent = append(d.sent, m.Text)
	return nil
}

// TestDeskOutage: while the desk answers 503 with Retry-After, the desk's
// availability says unavailable with the error, no retry comes before the
// delay it asked for, and once it is back every message arrives in order
// and the desk is available again.
func TestDeskOutage(t *testing.T) {
	t.Parallel()
	eachOpener(t, func(t *testing.T, open func(*testing.T) baton.Store) {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			st := open(t)
			desk := &downDesk{retryAfter: 20 * time.Second}
			s := newStackOn(t, st, func(baton.DeskConfig) (baton.Desk, error) { return desk, nil }, nil)
			var wg sync.WaitGroup
			defer wg.Wait()
			defer cancel()
			wg.Go(func() { s.eng.Run(ctx) })
			h := s.create(t, "c")
			desk.down.Store(true)
			for _, text := range []string{"one", "two", "three"} {
				if _, err := s.eng.CustomerMessage(ctx, s.ws, h.ID, text, nil); err != nil {
					t.Fatal(err)
				}
			}
			time.Sleep(time.Second)
			synctest.Wait()
			a, err := s.eng.Availability(ctx, s.ws, engine.DeskQuery{}, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			if a.Status != baton.Unavailable || !strings.Contains(a.LastError, "503") {
				t.Fatalf("during the outage availability is %s %q, want unavailable with the error", a.Status, a.LastError)
			}
			time.Sleep(time.Minute)
			synctest.Wait()
			desk.down.Store(false)
			time.Sleep(time.Minute)
			synctest.Wait()
			desk.mu.Lock()
			sent, attempts := desk.sent, desk.attempts
			desk.mu.Unlock()
			if strings.Join(sent, ",") != "one,two,three" {
				t.Fatalf("the desk got %v, want one,two,three in order", sent)
			}
			if len(attempts) < 4 {
				t.Fatalf("%d attempts over the outage, want retries", len(attempts))
			}
			// Every attempt for "one" waited as asked; two and three follow it at once.
			for i := 1; i < len(attempts)-2; i++ {
				if gap := attempts[i].Sub(attempts[i-1]); gap < desk.retryAfter {
					t.Fatalf("attempt %d came %v after the one before, sooner than the Retry-After of %v", i, gap, desk.retryAfter)
				}
			}
			if a, _ := s.eng.Availability(ctx, s.ws, engine.DeskQuery{}, time.Time{}); a.Status != baton.Available || a.LastError != "" {
				t.Fatalf("after the outage availability is %s %q, want available", a.Status, a.LastError)
			}
			// The desk's history has every failed attempt, and its changes of
			// status: unavailable first, available last, each a change. (Calls
			// made at the instant the desk came back may end in either order.)
			q := baton.StatsQuery{WorkspaceID: s.ws, From: time.Unix(0, 0), To: time.Now().Add(time.Second)}
			q.Bucket = q.To.Sub(q.From)
			var fails []baton.DeskCount
			var changes []baton.DeskChange
			err = st.View(ctx, func(tx baton.Tx) (err error) {
				if fails, err = tx.DeskFailures(q); err != nil {
					return err
				}
				changes, err = tx.DeskChanges(q)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if want := []baton.DeskCount{{DeskID: s.desk, N: int64(len(attempts) - 3)}}; !slices.Equal(fails, want) {
				t.Fatalf("failed calls in the history: %+v, want %+v", fails, want)
			}
			if len(changes) < 2 || changes[0].Status != baton.Unavailable || !strings.Contains(changes[0].Error, "503") || changes[len(changes)-1].Status != baton.Available {
				t.Fatalf("status changes in the history: %+v, want unavailable (503) first, available last", changes)
			}
			for i := 1; i < len(changes); i++ {
				if changes[i].Status == changes[i-1].Status {
					t.Fatalf("status changes in the history: %+v, want each a change", changes)
				}
			}
		})
	})
}

// TestRetryAfterGivesUp: a desk that asks to retry later, for ever, is
// tried as many times as the schedule allows and no more.
func TestRetryAfterGivesUp(t *testing.T) {
	t.Parallel()
	eachOpener(t, func(t *testing.T, open func(*testing.T) baton.Store) {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			st := open(t)
			desk := &downDesk{retryAfter: time.Second}
			desk.down.Store(true)
			s := newStackOn(t, st, func(baton.DeskConfig) (baton.Desk, error) { return desk, nil }, nil)
			schedule := []time.Duration{0, time.Minute, time.Minute}
			s.eng = newNode(st, func(baton.DeskConfig) (baton.Desk, error) { return desk, nil }, outbox.Config{DeskSchedule: schedule})
			var wg sync.WaitGroup
			defer wg.Wait()
			defer cancel()
			wg.Go(func() { s.eng.Run(ctx) })
			h := s.create(t, "c")
			if _, err := s.eng.CustomerMessage(ctx, s.ws, h.ID, "hello?", nil); err != nil {
				t.Fatal(err)
			}
			time.Sleep(10 * time.Minute)
			synctest.Wait()
			desk.mu.Lock()
			n := len(desk.attempts)
			desk.mu.Unlock()
			if n != len(schedule) {
				t.Fatalf("%d attempts with Retry-After, want the schedule's %d", n, len(schedule))
			}
		})
	})
}

// TestUnstorableDeskRef: a desk that opens a handoff under a reference the
// store cannot keep (a NUL in it) ends the handoff desk_unavailable at once,
// on both stores, instead of retrying the open for ever.
func TestUnstorableDeskRef(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, st baton.Store) {
		desk := &quickDesk{ref: func(r baton.OpenRequest) string { return "chat\x00" + r.HandoffID }}
		s := newStackOn(t, st, func(baton.DeskConfig) (baton.Desk, error) { return desk, nil }, nil)
		h := s.create(t, "c")
		s.drain(t)
		if got := s.handoff(t, h.ID); got.State != baton.Ended || got.EndReason != baton.DeskUnavailable {
			t.Fatalf("handoff %s %s, want ended desk_unavailable", got.State, got.EndReason)
		}
	})
}

// openFailDesk fails its first fails opens with err.
type openFailDesk struct {
	quickDesk
	err   error
	fails atomic.Int32
}

func (d *openFailDesk) Open(ctx context.Context, r baton.OpenRequest) (baton.Handle, error) {
	if d.fails.Add(-1) >= 0 {
		return baton.Handle{}, d.err
	}
	return d.quickDesk.Open(ctx, r)
}

// TestOpenRetryTold: an open the desk refuses for a reason that may pass
// (a 503) is retried up to Config.OpenAttempts times, and the bot hears of
// each failed attempt (handoff.opening_retry, with the attempt, when the
// next runs and the desk's error); a busy answer ends the handoff
// desk_unavailable at once, with no retry event.
func TestOpenRetryTold(t *testing.T) {
	t.Parallel()
	outage := &baton.DeskError{RetryAfter: 7 * time.Second, Err: errors.New("POST /conversation/establish: HTTP 503")}
	busy := &baton.DeskError{Busy: true, Err: errors.New("POST /conversation/establish: HTTP 409")}
	for _, c := range []struct {
		name  string
		err   error
		fails int32
		want  []string
		end   baton.EndReason
	}{
		{"recovers", outage, 2, []string{baton.EventOpeningRetry, baton.EventOpeningRetry, baton.EventQueued}, ""},
		{"gives up", outage, 100, []string{baton.EventOpeningRetry, baton.EventOpeningRetry, baton.EventOpeningRetry,
			baton.EventOpeningRetry, baton.EventOpeningRetry, baton.EventEnded}, baton.DeskUnavailable},
		{"busy", busy, 100, []string{baton.EventEnded}, baton.DeskUnavailable},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			eachOpener(t, func(t *testing.T, open func(*testing.T) baton.Store) {
				synctest.Test(t, func(t *testing.T) {
					ctx, cancel := context.WithCancel(context.Background())
					st := open(t)
					desk := &openFailDesk{err: c.err}
					desk.fails.Store(c.fails)
					s := newStackOn(t, st, func(baton.DeskConfig) (baton.Desk, error) { return desk, nil }, nil)
					var wg sync.WaitGroup
					defer wg.Wait()
					defer cancel()
					wg.Go(func() { s.eng.Run(ctx) })
					start := time.Now()
					h := s.create(t, "c")
					time.Sleep(time.Minute) // six attempts 7 s apart, before the wait timeout
					synctest.Wait()
					evs := s.events(t)
					if got := types(evs); !slices.Equal(got, c.want) {
						t.Fatalf("events %v, want %v", got, c.want)
					}
					for i, ev := range evs {
						if ev.Type != baton.EventOpeningRetry {
							continue
						}
						var d baton.OpeningRetryData
						if err := json.Unmarshal(ev.Data, &d); err != nil {
							t.Fatal(err)
						}
						// Attempt i+1 failed at about start+7s*i and asked for 7 s.
						next := start.Add(time.Duration(i+1) * 7 * time.Second)
						if d.Attempt != i+1 || d.Attempts != 6 || d.LastError != c.err.Error() || d.State != baton.Requested ||
							d.NextRetryAt.Sub(next).Abs() > time.Second {
							t.Fatalf("event %d: %+v, want attempt %d of 6, next at %v, the desk's error", i, d, i+1, next.UTC())
						}
					}
					if got := s.handoff(t, h.ID); got.EndReason != c.end {
						t.Fatalf("handoff %s %s, want end reason %q", got.State, got.EndReason, c.end)
					}
				})
			})
		})
	}
}

// statusDesk fails its checks with checkErr and its opens with openErr,
// while they are set.
type statusDesk struct {
	quickDesk
	checkErr, openErr atomic.Pointer[baton.DeskError]
}

func (d *statusDesk) Check(context.Context) error {
	if e := d.checkErr.Load(); e != nil {
		return e
	}
	return nil
}

func (d *statusDesk) Open(ctx context.Context, r baton.OpenRequest) (baton.Handle, error) {
	if e := d.openErr.Load(); e != nil {
		return baton.Handle{}, e
	}
	return d.quickDesk.Open(ctx, r)
}

// TestDeskStatusCurrent: a desk's status follows the desk with no handoff
// to show it, through the periodic check (app.Params.CheckEvery), and
// follows every call's outcome: a desk whose adapter does not build is
// unavailable when an open finds it so, and one that answers busy is up.
func TestDeskStatusCurrent(t *testing.T) {
	t.Parallel()
	down := &baton.DeskError{Err: errors.New("dial tcp: connection refused")}
	status := func(t *testing.T, s *stack, want baton.DeskStatus, with string) {
		t.Helper()
		a, err := s.eng.Availability(context.Background(), s.ws, engine.DeskQuery{}, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if a.Status != want || !strings.Contains(a.LastError, with) {
			t.Fatalf("availability %s %q, want %s with %q", a.Status, a.LastError, want, with)
		}
	}
	eachOpener(t, func(t *testing.T, open func(*testing.T) baton.Store) {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			st := open(t)
			desk := &statusDesk{}
			var broken atomic.Bool
			desks := func(baton.DeskConfig) (baton.Desk, error) {
				if broken.Load() {
					return nil, baton.FieldErrorf("url", "required")
				}
				return desk, nil
			}
			s := newStackOn(t, st, desks, nil)
			a := app.New(app.Params{Store: st, Desks: baton.DesksFunc(desks), CheckEvery: time.Minute})
			s.eng = node{Engine: a.Engine, app: a}
			var wg sync.WaitGroup
			defer wg.Wait()
			defer cancel()
			// Calls: an open that cannot build the desk marks it unavailable
			// at once; an answer, even busy, marks it available.
			h := s.create(t, "c")
			broken.Store(true)
			if _, err := s.eng.RunDue(ctx); err != nil {
				t.Fatal(err)
			}
			status(t, s, baton.Unavailable, "url")
			desk.openErr.Store(&baton.DeskError{Busy: true, Err: errors.New("HTTP 409")})
			broken.Store(false)
			time.Sleep(3 * time.Second) // the open's next attempt (2 s ± 10%)
			s.drain(t)
			status(t, s, baton.Available, "")
			if got := s.handoff(t, h.ID); got.EndReason != baton.DeskUnavailable {
				t.Fatalf("handoff %s %s, want ended desk_unavailable (busy)", got.State, got.EndReason)
			}

			// With no handoff, the periodic check follows every desk in the
			// store, also one no config file named (no CheckDesks call).
			desk.checkErr.Store(down)
			wg.Go(func() { s.eng.Run(ctx) })
			time.Sleep(time.Minute + time.Second)
			synctest.Wait()
			status(t, s, baton.Unavailable, "connection refused")
			desk.checkErr.Store(nil)
			time.Sleep(time.Minute + time.Second)
			synctest.Wait()
			status(t, s, baton.Available, "")
			desk.checkErr.Store(down)
			time.Sleep(time.Minute)
			synctest.Wait()
			status(t, s, baton.Unavailable, "connection refused")
		})
	})
}
