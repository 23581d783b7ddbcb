package livechat

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	baton "github.com/batonhq/baton"
	"github.com/batonhq/baton/livechatsim"
)

var (
	testHistory = []baton.Message{
		{Author: baton.ByCustomer, Text: "Hi, my order has not arrived"},
		{Author: baton.ByBot, Text: "Sorry to hear that! What is the order number?"},
		{Author: baton.ByCustomer, Text: "#1234"},
		{Author: baton.ByBot, Text: "Thanks. Let me find someone who can help."},
	}
	testQuestion = "Where is my parcel? It is a week late."
)

func openRequest(id, routing string) baton.OpenRequest {
	return baton.OpenRequest{HandoffID: id, ExternalID: "conv-1",
		Customer: baton.Customer{ID: "cust-1", Name: "Casey Doe", Email: "casey@example.com"},
		History:  testHistory, Question: testQuestion, Routing: routing}
}

// TestRelayOpen: the agent reads the history as separate messages, the
// customer's by the customer and the bot's by Baton's account; the chat is
// routed to the group (assigned, or queued when nobody is there) and Baton's
// account is out of it.
func TestRelayOpen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWorld(t, ModeRelay)
	if err := w.desk.Check(ctx); err != nil {
		t.Fatalf("Check: %v", err)
	}
	h, err := w.desk.Open(ctx, openRequest("ho_1", ""))
	if err != nil {
		t.Fatal(err)
	}
	c := w.chat(h.Ref)
	cu := customerOf(c)
	if cu.Name != "Casey Doe" || cu.Email != "casey@example.com" {
		t.Errorf("the customer is %+v, want Casey Doe, casey@example.com", cu)
	}
	var texts, authors []string
	for _, e := range messages(c) {
		texts, authors = append(texts, e.Text), append(authors, e.AuthorID)
	}
	wantTexts := []string{testHistory[0].Text, testHistory[1].Text, testHistory[2].Text, testHistory[3].Text, testQuestion}
	wantAuthors := []string{cu.ID, batonAgent, cu.ID, batonAgent, cu.ID}
	if !slices.Equal(texts, wantTexts) || !slices.Equal(authors, wantAuthors) {
		t.Errorf("the chat shows\n%q by %q\nwant\n%q by %q", texts, authors, wantTexts, wantAuthors)
	}
	if !slices.Equal(c.Access, []int{1}) {
		t.Errorf("the chat is in groups %v, want [1]", c.Access)
	}
	if u, ok := user(c, maria); !ok || !u.Present {
		t.Errorf("Maria (accepting chats in group 1) was not assigned: users %+v", c.Users)
	}
	if u, ok := user(c, batonAgent); ok && u.Present {
		t.Errorf("Baton's account is still in the chat")
	}
	if c.Last().Queue != nil {
		t.Errorf("the chat is queued though Maria takes it")
	}
	var s Session
	if err := json.Unmarshal([]byte(h.Data), &s); err != nil || s.CustomerID != cu.ID || s.Cookies[CookieCustomerID] == "" || s.Cookies[CookieCustomerToken] == "" {
		t.Errorf("handle data %s (%v): want the customer id %s and its cookies", h.Data, err, cu.ID)
	}
	sc, _ := w.sim.Customer(cu.ID)
	if !slices.ContainsFunc(sc.SessionFields, func(f map[string]string) bool { return f["handoff_id"] == "ho_1" }) {
		t.Errorf("session fields %v lack handoff_id", sc.SessionFields)
	}

	// A routing hint picks a group; nobody is there, so the chat waits in its queue.
	h2, err := w.desk.Open(ctx, openRequest("ho_2", "Billing"))
	if err != nil {
		t.Fatal(err)
	}
	c2 := w.chat(h2.Ref)
	if !slices.Equal(c2.Access, []int{2}) || c2.Last().Queue == nil || !c2.Active() {
		t.Errorf("routed to Billing: groups %v, queue %v, active %v; want [2], queued, active", c2.Access, c2.Last().Queue, c2.Active())
	}
	if u, ok := user(c2, batonAgent); ok && u.Present {
		t.Errorf("Baton's account is still in the queued chat")
	}

	// Nobody accepting in the default group: queued there too.
	if err := w.sim.SetStatus(maria, livechatsim.NotAccepting); err != nil {
		t.Fatal(err)
	}
	h3, err := w.desk.Open(ctx, openRequest("ho_3", ""))
	if err != nil {
		t.Fatal(err)
	}
	if c3 := w.chat(h3.Ref); !slices.Equal(c3.Access, []int{1}) || c3.Last().Queue == nil {
		t.Errorf("groups %v, queue %v; want queued in group 1", c3.Access, c3.Last().Queue)
	}
	if h.Ref == h2.Ref || h2.Ref == h3.Ref {
		t.Error("two handoffs share a chat")
	}
}

