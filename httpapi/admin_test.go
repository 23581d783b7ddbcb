package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/app"
	"github.com/batonhq/baton/postgres"
	"github.com/batonhq/baton/webhookdesk"
)

const adm = "/v1/admin/workspaces/"

// adminDo makes an admin request and remembers every answer's body, so a
// test can look for secrets in all of them.
type adminRun struct {
	f       *fixture
	answers []string
}

func (a *adminRun) do(method, path string, body any) res {
	a.f.t.Helper()
	r := a.f.do(req{method: method, path: path, key: adminKey, body: body})
	a.answers = append(a.answers, string(r.body))
	return r
}

// TestAdminBuildsAWorkspace: a workspace, key, desk, bot and policy made
// through the admin API alone carry a handoff at once, with no restart;
// secrets show only once, and never in an answer, the log or the audit log.
func TestAdminBuildsAWorkspace(t *testing.T) {
	t.Parallel()
	for _, store := range stores {
		t.Run(store, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, withStore(store))
			a := &adminRun{f: f}
			const deskSecret, botSecret, password = "desk-secret-SEEKME-4242", "whsec_" + "MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0", "pass-SEEKME-0099"

			must[map[string]any](t, a.do("POST", "/v1/admin/workspaces", map[string]any{"id": "acme", "name": "Acme"}), 201)
			key := must[map[string]any](t, a.do("POST", adm+"acme/keys", map[string]any{"name": "prod"}), 201)
			secretKey, _ := key["key"].(string)
			if !strings.HasPrefix(secretKey, baton.PrefixAPIKey) || !strings.HasPrefix(secretKey, key["prefix"].(string)) {
				t.Fatalf("key %v", key)
			}
			desk := must[map[string]any](t, a.do("POST", adm+"acme/desks", map[string]any{"id": "support", "name": "Support", "kind": "webhook",
				"settings": map[string]string{webhookdesk.SettingURL: f.company.srv.URL, webhookdesk.SettingSecret: deskSecret}}), 201)
			if desk["secrets"].(map[string]any)["secret"] != "set" || desk["settings"].(map[string]any)["secret"] != nil {
				t.Fatalf("desk answer shows %v", desk)
			}
			must[map[string]any](t, a.do("POST", adm+"acme/desks", map[string]any{"id": "acme-inbox", "name": "Inbox", "kind": "inbox"}), 201)
			must[map[string]any](t, a.do("POST", adm+"acme/bots", map[string]any{"id": "helper", "name": "Helper", "desk_id": "support",
				"webhook_url": "https://bot.example/hook", "webhook_secret": botSecret}), 201)
			pol := must[map[string]any](t, a.do("PUT", adm+"acme/bots/helper/policy", map[string]any{"zone": "Europe/Paris", "wait_timeout": "5m",
				"trigger_description": "Hand off when the customer asks for a person.", "history_rounds": 3}), 200)
			if pol["trigger_description"] != "Hand off when the customer asks for a person." {
				t.Fatalf("policy %v", pol)
			}
			agent := must[map[string]any](t, a.do("POST", adm+"acme/agents", map[string]any{"name": "Ann", "email": "ann@acme.example",
				"desk_id": "acme-inbox", "password": password, "api_key": true}), 201)
			if agent["password_set"] != true || agent["key_set"] != true || !strings.HasPrefix(agent["key"].(string), baton.PrefixAgentKey) {
				t.Fatalf("agent %v", agent)
			}

			// The new key opens a handoff into the new desk: no restart.
			h := must[wireHandoff](t, f.do(req{method: "POST", path: "/v1/handoffs", key: secretKey, body: map[string]any{
				"conversation_id": "c-1", "customer": map[string]any{"id": "u1"}, "question": "a person please"}}), 201)
			if got := f.waitStateAs(secretKey, h.ID, "queued"); got.DeskID != "support" {
				t.Fatalf("handoff went to %q", got.DeskID)
			}
			if calls := f.company.calls(); len(calls) == 0 || !strings.Contains(strings.Join(calls, " "), "/conversation/establish") {
				t.Fatalf("the company got %v", calls)
			}
			// The desk cannot go while the bot uses it, and says which bot.
			p := wantProblem(t, a.do("DELETE", adm+"acme/desks/support", nil), 409, baton.ECONFLICT, "")
			if !strings.Contains(p.Detail, "helper") {
				t.Errorf("refusal %q does not name the bot", p.Detail)
			}
			// The workspace cannot go while its handoff is open; forced, it ends it.
			wantProblem(t, a.do("DELETE", adm+"acme", nil), 409, baton.ECONFLICT, "force")
			rot := must[map[string]any](t, a.do("POST", adm+"acme/bots/helper/rotate-secret", map[string]any{"overlap": "1h"}), 200)
			if rot["previous_secret_until"] == nil || !strings.HasPrefix(rot["webhook_secret"].(string), "whsec_") {
				t.Fatalf("rotation %v", rot)
			}
			for _, path := range []string{"acme", "acme/keys", "acme/bots", "acme/bots/helper", "acme/desks", "acme/desks/support",
				"acme/agents", "acme/bots/helper/deliveries", "acme/bots/helper/policy", "acme/desks/support/policy",
				"acme/bots/helper/availability", "acme/bots/helper/calendar?from=2026-12-01&to=2026-12-07"} {
				a.do("GET", adm+path, nil)
			}
			check := must[map[string]any](t, a.do("POST", adm+"acme/desks/support/check", nil), 200)
			if check["status"] == "" {
				t.Errorf("check %v", check)
			}
			del := must[map[string]any](t, a.do("DELETE", adm+"acme?force=true", nil), 200)
			if del["ended"] != 1.0 {
				t.Errorf("delete %v", del)
			}
			endedAfterDelete(t, f, secretKey)
			// A deleted workspace's desk answers as one that never was.
			wantProblem(t, f.do(req{method: "POST", path: "/v1/desks/support/inbound/message",
				header: map[string]string{"Authorization": "Bearer " + deskSecret}, body: map[string]any{"istest": true}, offSpec: true}), 401, baton.EUNAUTHORIZED, "")
			audit := a.do("GET", "/v1/admin/audit?workspace=acme", nil)
			entries := must[struct {
				Entries []struct {
					Action, Object string
				} `json:"entries"`
			}](t, audit, 200).Entries
			if len(entries) < 8 {
				t.Fatalf("%d audit entries", len(entries))
			}
			for _, secret := range []string{deskSecret, botSecret, password, secretKey, agent["key"].(string), rot["webhook_secret"].(string)} {
				if strings.Contains(f.logs.String(), secret) {
					t.Errorf("the log holds a secret %q", secret)
				}
				if strings.Contains(string(audit.body), secret) {
					t.Errorf("the audit log holds a secret %q", secret)
				}
				shown := 0
				for _, body := range a.answers {
					if strings.Contains(body, secret) {
						shown++
					}
				}
				if limit := map[bool]int{true: 0, false: 1}[secret == deskSecret || secret == botSecret || secret == password]; shown > limit {
					t.Errorf("secret %q is in %d answers, want at most %d", secret, shown, limit)
				}
			}
		})
	}
}

