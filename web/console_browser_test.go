package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/hours"
	"github.com/chromedp/chromedp"
)

// TestConsoleBrowser signs in to the console with an admin key, creates a
// webhook desk, sees its status badge, checks it against a fake company
// service, then edits its service periods (Mon–Fri 09:00–17:00 in a zone
// closed right now) and sees the week picture and "next open at" change,
// first in a preview, then saved.
func TestConsoleBrowser(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	f.addAdmin("adm_one", adminKey1, "ops")
	var probes atomic.Int32
	company := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			IsTest bool `json:"istest"`
		}
		if r.Method == "POST" && r.URL.Path == "/conversation/establish" && json.NewDecoder(r.Body).Decode(&body) == nil && body.IsTest {
			probes.Add(1)
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{}`))
			return
		}
		http.Error(w, "unexpected", http.StatusBadRequest)
	}))
	t.Cleanup(company.Close)

	// A zone where Mon–Fri 09:00–17:00 is closed now, so "next open at" shows.
	rule := []baton.Period{{Kind: baton.Weekly, Days: []string{"mon", "tue", "wed", "thu", "fri"}, Start: "09:00", End: "17:00"}}
	zone := ""
	for _, z := range []string{"Europe/Paris", "Asia/Tokyo", "America/New_York", "Pacific/Honolulu", "Pacific/Kiritimati", "Asia/Kolkata"} {
		cal, err := hours.Compile(baton.Policy{Zone: z, Periods: rule})
		if err != nil {
			t.Fatal(err)
		}
		if now := time.Now(); !cal.Open(now) && !cal.Open(now.Add(time.Minute)) {
			zone = z
			break
		}
	}
	if zone == "" {
		t.Fatal("no candidate zone is closed now")
	}

	b := f.tab(t, "admin")
	b.open("/console/signin")
	b.do("sign in",
		chromedp.SendKeys(chromedp.CSS("#key"), adminKey1),
		chromedp.Click(chromedp.CSS("#signin")),
		chromedp.WaitVisible(chromedp.CSS("#workspaces")))
	b.do("pick the workspace", chromedp.Click(chromedp.CSS(`a[href="/console/ws/ws_one/"]`)), chromedp.WaitVisible(chromedp.CSS("#desks")))
	b.do("the LiveChat form", chromedp.Click(chromedp.CSS("#new-livechat")), chromedp.WaitVisible(chromedp.CSS("#s-account_id")))
	b.shot("0-livechat-form")
	b.open("/console/ws/ws_one/")
	b.do("new webhook desk", chromedp.Click(chromedp.CSS("#new-webhook")), chromedp.WaitVisible(chromedp.CSS("#new-desk")))
	if got := eval[string](b, `document.getElementById('s-secret').type + ' ' + document.getElementById('s-password').type`); got != "password password" {
		t.Errorf("secret inputs are %q, want password inputs", got)
	}
	b.do("fill in the desk",
		chromedp.SendKeys(chromedp.CSS("#name"), "Support <b>hook</b>"),
		chromedp.SendKeys(chromedp.CSS("#id"), "dk_hook"),
		chromedp.SendKeys(chromedp.CSS("#s-url"), company.URL),
		chromedp.SendKeys(chromedp.CSS("#s-secret"), "s3cret-s3cret-s3cret"),
		chromedp.Click(chromedp.CSS("#create")),
		chromedp.WaitVisible(chromedp.CSS("#desk-dk_hook")))
	b.untilText("#notice", "Desk created.")
	b.untilText("#status-dk_hook", "not_configured")
	b.untilText("#desk-dk_hook h2", "Support <b>hook</b>")
	b.shot("1-created")

	b.do("check now", chromedp.Click(chromedp.CSS("#check-dk_hook")))
	b.untilText("#notice", "Desk checked.")
	b.untilText("#status-dk_hook", "available")
	if probes.Load() == 0 {
		t.Error("the company service got no probe")
	}
	b.shot("2-checked")

	openCells := `document.querySelectorAll('#week rect.open').length`
	b.do("service periods", chromedp.Click(chromedp.CSS("#policy-dk_hook")), chromedp.WaitVisible(chromedp.CSS("#week")))
	b.untilText("#availability", "Open now")
	if n := eval[int](b, openCells); n != 7 {
		t.Errorf("always open: %d open windows in the week, want 7", n)
	}
	b.shot("3-always-open")

	edit := fmt.Sprintf(`(function(){
		document.getElementById('zone').value = %s;
		for (const d of ['mon','tue','wed','thu','fri']) document.getElementById('w0-'+d).checked = true;
		document.getElementById('w0-start').value = '09:00';
		document.getElementById('w0-end').value = '17:00';
		return true})()`, js(zone))
	if !eval[bool](b, edit) {
		t.Fatal("editing the form")
	}
	b.do("preview", chromedp.Click(chromedp.CSS("#preview")))
	b.untilText("#week-h", "(preview)")
	b.untilText("#availability", "next open at")
	b.untilText("#availability", "09:00 ("+zone+")")
	b.until("5 open windows", openCells+" === 5")
	if n := eval[int](b, `document.querySelectorAll('#week rect.open[data-from="09:00"][data-to="17:00"]').length`); n != 5 {
		t.Errorf("the preview has %d 09:00–17:00 windows, want 5", n)
	}
	b.shot("4-preview")
	if d, _ := f.app.Engine.Desk(context.Background(), ws1, "dk_hook"); d.Policy != nil && len(d.Policy.Periods) > 0 {
		t.Fatalf("the preview saved the policy: %+v", d.Policy)
	}

	b.do("save", chromedp.Click(chromedp.CSS("#save")))
	b.untilText("#notice", "Saved.")
	b.untilText("#availability", "next open at")
	b.until("5 open windows", openCells+" === 5")
	b.shot("5-saved")
	d, err := f.app.Engine.Desk(context.Background(), ws1, "dk_hook")
	if err != nil || d.Policy == nil || d.Policy.Zone != zone || len(d.Policy.Periods) != 1 || d.Policy.Periods[0].Start != "09:00" {
		t.Fatalf("the saved policy: %+v %v", d.Policy, err)
	}
	entries, err := f.app.Engine.Audit(context.Background(), baton.AuditPage{WorkspaceID: ws1})
	if err != nil || len(entries) == 0 || entries[len(entries)-1].Actor != "admin:ops" {
		t.Errorf("the audit log: %+v %v", entries, err)
	}
}

// TestConsoleDashboardBrowser: the desks page leads to the dashboard, whose
// charts draw in Chromium under the CSP (a violation fails the tab), and
// whose range picker moves to another preset without script.
func TestConsoleDashboardBrowser(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	f.addAdmin("adm_one", adminKey1, "ops")
	f.seedDashboard()
	b := f.tab(t, "admin")
	b.open("/console/signin")
	b.do("sign in",
		chromedp.SendKeys(chromedp.CSS("#key"), adminKey1),
		chromedp.Click(chromedp.CSS("#signin")),
		chromedp.WaitVisible(chromedp.CSS("#workspaces")))
	b.open("/console/ws/ws_one/")
	b.do("the dashboard", chromedp.Click(chromedp.CSS("#dashboard")), chromedp.WaitVisible(chromedp.CSS("#volume")))
	b.untilText("#total", "4")
	if n := eval[int](b, `document.querySelectorAll('#volume g.bar').length`); n != 24 {
		t.Errorf("the last 24 hours: %d bars, want 24", n)
	}
	// The colours come from console.css: a drawn segment is not black.
	if fill := eval[string](b, `getComputedStyle(document.querySelector('#volume rect.o-agent-closed')).fill`); fill == "" || fill == "rgb(0, 0, 0)" {
		t.Errorf("an agent_closed segment is filled %q", fill)
	}
	b.shot("6-dashboard")
	b.do("the last 7 days", chromedp.Click(chromedp.CSS("#range-7d")), chromedp.Click(chromedp.CSS("#show")))
	b.until("168 bars", `document.querySelectorAll('#volume g.bar').length === 168`)
	b.untilText("#total", "4")
}
