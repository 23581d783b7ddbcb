package web_test

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/engine"
	"github.com/batonhq/baton/web"
)

// The web inbox over plain HTTP: what a browser test would be slow to show.

// wantHeaders checks the security headers every answer of the web inbox carries.
func wantHeaders(t *testing.T, what string, h http.Header) {
	t.Helper()
	for k, v := range map[string]string{
		"Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'",
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "same-origin",
	} {
		if got := h.Get(k); got != v {
			t.Errorf("%s: %s is %q, want %q", what, k, got, v)
		}
	}
}

// TestSignInAndOut walks the session: / and the queue send a stranger to
// the sign-in page; signing in sets an HttpOnly, SameSite=Lax cookie for
// 12 hours and lands on the queue; signing out removes it.
func TestSignInAndOut(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	c := f.client()
	if p := f.get(c, "/"); p.status != http.StatusSeeOther || p.header.Get("Location") != "/inbox/" {
		t.Fatalf("GET /: %d %s", p.status, p.header.Get("Location"))
	}
	p := f.get(c, "/inbox/handoffs/ho_x")
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/inbox/signin?next=%2Finbox%2Fhandoffs%2Fho_x" {
		t.Fatalf("a page, signed out: %d %s", p.status, p.header.Get("Location"))
	}
	form := f.get(c, "/inbox/signin")
	wantHeaders(t, "the sign-in page", form.header)
	if form.status != 200 || !strings.Contains(form.body, `<label for="email">Email</label>`) || !strings.Contains(form.body, `<label for="password">Password</label>`) {
		t.Fatalf("sign-in page: %d %s", form.status, form.body)
	}
	res := f.post(c, "/inbox/signin", url.Values{"csrf": {hidden(form.body, "csrf")}, "email": {"ADA@one.example"}, "password": {secret},
		"next": {"/inbox/handoffs/ho_x"}})
	if res.status != http.StatusSeeOther || res.header.Get("Location") != "/inbox/handoffs/ho_x" {
		t.Fatalf("sign-in: %d %s %s", res.status, res.header.Get("Location"), res.body)
	}
	ck := cookieOf(t, res.header, "baton_session")
	if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Secure || ck.Path != "/inbox/" || ck.MaxAge != 12*3600 {
		t.Errorf("session cookie %+v: want HttpOnly, SameSite=Lax, not Secure over HTTP, Path /inbox/, Max-Age 12h", ck)
	}
	q := f.get(c, "/inbox/")
	wantHeaders(t, "the queue", q.header)
	if q.status != 200 || !strings.Contains(q.body, "Nobody is waiting.") || !strings.Contains(q.body, "<title>Baton inbox</title>") {
		t.Fatalf("queue: %d %s", q.status, q.body)
	}
	if p := f.get(c, "/inbox/signin"); p.status != http.StatusSeeOther || p.header.Get("Location") != "/inbox/" {
		t.Errorf("the sign-in page when signed in: %d %s", p.status, p.header.Get("Location"))
	}
	// Off-site next is ignored.
	for _, next := range []string{"//evil.example/", "https://evil.example/", "/inbox/\\evil", "/inbox/../v1/events"} {
		if p := f.get(c, "/inbox/signin?next="+url.QueryEscape(next)); p.header.Get("Location") != "/inbox/" {
			t.Errorf("next=%q sends to %q", next, p.header.Get("Location"))
		}
	}
	out := f.post(c, "/inbox/signout", url.Values{"csrf": {hidden(q.body, "csrf")}})
	if out.status != http.StatusSeeOther || out.header.Get("Location") != "/inbox/signin" || cookieOf(t, out.header, "baton_session").MaxAge >= 0 {
		t.Fatalf("sign-out: %d %s %v", out.status, out.header.Get("Location"), out.header["Set-Cookie"])
	}
	if p := f.get(c, "/inbox/"); p.status != http.StatusSeeOther || p.header.Get("Location") != "/inbox/signin" {
		t.Fatalf("the queue after signing out: %d %s", p.status, p.header.Get("Location"))
	}
}