// endedAfterDelete checks that the deleted workspace's key is refused and
// that its handoff ends.
func endedAfterDelete(t *testing.T, f *fixture, revoked string) {
	t.Helper()
	wantProblem(t, f.do(req{method: "GET", path: "/v1/availability", key: revoked}), 401, baton.EUNAUTHORIZED, "")
	// The handoff's end is checked through the store: no key reaches a deleted workspace.
	deadline := time.Now().Add(defaultTimeout)
	for time.Now().Before(deadline) {
		var h baton.Handoff
		f.store.View(context.Background(), func(tx baton.Tx) (err error) {
			hs, err := tx.OpenHandoffs(baton.OpenQuery{WorkspaceID: "acme"})
			if len(hs) > 0 {
				h = hs[0]
			}
			return err
		})
		if h.ID == "" {
			return
		}
		<-time.After(20 * time.Millisecond)
	}
	t.Fatal("the forced delete left a handoff open")
}

// TestAdminBadInput: every refusal names the field and changes nothing.
func TestAdminBadInput(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	a := &adminRun{f: f}
	before := f.snapshot()
	for _, c := range []struct {
		method, path string
		body         any
		status       int
		code, field  string
	}{
		{"POST", "/v1/admin/workspaces", map[string]any{"id": "x", "name": "X", "colour": "red"}, 400, baton.EBADREQUEST, "colour"},
		{"POST", "/v1/admin/workspaces", map[string]any{"id": "bad id", "name": "X"}, 422, baton.EINVALID, "id"},
		{"POST", "/v1/admin/workspaces", map[string]any{"id": ws1, "name": "Again"}, 409, baton.ECONFLICT, "id"},
		{"POST", "/v1/admin/workspaces", map[string]any{"name": 7}, 422, baton.EINVALID, "name"},
		{"POST", adm + ws1 + "/desks", map[string]any{"name": "D", "kind": "zendesk"}, 422, baton.EINVALID, "kind"},
		{"POST", adm + ws1 + "/desks", map[string]any{"name": "D", "kind": "livechat", "settings": map[string]string{"colour": "red"}}, 422, baton.EINVALID, "settings.colour"},
		{"POST", adm + ws1 + "/desks", map[string]any{"name": "D", "kind": "inbox", "settings": map[string]string{"url": "x"}}, 422, baton.EINVALID, "settings"},
		{"POST", adm + ws1 + "/bots", map[string]any{"name": "B", "webhook_url": "https://b.example", "webhook_secret": "nope"}, 422, baton.EINVALID, "webhook_secret"},
		{"POST", adm + ws1 + "/bots", map[string]any{"name": "B", "desk_id": "nope"}, 422, baton.EINVALID, "desk_id"},
		{"PUT", adm + ws1 + "/bots/" + bot1 + "/policy", map[string]any{"periods": []map[string]any{{"kind": "weekly", "days": []string{"mon"}, "start": "25:00", "end": "26:00"}}}, 422, baton.EINVALID, "periods[0].start"},
		{"POST", adm + ws1 + "/bots", map[string]any{"name": "B", "policy": map[string]any{"periods": []map[string]any{{"kind": "weekly", "days": []string{"mon"}, "start": "25:00", "end": "26:00"}}}}, 422, baton.EINVALID, "policy.periods[0].start"},
		{"PUT", adm + ws1 + "/bots/" + bot1 + "/policy", map[string]any{"idle_expiry": "721h"}, 422, baton.EINVALID, "idle_expiry"},
		{"PUT", adm + ws1 + "/desks/" + inboxDesk + "/policy", map[string]any{"wait_grace": "-5s"}, 422, baton.EINVALID, "wait_grace"},
		{"POST", adm + ws1 + "/keys", map[string]any{"name": "k", "scope": "all"}, 422, baton.EINVALID, "scope"},
		{"POST", adm + ws1 + "/agents", map[string]any{"name": "Z", "email": "z@x.example", "desk_id": hookDesk, "password": "0123456789"}, 422, baton.EINVALID, "desk_id"},
		{"POST", adm + ws1 + "/agents", map[string]any{"name": "Z", "email": "z@x.example", "desk_id": inboxDesk, "password": "short"}, 422, baton.EINVALID, "password"},
		{"DELETE", adm + ws1 + "/desks/" + inboxDesk, nil, 409, baton.ECONFLICT, ""},
		{"POST", adm + ws1 + "/desks", map[string]any{"name": "D", "kind": "webhook", "settings": map[string]string{"url": "not a url"}}, 422, baton.EINVALID, "settings.url"},
		{"POST", adm + ws1 + "/desks", map[string]any{"name": "D", "kind": "webhook", "settings": map[string]string{"evil key": "1"}}, 422, baton.EINVALID, "settings.evil key"},
		{"POST", adm + ws1 + "/desks", map[string]any{"name": "D", "kind": "webhook", "settings": map[string]string{"secret": "short"}}, 422, baton.EINVALID, "settings.secret"},
		{"PATCH", adm + ws1 + "/desks/" + hookDesk, map[string]any{"settings": map[string]string{"secret": "abc"}}, 422, baton.EINVALID, "settings.secret"},
		{"PATCH", adm + ws1 + "/desks/" + hookDesk, map[string]any{"settings": map[string]string{"evil key": "1"}}, 422, baton.EINVALID, "settings.evil key"},
		{"PUT", adm + ws1 + "/bots/" + bot1 + "/policy", map[string]any{"trigger_description": strings.Repeat("a", 2001)}, 422, baton.EINVALID, "trigger_description"},
		{"PUT", adm + ws1 + "/bots/" + bot1 + "/policy", map[string]any{"wait_timeout": "soon"}, 422, baton.EINVALID, "wait_timeout"},
		{"PUT", adm + ws1 + "/bots/" + bot1 + "/policy", map[string]any{"periods": []any{}, "transfer": map[string]any{"delay": true}}, 422, baton.EINVALID, "transfer.delay"},
		{"POST", adm + ws1 + "/bots", map[string]any{"name": "B", "policy": map[string]any{"idle_expiry": 1.5}}, 422, baton.EINVALID, "policy.idle_expiry"},
		{"POST", adm + ws1 + "/bots", map[string]any{"name": "B", "webhook_secret": "whsec_MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0"}, 422, baton.EINVALID, "webhook_secret"},
		{"GET", adm + "nope/bots", nil, 404, baton.ENOTFOUND, ""},
	} {
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			r := f.do(req{method: c.method, path: c.path, key: adminKey, body: c.body, offSpec: true})
			a.answers = append(a.answers, string(r.body))
			wantProblem(t, r, c.status, c.code, c.field)
		})
	}
	if after := f.snapshot(); after != before {
		t.Errorf("refused admin calls changed the store:\nbefore %s\nafter  %s", before, after)
	}
	// Each kind of key works on its own API only.
	p := wantProblem(t, f.do(req{method: "GET", path: "/v1/availability", key: adminKey}), 401, baton.EUNAUTHORIZED, "")
	if !strings.Contains(p.Detail, "admin key") {
		t.Errorf("admin key on the bot API: %q", p.Detail)
	}
	p = wantProblem(t, f.do(req{method: "GET", path: "/v1/admin/workspaces", key: key1}), 401, baton.EUNAUTHORIZED, "")
	if !strings.Contains(p.Detail, "workspace API key") {
		t.Errorf("bot key on the admin API: %q", p.Detail)
	}
	wantProblem(t, f.do(req{method: "GET", path: "/v1/admin/workspaces", key: agentKey1}), 401, baton.EUNAUTHORIZED, "")
}

