package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/gorgias"
	"github.com/batonhq/baton/intercom"
	"github.com/batonhq/baton/livechat"
	"github.com/batonhq/baton/web"
	"github.com/batonhq/baton/webhookdesk"
)

// The admin console over plain HTTP.

const adminKey1 = "badm_console_test_0123456789"

// addAdmin stores an admin key for the console.
func (f *fixture) addAdmin(id, key, name string) {
	f.t.Helper()
	err := f.store.Tx(context.Background(), func(tx baton.Tx) error {
		return tx.PutAdminKey(baton.AdminKey{ID: id, Hash: baton.HashKey(key), Name: name, Prefix: key[:9], CreatedAt: time.Now().UTC()})
	})
	if err != nil {
		f.t.Fatal(err)
	}
}

// consoleSignIn posts the console sign-in form with key.
func (f *fixture) consoleSignIn(c *http.Client, key string) page {
	f.t.Helper()
	form := f.get(c, "/console/signin")
	return f.post(c, "/console/signin", url.Values{"csrf": {hidden(form.body, "csrf")}, "key": {key}})
}

func TestConsoleSignIn(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	f.addAdmin("adm_one", adminKey1, "ops")
	c := f.client()
	if p := f.get(c, "/console/"); p.status != http.StatusSeeOther || p.header.Get("Location") != "/console/signin" {
		t.Fatalf("the console, signed out: %d %s", p.status, p.header.Get("Location"))
	}
	form := f.get(c, "/console/signin")
	wantHeaders(t, "the console sign-in page", form.header)
	if !strings.Contains(form.body, `<label for="key">Admin key</label>`) || !strings.Contains(form.body, `type="password"`) {
		t.Fatalf("sign-in page: %s", form.body)
	}
	if p := f.consoleSignIn(c, "badm_wrong_0123456789"); p.status != http.StatusUnauthorized || !strings.Contains(p.body, "unknown admin key") {
		t.Fatalf("a wrong key: %d %s", p.status, p.body)
	}
	if p := f.consoleSignIn(c, apiKey1); p.status != http.StatusUnauthorized || !strings.Contains(p.body, "this is a workspace API key") {
		t.Fatalf("a bot API key: %d %s", p.status, p.body)
	}
	// A forged sign-in token.
	if p := f.post(c, "/console/signin", url.Values{"csrf": {"forged"}, "key": {adminKey1}}); p.status != http.StatusForbidden {
		t.Fatalf("a forged sign-in token: %d", p.status)
	}
	p := f.consoleSignIn(c, adminKey1)
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/console/" {
		t.Fatalf("sign-in: %d %s %s", p.status, p.header.Get("Location"), p.body)
	}
	ck := cookieOf(t, p.header, "baton_console")
	if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/console/" || ck.MaxAge != 8*3600 || strings.Contains(ck.Value, adminKey1) {
		t.Errorf("console cookie %+v", ck)
	}
	home := f.get(c, "/console/")
	wantHeaders(t, "the workspaces", home.header)
	if home.status != 200 || !strings.Contains(home.body, `href="/console/ws/ws_one/"`) || !strings.Contains(home.body, "ops") {
		t.Fatalf("workspaces: %d %s", home.status, home.body)
	}
	// The inbox's session is not the console's.
	if p := f.get(c, "/inbox/"); p.status != http.StatusSeeOther {
		t.Errorf("the inbox with a console session: %d", p.status)
	}

	// Revoking the key ends the session at its next request.
	if err := f.store.Tx(context.Background(), func(tx baton.Tx) error { return tx.DeleteAdminKey("adm_one") }); err != nil {
		t.Fatal(err)
	}
	if p := f.get(c, "/console/ws/ws_one/"); p.status != http.StatusSeeOther || p.header.Get("Location") != "/console/signin?ended=1" {
		t.Fatalf("a revoked key's session: %d %s", p.status, p.header.Get("Location"))
	}
}

func TestConsoleSignInLimited(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	c := f.client()
	var p page
	for range 21 {
		p = f.consoleSignIn(c, "badm_wrong_0123456789")
	}
	if p.status != http.StatusTooManyRequests || p.header.Get("Retry-After") == "" {
		t.Fatalf("the 21st failed sign-in: %d %v", p.status, p.header)
	}
}

