package livechatsim

import (
	"bufio"
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestConfigurationAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g := e.config("create_group", obj{"name": "Billing", "agent_priorities": obj{"smith@example.com": "last"}})
	id := dig(g, "id")
	got := e.config("get_group", obj{"id": id, "fields": []string{"agent_priorities", "routing_status"}})
	if str(got, "name") != "Billing" || str(got, "agent_priorities", "smith@example.com") != "last" ||
		str(got, "routing_status") != Accepting {
		t.Errorf("get_group: %v", got)
	}
	e.fails(configAPIPath+"get_group", e.smith.Basic(), obj{"id": 99}, 404, "group_not_found")
	e.fails(configAPIPath+"list_groups", e.smith.Basic(), obj{"fields": []string{"bogus"}}, 400, "validation")
	plain := e.config("list_groups", obj{}).([]any)
	if len(plain) != 3 || dig(plain[0], "routing_status") != nil {
		t.Errorf("list_groups without fields: %v", plain)
	}

	agents := e.config("list_agents", obj{"fields": []string{"groups", "max_chats_count"}}).([]any)
	if len(agents) != 1 || str(agents[0], "login_status") != "accepting chats" || dig(agents[0], "max_chats_count") != 6.0 ||
		len(dig(agents[0], "groups").([]any)) != 3 {
		t.Errorf("list_agents: %v", agents)
	}
	if a := e.config("get_agent", obj{"id": e.smith.ID}); str(a, "account_id") != e.smith.AccountID {
		t.Errorf("get_agent: %v", a)
	}

	// Bots.
	e.fails(configAPIPath+"create_bot", e.smith.Basic(), obj{"name": "B"}, 400, "validation")
	oauth, _ := e.sim.AgentToken(e.app.ClientID, e.smith.ID)
	bot := e.ok(configAPIPath+"create_bot", "Bearer "+oauth, obj{"name": "B", "max_chats_count": 10})
	if b := e.config("get_bot", obj{"id": str(bot, "id")}); str(b, "owner_client_id") != e.app.ClientID || dig(b, "max_chats_count") != 10.0 {
		t.Errorf("get_bot: %v", b)
	}
	e.fails(configAPIPath+"create_bot", e.smith.Basic(), obj{"name": "B", "owner_client_id": e.app.ClientID,
		"max_chats_count": 501}, 400, "validation")
	e.fails(configAPIPath+"issue_bot_token", e.smith.Basic(), obj{"bot_id": str(bot, "id"), "client_id": e.app.ClientID,
		"bot_secret": "wrong", "organization_id": e.sim.OrganizationID()}, 400, "validation")
	sec := e.config("reset_bot_secret", obj{"id": str(bot, "id"), "owner_client_id": e.app.ClientID})
	e.config("issue_bot_token", obj{"bot_id": str(bot, "id"), "client_id": e.app.ClientID,
		"bot_secret": str(sec, "secret"), "organization_id": e.sim.OrganizationID()})
	e.config("update_bot", obj{"id": str(bot, "id"), "name": "C", "groups": []obj{{"id": 19, "priority": "first"}}})
	if l := e.config("list_bots", obj{"all": true, "fields": []string{"groups"}}).([]any); len(l) != 1 || str(l[0], "name") != "C" ||
		len(dig(l[0], "groups").([]any)) != 1 {
		t.Errorf("list_bots: %v", l)
	}
	e.config("delete_bot", obj{"id": str(bot, "id")})
	e.fails(configAPIPath+"get_bot", e.smith.Basic(), obj{"id": str(bot, "id")}, 404, "not_found")

	// Organization and license ids: v3.4 only, no auth.
	if st, v := e.do("GET", "/v3.4/configuration/action/get_organization_id?license_id=1", "", nil); st != 404 ||
		str(v, "error", "type") != "license_not_found" {
		t.Errorf("wrong license: %d %v", st, v)
	}
	if st, _ := e.do("GET", "/v3.6/configuration/action/get_organization_id?license_id=104130623", "", nil); st != 404 {
		t.Errorf("get_organization_id on v3.6: %d", st)
	}
	if st, v := e.do("GET", "/v3.4/configuration/action/get_license_id?organization_id="+e.sim.OrganizationID(), "", nil); st != 200 ||
		dig(v, "license_id") != float64(DefaultLicenseID) {
		t.Errorf("get_license_id: %d %v", st, v)
	}
	state := e.config("get_license_webhooks_state", obj{"owner_client_id": e.app.ClientID})
	e.config("disable_license_webhooks", obj{"owner_client_id": e.app.ClientID})
	if dig(state, "license_webhooks_enabled") != true ||
		dig(e.config("get_license_webhooks_state", obj{"owner_client_id": e.app.ClientID}), "license_webhooks_enabled") != false {
		t.Errorf("license webhooks state")
	}
}