// TestAdminRotateOverlap: the old secret signs for the overlap asked, none
// with 0s, a day when the call does not say.
func TestAdminRotateOverlap(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	a := &adminRun{f: f}
	must[map[string]any](t, a.do("POST", adm+ws1+"/bots", map[string]any{"id": "hooked", "name": "Hooked", "webhook_url": "https://bot.example/hook"}), 201)
	for _, c := range []struct {
		body any
		want time.Duration // 0: no previous secret
	}{{map[string]any{}, 24 * time.Hour}, {map[string]any{"overlap": "0s"}, 0}, {map[string]any{"overlap": "1h"}, time.Hour}, {nil, 24 * time.Hour}} {
		b := must[map[string]any](t, a.do("POST", adm+ws1+"/bots/hooked/rotate-secret", c.body), 200)
		until, _ := b["previous_secret_until"].(string)
		switch at, err := time.Parse(time.RFC3339Nano, until); {
		case c.want == 0 && until != "":
			t.Errorf("%v: the old secret signs until %s", c.body, until)
		case c.want != 0 && (err != nil || time.Until(at) > c.want || time.Until(at) < c.want-time.Minute):
			t.Errorf("%v: previous_secret_until %q, want about %v from now", c.body, until, c.want)
		}
	}
}

// TestAdminStreamBotTakesWebhook: a bot made without a webhook (it reads
// the event stream) is refused a webhook_url until it has a secret, takes
// its first secret from rotate-secret, and then its webhook_url.
func TestAdminStreamBotTakesWebhook(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	a := &adminRun{f: f}
	must[map[string]any](t, a.do("POST", adm+ws1+"/bots", map[string]any{"id": "streamer", "name": "Streamer"}), 201)
	wantProblem(t, a.do("PATCH", adm+ws1+"/bots/streamer", map[string]any{"webhook_url": "https://bot.example/hook"}), 422, baton.EINVALID, "webhook_url")
	b := must[map[string]any](t, a.do("POST", adm+ws1+"/bots/streamer/rotate-secret", map[string]any{}), 200)
	if s, _ := b["webhook_secret"].(string); s == "" || b["previous_secret_until"] != nil {
		t.Fatalf("the first secret: %v", b)
	}
	b = must[map[string]any](t, a.do("PATCH", adm+ws1+"/bots/streamer", map[string]any{"webhook_url": "https://bot.example/hook"}), 200)
	if b["webhook_url"] != "https://bot.example/hook" {
		t.Fatalf("after the secret: %v", b)
	}
}

