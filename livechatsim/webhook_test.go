package livechatsim

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestRegisterWebhook(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	oauth, _ := e.sim.AgentToken(e.app.ClientID, e.smith.ID)
	base := func() obj {
		return obj{"url": "https://svc.example/hooks", "action": "incoming_event", "secret_key": "k", "type": "license",
			"owner_client_id": e.app.ClientID}
	}
	with := func(k string, v any) obj {
		b := base()
		if v == nil {
			delete(b, k)
		} else {
			b[k] = v
		}
		return b
	}
	tests := []struct {
		name   string
		auth   string
		body   obj
		status int
		typ    string
	}{
		{"ok", "", base(), 200, ""},
		{"ok twice", "", base(), 200, ""},
		{"PAT without owner_client_id", "", with("owner_client_id", nil), 400, "validation"},
		{"OAuth defaults owner_client_id", "Bearer " + oauth, with("owner_client_id", nil), 200, ""},
		{"unknown owner", "", with("owner_client_id", "nope"), 400, "validation"},
		{"unknown action", "", with("action", "incoming_customer"), 400, "validation"},
		{"no secret", "", with("secret_key", nil), 400, "validation"},
		{"bad type", "", with("type", "app"), 400, "validation"},
		{"bad url", "", with("url", "ftp://x"), 400, "validation"},
		{"long url", "", with("url", "https://x.example/"+strings.Repeat("a", 500)), 400, "validation"},
		{"bad additional_data", "", with("additional_data", []string{"chat_users"}), 400, "validation"},
		{"author_type on chat_deactivated", "", func() obj {
			b := with("action", "chat_deactivated")
			b["filters"] = obj{"author_type": "agent"}
			return b
		}(), 400, "validation"},
		{"bad author_type", "", with("filters", obj{"author_type": "bot"}), 400, "validation"},
		{"values and exclude_values", "", with("filters", obj{"chat_presence": obj{"user_ids": obj{
			"values": []string{"a"}, "exclude_values": []string{"b"}}}}), 400, "validation"},
		{"agent_ids on incoming_event", "", with("filters", obj{"agent_ids": []string{"a"}}), 400, "validation"},
		{"agent_ids on routing_status_set", "", func() obj {
			b := with("action", "routing_status_set")
			b["filters"] = obj{"agent_ids": []string{"smith@example.com"}}
			return b
		}(), 200, ""},
		{"bad source_type", "", with("filters", obj{"source_type": []string{"mine"}}), 400, "validation"},
		{"fourth incoming_event", "", base(), 403, "limit_reached"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			auth := tt.auth
			if auth == "" {
				auth = e.smith.Basic()
			}
			st, v := e.do("POST", configAPIPath+"register_webhook", auth, tt.body)
			if st != tt.status || str(v, "error", "type") != tt.typ {
				t.Fatalf("got %d %v, want %d %s", st, v, tt.status, tt.typ)
			}
		})
	}
	list := e.config("list_webhooks", obj{"owner_client_id": e.app.ClientID}).([]any)
	if len(list) != 4 { // 3 incoming_event + routing_status_set
		t.Fatalf("list_webhooks: %d", len(list))
	}
	e.config("unregister_webhook", obj{"id": str(list[0], "id"), "owner_client_id": e.app.ClientID})
	e.fails(configAPIPath+"unregister_webhook", e.smith.Basic(), obj{"id": str(list[0], "id"), "owner_client_id": e.app.ClientID},
		404, "not_found")
	e.config("register_webhook", base()) // room again
	names := e.ok(configAPIPath+"list_webhook_names", "", obj{"version": "3.6"}).([]any)
	for _, n := range names {
		if str(n, "action") == "incoming_event" {
			b, _ := json.Marshal(n)
			if !strings.Contains(string(b), "author_type") || !strings.Contains(string(b), "chat_presence_user_ids") {
				t.Errorf("incoming_event names: %s", b)
			}
		}
	}
}

// scenario: a customer (token of e.app) starts a chat in group 19, routed
// to smith; the customer and smith (PAT) write; smith closes the chat.
func scenario(t *testing.T, e *env) {
	tok, _ := e.customer()
	out := e.ok(e.customerPath("start_chat"), tok, obj{"chat": obj{"access": obj{"group_ids": []int{19}}}})
	id := str(out, "chat_id")
	e.ok(e.customerPath("send_event"), tok, obj{"chat_id": id, "event": obj{"type": "message", "text": "customer"}})
	e.agent("send_event", obj{"chat_id": id, "event": obj{"type": "message", "text": "agent"}})
	e.agent("set_routing_status", obj{"status": "accepting_chats"})
	e.agent("deactivate_chat", obj{"id": id})
}

