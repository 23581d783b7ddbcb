package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// tabTo presses Tab until the focused element matches the JavaScript
// condition on e (the focused element), failing the test after max presses.
func (b *tab) tabTo(what, cond string, max int) {
	b.t.Helper()
	test := `(function(){var e=document.activeElement;return !!e && (` + cond + `)})()`
	for range max {
		if eval[bool](b, test) {
			return
		}
		b.do("tab to "+what, chromedp.KeyEvent(kb.Tab))
	}
	b.until(what+" focused", test)
}

// focusVisible fails the test unless the focused element draws an outline.
func (b *tab) focusVisible(what string) {
	b.t.Helper()
	if style := eval[string](b, `getComputedStyle(document.activeElement).outlineStyle`); style == "none" {
		b.t.Errorf("%s: the focused element shows no outline", what)
	}
}

// labelled fails the test unless every form control of the page has a label.
func (b *tab) labelled(what string) {
	b.t.Helper()
	if n := eval[int](b, `Array.from(document.querySelectorAll('input:not([type=hidden]):not([aria-hidden=true]), textarea, select')).filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')).length`); n != 0 {
		b.t.Errorf("%s: %d form controls without a label", what, n)
	}
}

// TestConsoleBrowserKeyboard uses the console with the keyboard alone
// (Tab, Enter, arrows and typing; no click): it signs in, makes a read-only
// API key and sees its secret once, then adds an inbox agent.
func TestConsoleBrowserKeyboard(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	f.addAdmin("adm_one", adminKey1, "ops")
	b := f.tab(t, "keyboard")
	b.open("/console/signin")
	b.tabTo("the admin key", `e.id === 'key'`, 5)
	b.do("sign in", chromedp.KeyEvent(adminKey1), chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(chromedp.CSS("#workspaces")))

	b.tabTo("the workspace", `e.getAttribute('href') === '/console/ws/ws_one/'`, 10)
	b.focusVisible("the workspace link")
	b.do("open the workspace", chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(chromedp.CSS("#desks")))
	b.tabTo("API keys", `e.id === 'nav-keys'`, 15)
	b.focusVisible("the API keys link")
	b.shot("0-workspace")
	b.do("open the keys", chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(chromedp.CSS("#new-key")))
	b.labelled("the keys page")

	b.tabTo("the key's name", `e.id === 'key-name'`, 25)
	b.do("name the key", chromedp.KeyEvent("Deploy <script>"), chromedp.KeyEvent(kb.Tab))
	b.until("the scope focused", `document.activeElement.id === 'key-scope'`)
	b.focusVisible("the scope")
	b.do("read scope", chromedp.KeyEvent(kb.ArrowDown))
	b.until("the read scope chosen", `document.getElementById('key-scope').value === 'read'`)
	b.tabTo("the make button", `e.id === 'create-key'`, 5)
	b.focusVisible("the make button")
	b.do("make the key", chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(chromedp.CSS("#made")))
	b.untilText("#made", "Copy it now: it will not be shown again.")
	b.untilText("#made-h", "Deploy <script>")
	secret := eval[string](b, `document.getElementById('new-secret').value`)
	if !strings.HasPrefix(secret, "bk_") {
		t.Fatalf("the shown secret: %q", secret)
	}
	b.untilText("#keys", "read")
	b.shot("1-key-shown-once")
	keys, err := f.app.Engine.Keys(context.Background(), ws1)
	if err != nil || len(keys) != 2 || keys[1].Scope != "read" || keys[1].Name != "Deploy <script>" {
		t.Fatalf("the keys: %+v %v", keys, err)
	}

	// Back to the list: the secret is not shown again.
	b.tabTo("API keys", `e.id === 'nav-keys'`, 15)
	b.do("the keys again", chromedp.KeyEvent(kb.Enter))
	b.until("the list without the secret", `!document.getElementById('made') && !!document.getElementById('keys')`)
	if eval[bool](b, `document.documentElement.outerHTML.includes(`+js(secret)+`)`) {
		t.Fatal("the keys page shows the secret again")
	}
	b.untilText("#keys", secret[:9])

	// An inbox agent.
	b.tabTo("Inbox agents", `e.id === 'nav-agents'`, 15)
	b.do("open the agents", chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(chromedp.CSS("#new-agent")))
	b.labelled("the agents page")
	b.tabTo("the agent's name", `e.id === 'agent-name'`, 40)
	b.do("fill in the agent",
		chromedp.KeyEvent("Kit"), chromedp.KeyEvent(kb.Tab),
		chromedp.KeyEvent("kit@one.example"), chromedp.KeyEvent(kb.Tab),
		chromedp.KeyEvent("a long password"), chromedp.KeyEvent(kb.Tab))
	b.until("the desk focused", `document.activeElement.id === 'agent-desk'`)
	b.focusVisible("the desk")
	b.do("pick the desk", chromedp.KeyEvent(kb.End))
	b.until("a desk chosen", `document.getElementById('agent-desk').value !== ''`)
	desk := eval[string](b, `document.getElementById('agent-desk').value`)
	b.tabTo("the add button", `e.id === 'create-agent'`, 5)
	b.shot("2-agent-form")
	b.do("add the agent", chromedp.KeyEvent(kb.Enter))
	b.untilText("#notice", "Agent added")
	b.untilText("#agents", "Kit")
	b.untilText("#agents", "kit@one.example")
	b.shot("3-agent-added")
	as, err := f.app.Engine.Agents(context.Background(), ws1)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, a := range as {
		found = found || a.Name == "Kit" && a.Email == "kit@one.example" && a.DeskID == desk && a.PasswordHash != ""
	}
	if !found {
		t.Fatalf("no agent Kit on %s: %+v", desk, as)
	}
}
