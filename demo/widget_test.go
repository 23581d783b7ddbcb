package demo

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/app"
	"github.com/batonhq/baton/config"
	"github.com/batonhq/baton/internal/browsertest"
	"github.com/batonhq/baton/registry"
	"github.com/batonhq/baton/sqlite"
)

// The widget's browser tests drive the headless Chromium of package
// browsertest (which skips or fails them without one). Screenshots go to
// t.ArtifactDir().

// running is a Baton serving the demo's workspace (its desk requiring the
// customer's email) and the demo bot, with Baton's address known to it.
func running(t *testing.T, policy ...func(*baton.Policy)) (*Bot, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	b, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	f := b.File()
	f.Workspaces[0].Desks[0].Policy.RequireEmail = true
	for _, p := range policy {
		p(f.Workspaces[0].Desks[0].Policy)
	}
	key := make([]byte, 32)
	rand.Read(key)
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "baton.db"), key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Apply(ctx, store, config.ApplyParams{Secrets: registry.Secrets}); err != nil {
		t.Fatal(err)
	}
	a := app.New(app.Params{Store: store, CheckEvery: -1})
	done := make(chan struct{})
	go func() { defer close(done); a.Run(ctx) }()
	go func() { // nobody prints the bot's lines here
		for {
			select {
			case <-b.lines:
			case <-ctx.Done():
				return
			}
		}
	}()
	srv := httptest.NewServer(a.Handler)
	base := srv.URL
	b.base.Store(&base)
	t.Cleanup(func() {
		b.Close()
		srv.CloseClientConnections()
		srv.Close()
		cancel()
		<-done
		store.Close()
	})
	return b, base
}

// agent calls Baton's inbox API as the demo agent Ana.
func agent(t *testing.T, base, method, path, body string) []byte {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, base+path, rd)
	req.Header.Set("Authorization", "Bearer "+AgentKey)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	got, _ := io.ReadAll(res.Body)
	if res.StatusCode/100 != 2 {
		t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, got)
	}
	return got
}

// tab is a browser tab in a browser context of its own (the customer's on
// the customer page, or an agent's in the web inbox), failing the test on
// any console message (a call of the console API, an uncaught exception, a
// refused resource or CSP violation).
type tab struct {
	t    *testing.T
	ctx  context.Context
	name string // who uses it, which its screenshots and failures name
}

func TestMain(m *testing.M) {
	code := m.Run()
	browsertest.Stop()
	os.Exit(code)
}

func newCustomer(t *testing.T) *tab { return newTab(t, "customer") }

func newTab(t *testing.T, name string) *tab {
	t.Helper()
	bctx := browsertest.Start(t)
	ctx, cancel := chromedp.NewContext(bctx, chromedp.WithNewBrowserContext())
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		t.Fatalf("opening a tab: %v", err)
	}
	var mu sync.Mutex
	var console []chromedp.ConsoleMessage
	msgs := chromedp.Console(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range msgs {
			if err != nil {
				return
			}
			mu.Lock()
			console = append(console, m)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, m := range console {
			t.Errorf("%s's console: %s (%s:%d)", name, m, m.URL, m.Line+1)
		}
	})
	return &tab{t: t, ctx: ctx, name: name}
}

const browserStep = 5 * time.Second

func (c *tab) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	c.t.Helper()
	for _, a := range actions {
		ctx, cancel := context.WithTimeout(c.ctx, browserStep)
		err := chromedp.Do(ctx, a)
		cancel()
		if err != nil {
			c.shot("failed-" + what)
			c.t.Fatalf("%s: %s: %v", c.name, what, err)
		}
	}
}