// TestAdminDeskLater: a desk whose credentials come later is stored
// not_configured, every setting it is given is still checked, and it can be
// renamed and completed.
func TestAdminDeskLater(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	a := &adminRun{f: f}
	d := must[map[string]any](t, a.do("POST", adm+ws1+"/desks", map[string]any{"id": "later", "name": "Later", "kind": "webhook",
		"settings": map[string]string{"url": f.company.srv.URL}}), 201)
	if d["status"] != "not_configured" || d["secrets"].(map[string]any)["secret"] != "unset" {
		t.Fatalf("desk %v", d)
	}
	wantProblem(t, a.do("PATCH", adm+ws1+"/desks/later", map[string]any{"settings": map[string]string{"surprise": "1"}}), 422, baton.EINVALID, "settings.surprise")
	// It cannot verify a desk's request yet: answered as a forgery, saying nothing of why.
	p := wantProblem(t, f.do(req{method: "POST", path: "/v1/desks/later/inbound/message", body: map[string]any{"istest": true}, offSpec: true}), 401, baton.EUNAUTHORIZED, "")
	if strings.Contains(p.Detail, "secret") {
		t.Errorf("the refusal tells %q", p.Detail)
	}
	must[map[string]any](t, a.do("PATCH", adm+ws1+"/desks/later", map[string]any{"name": "Soon"}), 200)
	must[map[string]any](t, a.do("PATCH", adm+ws1+"/desks/later", map[string]any{"settings": map[string]string{"secret": hookSecret}}), 200)
	c := must[map[string]any](t, a.do("POST", adm+ws1+"/desks/later/check", nil), 200)
	if c["status"] != "available" {
		t.Errorf("the completed desk checks %v", c)
	}
	// A required setting taken away makes it not_configured at once, not at
	// its next check.
	d = must[map[string]any](t, a.do("PATCH", adm+ws1+"/desks/later", map[string]any{"settings": map[string]string{"secret": ""}}), 200)
	if d["status"] != "not_configured" || d["last_error"] == "" {
		t.Errorf("after the secret was removed: %v", d)
	}
}

