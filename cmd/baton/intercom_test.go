package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/intercom"
	"github.com/batonhq/baton/intercomsim"
)

// The Intercom end-to-end tests boot run() against the Intercom simulator
// over real HTTP: Baton calls its REST API, its signed webhooks (saved
// after a HEAD probe of Baton's inbound URL) call Baton, and the tests act
// as the bot and, through the simulator's driver, as the admins Ivy and Kim.

type icWorld struct {
	sim    *intercomsim.Sim
	ivy    intercomsim.Admin
	kim    intercomsim.Admin
	env    map[string]string
	in     *instance
	client apiClient
	bot    *botHook
}

// eachStore runs test on SQLite and on PostgreSQL, in parallel.
func eachStore(t *testing.T, test func(t *testing.T, store string)) {
	for _, store := range []string{"sqlite", "postgres"} {
		t.Run(store, func(t *testing.T) {
			t.Parallel()
			test(t, store)
		})
	}
}

func newICWorld(t *testing.T, store, config string) *icWorld {
	t.Helper()
	// The search index never catches up: a returning customer is found
	// through the 409 its creation answers.
	w := &icWorld{sim: intercomsim.New(intercomsim.Config{IndexDelay: time.Hour,
		Retry: []time.Duration{20 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond}})}
	t.Cleanup(w.sim.Close)
	srv := httptest.NewServer(w.sim.Handler())
	t.Cleanup(srv.Close)
	api, tok := w.sim.AddAdmin("Baton", "baton@acme.test")
	w.ivy, _ = w.sim.AddAdmin("Ivy", "ivy@acme.test")
	w.kim, _ = w.sim.AddAdmin("Kim", "kim@acme.test")
	w.bot = newBotHook(t)
	w.env = map[string]string{
		"BATON_ADDR":        "127.0.0.1:0",
		"BATON_CONFIG":      filepath.Join("testdata", config),
		"BATON_DB":          filepath.Join(t.TempDir(), "baton.db"),
		"BATON_LOG_LEVEL":   "debug",
		"BATON_RETRY_SCALE": "0.01",
		"IC_API_KEY":        fmt.Sprintf("ic-api-key-%x", randBytes(12)),
		"IC_TOKEN":          tok,
		"IC_SECRET":         w.sim.ClientSecret(),
		"IC_ADMIN":          api.ID,
		"IC_BASE_URL":       srv.URL,
		"BOT_URL":           w.bot.url,
		"BOT_SECRET":        w.bot.secret,
	}
	maps.Copy(w.env, e2eStoreEnv(t, store))
	w.in = start(t, w.env)
	dumpOnFailure(t, "baton", w.in)
	w.client = apiClient{base: w.in.base, key: w.env["IC_API_KEY"]}
	w.client.mustBeAvailable(t, "helpbot", "Intercom")
	if _, err := w.sim.Subscribe(t.Context(), w.inboundURL()); err != nil {
		t.Fatalf("saving Baton's inbound URL as the webhook: %v", err)
	}
	return w
}

func (w *icWorld) inboundURL() string { return w.in.base + "/v1/desks/intercom/inbound/intercom" }

// handoff asks for a person in conv and returns the handoff and its conversation.
func (w *icWorld) handoff(t *testing.T, conv string) (apiHandoff, intercomsim.Conversation) {
	t.Helper()
	var h apiHandoff
	w.client.must(t, 201, "POST", "/v1/handoffs", map[string]any{"bot_id": "helpbot", "conversation_id": conv,
		"customer": lcCustomer, "history": lcHistory, "question": lcQuestion}, &h)
	w.bot.await(t, h.ID, "handoff.queued")
	var c intercomsim.Conversation
	eventuallyWithin(t, e2eWait, "the conversation of "+h.ID, func() (bool, string) {
		for _, x := range w.sim.Conversations() {
			if strings.Contains(x.Source.Body, intercom.Marker(h.ID)) {
				c = x
				return true, ""
			}
		}
		return false, fmt.Sprintf("%d conversations", len(w.sim.Conversations()))
	})
	return h, c
}

// until waits until conversation id satisfies cond.
func (w *icWorld) until(t *testing.T, id, what string, cond func(intercomsim.Conversation) bool) intercomsim.Conversation {
	t.Helper()
	var c intercomsim.Conversation
	eventuallyWithin(t, e2eWait, what, func() (bool, string) {
		c, _ = w.sim.Conversation(id)
		return cond(c), fmt.Sprintf("state %s, %d parts", c.State, len(c.Parts))
	})
	return c
}

func (w *icWorld) flush(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), e2eWait)
	defer cancel()
	if err := w.sim.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