// transferDown returns a relay desk of w whose transfer_chat calls answer
// 503 while down says so; every other call reaches the simulator.
func transferDown(t *testing.T, w *world, down func() bool) baton.Desk {
	t.Helper()
	proxy := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/transfer_chat") && down() {
			rw.WriteHeader(http.StatusServiceUnavailable)
			rw.Write([]byte(`{"error":{"type":"service_unavailable","message":"Service unavailable"}}`))
			return
		}
		w.sim.Handler().ServeHTTP(rw, r)
	}))
	t.Cleanup(proxy.Close)
	cfg := w.cfg
	cfg.Settings = map[string]string{}
	for k, v := range w.cfg.Settings {
		cfg.Settings[k] = v
	}
	cfg.Settings[SettingAPIURL] = proxy.URL
	d, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestRelayOpenResumes: an Open that failed after starting the chat
// resumes on retry instead of starting a second chat.
func TestRelayOpenResumes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWorld(t, ModeRelay)
	var count atomic.Int32
	// Fail the transfer: let cookie grant (accounts), update_customer and
	// start_chat through, then one 503.
	d := transferDown(t, w, func() bool { return count.Add(1) == 1 })
	if _, err := d.Open(ctx, openRequest("ho_r", "")); !retryable(err) {
		t.Fatalf("Open with a 503 on transfer_chat: %v, want a retryable error", err)
	}
	h, err := d.Open(ctx, openRequest("ho_r", ""))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(w.sim.Chats()); n != 1 {
		t.Errorf("%d chats after a retried Open, want 1", n)
	}
	if c := w.chat(h.Ref); !slices.Equal(c.Access, []int{1}) {
		t.Errorf("groups %v", c.Access)
	}
}

