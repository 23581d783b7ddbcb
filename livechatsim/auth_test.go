package livechatsim

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestAuthKinds(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	oauth, err := e.sim.AgentToken(e.app.ClientID, e.smith.ID)
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.sim.AddBot(Bot{OwnerClientID: e.app.ClientID, Status: Accepting, Groups: map[int]string{19: "first"}})
	if err != nil {
		t.Fatal(err)
	}
	bot, err := e.sim.BotToken(b.ID)
	if err != nil {
		t.Fatal(err)
	}
	cust, _ := e.customer()
	org := "?organization_id=" + e.sim.OrganizationID()
	wrong := "Basic " + base64.StdEncoding.EncodeToString([]byte(e.smith.AccountID+":nope"))
	tests := []struct {
		name, path, auth string
		status           int
		typ              string
	}{
		{"PAT as Basic", agentAPIPath + "list_chats", e.smith.Basic(), 200, ""},
		{"PAT as Bearer", agentAPIPath + "list_chats", "Bearer " + e.smith.PAT, 401, "authentication"},
		{"wrong PAT", agentAPIPath + "list_chats", wrong, 401, "authentication"},
		{"agent OAuth", agentAPIPath + "list_chats", "Bearer " + oauth, 200, ""},
		{"agent OAuth %3A", agentAPIPath + "list_chats", "Bearer " + strings.Replace(oauth, ":", "%3A", 1), 401, "authentication"},
		{"bot token", agentAPIPath + "list_chats", "Bearer " + bot, 200, ""},
		{"customer token on agent API", agentAPIPath + "list_chats", cust, 401, "authentication"},
		{"no auth on agent API", agentAPIPath + "list_chats", "", 401, "authentication"},
		{"customer token", customerAPIPath + "get_customer" + org, cust, 200, ""},
		{"OAuth on customer API", customerAPIPath + "get_customer" + org, "Bearer " + oauth, 401, "authentication"},
		{"PAT on customer API", customerAPIPath + "get_customer" + org, e.smith.Basic(), 401, "authentication"},
		{"no organization_id", customerAPIPath + "get_customer", cust, 400, "validation"},
		{"other organization_id", customerAPIPath + "get_customer?organization_id=x", cust, 404, "license_not_found"},
		{"PAT on configuration", configAPIPath + "list_groups", e.smith.Basic(), 200, ""},
		{"OAuth on configuration", configAPIPath + "list_groups", "Bearer " + oauth, 200, ""},
		{"bot on configuration", configAPIPath + "list_groups", "Bearer " + bot, 403, "authorization"},
		{"customer on configuration", configAPIPath + "list_groups", cust, 401, "authentication"},
		{"list_webhook_names needs none", configAPIPath + "list_webhook_names", "", 200, ""},
		{"v3.5", "/v3.5/agent/action/list_chats", e.smith.Basic(), 200, ""},
		{"v3.4", "/v3.4/agent/action/list_chats", e.smith.Basic(), 200, ""},
		{"v3.7", "/v3.7/agent/action/list_chats", e.smith.Basic(), 400, "unsupported_version"},
		{"close_chat does not exist", "/v3.5/agent/action/close_chat", e.smith.Basic(), 404, "not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, v := e.do("POST", tt.path, tt.auth, obj{})
			if st != tt.status || str(v, "error", "type") != tt.typ {
				t.Fatalf("got %d %v, want %d %q", st, v, tt.status, tt.typ)
			}
			if tt.typ == "authentication" && tt.auth != "" && str(v, "error", "message") != "Invalid access token" {
				t.Errorf("message %q, want Invalid access token", str(v, "error", "message"))
			}
		})
	}

	// Up to v3.5, X-Author-Id lets an agent credential act as a bot.
	req, _ := http.NewRequest("POST", e.srv.URL+"/v3.5/agent/action/start_chat", strings.NewReader(`{}`))
	req.Header.Set("Authorization", e.smith.Basic())
	req.Header.Set("X-Author-Id", b.ID)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	chatID := str(decode(t, resp), "chat_id")
	if c, _ := e.sim.Chat(chatID); len(c.Users) != 1 || c.Users[0].ID != b.ID {
		t.Errorf("X-Author-Id chat users: %+v", c.Users)
	}
}

func TestCustomerToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	oauth, _ := e.sim.AgentToken(e.app.ClientID, e.smith.ID)
	cookie := func(c *http.Client, redirect string) (int, any) {
		t.Helper()
		body := `{"grant_type":"cookie","client_id":"` + e.app.ClientID + `","response_type":"token","organization_id":"` +
			e.sim.OrganizationID() + `","redirect_uri":"` + redirect + `"}`
		resp, err := c.Post(e.srv.URL+"/v2/customer/token", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, decode(t, resp)
	}
	jar := newJarClient(t)
	_, first := cookie(jar, e.app.RedirectURI)
	_, again := cookie(jar, e.app.RedirectURI+"/deeper")
	_, other := cookie(newJarClient(t), e.app.RedirectURI)
	if id := str(first, "entity_id"); id == "" || str(again, "entity_id") != id || str(other, "entity_id") == id {
		t.Errorf("cookie grant customers: %v %v %v", first, again, other)
	}
	if str(first, "access_token") == str(again, "access_token") || !strings.HasPrefix(str(first, "access_token"), "dal:") {
		t.Errorf("tokens: %v %v", first, again)
	}
	if st, v := cookie(jar, "https://evil.example"); st != 400 || str(v, "oauth_exception") != "invalid_request" {
		t.Errorf("redirect mismatch: %d %v", st, v)
	}

	tests := []struct {
		name, auth string
		body       obj
		status     int
		exception  string
	}{
		{"unknown client", "", obj{"grant_type": "cookie", "client_id": "nope", "organization_id": e.sim.OrganizationID(),
			"redirect_uri": e.app.RedirectURI}, 401, "invalid_client"},
		{"cookie without organization", "", obj{"grant_type": "cookie", "client_id": e.app.ClientID,
			"redirect_uri": e.app.RedirectURI}, 400, "invalid_request"},
		{"agent_token with a PAT", e.smith.Basic(), obj{"grant_type": "agent_token", "client_id": e.app.ClientID,
			"response_type": "token"}, 401, "access_denied"},
		{"agent_token with a PAT as Bearer", "Bearer " + e.smith.PAT, obj{"grant_type": "agent_token",
			"client_id": e.app.ClientID, "response_type": "token"}, 401, "access_denied"},
		{"agent_token", "Bearer " + oauth, obj{"grant_type": "agent_token", "client_id": e.app.ClientID,
			"response_type": "token"}, 200, ""},
		{"agent_token for a customer", "Bearer " + oauth, obj{"grant_type": "agent_token", "client_id": e.app.ClientID,
			"response_type": "token", "entity_id": str(first, "entity_id")}, 200, ""},
		{"agent_token unknown customer", "Bearer " + oauth, obj{"grant_type": "agent_token", "client_id": e.app.ClientID,
			"response_type": "token", "entity_id": "nobody"}, 400, "invalid_request"},
		{"bad response_type", "", obj{"grant_type": "cookie", "client_id": e.app.ClientID, "response_type": "code"},
			400, "unsupported_response_type"},
		{"bad grant", "", obj{"grant_type": "password", "client_id": e.app.ClientID}, 400, "unsupported_grant_type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, v := e.do("POST", "/v2/customer/token", tt.auth, tt.body)
			if st != tt.status || str(v, "oauth_exception") != tt.exception {
				t.Fatalf("got %d %v, want %d %s", st, v, tt.status, tt.exception)
			}
			if st == 200 {
				checkShape(t, "customer_token_response.json", v)
				if id := tt.body["entity_id"]; id != nil && str(v, "entity_id") != id {
					t.Errorf("entity_id %v, want %v", str(v, "entity_id"), id)
				}
			}
		})
	}
}

