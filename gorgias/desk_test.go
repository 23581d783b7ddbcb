package gorgias_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/gorgias"
	"github.com/batonhq/baton/gorgiassim"
)

func newDesk(t *testing.T, st map[string]string) *gorgias.Desk {
	t.Helper()
	d, err := gorgias.New(baton.DeskConfig{ID: "d1", Kind: baton.KindGorgias, Settings: st}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return d.(*gorgias.Desk)
}

var openReq = baton.OpenRequest{HandoffID: "hnd_1", Customer: baton.Customer{ID: "cust-1", Name: "Casey", Email: "casey@example.com"},
	History:  []baton.Message{{Author: baton.ByCustomer, Text: "Hi\nthere"}, {Author: baton.ByBot, Text: "Hello!", Attachments: []baton.Attachment{{URL: "https://x.test/a.png"}}}},
	Question: "Where is my parcel?"}

func TestOpenSendClose(t *testing.T) {
	t.Parallel()
	sim, base, api := world(t, gorgiassim.Config{Retry: []time.Duration{}})
	d := newDesk(t, settings(base, api, confToken))
	ctx := t.Context()
	if err := d.Check(ctx); err != nil {
		t.Fatal(err)
	}
	h, err := d.Open(ctx, openReq)
	if err != nil {
		t.Fatal(err)
	}
	tk := sim.Tickets()[0]
	if h.Ref == "" || tk.ExternalID != "hnd_1" || tk.Status != "open" {
		t.Fatalf("handle %+v, ticket %+v", h, tk)
	}
	want := "Customer: Hi\n  there\nBot: Hello! [file: https://x.test/a.png]\nCustomer: Where is my parcel?"
	if tk.Messages[0].BodyText != want {
		t.Errorf("first message\n%s\nwant\n%s", tk.Messages[0].BodyText, want)
	}
	if err := d.Send(ctx, h, baton.Message{ID: "msg_1", Text: "", Attachments: []baton.Attachment{{URL: "https://x.test/r.pdf", Name: "r.pdf", Type: "application/pdf"}}}); err != nil {
		t.Fatal(err)
	}
	// A failed send is looked for before it is made again.
	sim.Fail(1, http.StatusBadGateway)
	if err := d.Send(ctx, h, baton.Message{ID: "msg_2", Text: "second"}); err == nil {
		t.Fatal("a 502 did not fail the send")
	}
	if err := d.Send(ctx, h, baton.Message{ID: "msg_2", Text: "second"}); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(ctx, h, baton.BotClosed); err != nil {
		t.Fatal(err)
	}
	tk = sim.Tickets()[0]
	if len(tk.Messages) != 3 || tk.Messages[1].Attachments[0].URL != "https://x.test/r.pdf" || tk.Messages[2].BodyText != "second" || tk.Status != "closed" {
		t.Errorf("ticket %+v", tk)
	}
	// A second handoff of the same customer reuses the customer.
	r := openReq
	r.HandoffID = "hnd_2"
	if _, err := d.Open(ctx, r); err != nil {
		t.Fatal(err)
	}
	if n := len(sim.Customers()); n != 1 {
		t.Errorf("%d customers, want 1", n)
	}
}

// TestOpenCrash: an open that died after creating the ticket, before
// saving it, finds the ticket instead of making a second one.
func TestOpenCrash(t *testing.T) {
	t.Parallel()
	sim, base, api := world(t, gorgiassim.Config{Retry: []time.Duration{}})
	d := newDesk(t, settings(base, api, confToken))
	var saved []string
	r := openReq
	r.Save = func(p string) error {
		saved = append(saved, p)
		if len(saved) == 2 {
			return errors.New("crash")
		}
		return nil
	}
	if _, err := d.Open(t.Context(), r); err == nil {
		t.Fatal("the crash was not reported")
	}
	if ref, known := d.OpeningRef(saved[0]); ref != "" || known {
		t.Errorf("OpeningRef(%s) = %q, %v; want unknown while the ticket may exist", saved[0], ref, known)
	}
	r.Progress, r.Save = saved[0], nil
	h, err := d.Open(t.Context(), r)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(sim.Tickets()); n != 1 || h.Ref != strings.TrimSpace(h.Ref) {
		t.Errorf("%d tickets, want 1", n)
	}
	if ref, known := d.OpeningRef(""); ref != "" || !known {
		t.Errorf("OpeningRef of nothing = %q, %v", ref, known)
	}
}

func TestRateLimits(t *testing.T) {
	t.Parallel()
	sim, base, api := world(t, gorgiassim.Config{Retry: []time.Duration{}})
	st := settings(base, api, confToken)
	st[gorgias.SettingRateLimit] = "3/60s"
	d := newDesk(t, st)
	for range 3 {
		if err := d.Check(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	var de *baton.DeskError
	if err := d.Check(ctx); !errors.As(err, &de) || de.RetryAfter < 10*time.Second {
		t.Errorf("the fourth call within the limit: %v, want a DeskError with RetryAfter about 20s", err)
	}

	// The account's own 429: Retry-after is honoured.
	d2 := newDesk(t, settings(base, api, confToken))
	sim.Throttle(1)
	if err := d2.Check(t.Context()); !errors.As(err, &de) || de.RetryAfter != time.Second || de.Permanent {
		t.Errorf("a 429: %v, want RetryAfter 1s", err)
	}
	ctx, cancel = context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	if err := d2.Check(ctx); !errors.As(err, &de) || de.RetryAfter <= 0 {
		t.Errorf("a call right after a 429: %v, want it held back", err)
	}

	// Wrong credentials.
	st = settings(base, api, confToken)
	st[gorgias.SettingAPIKey] = "wrong"
	if err := newDesk(t, st).Check(t.Context()); !errors.As(err, &de) || !de.Auth {
		t.Errorf("a wrong key: %v, want Auth", err)
	}
}

func TestSettings(t *testing.T) {
	t.Parallel()
	ok := map[string]string{"domain": "https://Acme.gorgias.com/", "email": "a@b.c", "api_key": "k", "integration_token": "0123456789abcdef"}
	st, err := gorgias.ParseSettings(ok)
	if err != nil || st.BaseURL != "https://acme.gorgias.com" || st.Limit != 40 || st.Window != 20*time.Second {
		t.Fatalf("%+v %v", st, err)
	}
	for field, v := range map[string]string{"domain": "acme corp", "email": "nope", "api_key": "a b", "integration_token": "short",
		"base_url": "ftp://x", "rate_limit": "40", "color": "red"} {
		s := map[string]string{}
		for k, x := range ok {
			s[k] = x
		}
		s[field] = v
		if _, err := gorgias.ParseSettings(s); baton.ErrorField(err) != "settings."+field {
			t.Errorf("%s=%q: %v, want an error naming settings.%s", field, v, err, field)
		}
	}
}

// impatient is a desk on a simulator whose calls give up after 200 ms.
func impatient(t *testing.T) (*gorgiassim.Sim, *gorgias.Desk) {
	t.Helper()
	sim, base, api := world(t, gorgiassim.Config{Retry: []time.Duration{}})
	dk, err := gorgias.New(baton.DeskConfig{ID: "d1", Kind: baton.KindGorgias, Settings: settings(base, api, confToken)},
		&http.Client{Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return sim, dk.(*gorgias.Desk)
}

// landed waits (up to 5 s) until the simulator has a ticket of handoff h.
func landed(t *testing.T, sim *gorgiassim.Sim, h string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !slices.ContainsFunc(sim.Tickets(), func(tk gorgiassim.Ticket) bool { return tk.ExternalID == h }) {
		if time.Now().After(deadline) {
			t.Fatalf("the late create of %s never landed", h)
		}
		runtime.Gosched()
	}
}

// TestOpenLate: a create that timed out lands later in Gorgias. The next
// attempt does not make a second ticket: it waits for the first to appear
// (the desk asks to be retried after Settle), then finds it.
func TestOpenLate(t *testing.T) {
	t.Parallel()
	sim, d := impatient(t)
	var saved string
	r := openReq
	r.Save = func(p string) error { saved = p; return nil }
	if _, err := d.Open(t.Context(), r); err != nil { // the customer is made in time
		t.Fatal(err)
	}
	r.HandoffID = "hnd_late"
	sim.Late("POST /api/tickets", 1, 600*time.Millisecond)
	if _, err := d.Open(t.Context(), r); err == nil {
		t.Fatal("a create that timed out did not fail the open")
	}
	r.Progress = saved
	_, err := d.Open(t.Context(), r)
	var de *baton.DeskError
	if !errors.As(err, &de) || de.Permanent || de.Busy || de.RetryAfter < gorgias.Settle-5*time.Second || de.RetryAfter > gorgias.Settle+2*time.Second {
		t.Fatalf("the open right after the timeout: %v; want a retry after about %v", err, gorgias.Settle)
	}
	tickets := func() (n int) {
		for _, tk := range sim.Tickets() {
			if tk.ExternalID == "hnd_late" {
				n++
			}
		}
		return n
	}
	landed(t, sim, "hnd_late")
	h, err := d.Open(t.Context(), r)
	if err != nil {
		t.Fatal(err)
	}
	if n := tickets(); n != 1 || h.Ref == "" {
		t.Errorf("%d tickets for the handoff (handle %+v), want 1", n, h)
	}

	// Gorgias answering an error is an answer: the next attempt searches
	// and, finding nothing, makes the ticket at once.
	r.HandoffID, r.Progress = "hnd_503", fmt.Sprintf(`{"customer_id":%d}`, sim.Customers()[0].ID) // straight to the create
	sim.Fail(1, http.StatusServiceUnavailable)
	if _, err := d.Open(t.Context(), r); err == nil {
		t.Fatal("a 503 did not fail the open")
	}
	r.Progress = saved
	if _, err := d.Open(t.Context(), r); err != nil {
		t.Fatalf("after a 503: %v", err)
	}
}

// TestSendRepeated: a send the outbox repeats after an instance died
// (baton.Repeat) looks for the message before posting it again.
func TestSendRepeated(t *testing.T) {
	t.Parallel()
	sim, base, api := world(t, gorgiassim.Config{Retry: []time.Duration{}})
	d := newDesk(t, settings(base, api, confToken))
	h, err := d.Open(t.Context(), openReq)
	if err != nil {
		t.Fatal(err)
	}
	m := baton.Message{ID: "msg_1", Text: "once"}
	if err := d.Send(t.Context(), h, m); err != nil {
		t.Fatal(err)
	}
	fresh := newDesk(t, settings(base, api, confToken)) // another instance: it knows nothing of the first send
	if err := fresh.Send(baton.Repeat(t.Context()), h, m); err != nil {
		t.Fatal(err)
	}
	if n := len(sim.Tickets()[0].Messages); n != 2 {
		t.Errorf("%d messages in the ticket, want the opening and one", n)
	}
}

// TestAbandon: a handoff that ended while its ticket's create got no answer
// leaves no open ticket: Abandon waits while the create may land, then
// closes the ticket it finds.
func TestAbandon(t *testing.T) {
	t.Parallel()
	sim, d := impatient(t)
	var saved string
	r := openReq
	r.HandoffID = "hnd_gone"
	r.Save = func(p string) error { saved = p; return nil }
	sim.Late("POST /api/tickets", 1, 600*time.Millisecond)
	if _, err := d.Open(t.Context(), r); err == nil {
		t.Fatal("a create that timed out did not fail the open")
	}
	gone := baton.OpenRequest{HandoffID: r.HandoffID, Progress: saved}
	var de *baton.DeskError
	if err := d.Abandon(t.Context(), gone); !errors.As(err, &de) || de.RetryAfter <= 0 {
		t.Fatalf("abandoning while the create may land: %v, want a retry later", err)
	}
	landed(t, sim, "hnd_gone")
	if err := d.Abandon(t.Context(), gone); err != nil {
		t.Fatal(err)
	}
	if tk := sim.Tickets()[0]; tk.ExternalID != "hnd_gone" || tk.Status != "closed" {
		t.Errorf("the late ticket %+v, want closed", tk)
	}
	// Progress that never asked for a ticket has nothing to abandon.
	if err := d.Abandon(t.Context(), baton.OpenRequest{HandoffID: "hnd_x", Progress: `{"customer_id":1}`}); err != nil {
		t.Errorf("nothing to abandon: %v", err)
	}
}
