package web_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/engine"
)

// TestBrowserTwoAgents walks the inbox with two agents at once: a handoff
// made through the bot API arrives live in both queues; Ada claims it and
// it leaves Bob's queue without a reload; the customer's message appears
// live on Ada's page; her reply reaches the bot's events; she ends it. The
// pages carry the CSP, and read at a phone's width.
func TestBrowserTwoAgents(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	adaTab, bobTab := f.tab(t, "ada"), f.tab(t, "bob")
	adaTab.signIn(ada)
	bobTab.signIn(bob)
	for _, b := range []*tab{adaTab, bobTab} {
		b.untilText("#waiting-h", "Waiting 0")
		b.untilTitle("Baton inbox")
	}
	ctx, cancel := context.WithTimeout(adaTab.ctx, step)
	res, err := chromedp.Run(ctx, chromedp.NavigateResponse(f.srv.URL+"/inbox/"))
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	if csp, _ := res.Headers["Content-Security-Policy"].(string); !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("the queue's CSP is %q", csp)
	}

	id := f.ask(apiKey1, "c1", "Cleo Customer", "Where is my parcel?",
		baton.Turn{Author: baton.ByCustomer, Text: "Hi"}, baton.Turn{Author: baton.ByBot, Text: "Hello! How can I help?"})
	for _, b := range []*tab{adaTab, bobTab} {
		b.untilText("#open-"+id, "Cleo Customer")
		b.untilText("#waiting .latest", "Where is my parcel?")
		b.untilTitle("(1) Baton inbox")
	}
	adaTab.shot("queue")

	adaTab.do("claim", chromedp.Click(chromedp.CSS("#claim-"+id)), chromedp.WaitVisible(chromedp.CSS("#reply-text")))
	adaTab.untilText("#status", "Yours")
	bobTab.do("the claimed handoff leaves Bob's queue", chromedp.WaitNotPresent(chromedp.CSS("#open-"+id)))
	bobTab.untilText("#waiting-h", "Waiting 0")
	bobTab.untilTitle("Baton inbox")

	// The transcript: the history rounds marked, then the question.
	if n := eval[int](adaTab, `document.querySelectorAll('#transcript .msg.history').length`); n != 2 {
		t.Errorf("%d history messages marked, want 2", n)
	}
	adaTab.untilText("#transcript .msg:nth-child(3) .text", "Where is my parcel?")
	if eval[bool](adaTab, `document.querySelector('#transcript .msg:nth-child(3)').classList.contains('history')`) {
		t.Error("the question is marked as history")
	}
	adaTab.untilText(".facts", "plan")
	adaTab.untilText(".facts", "c1@customer.example")

	f.api(apiKey1, "POST", "/v1/handoffs/"+id+"/messages", map[string]any{"text": "It was due on Monday."}, http.StatusCreated, nil)
	adaTab.untilText("#transcript", "It was due on Monday.")
	adaTab.untilText("#announce", "New message from Cleo Customer")

	adaTab.do("reply", chromedp.SendKeys(chromedp.CSS("#reply-text"), "Let me check, Cleo."), chromedp.Click(chromedp.CSS("#send")))
	adaTab.untilText("#transcript .by-agent", "Let me check, Cleo.")
	f.until("the reply in the bot's events", func() bool {
		return slices.Contains(f.events(), "handoff.agent_message Let me check, Cleo.")
	})
	adaTab.shot("handoff")

	adaTab.do("end", chromedp.Click(chromedp.CSS("#end")))
	adaTab.untilText("#status", "Ended: an agent ended it")
	// Hidden and not shown: a stylesheet must not undo the attribute.
	adaTab.until("the reply form hidden", `(function(){var f=document.getElementById('reply');return f.hidden && getComputedStyle(f).display==='none' && f.offsetHeight===0})()`)
	f.until("handoff.ended in the bot's events", func() bool {
		return slices.Contains(f.events(), "handoff.ended")
	})

	// At a phone's width nothing runs off the side.
	adaTab.do("phone width", chromedp.EmulateViewport(360, 740, chromedp.EmulateMobile))
	adaTab.open("/inbox/handoffs/" + id)
	adaTab.untilText("#status", "Ended")
	if w := eval[[]int](adaTab, `[document.documentElement.scrollWidth, document.documentElement.clientWidth]`); w[0] > w[1] {
		t.Errorf("at 360px the page is %dpx wide", w[0])
	}
	adaTab.shot("phone")
}