// TestAdminKeyScopes: a read-only key cannot write, a key scoped to one bot
// reaches no other bot's handoffs, and a revoked key is refused at once.
func TestAdminKeyScopes(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	a := &adminRun{f: f}
	must[map[string]any](t, a.do("POST", adm+ws1+"/bots", map[string]any{"id": "other", "name": "Other", "desk_id": inboxDesk}), 201)
	h := must[wireHandoff](t, f.do(req{method: "POST", path: "/v1/handoffs", key: key1, body: map[string]any{
		"bot_id": bot1, "conversation_id": "c-1", "customer": map[string]any{"id": "u1"}, "question": "a person"}}), 201)
	ro := must[map[string]any](t, a.do("POST", adm+ws1+"/keys", map[string]any{"name": "ro", "scope": "read"}), 201)["key"].(string)
	scoped := must[map[string]any](t, a.do("POST", adm+ws1+"/keys", map[string]any{"name": "other", "bot_id": "other"}), 201)

	must[wireHandoff](t, f.do(req{method: "GET", path: "/v1/handoffs/" + h.ID, key: ro}), 200)
	wantProblem(t, f.do(req{method: "POST", path: "/v1/handoffs/" + h.ID + "/end", key: ro, body: map[string]any{}}), 403, baton.EFORBIDDEN, "")
	sk := scoped["key"].(string)
	wantProblem(t, f.do(req{method: "GET", path: "/v1/handoffs/" + h.ID, key: sk}), 404, baton.ENOTFOUND, "")
	wantProblem(t, f.do(req{method: "POST", path: "/v1/handoffs/" + h.ID + "/end", key: sk, body: map[string]any{}}), 404, baton.ENOTFOUND, "")
	// Nor may it write to the customer's handoff, or say the customer types.
	before := f.snapshot()
	wantProblem(t, f.do(req{method: "POST", path: "/v1/handoffs/" + h.ID + "/messages", key: sk, body: map[string]any{"text": "not mine"}}), 404, baton.ENOTFOUND, "")
	wantProblem(t, f.do(req{method: "POST", path: "/v1/handoffs/" + h.ID + "/typing", key: sk}), 404, baton.ENOTFOUND, "")
	if after := f.snapshot(); after != before {
		t.Errorf("a key scoped to another bot changed the handoff:\n%s\nthen\n%s", before, after)
	}
	wantProblem(t, f.do(req{method: "POST", path: "/v1/handoffs", key: sk, body: map[string]any{
		"bot_id": bot1, "conversation_id": "c-2", "customer": map[string]any{"id": "u2"}, "question": "x"}}), 404, baton.ENOTFOUND, "bot_id")
	// Without bot_id, the scoped key speaks for its bot.
	mine := must[wireHandoff](t, f.do(req{method: "POST", path: "/v1/handoffs", key: sk, body: map[string]any{
		"conversation_id": "c-3", "customer": map[string]any{"id": "u3"}, "question": "x"}}), 201)
	if mine.BotID != "other" {
		t.Errorf("the scoped key's handoff is bot %q's", mine.BotID)
	}
	// The bot cannot go while a key is scoped to it.
	wantProblem(t, a.do("DELETE", adm+ws1+"/bots/other", nil), 409, baton.ECONFLICT, "")

	must[wireHandoff](t, f.do(req{method: "GET", path: "/v1/handoffs/" + mine.ID, key: sk}), 200)
	events, _, _ := f.stream("?after=0", map[string]string{"Authorization": "Bearer " + sk})
	for _, env := range drain(t, events, 1) {
		if env.Data["handoff_id"] != mine.ID {
			t.Errorf("the scoped key's stream carries %s of %v, not of its bot's handoff %s", env.Type, env.Data["handoff_id"], mine.ID)
		}
	}
	if r := a.do("DELETE", adm+ws1+"/keys/"+scoped["id"].(string), nil); r.status != 204 {
		t.Fatalf("revoke: %d %s", r.status, r.body)
	}
	// The revoked key's open stream ends, carrying nothing written after.
	must[wireHandoff](t, f.do(req{method: "POST", path: "/v1/handoffs", key: key1, body: map[string]any{
		"bot_id": "other", "conversation_id": "c-4", "customer": map[string]any{"id": "u4"}, "question": "after the revoke"}}), 201)
	deadline := time.After(defaultTimeout)
	for open := true; open; {
		select {
		case ev, ok := <-events:
			if !ok {
				open = false
			} else if strings.Contains(ev.data, "c-4") {
				t.Fatalf("the revoked key's stream carried %s", ev.data)
			}
		case <-deadline:
			t.Fatal("the revoked key's stream is still open")
		}
	}
	wantProblem(t, f.do(req{method: "GET", path: "/v1/handoffs/" + mine.ID, key: sk}), 401, baton.EUNAUTHORIZED, "")
	wantProblem(t, a.do("DELETE", adm+ws1+"/keys/"+scoped["id"].(string), nil), 404, baton.ENOTFOUND, "")
	// Disabling an agent refuses its key at once.
	must[map[string]any](t, a.do("PATCH", adm+ws1+"/agents/"+agentAda, map[string]any{"disabled": true}), 200)
	wantProblem(t, f.do(req{method: "GET", path: "/v1/inbox/handoffs", key: agentKey1}), 401, baton.EUNAUTHORIZED, "")
}