// TestSecureCookie checks that a sign-in over TLS gets a Secure cookie.
func TestSecureCookie(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	form := f.get(f.client(), "/inbox/signin")
	nonce := cookieOf(t, form.header, "baton_signin")
	req := httptest.NewRequest("POST", "https://baton.example/inbox/signin", strings.NewReader(url.Values{
		"csrf": {hidden(form.body, "csrf")}, "email": {agents[ada].Email}, "password": {secret}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(nonce)
	rec := httptest.NewRecorder()
	f.app.Handler.ServeHTTP(rec, req)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("sign-in over TLS: %d %s", rec.Code, rec.Body)
	}
	if ck := cookieOf(t, rec.Header(), "baton_session"); !ck.Secure || !ck.HttpOnly {
		t.Errorf("the session cookie over TLS is %+v, want Secure and HttpOnly", ck)
	}
}

// TestFormSignedOut checks that a form sent without a session goes to the
// sign-in page, which does not come back to the form's action.
func TestFormSignedOut(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	p := f.post(f.client(), "/inbox/handoffs/ho_x/claim", url.Values{"csrf": {"x"}})
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/inbox/signin" {
		t.Fatalf("a form, signed out: %d %s", p.status, p.header.Get("Location"))
	}
}

func cookieOf(t *testing.T, h http.Header, name string) *http.Cookie {
	t.Helper()
	for _, ck := range (&http.Response{Header: h}).Cookies() {
		if ck.Name == name {
			return ck
		}
	}
	t.Fatalf("no cookie %s in %v", name, h["Set-Cookie"])
	return nil
}

// TestSignInRefused checks that a wrong password, an unknown email and a
// disabled agent get the same answer, which names neither field.
func TestSignInRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	if _, err := f.app.Engine.UpdateAgent(context.Background(), ws1, bob, engine.AgentUpdate{Disabled: engine.To(true)}); err != nil {
		t.Fatal(err)
	}
	c := f.client()
	var bodies []string
	for _, try := range []struct{ email, pw string }{
		{agents[ada].Email, "wrong horse battery staple"},
		{"nobody@one.example", secret},
		{agents[bob].Email, secret},
	} {
		form := f.get(c, "/inbox/signin")
		p := f.post(c, "/inbox/signin", url.Values{"csrf": {hidden(form.body, "csrf")}, "email": {try.email}, "password": {try.pw}})
		if p.status != http.StatusUnauthorized || !strings.Contains(p.body, "Wrong email or password.") {
			t.Fatalf("%s: %d %s", try.email, p.status, p.body)
		}
		if _, set := p.header["Set-Cookie"]; set && strings.Contains(strings.Join(p.header["Set-Cookie"], ";"), "baton_session") {
			t.Errorf("%s: a refused sign-in set a session", try.email)
		}
		bodies = append(bodies, strings.ReplaceAll(p.body, try.email, "EMAIL"))
	}
	for i := range bodies[1:] {
		if bodies[i+1] != bodies[0] {
			t.Errorf("the refusals differ:\n%s\n---\n%s", bodies[0], bodies[i+1])
		}
	}
}

