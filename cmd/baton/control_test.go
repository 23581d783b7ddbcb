package main

import (
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton/livechatsim"
)

// TestControlPlane: on each store, Baton starts with no configuration file;
// `baton admin init` makes the first admin key; a workspace, an API key, a
// webhook desk, a LiveChat desk (against the simulator), a bot and a policy
// are made through the admin API only, and handoffs then open in both
// desks with no restart.
func TestControlPlane(t *testing.T) {
	t.Parallel()
	for _, store := range []string{"sqlite", "postgres"} {
		t.Run(store, func(t *testing.T) {
			t.Parallel()
			env := e2eStoreEnv(t, store)
			maps.Copy(env, map[string]string{"BATON_ADDR": "127.0.0.1:0", "BATON_RETRY_SCALE": "0.01"})
			out, stderr, err := runArgsEnv(t, env, "admin", "init", "--name", "ops")
			if err != nil {
				t.Fatalf("admin init: %v %s", err, stderr)
			}
			adminKey := strings.TrimSpace(strings.SplitN(out, "\n", 2)[0])
			if !strings.HasPrefix(adminKey, "badm_") {
				t.Fatalf("admin init printed %q", out)
			}
			in := start(t, env)
			dumpOnFailure(t, "baton", in)
			if !strings.Contains(in.stderr.String(), "no workspace") {
				t.Errorf("serve did not warn that it has no workspace:\n%s", in.stderr)
			}
			adm := apiClient{base: in.base, key: adminKey}

			lc := newLCSim(t)
			lc.sim.AddGroup(1, "Support")
			pat := lc.addAgent(t, livechatsim.Agent{ID: lcBatonAgent, Name: "Baton", Status: livechatsim.NotAccepting, Groups: map[int]string{0: "normal"}})
			lc.addAgent(t, livechatsim.Agent{ID: lcMarie, Name: "Marie", Status: livechatsim.Accepting, Groups: map[int]string{1: "normal"}})
			company := newCompany(t, "support")
			bot := newBotHook(t)

			adm.must(t, 201, "POST", "/v1/admin/workspaces", map[string]any{"id": "acme", "name": "Acme"}, nil)
			var key struct{ Key string }
			adm.must(t, 201, "POST", "/v1/admin/workspaces/acme/keys", map[string]any{"name": "prod"}, &key)
			adm.must(t, 201, "POST", "/v1/admin/workspaces/acme/desks", map[string]any{"id": "support", "name": "Support", "kind": "webhook",
				"settings": map[string]string{"url": company.url, "secret": company.secret}}, nil)
			adm.must(t, 201, "POST", "/v1/admin/workspaces/acme/desks", map[string]any{"id": "livechat", "name": "LiveChat", "kind": "livechat",
				"settings": map[string]string{"organization_id": lc.sim.OrganizationID(), "client_id": lc.app.ClientID, "client_secret": lc.app.Secret,
					"redirect_uri": lc.app.RedirectURI, "account_id": pat.AccountID, "token": pat.PAT, "secret_key": lcSecretKey,
					"group_id": "1", "api_url": lc.simURL, "accounts_url": lc.simURL}}, nil)
			var check struct{ Status, LastError string }
			adm.must(t, 200, "POST", "/v1/admin/workspaces/acme/desks/livechat/check", nil, &check)
			if check.Status != "available" {
				t.Fatalf("the LiveChat desk checks %s: %s", check.Status, check.LastError)
			}
			adm.must(t, 201, "POST", "/v1/admin/workspaces/acme/bots", map[string]any{"id": "helpbot", "name": "Help bot",
				"webhook_url": bot.url, "webhook_secret": bot.secret, "desk_id": "support"}, nil)
			adm.must(t, 200, "PUT", "/v1/admin/workspaces/acme/bots/helpbot/policy", map[string]any{"wait_timeout": "10m", "history_rounds": 2,
				"trigger_description": "when the customer asks for a person"}, nil)

			api := apiClient{base: in.base, key: key.Key}
			for i, desk := range []string{"support", "livechat"} {
				var h apiHandoff
				api.must(t, 201, "POST", "/v1/handoffs", map[string]any{"desk_id": desk, "conversation_id": fmt.Sprint("c-", i),
					"customer": lcCustomer, "history": lcHistory, "question": lcQuestion}, &h)
				if q := bot.await(t, h.ID, "handoff.queued"); q.data.DeskID != desk {
					t.Errorf("handoff %s queued at %q, want %q", h.ID, q.data.DeskID, desk)
				}
			}
			if n := len(company.accepted("")); n != 1 || company.accepted("")[0].path != "establish" {
				t.Errorf("the company took %v", company.accepted(""))
			}
			if chats := lc.sim.Chats(); len(chats) != 1 {
				t.Errorf("the simulator has %d chats", len(chats))
			}
			if store == "postgres" {
				// A second instance on the same database sees the new key, and
				// a revocation, within a second.
				other := start(t, env)
				dumpOnFailure(t, "second", other)
				seen := func(want int) {
					t.Helper()
					eventuallyWithin(t, time.Second, fmt.Sprintf("the key answering %d on the second instance", want), func() (bool, string) {
						code, body := apiClient{base: other.base, key: key.Key}.call(t, "GET", "/v1/availability", nil, nil)
						return code == want, string(body)
					})
				}
				seen(200)
				var keys struct{ Keys []struct{ ID string } }
				adm.must(t, 200, "GET", "/v1/admin/workspaces/acme/keys", nil, &keys)
				adm.must(t, 204, "DELETE", "/v1/admin/workspaces/acme/keys/"+keys.Keys[0].ID, nil, nil)
				seen(401)
			}
			for _, secret := range []string{pat.PAT, lcSecretKey, lc.app.Secret, company.secret, bot.secret, key.Key, adminKey} {
				if strings.Contains(in.stderr.String(), secret) || strings.Contains(in.stdout.String(), secret) {
					t.Errorf("Baton's output holds a secret")
				}
			}
		})
	}
}
