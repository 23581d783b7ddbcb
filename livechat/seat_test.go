package livechat

import (
	"context"
	"net/http"
	"slices"
	"testing"

	baton "github.com/batonhq/baton"
	"github.com/batonhq/baton/livechatsim"
)

// TestSeat: the bot answers as the seat; customers' messages reach it, its
// own come back and are dropped; transfers move the chat to a human group
// and take the seat out; a chat given back to the seat returns; closes map.
func TestSeat(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWorld(t, ModeSeat)
	seat := w.desk.(*Seat)
	if err := seat.Check(ctx); err != nil {
		t.Fatalf("Check: %v", err)
	}

	chatID, err := w.sim.CustomerStartChat(0, "Hi, I need help with my order")
	if err != nil {
		t.Fatal(err)
	}
	c := w.chat(chatID)
	if u, ok := user(c, batonAgent); !ok || !u.Present {
		t.Fatalf("the seat was not assigned the chat: %+v", c.Users)
	}
	cust := customerOf(c).ID
	first := only(t, w.takeOK(), baton.DeskCustomerMessage)
	if first.Ref != chatID || first.Text != "Hi, I need help with my order" || first.Customer.ID != cust ||
		first.ID != "event:"+chatID+"/"+messages(c)[0].ID {
		t.Errorf("first customer message %+v", first)
	}

	// The seat's reply is posted as the seat, and its echo dropped.
	if err := seat.Reply(ctx, chatID, baton.Message{ID: "b1", Author: baton.ByBot, Text: "Hello! I am the bot."}); err != nil {
		t.Fatal(err)
	}
	msgs := messages(w.chat(chatID))
	if last := msgs[len(msgs)-1]; last.AuthorID != batonAgent || last.Text != "Hello! I am the bot." || last.CustomID != "baton:b1" {
		t.Errorf("the reply is %+v", last)
	}
	if evs := w.takeOK(); len(evs) != 0 {
		t.Errorf("the seat's own reply came back as %v", types(evs))
	}

	id, err := w.sim.CustomerSend(chatID, "I want a refund")
	if err != nil {
		t.Fatal(err)
	}
	if m := only(t, w.takeOK(), baton.DeskCustomerMessage); m.ID != "event:"+chatID+"/"+id || m.Text != "I want a refund" || m.Customer.ID != cust {
		t.Errorf("customer message %+v", m)
	}

	groups, err := seat.Groups(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []baton.Group{{ID: "0", Name: "General", Available: true}, {ID: "1", Name: "Sales", Available: true}, {ID: "2", Name: "Billing"}}
	if !slices.Equal(groups, want) {
		t.Errorf("Groups = %+v, want %+v", groups, want)
	}

	// Transfer to Sales: Maria takes it, the seat is out.
	if err := seat.Transfer(ctx, chatID, "1"); err != nil {
		t.Fatal(err)
	}
	c = w.chat(chatID)
	if u, _ := user(c, maria); !u.Present || !slices.Equal(c.Access, []int{1}) {
		t.Errorf("after the transfer: groups %v, users %+v", c.Access, c.Users)
	}
	if u, _ := user(c, batonAgent); u.Present {
		t.Error("the seat is still in the chat")
	}
	if tr := only(t, w.takeOK(), baton.DeskTransferred); tr.Agent != (baton.Agent{ID: maria, Name: "Maria"}) || tr.Ref != chatID {
		t.Errorf("transfer event %+v", tr)
	}
	if err := seat.Transfer(ctx, chatID, "1"); err != nil { // a repeated job
		t.Errorf("repeating the transfer: %v", err)
	}
	if evs := w.takeOK(); len(evs) != 0 {
		t.Errorf("a repeated transfer moved the chat again: %v", types(evs))
	}

	// Maria writes: an agent message; the customer writes: not the seat's chat now.
	if _, err := w.sim.AgentSend(chatID, maria, "Hi, Maria here."); err != nil {
		t.Fatal(err)
	}
	if m := only(t, w.takeOK(), baton.DeskAgentMessage); m.Agent != (baton.Agent{ID: maria, Name: "Maria"}) || m.Text != "Hi, Maria here." {
		t.Errorf("agent message %+v", m)
	}
	if _, err := w.sim.CustomerSend(chatID, "thanks Maria"); err != nil {
		t.Fatal(err)
	}
	if evs := w.takeOK(); len(evs) != 0 {
		t.Errorf("a customer message in a chat without the seat gave %v", types(evs))
	}

	// Maria hands the chat back to the seat.
	if err := w.sim.AgentTransfer(chatID, maria, livechatsim.Transfer{Type: "agent", AgentID: batonAgent}); err != nil {
		t.Fatal(err)
	}
	// The seat gets the chat back with what the customer wrote after Maria's last word.
	evs := w.takeOK()
	if len(evs) != 2 || evs[0].Type != baton.DeskSeatReturned || evs[0].Ref != chatID ||
		evs[1].Type != baton.DeskCustomerMessage || evs[1].Text != "thanks Maria" || evs[1].Customer.ID != cust {
		t.Errorf("seat returned: %+v", evs)
	}

	// To Billing, where nobody is: queued there, the seat out.
	if err := seat.Transfer(ctx, chatID, "2"); err != nil {
		t.Fatal(err)
	}
	c = w.chat(chatID)
	if u, _ := user(c, batonAgent); u.Present || c.Last().Queue == nil || !slices.Equal(c.Access, []int{2}) {
		t.Errorf("after the transfer to Billing: queue %v, groups %v, users %+v", c.Last().Queue, c.Access, c.Users)
	}
	if tr := only(t, w.takeOK(), baton.DeskTransferred); tr.Agent != (baton.Agent{}) || tr.Position != c.Last().Queue.Position {
		t.Errorf("a queued transfer names agent %+v, position %d; want nobody, LiveChat's position %d", tr.Agent, tr.Position, c.Last().Queue.Position)
	}
	if err := seat.Transfer(ctx, chatID, "x"); !permanent(err) {
		t.Errorf("Transfer to group x: %v, want a permanent error", err)
	}

	// The human segment as a desk: Open returns the chat, Send posts nothing,
	// Close deactivates (but not for a transfer).
	h, err := seat.Open(ctx, baton.OpenRequest{HandoffID: "ho_1", ExternalID: chatID})
	if err != nil || h.Ref != chatID {
		t.Fatalf("Open = %+v, %v", h, err)
	}
	n := len(w.chat(chatID).Events())
	if err := seat.Send(ctx, h, baton.Message{Text: "relayed?"}); err != nil || len(w.chat(chatID).Events()) != n {
		t.Errorf("Send: %v; events %d → %d", err, n, len(w.chat(chatID).Events()))
	}
	if err := seat.Close(ctx, h, baton.Transferred); err != nil || !w.chat(chatID).Active() {
		t.Errorf("Close(transferred): %v, active %v; want the chat left open", err, w.chat(chatID).Active())
	}
	if err := seat.Close(ctx, h, baton.BotClosed); err != nil || w.chat(chatID).Active() {
		t.Errorf("Close(bot_closed): %v, active %v; want the chat closed", err, w.chat(chatID).Active())
	}
	if cl := only(t, w.takeOK(), baton.DeskAgentClosed); cl.Ref != chatID {
		t.Errorf("close event %+v", cl)
	}
	if err := seat.Close(ctx, h, baton.BotClosed); err != nil {
		t.Errorf("closing again: %v", err)
	}

	// The customer closes another chat.
	other, err := w.sim.CustomerStartChat(0, "hello?")
	if err != nil {
		t.Fatal(err)
	}
	w.takeOK()
	if err := w.sim.CustomerClose(other); err != nil {
		t.Fatal(err)
	}
	if cl := only(t, w.takeOK(), baton.DeskCustomerClosed); cl.Ref != other {
		t.Errorf("customer close %+v", cl)
	}
	if _, err := seat.Open(ctx, baton.OpenRequest{HandoffID: "ho_2"}); !permanent(err) {
		t.Errorf("Open without a conversation id: %v", err)
	}
}

// TestSeatFiles: customers' files reach the bot; the bot's files are uploaded.
func TestSeatFiles(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWorld(t, ModeSeat)
	chatID, err := w.sim.CustomerStartChat(0, "hi")
	if err != nil {
		t.Fatal(err)
	}
	w.takeOK()
	files := newFake(t)
	files.answer = func(request) (int, http.Header, string) { return 200, nil, `{"a":1}` }
	if err := w.desk.(*Seat).Reply(ctx, chatID, baton.Message{ID: "b1", Attachments: []baton.Attachment{{URL: files.URL + "/data.json", Name: "data.json"}}}); err != nil {
		t.Fatal(err)
	}
	msgs := messages(w.chat(chatID))
	if last := msgs[len(msgs)-1]; last.Type != "file" || last.AuthorID != batonAgent || last.Fields["name"] != "data.json" {
		t.Errorf("the bot's file is %+v", last)
	}
	if evs := w.takeOK(); len(evs) != 0 {
		t.Errorf("the seat's own file came back as %v", types(evs))
	}
}

// TestSeatInboundWithoutPresence: webhooks registered without
// chat_presence_user_ids fall back to get_chat.
func TestSeatInboundWithoutPresence(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWorld(t, ModeSeat)
	chatID, err := w.sim.CustomerStartChat(0, "hi")
	if err != nil {
		t.Fatal(err)
	}
	w.takeOK()
	id, err := w.sim.CustomerSend(chatID, "are you a bot?")
	if err != nil {
		t.Fatal(err)
	}
	cust := customerOf(w.chat(chatID)).ID
	body := []byte(`{"webhook_id":"x","secret_key":"` + secretKey + `","action":"incoming_event","organization_id":"` + w.sim.OrganizationID() +
		`","payload":{"chat_id":"` + chatID + `","thread_id":"T","event":{"id":"` + id + `","type":"message","text":"are you a bot?","author_id":"` + cust + `","visibility":"all"}},"additional_data":{}}`)
	evs, err := w.desk.Inbound(ctx, "", nil, body)
	if err != nil || len(evs) != 1 || evs[0].Type != baton.DeskCustomerMessage || evs[0].Customer.ID != cust {
		t.Errorf("Inbound = %+v, %v", evs, err)
	}
}

// TestSeatCheck: the PAT must be the seat's.
func TestSeatCheck(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWorld(t, ModeSeat)
	cfg := w.cfg
	cfg.Settings = map[string]string{}
	for k, v := range w.cfg.Settings {
		cfg.Settings[k] = v
	}
	cfg.Settings[SettingAgentEmail] = maria
	d, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Check(ctx); !isAuthErr(err) || baton.ErrorField(err) != "settings.token" {
		t.Errorf("Check with Maria as the seat and Baton's PAT: %v, want an Auth error on settings.token", err)
	}
	cfg.Settings[SettingAgentEmail] = "nobody@example.com"
	d, _ = New(cfg, nil)
	if err := d.Check(ctx); !permanent(err) || baton.ErrorField(err) != "settings.agent_email" {
		t.Errorf("Check with an unknown seat: %v, want a permanent error on settings.agent_email", err)
	}
}

// TestSeatQueued: a chat that waited in the queue reaches the bot, with the
// customer's first message, when LiveChat assigns it to the seat.
func TestSeatQueued(t *testing.T) {
	t.Parallel()
	w := newWorld(t, ModeSeat)
	if err := w.sim.SetStatus(batonAgent, livechatsim.NotAccepting); err != nil {
		t.Fatal(err)
	}
	// Someone else in group 0 keeps it online, busy with one chat already.
	if _, err := w.sim.AddAgent(livechatsim.Agent{ID: "busy@example.com", MaxChats: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.sim.CustomerStartChat(0, "first"); err != nil {
		t.Fatal(err)
	}
	w.takeOK()
	chatID, err := w.sim.CustomerStartChat(0, "anyone there?")
	if err != nil {
		t.Fatal(err)
	}
	if evs := w.takeOK(); len(evs) != 0 {
		t.Fatalf("a queued chat without the seat gave %v", types(evs))
	}
	if err := w.sim.SetStatus(batonAgent, livechatsim.Accepting); err != nil {
		t.Fatal(err)
	}
	evs := w.takeOK()
	if len(evs) != 2 || evs[0].Type != baton.DeskSeatReturned || evs[1].Type != baton.DeskCustomerMessage ||
		evs[1].Text != "anyone there?" || evs[1].Ref != chatID || evs[1].ID != "event:"+chatID+"/"+messages(w.chat(chatID))[0].ID {
		t.Errorf("assigned to the seat: %+v", evs)
	}
}