func TestWebhookFilters(t *testing.T) {
	t.Parallel()
	other := App{ClientID: "0805e283233042b37f460ed8fbf22160"}
	tests := []struct {
		name   string
		action string
		f      Filters
		owner  string // default e.app
		setup  func(e *env)
		want   int
	}{
		{"incoming_event: everything", "incoming_event", Filters{}, "", nil, 3}, // 2 messages + manual_archived_agent
		{"author_type customer", "incoming_event", Filters{AuthorType: "customer"}, "", nil, 1},
		{"author_type agent", "incoming_event", Filters{AuthorType: "agent"}, "", nil, 1},
		{"chat_presence values", "incoming_event", Filters{UserIDs: []string{"smith@example.com"}}, "", nil, 3},
		{"chat_presence values absent", "incoming_event", Filters{UserIDs: []string{"jones@example.com"}}, "", nil, 0},
		{"chat_presence exclude_values", "incoming_event", Filters{ExcludeUserIDs: []string{"smith@example.com"}}, "", nil, 0},
		{"only_my_chats, mine", "incoming_event", Filters{OnlyMyChats: true}, "", nil, 3},
		{"only_my_chats, other client", "incoming_event", Filters{OnlyMyChats: true}, other.ClientID, nil, 0},
		{"source_type my_client", "incoming_event", Filters{SourceType: []string{"my_client"}}, "", nil, 1},
		{"source_type system", "incoming_event", Filters{SourceType: []string{"system"}}, "", nil, 2},
		{"source_type other_clients", "incoming_event", Filters{SourceType: []string{"other_clients"}}, other.ClientID, nil, 1},
		{"incoming_chat", "incoming_chat", Filters{}, "", nil, 1},
		{"chat_deactivated", "chat_deactivated", Filters{}, "", nil, 1},
		{"routing_status_set agent_ids", "routing_status_set", Filters{AgentIDs: []string{"smith@example.com"}}, "", nil, 1},
		{"routing_status_set other agent", "routing_status_set", Filters{AgentIDs: []string{"jones@example.com"}}, "", nil, 0},
		{"license webhooks disabled", "incoming_event", Filters{}, "", func(e *env) {
			e.config("disable_license_webhooks", obj{"owner_client_id": e.app.ClientID})
		}, 0},
		{"license webhooks enabled again", "incoming_event", Filters{}, "", func(e *env) {
			e.config("disable_license_webhooks", obj{"owner_client_id": e.app.ClientID})
			e.config("enable_license_webhooks", obj{"owner_client_id": e.app.ClientID})
		}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.sim.AddApp(other)
			owner := tt.owner
			if owner == "" {
				owner = e.app.ClientID
			}
			if _, err := e.sim.AddWebhook(Webhook{URL: e.rc.URL, Action: tt.action, SecretKey: "k", Type: "license",
				OwnerClientID: owner, Filters: tt.f}); err != nil {
				t.Fatal(err)
			}
			if tt.setup != nil {
				tt.setup(e)
			}
			scenario(t, e)
			if got := len(e.sent(tt.action)); got != tt.want {
				t.Errorf("%d deliveries, want %d", got, tt.want)
			}
		})
	}

	t.Run("bot webhooks need an accepting bot", func(t *testing.T) {
		e := newEnv(t)
		b, _ := e.sim.AddBot(Bot{OwnerClientID: e.app.ClientID})
		e.sim.AddWebhook(Webhook{URL: e.rc.URL, Action: "incoming_chat", SecretKey: "k", Type: "bot", OwnerClientID: e.app.ClientID})
		scenario(t, e)
		if n := len(e.sent("incoming_chat")); n != 0 {
			t.Errorf("%d deliveries with the bot offline", n)
		}
		e.sim.SetStatus(b.ID, NotAccepting)
		scenario(t, e)
		if n := len(e.sent("incoming_chat")); n != 0 {
			t.Errorf("%d deliveries with the bot not accepting", n)
		}
		e.sim.SetStatus(b.ID, Accepting)
		scenario(t, e) // group 19 has no bot: smith still gets the chat
		if n := len(e.sent("incoming_chat")); n != 1 {
			t.Errorf("%d deliveries with the bot accepting, want 1", n)
		}
	})

	t.Run("additional_data holds the requested keys only", func(t *testing.T) {
		e := newEnv(t)
		e.hook("incoming_event", Filters{})
		e.hook("chat_deactivated", Filters{}, "chat_presence_user_ids")
		e.hook("incoming_chat", Filters{}, "chat_properties")
		scenario(t, e)
		if ad := dig(e.sent("incoming_event")[0], "additional_data"); len(ad.(map[string]any)) != 0 {
			t.Errorf("incoming_event additional_data %v, want {}", ad)
		}
		ad := dig(e.sent("chat_deactivated")[0], "additional_data").(map[string]any)
		if len(ad) != 1 || dig(ad, "chat_presence_user_ids", 1) != "smith@example.com" {
			t.Errorf("chat_deactivated additional_data %v", ad)
		}
		ad = dig(e.sent("incoming_chat")[0], "additional_data").(map[string]any)
		if len(ad) != 1 || dig(ad, "chat_properties", "source", "client_id") != e.app.ClientID {
			t.Errorf("incoming_chat additional_data %v", ad)
		}
	})
}