func TestDriverEndpoints(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	setup := e.ok("/sim/setup", "", obj{
		"groups": []obj{{"id": 3, "name": "VIP"}},
		"apps":   []obj{{"client_id": "app2", "secret": "s2", "redirect_uri": "https://app2.example"}},
		"agents": []obj{{"id": "jones@example.com", "name": "Jones", "status": "not_accepting_chats",
			"groups": []obj{{"id": 3, "priority": "first"}}}},
		"bots": []obj{{"name": "Seat", "owner_client_id": "app2", "groups": []obj{{"id": 3, "priority": "last"}}}},
		"webhooks": []obj{{"url": e.rc.URL, "action": "incoming_event", "secret_key": "k", "type": "license",
			"owner_client_id": "app2", "filters": obj{"author_type": "agent"}}},
	})
	jonesAuth := str(setup, "agents", 0, "authorization")
	raw, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(jonesAuth, "Basic "))
	if !strings.HasPrefix(string(raw), str(setup, "agents", 0, "account_id")+":") || str(setup, "bots", 0, "id") == "" {
		t.Fatalf("setup: %v", setup)
	}
	e.ok(agentAPIPath+"list_chats", jonesAuth, obj{})

	// Nobody accepts in group 3 yet.
	e.fails("/sim/customer/start", "", obj{"group_id": 3, "text": "hi"}, 422, "groups_offline")
	e.ok("/sim/agent/status", "", obj{"agent_id": "jones@example.com", "status": "accepting_chats"})
	start := e.ok("/sim/customer/start", "", obj{"group_id": 3, "text": "hi", "name": "Ann", "email": "ann@example.com"})
	chatID := str(start, "chat_id")
	e.ok("/sim/agent/send", "", obj{"agent_id": "jones@example.com", "chat_id": chatID, "text": "Hello Ann"})
	e.ok("/sim/agent/file", "", obj{"agent_id": "jones@example.com", "chat_id": chatID, "name": "a.txt",
		"data": base64.StdEncoding.EncodeToString([]byte("hello"))})
	e.ok("/sim/customer/send", "", obj{"chat_id": chatID, "text": "thanks"})
	e.fails("/sim/agent/send", "", obj{"agent_id": "smith@example.com", "chat_id": chatID, "text": "x"}, 403, "missing_access")
	e.ok("/sim/agent/join", "", obj{"agent_id": "smith@example.com", "chat_id": chatID})
	e.ok("/sim/agent/transfer", "", obj{"agent_id": "smith@example.com", "chat_id": chatID,
		"target": obj{"type": "group", "ids": []int{19}}, "ignore_agents_availability": true})
	_, chat := e.do("GET", "/sim/chats/"+chatID, "", nil)
	var texts []string
	for _, ev := range dig(chat, "threads", 0, "events").([]any) {
		if str(ev, "type") == "message" {
			texts = append(texts, str(ev, "text"))
		}
	}
	if !slices.Equal(texts, []string{"hi", "Hello Ann", "thanks"}) {
		t.Errorf("driver chat texts %v", texts)
	}
	_, cust := e.do("GET", "/sim/customers/"+str(start, "customer_id"), "", nil)
	if str(cust, "name") != "Ann" || str(cust, "email") != "ann@example.com" {
		t.Errorf("customer %v", cust)
	}
	e.ok("/sim/customer/close", "", obj{"chat_id": chatID})
	e.fails("/sim/agent/close", "", obj{"agent_id": "smith@example.com", "chat_id": chatID}, 422, "chat_inactive")
	if st, v := e.do("GET", "/sim/chats/NOPE", "", nil); st != 404 || str(v, "error", "type") != "not_found" {
		t.Errorf("unknown chat: %d %v", st, v)
	}

	// Webhooks, faults, clock and tokens.
	e.ok("/sim/webhooks/flush", "", nil)
	_, hooks := e.do("GET", "/sim/webhooks", "", nil)
	if n := len(hooks.([]any)); n != 2 || str(hooks, 0, "body", "payload", "event", "text") != "Hello Ann" ||
		dig(hooks, 0, "delivered") != true {
		t.Errorf("/sim/webhooks: %v", hooks)
	}
	e.ok("/sim/webhooks/redeliver", "", obj{"id": 1})
	e.ok("/sim/faults", "", obj{"too_many": 1, "latency_ms": 1})
	_, f := e.do("GET", "/sim/faults", "", nil)
	if dig(f, "too_many") != 1.0 || dig(f, "latency_ms") != 1.0 {
		t.Errorf("faults: %v", f)
	}
	e.fails(agentAPIPath+"list_chats", jonesAuth, obj{}, 429, "too_many_requests")
	e.ok("/sim/faults", "", obj{})
	tok := e.ok("/sim/token", "", obj{"client_id": "app2", "agent_id": "jones@example.com"})
	e.ok(agentAPIPath+"list_chats", "Bearer "+str(tok, "access_token"), obj{})
	e.ok("/sim/expire_tokens", "", nil)
	e.fails(agentAPIPath+"list_chats", "Bearer "+str(tok, "access_token"), obj{}, 401, "authentication")
	bt := e.ok("/sim/token", "", obj{"bot_id": str(setup, "bots", 0, "id")})
	e.ok(agentAPIPath+"list_chats", "Bearer "+str(bt, "access_token"), obj{})
	adv := e.ok("/sim/advance", "", obj{"seconds": 86400})
	if !strings.HasSuffix(str(adv, "now"), "Z") {
		t.Errorf("advance: %v", adv)
	}
	e.fails(agentAPIPath+"list_chats", "Bearer "+str(bt, "access_token"), obj{}, 401, "authentication")
	code := e.ok("/sim/code", "", obj{"client_id": "app2", "agent_id": "jones@example.com"})
	resp, err := http.PostForm(e.srv.URL+"/v2/token", url.Values{"grant_type": {"authorization_code"},
		"code": {str(code, "code")}, "client_id": {"app2"}, "client_secret": {"s2"}})
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("code exchange: %v %v", resp, err)
	}
	resp.Body.Close()

	_, state := e.do("GET", "/sim/state", "", nil)
	if len(dig(state, "chats").([]any)) != 1 || len(dig(state, "bots").([]any)) != 1 || len(dig(state, "agents").([]any)) != 2 ||
		str(state, "agents", 1, "status") != Accepting {
		t.Errorf("state: %v", state)
	}
	e.fails("/sim/setup", "", obj{"agents": []obj{{"id": "not-an-email"}}}, 400, "validation")
}

