package engine_test

import (
	"context"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/outbox"
	"github.com/batonhq/baton/sqlite"
)

// slowDesk opens a handoff only when told to, as a desk whose open call is
// still in flight when its agent already writes.
type slowDesk struct{ release chan struct{} }

func (d *slowDesk) Capabilities() baton.Capabilities { return baton.Capabilities{} }
func (d *slowDesk) Check(context.Context) error      { return nil }
func (d *slowDesk) Open(context.Context, baton.OpenRequest) (baton.Handle, error) {
	<-d.release
	return baton.Handle{Ref: "chat-1"}, nil
}
func (d *slowDesk) Send(context.Context, baton.Handle, baton.Message) error    { return nil }
func (d *slowDesk) Close(context.Context, baton.Handle, baton.EndReason) error { return nil }
func (d *slowDesk) Inbound(context.Context, string, http.Header, []byte) ([]baton.DeskEvent, error) {
	return nil, nil
}

// TestEventWhileOpening: an agent's event for a chat whose open call has not
// returned yet is refused as unavailable (the desk delivers it again), not
// dropped; once the open is recorded, the same event is applied.
func TestEventWhileOpening(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "baton.db"), testKey)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	desk := &slowDesk{release: make(chan struct{})}
	eng := newNode(st, func(baton.DeskConfig) (baton.Desk, error) { return desk, nil }, outbox.Config{})
	dc := baton.DeskConfig{ID: "d", WorkspaceID: "ws", Kind: baton.KindLiveChat}
	err = st.Tx(ctx, func(tx baton.Tx) error {
		if err := tx.CreateWorkspace(baton.Workspace{ID: "ws"}); err != nil {
			return err
		}
		if err := tx.PutDesk(dc); err != nil {
			return err
		}
		return tx.PutBot(baton.Bot{ID: "bot", WorkspaceID: "ws", DeskID: "d"})
	})
	if err != nil {
		t.Fatal(err)
	}
	h, _, err := eng.CreateHandoff(ctx, "ws", baton.CreateRequest{ExternalID: "c", Customer: baton.Customer{ID: "u"}, Question: "hi"})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := eng.RunDue(ctx); done <- err }() // the open job, blocked in the desk
	ev := baton.DeskEvent{ID: "e1", Ref: "chat-1", Type: baton.DeskAgentMessage, Agent: baton.Agent{ID: "a", Name: "Ann"}, Text: "hello"}
	if got, _ := eng.Handoff(ctx, "ws", h.ID); got.State != baton.Requested {
		t.Fatalf("state %s before the open returned", got.State)
	}
	if err := eng.ApplyDeskEvent(ctx, dc, ev); baton.ErrorCode(err) != baton.EUNAVAILABLE {
		t.Fatalf("event during the open: %v, want unavailable", err)
	}
	close(desk.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := eng.ApplyDeskEvent(ctx, dc, ev); err != nil {
		t.Fatal(err)
	}
	got, _ := eng.Handoff(ctx, "ws", h.ID)
	if got.State != baton.Active || got.Agent.Name != "Ann" {
		t.Fatalf("after redelivery: %s %+v", got.State, got.Agent)
	}
	// With nothing opening, an event for an unknown chat is acknowledged and ignored.
	if err := eng.ApplyDeskEvent(ctx, dc, baton.DeskEvent{ID: "e2", Ref: "other", Type: baton.DeskAgentMessage, Text: "?"}); err != nil {
		t.Fatalf("unknown chat: %v", err)
	}
}

// savingDesk opens in two steps, saving the chat it started as progress
// before it blocks until release; it is a baton.Opener.
type savingDesk struct {
	slowDesk
	saved chan struct{}
}

func (d *savingDesk) Open(ctx context.Context, r baton.OpenRequest) (baton.Handle, error) {
	if err := r.Save("chat-1"); err != nil {
		return baton.Handle{}, err
	}
	close(d.saved)
	return d.slowDesk.Open(ctx, r)
}

func (d *savingDesk) OpeningRef(progress string) (string, bool) { return progress, true }

// TestEventOtherChatWhileOpening: while a handoff is opening, a desk that
// says which chat its open has reached (baton.Opener) has an event for
// another chat acknowledged and ignored at once, not refused: license
// webhooks carry every chat. An event for the chat being opened still
// waits, and is applied once the open is recorded.
func TestEventOtherChatWhileOpening(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, st baton.Store) {
		ctx := context.Background()
		desk := &savingDesk{slowDesk: slowDesk{release: make(chan struct{})}, saved: make(chan struct{})}
		s := newStackOn(t, st, func(baton.DeskConfig) (baton.Desk, error) { return desk, nil }, nil)
		dc, err := s.eng.Desk(ctx, s.ws, s.desk)
		if err != nil {
			t.Fatal(err)
		}
		h := s.create(t, "c")
		done := make(chan error, 1)
		go func() { _, err := s.eng.RunDue(ctx); done <- err }()
		<-desk.saved
		if err := s.eng.ApplyDeskEvent(ctx, dc, baton.DeskEvent{ID: "o1", Ref: "other", Type: baton.DeskAgentMessage, Text: "?"}); err != nil {
			t.Fatalf("event for another chat while opening: %v, want it ignored", err)
		}
		ev := baton.DeskEvent{ID: "e1", Ref: "chat-1", Type: baton.DeskAgentMessage, Agent: baton.Agent{ID: "a", Name: "Ann"}, Text: "hello"}
		if err := s.eng.ApplyDeskEvent(ctx, dc, ev); baton.ErrorCode(err) != baton.EUNAVAILABLE {
			t.Fatalf("event for the chat being opened: %v, want unavailable", err)
		}
		close(desk.release)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if err := s.eng.ApplyDeskEvent(ctx, dc, ev); err != nil {
			t.Fatal(err)
		}
		if got := s.handoff(t, h.ID); got.State != baton.Active || got.Agent.Name != "Ann" {
			t.Fatalf("after redelivery: %s %+v", got.State, got.Agent)
		}
	})
}
