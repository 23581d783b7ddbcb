package engine_test

import (
	"context"
	"net/http"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/engine"
	"github.com/batonhq/baton/outbox"
	"github.com/batonhq/baton/sqlite"
)

// seatDesk records what the engine asks of a seat desk. The LiveChat seat
// runs the same flows against the LiveChat simulator; this checks the engine's
// side alone.
type seatDesk struct {
	mu          sync.Mutex
	replies     []string
	transferred map[string]string // chat → group
	groups      []baton.Group
}

func (d *seatDesk) Capabilities() baton.Capabilities { return baton.Capabilities{Transfer: true} }
func (d *seatDesk) Check(context.Context) error      { return nil }
func (d *seatDesk) Open(_ context.Context, r baton.OpenRequest) (baton.Handle, error) {
	return baton.Handle{Ref: r.ExternalID}, nil
}
func (d *seatDesk) Send(context.Context, baton.Handle, baton.Message) error    { return nil }
func (d *seatDesk) Close(context.Context, baton.Handle, baton.EndReason) error { return nil }
func (d *seatDesk) Groups(context.Context) ([]baton.Group, error)              { return d.groups, nil }
func (d *seatDesk) Inbound(context.Context, string, http.Header, []byte) ([]baton.DeskEvent, error) {
	return nil, nil
}
func (d *seatDesk) Reply(_ context.Context, ref string, m baton.Message) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.replies = append(d.replies, ref+": "+m.Text)
	return nil
}
func (d *seatDesk) Transfer(_ context.Context, ref, group string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.transferred[ref] = group
	return nil
}

