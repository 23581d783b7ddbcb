package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/browsertest"
	"github.com/chromedp/chromedp"
)

// The browser tests drive Debian's headless Chromium with chromedp, as
// package browsertest starts it (and skips or fails without it). One
// browser serves the whole test binary; each tab is a
// browser context of its own (its own cookies), so two tabs are two agents.
// Screenshots go to t.ArtifactDir(): kept with `go test -artifacts
// -outputdir DIR`, removed after the test otherwise.

func TestMain(m *testing.M) {
	code := m.Run()
	browsertest.Stop()
	os.Exit(code)
}

// startBrowser returns the shared browser's context (see package browsertest).
func startBrowser(t *testing.T) context.Context { return browsertest.Start(t) }

// tab is one browser tab in a browser context of its own: one person.
type tab struct {
	t    *testing.T
	f    *fixture
	name string
	ctx  context.Context

	mu      sync.Mutex
	console []chromedp.ConsoleMessage
	allowed []string // texts of browser log entries the test expects (the network's 403 it asks for)
}

// step is how long one browser action may take.
const step = 5 * time.Second

// tab opens a tab. When the test ends it fails on any console message the
// tab received: a call of the console API, an uncaught exception, or a
// browser log entry (a refused resource, a CSP violation), but those the
// test allowed.
func (f *fixture) tab(t *testing.T, name string) *tab {
	t.Helper()
	bctx := startBrowser(t)
	ctx, cancel := chromedp.NewContext(bctx, chromedp.WithNewBrowserContext())
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		t.Fatalf("opening a tab: %v", err)
	}
	b := &tab{t: t, f: f, name: name, ctx: ctx}
	msgs := chromedp.Console(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range msgs {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.console = append(b.console, m)
			b.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		b.mu.Lock()
		defer b.mu.Unlock()
	next:
		for _, m := range b.console {
			for _, a := range b.allowed {
				if m.Source == "network" && strings.Contains(m.Text, a) {
					continue next
				}
			}
			t.Errorf("%s's console: %s (%s:%d)", name, m, m.URL, m.Line+1)
		}
	})
	return b
}

// allow lets the tab's console show a refused resource with this text
// (say "status of 403"), which the test causes on purpose.
func (b *tab) allow(text string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.allowed = append(b.allowed, text)
}

// do runs actions, each within step, failing the test (with a screenshot)
// on the first error.
func (b *tab) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	for _, a := range actions {
		ctx, cancel := context.WithTimeout(b.ctx, step)
		err := chromedp.Do(ctx, a)
		cancel()
		if err != nil {
			b.shot("failed-" + what)
			b.t.Fatalf("%s: %s: %v", b.name, what, err)
		}
	}
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](b *tab, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, step)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.t.Fatalf("%s: %s: %v", b.name, expr, err)
	}
	return v
}

// js quotes a Go string for JavaScript.
func js(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// until waits for a JavaScript condition to hold, evaluating it every 20 ms
// for up to step (a page that is navigating answers nothing, and is asked
// again), failing the test with a screenshot if it never does.
func (b *tab) until(what, cond string) {
	b.t.Helper()
	deadline := time.Now().Add(step)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		ctx, cancel := context.WithTimeout(b.ctx, time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](cond))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			b.shot("failed-" + what)
			ctx, cancel := context.WithTimeout(b.ctx, time.Second)
			body, _ := chromedp.Run(ctx, chromedp.Evaluate[string]("document.body ? document.body.innerText : ''"))
			cancel()
			b.t.Fatalf("%s: still not %s after %v (last error %v)\npage: %s", b.name, what, step, err, body)
		}
		<-tick.C
	}
}

// untilText waits for the element sel to hold text.
func (b *tab) untilText(sel, text string) {
	b.t.Helper()
	b.until(fmt.Sprintf("%s showing %q", sel, text),
		fmt.Sprintf(`(function(){var e=document.querySelector(%s);return !!e && e.textContent.includes(%s)})()`, js(sel), js(text)))
}

// untilTitle waits for the document title.
func (b *tab) untilTitle(title string) {
	b.t.Helper()
	b.until("titled "+title, "document.title === "+js(title))
}

// open navigates to a path of the fixture and waits for its body.
func (b *tab) open(path string) {
	b.t.Helper()
	b.do("open "+path, chromedp.Navigate(b.f.srv.URL+path), chromedp.WaitReady(chromedp.CSS("body")))
}

// shot saves a screenshot of the tab in the test's artifact folder.
func (b *tab) shot(name string) {
	ctx, cancel := context.WithTimeout(b.ctx, step)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Logf("%s: screenshot %s: %v", b.name, name, err)
		return
	}
	if err := os.WriteFile(filepath.Join(b.t.ArtifactDir(), b.name+"-"+name+".png"), png, 0o644); err != nil {
		b.t.Logf("%s: screenshot %s: %v", b.name, name, err)
	}
}

// signIn signs the agent in through the form and waits for the queue.
func (b *tab) signIn(agent string) {
	b.t.Helper()
	b.open("/inbox/signin")
	b.do("sign in",
		chromedp.SendKeys(chromedp.CSS("#email"), agents[agent].Email),
		chromedp.SendKeys(chromedp.CSS("#password"), secret),
		chromedp.Click(chromedp.CSS("#signin")),
		chromedp.WaitVisible(chromedp.CSS("#queue")))
}
