package demo

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserDemo walks the whole demo in three browsers: Ana and Ben sign
// in to the web inbox; the customer asks for a person in the widget and
// gives the email asked for; the handoff arrives in both queues live; Ana
// claims it and it leaves Ben's; Ana and the customer exchange messages and
// a file each way, each seeing the other type, the customer seeing Ana has
// read; the customer sees Ana's name, her words and her file;
// Ana ends the chat and the customer sees the end.
func TestBrowserDemo(t *testing.T) {
	t.Parallel()
	b, base := running(t)
	dir := t.TempDir()
	invoice := filepath.Join(dir, "invoice.pdf")
	photo := filepath.Join(dir, "parcel.png")
	os.WriteFile(invoice, []byte("%PDF-1.4\n% the invoice\n"), 0o644)
	os.WriteFile(photo, append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 64)...), 0o644)

	signIn := func(name, email string) *tab {
		a := newTab(t, name)
		a.do("open the sign-in page", chromedp.Navigate(base+"/inbox/signin"))
		a.focused("#email") // autofocus, before typing there
		a.do("sign in", chromedp.SendKeys(chromedp.CSS("#email"), email), chromedp.SendKeys(chromedp.CSS("#password"), AgentPassword),
			chromedp.Click(chromedp.CSS("#signin")), chromedp.WaitVisible(chromedp.CSS("#waiting-empty")))
		return a
	}
	ana, ben := signIn("ana", AgentEmail), signIn("ben", SecondEmail)

	c := newCustomer(t)
	c.do("open the chat", chromedp.Navigate(b.CustomerPage()), chromedp.WaitVisible(chromedp.CSS(".baton-chat-open")),
		chromedp.Click(chromedp.CSS(".baton-chat-open")))
	c.do("write", chromedp.SendKeys(chromedp.CSS("#baton-chat-input"), "My parcel arrived broken.\r"))
	c.untilText(".baton-chat-log", "demo bot")
	c.do("ask for a person", chromedp.Click(chromedp.CSS(".baton-chat-human")))
	c.focused("#baton-chat-email-input")
	c.do("give the email", chromedp.SendKeys(chromedp.CSS("#baton-chat-email-input"), "sam@example.com\r"))
	c.untilText(".baton-chat-status", "you are number 1")

	// It arrives in both queues, live.
	for _, a := range []*tab{ana, ben} {
		a.untilText("#waiting", "My parcel arrived broken.")
	}
	id := eval[string](ana, `document.querySelector('#waiting [id^="claim-"]').id.slice(6)`)
	ana.do("claim", chromedp.Click(chromedp.CSS("#claim-"+id)))
	ana.untilText("#status", "Yours")
	ben.until("the handoff gone from Ben's queue", `!document.getElementById(`+jsString("claim-"+id)+`)`)
	ben.shot("claimed-by-ana")
	c.untilText(".baton-chat-status", "Ana has joined the chat.")

	// Ana answers with words and a file; the customer sees her typing.
	ana.do("type", chromedp.SendKeys(chromedp.CSS("#reply-text"), "Sorry!"))
	c.until("Ana typing", `(function(){var e=document.querySelector(".baton-chat-typing");return !e.hidden && e.textContent === "Ana is typing…"})()`)
	ana.do("answer with a file", chromedp.SetUploadFiles(chromedp.CSS("#reply-file"), []string{invoice}),
		chromedp.SendKeys(chromedp.CSS("#reply-text"), " Here is your invoice."), chromedp.Click(chromedp.CSS("#send")))
	c.until("Ana's typing gone with her message", `document.querySelector(".baton-chat-typing").hidden`)
	ana.untilText("#transcript .by-agent", "invoice.pdf")
	c.untilText(".baton-chat-agent", "Sorry! Here is your invoice.")
	c.untilText(".baton-chat-agent .baton-chat-who", "Ana")
	c.untilText(".baton-chat-agent .baton-chat-file-link", "invoice.pdf")
	link := eval[string](c, `document.querySelector('.baton-chat-agent .baton-chat-file-link').href`)
	if got := fetch(t, link); got != "%PDF-1.4\n% the invoice\n" {
		t.Errorf("the customer's link to Ana's file gives %q", got)
	}

	// The customer answers with words and a photo; Ana sees the customer
	// typing, and the customer sees that Ana has read it.
	c.do("type", chromedp.SendKeys(chromedp.CSS("#baton-chat-input"), "Thanks,"))
	ana.untilText("#typing", "Website visitor is typing…")
	c.do("answer", chromedp.SendKeys(chromedp.CSS("#baton-chat-input"), " here is a photo.\r"))
	c.untilText(".baton-chat-customer:last-child .baton-chat-seen", "Seen")
	ana.until("the customer's typing gone with the message", `!document.getElementById("typing") || document.getElementById("typing").hidden`)
	c.do("send a photo", chromedp.SetUploadFiles(chromedp.CSS("#baton-chat-file"), []string{photo}))
	c.untilText(".baton-chat-customer .baton-chat-file-link", "parcel.png")
	ana.untilText("#transcript", "Thanks, here is a photo.")
	ana.until("the photo in the transcript", `Array.from(document.querySelectorAll("#transcript .by-customer")).some(e => e.textContent.includes("parcel.png"))`)
	link = eval[string](ana, `Array.from(document.querySelectorAll('#transcript .by-customer .files a')).pop().href`)
	if got := fetch(t, link); !strings.HasPrefix(got, "\x89PNG") {
		t.Errorf("Ana's link to the customer's photo gives %q", got)
	}
	ana.shot("talking")
	c.shot("talking")

	ana.do("end", chromedp.Click(chromedp.CSS("#end")))
	c.untilText(".baton-chat-ended", "The chat with a person has ended.")
	c.shot("ended")
}

// eval evaluates a JavaScript expression in tab a.
func eval[T any](a *tab, expr string) T {
	a.t.Helper()
	v, err := chromedp.Run(a.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		a.t.Fatalf("%s: evaluating %s: %v", a.name, expr, err)
	}
	return v
}

// fetch reads what a link gives.
func fetch(t *testing.T, link string) string {
	t.Helper()
	res, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", link, res.StatusCode, b)
	}
	return string(b)
}