func TestOAuth(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	post := func(form url.Values) (int, any) {
		t.Helper()
		resp, err := http.PostForm(e.srv.URL+"/v2/token", form)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, decode(t, resp)
	}
	code, _ := e.sim.Code(e.app.ClientID, e.smith.ID)
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "client_id": {e.app.ClientID},
		"client_secret": {e.app.Secret}, "redirect_uri": {e.app.RedirectURI}}
	if st, v := post(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "client_id": {e.app.ClientID},
		"client_secret": {"wrong"}}); st != 401 || str(v, "oauth_exception") != "invalid_client" {
		t.Errorf("wrong secret: %d %v", st, v)
	}
	st, tok := post(form)
	if st != 200 || dig(tok, "expires_in") != 28800.0 || str(tok, "account_id") != e.smith.AccountID {
		t.Fatalf("code exchange: %d %v", st, tok)
	}
	if st, v := post(form); st != 401 || str(v, "oauth_exception") != "invalid_grant" {
		t.Errorf("code reuse: %d %v", st, v)
	}
	access := "Bearer " + str(tok, "access_token")
	e.ok(agentAPIPath+"list_chats", access, obj{})

	// Refresh with a JSON body.
	st, ref := e.do("POST", "/v2/token", "", obj{"grant_type": "refresh_token", "refresh_token": str(tok, "refresh_token"),
		"client_id": e.app.ClientID, "client_secret": e.app.Secret})
	if st != 200 || str(ref, "access_token") == str(tok, "access_token") {
		t.Fatalf("refresh: %d %v", st, ref)
	}
	checkShape(t, "token_response.json", ref)
	if st, v := e.do("POST", "/v2/token", "", obj{"grant_type": "password", "client_id": e.app.ClientID,
		"client_secret": e.app.Secret}); st != 400 || str(v, "oauth_exception") != "unsupported_grant_type" {
		t.Errorf("unsupported grant: %d %v", st, v)
	}

	// Revoke: the token and its refresh token stop working.
	if st, v := e.do("DELETE", "/v2/token", access, nil); st != 200 || len(v.(map[string]any)) != 0 {
		t.Fatalf("revoke: %d %v", st, v)
	}
	if st, _ := e.do("GET", "/v2/info", access, nil); st != 401 {
		t.Errorf("info after revoke: %d", st)
	}
	e.fails(agentAPIPath+"list_chats", access, obj{}, 401, "authentication")
	if st, _ := e.do("POST", "/v2/token", "", obj{"grant_type": "refresh_token", "refresh_token": str(tok, "refresh_token"),
		"client_id": e.app.ClientID, "client_secret": e.app.Secret}); st != 401 {
		t.Errorf("refresh after revoke: %d", st)
	}

	// The authorize page with PKCE (S256).
	verifier := "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"response_type": {"code"}, "client_id": {e.app.ClientID}, "redirect_uri": {e.app.RedirectURI},
		"state": {"xyz"}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"}}
	resp, err := newJarClient(t).Get(e.srv.URL + "/?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || loc.Query().Get("state") != "xyz" || !strings.HasPrefix(loc.String(), e.app.RedirectURI) {
		t.Fatalf("authorize: %d %s", resp.StatusCode, loc)
	}
	form.Set("code", loc.Query().Get("code"))
	form.Set("code_verifier", "wrong")
	if st, _ := post(form); st != 401 {
		t.Errorf("wrong verifier: %d", st)
	}
	resp, _ = newJarClient(t).Get(e.srv.URL + "/?" + q.Encode())
	resp.Body.Close()
	loc, _ = url.Parse(resp.Header.Get("Location"))
	form.Set("code", loc.Query().Get("code"))
	form.Set("code_verifier", verifier)
	if st, v := post(form); st != 200 {
		t.Errorf("PKCE exchange: %d %v", st, v)
	}
}