func TestConsoleCSRFAndEscaping(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	f.addAdmin("adm_one", adminKey1, "ops")
	c := f.client()
	f.consoleSignIn(c, adminKey1)
	form := f.get(c, "/console/ws/ws_one/desks/new?kind=webhook")
	for _, label := range []string{"URL", "Secret", "Username", "Password"} {
		if !strings.Contains(form.body, ">"+label+"</label>") {
			t.Errorf("the webhook form has no %q label", label)
		}
	}
	lc := f.get(c, "/console/ws/ws_one/desks/new?kind=livechat")
	for _, label := range []string{"Account ID", "Token", "Client Id", "Client Secret", "Secret key", "Organization ID", "Group"} {
		if !strings.Contains(lc.body, ">"+label+"</label>") {
			t.Errorf("the LiveChat form has no %q label", label)
		}
	}
	gg := f.get(c, "/console/ws/ws_one/desks/new?kind=gorgias")
	for _, label := range []string{"Domain", "Base API URL", "Username", "Rate limit", "Password (API Key)", "Integration token"} {
		if !strings.Contains(gg.body, ">"+label+"</label>") {
			t.Errorf("the Gorgias form has no %q label", label)
		}
	}
	csrf := hidden(form.body, "csrf")
	// A Gorgias desk is made from its form; a bad domain is shown at its field.
	if p := f.post(c, "/console/ws/ws_one/desks", url.Values{"csrf": {csrf}, "kind": {"gorgias"}, "name": {"G"},
		"settings.domain": {"Not A Domain"}, "settings.email": {"api@acme.example"}, "settings.api_key": {"k3y-k3y-k3y"},
		"settings.integration_token": {"t0ken-t0ken-t0ken-t0ken"}}); p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, `id="err-s-domain"`) {
		t.Fatalf("a bad Gorgias domain: %d %s", p.status, p.body)
	}
	if p := f.post(c, "/console/ws/ws_one/desks", url.Values{"csrf": {csrf}, "kind": {"gorgias"}, "id": {"dk_gg"}, "name": {"G"},
		"settings.domain": {"acme"}, "settings.email": {"api@acme.example"}, "settings.api_key": {"k3y-k3y-k3y"},
		"settings.integration_token": {"t0ken-t0ken-t0ken-t0ken"}}); p.status != http.StatusSeeOther {
		t.Fatalf("creating a Gorgias desk: %d %s", p.status, p.body)
	}
	if d, err := f.app.Engine.Desk(adminCtx(), ws1, "dk_gg"); err != nil || d.Kind != baton.KindGorgias || d.Settings["domain"] != "acme" {
		t.Fatalf("the Gorgias desk: %+v %v", d, err)
	}
	ic := f.get(c, "/console/ws/ws_one/desks/new?kind=intercom")
	for _, label := range []string{"Regional API URL", "Intercom-Version", "Admin ID", "Access token", "Client secret"} {
		if !strings.Contains(ic.body, ">"+label+"</label>") {
			t.Errorf("the Intercom form has no %q label", label)
		}
	}
	// An Intercom desk is made from its form; a bad version is shown at its field.
	if p := f.post(c, "/console/ws/ws_one/desks", url.Values{"csrf": {csrf}, "kind": {"intercom"}, "name": {"I"},
		"settings.api_version": {"latest"}, "settings.access_token": {"dG9rOmFiYw=="}, "settings.client_secret": {"s3cr3t"}}); p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, `id="err-s-api_version"`) {
		t.Fatalf("a bad Intercom version: %d %s", p.status, p.body)
	}
	if p := f.post(c, "/console/ws/ws_one/desks", url.Values{"csrf": {csrf}, "kind": {"intercom"}, "id": {"dk_ic"}, "name": {"I"},
		"settings.access_token": {"dG9rOmFiYw=="}, "settings.client_secret": {"s3cr3t"}}); p.status != http.StatusSeeOther {
		t.Fatalf("creating an Intercom desk: %d %s", p.status, p.body)
	}
	if d, err := f.app.Engine.Desk(adminCtx(), ws1, "dk_ic"); err != nil || d.Kind != baton.KindIntercom || d.Settings["client_secret"] != "s3cr3t" {
		t.Fatalf("the Intercom desk: %+v %v", d, err)
	}
	// A forged token changes nothing.
	if p := f.post(c, "/console/ws/ws_one/desks", url.Values{"csrf": {"forged"}, "kind": {"inbox"}, "name": {"Nope"}}); p.status != http.StatusForbidden {
		t.Fatalf("a forged CSRF token: %d", p.status)
	}
	// Cross-origin is refused before the form is read.
	req, _ := http.NewRequest("POST", f.srv.URL+"/console/ws/ws_one/desks", strings.NewReader(url.Values{"csrf": {csrf}, "kind": {"inbox"}, "name": {"X"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if res, err := c.Do(req); err != nil || res.StatusCode != http.StatusForbidden {
		t.Fatalf("a cross-origin form: %v %v", res, err)
	}
	// A bad setting is shown next to its field; the secret is not shown back.
	bad := f.post(c, "/console/ws/ws_one/desks", url.Values{"csrf": {csrf}, "kind": {"webhook"}, "name": {"Hook"},
		"settings.url": {"ftp://x.example"}, "settings.secret": {"s3cret-s3cret-s3cret"}})
	if bad.status != http.StatusUnprocessableEntity || !strings.Contains(bad.body, `id="err-s-url"`) || strings.Contains(bad.body, "s3cret-s3cret-s3cret") {
		t.Fatalf("a bad url: %d %s", bad.status, bad.body)
	}
	// HTML in a desk's name is escaped.
	xss := `<script>alert(1)</script><img src=x onerror=alert(2)>`
	if p := f.post(c, "/console/ws/ws_one/desks", url.Values{"csrf": {csrf}, "kind": {"webhook"}, "id": {"dk_xss"}, "name": {xss},
		"settings.url": {"https://crm.example"}, "settings.secret": {"s3cret-s3cret-s3cret"}}); p.status != http.StatusSeeOther {
		t.Fatalf("creating: %d %s", p.status, p.body)
	}
	list := f.get(c, "/console/ws/ws_one/")
	if strings.Contains(list.body, xss) || !strings.Contains(list.body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Fatalf("the desk's name is not escaped: %s", list.body)
	}
	if strings.Contains(list.body, "s3cret") || !strings.Contains(list.body, `<span class="secret">set</span>`) {
		t.Errorf("the secret: %s", list.body)
	}
	pol := f.get(c, "/console/ws/ws_one/desks/dk_xss/policy")
	if pol.status != 200 || strings.Contains(pol.body, xss) {
		t.Fatalf("the policy page: %d %s", pol.status, pol.body)
	}
	// A bad period is shown next to its row.
	p := f.post(c, "/console/ws/ws_one/desks/dk_xss/policy", url.Values{"csrf": {csrf}, "zone": {"Europe/Paris"},
		"w0.days": {"mon"}, "w0.start": {"25:00"}, "w0.end": {"10:00"}, "c0.date": {""}, "c0.start": {""}, "c0.end": {""}, "action": {"save"}})
	if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, `id="err-w0"`) {
		t.Fatalf("a bad period: %d %s", p.status, p.body)
	}
	// A row posted without its times, and a closed date with times, are
	// refused next to their rows, not dropped.
	for name, form := range map[string]url.Values{
		"days without times":   {"w0.days": {"mon"}},
		"a closed date, timed": {"c0.date": {"2026-12-25"}, "c0.closed": {"1"}, "c0.start": {"09:00"}, "c0.end": {"10:00"}},
	} {
		form.Set("csrf", csrf)
		form.Set("zone", "Europe/Paris")
		form.Set("action", "save")
		row := "err-w0"
		if form.Has("c0.date") {
			row = "err-c0"
		}
		if p := f.post(c, "/console/ws/ws_one/desks/dk_xss/policy", form); p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, `id="`+row+`"`) {
			t.Errorf("%s: %d, want 422 next to its row", name, p.status)
		}
	}
	p = f.post(c, "/console/ws/ws_one/desks/dk_xss/policy", url.Values{"csrf": {csrf}, "zone": {"Mars/Olympus"}, "w0.start": {""}, "w0.end": {""}, "action": {"save"}})
	if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, `id="err-zone"`) {
		t.Fatalf("a bad zone: %d %s", p.status, p.body)
	}
}