// TestBrowserKeyboard signs in, claims and replies with the keyboard alone:
// Tab moves the focus, visibly, to the claim button, and Enter presses it;
// past the reply and the file field, Tab reaches Send.
func TestBrowserKeyboard(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	id := f.ask(apiKey1, "c1", "Kim", "Can a person help me?")
	b := f.tab(t, "ada")
	b.open("/inbox/signin")
	b.until("the email field focused", `document.activeElement && document.activeElement.id === 'email'`)
	b.do("sign in by keyboard",
		chromedp.KeyEvent(agents[ada].Email), chromedp.KeyEvent(kb.Tab),
		chromedp.KeyEvent(secret), chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(chromedp.CSS("#claim-"+id)))
	for range 12 {
		if eval[string](b, `document.activeElement ? document.activeElement.id : ''`) == "claim-"+id {
			break
		}
		b.do("tab", chromedp.KeyEvent(kb.Tab))
	}
	b.until("the claim button focused", `document.activeElement.id === `+js("claim-"+id))
	if style := eval[string](b, `getComputedStyle(document.activeElement).outlineStyle`); style == "none" {
		t.Errorf("the focused claim button shows no outline")
	}
	b.shot("focus")
	b.do("press Enter", chromedp.KeyEvent(kb.Enter))
	b.untilText("#status", "Yours")
	b.until("the reply field focused", `document.activeElement && document.activeElement.id === 'reply-text'`)
	b.do("reply by keyboard", chromedp.KeyEvent("Hello Kim, I am here."), chromedp.KeyEvent(kb.Tab), chromedp.KeyEvent(kb.Tab), chromedp.KeyEvent(kb.Enter))
	b.untilText("#transcript .by-agent", "Hello Kim, I am here.")
	// Every form control has a label.
	if n := eval[int](b, `Array.from(document.querySelectorAll('input:not([type=hidden]), textarea, select')).filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')).length`); n != 0 {
		t.Errorf("%d form controls without a label", n)
	}
}

// TestBrowserEscaped shows a customer named with HTML: the name is text
// everywhere, no element of it exists, no script of it ran.
func TestBrowserEscaped(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	const name = `<script>window.pwned=1</script><b id="bold">Mallory</b>`
	id := f.ask(apiKey1, "c1", name, `<img id="img" src="data:," onerror="window.pwned=2">`)
	b := f.tab(t, "ada")
	b.signIn(ada)
	b.untilText("#open-"+id, name)
	b.open("/inbox/handoffs/" + id)
	b.untilText("#customer-h", name)
	b.untilText("#transcript", `<img id="img"`)
	if eval[bool](b, `!!(window.pwned || document.getElementById('bold') || document.getElementById('img'))`) {
		t.Fatal("the customer's HTML became elements or ran")
	}
	b.shot("escaped")
}

// TestBrowserForgedCSRF sends the claim form with a forged token: a 403
// page, and the handoff is nobody's.
func TestBrowserForgedCSRF(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	id := f.ask(apiKey1, "c1", "Cleo", "Hello?")
	b := f.tab(t, "ada")
	b.allow("status of 403") // the forbidden page, asked for
	b.signIn(ada)
	b.do("forge the token", chromedp.WaitVisible(chromedp.CSS("#claim-"+id)),
		chromedp.SetAttributeValue(chromedp.CSS(`#waiting form input[name=csrf]`), "value", "forged"),
		chromedp.Click(chromedp.CSS("#claim-"+id)))
	b.untilText("#alert", "nothing was changed")
	b.untilText("#error-h", "Forbidden")
	if h, _ := f.app.Engine.Handoff(context.Background(), ws1, id); h.Agent.ID != "" {
		t.Fatalf("the forged form claimed the handoff: %+v", h.Agent)
	}
	b.shot("forbidden")
}