// userTexts are the user's replies in c, after its first message.
func userTexts(c intercomsim.Conversation) []string {
	var out []string
	for _, p := range c.Parts {
		if p.PartType == "comment" && p.Author.Type == "user" {
			out = append(out, p.Body)
		}
	}
	return out
}

// post sends a notification body to Baton's inbound URL with sig as its signature.
func (w *icWorld) post(t *testing.T, body []byte, sig string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, w.inboundURL(), bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if sig != "" {
		req.Header.Set(intercom.SignatureHeader, sig)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func (w *icWorld) texts(h string) []string {
	var out []string
	for _, e := range lcEvents(w.bot, lcOfType(h, "handoff.agent_message")) {
		out = append(out, e.data.Text)
	}
	return out
}

func TestIntercomRelay(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, store string) {
		w := newICWorld(t, store, "intercom-relay.yaml")
		// The webhook was saved after a HEAD probe Baton answered 200, and its ping acknowledged.
		w.flush(t)
		var probed, pinged bool
		for _, d := range w.sim.Deliveries() {
			probed = probed || (d.Method == http.MethodHead && d.Status == 200)
			pinged = pinged || (d.Topic == intercomsim.TopicPing && d.Status == 200)
		}
		if !probed || !pinged {
			t.Errorf("HEAD probe answered 200: %v; ping answered 200: %v", probed, pinged)
		}
		req, _ := http.NewRequest(http.MethodHead, w.in.base+"/v1/desks/nosuch/inbound/intercom", nil)
		if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
			t.Errorf("HEAD of an unknown desk's inbound URL: %v %v, want 200 (ids cannot be probed)", resp, err)
		}

		h, c := w.handoff(t, "conv-ic")
		// The admin reads the history, one line per turn, then the question.
		body := c.Source.Body
		want := []string{"Customer: " + lcHistory[0]["text"], "Bot: " + lcHistory[1]["text"], "Customer: " + lcHistory[2]["text"],
			"Bot: " + lcHistory[3]["text"], "Customer: " + lcQuestion}
		var lines []string
		for _, l := range strings.Split(body, "\n") {
			if strings.HasPrefix(l, "Customer: ") || strings.HasPrefix(l, "Bot: ") {
				lines = append(lines, l)
			}
		}
		if !slices.Equal(lines, want) || !strings.HasPrefix(body, "Sam Doe asked for a person.") {
			t.Errorf("the conversation opens with\n%s\nwant the lines\n%q", body, want)
		}
		// The brief is a note for the teammates, by Baton's admin.
		brief := slices.IndexFunc(c.Parts, func(p intercomsim.Part) bool {
			return p.PartType == "note" && p.Author.ID == w.env["IC_ADMIN"] && strings.HasPrefix(p.Body, intercom.BriefHeading)
		})
		if brief < 0 || !strings.Contains(c.Parts[brief].Body, lcQuestion) {
			t.Errorf("no brief among the conversation's parts %+v", c.Parts)
		}
		cs := w.sim.Contacts()
		if len(cs) != 1 || cs[0].ExternalID == nil || *cs[0].ExternalID != lcCustomer["id"] || cs[0].Role != "user" {
			t.Errorf("contacts %+v, want one user with external_id %v", cs, lcCustomer["id"])
		}
		for _, v := range w.sim.Versions() {
			if v != intercom.DefaultVersion {
				t.Errorf("a call sent Intercom-Version %q, want %s", v, intercom.DefaultVersion)
			}
		}

		// Customer → admin, with a file.
		w.client.must(t, 201, "POST", "/v1/handoffs/"+h.ID+"/messages", map[string]any{"text": "Here is my receipt",
			"attachments": []apiAttachment{{URL: "https://files.example.com/receipt.pdf", Name: "receipt.pdf", Type: "application/pdf"}}}, nil)
		c = w.until(t, c.ID, "the customer's reply", func(c intercomsim.Conversation) bool { return len(userTexts(c)) == 1 })
		last := c.Parts[len(c.Parts)-1]
		if last.Body != "Here is my receipt" || len(last.Attachments) != 1 || last.Attachments[0].URL != "https://files.example.com/receipt.pdf" {
			t.Errorf("the conversation got %+v", last)
		}

		// Admin → customer, with a file; the first reply makes the handoff
		// active with Ivy's name; a note stays inside.
		if _, err := w.sim.Note(c.ID, w.ivy.ID, "internal: check the refund queue"); err != nil {
			t.Fatal(err)
		}
		if _, err := w.sim.Reply(c.ID, w.ivy.ID, "Thanks, I see it. Refund form attached.",
			intercomsim.Attachment{URL: "https://files.example.com/refund.pdf", Name: "refund.pdf", ContentType: "application/pdf"}); err != nil {
			t.Fatal(err)
		}
		msg := lcAwait(t, w.bot, "the admin's reply", lcOfType(h.ID, "handoff.agent_message"))
		if msg.data.Text != "Thanks, I see it. Refund form attached." || msg.data.Agent.Name != "Ivy" {
			t.Errorf("agent_message %s", msg.Data)
		}
		if a := lcDataOf(msg).Attachments; len(a) != 1 || a[0].URL != "https://files.example.com/refund.pdf" {
			t.Errorf("agent_message attachments %+v", a)
		}
		var got apiHandoff
		w.client.must(t, 200, "GET", "/v1/handoffs/"+h.ID, nil, &got)
		if got.State != "active" || got.Agent.Name != "Ivy" {
			t.Errorf("after the first reply the handoff is %s with agent %+v, want active with Ivy", got.State, got.Agent)
		}

		// A read receipt reaches the bot.
		w.client.must(t, 201, "POST", "/v1/handoffs/"+h.ID+"/messages", map[string]any{"text": "Did you get it?"}, nil)
		w.until(t, c.ID, "the second reply", func(c intercomsim.Conversation) bool { return len(userTexts(c)) == 2 })
		if err := w.sim.Read(c.ID, w.ivy.ID); err != nil {
			t.Fatal(err)
		}
		lcAwait(t, w.bot, "the read receipt", lcOfType(h.ID, "handoff.agent_read"))

		// An assignment to Kim changes the agent, with the name the API gives.
		if err := w.sim.Assign(c.ID, w.ivy.ID, w.kim.ID); err != nil {
			t.Fatal(err)
		}
		joined := lcAwait(t, w.bot, "Kim joining", func(e envelope) bool {
			return e.Type == "handoff.agent_joined" && e.data.HandoffID == h.ID && e.data.Name == "Kim"
		})
		if joined.data.Agent.ID != w.kim.ID {
			t.Errorf("agent_joined %s", joined.Data)
		}

		// Duplicated notifications count once; reordered ones each once.
		w.sim.Duplicate(true)
		w.sim.Reply(c.ID, w.kim.ID, "Refund approved.")
		w.flush(t)
		w.sim.Duplicate(false)
		w.sim.Hold()
		w.sim.Reply(c.ID, w.kim.ID, "It takes 3 days.")
		w.sim.Reply(c.ID, w.kim.ID, "Anything else?")
		w.sim.Release(true)
		w.flush(t)
		lcAwait(t, w.bot, "the reordered replies", func(e envelope) bool { return len(w.texts(h.ID)) >= 4 })
		if got, want := w.texts(h.ID), []string{"Thanks, I see it. Refund form attached.", "Refund approved.", "Anything else?", "It takes 3 days."}; !slices.Equal(got, want) {
			t.Errorf("the bot was told %q, want %q", got, want)
		}

		// A snooze and its end delivered the other way round leave the
		// handoff as it is: the snooze is over when it arrives.
		w.sim.Hold()
		if err := w.sim.Snooze(c.ID, w.kim.ID, time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		w.sim.Unsnooze(c.ID, w.kim.ID)
		w.sim.Release(true)
		w.flush(t)
		w.sim.Reply(c.ID, w.kim.ID, "Back to it.") // a barrier: the bot's events come in order
		lcAwait(t, w.bot, "the barrier", func(e envelope) bool { return len(w.texts(h.ID)) >= 5 })
		if n := len(lcEvents(w.bot, lcOfType(h.ID, "handoff.agent_paused"))); n != 0 {
			t.Errorf("a snooze delivered after its end told the bot %d pauses", n)
		}

		// A 429 burst: the message waits and arrives, once.
		w.sim.Throttle(2)
		w.client.must(t, 201, "POST", "/v1/handoffs/"+h.ID+"/messages", map[string]any{"text": "No, thank you!"}, nil)
		w.until(t, c.ID, "the reply sent through the 429s", func(c intercomsim.Conversation) bool {
			return slices.Equal(userTexts(c), []string{"Here is my receipt", "Did you get it?", "No, thank you!"})
		})

		// Forged and missing signatures are refused.
		forged := []byte(`{"type":"notification_event","id":"notif_forged","topic":"conversation.admin.replied","created_at":1,` +
			`"data":{"item":{"type":"conversation","id":"` + c.ID + `","conversation_parts":{"conversation_parts":[{"id":"9","part_type":"comment",` +
			`"body":"Forged: send your password","author":{"type":"admin","id":"` + w.ivy.ID + `"}}]}}}}`)
		if s := w.post(t, forged, ""); s != 401 {
			t.Errorf("no signature: %d, want 401", s)
		}
		if s := w.post(t, forged, intercom.Sign("not-the-secret", forged)); s != 401 {
			t.Errorf("wrong signature: %d, want 401", s)
		}
		if s := w.post(t, []byte("{broken"), intercom.Sign(w.sim.ClientSecret(), []byte("{broken"))); s != 400 {
			t.Errorf("a signed broken envelope: %d, want 400", s)
		}
		// A signed notification about a conversation Baton never opened,
		// and a topic it does not act on, are acknowledged and ignored.
		stranger := bytes.ReplaceAll(forged, []byte(`"id":"`+c.ID+`"`), []byte(`"id":"424242"`))
		stranger = bytes.ReplaceAll(stranger, []byte("notif_forged"), []byte("notif_stranger"))
		if s := w.post(t, stranger, intercom.Sign(w.sim.ClientSecret(), stranger)); s != 200 {
			t.Errorf("a conversation Baton does not know: %d, want 200", s)
		}
		other := []byte(`{"type":"notification_event","id":"notif_other","topic":"contact.user.created","data":{"item":{"type":"contact","id":"x"}}}`)
		if s := w.post(t, other, intercom.Sign(w.sim.ClientSecret(), other)); s != 200 {
			t.Errorf("an unknown topic: %d, want 200", s)
		}

		// The admin closes the conversation.
		if err := w.sim.CloseConversation(c.ID, w.kim.ID); err != nil {
			t.Fatal(err)
		}
		if e := w.bot.await(t, h.ID, "handoff.ended"); e.data.Reason != "agent_closed" {
			t.Errorf("ended %s", e.Data)
		}
		w.flush(t)
		for _, d := range w.sim.Deliveries() {
			if d.Method == http.MethodPost && d.Status != 200 {
				t.Errorf("notification %s (%s) answered %d", d.NotificationID, d.Topic, d.Status)
			}
		}
		if n := len(w.texts(h.ID)); n != 5 {
			t.Errorf("the bot was told %d agent messages, want 5", n)
		}

		// The customer ends the next handoff: the conversation is closed, as
		// Baton's admin; the contact is reused.
		h2, c2 := w.handoff(t, "conv-ic-2")
		w.client.must(t, 200, "POST", "/v1/handoffs/"+h2.ID+"/end", map[string]string{"reason": "customer_closed"}, nil)
		c2 = w.until(t, c2.ID, "the conversation closed", func(c intercomsim.Conversation) bool { return c.State == "closed" })
		if p := c2.Parts[len(c2.Parts)-1]; p.PartType != "close" || p.Author.ID != w.env["IC_ADMIN"] {
			t.Errorf("the closing part %+v, want a close by Baton's admin %s", p, w.env["IC_ADMIN"])
		}
		if e := w.bot.await(t, h2.ID, "handoff.ended"); e.data.Reason != "customer_closed" {
			t.Errorf("ended %s", e.Data)
		}
		if len(w.sim.Contacts()) != 1 {
			t.Errorf("the second handoff made another contact: %+v", w.sim.Contacts())
		}
	})
}