// TestConsoleFieldsMatchTheDesks holds the console's settings forms to the
// desk kinds' own lists of settings: every name is one of the kind's
// settings, secret exactly when the kind says so.
func TestConsoleFieldsMatchTheDesks(t *testing.T) {
	kinds := map[baton.DeskKind]map[string]bool{baton.KindLiveChat: {}, baton.KindWebhook: {}, baton.KindGorgias: {}, baton.KindIntercom: {}}
	for _, f := range livechat.Fields() {
		kinds[baton.KindLiveChat][f.Name] = f.Secret
	}
	for _, f := range gorgias.Fields() {
		kinds[baton.KindGorgias][f.Name] = f.Secret
	}
	for _, f := range intercom.Fields() {
		kinds[baton.KindIntercom][f.Name] = f.Secret
	}
	for _, f := range webhookdesk.Fields() {
		kinds[baton.KindWebhook][f.Name] = f.Secret
	}
	for kind, fields := range web.ConsoleFields() {
		for name, secret := range fields {
			want, ok := kinds[kind][name]
			if !ok || want != secret {
				t.Errorf("%s setting %s (secret %v): the desk has it %v, secret %v", kind, name, secret, ok, want)
			}
		}
	}
	for _, kind := range []baton.DeskKind{baton.KindWebhook, baton.KindGorgias, baton.KindIntercom} {
		if len(web.ConsoleFields()[kind]) != len(kinds[kind]) {
			t.Errorf("the %s form does not show every setting", kind)
		}
	}
}

