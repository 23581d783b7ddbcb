package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
)

// seedDashboard puts four handoffs of the last hours in ws1 and a short
// outage of its inbox desk five hours ago, with two failed calls.
func (f *fixture) seedDashboard() {
	f.t.Helper()
	now := time.Now().UTC()
	h := func(id string, ago time.Duration, st baton.State, r baton.EndReason, queued, taken bool, reply time.Duration) baton.Handoff {
		x := baton.Handoff{ID: id, WorkspaceID: ws1, ConversationID: "cv_" + id, BotID: bot1, DeskID: desk1, State: st, EndReason: r, CreatedAt: now.Add(-ago)}
		if queued {
			x.QueuedAt = x.CreatedAt.Add(time.Second)
		}
		if taken {
			x.TakenAt = x.QueuedAt.Add(time.Second)
		}
		if reply > 0 {
			x.ActiveAt = x.QueuedAt.Add(reply)
		}
		if st == baton.Ended {
			x.EndedAt = x.CreatedAt.Add(10 * time.Minute)
		}
		return x
	}
	err := f.store.Tx(context.Background(), func(tx baton.Tx) error {
		for _, x := range []baton.Handoff{
			h("ho_a", 3*time.Hour, baton.Ended, baton.AgentClosed, true, true, 90*time.Second),
			h("ho_b", 3*time.Hour, baton.Ended, baton.CustomerClosed, true, false, 0), // abandoned
			h("ho_c", 2*time.Hour, baton.Active, "", true, true, 30*time.Second),
			h("ho_d", 2*time.Hour, baton.Ended, baton.OutOfHours, false, false, 0),
		} {
			if err := tx.PutHandoff(x); err != nil {
				return err
			}
		}
		for _, st := range []baton.DeskState{
			{DeskID: desk1, Status: baton.Unavailable, LastError: "502 from the desk", CheckedAt: now.Add(-5 * time.Hour)},
			{DeskID: desk1, Status: baton.Available, CheckedAt: now.Add(-4 * time.Hour)},
		} {
			if err := tx.SetDeskStatus(st); err != nil {
				return err
			}
		}
		for range 2 {
			if err := tx.AddDeskFailure(baton.DeskFailure{WorkspaceID: ws1, DeskID: desk1, Op: "send", Error: "502", At: now.Add(-5 * time.Hour)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		f.t.Fatal(err)
	}
}

// TestConsoleDashboard: the desks page links the dashboard; it shows the
// seeded figures and draws them as SVG with text alternatives, without
// script or inline style; the presets count by hour or day.
func TestConsoleDashboard(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	f.addAdmin("adm_one", adminKey1, "ops")
	f.seedDashboard()
	c := f.client()
	if p := f.get(c, "/console/ws/ws_one/dashboard"); p.status != http.StatusSeeOther {
		t.Fatalf("the dashboard, signed out: %d", p.status)
	}
	f.consoleSignIn(c, adminKey1)
	if p := f.get(c, "/console/ws/ws_one/"); !strings.Contains(p.body, `href="/console/ws/ws_one/dashboard"`) {
		t.Fatalf("the desks page does not link the dashboard: %s", p.body)
	}
	p := f.get(c, "/console/ws/ws_one/dashboard")
	wantHeaders(t, "the dashboard", p.header)
	if p.status != 200 {
		t.Fatalf("the dashboard: %d %s", p.status, p.body)
	}
	for _, want := range []string{
		`<dd id="total">4</dd>`,
		`<dd id="p50">30 s</dd>`,
		`<dd id="p90">1 min 30 s</dd>`,
		`<dd id="abandoned">1 <span class="muted">of 3 queued · <span id="abandon-rate">33.3%</span>`,
		`<dd id="timed-out">0</dd>`,
		`<svg xmlns="http://www.w3.org/2000/svg" class="chart volume" id="volume" role="img" aria-labelledby="volume-title volume-desc"`,
		`<title id="volume-title">Handoffs per hour by outcome</title>`,
		`<rect class="o-agent-closed"`, `<rect class="o-customer-closed"`, `<rect class="o-open"`, `<rect class="o-out-of-hours"`,
		`<tr id="reason-customer_closed"><th scope="row">customer_closed</th><td>1</td><td>25.0%</td>`,
		`<span id="failed-dk_inbox">2</span>`,
		`id="failures-dk_inbox" role="img"`, `<rect class="failed"`,
		`id="timeline-dk_inbox" role="img"`, `data-status="unavailable"><title>unavailable, `,
		`502 from the desk`,
		`<input type="radio" id="range-24h" name="range" value="24h" checked><label for="range-24h">Last 24 hours</label>`,
		`<label for="from">From (UTC, custom)</label>`,
		`id="volume-table"`,
	} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the dashboard lacks %s", want)
		}
	}
	if n := strings.Count(p.body, `<g class="bar"`); n != 24 {
		t.Errorf("the last 24 hours have %d bars, want 24", n)
	}
	if n := strings.Count(p.body, `<text class="tick"`); n != 8 {
		t.Errorf("the last 24 hours have %d labels on the time axis, want one every third hour", n)
	}
	for _, no := range []string{"<script", " style="} {
		if strings.Contains(p.body, no) {
			t.Errorf("the dashboard has %q", no)
		}
	}
	if p := f.get(c, "/console/ws/ws_one/dashboard?range=7d"); strings.Count(p.body, `<g class="bar"`) != 168 {
		t.Errorf("the last 7 days: %d bars, want 168", strings.Count(p.body, `<g class="bar"`))
	} else if n := strings.Count(p.body, `<text class="tick"`); n < 7 || n > 8 {
		t.Errorf("the last 7 days have %d labels on the time axis, want each midnight", n)
	}
	p = f.get(c, "/console/ws/ws_one/dashboard?range=30d&desk="+desk1)
	if strings.Count(p.body, `<g class="bar"`) != 30 || !strings.Contains(p.body, "Handoffs per day by outcome") || !strings.Contains(p.body, `<dd id="total">4</dd>`) {
		t.Errorf("the last 30 days of one desk: %d bars\n%s", strings.Count(p.body, `<g class="bar"`), p.body)
	}
	if strings.Contains(p.body, `id="desk-`+deskOther+`"`) {
		t.Errorf("the dashboard of one desk shows another")
	}
	// A custom range: the handoffs of three hours ago only.
	from := time.Now().UTC().Add(-3*time.Hour - time.Minute).Format("2006-01-02T15:04")
	to := time.Now().UTC().Add(-2*time.Hour - time.Minute).Format("2006-01-02T15:04")
	p = f.get(c, "/console/ws/ws_one/dashboard?"+url.Values{"range": {"custom"}, "from": {from}, "to": {to}}.Encode())
	if p.status != 200 || !strings.Contains(p.body, `<dd id="total">2</dd>`) || !strings.Contains(p.body, `value="`+from+`"`) {
		t.Errorf("a custom range: %d %s", p.status, p.body)
	}
}

// TestConsoleDashboardRefused: a bad range is answered 422 on the page,
// naming its field; another workspace's desk, or a workspace that does
// not exist, is not found.
func TestConsoleDashboardRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	f.addAdmin("adm_one", adminKey1, "ops")
	c := f.client()
	f.consoleSignIn(c, adminKey1)
	for _, tc := range []struct {
		q     url.Values
		field string
	}{
		{url.Values{"range": {"custom"}, "from": {"2026-03-02T10:00"}, "to": {"2026-03-02T09:00"}}, "to"},
		{url.Values{"range": {"custom"}, "from": {"yesterday"}, "to": {"2026-03-02T09:00"}}, "from"},
		{url.Values{"range": {"custom"}, "from": {"2026-03-02T10:00"}}, "to"},
		{url.Values{"range": {"custom"}, "from": {"2025-01-01T00:00"}, "to": {"2026-03-02T09:00"}}, "from"},
		{url.Values{"range": {"1y"}}, "range"},
	} {
		p := f.get(c, "/console/ws/ws_one/dashboard?"+tc.q.Encode())
		if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, `id="err-`+tc.field+`"`) || !strings.Contains(p.body, `role="alert"`) {
			t.Errorf("%v: %d, want 422 naming %s\n%s", tc.q, p.status, tc.field, p.body)
		}
		if tc.field != "range" && !strings.Contains(p.body, `aria-describedby="err-`+tc.field+`"`) {
			t.Errorf("%v: the field %s is not described by its error", tc.q, tc.field)
		}
	}
	for _, path := range []string{
		"/console/ws/ws_two/dashboard?desk=" + desk1, // ws1's desk under ws2
		"/console/ws/ws_nope/dashboard",
	} {
		if p := f.get(c, path); p.status != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", path, p.status)
		}
	}
}
