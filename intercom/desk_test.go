package intercom_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/intercom"
	"github.com/batonhq/baton/intercomsim"
)

func TestParseSettings(t *testing.T) {
	t.Parallel()
	st, err := intercom.ParseSettings(map[string]string{"access_token": " tok ", "client_secret": "sec"})
	if err != nil || st.Token != "tok" || st.Version != intercom.DefaultVersion || st.BaseURL != intercom.DefaultBaseURL || st.AdminID != "" {
		t.Fatalf("defaults: %+v, %v", st, err)
	}
	st, err = intercom.ParseSettings(map[string]string{"access_token": "tok", "client_secret": "sec", "api_version": "2.17",
		"admin_id": "991267708", "base_url": "https://api.eu.intercom.io/"})
	if err != nil || st.Version != "2.17" || st.BaseURL != "https://api.eu.intercom.io" || st.AdminID != "991267708" {
		t.Fatalf("given: %+v, %v", st, err)
	}
	for field, s := range map[string]map[string]string{
		"settings.access_token":  {"client_secret": "sec"},
		"settings.client_secret": {"access_token": "tok", "client_secret": "two words"},
		"settings.api_version":   {"access_token": "tok", "client_secret": "sec", "api_version": "latest"},
		"settings.admin_id":      {"access_token": "tok", "client_secret": "sec", "admin_id": "joe"},
		"settings.base_url":      {"access_token": "tok", "client_secret": "sec", "base_url": "api.intercom.io"},
		"settings.hub_secret":    {"access_token": "tok", "client_secret": "sec", "hub_secret": "x"},
	} {
		if _, err := intercom.ParseSettings(s); baton.ErrorField(err) != field {
			t.Errorf("%v: %v, want an error naming %s", s, err, field)
		}
	}
}

