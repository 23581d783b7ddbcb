package main

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton/postgres"
	"github.com/batonhq/baton/sqlite"
)

// The restart tests stop Baton while deliveries to the company's service and
// to the bot are failing and timers are pending, bring the receivers back,
// start Baton again on the same database and check that nothing was lost,
// nothing was relayed twice and every timer fired.
//
// BATON_RETRY_SCALE shortens the retry schedules (the bot's is Svix-like: 0,
// 5s, 5m, ...). The company's service, while down, answers 503 with
// Retry-After: 1: opening a handoff is tried a fixed number of times before
// it ends desk_unavailable, so with the scaled schedule alone (1ms, 2ms, ...)
// every open would give up within ~50ms; Retry-After is honoured as given.

func TestRestartSQLite(t *testing.T)   { restart(t, "sqlite") }
func TestRestartPostgres(t *testing.T) { restart(t, "postgres") }

// Job kinds as the engine stores them, to check what is pending at the stop.
const (
	jobDeskOpen = "desk.open"
	jobDeskSend = "desk.send"
	jobBotHook  = "bot.webhook"
	jobTimerRow = "timer"
)

// storeDB opens the test's database directly, to look at the job rows.
func storeDB(ctx context.Context, env map[string]string) (*sql.DB, error) {
	if u := env["BATON_DATABASE_URL"]; u != "" {
		return postgres.OpenDB(ctx, u)
	}
	return sqlite.OpenDB(env["BATON_DB"])
}

