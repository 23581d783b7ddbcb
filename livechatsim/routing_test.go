package livechatsim

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func assigned(t *testing.T, s *Sim, chatID string) []string {
	t.Helper()
	c, ok := s.Chat(chatID)
	if !ok {
		t.Fatalf("no chat %s", chatID)
	}
	var ids []string
	for _, u := range c.Users {
		if u.Type == "agent" && u.Present {
			ids = append(ids, u.ID)
		}
	}
	return ids
}

func TestRouting(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.sim.AddGroup(5, "Routing")
	e.hook("user_added_to_chat", Filters{})
	e.hook("chat_transferred", Filters{})
	for _, a := range []Agent{
		{ID: "sup@example.com", Groups: map[int]string{5: "supervisor"}},
		{ID: "last@example.com", MaxChats: 1, Groups: map[int]string{5: "last"}},
		{ID: "normal@example.com", MaxChats: 1, Groups: map[int]string{5: "normal"}},
		{ID: "first@example.com", MaxChats: 1, Groups: map[int]string{5: "first"}},
	} {
		if _, err := e.sim.AddAgent(a); err != nil {
			t.Fatal(err)
		}
	}
	var chats []string
	for range 5 {
		id, err := e.sim.CustomerStartChat(5, "hi")
		if err != nil {
			t.Fatal(err)
		}
		chats = append(chats, id)
	}
	// first > normal > last; supervisor never; max_chats_count respected.
	for i, want := range [][]string{{"first@example.com"}, {"normal@example.com"}, {"last@example.com"}, nil, nil} {
		if got := assigned(t, e.sim, chats[i]); !slices.Equal(got, want) {
			t.Errorf("chat %d assigned to %v, want %v", i, got, want)
		}
	}
	e.sim.Advance(30 * time.Second)
	for i, pos := range map[int]int{3: 1, 4: 2} {
		q := e.agent("get_chat", obj{"chat_id": chats[i]})
		if dig(q, "thread", "queue", "position") != float64(pos) || dig(q, "thread", "queue", "wait_time") != 30.0 {
			t.Errorf("chat %d queue: %v", i, dig(q, "thread", "queue"))
		}
	}
	if c, _ := e.sim.Chat(chats[3]); c.Last().Queue == nil || c.Last().Queue.Position != 1 {
		t.Errorf("snapshot queue: %+v", c.Last().Queue)
	}

	// Freed capacity of an agent not accepting chats does not dequeue...
	if err := e.sim.SetStatus("first@example.com", NotAccepting); err != nil {
		t.Fatal(err)
	}
	if err := e.sim.CustomerClose(chats[0]); err != nil {
		t.Fatal(err)
	}
	if got := assigned(t, e.sim, chats[3]); got != nil {
		t.Fatalf("queued chat assigned to %v", got)
	}
	// ...accepting chats again does, oldest queued first.
	if err := e.sim.SetStatus("first@example.com", Accepting); err != nil {
		t.Fatal(err)
	}
	if got := assigned(t, e.sim, chats[3]); !slices.Equal(got, []string{"first@example.com"}) {
		t.Fatalf("queued chat assigned to %v", got)
	}
	if c, _ := e.sim.Chat(chats[4]); c.Last().Queue == nil || c.Last().Queue.Position != 1 {
		t.Errorf("second queued chat: %+v", c.Last().Queue)
	}
	added, moved := e.sent("user_added_to_chat"), e.sent("chat_transferred")
	if len(added) != 1 || str(added[0], "payload", "reason") != "assigned" || str(added[0], "payload", "user", "id") != "first@example.com" {
		t.Errorf("user_added_to_chat: %v", added)
	}
	if len(moved) != 1 || str(moved[0], "payload", "reason") != "assigned" ||
		str(moved[0], "payload", "transferred_to", "agent_ids", 0) != "first@example.com" || str(moved[0], "payload", "chat_id") != chats[3] {
		t.Errorf("chat_transferred: %v", moved)
	}

	// Nobody accepting in the group: groups_offline unless continuous.
	e.sim.AddGroup(6, "Closed")
	if _, err := e.sim.AddAgent(Agent{ID: "away@example.com", Status: NotAccepting, Groups: map[int]string{6: "first"}}); err != nil {
		t.Fatal(err)
	}
	tok, _ := e.customer()
	start := obj{"chat": obj{"access": obj{"group_ids": []int{6}}}}
	e.fails(e.customerPath("start_chat"), tok, start, 422, "groups_offline")
	start["continuous"] = true
	out := e.ok(e.customerPath("start_chat"), tok, start)
	if c, _ := e.sim.Chat(str(out, "chat_id")); c.Last().Queue == nil {
		t.Errorf("continuous chat without agents should queue")
	}
	v := e.ok(e.customerPath("list_group_statuses"), tok, obj{"group_ids": []int{5, 6, 19}})
	if dig(v, "groups_status", "6") != "offline" || dig(v, "groups_status", "19") != "online" || dig(v, "groups_status", "5") != "online_for_queue" {
		t.Errorf("list_group_statuses: %v", v)
	}
}