// TestIntercomSnooze: a snooze reaches the bot and holds the handoff's
// timers: a handoff answered after it times out, the snoozed one stays;
// unsnoozed, it is overdue and times out too.
func TestIntercomSnooze(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, store string) {
		w := newICWorld(t, store, "intercom-snooze.yaml")
		snoozed, c1 := w.handoff(t, "conv-snooze")
		control, c2 := w.handoff(t, "conv-control")
		w.sim.Reply(c1.ID, w.ivy.ID, "Let me check with billing.")
		lcAwait(t, w.bot, "the reply", lcOfType(snoozed.ID, "handoff.agent_message"))
		until := time.Now().Add(time.Hour).Truncate(time.Second)
		if err := w.sim.Snooze(c1.ID, w.ivy.ID, until); err != nil {
			t.Fatal(err)
		}
		paused := lcAwait(t, w.bot, "the snooze", lcOfType(snoozed.ID, "handoff.agent_paused"))
		var pd struct {
			Until time.Time `json:"until"`
		}
		json.Unmarshal(paused.Data, &pd)
		if !pd.Until.Equal(until) || paused.data.Agent.Name != "Ivy" {
			t.Errorf("agent_paused %s, want until %v by Ivy", paused.Data, until)
		}
		w.sim.Reply(c2.ID, w.ivy.ID, "Looking into it.")
		if e := w.bot.await(t, control.ID, "handoff.ended"); e.data.Reason != "session_timeout" {
			t.Fatalf("the control handoff ended %s", e.Data)
		}
		var got apiHandoff
		w.client.must(t, 200, "GET", "/v1/handoffs/"+snoozed.ID, nil, &got)
		if got.State != "active" {
			t.Fatalf("the snoozed handoff is %s %s after the control timed out, want active", got.State, got.EndReason)
		}
		if err := w.sim.Unsnooze(c1.ID, w.ivy.ID); err != nil {
			t.Fatal(err)
		}
		lcAwait(t, w.bot, "the unsnooze", lcOfType(snoozed.ID, "handoff.agent_resumed"))
		if e := w.bot.await(t, snoozed.ID, "handoff.ended"); e.data.Reason != "session_timeout" {
			t.Errorf("after the unsnooze the handoff ended %s", e.Data)
		}
	})
}