// TestConsolePolicyPreview previews a week with a holiday: the picture
// leaves the holiday's date empty, and nothing is saved.
func TestConsolePolicyPreview(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	f.addAdmin("adm_one", adminKey1, "ops")
	c := f.client()
	f.consoleSignIn(c, adminKey1)
	pol := f.get(c, "/console/ws/ws_one/desks/dk_other/policy")
	if pol.status != 200 || strings.Count(pol.body, `class="open"`) != 7 || !strings.Contains(pol.body, `id="no-policy"`) {
		t.Fatalf("the policy page: %d %s", pol.status, pol.body)
	}
	tomorrow := time.Now().UTC().AddDate(0, 0, 1).Format(time.DateOnly)
	p := f.post(c, "/console/ws/ws_one/desks/dk_other/policy", url.Values{"csrf": {hidden(pol.body, "csrf")}, "zone": {"UTC"},
		"w0.days": {"mon", "tue", "wed", "thu", "fri", "sat", "sun"}, "w0.start": {"00:00"}, "w0.end": {"24:00"},
		"c0.date": {tomorrow}, "c0.start": {""}, "c0.end": {""}, "c0.closed": {"1"}, "action": {"preview"}})
	if p.status != 200 || !strings.Contains(p.body, "Preview: not saved yet.") {
		t.Fatalf("preview: %d %s", p.status, p.body)
	}
	if n := strings.Count(p.body, `class="open"`); n != 6 {
		t.Errorf("the preview has %d open windows, want 6 (tomorrow is a holiday)", n)
	}
	_, row, _ := strings.Cut(p.body, `data-date="`+tomorrow+`"`)
	if row, _, _ = strings.Cut(row, "</g>"); row == "" || strings.Contains(row, `class="open"`) {
		t.Errorf("the row of %s: %q", tomorrow, row)
	}
	if d, _ := f.app.Engine.Desk(context.Background(), ws1, "dk_other"); d.Policy != nil {
		t.Errorf("the preview saved: %+v", d.Policy)
	}
}

// TestConsoleSignOutEndsCopies: signing out ends every console session of
// the key, a copied cookie too; signing in again works.
func TestConsoleSignOutEndsCopies(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	f.addAdmin("adm_one", adminKey1, "ops")
	c, other := f.client(), f.client()
	f.consoleSignIn(c, adminKey1)
	f.consoleSignIn(other, adminKey1)
	u, _ := url.Parse(f.srv.URL + "/console/")
	copied := c.Jar.Cookies(u)
	home := f.get(c, "/console/")
	if p := f.post(c, "/console/signout", url.Values{"csrf": {hidden(home.body, "csrf")}}); p.status != http.StatusSeeOther {
		t.Fatalf("sign-out: %d %s", p.status, p.body)
	}
	thief := f.client()
	thief.Jar.SetCookies(u, copied)
	for name, cl := range map[string]*http.Client{"the copied cookie": thief, "another session of the key": other} {
		if p := f.get(cl, "/console/"); p.status != http.StatusSeeOther || !strings.Contains(p.header.Get("Location"), "/console/signin") {
			t.Errorf("%s after sign-out: %d %s", name, p.status, p.header.Get("Location"))
		}
	}
	f.consoleSignIn(c, adminKey1)
	if p := f.get(c, "/console/"); p.status != http.StatusOK {
		t.Errorf("signing in again: %d", p.status)
	}
}
