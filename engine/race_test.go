package engine_test

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/engine"
	"github.com/batonhq/baton/postgres"
	"github.com/batonhq/baton/postgres/pgtest"
	"github.com/batonhq/baton/sqlite"
)

// eachStore runs test on a fresh SQLite store and a fresh PostgreSQL one.
// The races below are the ones PostgreSQL's READ COMMITTED lets through and
// SQLite's single writer serialises, so the PostgreSQL half is the one that
// matters; SQLite's proves the same code is right there too.
func eachStore(t *testing.T, test func(t *testing.T, st baton.Store)) {
	eachOpener(t, func(t *testing.T, open func(*testing.T) baton.Store) { test(t, open(t)) })
}

// eachOpener is eachStore for tests that must open the store themselves
// (inside a synctest bubble, so that its goroutines belong to it). open
// returns the store, closed when the test ends.
func eachOpener(t *testing.T, test func(t *testing.T, open func(*testing.T) baton.Store)) {
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		test(t, func(t *testing.T) baton.Store {
			st, err := sqlite.Open(context.Background(), filepath.Join(dir, "baton.db"), testKey)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		})
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		url := pgtest.Migrated(t)
		test(t, func(t *testing.T) baton.Store {
			st, err := postgres.Open(context.Background(), url, testKey)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		})
	})
}

// together runs fn n times at once and returns the results in call order.
func together[T any](n int, fn func(i int) (T, error)) ([]T, []error) {
	out, errs := make([]T, n), make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			out[i], errs[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return out, errs
}

// TestRaceIdempotencyKey sends one request with one Idempotency-Key several
// times at once: it must take effect once, and every copy must answer with
// the one object it made.
func TestRaceIdempotencyKey(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, st baton.Store) {
		s := newStackOn(t, st, nil, nil)
		ctx := context.Background()
		for round := range 15 {
			conv := fmt.Sprint("conv-", round)
			kctx := engine.WithIdempotency(ctx, "create-"+conv, "same request")
			hs, errs := together(4, func(int) (baton.Handoff, error) {
				h, _, err := s.eng.CreateHandoff(kctx, s.ws, baton.CreateRequest{ExternalID: conv, Customer: baton.Customer{ID: "c"}, Question: "a person please"})
				return h, err
			})
			for i := range hs {
				if errs[i] != nil || hs[i].ID != hs[0].ID {
					t.Fatalf("round %d: create copy %d: %v, handoff %q; want all %q", round, i, errs[i], hs[i].ID, hs[0].ID)
				}
			}
			ms, errs := together(4, func(int) (baton.Message, error) {
				return s.eng.CustomerMessage(engine.WithIdempotency(ctx, "msg-"+conv, "same body"), s.ws, hs[0].ID, "are you there?", nil)
			})
			for i := range ms {
				if errs[i] != nil || ms[i].ID != ms[0].ID {
					t.Fatalf("round %d: message copy %d: %v, message %q; want all %q", round, i, errs[i], ms[i].ID, ms[0].ID)
				}
			}
			_, msgs, err := s.eng.Transcript(ctx, s.ws, hs[0].ID)
			if err != nil {
				t.Fatal(err)
			}
			if n := count(msgs, func(m baton.Message) bool { return m.Text == "are you there?" }); n != 1 {
				t.Fatalf("round %d: the message is stored %d times", round, n)
			}
		}
	})
}

func count[T any](xs []T, f func(T) bool) int {
	n := 0
	for _, x := range xs {
		if f(x) {
			n++
		}
	}
	return n
}