// TestBrowserSignIn tries a wrong password (the page says so, naming
// neither field, and keeps the email), signs in, and has the session end
// live when the agent is disabled: the open page goes to the sign-in page.
func TestBrowserSignIn(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	b := f.tab(t, "ada")
	b.allow("status of 401") // the refused sign-in, asked for
	b.open("/inbox/signin")
	b.do("a wrong password",
		chromedp.SendKeys(chromedp.CSS("#email"), agents[ada].Email),
		chromedp.SendKeys(chromedp.CSS("#password"), "not the password at all"),
		chromedp.Click(chromedp.CSS("#signin")))
	b.untilText("#alert", "Wrong email or password.")
	if v := eval[string](b, `document.getElementById('email').value`); v != agents[ada].Email {
		t.Errorf("the email field holds %q after a refusal", v)
	}
	b.until("the password field focused", `document.activeElement.id === 'password'`)
	b.shot("refused")
	b.do("the right password", chromedp.SendKeys(chromedp.CSS("#password"), secret), chromedp.Click(chromedp.CSS("#signin")),
		chromedp.WaitVisible(chromedp.CSS("#queue")))

	if _, err := f.app.Engine.UpdateAgent(context.Background(), ws1, ada, engine.AgentUpdate{Disabled: engine.To(true)}); err != nil {
		t.Fatal(err)
	}
	b.untilText("#alert", "Your session has ended.")
	b.until("the sign-in page", `location.pathname === '/inbox/signin'`)
	b.open("/inbox/")
	b.untilText("#signin-h", "Sign in")
}

// TestBrowserClaimRacePostgres has two agents press Claim on the same
// handoff at once, on PostgreSQL: exactly one holds it; the other's page
// says who does.
func TestBrowserClaimRacePostgres(t *testing.T) {
	t.Parallel()
	f := newFixture(t, true)
	id := f.ask(apiKey1, "c1", "Cleo", "Hello?")
	tabs := []*tab{f.tab(t, "ada"), f.tab(t, "bob")}
	for i, who := range []string{ada, bob} {
		tabs[i].allow("status of 409") // the loser's claim
		tabs[i].signIn(who)
		tabs[i].open("/inbox/handoffs/" + id)
		tabs[i].do("the claim button", chromedp.WaitVisible(chromedp.CSS("#claim")))
	}
	var wg sync.WaitGroup
	for _, b := range tabs {
		wg.Go(func() {
			// Pressed in the page in one step: the other agent's claim may
			// re-render the page at any moment, and a node found first
			// and clicked after may be gone by then.
			ctx, cancel := context.WithTimeout(b.ctx, step)
			defer cancel()
			if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(function(){var c=document.getElementById('claim');if(c){c.click()}return !!c})()`)); err != nil {
				t.Errorf("%s: claim: %v", b.name, err)
			}
		})
	}
	wg.Wait()
	for _, b := range tabs {
		b.until("a settled status", `(function(){var s=document.getElementById('status');return !!s && /Yours|Held by/.test(s.textContent)})()`)
	}
	h, err := f.app.Engine.Handoff(context.Background(), ws1, id)
	if err != nil || h.Agent.ID == "" {
		t.Fatalf("nobody holds it: %+v, %v", h.Agent, err)
	}
	yours := 0
	for _, b := range tabs {
		switch status := eval[string](b, `document.getElementById('status').textContent`); {
		case status == "Yours":
			yours++
		case status != "Held by "+agents[h.Agent.ID].Name:
			t.Errorf("%s's page says %q; %s holds it", b.name, status, h.Agent.ID)
		}
	}
	if yours != 1 {
		t.Errorf("%d pages say Yours", yours)
	}
}