func (c *tab) until(what, cond string) {
	c.t.Helper()
	deadline := time.Now().Add(browserStep)
	for {
		ctx, cancel := context.WithTimeout(c.ctx, time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](cond))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			c.shot("failed-" + what)
			ctx, cancel := context.WithTimeout(c.ctx, time.Second)
			body, _ := chromedp.Run(ctx, chromedp.Evaluate[string]("document.body.innerText"))
			cancel()
			c.t.Fatalf("%s: still not %s after %v (%v)\npage: %s", c.name, what, browserStep, err, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func jsString(s string) string { b, _ := json.Marshal(s); return string(b) }

// untilText waits for the element sel to hold text.
func (c *tab) untilText(sel, text string) {
	c.t.Helper()
	c.until(fmt.Sprintf("%s showing %q", sel, text),
		fmt.Sprintf(`(function(){var e=document.querySelector(%s);return !!e && e.textContent.includes(%s)})()`, jsString(sel), jsString(text)))
}

// focused waits for the element sel to have the focus.
func (c *tab) focused(sel string) {
	c.t.Helper()
	c.until(sel+" focused", fmt.Sprintf(`document.activeElement === document.querySelector(%s)`, jsString(sel)))
}

func (c *tab) shot(name string) {
	ctx, cancel := context.WithTimeout(c.ctx, browserStep)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err == nil {
		err = os.WriteFile(filepath.Join(c.t.ArtifactDir(), c.name+"-"+name+".png"), png, 0o644)
	}
	if err != nil {
		c.t.Logf("screenshot %s: %v", name, err)
	}
}

// TestBrowserWidget walks the customer's side of a handoff in the widget,
// with the keyboard alone at phone width: the customer opens the chat,
// writes, asks for a person, is asked for an email (the desk requires one)
// and gives it, sees the queue position; Ana claims and answers through
// the inbox API; the customer sees her name and message, answers (Ana gets
// it), and sees Ana's end.
func TestBrowserWidget(t *testing.T) {
	t.Parallel()
	b, base := running(t)
	c := newCustomer(t)
	c.do("open the customer page", chromedp.EmulateViewport(375, 740), chromedp.Navigate(b.CustomerPage()),
		chromedp.WaitVisible(chromedp.CSS(".baton-chat-open")))
	c.do("open the chat with the keyboard", chromedp.Focus(chromedp.CSS(".baton-chat-open")), chromedp.KeyEvent("\r"))
	c.focused("#baton-chat-input")
	if got, err := chromedp.Run(c.ctx, chromedp.Evaluate[string](`document.querySelector('label[for="baton-chat-input"]').textContent`)); err != nil || got != "Message" {
		t.Errorf("the message input's label is %q (%v)", got, err)
	}
	c.do("write", chromedp.SendKeys(chromedp.CSS("#baton-chat-input"), "Where is my order 1042?\r"))
	c.untilText(".baton-chat-log", "You")
	c.untilText(".baton-chat-log", "demo bot")
	c.do("ask for a person", chromedp.Focus(chromedp.CSS(".baton-chat-human")), chromedp.KeyEvent("\r"))
	c.focused("#baton-chat-email-input")
	c.shot("asked-for-email")
	c.do("give the email", chromedp.SendKeys(chromedp.CSS("#baton-chat-email-input"), "sam@example.com\r"))
	c.untilText(".baton-chat-status", "Connecting you to a person… you are number 1.")
	c.shot("queued")

	var inbox struct {
		Waiting []struct {
			ID       string `json:"id"`
			Question string `json:"question"`
		} `json:"waiting"`
	}
	json.Unmarshal(agent(t, base, "GET", "/v1/inbox/handoffs", ""), &inbox)
	if len(inbox.Waiting) != 1 || inbox.Waiting[0].Question != "Where is my order 1042?" {
		t.Fatalf("Ana's inbox: %+v", inbox)
	}
	h := "/v1/inbox/handoffs/" + inbox.Waiting[0].ID
	agent(t, base, "POST", h+"/claim", "")
	c.untilText(".baton-chat-status", "Ana has joined the chat.")
	agent(t, base, "POST", h+"/messages", `{"text":"Hello, this is Ana. It ships <b>today</b>."}`)
	c.untilText(".baton-chat-agent", "Hello, this is Ana. It ships <b>today</b>.")
	c.untilText(".baton-chat-agent .baton-chat-who", "Ana")
	c.do("answer", chromedp.Focus(chromedp.CSS("#baton-chat-input")), chromedp.SendKeys(chromedp.CSS("#baton-chat-input"), "Thank you!\r"))
	deadline := time.Now().Add(browserStep)
	for !strings.Contains(string(agent(t, base, "GET", h+"/messages", "")), "Thank you!") {
		if time.Now().After(deadline) {
			t.Fatalf("Ana never got the customer's answer: %s", agent(t, base, "GET", h+"/messages", ""))
		}
		time.Sleep(20 * time.Millisecond)
	}
	c.shot("talking")
	agent(t, base, "POST", h+"/end", "")
	c.untilText(".baton-chat-ended", "The chat with a person has ended.")
	c.until("the person button back", `!document.querySelector(".baton-chat-human").hidden`)
	if n, err := chromedp.Run(c.ctx, chromedp.Evaluate[int](`document.querySelectorAll(".baton-chat b").length`)); err != nil || n != 0 {
		t.Errorf("the agent's text was rendered as HTML: %d <b> (%v)", n, err)
	}
	if w, err := chromedp.Run(c.ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); err != nil || w > 375 {
		t.Errorf("the page scrolls sideways at phone width: %d px (%v)", w, err)
	}
	c.shot("ended")
}

// TestBrowserWidgetWaitTimeout: with the email given by
// window.ChatBot.setEmail the widget does not ask for it; a wait timeout
// offers keep waiting (focused) and end; keeping waiting shows the queue
// again, ending shows the end.
func TestBrowserWidgetWaitTimeout(t *testing.T) {
	t.Parallel()
	b, _ := running(t, func(p *baton.Policy) { p.WaitTimeout = baton.Duration(time.Second) })
	c := newCustomer(t)
	c.do("open the customer page", chromedp.Navigate(b.CustomerPage()), chromedp.WaitVisible(chromedp.CSS(".baton-chat-open")))
	c.do("give the email", chromedp.Evaluate[chromedp.Void](`ChatBot.setEmail("sam@example.com")`))
	c.do("open the chat and ask for a person", chromedp.Click(chromedp.CSS(".baton-chat-open")), chromedp.Click(chromedp.CSS(".baton-chat-human")))
	c.untilText(".baton-chat-status", "you are number 1")
	// A queue_updated with an estimate (no handoff was taken here to make
	// one from): the place and the minutes, rounded up.
	id, err := chromedp.Run(c.ctx, chromedp.Evaluate[string](`sessionStorage.getItem("baton-chat-id")`))
	if err != nil {
		t.Fatal(err)
	}
	b.chats.mu.Lock()
	h := b.chats.convs[id].handoff
	b.chats.mu.Unlock()
	b.observe(baton.Envelope{Type: baton.EventQueueUpdated,
		Data: []byte(`{"conversation_id":"web-` + id + `","handoff_id":"` + h + `","position":2,"estimated_wait_seconds":130}`)})
	c.untilText(".baton-chat-status", "Connecting you to a person… you are number 2, about 3 minutes.")
	c.untilText(".baton-chat-status", "Nobody is free yet. Keep waiting, or end the chat?")
	c.focused(".baton-chat-keep")
	c.shot("wait-timeout")
	c.until("the end button shown", `!document.querySelector(".baton-chat-end").hidden`)
	c.do("keep waiting", chromedp.KeyEvent("\r"))
	c.untilText(".baton-chat-status", "you are number 1")
	c.untilText(".baton-chat-status", "Nobody is free yet.")
	c.do("end", chromedp.Click(chromedp.CSS(".baton-chat-end")))
	c.untilText(".baton-chat-ended", "The chat with a person has ended.")
	if shown, err := chromedp.Run(c.ctx, chromedp.Evaluate[bool](`!document.querySelector(".baton-chat-email").hidden`)); err != nil || shown {
		t.Errorf("the email was asked for although setEmail gave it (%v)", err)
	}
}

// TestBrowserWidgetOutOfHours: out of hours the customer sees the desk's
// reply, and may ask again later; ?email= gives the email.
func TestBrowserWidgetOutOfHours(t *testing.T) {
	t.Parallel()
	now := time.Now().UTC()
	b, _ := running(t, func(p *baton.Policy) {
		p.OutOfHoursReply = "We are away today: back tomorrow at 9."
		for _, d := range []time.Time{now.AddDate(0, 0, -1), now, now.AddDate(0, 0, 1)} {
			p.Periods = append(p.Periods, baton.Period{Kind: baton.Custom, Date: d.Format(time.DateOnly), Closed: true})
		}
	})
	c := newCustomer(t)
	c.do("open the customer page", chromedp.Navigate(b.CustomerPage()+"?email=sam@example.com"), chromedp.WaitVisible(chromedp.CSS(".baton-chat-open")))
	c.do("open the chat and ask for a person", chromedp.Click(chromedp.CSS(".baton-chat-open")), chromedp.Click(chromedp.CSS(".baton-chat-human")))
	c.untilText(".baton-chat-away", "We are away today: back tomorrow at 9.")
	c.until("the person button back", `!document.querySelector(".baton-chat-human").hidden`)
	c.shot("out-of-hours")
}
