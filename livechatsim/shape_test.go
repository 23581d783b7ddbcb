package livechatsim

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestSameShape(t *testing.T) {
	t.Parallel()
	want := map[string]any{"a": "x", "n": 1.0, "queue": map[string]any{}, "l": []any{map[string]any{"k": true}}}
	tests := []struct {
		name  string
		got   map[string]any
		diffs int
	}{
		{"equal", map[string]any{"a": "y", "n": 2.0, "queue": map[string]any{}, "l": []any{map[string]any{"k": false}}}, 0},
		{"optional missing", map[string]any{"a": "y", "n": 2.0, "l": []any{}}, 0},
		{"missing", map[string]any{"n": 2.0, "l": []any{}}, 1},
		{"extra", map[string]any{"a": "y", "n": 2.0, "l": []any{}, "b": 1.0}, 1},
		{"type", map[string]any{"a": 1.0, "n": "2", "l": []any{map[string]any{"k": "no"}}}, 3},
	}
	for _, tt := range tests {
		if d := sameShape("x", want, tt.got); len(d) != tt.diffs {
			t.Errorf("%s: %d diffs %v, want %d", tt.name, len(d), d, tt.diffs)
		}
	}
}

// TestShapes drives a chat through the documented requests (the request
// fixtures) and compares every answer and webhook with the fixtures.
func TestShapes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, a := range []string{"incoming_chat", "incoming_event", "chat_deactivated", "chat_transferred",
		"user_added_to_chat", "routing_status_set"} {
		e.hook(a, Filters{}, "chat_properties", "chat_presence_user_ids")
	}

	// Accounts: the cookie grant.
	req := fixture(t, "customer_token_request.json").(map[string]any)
	req["client_id"], req["organization_id"], req["redirect_uri"] = e.app.ClientID, e.sim.OrganizationID(), e.app.RedirectURI
	tok := e.ok("/v2/customer/token", "", req)
	checkShape(t, "customer_token_response.json", tok)
	cust, custID := "Bearer "+str(tok, "access_token"), str(tok, "entity_id")
	e.ok(e.customerPath("update_customer"), cust, obj{"name": "Thomas Anderson", "email": "t.anderson@example.com"})

	// Agent start_chat with the documented request.
	start := fixture(t, "agent_start_chat_request.json").(map[string]any)
	dig(start, "chat", "users", 0).(map[string]any)["id"] = custID
	out := e.agent("start_chat", start)
	checkShape(t, "start_chat_response.json", out)
	chatID := str(out, "chat_id")

	send := fixture(t, "send_event_request.json").(map[string]any)
	send["chat_id"] = chatID
	checkShape(t, "send_event_response.json", e.agent("send_event", send))
	e.ok(e.customerPath("send_event"), cust, obj{"chat_id": chatID,
		"event": obj{"type": "message", "text": "thanks", "recipients": "all"}})
	e.agent("follow_chat", obj{"id": chatID})

	checkShape(t, "get_chat_response.json", e.agent("get_chat", obj{"chat_id": chatID}))
	checkShape(t, "list_chats_response.json", e.agent("list_chats", obj{}))
	checkShape(t, "list_agents_for_transfer_response.json", e.agent("list_agents_for_transfer", obj{"chat_id": chatID}))
	checkShape(t, "list_routing_statuses_response.json", e.agent("list_routing_statuses", obj{"filters": obj{"group_ids": []int{19}}}))

	// Transfer to group 19: nobody else accepts, so it fails with the
	// documented error, then queues when availability is ignored.
	transfer := fixture(t, "transfer_chat_request.json").(map[string]any)
	transfer["id"] = chatID
	v := e.fails(agentAPIPath+"transfer_chat", e.smith.Basic(), transfer, http.StatusBadRequest, "validation")
	checkShape(t, "error.json", v)
	if !strings.Contains(str(v, "error", "message"), "Cannot assign any agent from requested groups") {
		t.Errorf("transfer error: %v", v)
	}
	transfer["ignore_agents_availability"] = true
	if v := e.agent("transfer_chat", transfer); len(v.(map[string]any)) != 0 {
		t.Errorf("transfer_chat answered %v, want {}", v)
	}
	// A new agent in group 19 takes the queued chat.
	if _, err := e.sim.AddAgent(Agent{ID: "jones@example.com", Groups: map[int]string{19: "normal"}}); err != nil {
		t.Fatal(err)
	}
	deact := fixture(t, "deactivate_chat_request.json").(map[string]any)
	deact["id"] = chatID
	deact["ignore_requester_presence"] = true
	e.agent("deactivate_chat", deact)
	e.agent("set_routing_status", obj{"status": "accepting_chats"})

	for _, name := range []string{"incoming_chat", "incoming_event", "chat_deactivated", "user_added_to_chat", "routing_status_set"} {
		got := e.sent(name)
		if len(got) == 0 {
			t.Errorf("no %s webhook", name)
			continue
		}
		for _, g := range got {
			if name == "incoming_event" && str(g, "payload", "event", "type") != "message" {
				continue // system messages have another shape
			}
			checkShape(t, name+".json", g)
		}
	}
	transfers := e.sent("chat_transferred")
	if len(transfers) != 2 {
		t.Fatalf("chat_transferred webhooks: %d, want 2 (queued, then assigned)", len(transfers))
	}
	for _, g := range transfers {
		checkShape(t, "chat_transferred.json", g)
	}
	if dig(transfers[0], "payload", "queue") == nil || dig(transfers[1], "payload", "queue") != nil {
		t.Errorf("queue should appear in the queued transfer only: %v", transfers)
	}

	// Configuration API.
	e.sim.AddApp(App{ClientID: "asXdesldiAJSq9padj"})
	b, err := e.sim.AddBot(Bot{OwnerClientID: "asXdesldiAJSq9padj", Groups: map[int]string{19: "first"}})
	if err != nil {
		t.Fatal(err)
	}
	checkShape(t, "list_groups_response.json", e.config("list_groups", fixture(t, "list_groups_request.json")))
	reg := fixture(t, "register_webhook_request.json").(map[string]any)
	reg["url"] = e.rc.URL
	checkShape(t, "register_webhook_response.json", e.config("register_webhook", reg))
	checkShape(t, "list_webhooks_response.json", e.config("list_webhooks", obj{"owner_client_id": "asXdesldiAJSq9padj"}))
	bot := e.config("create_bot", obj{"name": "John Doe", "owner_client_id": e.app.ClientID,
		"groups": []obj{{"id": 19, "priority": "first"}}})
	checkShape(t, "create_bot_response.json", bot)
	checkShape(t, "get_bot_response.json", e.config("get_bot", obj{"id": b.ID}))
	checkShape(t, "issue_bot_token_response.json", e.config("issue_bot_token", obj{"bot_id": str(bot, "id"),
		"client_id": e.app.ClientID, "bot_secret": str(bot, "secret"), "organization_id": e.sim.OrganizationID()}))
	checkShape(t, "license_webhooks_state_response.json", e.config("get_license_webhooks_state", obj{"owner_client_id": e.app.ClientID}))
	_, v = e.do("GET", "/v3.4/configuration/action/get_organization_id?license_id=104130623", "", nil)
	checkShape(t, "get_organization_id_response.json", v)
	_, v = e.do("GET", "/v3.4/configuration/action/get_license_id?organization_id="+e.sim.OrganizationID(), "", nil)
	checkShape(t, "get_license_id_response.json", v)

	// OAuth code exchange and token info.
	code, err := e.sim.Code(e.app.ClientID, e.smith.ID)
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "client_id": {e.app.ClientID},
		"client_secret": {e.app.Secret}, "redirect_uri": {e.app.RedirectURI}}
	resp, err := http.PostForm(e.srv.URL+"/v2/token", form)
	if err != nil {
		t.Fatal(err)
	}
	tokv := decode(t, resp)
	checkShape(t, "token_response.json", tokv)
	_, info := e.do("GET", "/v2/info", "Bearer "+str(tokv, "access_token"), nil)
	checkShape(t, "info_response.json", info)
}