// TestRelayOpenResumesAfterCrash: an Open that failed after starting the
// chat resumes from what it saved, in a new process (a new factory), instead
// of making a second customer and a second chat.
func TestRelayOpenResumesAfterCrash(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWorld(t, ModeRelay)
	dying := transferDown(t, w, func() bool { return true })
	var progress string
	req := openRequest("ho_crash", "")
	req.Save = func(p string) error { progress = p; return nil }
	if _, err := dying.Open(ctx, req); !retryable(err) {
		t.Fatalf("Open with transfer_chat down: %v, want a retryable error", err)
	}
	if progress == "" || len(w.sim.Chats()) != 1 {
		t.Fatalf("saved %q with %d chats started; want the chat saved", progress, len(w.sim.Chats()))
	}
	// The process died; the next one is given what was saved.
	d, err := New(w.cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Progress = progress
	h, err := d.Open(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(w.sim.Chats()); n != 1 {
		t.Fatalf("%d chats after the open resumed in a new process, want 1", n)
	}
	if c := w.chat(h.Ref); !slices.Equal(c.Access, []int{1}) {
		t.Errorf("groups %v", c.Access)
	}
}

// TestRelayOpenResumesUnsaved: a process that started the chat and died
// before saving its id left only the customer saved; the next attempt
// finds the customer's chat instead of starting a second one.
func TestRelayOpenResumesUnsaved(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWorld(t, ModeRelay)
	var first string
	req := openRequest("ho_unsaved", "")
	req.Save = func(p string) error {
		if first == "" {
			first = p // the customer, saved before the chat started
		}
		return nil
	}
	dying, err := New(w.cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	h, err := dying.Open(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(w.cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Progress = first
	again, err := d.Open(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(w.sim.Chats()); n != 1 || again.Ref != h.Ref {
		t.Fatalf("%d chats, resumed in %s after %s; want the one chat", n, again.Ref, h.Ref)
	}
}

// TestRelaySend: customer messages arrive as the customer; an expired token
// is renewed in the middle (also by a new process, from the handle's data)
// and nothing is lost; 429 and 503 are retryable; Close deactivates.
func TestRelaySend(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWorld(t, ModeRelay)
	h, err := w.desk.Open(ctx, openRequest("ho_1", ""))
	if err != nil {
		t.Fatal(err)
	}
	cust := customerOf(w.chat(h.Ref)).ID
	send := func(d baton.Desk, id, text string) error {
		return d.Send(ctx, h, baton.Message{ID: id, Author: baton.ByCustomer, Text: text})
	}
	if err := send(w.desk, "m1", "first"); err != nil {
		t.Fatal(err)
	}
	w.sim.ExpireTokens()
	if err := send(w.desk, "m2", "second"); err != nil {
		t.Fatalf("Send after the token expired: %v", err)
	}
	// A new process knows the session only from the handle.
	again, err := New(w.cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	w.sim.ExpireTokens()
	if err := send(again, "m3", "third"); err != nil {
		t.Fatalf("Send from a new desk after expiry: %v", err)
	}

	// The faults hit the next call, so no webhook may be in flight: the
	// receiver's Inbound may call the API too.
	if err := w.sim.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	w.sim.SetFaults(livechatsim.Faults{TooMany: 1, Paused: true})
	if err := send(w.desk, "m4", "fourth"); !retryable(err) {
		t.Errorf("Send on 429: %v, want a retryable DeskError", err)
	}
	w.sim.SetFaults(livechatsim.Faults{Unavailable: 1, Paused: true})
	if err := send(w.desk, "m4", "fourth"); !retryable(err) {
		t.Errorf("Send on 503: %v, want a retryable DeskError", err)
	}
	w.sim.SetFaults(livechatsim.Faults{})
	if err := send(w.desk, "m4", "fourth"); err != nil {
		t.Fatal(err)
	}

	var got []string
	for _, e := range messages(w.chat(h.Ref)) {
		if e.AuthorID == cust && strings.HasPrefix(e.CustomID, "baton:") {
			got = append(got, e.Text+"/"+e.CustomID)
		}
	}
	if want := []string{"first/baton:m1", "second/baton:m2", "third/baton:m3", "fourth/baton:m4"}; !slices.Equal(got, want) {
		t.Errorf("the customer's messages in the chat are %q, want %q", got, want)
	}

	if err := w.desk.Close(ctx, h, baton.BotClosed); err != nil {
		t.Fatal(err)
	}
	if w.chat(h.Ref).Active() {
		t.Error("the chat is still active after Close")
	}
	if err := w.desk.Close(ctx, h, baton.BotClosed); err != nil {
		t.Errorf("closing a closed chat: %v, want nil", err)
	}
	if err := send(w.desk, "m5", "too late"); !permanent(err) {
		t.Errorf("Send to a closed chat: %v, want a permanent error", err)
	}
	if err := again.Send(ctx, baton.Handle{Ref: "NOSUCHCHAT", Data: "{}"}, baton.Message{Text: "x"}); !permanent(err) {
		t.Errorf("Send without a session: %v, want a permanent error", err)
	}
}

// TestRelayCloseByCustomer: the customer's end closes the chat as the customer.
func TestRelayCloseByCustomer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWorld(t, ModeRelay)
	h, err := w.desk.Open(ctx, openRequest("ho_1", ""))
	if err != nil {
		t.Fatal(err)
	}
	w.takeOK()
	if err := w.desk.Close(ctx, h, baton.CustomerClosed); err != nil {
		t.Fatal(err)
	}
	c := w.chat(h.Ref)
	if c.Active() {
		t.Fatal("the chat is still active")
	}
	last := c.Events()[len(c.Events())-1]
	if last.Fields["system_message_type"] != "manual_archived_customer" {
		t.Errorf("the chat ended with %v, want manual_archived_customer", last.Fields)
	}
	ev := only(t, w.takeOK(), baton.DeskCustomerClosed)
	if ev.Ref != h.Ref {
		t.Errorf("closed event %+v", ev)
	}
}

// TestRelayAttachments: files are uploaded and sent as file events; too
// large or unreachable ones become links in the text.
func TestRelayAttachments(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWorld(t, ModeRelay)
	png := []byte("\x89PNG\r\n\x1a\n not really")
	files := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/receipt.png":
			rw.Header().Set("Content-Type", "image/png")
			rw.Write(png)
		case "/video.mp4":
			rw.Header().Set("Content-Type", "video/mp4")
			rw.Write(bytes.Repeat([]byte("x"), MaxFileSize+1))
		default:
			http.NotFound(rw, r)
		}
	}))
	defer files.Close()
	h, err := w.desk.Open(ctx, openRequest("ho_1", ""))
	if err != nil {
		t.Fatal(err)
	}
	err = w.desk.Send(ctx, h, baton.Message{ID: "m1", Author: baton.ByCustomer, Text: "Here you go", Attachments: []baton.Attachment{
		{URL: files.URL + "/receipt.png"},
		{URL: files.URL + "/video.mp4", Name: "video.mp4"},
		{URL: files.URL + "/gone.pdf", Name: "gone.pdf"},
		{URL: files.URL + "/huge.iso", Name: "huge.iso", Size: 50 << 20},
	}})
	if err != nil {
		t.Fatal(err)
	}
	msgs := messages(w.chat(h.Ref))
	msgs = msgs[len(msgs)-2:]
	text, file := msgs[0], msgs[1]
	if text.Type != "message" || !strings.HasPrefix(text.Text, "Here you go\n\n") {
		t.Fatalf("first event %+v, want the text", text)
	}
	for _, want := range []string{"File: video.mp4 " + files.URL + "/video.mp4 (", "File: gone.pdf", "HTTP 404", "File: huge.iso", "50.0 MB"} {
		if !strings.Contains(text.Text, want) {
			t.Errorf("the text %q does not show %q", text.Text, want)
		}
	}
	if strings.Contains(text.Text, "receipt.png") {
		t.Errorf("the uploaded file is also a link: %q", text.Text)
	}
	if file.Type != "file" || file.Fields["name"] != "receipt.png" || file.Fields["content_type"] != "image/png" || file.CustomID != "baton:m1:file0" {
		t.Errorf("second event %+v, want the file receipt.png", file)
	}
}

// TestRelayQueuePosition: a chat that Open's transfer queues comes back as
// a transfer naming nobody with LiveChat's place for it in the group's
// queue; one an agent takes names the agent and no place.
func TestRelayQueuePosition(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWorld(t, ModeRelay)
	if err := w.sim.SetStatus(maria, livechatsim.NotAccepting); err != nil {
		t.Fatal(err)
	}
	for i, id := range []string{"ho_1", "ho_2"} {
		h, err := w.desk.Open(ctx, openRequest(id, ""))
		if err != nil {
			t.Fatal(err)
		}
		tr := only(t, w.takeOK(), baton.DeskTransferred)
		if q := w.chat(h.Ref).Last().Queue; q == nil || q.Position != i+1 {
			t.Fatalf("chat of %s: queue %+v, want position %d", id, q, i+1)
		}
		if tr.Ref != h.Ref || tr.Agent != (baton.Agent{}) || tr.Position != i+1 {
			t.Errorf("transfer event of %s: %+v, want nobody at position %d", id, tr, i+1)
		}
	}
	// Maria accepts chats again and takes the queued ones.
	if err := w.sim.SetStatus(maria, livechatsim.Accepting); err != nil {
		t.Fatal(err)
	}
	taken := 0
	for _, tr := range w.takeOK() {
		if tr.Type != baton.DeskTransferred {
			continue
		}
		if tr.Agent.ID != maria || tr.Position != 0 {
			t.Errorf("a queued chat assigned: %+v, want Maria and no position", tr)
		}
		taken++
	}
	if taken == 0 {
		t.Error("Maria took none of the queued chats")
	}
}

// TestRelayInbound: agents' messages and files reach Baton with the agent's
// name; the customer's own messages (Baton's sends) are dropped; transfers,
// joins and closes map; a repeated delivery has the same event id.
func TestRelayInbound(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWorld(t, ModeRelay)
	h, err := w.desk.Open(ctx, openRequest("ho_1", ""))
	if err != nil {
		t.Fatal(err)
	}
	evs := w.takeOK()
	tr := only(t, evs, baton.DeskTransferred)
	if tr.Ref != h.Ref || tr.Agent != (baton.Agent{ID: maria, Name: "Maria"}) {
		t.Errorf("transfer event %+v, want to Maria in %s", tr, h.Ref)
	}
	if has(evs, baton.DeskAgentMessage) || has(evs, baton.DeskCustomerMessage) {
		t.Errorf("opening produced messages: %v", types(evs))
	}

	if err := w.desk.Send(ctx, h, baton.Message{ID: "m1", Text: "are you there?"}); err != nil {
		t.Fatal(err)
	}
	if evs := w.takeOK(); len(evs) != 0 {
		t.Errorf("the customer's own message came back as %v", types(evs))
	}

	id, err := w.sim.AgentSend(h.Ref, maria, "Hi Casey, I am on it.")
	if err != nil {
		t.Fatal(err)
	}
	msg := only(t, w.takeOK(), baton.DeskAgentMessage)
	want := baton.DeskEvent{ID: "event:" + h.Ref + "/" + id, Ref: h.Ref, Type: baton.DeskAgentMessage,
		Agent: baton.Agent{ID: maria, Name: "Maria"}, Text: "Hi Casey, I am on it.", At: msg.At}
	if msg.At.IsZero() || !equalEvent(msg, want) {
		t.Errorf("agent message %+v, want %+v", msg, want)
	}

	// A repeated delivery carries the same id (the engine drops it).
	deliveries := w.sim.Webhooks()
	var again int
	for _, d := range deliveries {
		if d.Action == ActionIncomingEvent && bytes.Contains(d.Body, []byte(id)) {
			again = d.ID
		}
	}
	if err := w.sim.Redeliver(again); err != nil {
		t.Fatal(err)
	}
	if dup := only(t, w.takeOK(), baton.DeskAgentMessage); dup.ID != msg.ID {
		t.Errorf("the redelivery has id %s, the first %s", dup.ID, msg.ID)
	}

	fid, err := w.sim.AgentFile(h.Ref, maria, "invoice.pdf", []byte("%PDF-1.4"))
	if err != nil {
		t.Fatal(err)
	}
	f := only(t, w.takeOK(), baton.DeskAgentMessage)
	if f.ID != "event:"+h.Ref+"/"+fid || len(f.Attachments) != 1 || f.Attachments[0].Name != "invoice.pdf" || !strings.HasPrefix(f.Attachments[0].URL, "http") || f.Text != "" {
		t.Errorf("file event %+v", f)
	}

	if _, err := w.sim.AddAgent(livechatsim.Agent{ID: "lee@example.com", Name: "Lee", Groups: map[int]string{1: "normal"}}); err != nil {
		t.Fatal(err)
	}
	if err := w.sim.AgentTransfer(h.Ref, maria, livechatsim.Transfer{Type: "agent", AgentID: "lee@example.com"}); err != nil {
		t.Fatal(err)
	}
	if tr := only(t, w.takeOK(), baton.DeskTransferred); tr.Agent != (baton.Agent{ID: "lee@example.com", Name: "Lee"}) {
		t.Errorf("transfer to Lee: %+v", tr)
	}

	if err := w.sim.AgentClose(h.Ref, "lee@example.com"); err != nil {
		t.Fatal(err)
	}
	cl := only(t, w.takeOK(), baton.DeskAgentClosed)
	if cl.Ref != h.Ref || cl.Agent.ID != "lee@example.com" {
		t.Errorf("close event %+v", cl)
	}

	// Duplicated deliveries (LiveChat's at-least-once) give equal ids.
	h2, err := w.desk.Open(ctx, openRequest("ho_2", ""))
	if err != nil {
		t.Fatal(err)
	}
	w.takeOK()
	w.sim.SetFaults(livechatsim.Faults{Duplicates: true})
	if _, err := w.sim.AgentSend(h2.Ref, maria, "twice"); err != nil {
		t.Fatal(err)
	}
	if err := w.sim.AgentClose(h2.Ref, maria); err != nil {
		t.Fatal(err)
	}
	evs = w.takeOK()
	if len(evs) != 4 || evs[0].ID != evs[1].ID || evs[2].ID != evs[3].ID || evs[0].ID == evs[2].ID {
		t.Errorf("duplicated deliveries gave %v with ids %v", types(evs), ids(evs))
	}
}

func ids(evs []baton.DeskEvent) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.ID)
	}
	return out
}