// TestOpenResumes: an open that died after creating the conversation but
// before saving it finds it again instead of making a second one; a
// contact the search index misses is found through the 409.
func TestOpenResumes(t *testing.T) {
	t.Parallel()
	sim, st, _ := world(t, intercomsim.Config{})
	d := newDesk(t, st)
	ctx := context.Background()
	var saved []string
	crash := errors.New("crashed")
	r := baton.OpenRequest{HandoffID: "h_1", Customer: baton.Customer{ID: "cust-1", Name: "Ana", Email: "ana@example.org"},
		History:  []baton.Message{{Author: baton.ByCustomer, Text: "Hi"}, {Author: baton.ByBot, Text: "Hello!\nHow can I help?"}},
		Question: "A person, please",
		Save: func(p string) error {
			saved = append(saved, p)
			if strings.Contains(p, "conversation_id") {
				return crash
			}
			return nil
		}}
	if _, err := d.Open(ctx, r); !errors.Is(err, crash) {
		t.Fatalf("first open: %v, want the crash", err)
	}
	r.Progress, r.Save = saved[len(saved)-2], nil // the last progress that was stored
	h, err := d.Open(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	convs := sim.Conversations()
	if len(convs) != 1 || h.Ref != convs[0].ID {
		t.Fatalf("after the retried open: handle %+v, %d conversations", h, len(convs))
	}
	if want := "Customer: Hi\nBot: Hello! How can I help?\nCustomer: A person, please\n"; !strings.Contains(convs[0].Source.Body, want) {
		t.Errorf("the body reads\n%s\nwant it to hold\n%s", convs[0].Source.Body, want)
	}
}

// TestOpenFindsTheContact: a customer whose contact search cannot find yet
// (Intercom's index lags) is found through the 409 its creation answers.
func TestOpenFindsTheContact(t *testing.T) {
	t.Parallel()
	sim, st, _ := world(t, intercomsim.Config{IndexDelay: time.Hour})
	d := newDesk(t, st)
	ctx := context.Background()
	ana := baton.Customer{ID: "cust-1", Name: "Ana", Email: "ana@example.org"}
	h, err := d.Open(ctx, baton.OpenRequest{HandoffID: "h_1", Customer: ana, Question: "Hi"})
	if err != nil {
		t.Fatal(err)
	}
	h2, err := d.Open(ctx, baton.OpenRequest{HandoffID: "h_2", Customer: ana, Question: "Again"})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(sim.Contacts()); n != 1 || h2.Data != h.Data || h2.Ref == h.Ref {
		t.Errorf("second open: %d contacts, handles %+v and %+v", n, h, h2)
	}
	// A lead the Messenger made with the customer's email, and no id: the
	// open finds it by the email rather than making another contact.
	sim.Reindex()
	api := intercom.NewClient(nil, st["base_url"], st["access_token"], "2.16")
	lead, _, err := api.CreateContact(ctx, intercom.Contact{Role: "lead", Email: "bo@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	sim.Reindex()
	h3, err := d.Open(ctx, baton.OpenRequest{HandoffID: "h_3", Customer: baton.Customer{ID: "cust-2", Email: "bo@example.org"}, Question: "Hi"})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(sim.Contacts()); n != 2 || !strings.Contains(h3.Data, string(lead)) {
		t.Errorf("open by email: %d contacts, handle %+v, want the lead %s", n, h3, lead)
	}
}

// TestClientKeepsWithinTheLimit: the client waits for the window the
// answers report before it runs out, so the workspace never answers 429;
// when a burst of 429s comes anyway, the call waits and goes through.
func TestClientKeepsWithinTheLimit(t *testing.T) {
	t.Parallel()
	sim, st, _ := world(t, intercomsim.Config{Limit: 2, Window: time.Second})
	c := intercom.NewClient(nil, st[intercom.SettingBaseURL], st[intercom.SettingAccessToken], "2.16")
	ctx := context.Background()
	for i := range 3 {
		if _, err := c.Me(ctx); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	if n := len(sim.Versions()); n != 3 {
		t.Errorf("the workspace saw %d calls for 3, want no refused ones", n)
	}
	sim.Throttle(1)
	if _, err := c.Me(ctx); err != nil {
		t.Errorf("through a 429: %v", err)
	}
	sim.Throttle(10)
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	_, err := c.Me(short)
	var de *baton.DeskError
	if !errors.As(err, &de) || de.RetryAfter <= 0 || de.Permanent {
		t.Errorf("a 429 longer than the call may wait: %v, want a DeskError with RetryAfter", err)
	}
}

func TestCheckAndAuth(t *testing.T) {
	t.Parallel()
	_, st, _ := world(t, intercomsim.Config{})
	d, _ := intercom.New(baton.DeskConfig{Kind: baton.KindIntercom, Settings: st}, nil)
	if err := d.Check(context.Background()); err != nil {
		t.Fatalf("Check: %v", err)
	}
	st[intercom.SettingAccessToken] = "wrong-token"
	d, _ = intercom.New(baton.DeskConfig{Kind: baton.KindIntercom, Settings: st}, nil)
	var de *baton.DeskError
	if err := d.Check(context.Background()); !errors.As(err, &de) || !de.Auth || !strings.Contains(err.Error(), "Access Token Invalid") {
		t.Errorf("a wrong token: %v, want an auth DeskError quoting Intercom", err)
	}
}

// TestSendAfterLostAnswer: a reply whose answer was lost (posted, then a
// 503) is looked for before it is sent again: it is in the conversation
// once. A later message with the same words is a new one.
func TestSendAfterLostAnswer(t *testing.T) {
	t.Parallel()
	sim, st, _ := world(t, intercomsim.Config{})
	d := newDesk(t, st)
	ctx := context.Background()
	h := open(t, d)
	count := func(text string) int {
		c, _ := sim.Conversation(h.Ref)
		n := 0
		for _, p := range c.Parts {
			if p.Author.Type == "user" && p.Body == text {
				n++
			}
		}
		return n
	}
	m := baton.Message{ID: "msg_1", Text: "Are you there?"}
	sim.Lose(1)
	var de *baton.DeskError
	if err := d.Send(ctx, h, m); !errors.As(err, &de) || de.Permanent {
		t.Fatalf("a lost answer: %v, want a retryable DeskError", err)
	}
	if err := d.Send(ctx, h, m); err != nil {
		t.Fatal(err)
	}
	if n := count(m.Text); n != 1 {
		t.Fatalf("after a lost answer and a retry the reply is there %d times, want once", n)
	}
	if err := d.Send(ctx, h, baton.Message{ID: "msg_2", Text: m.Text}); err != nil || count(m.Text) != 2 {
		t.Errorf("a new message with the same words: %v, %d replies", err, count(m.Text))
	}
	sim.Fail(1, 503) // refused before it is carried out: sent again
	if err := d.Send(ctx, h, baton.Message{ID: "msg_3", Text: "Hello?"}); err == nil {
		t.Fatal("a 503 answered nil")
	}
	if err := d.Send(ctx, h, baton.Message{ID: "msg_3", Text: "Hello?"}); err != nil || count("Hello?") != 1 {
		t.Errorf("after a refused send: %v, %d replies", err, count("Hello?"))
	}
	// A repeat of an attempt another instance made (baton.Repeated) looks first too.
	if err := d.Send(baton.Repeat(ctx), h, baton.Message{ID: "msg_3", Text: "Hello?"}); err != nil || count("Hello?") != 1 {
		t.Errorf("a repeated send: %v, %d replies", err, count("Hello?"))
	}
	// The same words twice in one second, the second refused once: its
	// retry does not take the first one's reply for its own.
	if err := d.Send(ctx, h, baton.Message{ID: "msg_4", Text: "ok"}); err != nil {
		t.Fatal(err)
	}
	sim.Fail(1, 503)
	if err := d.Send(ctx, h, baton.Message{ID: "msg_5", Text: "ok"}); err == nil {
		t.Fatal("a 503 answered nil")
	}
	if err := d.Send(ctx, h, baton.Message{ID: "msg_5", Text: "ok"}); err != nil || count("ok") != 2 {
		t.Errorf("the second ok after its retry: %v, %d replies, want 2", err, count("ok"))
	}
	// Another instance repeating a message Baton took after an earlier one
	// with the same words looks only at what came after it was taken.
	fresh := newDesk(t, st)
	if err := fresh.Send(baton.Repeat(ctx), h, baton.Message{ID: "msg_6", Text: "ok", CreatedAt: time.Now().Add(2 * time.Second)}); err != nil || count("ok") != 3 {
		t.Errorf("a repeat of a later message with the same words: %v, %d replies, want 3", err, count("ok"))
	}
}

// TestSnoozeOrder: snoozes are checked against the conversation's state
// now, so out-of-order notifications cannot leave a handoff paused: a
// snooze that is over and an unsnooze of a conversation snoozed again
// are ignored; a snooze takes the snoozed_until the API gives.
func TestSnoozeOrder(t *testing.T) {
	t.Parallel()
	sim, st, maria := world(t, intercomsim.Config{})
	d := newDesk(t, st)
	ctx := context.Background()
	h := open(t, d)
	note := func(topic string, until int64) ([]baton.DeskEvent, error) {
		body := []byte(fmt.Sprintf(`{"type":"notification_event","id":"n-%s-%d","topic":%q,"created_at":1,"data":{"item":{"type":"conversation","id":%q,"snoozed_until":%d}}}`,
			topic, until, topic, h.Ref, until))
		return d.Inbound(ctx, "intercom", http.Header{intercom.SignatureHeader: {intercom.Sign(st[intercom.SettingClientSecret], body)}}, body)
	}
	until := time.Now().Add(time.Hour).Truncate(time.Second)
	if err := sim.Snooze(h.Ref, maria.ID, until); err != nil {
		t.Fatal(err)
	}
	evs, err := note("conversation.admin.snoozed", until.Unix()+60) // the notification says another time: the API wins
	if err != nil || len(evs) != 1 || evs[0].Type != baton.DeskAgentPaused || !evs[0].Until.Equal(until) {
		t.Fatalf("a snooze in force: %v, %+v", err, evs)
	}
	var ig *baton.Ignored
	if _, err := note("conversation.admin.unsnoozed", 0); !errors.As(err, &ig) {
		t.Errorf("an unsnooze of a conversation snoozed now: %v, want ignored", err)
	}
	if err := sim.Unsnooze(h.Ref, maria.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := note("conversation.admin.snoozed", until.Unix()); !errors.As(err, &ig) {
		t.Errorf("a snooze that is over: %v, want ignored", err)
	}
	if evs, err := note("conversation.admin.unsnoozed", 0); err != nil || len(evs) != 1 || evs[0].Type != baton.DeskAgentResumed {
		t.Errorf("an unsnooze in force: %v, %+v", err, evs)
	}
	sim.Fail(1, 503)
	if _, err := note("conversation.admin.opened", 0); baton.ErrorCode(err) != baton.EUNAVAILABLE {
		t.Errorf("the API failing: %v, want unavailable (Intercom delivers again)", err)
	}
}

// TestOpenSettles: a create whose answer was lost may have made the
// conversation, which search does not show yet: the next attempt waits
// for Settle instead of making a second one.
func TestOpenSettles(t *testing.T) {
	t.Parallel()
	sim, st, _ := world(t, intercomsim.Config{IndexDelay: time.Hour})
	d := newDesk(t, st)
	ctx := context.Background()
	var saved string
	r := baton.OpenRequest{HandoffID: "h_1", Customer: baton.Customer{ID: "cust-1"}, Question: "Hi",
		Save: func(p string) error { saved = p; return nil }}
	contact := func(p string) error {
		saved = p
		if strings.Contains(p, "contact_id") && !strings.Contains(p, "creating") {
			sim.Lose(1) // the create, next
		}
		return nil
	}
	r.Save = contact
	var de *baton.DeskError
	if _, err := d.Open(ctx, r); !errors.As(err, &de) {
		t.Fatalf("a lost create: %v", err)
	}
	r.Progress, r.Save = saved, func(p string) error { saved = p; return nil }
	_, err := d.Open(ctx, r)
	if !errors.As(err, &de) || de.RetryAfter < 30*time.Second || de.Permanent {
		t.Fatalf("the next attempt: %v, want a wait of about %v", err, intercom.Settle)
	}
	if n := len(sim.Conversations()); n != 1 {
		t.Errorf("%d conversations, want the one the lost create made", n)
	}
	// The handoff ends now: abandoning waits while search may not show the
	// conversation, then, once it shows, closes it.
	ab := d.(baton.Abandoner)
	gone := baton.OpenRequest{HandoffID: "h_1", Progress: saved}
	if err := ab.Abandon(ctx, gone); !errors.As(err, &de) || de.RetryAfter <= 0 {
		t.Fatalf("abandoning before search shows it: %v, want a retry later", err)
	}
	sim.Reindex() // the search index catches up
	if err := ab.Abandon(ctx, gone); err != nil {
		t.Fatal(err)
	}
	if cs := sim.Conversations(); len(cs) != 1 || cs[0].State != "closed" {
		t.Errorf("after abandoning: %+v, want the one conversation closed", cs)
	}
}

// newDesk builds the desk settings st configure.
func newDesk(t *testing.T, st map[string]string) baton.Desk {
	t.Helper()
	d, err := intercom.New(baton.DeskConfig{Kind: baton.KindIntercom, Settings: st}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// open opens handoff h_1 of customer cust-1 in d.
func open(t *testing.T, d baton.Desk) baton.Handle {
	t.Helper()
	h, err := d.Open(context.Background(), baton.OpenRequest{HandoffID: "h_1", Customer: baton.Customer{ID: "cust-1"}, Question: "Hi"})
	if err != nil {
		t.Fatal(err)
	}
	return h
}