// TestRaceClaim has two inbox agents claim one queued handoff at once, 200
// times on each store: exactly one takes it, the other is refused, and the
// loser cannot reply or end it afterwards.
func TestRaceClaim(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, st baton.Store) {
		s := newStackOn(t, st, nil, nil)
		ctx := context.Background()
		ben := baton.InboxAgent{ID: "ben", WorkspaceID: s.ws, DeskID: s.desk, Name: "Ben", KeyHash: baton.HashKey("ben-key")}
		if err := st.Tx(ctx, func(tx baton.Tx) error { return tx.PutInboxAgent(ben) }); err != nil {
			t.Fatal(err)
		}
		agents := []baton.InboxAgent{s.ana, ben}
		for round := range 200 {
			h := s.create(t, fmt.Sprint("claim-", round))
			s.drain(t)
			_, errs := together(2, func(i int) (baton.Handoff, error) { return s.eng.Claim(ctx, agents[i], h.ID) })
			won := -1
			for i, err := range errs {
				switch {
				case err == nil && won >= 0:
					t.Fatalf("round %d: both agents claimed the handoff", round)
				case err == nil:
					won = i
				case baton.ErrorCode(err) != baton.ECONFLICT:
					t.Fatalf("round %d: claim by %s: %v, want a conflict", round, agents[i].ID, err)
				}
			}
			if won < 0 {
				t.Fatalf("round %d: neither claim succeeded", round)
			}
			if got := s.handoff(t, h.ID); got.Agent.ID != agents[won].ID {
				t.Fatalf("round %d: held by %q, want the winner %q", round, got.Agent.ID, agents[won].ID)
			}
			loser := agents[1-won]
			if _, err := s.eng.Reply(ctx, loser, h.ID, "me too", nil); baton.ErrorCode(err) != baton.ECONFLICT {
				t.Fatalf("round %d: the loser's reply: %v, want a conflict", round, err)
			}
			if _, err := s.eng.EndByAgent(ctx, loser, h.ID); baton.ErrorCode(err) != baton.ECONFLICT {
				t.Fatalf("round %d: the loser's end: %v, want a conflict", round, err)
			}
		}
	})
}

// quickDesk opens a handoff only once the test has seen an agent's event miss
// it (missed is closed): the agent answered before the open call returned.
// A nil missed opens at once; a nil ref uses the handoff id as the desk's.
type quickDesk struct {
	ref    func(baton.OpenRequest) string
	missed <-chan struct{}
}

func (d *quickDesk) Capabilities() baton.Capabilities { return baton.Capabilities{} }
func (d *quickDesk) Check(context.Context) error      { return nil }
func (d *quickDesk) Open(ctx context.Context, r baton.OpenRequest) (baton.Handle, error) {
	if d.missed != nil {
		select {
		case <-d.missed:
		case <-ctx.Done():
		}
	}
	if d.ref == nil {
		return baton.Handle{Ref: r.HandoffID}, nil
	}
	return baton.Handle{Ref: d.ref(r)}, nil
}
func (d *quickDesk) Send(context.Context, baton.Handle, baton.Message) error    { return nil }
func (d *quickDesk) Close(context.Context, baton.Handle, baton.EndReason) error { return nil }
func (d *quickDesk) Inbound(context.Context, string, http.Header, []byte) ([]baton.DeskEvent, error) {
	return nil, nil
}

// interleave is a store that stops a transaction whose look-up by desk
// reference missed until the handoff's open has committed, or for at most a
// moment: the interleaving of a desk that answers within milliseconds of the
// open. Where writers are serialised (SQLite) the open cannot commit
// meanwhile, and the pause just ends.
type interleave struct {
	baton.Store
	once   sync.Once
	missed chan struct{} // closed at the first miss
	opened chan struct{} // closed when a transaction that queued a handoff has committed
	done   sync.Once
}

func (s *interleave) Tx(ctx context.Context, fn func(baton.Tx) error) error {
	queued := false
	err := s.Store.Tx(ctx, func(tx baton.Tx) error {
		queued = false
		return fn(&interleaveTx{Tx: tx, s: s, queued: &queued})
	})
	if err == nil && queued {
		s.done.Do(func() { close(s.opened) })
	}
	return err
}

type interleaveTx struct {
	baton.Tx
	s      *interleave
	queued *bool
}

func (t *interleaveTx) HandoffByRef(deskID, ref string) (baton.Handoff, error) {
	h, err := t.Tx.HandoffByRef(deskID, ref)
	if baton.ErrorCode(err) == baton.ENOTFOUND {
		first := false
		t.s.once.Do(func() { first = true; close(t.s.missed) })
		if first {
			select {
			case <-t.s.opened:
			case <-time.After(time.Second):
			}
		}
	}
	return h, err
}

func (t *interleaveTx) PutHandoff(h baton.Handoff) error {
	if h.State == baton.Queued {
		*t.queued = true
	}
	return t.Tx.PutHandoff(h)
}