func TestWebhookDelivery(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		statuses  []int
		slow      int
		attempts  int
		delivered bool
	}{
		{"first try", nil, 0, 1, true},
		{"retried after 500 and 503", []int{500, 503}, 0, 3, true},
		{"2xx other than 200 is retried", []int{204}, 0, 2, true},
		{"gives up after 3 retries", []int{500, 500, 500, 500, 200}, 0, 4, false},
		{"retried after a timeout", nil, 1, 2, true},
		{"always times out", nil, 9, 4, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.rc.statuses, e.rc.slow, e.rc.delay = tt.statuses, tt.slow, time.Second
			e.hook("routing_status_set", Filters{})
			e.sim.SetStatus(e.smith.ID, NotAccepting)
			e.flush()
			ds := e.sim.Webhooks()
			if len(ds) != 1 {
				t.Fatalf("%d deliveries", len(ds))
			}
			d := ds[0]
			if d.Attempts != tt.attempts || d.Delivered != tt.delivered || d.Failed == tt.delivered {
				t.Errorf("delivery %+v", d)
			}
			if !tt.delivered && tt.slow > 0 && (d.Status != 0 || !strings.Contains(d.Err, "timeout")) {
				t.Errorf("timeout not recorded: %+v", d)
			}
			if e.rc.count() != tt.attempts {
				t.Errorf("receiver saw %d requests, want %d", e.rc.count(), tt.attempts)
			}
			env, err := d.Envelope()
			if err != nil || env.Action != "routing_status_set" || env.OrganizationID != e.sim.OrganizationID() ||
				env.SecretKey != "laudla991lamda0pnoaa0" || !bytes.Contains(env.Payload, []byte(`"not accepting chats"`)) {
				t.Errorf("envelope %+v %v", env, err)
			}
		})
	}
}

func TestWebhookKnobs(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.hook("routing_status_set", Filters{})
	toggle := func() {
		t.Helper()
		if err := e.sim.SetStatus(e.smith.ID, NotAccepting); err != nil {
			t.Fatal(err)
		}
		e.flush()
	}

	// Duplicates: every webhook twice, same body.
	e.sim.SetFaults(Faults{Duplicates: true})
	toggle()
	ds := e.sim.Webhooks()
	if len(ds) != 2 || !bytes.Equal(ds[0].Body, ds[1].Body) || ds[0].Duplicate || !ds[1].Duplicate || !ds[1].Delivered {
		t.Fatalf("duplicates: %+v", ds)
	}

	// Legacy envelope: license_id (int), no organization_id.
	e.sim.SetFaults(Faults{Legacy: true})
	toggle()
	var legacy map[string]any
	json.Unmarshal(e.sim.Webhooks()[2].Body, &legacy)
	if legacy["license_id"] != float64(e.sim.LicenseID()) || legacy["organization_id"] != nil {
		t.Errorf("legacy envelope: %v", legacy)
	}

	// Paused delivery holds webhooks until resumed.
	e.sim.SetFaults(Faults{Paused: true})
	before := e.rc.count()
	e.sim.SetStatus(e.smith.ID, Accepting)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := e.sim.Flush(ctx); err == nil || e.rc.count() != before {
		t.Fatalf("paused delivery went out")
	}
	e.sim.SetFaults(Faults{})
	e.flush()
	if e.rc.count() != before+1 {
		t.Errorf("resumed delivery: %d requests, want %d", e.rc.count(), before+1)
	}

	// Redeliver injects a duplicate of one delivery.
	last := e.sim.Webhooks()[len(e.sim.Webhooks())-1]
	if err := e.sim.Redeliver(last.ID); err != nil {
		t.Fatal(err)
	}
	e.flush()
	again := e.sim.Webhooks()[len(e.sim.Webhooks())-1]
	if again.ID == last.ID || !again.Duplicate || !bytes.Equal(again.Body, last.Body) || !again.Delivered {
		t.Errorf("redelivery %+v", again)
	}
	if err := e.sim.Redeliver(999); err == nil {
		t.Errorf("redelivering an unknown delivery succeeded")
	}
}