// TestAdminReplayShowsNoSecret: a replayed request that made a secret
// answers without it (the secret is shown once), and makes nothing more.
func TestAdminReplayShowsNoSecret(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	must[map[string]any](t, f.do(req{method: "POST", path: adm + ws1 + "/bots", key: adminKey, body: map[string]any{"id": "hooked", "name": "Hooked", "webhook_url": "https://bot.example/hook"}}), 201)
	for _, c := range []struct{ path, field string }{
		{adm + ws1 + "/keys", "key"},
		{adm + ws1 + "/bots/hooked/rotate-secret", "webhook_secret"},
		{adm + ws1 + "/agents/" + agentAda + "/key", "key"},
	} {
		body := map[string]any{}
		if strings.HasSuffix(c.path, "/keys") {
			body["name"] = "once"
		}
		first := f.do(req{method: "POST", path: c.path, key: adminKey, body: body, header: map[string]string{"Idempotency-Key": "k-" + c.field + c.path}})
		again := f.do(req{method: "POST", path: c.path, key: adminKey, body: body, header: map[string]string{"Idempotency-Key": "k-" + c.field + c.path}})
		if first.status/100 != 2 || again.status != first.status || again.header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("%s: %d then %d (%s)", c.path, first.status, again.status, again.body)
		}
		var a, b map[string]any
		json.Unmarshal(first.body, &a)
		json.Unmarshal(again.body, &b)
		if a[c.field] == nil || b[c.field] != nil {
			t.Errorf("%s: first answer's %s %v, replay's %v; want it in the first only", c.path, c.field, a[c.field], b[c.field])
		}
	}
	keys := must[struct{ Keys []any }](t, f.do(req{method: "GET", path: adm + ws1 + "/keys", key: adminKey}), 200).Keys
	if len(keys) != 2 { // key1's and the one made once
		t.Errorf("%d keys after a replayed create", len(keys))
	}
}

// drain reads the stream's events until it has at least n of them.
func drain(t *testing.T, events <-chan sseEvent, n int) []wireEvent {
	t.Helper()
	var out []wireEvent
	for len(out) < n {
		_, env := next(t, events)
		out = append(out, env)
	}
	return out
}