// TestSignInRateLimit checks the limits: after 5 failures an email is
// refused 429 with Retry-After, even with its right password, while others
// go on; after 20 failures from one address, every email is.
func TestSignInRateLimit(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	try := func(email, pw string) page {
		c := f.client()
		form := f.get(c, "/inbox/signin")
		return f.post(c, "/inbox/signin", url.Values{"csrf": {hidden(form.body, "csrf")}, "email": {email}, "password": {pw}})
	}
	for i := range 5 {
		if p := try(agents[ada].Email, "wrong password number "+strconv.Itoa(i)); p.status != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i+1, p.status)
		}
	}
	p := try("Ada@One.example", secret)
	if p.status != http.StatusTooManyRequests || !strings.Contains(p.body, "Too many failed sign-ins") {
		t.Fatalf("the sixth try: %d %s", p.status, p.body)
	}
	if s, err := strconv.Atoi(p.header.Get("Retry-After")); err != nil || s < 290 || s > 300 {
		t.Errorf("Retry-After %q, want about 300", p.header.Get("Retry-After"))
	}
	if p := try(agents[bob].Email, secret); p.status != http.StatusSeeOther {
		t.Fatalf("another email: %d, want 303", p.status)
	}
	for i := range 15 {
		if p := try("nobody"+strconv.Itoa(i)+"@one.example", "wrong"); p.status != http.StatusUnauthorized {
			t.Fatalf("address failure %d: %d", i+6, p.status)
		}
	}
	if p := try(agents[dan].Email, secret); p.status != http.StatusTooManyRequests {
		t.Fatalf("after 20 failures from one address: %d, want 429", p.status)
	}
}