func TestTransfer(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.hook("chat_transferred", Filters{})
	tok, custID := e.customer()
	start := func() string {
		out := e.agent("start_chat", obj{"chat": obj{"access": obj{"group_ids": []int{19}},
			"users": []obj{{"id": custID, "type": "customer"}}}})
		return str(out, "chat_id")
	}
	chatID := start()
	tr := func(target obj, ignore bool) obj {
		return obj{"id": chatID, "target": target, "ignore_agents_availability": ignore}
	}
	group19 := obj{"type": "group", "ids": []int{19}}

	// Nobody else can take it.
	v := e.fails(agentAPIPath+"transfer_chat", e.smith.Basic(), tr(group19, false), 400, "validation")
	if !strings.Contains(str(v, "error", "message"), "Cannot assign any agent from requested groups") {
		t.Errorf("message: %v", v)
	}
	tests := []struct {
		name   string
		body   obj
		status int
		typ    string
	}{
		{"string group ids", tr(obj{"type": "group", "ids": []string{"19"}}, false), 400, "validation"},
		{"unknown group", tr(obj{"type": "group", "ids": []int{42}}, true), 404, "group_not_found"},
		{"bad type", tr(obj{"type": "team", "ids": []int{19}}, true), 400, "validation"},
		{"unknown agent", tr(obj{"type": "agent", "ids": []string{"x@example.com"}}, false), 404, "not_found"},
		{"unknown chat", obj{"id": "NOPE", "target": group19}, 404, "not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { e.fails(agentAPIPath+"transfer_chat", e.smith.Basic(), tt.body, tt.status, tt.typ) })
	}

	// Jones accepts chats in group 19: the transfer assigns him and removes smith.
	jones, _ := e.sim.AddAgent(Agent{ID: "jones@example.com", Groups: map[int]string{19: "normal"}})
	e.agent("transfer_chat", tr(group19, false))
	if got := assigned(t, e.sim, chatID); !slices.Equal(got, []string{"jones@example.com"}) {
		t.Fatalf("after transfer: %v", got)
	}
	c, _ := e.sim.Chat(chatID)
	last := c.Events()[len(c.Events())-1]
	if last.Type != "system_message" || last.Fields["system_message_type"] != "chat_transferred" {
		t.Errorf("last event %+v", last)
	}
	// The requester must be present unless ignore_requester_presence.
	e.fails(agentAPIPath+"transfer_chat", e.smith.Basic(), tr(group19, true), 403, "missing_access")

	// To an agent who is not accepting chats.
	e.sim.SetStatus("smith@example.com", NotAccepting)
	toSmith := obj{"type": "agent", "ids": []string{"smith@example.com"}}
	e.fails(agentAPIPath+"transfer_chat", jones.Basic(), tr(toSmith, false), 422, "agent_offline")
	e.ok(agentAPIPath+"transfer_chat", jones.Basic(), tr(toSmith, true))
	if got := assigned(t, e.sim, chatID); !slices.Equal(got, []string{"smith@example.com"}) {
		t.Fatalf("after agent transfer: %v", got)
	}

	// Inactive chats cannot be transferred.
	e.agent("deactivate_chat", obj{"id": chatID})
	e.fails(agentAPIPath+"transfer_chat", e.smith.Basic(), tr(group19, true), 422, "chat_inactive")

	got := e.sent("chat_transferred")
	if len(got) != 2 {
		t.Fatalf("chat_transferred: %d", len(got))
	}
	if dig(got[0], "payload", "transferred_to", "agent_ids", 0) != "jones@example.com" || dig(got[0], "payload", "queue") != nil ||
		str(got[0], "payload", "requester_id") != "smith@example.com" || str(got[0], "payload", "reason") != "manual" {
		t.Errorf("group transfer webhook: %v", got[0])
	}
	_ = tok
}

// TestSeatMode: a bot answers customers in group 7 and hands over to the
// humans of group 8, as Baton's seat mode does.
func TestSeatMode(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.sim.AddGroup(7, "Bot")
	e.sim.AddGroup(8, "Humans")
	jones, _ := e.sim.AddAgent(Agent{ID: "jones@example.com", Groups: map[int]string{8: "normal"}})
	pat := e.smith.Basic()
	bot := e.ok(configAPIPath+"create_bot", pat, obj{"name": "Baton", "owner_client_id": e.app.ClientID,
		"groups": []obj{{"id": 7, "priority": "first"}}})
	botID := str(bot, "id")
	for _, body := range []obj{
		{"action": "incoming_chat", "type": "bot", "filters": obj{"chat_presence": obj{"my_bots": true}}},
		{"action": "incoming_event", "type": "bot", "filters": obj{"chat_presence": obj{"my_bots": true}}},
		{"action": "chat_transferred", "type": "license"},
	} {
		body["url"], body["secret_key"], body["owner_client_id"] = e.rc.URL, "s3cret", e.app.ClientID
		e.ok(configAPIPath+"register_webhook", pat, body)
	}
	tok := e.ok(configAPIPath+"issue_bot_token", pat, obj{"bot_id": botID, "client_id": e.app.ClientID,
		"bot_secret": str(bot, "secret"), "organization_id": e.sim.OrganizationID()})
	bearer := "Bearer " + str(tok, "token")

	// The bot is offline: customers of group 7 cannot start chats.
	if _, err := e.sim.CustomerStartChat(7, "hello?"); err == nil {
		t.Fatal("chat started while the bot is offline")
	}
	e.ok(agentAPIPath+"set_routing_status", bearer, obj{"status": "accepting_chats"})
	chatID, err := e.sim.CustomerStartChat(7, "Where is my order?")
	if err != nil {
		t.Fatal(err)
	}
	if got := assigned(t, e.sim, chatID); !slices.Equal(got, []string{botID}) {
		t.Fatalf("assigned to %v, want the bot", got)
	}
	e.ok(agentAPIPath+"send_event", bearer, obj{"chat_id": chatID, "event": obj{"type": "message", "text": "Let me check"}})
	if _, err := e.sim.CustomerSend(chatID, "I want a human"); err != nil {
		t.Fatal(err)
	}
	e.ok(agentAPIPath+"transfer_chat", bearer, obj{"id": chatID, "target": obj{"type": "group", "ids": []int{8}}})
	if got := assigned(t, e.sim, chatID); !slices.Equal(got, []string{"jones@example.com"}) {
		t.Fatalf("after handover: %v", got)
	}
	e.fails(agentAPIPath+"send_event", bearer, obj{"chat_id": chatID, "event": obj{"type": "message", "text": "late"}},
		403, "missing_access")
	if _, err := e.sim.AgentSend(chatID, jones.ID, "Hi, I am Jones"); err != nil {
		t.Fatal(err)
	}

	if n := len(e.sent("incoming_chat")); n != 1 {
		t.Errorf("incoming_chat: %d", n)
	}
	var authors []string
	for _, v := range e.sent("incoming_event") {
		authors = append(authors, str(v, "payload", "event", "author_id")+":"+str(v, "payload", "event", "type"))
	}
	// my_bots: events while the bot is in the chat, including its own echo;
	// Jones's message after the handover is not sent.
	c, _ := e.sim.Chat(chatID)
	cust := c.Users[0].ID
	want := []string{botID + ":message", cust + ":message"}
	if !slices.Equal(authors, want) {
		t.Errorf("incoming_event authors %v, want %v", authors, want)
	}
	if tr := e.sent("chat_transferred"); len(tr) != 1 || str(tr[0], "payload", "requester_id") != botID {
		t.Errorf("chat_transferred: %v", tr)
	}

	// Bot webhooks stop while the bot is not accepting chats.
	e.ok(agentAPIPath+"set_routing_status", bearer, obj{"status": "offline"})
	before := len(e.sim.Webhooks())
	e.sim.SetStatus(botID, Offline)
	if _, err := e.sim.CustomerStartChat(8, "other"); err != nil {
		t.Fatal(err)
	}
	e.flush()
	for _, d := range e.sim.Webhooks()[before:] {
		if d.Action == "incoming_chat" {
			t.Errorf("bot webhook delivered while the bot is offline")
		}
	}
}

func TestCustomerAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.hook("customer_session_fields_updated", Filters{})
	e.hook("chat_deactivated", Filters{})
	e.hook("incoming_event", Filters{AuthorType: "customer"})
	tok, custID := e.customer()
	out := e.ok(e.customerPath("start_chat"), tok, fixture(t, "customer_start_chat_request.json"))
	checkShape(t, "start_chat_response.json", out)
	chatID := str(out, "chat_id")
	if got := assigned(t, e.sim, chatID); !slices.Equal(got, []string{"smith@example.com"}) {
		t.Fatalf("assigned to %v", got)
	}

	e.ok(e.customerPath("send_event"), tok, obj{"chat_id": chatID, "event": obj{"type": "message", "text": "hello", "recipients": "all"}})
	e.fails(e.customerPath("send_event"), tok, obj{"chat_id": chatID, "event": obj{"type": "message", "text": "x", "visibility": "agents"}},
		400, "validation")
	e.fails(e.customerPath("send_event"), tok, obj{"chat_id": chatID, "event": obj{"type": "system", "text": "x"}}, 400, "validation")
	e.fails(e.customerPath("send_event"), tok, obj{"chat_id": chatID, "event": obj{"type": "message"}}, 400, "validation")
	e.agent("send_event", obj{"chat_id": chatID, "event": obj{"type": "message", "text": "internal note", "visibility": "agents"}})
	e.agent("send_event", obj{"chat_id": chatID, "event": obj{"type": "message", "text": "Hi there"}})

	// Customers never see agents-only events.
	got := e.ok(e.customerPath("get_chat"), tok, obj{"chat_id": chatID})
	var texts []string
	for _, ev := range dig(got, "thread", "events").([]any) {
		texts = append(texts, str(ev, "text"))
	}
	if !slices.Equal(texts, []string{"I need help", "hello", "Hi there"}) {
		t.Errorf("customer sees %v", texts)
	}
	if dig(got, "is_followed") != nil {
		t.Errorf("customer view has is_followed")
	}
	list := e.ok(e.customerPath("list_chats"), tok, obj{})
	if dig(list, "total_chats") != 1.0 || dig(list, "found_chats") != nil {
		t.Errorf("list_chats: %v", list)
	}
	e.fails(e.customerPath("list_chats"), tok, obj{"limit": 26}, 400, "validation")

	// Other customers cannot see the chat.
	tok2, _ := e.customer()
	e.fails(e.customerPath("get_chat"), tok2, obj{"chat_id": chatID}, 404, "not_found")

	// Customer data.
	e.fails(e.customerPath("update_customer"), tok, obj{}, 400, "validation")
	e.ok(e.customerPath("update_customer"), tok, obj{"name": "Thomas", "email": "t@example.com"})
	e.ok(e.customerPath("set_customer_session_fields"), tok, obj{"session_fields": []obj{{"order": "42"}}})
	me := e.ok(e.customerPath("get_customer"), tok, obj{})
	if str(me, "id") != custID || str(me, "name") != "Thomas" || str(me, "session_fields", 0, "order") != "42" {
		t.Errorf("get_customer: %v", me)
	}
	if c, _ := e.sim.Customer(custID); c.Email != "t@example.com" {
		t.Errorf("customer snapshot: %+v", c)
	}

	// Deactivation, then attach_to_last_thread and resume_chat.
	e.ok(e.customerPath("deactivate_chat"), tok, obj{"id": chatID})
	e.fails(e.customerPath("send_event"), tok, obj{"chat_id": chatID, "event": obj{"type": "message", "text": "late"}}, 422, "chat_inactive")
	e.ok(e.customerPath("send_event"), tok, obj{"chat_id": chatID, "attach_to_last_thread": true,
		"event": obj{"type": "message", "text": "one more thing"}})
	res := e.ok(e.customerPath("resume_chat"), tok, obj{"chat": obj{"id": chatID,
		"thread": obj{"events": []obj{{"type": "message", "text": "back"}}}}})
	if str(res, "thread_id") == "" || len(dig(res, "event_ids").([]any)) != 1 {
		t.Errorf("resume_chat: %v", res)
	}
	got = e.ok(e.customerPath("get_chat"), tok, obj{"chat_id": chatID})
	if !dig(got, "thread", "active").(bool) || str(got, "thread", "previous_thread_id") == "" {
		t.Errorf("resumed thread: %v", dig(got, "thread"))
	}
	threads := e.ok(e.customerPath("list_threads"), tok, obj{"chat_id": chatID})
	if dig(threads, "found_threads") != 2.0 {
		t.Errorf("list_threads: %v", threads)
	}
	e.fails(e.customerPath("resume_chat"), tok, obj{"chat": obj{"id": chatID}}, 400, "validation")

	deact := e.sent("chat_deactivated")
	if len(deact) != 1 || str(deact[0], "payload", "user_id") != custID {
		t.Errorf("chat_deactivated: %v", deact)
	}
	var evs []string
	for _, v := range e.sent("incoming_event") {
		evs = append(evs, str(v, "payload", "event", "text"))
	}
	if !slices.Equal(evs, []string{"hello", "one more thing"}) {
		t.Errorf("customer incoming_event: %v", evs)
	}
	if f := e.sent("customer_session_fields_updated"); len(f) != 1 || str(f[0], "payload", "active_chat", "chat_id") != chatID ||
		str(f[0], "payload", "session_fields", 0, "order") != "42" {
		t.Errorf("customer_session_fields_updated: %v", f)
	}
}

func TestAgentAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.hook("user_added_to_chat", Filters{})
	e.hook("user_removed_from_chat", Filters{})
	jones, _ := e.sim.AddAgent(Agent{ID: "jones@example.com", Groups: map[int]string{19: "normal"}})
	_, cust := e.customer()
	_, other := e.customer()
	var chats []string
	for range 3 {
		out := e.agent("start_chat", obj{"chat": obj{"users": []obj{{"id": cust, "type": "customer"}},
			"thread": obj{"events": []obj{{"type": "message", "text": "from customer", "author_id": cust}}}}})
		chats = append(chats, str(out, "chat_id"))
	}
	e.fails(agentAPIPath+"start_chat", e.smith.Basic(), obj{"chat": obj{"thread": obj{"events": []obj{
		{"type": "message", "text": "x", "author_id": other}}}}}, 400, "validation")
	e.fails(agentAPIPath+"start_chat", e.smith.Basic(), obj{"chat": obj{"users": []obj{
		{"id": cust, "type": "customer"}, {"id": other, "type": "customer"}}}}, 400, "validation")
	c, _ := e.sim.Chat(chats[0])
	if ev := c.Events()[0]; ev.AuthorID != cust || ev.ID != c.Last().ID+"_1" {
		t.Errorf("initial event %+v", ev)
	}

	// Paging: limit, then page_id alone.
	p1 := e.agent("list_chats", obj{"limit": 2})
	if len(dig(p1, "chats_summary").([]any)) != 2 || dig(p1, "found_chats") != 3.0 || str(p1, "next_page_id") == "" {
		t.Fatalf("page 1: %v", p1)
	}
	if str(p1, "chats_summary", 0, "id") != chats[2] {
		t.Errorf("list_chats is not newest first")
	}
	p2 := e.agent("list_chats", obj{"page_id": str(p1, "next_page_id")})
	if len(dig(p2, "chats_summary").([]any)) != 1 || str(p2, "previous_page_id") == "" || str(p2, "chats_summary", 0, "id") != chats[0] {
		t.Errorf("page 2: %v", p2)
	}
	e.fails(agentAPIPath+"list_chats", e.smith.Basic(), obj{"page_id": str(p1, "next_page_id"), "limit": 2}, 400, "validation")
	e.agent("deactivate_chat", obj{"id": chats[2]})
	if act := e.agent("list_chats", obj{"filters": obj{"active": true}}); dig(act, "found_chats") != 2.0 {
		t.Errorf("active filter: %v", act)
	}

	// Users.
	e.fails(agentAPIPath+"add_user_to_chat", e.smith.Basic(), obj{"chat_id": chats[0], "user_id": other, "user_type": "customer",
		"visibility": "all"}, 400, "validation")
	e.fails(agentAPIPath+"add_user_to_chat", e.smith.Basic(), obj{"chat_id": chats[2], "user_id": jones.ID, "user_type": "agent"},
		422, "chat_inactive")
	e.agent("add_user_to_chat", obj{"chat_id": chats[0], "user_id": jones.ID, "user_type": "agent", "visibility": "agents"})
	e.fails(agentAPIPath+"send_event", jones.Basic(), obj{"chat_id": chats[0], "event": obj{"type": "message", "text": "x"}},
		400, "validation")
	e.ok(agentAPIPath+"send_event", jones.Basic(), obj{"chat_id": chats[0], "event": obj{"type": "message", "text": "x", "visibility": "agents"}})
	e.fails(agentAPIPath+"remove_user_from_chat", e.smith.Basic(), obj{"chat_id": chats[0], "user_id": cust, "user_type": "customer"},
		400, "validation")
	e.agent("remove_user_from_chat", obj{"chat_id": chats[0], "user_id": jones.ID, "user_type": "agent"})
	added, removed := e.sent("user_added_to_chat"), e.sent("user_removed_from_chat")
	if len(added) != 1 || str(added[0], "payload", "requester_id") != e.smith.ID || str(added[0], "payload", "user_type") != "agent" {
		t.Errorf("user_added_to_chat: %v", added)
	}
	if len(removed) != 1 || str(removed[0], "payload", "user_id") != jones.ID {
		t.Errorf("user_removed_from_chat: %v", removed)
	}

	// Void methods answer {}.
	for _, m := range []struct {
		name string
		body obj
	}{
		{"follow_chat", obj{"id": chats[0]}},
		{"unfollow_chat", obj{"id": chats[0]}},
		{"set_routing_status", obj{"status": "accepting_chats"}},
		{"send_typing_indicator", obj{"chat_id": chats[0]}},
		{"update_customer", obj{"id": cust, "name": "Neo"}},
		{"tag_thread", obj{"chat_id": chats[0], "thread_id": c.Last().ID, "tag": "sales"}},
		{"mark_events_as_seen", obj{"chat_id": chats[0], "seen_up_to": "2030-01-01T00:00:00.000000Z"}},
		{"deactivate_chat", obj{"id": chats[1]}},
	} {
		if v := e.agent(m.name, m.body); len(v.(map[string]any)) != 0 {
			t.Errorf("%s answered %v", m.name, v)
		}
	}
	e.fails(agentAPIPath+"set_routing_status", e.smith.Basic(), obj{"status": "offline"}, 400, "validation")
	e.fails(agentAPIPath+"deactivate_chat", e.smith.Basic(), obj{"id": chats[1]}, 422, "chat_inactive")
	cu := e.agent("get_customer", obj{"id": cust})
	if str(cu, "name") != "Neo" || len(dig(cu, "chat_ids").([]any)) != 3 {
		t.Errorf("get_customer: %v", cu)
	}
	g := e.agent("get_chat", obj{"chat_id": chats[0]})
	if dig(g, "thread", "tags", 0) != "sales" {
		t.Errorf("tags: %v", dig(g, "thread"))
	}

	// Agent resume_chat starts a new thread with the requester.
	r := e.agent("resume_chat", obj{"chat": obj{"id": chats[1]}})
	if c, _ := e.sim.Chat(chats[1]); len(c.Threads) != 2 || c.Last().ID != str(r, "thread_id") || !c.Active() {
		t.Errorf("resume: %+v", c)
	}
}