func equalEvent(a, b baton.DeskEvent) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

// TestRelayCheck: Check passes with good credentials, and names what is wrong.
func TestRelayCheck(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWorld(t, ModeRelay)
	if err := w.desk.Check(ctx); err != nil {
		t.Fatal(err)
	}
	bad := func(k, v string) baton.Desk {
		cfg := w.cfg
		cfg.Settings = map[string]string{}
		for k, v := range w.cfg.Settings {
			cfg.Settings[k] = v
		}
		cfg.Settings[k] = v
		if k == SettingLicenseID {
			delete(cfg.Settings, SettingOrganizationID)
		}
		d, err := New(cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	if err := bad(SettingToken, "dal:wrong-token").Check(ctx); !isAuthErr(err) {
		t.Errorf("Check with a wrong token: %v, want an Auth error", err)
	}
	if err := bad(SettingGroupID, "9").Check(ctx); !permanent(err) || baton.ErrorField(err) != "settings.group_id" {
		t.Errorf("Check with group 9: %v, want a permanent error on settings.group_id", err)
	}
	if err := bad(SettingGroups, "vip=7").Check(ctx); baton.ErrorField(err) != "settings.groups" {
		t.Errorf("Check with groups vip=7: %v, want an error on settings.groups", err)
	}
	// A license id is looked up to the organization.
	lic := bad(SettingLicenseID, "104130623")
	if err := lic.Check(ctx); err != nil {
		t.Errorf("Check with license_id: %v", err)
	}
	if org, _ := lic.(*Relay).api.Organization(ctx); org != w.sim.OrganizationID() {
		t.Errorf("license 104130623 resolved to %q, want %q", org, w.sim.OrganizationID())
	}
}