// TestCSRF checks that every POST needs the session's CSRF token and the
// same origin: missing, forged, another session's and cross-site forms are
// refused 403 and change nothing; the sign-in form needs its own token.
func TestCSRF(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	id := f.ask(apiKey1, "c1", "Cleo", "Where is my order?")
	adaC, bobC := f.client(), f.client()
	f.signIn(adaC, ada)
	f.signIn(bobC, bob)
	bobToken := hidden(f.get(bobC, "/inbox/").body, "csrf")
	claim := "/inbox/handoffs/" + id + "/claim"
	for name, form := range map[string]url.Values{
		"no token":          {},
		"a forged token":    {"csrf": {"Zm9yZ2Vk"}},
		"Bob's token":       {"csrf": {bobToken}},
		"an empty token":    {"csrf": {""}},
		"a sign-in token":   {"csrf": {hidden(f.get(f.client(), "/inbox/signin").body, "csrf")}},
		"the token as idem": {"idem": {bobToken}},
	} {
		p := f.post(adaC, claim, form)
		wantHeaders(t, name, p.header)
		if p.status != http.StatusForbidden || !strings.Contains(p.body, "nothing was changed") {
			t.Errorf("%s: %d %s", name, p.status, p.body)
		}
	}
	// A cross-site form, with Ada's own token: refused by its origin.
	adaToken := hidden(f.get(adaC, "/inbox/").body, "csrf")
	req, _ := http.NewRequest("POST", f.srv.URL+claim, strings.NewReader(url.Values{"csrf": {adaToken}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	res, err := adaC.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if p := read(t, res); p.status != http.StatusForbidden {
		t.Errorf("cross-site: %d", p.status)
	}
	if h, _ := f.app.Engine.Handoff(context.Background(), ws1, id); h.Agent.ID != "" {
		t.Fatalf("a refused claim took the handoff: %+v", h.Agent)
	}
	// The right token works.
	if p := f.post(adaC, claim, url.Values{"csrf": {adaToken}}); p.status != http.StatusSeeOther {
		t.Fatalf("claim with the token: %d %s", p.status, p.body)
	}
	// The sign-in form: without its nonce cookie, or with another browser's token.
	other := f.client()
	tok := hidden(f.get(other, "/inbox/signin").body, "csrf")
	for name, c := range map[string]*http.Client{"no nonce cookie": f.client(), "another browser's nonce": func() *http.Client {
		c := f.client()
		f.get(c, "/inbox/signin")
		return c
	}()} {
		if p := f.post(c, "/inbox/signin", url.Values{"csrf": {tok}, "email": {agents[ada].Email}, "password": {secret}}); p.status != http.StatusForbidden {
			t.Errorf("sign-in with %s: %d", name, p.status)
		}
	}
}

// TestSessionCookie checks that a garbled, forged, expired or future
// cookie is no session: pages send to the sign-in page saying it ended and
// remove the cookie; what the script fetches answers 401.
func TestSessionCookie(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	a := agents[ada]
	a.PasswordHash = hashes()
	now := time.Now()
	other := make([]byte, 32)
	for name, value := range map[string]string{
		"garbled":                 "not-a-session",
		"empty":                   "",
		"bad base64":              "%%%.%%%",
		"expired":                 web.SessionCookie(f.key, a, now.Add(-13*time.Hour), 12*time.Hour),
		"issued in the future":    web.SessionCookie(f.key, a, now.Add(time.Hour), 12*time.Hour),
		"signed with another key": web.SessionCookie(other, a, now, 12*time.Hour),
		"another password":        web.SessionCookie(f.key, baton.InboxAgent{ID: ada, WorkspaceID: ws1, PasswordHash: "old"}, now, 12*time.Hour),
		"a tampered agent":        strings.Replace(web.SessionCookie(f.key, a, now, 12*time.Hour), "e", "f", 1),
	} {
		c := f.client()
		u, _ := url.Parse(f.srv.URL + "/inbox/")
		c.Jar.SetCookies(u, []*http.Cookie{{Name: "baton_session", Value: value, Path: "/inbox/"}})
		p := f.get(c, "/inbox/")
		if value == "" {
			continue // no cookie at all
		}
		if p.status != http.StatusSeeOther || p.header.Get("Location") != "/inbox/signin?ended=1" {
			t.Errorf("%s: %d %s", name, p.status, p.header.Get("Location"))
			continue
		}
		if cookieOf(t, p.header, "baton_session").MaxAge >= 0 {
			t.Errorf("%s: the dead cookie is not removed", name)
		}
		c.Jar.SetCookies(u, []*http.Cookie{{Name: "baton_session", Value: value, Path: "/inbox/"}})
		if p := f.get(c, "/inbox/queue"); p.status != http.StatusUnauthorized {
			t.Errorf("%s: a fragment answers %d, want 401", name, p.status)
		}
	}
	// The right cookie, made the same way, works: the cases above fail for their reason.
	c := f.client()
	u, _ := url.Parse(f.srv.URL + "/inbox/")
	c.Jar.SetCookies(u, []*http.Cookie{{Name: "baton_session", Value: web.SessionCookie(f.key, a, now, 12*time.Hour), Path: "/inbox/"}})
	if p := f.get(c, "/inbox/"); p.status != 200 {
		t.Fatalf("a good cookie: %d", p.status)
	}
	p := f.get(f.client(), "/inbox/signin?ended=1")
	if !strings.Contains(p.body, "Your session has ended") {
		t.Errorf("the sign-in page after a session ended does not say so: %s", p.body)
	}
}

// TestOtherDesksHandoffs checks that another workspace's or another desk's
// handoff, by URL, is 404 exactly as one that does not exist, to read and
// to act on.
func TestOtherDesksHandoffs(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	theirs := f.ask(apiKey2, "c2", "Zoe", "Hello from two")
	ours := f.ask(apiKey1, "c1", "Cleo", "Hello from one")
	adaC, danC := f.client(), f.client()
	f.signIn(adaC, ada)
	f.signIn(danC, dan)
	missing := f.get(adaC, "/inbox/handoffs/ho_nothing")
	if missing.status != http.StatusNotFound {
		t.Fatalf("a missing handoff: %d", missing.status)
	}
	wantHeaders(t, "404", missing.header)
	for _, c := range []struct {
		who    string
		client *http.Client
		id     string
	}{{"Ada, ws2's", adaC, theirs}, {"Dan, the other desk's", danC, ours}} {
		p := f.get(c.client, "/inbox/handoffs/"+c.id)
		if p.status != http.StatusNotFound {
			t.Errorf("%s handoff: %d", c.who, p.status)
		}
		// The same page as for nothing, but the agent's own header.
		if strip(p.body) != strip(missing.body) {
			t.Errorf("%s handoff's 404 differs from a missing one's:\n%s\n---\n%s", c.who, p.body, missing.body)
		}
		if p := f.get(c.client, "/inbox/handoffs/"+c.id+"/case"); p.status != http.StatusNotFound {
			t.Errorf("%s handoff's fragment: %d", c.who, p.status)
		}
		tok := hidden(f.get(c.client, "/inbox/").body, "csrf")
		for _, act := range []string{"claim", "end", "reply"} {
			if p := f.post(c.client, "/inbox/handoffs/"+c.id+"/"+act, url.Values{"csrf": {tok}, "text": {"hi"}}); p.status != http.StatusNotFound {
				t.Errorf("%s handoff, %s: %d", c.who, act, p.status)
			}
		}
		if strings.Contains(f.get(c.client, "/inbox/").body, c.id) {
			t.Errorf("%s handoff is in the queue", c.who)
		}
	}
	for _, id := range []string{theirs, ours} {
		for _, ws := range []string{ws1, ws2} {
			if h, err := f.app.Engine.Handoff(context.Background(), ws, id); err == nil && (h.Agent.ID != "" || h.State != baton.Queued) {
				t.Errorf("handoff %s changed: %+v", id, h)
			}
		}
	}
}

// strip removes what is the agent's own from a page: its name and token.
func strip(body string) string {
	body = strings.ReplaceAll(body, hidden(body, "csrf"), "")
	for _, a := range agents {
		body = strings.ReplaceAll(body, ">"+a.Name+"<", "><")
	}
	return body
}

// TestEscaped checks that HTML in every text a customer or bot gives is
// shown as text, in the queue, its fragment and the handoff page.
func TestEscaped(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	const evil = `<script>alert("x")</script><img src=x onerror=alert(1)>`
	id := f.ask(apiKey1, "c1", evil, evil, baton.Turn{Author: baton.ByBot, Text: evil})
	c := f.client()
	f.signIn(c, ada)
	for _, path := range []string{"/inbox/", "/inbox/queue", "/inbox/handoffs/" + id, "/inbox/handoffs/" + id + "/case"} {
		p := f.get(c, path)
		if p.status != 200 {
			t.Fatalf("%s: %d", path, p.status)
		}
		if strings.Contains(p.body, "<script>alert") || strings.Contains(p.body, "<img src=x") {
			t.Errorf("%s carries the customer's HTML unescaped", path)
		}
		if !strings.Contains(p.body, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") {
			t.Errorf("%s does not show the customer's text escaped:\n%s", path, p.body)
		}
	}
}

// TestSessionEndsForDisabledAgent checks that every request reads the agent
// again: disabled, with a new password, or deleted, its session ends at the
// next page, and a live page's stream says signout.
func TestSessionEndsForDisabledAgent(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	ctx := context.Background()
	for _, change := range []struct {
		name  string
		agent string
		do    func() error
	}{
		{"disabled", ada, func() error {
			_, err := f.app.Engine.UpdateAgent(ctx, ws1, ada, engine.AgentUpdate{Disabled: engine.To(true)})
			return err
		}},
		{"a new password", bob, func() error {
			_, err := f.app.Engine.UpdateAgent(ctx, ws1, bob, engine.AgentUpdate{Password: engine.To("another long password")})
			return err
		}},
	} {
		c := f.client()
		f.signIn(c, change.agent)
		stream := f.stream(c, "")
		if ev := stream.next(t); ev.name != "update" {
			t.Fatalf("%s: first event %+v", change.name, ev)
		}
		if err := change.do(); err != nil {
			t.Fatal(err)
		}
		if ev := stream.next(t); ev.name != "signout" {
			t.Fatalf("%s: the stream sent %+v, want signout", change.name, ev)
		}
		if p := f.get(c, "/inbox/"); p.status != http.StatusSeeOther || p.header.Get("Location") != "/inbox/signin?ended=1" {
			t.Errorf("%s: the next page is %d %s", change.name, p.status, p.header.Get("Location"))
		}
	}
}

// TestEventStream checks the live updates: an update at the start, one
// when a handoff arrives (with the waiting count), when a customer writes
// on the handoff's page, and none for another workspace's change.
func TestEventStream(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	c := f.client()
	f.signIn(c, ada)
	q := f.stream(c, "")
	first := q.next(t)
	if first.name != "update" || !strings.Contains(first.data, `"waiting":0`) {
		t.Fatalf("first event %+v", first)
	}
	id := f.ask(apiKey1, "c1", "Cleo", "Hello?")
	if ev := q.next(t); !strings.Contains(ev.data, `"waiting":1`) {
		t.Fatalf("after a handoff arrived: %+v", ev)
	}
	f.ask(apiKey2, "c2", "Zoe", "Hello from two")
	h := f.stream(c, id)
	h.next(t)
	f.api(apiKey1, "POST", "/v1/handoffs/"+id+"/messages", map[string]any{"text": "still there?"}, http.StatusCreated, nil)
	if ev := h.next(t); ev.name != "update" {
		t.Fatalf("after a customer message: %+v", ev)
	}
	if p := f.get(c, "/inbox/handoffs/"+id+"/case"); !strings.Contains(p.body, "still there?") {
		t.Fatalf("the fragment lacks the new message: %s", p.body)
	}
	if p := f.get(f.client(), "/inbox/events"); p.status != http.StatusUnauthorized {
		t.Errorf("the stream, signed out: %d", p.status)
	}
}

// sse reads server-sent events from a stream.
type sse struct {
	events chan event
}

type event struct{ name, data string }

// stream opens the event stream with c (of a handoff's page when id is set).
func (f *fixture) stream(c *http.Client, id string) *sse {
	f.t.Helper()
	path := "/inbox/events"
	if id != "" {
		path += "?handoff=" + id
	}
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", f.srv.URL+path, nil)
	sc := *c
	sc.Timeout = 0
	res, err := sc.Do(req)
	if err != nil {
		cancel()
		f.t.Fatal(err)
	}
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" {
		cancel()
		f.t.Fatalf("stream: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	s := &sse{events: make(chan event, 100)}
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(s.events)
		sc := bufio.NewScanner(res.Body)
		var ev event
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.name != "" {
					s.events <- ev
				}
				ev = event{}
			case strings.HasPrefix(line, "event: "):
				ev.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				ev.data = strings.TrimPrefix(line, "data: ")
			}
		}
	})
	f.t.Cleanup(func() {
		cancel()
		res.Body.Close()
		wg.Wait()
	})
	return s
}