// TestIntercomHours imports the workspace's office hours into the desk's
// service periods with `baton intercom hours`, run through run().
func TestIntercomHours(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, store string) {
		w := newICWorld(t, store, "intercom-relay.yaml")
		sc := w.sim.AddSchedule(intercomsim.Schedule{Name: "Support hours", TimeZone: "Europe/Paris", Intervals: []intercomsim.Interval{
			{StartMinute: 9 * 60, EndMinute: 17 * 60}, {StartMinute: 24*60 + 9*60, EndMinute: 24*60 + 17*60},
			{StartMinute: 2*24*60 + 9*60, EndMinute: 2*24*60 + 17*60}, {StartMinute: 3*24*60 + 9*60, EndMinute: 3*24*60 + 17*60},
			{StartMinute: 4*24*60 + 9*60, EndMinute: 4*24*60 + 13*60}}})
		next := time.Now().AddDate(0, 1, 0)
		holiday := time.Date(next.Year(), next.Month(), 1, 0, 0, 0, 0, time.UTC)
		for holiday.Weekday() != time.Wednesday {
			holiday = holiday.AddDate(0, 0, 1)
		}
		w.sim.AddException(sc.ID, intercomsim.Exception{Date: holiday.Format(time.DateOnly), Kind: "closed", Name: "Founders' day"})
		hours := func(extra ...string) (string, error) {
			var out bytes.Buffer
			err := run(t.Context(), append([]string{"baton", "intercom", "hours", "--desk", "intercom"}, extra...), getenv(w.env), &out, &out)
			return out.String(), err
		}
		if out, err := hours("--schedule", "Night shift"); err == nil || !strings.Contains(err.Error(), `"Support hours"`) {
			t.Errorf("an unknown schedule: %v\n%s", err, out)
		}
		out, err := hours("--print")
		var printed baton.Policy
		if err != nil || yaml.Unmarshal([]byte(out), &printed) != nil || printed.Zone != "Europe/Paris" || len(printed.Periods) != 3 ||
			!printed.Periods[2].Closed {
			t.Errorf("--print: %v, %+v\n%s", err, printed, out)
		}
		out, err = hours()
		if err != nil || !strings.Contains(out, "weekly mon,tue,wed,thu 09:00-17:00") || !strings.Contains(out, "weekly fri 09:00-13:00") ||
			!strings.Contains(out, "custom "+holiday.Format(time.DateOnly)+" closed") {
			t.Fatalf("baton intercom hours: %v\n%s", err, out)
		}
		var cal struct {
			Zone string `json:"zone"`
			Days []struct {
				Date    string `json:"date"`
				Windows []struct{ Start, End time.Time }
			} `json:"days"`
		}
		from, to := holiday.AddDate(0, 0, -2).Format(time.DateOnly), holiday.AddDate(0, 0, 4).Format(time.DateOnly)
		eventuallyWithin(t, e2eWait, "the desk's calendar to show the imported hours", func() (bool, string) {
			w.client.must(t, 200, "GET", "/v1/calendar?desk_id=intercom&from="+from+"&to="+to, nil, &cal)
			return cal.Zone == "Europe/Paris", "zone " + cal.Zone
		})
		for _, d := range cal.Days {
			day, _ := time.Parse(time.DateOnly, d.Date)
			var open time.Duration
			for _, win := range d.Windows {
				open += win.End.Sub(win.Start)
			}
			want := 8 * time.Hour
			switch {
			case d.Date == holiday.Format(time.DateOnly), day.Weekday() == time.Saturday, day.Weekday() == time.Sunday:
				want = 0
			case day.Weekday() == time.Friday:
				want = 4 * time.Hour
			}
			if open != want {
				t.Errorf("%s (%s): open %v, want %v", d.Date, day.Weekday(), open, want)
			}
		}
	})
}
