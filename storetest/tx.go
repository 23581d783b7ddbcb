package storetest

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/batonhq/baton"
)

func testSecretsAtRest(t *testing.T, s baton.Store) {
	db := rawDB(t, s)
	seed(t, s)
	const token, secret, session = "tok-PLAINTEXT-4242", "whsec_PLAINTEXT-9999", "cookie-PLAINTEXT-7777"
	do(t, s, func(tx baton.Tx) error {
		err := tx.PutDesk(baton.DeskConfig{ID: "d1", WorkspaceID: "w1", Kind: baton.KindIntercom,
			Settings: map[string]string{"access_token": token}})
		if err != nil {
			return err
		}
		if err := tx.PutBot(baton.Bot{ID: "b1", WorkspaceID: "w1", WebhookSecret: secret}); err != nil {
			return err
		}
		if err := tx.PutConversation(conversation("c1", "w1", "ext-1")); err != nil {
			return err
		}
		h := handoff("h1", "w1", "d1", "chat-1", t0)
		h.DeskData = session
		return tx.PutHandoff(h)
	})
	for _, c := range []struct{ query, plain string }{
		{"SELECT settings FROM desks", token},
		{"SELECT webhook_secret FROM bots", secret},
		{"SELECT desk_data FROM handoffs", session},
	} {
		var raw []byte
		if err := db.QueryRowContext(t.Context(), c.query).Scan(&raw); err != nil {
			t.Fatal(err)
		}
		if len(raw) == 0 {
			t.Errorf("%s: empty", c.query)
		}
		if bytes.Contains(raw, []byte(c.plain)) || bytes.Contains(raw, []byte("access_token")) {
			t.Errorf("%s: plaintext stored: %q", c.query, raw)
		}
	}
	do(t, s, func(tx baton.Tx) error {
		d, err := tx.DeskByID("d1")
		if err != nil {
			return err
		}
		b, err := tx.Bot("w1", "b1")
		if d.Settings["access_token"] != token || b.WebhookSecret != secret {
			t.Error("secrets did not survive the round trip")
		}
		return err
	})
	// Each write seals afresh: the same secret never gives the same bytes.
	do(t, s, func(tx baton.Tx) error {
		return tx.PutBot(baton.Bot{ID: "b2", WorkspaceID: "w1", WebhookSecret: secret})
	})
	rows, err := db.QueryContext(t.Context(), "SELECT webhook_secret FROM bots")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var seen [][]byte
	for rows.Next() {
		var raw []byte
		if err := rows.Scan(&raw); err != nil {
			t.Fatal(err)
		}
		for _, o := range seen {
			if bytes.Equal(o, raw) {
				t.Error("two bots' sealed secrets are identical")
			}
		}
		seen = append(seen, raw)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
}

func testRollback(t *testing.T, s baton.Store) {
	seed(t, s)
	err := s.Tx(t.Context(), func(tx baton.Tx) error {
		if err := tx.CreateWorkspace(baton.Workspace{ID: "w3"}); err != nil {
			return err
		}
		if err := tx.PutConversation(conversation("c1", "w1", "ext-1")); err != nil {
			return err
		}
		if err := tx.AddMessage(&baton.Message{ID: "m1", ConversationID: "c1"}); err != nil {
			return err
		}
		if err := tx.AddEvent(&baton.Event{ID: "e1", WorkspaceID: "w1"}); err != nil {
			return err
		}
		if err := tx.PutJob(baton.Job{Kind: "deliver", RunAt: t0}); err != nil {
			return err
		}
		return errNope
	})
	if err != errNope {
		t.Fatalf("Tx returned %v, want the fn's error", err)
	}
	checkEmpty(t, s)
}

// checkEmpty checks that only the seed is in s, and that the counters did not move.
func checkEmpty(t *testing.T, s baton.Store) {
	t.Helper()
	wantCode(t, s, baton.ENOTFOUND, func(tx baton.Tx) error {
		_, err := tx.Workspace("w3")
		return err
	})
	wantCode(t, s, baton.ENOTFOUND, func(tx baton.Tx) error {
		_, err := tx.ConversationByID("c1")
		return err
	})
	wantCode(t, s, baton.ENOTFOUND, func(tx baton.Tx) error {
		_, err := tx.Event("e1")
		return err
	})
	do(t, s, func(tx baton.Tx) error {
		n, err := tx.JobCount()
		if len(n) != 0 {
			t.Errorf("jobs after rollback: %v", n)
		}
		if err != nil {
			return err
		}
		e := &baton.Event{ID: "e2", WorkspaceID: "w1"}
		if err := tx.AddEvent(e); err != nil {
			return err
		}
		if e.Seq != 1 {
			t.Errorf("event seq after rollback = %d, want 1", e.Seq)
		}
		return nil
	})
}

func testPanic(t *testing.T, s baton.Store) {
	seed(t, s)
	func() {
		defer func() {
			if p := recover(); p != "boom" {
				t.Errorf("recovered %v, want the fn's panic", p)
			}
		}()
		_ = s.Tx(t.Context(), func(tx baton.Tx) error {
			if err := tx.CreateWorkspace(baton.Workspace{ID: "w3"}); err != nil {
				return err
			}
			if err := tx.PutJob(baton.Job{Kind: "deliver", RunAt: t0}); err != nil {
				return err
			}
			panic("boom")
		})
	}()
	// The store is still usable and holds nothing of the panicked transaction.
	checkEmpty(t, s)
}

// concurrently runs fn(i) for i in [0, n) in n goroutines and waits.
func concurrently(t *testing.T, n int, fn func(i int) error) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			if err := fn(i); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func testMessageSeqConcurrent(t *testing.T, s baton.Store) {
	seed(t, s)
	do(t, s, func(tx baton.Tx) error { return tx.PutConversation(conversation("c1", "w1", "ext-1")) })
	const writers, each = 8, 25
	concurrently(t, writers, func(w int) error {
		for i := range each {
			err := s.Tx(t.Context(), func(tx baton.Tx) error {
				return tx.AddMessage(&baton.Message{ID: fmt.Sprintf("m-%d-%d", w, i), ConversationID: "c1",
					Author: baton.ByCustomer})
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	do(t, s, func(tx baton.Tx) error {
		ms, err := tx.Messages("c1", 0, 0)
		if len(ms) != writers*each {
			t.Fatalf("%d messages, want %d", len(ms), writers*each)
		}
		for i, m := range ms {
			if m.Seq != int64(i+1) {
				t.Fatalf("message %d has seq %d", i, m.Seq)
			}
		}
		return err
	})
}

func testEventSeqConcurrent(t *testing.T, s baton.Store) {
	seed(t, s)
	const writers, each = 8, 25
	concurrently(t, writers, func(w int) error {
		for i := range each {
			err := s.Tx(t.Context(), func(tx baton.Tx) error {
				// Two events per transaction: they get consecutive numbers.
				e1 := &baton.Event{ID: fmt.Sprintf("e-%d-%d-a", w, i), WorkspaceID: "w1", BotID: "b1"}
				e2 := &baton.Event{ID: fmt.Sprintf("e-%d-%d-b", w, i), WorkspaceID: "w1", BotID: "b1"}
				if err := tx.AddEvent(e1); err != nil {
					return err
				}
				if err := tx.AddEvent(e2); err != nil {
					return err
				}
				if e2.Seq != e1.Seq+1 {
					return fmt.Errorf("events of one transaction got seq %d and %d", e1.Seq, e2.Seq)
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	do(t, s, func(tx baton.Tx) error {
		es, err := tx.Events(baton.EventPage{WorkspaceID: "w1", BotID: "b1", After: 0, Limit: 0})
		if len(es) != 2*writers*each {
			t.Fatalf("%d events, want %d", len(es), 2*writers*each)
		}
		for i, e := range es {
			if e.Seq != int64(i+1) {
				t.Fatalf("event %d has seq %d", i, e.Seq)
			}
		}
		return err
	})
}

func testView(t *testing.T, s baton.Store) {
	seed(t, s)
	ctx := context.Background()
	err := s.View(ctx, func(tx baton.Tx) error {
		w, err := tx.Workspace("w1")
		if err == nil && w.ID != "w1" {
			t.Errorf("view read %+v", w)
		}
		if _, err := tx.Handoff("w1", "nope"); baton.ErrorCode(err) != baton.ENOTFOUND {
			t.Errorf("missing handoff in a view: %v", err)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// A write in a view fails and leaves nothing.
	err = s.View(ctx, func(tx baton.Tx) error { return tx.CreateWorkspace(baton.Workspace{ID: "w-view"}) })
	if err == nil {
		t.Fatal("a view wrote")
	}
	do(t, s, func(tx baton.Tx) error {
		if _, err := tx.Workspace("w-view"); baton.ErrorCode(err) != baton.ENOTFOUND {
			t.Errorf("the view's write stayed: %v", err)
		}
		return nil
	})
	// A view sees what committed before it began.
	do(t, s, func(tx baton.Tx) error { return tx.CreateWorkspace(baton.Workspace{ID: "w-late"}) })
	if err := s.View(ctx, func(tx baton.Tx) error { _, err := tx.Workspace("w-late"); return err }); err != nil {
		t.Fatalf("a view missed a commit: %v", err)
	}
}

// testViewConcurrent runs many views at once, each reading several kinds of
// rows (a store must not wait, inside a view, for a connection that other
// views hold), alongside writes.
func testViewConcurrent(t *testing.T, s baton.Store) {
	seed(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	errs := make(chan error, 64)
	for i := range 64 {
		go func() {
			if i%8 == 0 {
				errs <- s.Tx(ctx, func(tx baton.Tx) error {
					return tx.CreateWorkspace(baton.Workspace{ID: fmt.Sprint("wc", i)})
				})
				return
			}
			errs <- s.View(ctx, func(tx baton.Tx) error {
				if _, err := tx.Workspace("w1"); err != nil {
					return err
				}
				if _, err := tx.Bots("w1"); err != nil {
					return err
				}
				if _, err := tx.Desks("w1"); err != nil {
					return err
				}
				_, err := tx.Events(baton.EventPage{WorkspaceID: "w1", BotID: "b1", After: 0, Limit: 10})
				return err
			})
		}()
	}
	for range 64 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// testViewBesideWriter reads while a transaction is in progress: a view does
// not wait for the writers (on a grouped store, it does not take a writer's
// turn).
func testViewBesideWriter(t *testing.T, s baton.Store) {
	seed(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := s.Tx(ctx, func(tx baton.Tx) error {
		if err := tx.CreateWorkspace(baton.Workspace{ID: "w-open"}); err != nil {
			return err
		}
		return s.View(ctx, func(v baton.Tx) error {
			if _, err := v.Workspace("w1"); err != nil {
				return err
			}
			if _, err := v.Workspace("w-open"); baton.ErrorCode(err) != baton.ENOTFOUND {
				t.Errorf("a view saw an uncommitted workspace: %v", err)
			}
			return nil
		})
	})
	if err != nil {
		t.Fatalf("a view inside a transaction: %v", err)
	}
}