// TestAdminSecondInstance: a key made on one instance works on another on
// the same PostgreSQL within a second, and once revoked is refused there
// within a second.
func TestAdminSecondInstance(t *testing.T) {
	t.Parallel()
	f := newFixture(t, withStore("postgres"))
	other, err := postgres.Open(context.Background(), f.dbURL, bytesOf(7))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })
	second := httptest.NewServer(app.New(app.Params{Store: other, Desks: f.desks()}).Handler)
	t.Cleanup(second.Close)
	get := func(key string) int {
		r, _ := http.NewRequest("GET", second.URL+"/v1/availability?bot_id="+bot1, nil)
		r.Header.Set("Authorization", "Bearer "+key)
		resp, err := second.Client().Do(r)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	within := func(what string, d time.Duration, want int, key string) {
		t.Helper()
		start := time.Now()
		for get(key) != want {
			if time.Since(start) > d {
				t.Fatalf("%s: not %d on the second instance after %v", what, want, d)
			}
			<-time.After(25 * time.Millisecond)
		}
	}
	a := &adminRun{f: f}
	k := must[map[string]any](t, a.do("POST", adm+ws1+"/keys", map[string]any{"name": "new"}), 201)
	within("a new key", time.Second, 200, k["key"].(string))
	if r := a.do("DELETE", adm+ws1+"/keys/"+k["id"].(string), nil); r.status != 204 {
		t.Fatalf("revoke: %d", r.status)
	}
	within("a revoked key", time.Second, 401, k["key"].(string))

	// A policy changed on the first instance governs the second within a second.
	zone := func() string {
		r, _ := http.NewRequest("GET", second.URL+"/v1/availability?bot_id="+bot1, nil)
		r.Header.Set("Authorization", "Bearer "+key1)
		resp, err := second.Client().Do(r)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var a struct{ Zone string }
		json.NewDecoder(resp.Body).Decode(&a)
		return a.Zone
	}
	if z := zone(); z != "UTC" {
		t.Fatalf("zone %q before the change", z)
	}
	must[map[string]any](t, a.do("PUT", adm+ws1+"/bots/"+bot1+"/policy", map[string]any{"zone": "Asia/Tokyo"}), 200)
	start := time.Now()
	for zone() != "Asia/Tokyo" {
		if time.Since(start) > time.Second {
			t.Fatal("the second instance still reads the old policy after a second")
		}
		<-time.After(25 * time.Millisecond)
	}
}

func bytesOf(b byte) []byte {
	out := make([]byte, 32)
	for i := range out {
		out[i] = b
	}
	return out
}