// TestRaceAgentBeforeOpen delivers an agent's reply while the open call is
// in flight, stopping the event's transaction just after its look-up missed
// until the open has committed: the reply must be stored and relayed (the
// handoff becomes active), possibly after the desk delivers it again, and
// never acknowledged and dropped. Both kinds of desk reference are tried:
// the desk's own chat id, and Baton's handoff id echoed back.
func TestRaceAgentBeforeOpen(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		ref  func(baton.OpenRequest) string
	}{
		{"chat id", func(r baton.OpenRequest) string { return "chat-" + r.HandoffID }},
		{"handoff id", func(r baton.OpenRequest) string { return r.HandoffID }},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			eachStore(t, func(t *testing.T, st baton.Store) {
				ctx := context.Background()
				is := &interleave{Store: st, missed: make(chan struct{}), opened: make(chan struct{})}
				desk := &quickDesk{ref: c.ref, missed: is.missed}
				s := newStackOn(t, is, func(baton.DeskConfig) (baton.Desk, error) { return desk, nil }, nil)
				h := s.create(t, "quick")
				worker := make(chan error, 1)
				go func() { _, err := s.eng.RunDue(ctx); worker <- err }()
				dc, err := s.eng.Desk(ctx, s.ws, s.desk)
				if err != nil {
					t.Fatal(err)
				}
				ev := baton.DeskEvent{ID: "m1", Ref: c.ref(baton.OpenRequest{HandoffID: h.ID}), Type: baton.DeskAgentMessage, Agent: baton.Agent{ID: "a", Name: "Ann"}, Text: "hello, I am here"}
				// The desk delivers again while Baton answers unavailable.
				deadline := time.Now().Add(10 * time.Second)
				for {
					err := s.eng.ApplyDeskEvent(ctx, dc, ev)
					if err == nil {
						break
					}
					if baton.ErrorCode(err) != baton.EUNAVAILABLE || time.Now().After(deadline) {
						t.Fatalf("agent event: %v", err)
					}
					<-is.opened
				}
				if err := <-worker; err != nil {
					t.Fatal(err)
				}
				got, msgs, err := s.eng.Transcript(ctx, s.ws, h.ID)
				if err != nil {
					t.Fatal(err)
				}
				if n := count(msgs, func(m baton.Message) bool { return m.Author == baton.ByAgent && !m.Late }); got.State != baton.Active || n != 1 {
					t.Fatalf("handoff %s with %d agent messages; want active with the reply once", got.State, n)
				}
				evs := s.events(t)
				if n := count(evs, func(e baton.Event) bool { return e.Type == baton.EventAgentMessage }); n != 1 {
					t.Fatalf("%d agent_message events for the bot, want 1: %v", n, types(evs))
				}
			})
		})
	}
}

// TestRaceReplyAndEnd has the bot end a handoff while its inbox agent
// replies: the reply is either relayed before the end or refused, never
// acknowledged and dropped.
func TestRaceReplyAndEnd(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, st baton.Store) {
		s := newStackOn(t, st, nil, nil)
		ctx := context.Background()
		for round := range 15 {
			h := s.create(t, fmt.Sprint("end-", round))
			s.drain(t)
			if _, err := s.eng.Claim(ctx, s.ana, h.ID); err != nil {
				t.Fatal(err)
			}
			text := fmt.Sprint("racing the end ", round)
			var replyErr error
			together(2, func(i int) (struct{}, error) {
				if i == 0 {
					_, replyErr = s.eng.Reply(ctx, s.ana, h.ID, text, nil)
					return struct{}{}, nil
				}
				_, err := s.eng.End(ctx, s.ws, h.ID, baton.CustomerClosed)
				return struct{}{}, err
			})
			relayed := false
			for _, ev := range s.events(t) {
				if ev.HandoffID == h.ID && ev.Type == baton.EventAgentMessage && strings.Contains(string(ev.Data), text) {
					relayed = true
				}
			}
			switch {
			case replyErr == nil && !relayed:
				t.Fatalf("round %d: the reply was acknowledged and never relayed", round)
			case replyErr != nil && baton.ErrorCode(replyErr) != baton.ECONFLICT:
				t.Fatalf("round %d: reply: %v, want success or a conflict", round, replyErr)
			case replyErr != nil && relayed:
				t.Fatalf("round %d: the reply was refused and relayed anyway", round)
			}
		}
	})
}
