package web_test

import (
	"context"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/engine"
)

// The console's pages over plain HTTP: workspaces, API keys, bots and their
// delivery log, desk settings, policies and inbox agents. Each page: its
// happy path, a bad field named next to it with nothing changed, a forged
// CSRF token refused with nothing changed, typed HTML escaped, and another
// workspace's ids answered 404.

// xss is what an admin might type in any text field.
const xss = `<script>alert(1)</script><img src=x onerror=alert(2)>`

// xssEscaped is how xss shows on a page.
const xssEscaped = "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;"

// console signs an admin in and returns the client and its CSRF token.
func (f *fixture) console() (*http.Client, string) {
	f.t.Helper()
	f.addAdmin("adm_one", adminKey1, "ops")
	c := f.client()
	if p := f.consoleSignIn(c, adminKey1); p.status != http.StatusSeeOther {
		f.t.Fatalf("console sign-in: %d %s", p.status, p.body)
	}
	home := f.get(c, "/console/")
	csrf := hidden(home.body, "csrf")
	if csrf == "" {
		f.t.Fatalf("no CSRF token on %s", home.body)
	}
	return c, csrf
}

// adminCtx is a context for engine calls the tests make as the admin.
func adminCtx() context.Context {
	return engine.WithAdmin(context.Background(), baton.AdminKey{ID: "adm_test", Name: "test"})
}

// want fails the test unless p has status and holds every text.
func want(t *testing.T, what string, p page, status int, texts ...string) {
	t.Helper()
	if p.status != status {
		t.Fatalf("%s: status %d, want %d\n%s", what, p.status, status, p.body)
	}
	for _, s := range texts {
		if !strings.Contains(p.body, s) {
			t.Fatalf("%s: no %q in\n%s", what, s, p.body)
		}
	}
}

// shownSecret is the secret a page shows once, in its #new-secret input.
func shownSecret(body string) string {
	_, rest, _ := strings.Cut(body, `id="new-secret" class="secret-value" readonly value="`)
	v, _, _ := strings.Cut(rest, `"`)
	return html.UnescapeString(v)
}

// wantEscaped fails the test if p shows xss unescaped, or not at all.
func wantEscaped(t *testing.T, what string, p page) {
	t.Helper()
	if strings.Contains(p.body, "<script>alert") || strings.Contains(p.body, "<img src=x") || !strings.Contains(p.body, xssEscaped) {
		t.Fatalf("%s: the typed HTML is not escaped:\n%s", what, p.body)
	}
}

func TestConsoleWorkspacePages(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	c, csrf := f.console()
	count := func() int {
		all, _ := f.app.Engine.Workspaces(context.Background())
		return len(all)
	}
	home := f.get(c, "/console/")
	want(t, "the workspaces", home, 200, `<label for="ws-name">Name</label>`, `id="new-ws"`)

	want(t, "a forged token", f.post(c, "/console/workspaces", url.Values{"csrf": {"forged"}, "name": {"Nope"}}), http.StatusForbidden)
	want(t, "no token", f.post(c, "/console/workspaces", url.Values{"name": {"Nope"}}), http.StatusForbidden)
	want(t, "no name", f.post(c, "/console/workspaces", url.Values{"csrf": {csrf}, "name": {" "}, "id": {"ws_typed"}}),
		http.StatusUnprocessableEntity, `id="err-name"`, `value="ws_typed"`)
	want(t, "a bad id", f.post(c, "/console/workspaces", url.Values{"csrf": {csrf}, "name": {"X"}, "id": {"bad id!"}}),
		http.StatusUnprocessableEntity, `id="err-id"`)
	want(t, "a taken id", f.post(c, "/console/workspaces", url.Values{"csrf": {csrf}, "name": {"X"}, "id": {ws2}}),
		http.StatusConflict, `id="err-id"`)
	if n := count(); n != 2 {
		t.Fatalf("%d workspaces after refused forms, want 2", n)
	}
	p := f.post(c, "/console/workspaces", url.Values{"csrf": {csrf}, "name": {xss}, "id": {"ws_new"}})
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/console/ws/ws_new/?done=ws-created" {
		t.Fatalf("creating: %d %s", p.status, p.header.Get("Location"))
	}
	wantEscaped(t, "the new workspace", f.get(c, "/console/ws/ws_new/"))
	wantEscaped(t, "the workspaces", f.get(c, "/console/"))

	// Rename.
	want(t, "the settings", f.get(c, "/console/ws/ws_new/settings"), 200, `aria-current="page"`, `<label for="ws-confirm">`)
	want(t, "an empty name", f.post(c, "/console/ws/ws_new/rename", url.Values{"csrf": {csrf}, "name": {""}}), http.StatusUnprocessableEntity, `id="err-name"`)
	want(t, "rename, forged", f.post(c, "/console/ws/ws_new/rename", url.Values{"csrf": {"x"}, "name": {"Forged"}}), http.StatusForbidden)
	if p := f.post(c, "/console/ws/ws_new/rename", url.Values{"csrf": {csrf}, "name": {"New name"}}); p.status != http.StatusSeeOther {
		t.Fatalf("rename: %d %s", p.status, p.body)
	}
	want(t, "renamed", f.get(c, "/console/ws/ws_new/settings?done=renamed"), 200, "Workspace renamed.", `value="New name"`)

	// Delete: refused while a handoff is open, unless forced.
	f.ask(apiKey1, "c1", "Cleo", "help")
	want(t, "delete, unconfirmed", f.post(c, "/console/ws/ws_one/delete", url.Values{"csrf": {csrf}, "confirm": {"no"}}),
		http.StatusUnprocessableEntity, `id="err-confirm"`)
	want(t, "delete, forged", f.post(c, "/console/ws/ws_one/delete", url.Values{"csrf": {"x"}, "confirm": {ws1}, "force": {"1"}}), http.StatusForbidden)
	want(t, "delete with an open handoff", f.post(c, "/console/ws/ws_one/delete", url.Values{"csrf": {csrf}, "confirm": {ws1}}),
		http.StatusConflict, "the workspace has 1 open handoffs", `id="err-force"`)
	if _, err := f.app.Engine.Workspace(context.Background(), ws1); err != nil {
		t.Fatalf("the refused delete deleted: %v", err)
	}
	if p := f.post(c, "/console/ws/ws_one/delete", url.Values{"csrf": {csrf}, "confirm": {ws1}, "force": {"1"}}); p.status != http.StatusSeeOther ||
		p.header.Get("Location") != "/console/?done=deleted" {
		t.Fatalf("delete with force: %d %s", p.status, p.body)
	}
	want(t, "after the delete", f.get(c, "/console/ws/ws_one/"), http.StatusNotFound)
}