// pendingJobs reads the kinds of the jobs pending per handoff in the
// database of a stopped instance.
func pendingJobs(t *testing.T, env map[string]string) map[string][]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	db, err := storeDB(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT kind, handoff_id FROM jobs ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	jobs := map[string][]string{}
	for rows.Next() {
		var kind, h string
		if err := rows.Scan(&kind, &h); err != nil {
			t.Fatal(err)
		}
		jobs[h] = append(jobs[h], kind)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return jobs
}

// jobsTable renders the job rows, for failure messages (the columns are the
// store's own: a query error is shown, not fatal).
func jobsTable(t *testing.T, env map[string]string) string {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(t.Context()), 10*time.Second)
	defer cancel()
	db, err := storeDB(ctx, env)
	if err != nil {
		return err.Error()
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT id, kind, lane, handoff_id, run_at, locked_until, head, attempts, last_error FROM jobs ORDER BY id`)
	if err != nil {
		return err.Error()
	}
	defer rows.Close()
	var b strings.Builder
	nowMicro := time.Now().UnixMicro()
	for rows.Next() {
		var id, runAt, locked int64
		var kind, lane, h, lastErr string
		var head bool
		var attempts int
		if err := rows.Scan(&id, &kind, &lane, &h, &runAt, &locked, &head, &attempts, &lastErr); err != nil {
			return err.Error()
		}
		lease := "free"
		if locked != 0 {
			lease = fmt.Sprintf("leased until now%+dms", (locked-nowMicro)/1000)
		}
		fmt.Fprintf(&b, "\n  job %d %s lane=%q handoff=%s run_at=now%+dms %s head=%v attempts=%d err=%q",
			id, kind, lane, h, (runAt-nowMicro)/1000, lease, head, attempts, lastErr)
	}
	return b.String()
}

// countOf counts v in s.
func countOf(s []string, v string) int {
	n := 0
	for _, x := range s {
		if x == v {
			n++
		}
	}
	return n
}

// restart runs Baton on store while the company's service and the bot's
// receiver are down, stops it with work pending, and runs it again with both up.
func restart(t *testing.T, store string) {
	t.Parallel()
	env := e2eStoreEnv(t, store)
	company := newCompany(t, "company")
	bot := newBotHook(t)
	company.down.Store(true)
	bot.down.Store(true)
	for k, v := range map[string]string{
		"BATON_ADDR":        "127.0.0.1:0",
		"BATON_CONFIG":      filepath.Join("testdata", "e2e-restart.yaml"),
		"BATON_LOG_LEVEL":   "debug",
		"BATON_RETRY_SCALE": "0.001",
		"E2E_API_KEY":       "restart-api-key-" + store,
		"COMPANY_URL":       company.url,
		"COMPANY_SECRET":    company.secret,
		"BOT_URL":           bot.url,
		"BOT_SECRET":        bot.secret,
	} {
		env[k] = v
	}

	jobs := func() string { return "; jobs:" + jobsTable(t, env) }

	// First run: everything downstream is down.
	began := time.Now()
	in := start(t, env)
	dumpOnFailure(t, "first run", in)
	api := apiClient{base: in.base, key: env["E2E_API_KEY"]}

	type handoff struct {
		id, conv, desk string
		msgs           []string // the customer messages' ids
		want           string   // the end reason expected
	}
	var hs []*handoff
	create := func(conv, desk, want string) *handoff {
		var h apiHandoff
		api.must(t, 201, "POST", "/v1/handoffs", map[string]any{"conversation_id": conv, "desk_id": desk,
			"customer": map[string]any{"id": "cust-" + conv, "name": "Customer " + conv}, "question": "Help with " + conv + "?"}, &h)
		ho := &handoff{id: h.ID, conv: conv, desk: desk, want: want}
		hs = append(hs, ho)
		return ho
	}
	say := func(h *handoff, n int) {
		for j := range n {
			var m apiMessage
			api.must(t, 201, "POST", "/v1/handoffs/"+h.id+"/messages", map[string]any{"text": fmt.Sprintf("message %d of %s", j+1, h.conv)}, &m)
			h.msgs = append(h.msgs, m.ID)
		}
	}
	// Handoffs through the company's service: their opens fail, their
	// customer messages queue behind them.
	var web []*handoff
	for i := range 3 {
		h := create(fmt.Sprintf("web-%d", i), "company", "wait_timeout")
		say(h, 2)
		web = append(web, h)
	}
	// One the bot ends before the desk could open it: the company must never
	// see it, and its handoff.ended waits for the bot.
	gone := create("web-gone", "company", "bot_closed")
	api.must(t, 200, "POST", "/v1/handoffs/"+gone.id+"/end", map[string]any{"reason": "bot_closed"}, nil)
	// Inbox handoffs open at once: their handoff.queued waits for the bot and
	// their wait timers (2s) run.
	var inbox []*handoff
	for i := range 2 {
		h := create(fmt.Sprintf("inbox-%d", i), "inbox", "wait_timeout")
		say(h, 1)
		inbox = append(inbox, h)
	}
	eventuallyWithin(t, e2eWait, "the inbox handoffs to queue", func() (bool, string) {
		for _, h := range inbox {
			var got apiHandoff
			if api.must(t, 200, "GET", "/v1/handoffs/"+h.id, nil, &got); got.State != "queued" {
				return false, fmt.Sprintf("%s (%s) is %s %s", h.conv, h.id, got.State, got.EndReason)
			}
		}
		return true, ""
	}, jobs)
	eventually(t, "the company's service to refuse every open", func() bool {
		for _, h := range web {
			if company.refused("establish", h.id) == 0 {
				return false
			}
		}
		return true
	})
	eventually(t, "the bot to refuse a delivery", func() bool { return len(bot.all()) > 0 })
	stopped := time.Now()
	in.shutdown(t)

	// What the restart must carry: the opens and sends to the company, the
	// bot's events, the timers.
	pending := pendingJobs(t, env)
	for _, h := range web {
		if j := pending[h.id]; countOf(j, jobDeskOpen) != 1 || countOf(j, jobDeskSend) != 2 || countOf(j, jobTimerRow) != 1 {
			t.Errorf("pending for %s at the stop: %v; want its open, its 2 sends and its timer", h.conv, j)
		}
	}
	for _, h := range inbox {
		if j := pending[h.id]; countOf(j, jobTimerRow) != 1 || countOf(j, jobBotHook) < 1 {
			t.Errorf("pending for %s at the stop: %v; want its wait timer and its handoff.queued for the bot", h.conv, j)
		}
	}
	if j := pending[gone.id]; countOf(j, jobBotHook) != 1 {
		t.Errorf("pending for %s at the stop: %v; want its handoff.ended for the bot", gone.conv, j)
	}
	if t.Failed() {
		t.Fatalf("the first run did not leave the work the restart must carry%s", jobs())
	}

	// Second run on the same database, with everything back up.
	company.down.Store(false)
	bot.down.Store(false)
	in = start(t, env)
	dumpOnFailure(t, "second run", in)
	api.base = in.base
	company.baton = in.base
	restarted := time.Now()

	var events []envelope
	eventuallyWithin(t, 40*time.Second, "every handoff to end, every event to reach the bot and every close to reach the company", func() (bool, string) {
		for _, h := range hs {
			var got apiHandoff
			if api.must(t, 200, "GET", "/v1/handoffs/"+h.id, nil, &got); got.State != "ended" {
				return false, fmt.Sprintf("%s (%s) is %s", h.conv, h.id, got.State)
			}
		}
		for _, h := range web {
			if _, ok := company.find("close", h.id, nil); !ok {
				return false, fmt.Sprintf("the company has no close for %s (%s)", h.conv, h.id)
			}
		}
		events = api.events(t, "bot")
		got := map[string]bool{}
		for _, e := range bot.received() {
			got[e.ID] = true
		}
		for _, e := range events {
			if !got[e.ID] {
				return false, fmt.Sprintf("the bot lacks %s of %s", e, e.data.ConversationID)
			}
		}
		return true, ""
	}, jobs)
	t.Logf("%s: the first run stopped after %v; everything was through %v after the restart",
		store, stopped.Sub(began).Round(time.Millisecond), time.Since(restarted).Round(time.Millisecond))

	// Every handoff ended as its timers or the bot decided.
	for _, h := range hs {
		var got apiHandoff
		api.must(t, 200, "GET", "/v1/handoffs/"+h.id, nil, &got)
		if got.EndReason != h.want {
			t.Errorf("%s ended %s, want %s", h.conv, got.EndReason, h.want)
		}
	}

	// The company's service got, per handoff, one open, each customer message
	// exactly once and in order, then the close; and nothing of the handoff
	// the bot ended before it opened.
	for _, h := range web {
		var got []string
		for _, c := range company.accepted(h.id) {
			switch c.path {
			case "chat":
				got = append(got, "chat "+c.body.MessageID)
			case "close":
				got = append(got, "close "+c.body.Type)
			default:
				got = append(got, c.path)
			}
		}
		want := []string{"establish", "chat " + h.msgs[0], "chat " + h.msgs[1], "close TIMEOUT"}
		if !slices.Equal(got, want) {
			t.Errorf("the company's service got for %s:\n%s\nwant\n%s", h.conv, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	if got := company.accepted(gone.id); len(got) != 0 {
		t.Errorf("the company's service got %d calls for the handoff the bot ended before it opened", len(got))
	}
	seen := map[string]int{}
	for _, c := range company.accepted("") {
		if c.path == "chat" {
			seen[c.body.MessageID]++
		}
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("customer message %s reached the company %d times", id, n)
		}
	}

	// The bot got every event the store holds, duplicates only under the same
	// webhook-id, each conversation in order.
	bot.check(t)
	received := bot.received()
	listed := map[string]bool{}
	for _, e := range events {
		listed[e.ID] = true
	}
	if len(received) != len(events) {
		t.Errorf("the bot received %d distinct events; the store holds %d", len(received), len(events))
	}
	for _, e := range received {
		if !listed[e.ID] {
			t.Errorf("the bot received %s, which GET /v1/events does not list", e)
		}
	}
	accepted := 0
	for _, d := range bot.all() {
		if d.status/100 == 2 {
			accepted++
		}
	}
	t.Logf("%s: %d events, %d accepted deliveries, %d refused while down", store, len(received), accepted, len(bot.all())-accepted)
	for _, h := range hs {
		var types []string
		var last int64
		for _, e := range received {
			if e.data.ConversationID != h.conv {
				continue
			}
			if e.Seq <= last {
				t.Errorf("%s: event %s arrived after seq %d", h.conv, e, last)
			}
			last = e.Seq
			if e.Type == "handoff.opening_retry" {
				continue // the desk was down: how many opens failed depends on timing
			}
			if e.Type == "handoff.queue_updated" {
				continue // the desk's queue moved as the others ended: in which order depends on timing
			}
			types = append(types, e.Type)
			switch e.Type {
			case "handoff.queued":
				if w := e.data.WaitTimeoutSeconds; w == nil || *w != 2 {
					t.Errorf("%s: handoff.queued gives wait_timeout_seconds %v, want the YAML's 2", h.conv, w)
				}
			case "handoff.wait_timeout":
				if g := e.data.GraceSeconds; g == nil || *g != 1 {
					t.Errorf("%s: handoff.wait_timeout gives grace_seconds %v, want the YAML's 1", h.conv, g)
				}
			case "handoff.ended":
				if e.data.Reason != h.want {
					t.Errorf("%s: handoff.ended says %s, want %s", h.conv, e.data.Reason, h.want)
				}
			}
		}
		want := []string{"handoff.queued", "handoff.wait_timeout", "handoff.ended"}
		if h == gone {
			want = []string{"handoff.ended"}
		}
		if !slices.Equal(types, want) {
			t.Errorf("the bot received for %s: %v, want %v", h.conv, types, want)
		}
	}
	in.shutdown(t)

	// Nothing is left behind.
	if left := pendingJobs(t, env); len(left) != 0 {
		t.Errorf("jobs left after every handoff ended and every event was delivered%s", jobs())
	}
}