// TestAdminContract: every admin operation the contract documents is made
// once with a success, and its request and answer are checked against
// openapi.yaml (the fixture's client does that for every exchange).
func TestAdminContract(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	t.Cleanup(hook.Close)
	ok := func(method, path string, body any, status int) map[string]any {
		t.Helper()
		r := f.do(req{method: method, path: path, key: adminKey, body: body})
		if r.status != status {
			t.Fatalf("%s %s: %d %s, want %d", method, path, r.status, r.body, status)
		}
		var v map[string]any
		json.Unmarshal(r.body, &v)
		return v
	}
	w := adm + "beta"
	ok("POST", "/v1/admin/workspaces", map[string]any{"id": "beta", "name": "Beta"}, 201)
	ok("GET", "/v1/admin/workspaces", nil, 200)
	ok("GET", w, nil, 200)
	ok("PATCH", w, map[string]any{"name": "Beta Ltd"}, 200)
	key := ok("POST", w+"/keys", map[string]any{"name": "prod"}, 201)
	ok("GET", w+"/keys", nil, 200)
	ok("POST", w+"/desks", map[string]any{"id": "beta-inbox", "name": "Inbox", "kind": "inbox"}, 201)
	ok("POST", w+"/desks", map[string]any{"id": "beta-hook", "name": "Hook", "kind": "webhook",
		"settings": map[string]string{webhookdesk.SettingURL: f.company.srv.URL, webhookdesk.SettingSecret: hookSecret}}, 201)
	ok("GET", w+"/desks", nil, 200)
	ok("GET", w+"/desks/beta-hook", nil, 200)
	ok("PATCH", w+"/desks/beta-hook", map[string]any{"name": "Company"}, 200)
	ok("POST", w+"/desks/beta-hook/check", nil, 200)
	ok("PUT", w+"/desks/beta-hook/policy", map[string]any{"idle_expiry": "1h"}, 200)
	ok("GET", w+"/desks/beta-hook/policy", nil, 200)
	ok("POST", w+"/bots", map[string]any{"id": "beta-bot", "name": "Bot", "desk_id": "beta-inbox", "webhook_url": hook.URL}, 201)
	ok("GET", w+"/bots", nil, 200)
	ok("GET", w+"/bots/beta-bot", nil, 200)
	ok("PATCH", w+"/bots/beta-bot", map[string]any{"name": "The bot"}, 200)
	ok("PUT", w+"/bots/beta-bot/policy", map[string]any{"zone": "Europe/Paris"}, 200)
	ok("GET", w+"/bots/beta-bot/policy", nil, 200)
	ok("GET", w+"/bots/beta-bot/calendar?from=2026-12-01&to=2026-12-02", nil, 200)
	ok("GET", w+"/bots/beta-bot/availability?at=2026-12-01T10:00:00Z", nil, 200)
	ok("POST", w+"/bots/beta-bot/rotate-secret", nil, 200)
	ok("POST", w+"/agents", map[string]any{"id": "beta-ann", "name": "Ann", "email": "ann@beta.example", "desk_id": "beta-inbox", "password": "correct horse"}, 201)
	ok("GET", w+"/agents", nil, 200)
	ok("GET", w+"/agents/beta-ann", nil, 200)
	ok("PATCH", w+"/agents/beta-ann", map[string]any{"name": "Anne"}, 200)
	ok("POST", w+"/agents/beta-ann/key", nil, 200)

	h := must[wireHandoff](t, f.do(req{method: "POST", path: "/v1/handoffs", key: key["key"].(string), body: map[string]any{
		"conversation_id": "c-1", "customer": map[string]any{"id": "u1"}, "question": "a person"}}), 201)
	var ds []any
	f.afterJobs(func() bool {
		ds = ok("GET", w+"/bots/beta-bot/deliveries", nil, 200)["deliveries"].([]any)
		return len(ds) > 0 && ds[0].(map[string]any)["status"] == "delivered"
	})
	if len(ds) == 0 {
		t.Fatal("no delivery logged")
	}
	ok("POST", w+"/bots/beta-bot/deliveries/"+ds[0].(map[string]any)["event_id"].(string)+"/redeliver", nil, 202)
	ok("GET", "/v1/admin/audit?workspace=beta", nil, 200)
	must[wireHandoff](t, f.do(req{method: "POST", path: "/v1/handoffs/" + h.ID + "/end", key: key["key"].(string), body: map[string]any{}}), 200)
	ok("DELETE", w+"/keys/"+key["id"].(string), nil, 204)
	ok("PATCH", w+"/bots/beta-bot", map[string]any{"desk_id": "beta-hook"}, 200)
	ok("DELETE", w+"/desks/beta-inbox", nil, 409) // the agent answers it
	ok("DELETE", w+"/bots/beta-bot", nil, 204)
	ok("PATCH", w+"/agents/beta-ann", map[string]any{"desk_id": "beta-inbox", "disabled": true}, 200)
	ok("DELETE", w+"/desks/beta-hook", nil, 204)
	ok("DELETE", w+"/agents/beta-ann", nil, 204)
	ok("GET", w+"/agents/beta-ann", nil, 404)
	ok("DELETE", w, nil, 200)

	seen := f.client.Transport.(*contract).exercised()
	doc := loadSpec(t, f.srv.URL)
	for path, item := range doc.Paths.Map() {
		if !strings.HasPrefix(path, "/v1/admin") {
			continue
		}
		for method := range item.Operations() {
			if !seen[method+" "+path] {
				t.Errorf("no successful exchange of %s %s was checked against the contract", method, path)
			}
		}
	}
}

// TestAdminAgentEmailWithoutCase: sign-in reads emails without case, so a
// workspace holds one spelling of each; a password holding NUL is refused.
func TestAdminAgentEmailWithoutCase(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	a := &adminRun{f: f}
	must[map[string]any](t, a.do("POST", adm+ws1+"/agents", map[string]any{"name": "Ana", "email": "ana@case.example", "desk_id": inboxDesk, "password": "0123456789ab"}), 201)
	wantProblem(t, a.do("POST", adm+ws1+"/agents", map[string]any{"name": "ANA", "email": "ANA@Case.Example", "desk_id": inboxDesk, "password": "0123456789ab"}), 409, baton.ECONFLICT, "email")
	wantProblem(t, f.do(req{method: "POST", path: adm + ws1 + "/agents", key: adminKey, body: `{"name":"Nul","email":"nul@case.example","desk_id":"` + inboxDesk + `","password":"0123456789\u0000"}`, offSpec: true}), 400, baton.EBADREQUEST, "password")
}