// syncBuf is a goroutine-safe writer that signals on wrote (buffered, one
// place) after each write.
type syncBuf struct {
	mu    sync.Mutex
	b     strings.Builder
	wrote chan struct{}
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.b.Write(p)
	select {
	case s.wrote <- struct{}{}:
	default: // a signal is pending already
	}
	return n, err
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestMainServes(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := syncBuf{wrote: make(chan struct{}, 1)}
	done := make(chan error, 1)
	go func() { done <- Main(ctx, "127.0.0.1:0", &out) }()
	var base string
	deadline := time.After(5 * time.Second)
	for base == "" {
		select {
		case <-out.wrote:
		case err := <-done:
			t.Fatalf("Main returned before listening: %v\n%s", err, out.String())
		case <-deadline:
			t.Fatalf("no address in %q", out.String())
		}
		sc := bufio.NewScanner(strings.NewReader(out.String()))
		for sc.Scan() {
			if _, addr, ok := strings.Cut(sc.Text(), "listening on "); ok {
				base = addr
			}
		}
	}
	a := Agent{AccountID: MainAccountID, PAT: MainPAT}
	req, _ := http.NewRequest("POST", base+configAPIPath+"list_groups", strings.NewReader("{}"))
	req.Header.Set("Authorization", a.Basic())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"Support"`) {
		t.Errorf("list_groups: %d %s", resp.StatusCode, body)
	}
	for _, want := range []string{MainClientID, MainPAT, DefaultOrganizationID, a.Basic()} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %s:\n%s", want, out.String())
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Main: %v", err)
	}
}