// TestRequestLog shows how a client test checks its requests: Requests
// returns what was sent, RequestShape compares it with a request fixture.
func TestRequestLog(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, cust := e.customer()
	out := e.agent("start_chat", obj{"chat": obj{"users": []obj{{"id": cust, "type": "customer"}}}})
	e.agent("send_event", obj{"chat_id": str(out, "chat_id"), "event": obj{"type": "message", "text": "hi"}})
	e.agent("send_event", obj{"chat_id": str(out, "chat_id"), "event": obj{"type": "message", "text": "hi", "recipient": "all"}})
	e.do("GET", "/sim/state", "", nil)
	e.do("GET", "/v3.6/agent/action/get_chat", "", nil)

	reqs := e.sim.Requests()
	if len(reqs) != 5 || reqs[0].Path != "/v2/customer/token" || reqs[0].Auth != "" || reqs[2].Auth != "Basic" ||
		reqs[2].Path != agentAPIPath+"send_event" || reqs[2].Status != 200 || reqs[4].Status != 404 {
		t.Fatalf("requests: %+v", reqs)
	}
	for name, body := range map[string][]byte{"agent_start_chat_request.json": reqs[1].Body, "send_event_request.json": reqs[2].Body} {
		if d := RequestShape(Fixture(name), body); len(d) != 0 {
			t.Errorf("%s: %v", name, d)
		}
	}
	if d := RequestShape(Fixture("send_event_request.json"), reqs[3].Body); len(d) != 1 || !strings.Contains(d[0], "recipient") {
		t.Errorf("unknown key not reported: %v", d)
	}
	if d := Shape(Fixture("error.json"), []byte(`{"error":{"type":"x","message":"y"}}`)); len(d) != 0 {
		t.Errorf("error shape: %v", d)
	}
	if d := Shape(Fixture("error.json"), []byte(`{"error":{"type":"x"}}`)); len(d) != 1 {
		t.Errorf("missing message not reported: %v", d)
	}
	if Fixture("nope.json") != nil {
		t.Errorf("unknown fixture")
	}
	if st, v := e.do("GET", "/v3.6/agent/action/get_chat", "", nil); st != 404 || str(v, "error", "type") != "not_found" {
		t.Errorf("GET on a POST method: %d %v", st, v)
	}
}