// next waits up to 5 s for the stream's next event.
func (s *sse) next(t *testing.T) event {
	t.Helper()
	select {
	case ev, ok := <-s.events:
		if !ok {
			t.Fatal("the stream ended")
		}
		return ev
	case <-time.After(5 * time.Second):
		t.Fatal("no event within 5s")
	}
	return event{}
}

// TestStatic checks the embedded files: their types, the security headers,
// a year's caching at their current version, and 404 for others.
func TestStatic(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	c := f.client()
	q := f.get(c, "/inbox/signin")
	_, rest, _ := strings.Cut(q.body, `<script src="`)
	src, _, _ := strings.Cut(rest, `"`)
	if !strings.HasPrefix(src, "/static/inbox.js?v=") || strings.Contains(q.body, "<script>") {
		t.Fatalf("the page's script is %q", src)
	}
	p := f.get(c, strings.ReplaceAll(src, "&amp;", "&"))
	wantHeaders(t, "inbox.js", p.header)
	if p.status != 200 || p.header.Get("Content-Type") != "text/javascript; charset=utf-8" || !strings.Contains(p.header.Get("Cache-Control"), "immutable") {
		t.Fatalf("inbox.js: %d %v", p.status, p.header)
	}
	if p := f.get(c, "/static/inbox.css"); p.status != 200 || p.header.Get("Cache-Control") != "no-cache" {
		t.Errorf("inbox.css unversioned: %d %s", p.status, p.header.Get("Cache-Control"))
	}
	for _, path := range []string{"/static/nope.js", "/static/"} {
		if p := f.get(c, path); p.status != http.StatusNotFound {
			t.Errorf("%s: %d", path, p.status)
		}
	}
}