func TestSeat(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "baton.db"), testKey)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	desk := &seatDesk{transferred: map[string]string{}, groups: []baton.Group{
		{ID: "1", Name: "Sales", Available: true}, {ID: "2", Name: "Billing", Available: true}, {ID: "3", Name: "Returns"}}}
	eng := newNode(st, func(baton.DeskConfig) (baton.Desk, error) { return desk, nil }, outbox.Config{})
	pol := &baton.Policy{Transfer: &baton.TransferRules{Enabled: true, OnHumanRequest: true, AfterBotTurns: 3, Keywords: []string{"lawyer"},
		Groups: map[string]string{"3": "send back, exchange, refund a purchase"}}}
	dc := baton.DeskConfig{ID: "lc", WorkspaceID: "ws", Kind: baton.KindLiveChat, Policy: pol}
	err = st.Tx(ctx, func(tx baton.Tx) error {
		if err := tx.CreateWorkspace(baton.Workspace{ID: "ws"}); err != nil {
			return err
		}
		if err := tx.PutDesk(dc); err != nil {
			return err
		}
		return tx.PutBot(baton.Bot{ID: "bot", WorkspaceID: "ws", DeskID: "lc"})
	})
	if err != nil {
		t.Fatal(err)
	}
	drain := func() {
		for range 50 {
			if n, err := eng.RunDue(ctx); err != nil {
				t.Fatal(err)
			} else if n == 0 {
				return
			}
		}
	}
	customer := func(id, chat, text string) {
		t.Helper()
		err := eng.ApplyDeskEvent(ctx, dc, baton.DeskEvent{ID: id, Ref: chat, Type: baton.DeskCustomerMessage, Text: text,
			Customer: baton.Customer{ID: "cust-" + chat, Name: "Kim"}})
		if err != nil {
			t.Fatal(err)
		}
		drain()
	}
	types := func(chat string) []string {
		evs, err := eng.Events(ctx, "ws", "bot", 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range evs {
			if e.ExternalID == chat {
				out = append(out, e.Type)
			}
		}
		return out
	}

	// The bot answers a customer in chat A; a duplicate delivery counts once.
	customer("e1", "A", "Hello, what are your plans?")
	customer("e1", "A", "Hello, what are your plans?")
	if got := types("A"); !slices.Equal(got, []string{baton.EventCustomerMessage}) {
		t.Fatalf("events = %v", got)
	}
	c, _, err := eng.Conversation(ctx, "ws", "bot", "A")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eng.BotMessage(ctx, "ws", engine.BotSays{BotID: "bot", ExternalID: "A", Epoch: c.Epoch, Text: "We have three plans."}); err != nil {
		t.Fatal(err)
	}
	drain()
	if !slices.Equal(desk.replies, []string{"A: We have three plans."}) {
		t.Fatalf("replies = %v", desk.replies)
	}

	// The customer asks for a person: the chat goes to the best group and the bot must stop.
	customer("e2", "A", "I want to send back my purchase, can I talk to a real person?")
	c2, hs, err := eng.Conversation(ctx, "ws", "bot", "A")
	if err != nil {
		t.Fatal(err)
	}
	if c2.Owner != baton.OwnerHuman || len(hs) != 1 {
		t.Fatalf("owner %s, %d handoffs", c2.Owner, len(hs))
	}
	h := hs[0]
	if desk.transferred["A"] != "3" || h.State != baton.Queued || h.Decision == nil || h.Decision.Trigger != "customer" || h.Decision.GroupName != "Returns" {
		t.Fatalf("transfer: %v, handoff %s %+v", desk.transferred, h.State, h.Decision)
	}
	if _, err := eng.BotMessage(ctx, "ws", engine.BotSays{BotID: "bot", ExternalID: "A", Epoch: c2.Epoch, Text: "still me"}); baton.ErrorCode(err) != baton.ESTALE {
		t.Fatalf("the bot spoke after the transfer: %v", err)
	}
	// A human answers, then the chat comes back to the seat: the bot answers again.
	if err := eng.ApplyDeskEvent(ctx, dc, baton.DeskEvent{ID: "e3", Ref: "A", Type: baton.DeskAgentMessage, Agent: baton.Agent{ID: "ann@x", Name: "Ann"}, Text: "Hi, Ann here"}); err != nil {
		t.Fatal(err)
	}
	if err := eng.ApplyDeskEvent(ctx, dc, baton.DeskEvent{ID: "e4", Ref: "A", Type: baton.DeskSeatReturned}); err != nil {
		t.Fatal(err)
	}
	drain()
	c3, hs, _ := eng.Conversation(ctx, "ws", "bot", "A")
	if c3.Owner != baton.OwnerBot || hs[0].EndReason != baton.Transferred {
		t.Fatalf("after return: owner %s, handoff %s", c3.Owner, hs[0].EndReason)
	}
	want := []string{baton.EventCustomerMessage, baton.EventCustomerMessage, baton.EventQueued, baton.EventAgentJoined, baton.EventAgentMessage, baton.EventEnded}
	if got := types("A"); !slices.Equal(got, want) {
		t.Fatalf("events = %v, want %v", got, want)
	}

	// Chat B: after three bot turns without resolution, it is transferred.
	customer("b1", "B", "hmm")
	for i := range 3 {
		cb, _, _ := eng.Conversation(ctx, "ws", "bot", "B")
		if _, err := eng.BotMessage(ctx, "ws", engine.BotSays{BotID: "bot", ExternalID: "B", Epoch: cb.Epoch, Text: "try this"}); err != nil {
			t.Fatalf("turn %d: %v", i, err)
		}
	}
	drain()
	if _, ok := desk.transferred["B"]; !ok {
		t.Fatal("no transfer after three bot turns")
	}
	// Chat C: a keyword; chat D: the bot asks, with a hint.
	customer("c1", "C", "I will call my lawyer")
	if desk.transferred["C"] == "" {
		t.Fatal("no transfer on a keyword")
	}
	customer("d1", "D", "question about an invoice")
	h, err = eng.Transfer(ctx, "ws", engine.TransferRequest{BotID: "bot", ExternalID: "D", Hint: "sales"})
	if err != nil {
		t.Fatal(err)
	}
	drain()
	if desk.transferred["D"] != "1" {
		t.Fatalf("hint ignored: %v", desk.transferred)
	}
	if _, err := eng.Transfer(ctx, "ws", engine.TransferRequest{BotID: "bot", ExternalID: "D", Hint: ""}); baton.ErrorCode(err) != baton.ECONFLICT {
		t.Fatalf("second transfer: %v", err)
	}
	// The desk closes chat D: the handoff ends, the bot owns the (closed) chat.
	if err := eng.ApplyDeskEvent(ctx, dc, baton.DeskEvent{ID: "d2", Ref: "D", Type: baton.DeskAgentClosed}); err != nil {
		t.Fatal(err)
	}
	hd, _ := eng.Handoff(ctx, "ws", h.ID)
	if hd.EndReason != baton.AgentClosed {
		t.Fatalf("chat D handoff: %s", hd.EndReason)
	}
}
