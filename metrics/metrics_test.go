package metrics

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/prometheus/client_golang/prometheus"
)

// fakeStore answers the reads the store collector makes.
type fakeStore struct {
	handoffs map[[2]string]int64
	jobs     map[string]int64
	desks    map[string]baton.DeskStatus
	err      error
}

func (s *fakeStore) Tx(_ context.Context, fn func(baton.Tx) error) error   { return fn(fakeTx{s: s}) }
func (s *fakeStore) View(_ context.Context, fn func(baton.Tx) error) error { return fn(fakeTx{s: s}) }
func (s *fakeStore) Close() error                                          { return nil }

// fakeTx embeds a nil baton.Tx: any method other than those below panics.
type fakeTx struct {
	baton.Tx
	s *fakeStore
}

func (t fakeTx) CountHandoffs() (map[[2]string]int64, error) { return t.s.handoffs, t.s.err }
func (t fakeTx) JobCount() (map[string]int64, error)         { return t.s.jobs, t.s.err }
func (t fakeTx) DeskStatuses() (map[string]baton.DeskStatus, error) {
	return t.s.desks, t.s.err
}

func scrape(t *testing.T, h http.Handler) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(rec.Body)
	return rec.Code, string(b)
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	fs := &fakeStore{
		handoffs: map[[2]string]int64{{"queued", ""}: 2, {"ended", "agent_closed"}: 5},
		jobs:     map[string]int64{"bot.webhook": 3, "timer": 1},
		desks:    map[string]baton.DeskStatus{"support": baton.Unavailable},
	}
	m := New(prometheus.NewRegistry(), fs)
	m.Delivery("bot", true)
	m.Delivery("bot", true)
	m.Delivery("desk", false)
	m.DeskCall(baton.KindWebhook, "open", 30*time.Millisecond, true)
	m.DeskCall(baton.KindWebhook, "send", 2*time.Second, false)
	m.Waited(42 * time.Second)
	m.Ended(baton.AgentClosed)
	m.Ended(baton.AgentClosed)
	m.Ended(baton.WaitTimeout)

	code, body := scrape(t, m.Handler())
	if code != 200 {
		t.Fatalf("status %d, body:\n%s", code, body)
	}
	for _, want := range []string{
		`baton_deliveries_total{result="ok",target="bot"} 2`,
		`baton_deliveries_total{result="error",target="desk"} 1`,
		`baton_deliveries_total{result="ok",target="desk"} 0`,
		`baton_desk_call_seconds_count{kind="webhook",op="open",result="ok"} 1`,
		`baton_desk_call_seconds_bucket{kind="webhook",op="open",result="ok",le="0.05"} 1`,
		`baton_desk_call_seconds_bucket{kind="webhook",op="send",result="error",le="1"} 0`,
		`baton_wait_seconds_count 1`,
		`baton_wait_seconds_sum 42`,
		`baton_wait_seconds_bucket{le="60"} 1`,
		`baton_handoffs_ended_total{reason="agent_closed"} 2`,
		`baton_handoffs_ended_total{reason="wait_timeout"} 1`,
		`baton_handoffs_ended_total{reason="desk_unavailable"} 0`,
		`baton_handoffs{end_reason="",state="queued"} 2`,
		`baton_handoffs{end_reason="agent_closed",state="ended"} 5`,
		`baton_jobs_pending{kind="bot.webhook"} 3`,
		`baton_desk_status{desk="support",status="unavailable"} 1`,
		`baton_desk_status{desk="support",status="available"} 0`,
		`baton_jobs_pending{kind="timer"} 1`,
		`baton_handoffs{end_reason="",state="active"} 0`,
		`baton_handoffs{end_reason="idle_expired",state="ended"} 0`,
		`go_goroutines `,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("scrape lacks %q", want)
		}
	}

	// The gauges follow the store from one scrape to the next.
	fs.handoffs = map[[2]string]int64{{"queued", ""}: 7}
	fs.jobs = nil
	_, body = scrape(t, m.Handler())
	if !strings.Contains(body, `baton_handoffs{end_reason="",state="queued"} 7`) {
		t.Errorf("second scrape lacks the new count:\n%s", grep(body, "baton_handoffs{"))
	}
	if !strings.Contains(body, `baton_handoffs{end_reason="agent_closed",state="ended"} 0`) || !strings.Contains(body, `baton_jobs_pending{kind="bot.webhook"} 0`) {
		t.Errorf("second scrape: want ended handoffs and pending jobs back at zero:\n%s", grep(body, "baton_"))
	}
}

// TestSeriesFromTheStart: before anything happened, a scrape has every
// documented series, at zero, each with its HELP line.
func TestSeriesFromTheStart(t *testing.T) {
	t.Parallel()
	m := New(prometheus.NewRegistry(), &fakeStore{})
	_, body := scrape(t, m.Handler())
	for _, name := range []string{"baton_deliveries_total", "baton_desk_call_seconds", "baton_wait_seconds", "baton_handoffs_ended_total",
		"baton_handoffs", "baton_jobs_pending"} {
		if !strings.Contains(body, "# HELP "+name+" ") {
			t.Errorf("no HELP line for %s", name)
		}
	}
	want := []string{
		`baton_deliveries_total{result="error",target="bot"} 0`,
		`baton_desk_call_seconds_count{kind="webhook",op="open",result="error"} 0`,
		`baton_desk_call_seconds_count{kind="inbox",op="check",result="ok"} 0`,
		`baton_desk_call_seconds_count{kind="livechat",op="transfer",result="ok"} 0`,
		`baton_wait_seconds_count 0`,
		`baton_handoffs{end_reason="",state="requested"} 0`,
	}
	for _, k := range jobKinds {
		want = append(want, `baton_jobs_pending{kind="`+string(k)+`"} 0`)
	}
	for _, r := range endReasons {
		want = append(want, `baton_handoffs_ended_total{reason="`+string(r)+`"} 0`, `baton_handoffs{end_reason="`+string(r)+`",state="ended"} 0`)
	}
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("first scrape lacks %q", w)
		}
	}
}

func TestStoreFailureFailsScrape(t *testing.T) {
	t.Parallel()
	m := New(prometheus.NewRegistry(), &fakeStore{err: errors.New("database is gone")})
	code, body := scrape(t, m.Handler())
	if code != http.StatusInternalServerError || !strings.Contains(body, "database is gone") {
		t.Errorf("status %d, body:\n%s", code, body)
	}
}

func TestRegistriesAreSeparate(t *testing.T) {
	t.Parallel()
	fs := &fakeStore{}
	a := New(prometheus.NewRegistry(), fs)
	b := New(prometheus.NewRegistry(), fs)
	a.Ended(baton.BotClosed)
	_, body := scrape(t, b.Handler())
	if !strings.Contains(body, `baton_handoffs_ended_total{reason="bot_closed"} 0`) {
		t.Errorf("a second run sees the first one's counts:\n%s", grep(body, "baton_handoffs_ended_total"))
	}
}

func grep(body, s string) string {
	var out []string
	for l := range strings.Lines(body) {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "")
}