// TestSessionsEndForGood: signing out ends a copy of the cookie too, and a
// disabled agent's old sessions stay ended when the agent is enabled again.
func TestSessionsEndForGood(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	ctx := context.Background()
	copyOf := func(c *http.Client) *http.Client {
		cp := f.client()
		u, _ := url.Parse(f.srv.URL + "/inbox/")
		cp.Jar.SetCookies(u, c.Jar.Cookies(u))
		return cp
	}
	signedOut := func(what string, c *http.Client) {
		t.Helper()
		if p := f.get(c, "/inbox/"); p.status != http.StatusSeeOther || !strings.HasPrefix(p.header.Get("Location"), "/inbox/signin") {
			t.Errorf("%s: the queue answers %d %s", what, p.status, p.header.Get("Location"))
		}
	}
	c := f.client()
	f.signIn(c, ada)
	stolen := copyOf(c)
	q := f.get(c, "/inbox/")
	if out := f.post(c, "/inbox/signout", url.Values{"csrf": {hidden(q.body, "csrf")}}); out.status != http.StatusSeeOther {
		t.Fatalf("sign-out: %d", out.status)
	}
	signedOut("a copy of a signed-out cookie", stolen)
	f.signIn(c, ada) // signing in again works at once

	b := f.client()
	f.signIn(b, bob)
	old := copyOf(b)
	for _, off := range []bool{true, false} {
		if _, err := f.app.Engine.UpdateAgent(ctx, ws1, bob, engine.AgentUpdate{Disabled: engine.To(off)}); err != nil {
			t.Fatal(err)
		}
	}
	signedOut("a session from before the agent was disabled and enabled again", old)
	f.signIn(b, bob)
}