func TestConsoleKeys(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	c, csrf := f.console()
	keys := func(ws string) []baton.APIKey {
		ks, err := f.app.Engine.Keys(context.Background(), ws)
		if err != nil {
			t.Fatal(err)
		}
		return ks
	}
	list := f.get(c, "/console/ws/ws_one/keys")
	want(t, "the keys", list, 200, `id="keys"`, "<td>one</td>", `<label for="key-name">Name</label>`, `<label for="key-scope">Scope</label>`,
		`<label for="key-bot">Bot</label>`, `id="nav-keys" aria-current="page"`)

	want(t, "a forged token", f.post(c, "/console/ws/ws_one/keys", url.Values{"csrf": {"forged"}, "name": {"Nope"}}), http.StatusForbidden)
	want(t, "no name", f.post(c, "/console/ws/ws_one/keys", url.Values{"csrf": {csrf}, "name": {""}, "scope": {"read"}}),
		http.StatusUnprocessableEntity, `id="err-name"`)
	want(t, "a bad scope", f.post(c, "/console/ws/ws_one/keys", url.Values{"csrf": {csrf}, "name": {"ci"}, "scope": {"root"}}),
		http.StatusUnprocessableEntity, `id="err-scope"`, `value="ci"`)
	want(t, "another workspace's bot", f.post(c, "/console/ws/ws_one/keys", url.Values{"csrf": {csrf}, "name": {"ci"}, "scope": {"full"}, "bot_id": {bot2}}),
		http.StatusUnprocessableEntity, `id="err-bot_id"`)
	if n := len(keys(ws1)); n != 1 {
		t.Fatalf("%d keys after refused forms, want 1", n)
	}

	made := f.post(c, "/console/ws/ws_one/keys", url.Values{"csrf": {csrf}, "name": {xss}, "scope": {"read"}, "bot_id": {bot1}})
	want(t, "a new key", made, http.StatusCreated, "Copy it now: it will not be shown again.", `id="new-secret"`)
	wantEscaped(t, "the new key", made)
	secret := shownSecret(made.body)
	if !strings.HasPrefix(secret, "bk_") {
		t.Fatalf("the secret shown: %q", secret)
	}
	if made.header.Get("Cache-Control") != "no-store" {
		t.Errorf("the secret's page may be cached: %q", made.header.Get("Cache-Control"))
	}
	f.api(secret, "GET", "/v1/events?bot_id="+bot1, nil, http.StatusOK, nil)
	again := f.get(c, "/console/ws/ws_one/keys")
	if strings.Contains(again.body, secret) || !strings.Contains(again.body, secret[:9]) {
		t.Fatalf("the list shows the secret again, or not its prefix: %s", again.body)
	}
	wantEscaped(t, "the keys", again)

	var id string
	for _, k := range keys(ws1) {
		if k.BotID == bot1 {
			id = k.ID
		}
	}
	want(t, "revoke, unconfirmed", f.post(c, "/console/ws/ws_one/keys/"+id+"/revoke", url.Values{"csrf": {csrf}}),
		http.StatusUnprocessableEntity, `id="err-confirm-`+id+`"`)
	want(t, "revoke, forged", f.post(c, "/console/ws/ws_one/keys/"+id+"/revoke", url.Values{"csrf": {"x"}, "confirm": {"1"}}), http.StatusForbidden)
	if n := len(keys(ws1)); n != 2 {
		t.Fatalf("%d keys after refused revokes, want 2", n)
	}
	// Another workspace's key under this one is not found, and stays.
	other, _, err := f.app.Engine.CreateKey(adminCtx(), ws2, engine.KeyInput{Name: "theirs"})
	if err != nil {
		t.Fatal(err)
	}
	want(t, "another workspace's key", f.post(c, "/console/ws/ws_one/keys/"+other.ID+"/revoke", url.Values{"csrf": {csrf}, "confirm": {"1"}}), http.StatusNotFound)
	if n := len(keys(ws2)); n != 2 {
		t.Fatalf("ws2 has %d keys, want 2", n)
	}
	p := f.post(c, "/console/ws/ws_one/keys/"+id+"/revoke", url.Values{"csrf": {csrf}, "confirm": {"1"}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("revoke: %d %s", p.status, p.body)
	}
	want(t, "revoked", f.get(c, p.header.Get("Location")), 200, "Key revoked")
	f.api(secret, "GET", "/v1/events?bot_id="+bot1, nil, http.StatusUnauthorized, nil)
}

func TestConsoleBots(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	c, csrf := f.console()
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
	}))
	t.Cleanup(hook.Close)
	bots := func() int {
		bs, _ := f.app.Engine.Bots(context.Background(), ws1)
		return len(bs)
	}

	list := f.get(c, "/console/ws/ws_one/bots")
	want(t, "the bots", list, 200, "Bot one", `<label for="bot-url">`, `<label for="bot-desk">`, `<label for="p-wait_timeout">`,
		`<label for="p-trigger_description">`)
	form := func(kv ...string) url.Values {
		v := url.Values{"csrf": {csrf}, "name": {"Helper"}, "webhook_url": {hook.URL}, "desk_id": {desk1}}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	want(t, "a forged token", f.post(c, "/console/ws/ws_one/bots", form("csrf", "forged")), http.StatusForbidden)
	want(t, "a bad URL", f.post(c, "/console/ws/ws_one/bots", form("webhook_url", "ftp://x.example")),
		http.StatusUnprocessableEntity, `id="err-webhook_url"`, `value="ftp://x.example"`)
	want(t, "a bad wait timeout", f.post(c, "/console/ws/ws_one/bots", form("wait_timeout", "soon")),
		http.StatusUnprocessableEntity, `id="err-p-wait_timeout"`, `value="soon"`)
	want(t, "a long trigger", f.post(c, "/console/ws/ws_one/bots", form("trigger_description", strings.Repeat("x", 2001))),
		http.StatusUnprocessableEntity, `id="err-p-trigger_description"`, "2001 characters")
	want(t, "another workspace's desk", f.post(c, "/console/ws/ws_one/bots", form("desk_id", desk2)),
		http.StatusUnprocessableEntity, `id="err-desk_id"`)
	if n := bots(); n != 1 {
		t.Fatalf("%d bots after refused forms, want 1", n)
	}

	made := f.post(c, "/console/ws/ws_one/bots", form("id", "bot_new", "name", xss, "out_of_hours_reply", xss, "trigger_description", xss, "wait_timeout", "2m"))
	want(t, "a new bot", made, http.StatusCreated, "Copy its webhook secret now: it will not be shown again.", "whsec_")
	wantEscaped(t, "the new bot", made)
	b, err := f.app.Engine.Bot(context.Background(), ws1, "bot_new")
	if err != nil || b.Policy == nil || b.Policy.WaitTimeout.D() != 2*time.Minute || b.Policy.TriggerDescription != xss {
		t.Fatalf("the bot: %+v %v", b, err)
	}
	page := f.get(c, "/console/ws/ws_one/bots/bot_new")
	want(t, "the bot", page, 200, `value="2m0s"`, "Delivery log", `<label for="overlap">`)
	wantEscaped(t, "the bot", page)
	if strings.Contains(page.body, b.WebhookSecret) {
		t.Fatal("the bot's page shows its secret")
	}

	// HTML in a URL (refused or not) is escaped.
	bad := f.post(c, "/console/ws/ws_one/bots", form("webhook_url", "javascript:"+xss))
	want(t, "a script URL", bad, http.StatusUnprocessableEntity, `id="err-webhook_url"`)
	wantEscaped(t, "a script URL", bad)
	odd := hook.URL + "/" + xss
	if p := f.post(c, "/console/ws/ws_one/bots", form("id", "bot_odd", "webhook_url", odd)); p.status == http.StatusCreated {
		wantEscaped(t, "a URL with HTML in its path", p)
		wantEscaped(t, "the bots", f.get(c, "/console/ws/ws_one/bots"))
		wantEscaped(t, "the bot", f.get(c, "/console/ws/ws_one/bots/bot_odd"))
	} else {
		want(t, "a URL with HTML in its path", p, http.StatusUnprocessableEntity, `id="err-webhook_url"`)
		wantEscaped(t, "a URL with HTML in its path", p)
	}

	// Edit: a bad field is named, a good form saves.
	want(t, "edit, bad", f.post(c, "/console/ws/ws_one/bots/bot_new", form("history_rounds", "-1")),
		http.StatusUnprocessableEntity, `id="err-p-history_rounds"`)
	want(t, "edit, forged", f.post(c, "/console/ws/ws_one/bots/bot_new", form("csrf", "x", "name", "Forged")), http.StatusForbidden)
	if b, _ := f.app.Engine.Bot(context.Background(), ws1, "bot_new"); b.Name != xss || b.Policy.HistoryRounds != 0 {
		t.Fatalf("a refused edit changed the bot: %+v", b)
	}
	if p := f.post(c, "/console/ws/ws_one/bots/bot_new", form("name", "Helper", "history_rounds", "4", "webhook_url", hook.URL+"/x")); p.status != http.StatusSeeOther {
		t.Fatalf("edit: %d %s", p.status, p.body)
	}
	if b, _ := f.app.Engine.Bot(context.Background(), ws1, "bot_new"); b.Name != "Helper" || b.Policy.HistoryRounds != 4 || b.WebhookURL != hook.URL+"/x" {
		t.Fatalf("the edited bot: %+v", b)
	}

	// Rotation.
	want(t, "a long overlap", f.post(c, "/console/ws/ws_one/bots/bot_new/rotate", url.Values{"csrf": {csrf}, "overlap": {"999h"}}),
		http.StatusUnprocessableEntity, `id="err-overlap"`)
	want(t, "rotate, forged", f.post(c, "/console/ws/ws_one/bots/bot_new/rotate", url.Values{"csrf": {"x"}, "overlap": {"1h"}}), http.StatusForbidden)
	if nb, _ := f.app.Engine.Bot(context.Background(), ws1, "bot_new"); nb.WebhookSecret != b.WebhookSecret {
		t.Fatal("a refused rotation rotated")
	}
	rot := f.post(c, "/console/ws/ws_one/bots/bot_new/rotate", url.Values{"csrf": {csrf}, "overlap": {"1h"}})
	want(t, "rotate", rot, 200, "Copy the new secret now: it will not be shown again.", "The previous secret also signs until")
	if nb, _ := f.app.Engine.Bot(context.Background(), ws1, "bot_new"); nb.PreviousSecret != b.WebhookSecret || shownSecret(rot.body) != nb.WebhookSecret {
		t.Fatalf("the rotation: %+v", nb)
	}

	// The delivery log: a handoff's event, refused by the bot's webhook.
	key, _, err := f.app.Engine.CreateKey(adminCtx(), ws1, engine.KeyInput{Name: "helper", BotID: "bot_new"})
	if err != nil {
		t.Fatal(err)
	}
	_, secret, err := f.app.Engine.CreateKey(adminCtx(), ws1, engine.KeyInput{Name: "helper2", BotID: "bot_new"})
	if err != nil {
		t.Fatal(err)
	}
	_ = key
	f.api(secret, "POST", "/v1/handoffs", map[string]any{"bot_id": "bot_new", "conversation_id": "c9",
		"customer": map[string]any{"id": "cust-9", "name": "Nina"}, "question": "help"}, http.StatusCreated, nil)
	var ev string
	f.until("an attempt answered 503", func() bool {
		ds, err := f.app.Engine.Deliveries(context.Background(), ws1, "bot_new", 0, 0)
		if err != nil || len(ds) == 0 || len(ds[0].Attempts) == 0 {
			return false
		}
		ev = ds[0].EventID
		return ds[0].Attempts[0].StatusCode == http.StatusServiceUnavailable
	})
	log := f.get(c, "/console/ws/ws_one/bots/bot_new")
	want(t, "the delivery log", log, 200, `id="event-`+ev+`"`, "HTTP 503", " ms", `id="redeliver-`+ev+`"`)
	_, row, _ := strings.Cut(log.body, `id="event-`+ev+`"`)
	row, _, _ = strings.Cut(row, "</tr>")
	// A pending delivery shows when it is retried (the same render says both).
	if strings.Contains(row, ">pending</span>") {
		if _, cell, _ := strings.Cut(row, `<td class="next-retry">`); !strings.Contains(strings.SplitN(cell, "</td>", 2)[0], " UTC") {
			t.Errorf("a pending event's row shows no next retry: %s", row)
		}
	}
	want(t, "redeliver, forged", f.post(c, "/console/ws/ws_one/bots/bot_new/deliveries/"+ev+"/redeliver", url.Values{"csrf": {"x"}}), http.StatusForbidden)
	p := f.post(c, "/console/ws/ws_one/bots/bot_new/deliveries/"+ev+"/redeliver", url.Values{"csrf": {csrf}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("redeliver: %d %s", p.status, p.body)
	}
	want(t, "redelivered", f.get(c, p.header.Get("Location")), 200, "Redelivery queued")

	// The bot's service periods, on the desks' editor.
	bp := f.get(c, "/console/ws/ws_one/bots/bot_new/policy")
	want(t, "the bot's policy", bp, 200, "Service periods of bot Helper", `action="/console/ws/ws_one/bots/bot_new/policy"`, `value="4"`)
	polForm := url.Values{"csrf": {csrf}, "zone": {"Europe/Paris"}, "w0.days": {"mon", "tue"}, "w0.start": {"09:00"}, "w0.end": {"17:00"},
		"c0.date": {""}, "c0.start": {""}, "c0.end": {""}, "history_rounds": {"4"}, "out_of_hours_reply": {xss}, "action": {"save"}}
	want(t, "the bot's policy, forged", f.post(c, "/console/ws/ws_one/bots/bot_new/policy", url.Values{"csrf": {"x"}}), http.StatusForbidden)
	polForm.Set("zone", "Mars/Olympus")
	want(t, "the bot's policy, a bad zone", f.post(c, "/console/ws/ws_one/bots/bot_new/policy", polForm), http.StatusUnprocessableEntity, `id="err-zone"`)
	polForm.Set("zone", "Europe/Paris")
	if p := f.post(c, "/console/ws/ws_one/bots/bot_new/policy", polForm); p.status != http.StatusSeeOther {
		t.Fatalf("saving the bot's policy: %d %s", p.status, p.body)
	}
	if nb, _ := f.app.Engine.Bot(context.Background(), ws1, "bot_new"); nb.Policy.Zone != "Europe/Paris" || len(nb.Policy.Periods) != 1 || nb.Policy.OutOfHoursReply != xss {
		t.Fatalf("the bot's saved policy: %+v", nb.Policy)
	}
	wantEscaped(t, "the bot's policy", f.get(c, "/console/ws/ws_one/bots/bot_new/policy?done=saved"))
	want(t, "another workspace's bot's policy", f.get(c, "/console/ws/ws_one/bots/"+bot2+"/policy"), http.StatusNotFound)

	// Another workspace's bot under this one is not found.
	want(t, "another workspace's bot", f.get(c, "/console/ws/ws_one/bots/"+bot2), http.StatusNotFound)
	want(t, "edit another workspace's bot", f.post(c, "/console/ws/ws_one/bots/"+bot2, form("name", "Stolen")), http.StatusNotFound)
	want(t, "redeliver under another workspace's bot", f.post(c, "/console/ws/ws_one/bots/"+bot2+"/deliveries/"+ev+"/redeliver", url.Values{"csrf": {csrf}}), http.StatusNotFound)
	want(t, "redeliver under another workspace", f.post(c, "/console/ws/ws_two/bots/bot_new/deliveries/"+ev+"/redeliver", url.Values{"csrf": {csrf}}), http.StatusNotFound)
	want(t, "delete another workspace's bot", f.post(c, "/console/ws/ws_one/bots/"+bot2+"/delete", url.Values{"csrf": {csrf}, "confirm": {"1"}}), http.StatusNotFound)
	if b, err := f.app.Engine.Bot(context.Background(), ws2, bot2); err != nil || b.Name != "Bot two" {
		t.Fatalf("ws2's bot: %+v %v", b, err)
	}

	// Delete: refused while a key is scoped to it (the engine's rule), with its message.
	want(t, "delete, scoped key", f.post(c, "/console/ws/ws_one/bots/bot_new/delete", url.Values{"csrf": {csrf}, "confirm": {"1"}}),
		http.StatusConflict, "end them first")
}

func TestConsoleAgents(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	c, csrf := f.console()
	list := f.get(c, "/console/ws/ws_one/agents")
	want(t, "the agents", list, 200, "Ada", "Dan", `<label for="agent-name">Name</label>`, `<label for="agent-email">`, `<label for="agent-password">Password</label>`,
		`<label for="agent-desk">Desk</label>`, `<label for="pw-`+ada+`">`)
	if strings.Contains(list.body, "Eve") {
		t.Fatal("ws2's agent is listed under ws1")
	}
	form := func(kv ...string) url.Values {
		v := url.Values{"csrf": {csrf}, "name": {"Zed"}, "email": {"zed@one.example"}, "password": {"a long password"}, "desk_id": {desk1}}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	count := func() int {
		as, _ := f.app.Engine.Agents(context.Background(), ws1)
		return len(as)
	}
	want(t, "a forged token", f.post(c, "/console/ws/ws_one/agents", form("csrf", "forged")), http.StatusForbidden)
	want(t, "no email", f.post(c, "/console/ws/ws_one/agents", form("email", "")), http.StatusUnprocessableEntity, `id="err-email"`, `value="Zed"`)
	want(t, "a short password", f.post(c, "/console/ws/ws_one/agents", form("password", "short")), http.StatusUnprocessableEntity, `id="err-password"`)
	want(t, "a taken email", f.post(c, "/console/ws/ws_one/agents", form("email", "ada@one.example")), http.StatusConflict, `id="err-email"`)
	want(t, "another workspace's desk", f.post(c, "/console/ws/ws_one/agents", form("desk_id", desk2)), http.StatusUnprocessableEntity, `id="err-desk_id"`)
	if n := count(); n != 3 {
		t.Fatalf("%d agents after refused forms, want 3", n)
	}
	if p := f.post(c, "/console/ws/ws_one/agents", form("name", xss, "id", "ag_zed")); p.status != http.StatusSeeOther {
		t.Fatalf("adding: %d %s", p.status, p.body)
	}
	added := f.get(c, "/console/ws/ws_one/agents?done=created")
	want(t, "added", added, 200, "Agent added", `id="agent-ag_zed"`)
	wantEscaped(t, "the agents", added)
	// The agent signs in to the inbox.
	ic := f.client()
	in := f.get(ic, "/inbox/signin")
	if p := f.post(ic, "/inbox/signin", url.Values{"csrf": {hidden(in.body, "csrf")}, "email": {"zed@one.example"}, "password": {"a long password"}}); p.status != http.StatusSeeOther {
		t.Fatalf("the new agent's sign-in: %d %s", p.status, p.body)
	}

	// Disable, enable, reset the password.
	want(t, "disable, forged", f.post(c, "/console/ws/ws_one/agents/ag_zed/enabled", url.Values{"csrf": {"x"}, "enabled": {"false"}}), http.StatusForbidden)
	if p := f.post(c, "/console/ws/ws_one/agents/ag_zed/enabled", url.Values{"csrf": {csrf}, "enabled": {"false"}}); p.status != http.StatusSeeOther {
		t.Fatalf("disable: %d %s", p.status, p.body)
	}
	want(t, "disabled", f.get(c, "/console/ws/ws_one/agents?done=disabled"), 200, "Agent disabled", `id="enable-ag_zed"`)
	if p := f.get(ic, "/inbox/"); p.status != http.StatusSeeOther {
		t.Errorf("a disabled agent's session: %d", p.status)
	}
	if p := f.post(c, "/console/ws/ws_one/agents/ag_zed/enabled", url.Values{"csrf": {csrf}, "enabled": {"true"}}); p.status != http.StatusSeeOther {
		t.Fatalf("enable: %d %s", p.status, p.body)
	}
	if a, _ := f.app.Engine.Agent(context.Background(), ws1, "ag_zed"); a.Disabled {
		t.Fatal("still disabled")
	}
	want(t, "a short new password", f.post(c, "/console/ws/ws_one/agents/ag_zed/password", url.Values{"csrf": {csrf}, "password": {"short"}}),
		http.StatusUnprocessableEntity, `id="err-password-ag_zed"`)
	want(t, "reset, forged", f.post(c, "/console/ws/ws_one/agents/ag_zed/password", url.Values{"csrf": {"x"}, "password": {"another long one"}}), http.StatusForbidden)
	if p := f.post(c, "/console/ws/ws_one/agents/ag_zed/password", url.Values{"csrf": {csrf}, "password": {"another long one"}}); p.status != http.StatusSeeOther {
		t.Fatalf("reset: %d %s", p.status, p.body)
	}
	ic = f.client()
	in = f.get(ic, "/inbox/signin")
	if p := f.post(ic, "/inbox/signin", url.Values{"csrf": {hidden(in.body, "csrf")}, "email": {"zed@one.example"}, "password": {"another long one"}}); p.status != http.StatusSeeOther {
		t.Fatalf("sign-in with the new password: %d %s", p.status, p.body)
	}

	// Another workspace's agent under this one is not found, and stays as it was.
	want(t, "disable another workspace's agent", f.post(c, "/console/ws/ws_one/agents/"+eve+"/enabled", url.Values{"csrf": {csrf}, "enabled": {"false"}}), http.StatusNotFound)
	want(t, "reset another workspace's agent", f.post(c, "/console/ws/ws_one/agents/"+eve+"/password", url.Values{"csrf": {csrf}, "password": {"a long password"}}), http.StatusNotFound)
	want(t, "delete another workspace's agent", f.post(c, "/console/ws/ws_one/agents/"+eve+"/delete", url.Values{"csrf": {csrf}, "confirm": {"1"}}), http.StatusNotFound)
	if a, _ := f.app.Engine.Agent(context.Background(), ws2, eve); a.Disabled || a.SessionGen != 0 {
		t.Fatalf("ws2's agent changed: %+v", a)
	}

	// Delete.
	want(t, "delete, unconfirmed", f.post(c, "/console/ws/ws_one/agents/ag_zed/delete", url.Values{"csrf": {csrf}}),
		http.StatusUnprocessableEntity, `id="err-confirm-ag_zed"`)
	want(t, "delete, forged", f.post(c, "/console/ws/ws_one/agents/ag_zed/delete", url.Values{"csrf": {"x"}, "confirm": {"1"}}), http.StatusForbidden)
	if n := count(); n != 4 {
		t.Fatalf("%d agents after refused deletes, want 4", n)
	}
	if p := f.post(c, "/console/ws/ws_one/agents/ag_zed/delete", url.Values{"csrf": {csrf}, "confirm": {"1"}}); p.status != http.StatusSeeOther {
		t.Fatalf("delete: %d %s", p.status, p.body)
	}
	if _, err := f.app.Engine.Agent(context.Background(), ws1, "ag_zed"); baton.ErrorCode(err) != baton.ENOTFOUND {
		t.Fatalf("the deleted agent: %v", err)
	}
	if p := f.get(ic, "/inbox/"); p.status != http.StatusSeeOther {
		t.Errorf("a deleted agent's session: %d", p.status)
	}
	entries, err := f.app.Engine.Audit(context.Background(), baton.AuditPage{WorkspaceID: ws1})
	if err != nil || len(entries) == 0 {
		t.Fatalf("the audit log: %v", err)
	}
	if last := entries[len(entries)-1]; last.Actor != "admin:ops" || last.Action != "delete" || last.Object != "agent" || last.ObjectID != "ag_zed" {
		t.Errorf("the audit log's last entry: %+v", last)
	}
}

func TestConsoleDeskEdit(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	c, csrf := f.console()
	if _, err := f.app.Engine.CreateDesk(adminCtx(), ws1, engine.DeskInput{ID: "dk_hook", Name: "Hook", Kind: baton.KindWebhook,
		Settings: map[string]string{"url": "https://crm.example", "secret": "s3cret-s3cret-s3cret"}}); err != nil {
		t.Fatal(err)
	}
	edit := f.get(c, "/console/ws/ws_one/desks/dk_hook/edit")
	want(t, "the edit form", edit, 200, `<label for="s-url">URL</label>`, `<label for="s-secret">Secret</label>`, `id="state-secret">set</span>`,
		`value="https://crm.example"`)
	if strings.Contains(edit.body, "s3cret") {
		t.Fatal("the form shows the secret")
	}
	want(t, "the desks", f.get(c, "/console/ws/ws_one/"), 200, `id="edit-dk_hook"`, `id="nav-bots"`, `id="nav-keys"`, `id="nav-agents"`)
	form := func(kv ...string) url.Values {
		v := url.Values{"csrf": {csrf}, "name": {"Hook"}, "settings.url": {"https://crm.example"}, "settings.secret": {""}}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	desk := func() baton.DeskConfig {
		d, err := f.app.Engine.Desk(context.Background(), ws1, "dk_hook")
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	want(t, "a bad url", f.post(c, "/console/ws/ws_one/desks/dk_hook/edit", form("settings.url", "ftp://x.example")),
		http.StatusUnprocessableEntity, `id="err-s-url"`, `value="ftp://x.example"`)
	want(t, "a forged token", f.post(c, "/console/ws/ws_one/desks/dk_hook/edit", form("csrf", "x", "name", "Forged")), http.StatusForbidden)
	if d := desk(); d.Name != "Hook" || d.Settings["url"] != "https://crm.example" {
		t.Fatalf("a refused edit changed the desk: %+v", d)
	}
	if p := f.post(c, "/console/ws/ws_one/desks/dk_hook/edit", form("name", xss, "settings.url", "https://crm2.example")); p.status != http.StatusSeeOther {
		t.Fatalf("edit: %d %s", p.status, p.body)
	}
	if d := desk(); d.Name != xss || d.Settings["url"] != "https://crm2.example" || d.Settings["secret"] != "s3cret-s3cret-s3cret" {
		t.Fatalf("the edited desk (the blank secret keeps its value): %+v", d)
	}
	wantEscaped(t, "the edit form", f.get(c, "/console/ws/ws_one/desks/dk_hook/edit"))
	if p := f.post(c, "/console/ws/ws_one/desks/dk_hook/edit", form("settings.secret", "n3w-s3cret-n3w-s3cret")); p.status != http.StatusSeeOther {
		t.Fatalf("edit: %d %s", p.status, p.body)
	}
	if d := desk(); d.Settings["secret"] != "n3w-s3cret-n3w-s3cret" {
		t.Fatalf("the new secret: %+v", d)
	}

	// Delete: refused while a bot uses the desk, and while a handoff is open there.
	want(t, "delete, unconfirmed", f.post(c, "/console/ws/ws_one/desks/dk_hook/delete", url.Values{"csrf": {csrf}}), http.StatusUnprocessableEntity, `id="err-confirm"`)
	want(t, "delete the bot's desk", f.post(c, "/console/ws/ws_one/desks/"+desk1+"/delete", url.Values{"csrf": {csrf}, "confirm": {"1"}}),
		http.StatusConflict, "bot bot_one uses desk dk_inbox")
	want(t, "delete, forged", f.post(c, "/console/ws/ws_one/desks/dk_hook/delete", url.Values{"csrf": {"x"}, "confirm": {"1"}}), http.StatusForbidden)
	if p := f.post(c, "/console/ws/ws_one/desks/dk_hook/delete", url.Values{"csrf": {csrf}, "confirm": {"1"}}); p.status != http.StatusSeeOther {
		t.Fatalf("delete: %d %s", p.status, p.body)
	}
	want(t, "deleted", f.get(c, "/console/ws/ws_one/desks/dk_hook/edit"), http.StatusNotFound)

	// Another workspace's desk under this one is not found.
	want(t, "another workspace's desk", f.get(c, "/console/ws/ws_one/desks/"+desk2+"/edit"), http.StatusNotFound)
	want(t, "delete another workspace's desk", f.post(c, "/console/ws/ws_one/desks/"+desk2+"/delete", url.Values{"csrf": {csrf}, "confirm": {"1"}}), http.StatusNotFound)
}

func TestConsolePolicyFields(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	c, csrf := f.console()
	pol := f.get(c, "/console/ws/ws_one/desks/dk_other/policy")
	for _, l := range []string{"p-wait_timeout", "p-wait_grace", "p-session_timeout", "p-idle_expiry", "p-history_rounds", "p-require_email",
		"p-out_of_hours_reply", "p-trigger_description", "p-session_start", "p-session_end", "p-session_expired"} {
		if !strings.Contains(pol.body, `<label for="`+l+`">`) {
			t.Errorf("the policy form has no label for %s", l)
		}
	}
	form := func(kv ...string) url.Values {
		v := url.Values{"csrf": {csrf}, "zone": {"UTC"}, "w0.start": {""}, "w0.end": {""}, "c0.date": {""}, "c0.start": {""}, "c0.end": {""},
			"wait_timeout": {"2m"}, "session_timeout": {"10m"}, "history_rounds": {"3"}, "out_of_hours_reply": {"Back at 9"}, "action": {"save"}}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	saved := func() *baton.Policy {
		d, err := f.app.Engine.Desk(context.Background(), ws1, "dk_other")
		if err != nil {
			t.Fatal(err)
		}
		return d.Policy
	}
	for _, bad := range []struct{ field, value, id string }{
		{"wait_timeout", "-5s", "err-p-wait_timeout"},
		{"wait_grace", "forever", "err-p-wait_grace"},
		{"idle_expiry", "900h", "err-p-idle_expiry"},
		{"history_rounds", "many", "err-p-history_rounds"},
		{"trigger_description", strings.Repeat("é", 2001), "err-p-trigger_description"},
		{"out_of_hours_reply", "closed\x00now", "err-p-out_of_hours_reply"},
		{"trigger_description", "bad \xff\xfe", "err-p-trigger_description"},
		{"history_rounds", "1000000", "err-p-history_rounds"},
		{"session_end", "END NOW", "err-p-session_end"},
		{"session_start", baton.DefaultSessionEnd, "err-p-session_payloads"},
	} {
		p := f.post(c, "/console/ws/ws_one/desks/dk_other/policy", form(bad.field, bad.value))
		kept := "Back at 9"
		if bad.field == "out_of_hours_reply" {
			kept = "closed" // what was typed, shown again
		}
		want(t, bad.field+" "+bad.value[:3], p, http.StatusUnprocessableEntity, `id="`+bad.id+`"`, `value="10m"`, kept)
	}
	want(t, "a forged token", f.post(c, "/console/ws/ws_one/desks/dk_other/policy", form("csrf", "x")), http.StatusForbidden)
	if p := saved(); p != nil {
		t.Fatalf("refused forms saved %+v", p)
	}
	p := f.post(c, "/console/ws/ws_one/desks/dk_other/policy", form("out_of_hours_reply", xss, "trigger_description", xss, "require_email", "1", "session_start", "HUMAN"))
	if p.status != http.StatusSeeOther {
		t.Fatalf("save: %d %s", p.status, p.body)
	}
	got := saved()
	if got == nil || got.WaitTimeout.D() != 2*time.Minute || got.SessionTimeout.D() != 10*time.Minute || got.HistoryRounds != 3 ||
		got.OutOfHoursReply != xss || got.TriggerDescription != xss || !got.RequireEmail ||
		got.SessionPayloads == nil || *got.SessionPayloads != (baton.SessionPayloads{Start: "HUMAN"}) {
		t.Fatalf("the saved policy: %+v", got)
	}
	page := f.get(c, p.header.Get("Location"))
	want(t, "the saved policy", page, 200, "Saved.", `value="2m0s"`, `value="10m0s"`, `value="3"`, `value="HUMAN"`)
	wantEscaped(t, "the policy page", page)
}