// TestQueueShowsPlace: the queue shows each waiting handoff's place in line.
func TestQueueShowsPlace(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	first := f.ask(apiKey1, "c1", "Cleo", "First")
	second := f.ask(apiKey1, "c2", "Dora", "Second")
	c := f.client()
	f.signIn(c, ada)
	f.until("both handoffs in line", func() bool {
		body := f.get(c, "/inbox/").body
		i, j := strings.Index(body, `data-handoff="`+first+`"`), strings.Index(body, `data-handoff="`+second+`"`)
		return i >= 0 && j > i && strings.Contains(body[i:j], "#1 in line") && strings.Contains(body[j:], "#2 in line")
	})
}

// TestCaseBrief: the case page's header shows the handoff's brief: the
// customer's turns, their language, what the bot tried.
func TestCaseBrief(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	id := f.ask(apiKey1, "c-brief", "Léa", "Je veux parler à une personne, merci",
		baton.Turn{Author: baton.ByCustomer, Text: "Bonjour, je ne trouve pas ma facture"},
		baton.Turn{Author: baton.ByBot, Text: "Elle est dans votre espace client."})
	c := f.client()
	f.signIn(c, ada)
	p := f.get(c, "/inbox/handoffs/"+id)
	for _, want := range []string{
		`<p id="brief-summary">Bonjour, je ne trouve pas ma facture / Je veux parler à une personne, merci</p>`,
		`<span id="brief-language">fr</span>`,
		`<ul id="brief-tried"><li>Elle est dans votre espace client.</li></ul>`,
	} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the case page lacks %s:\n%s", want, p.body)
		}
	}
	if strings.Contains(p.body, "written by an LLM") {
		t.Error("an extractive brief is said to be an LLM's")
	}
}
