package web_test

import (
	"bytes"
	"context"
	"html"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/batonhq/baton"
)

// postFile sends the reply form as the browser does with a file chosen:
// multipart/form-data, the file in the part named file.
func (f *fixture) postFile(c *http.Client, path string, fields map[string]string, filename string, data []byte) page {
	f.t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	w, _ := mw.CreateFormFile("file", filename)
	w.Write(data)
	mw.Close()
	req, _ := http.NewRequest("POST", f.srv.URL+path, &b)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Origin", f.srv.URL)
	res, err := c.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	return read(f.t, res)
}

// TestReplyWithFile sends a reply with a file from the inbox: the customer's
// bot gets a link that opens it, the transcript shows it; a refused file
// sends nothing, says why, and keeps the reply's text; a form without its
// CSRF token is refused before any file is kept.
func TestReplyWithFile(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	id := f.ask(apiKey1, "c-file", "Cleo", "Can you send the invoice?")
	c := f.client()
	f.signIn(c, ada)
	casePath := "/inbox/handoffs/" + id
	form := func() map[string]string {
		p := f.get(c, casePath)
		return map[string]string{"csrf": hidden(p.body, "csrf"), "idem": hidden(p.body, "idem")}
	}
	claim := form()
	if p := f.post(c, casePath+"/claim", url.Values{"csrf": {claim["csrf"]}, "idem": {claim["idem"]}}); p.status != http.StatusSeeOther {
		t.Fatalf("claim: %d", p.status)
	}
	kept := func() int {
		var n int
		f.store.DB().QueryRow(`SELECT count(*) FROM files`).Scan(&n)
		return n
	}

	// Refused: HTML, and a form without its token.
	fields := form()
	fields["text"] = "Here is <b>the</b> invoice"
	p := f.postFile(c, casePath+"/reply", fields, "invoice.html", []byte("<html><script>alert(1)</script>"))
	if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, "The file is text/html") || !strings.Contains(p.body, "Here is &lt;b&gt;the&lt;/b&gt; invoice</textarea>") {
		t.Fatalf("an HTML file: %d %s", p.status, p.body)
	}
	noToken := map[string]string{"text": "x"}
	if p := f.postFile(c, casePath+"/reply", noToken, "a.pdf", []byte("%PDF-1.4\n")); p.status != http.StatusForbidden {
		t.Fatalf("no CSRF token: %d", p.status)
	}
	if n := kept(); n != 0 {
		t.Fatalf("%d files kept after refusals", n)
	}

	pdf := []byte("%PDF-1.4\n% the invoice\n")
	fields = form()
	fields["text"] = "Here it is"
	if p := f.postFile(c, casePath+"/reply", fields, "invoice <1>.pdf", pdf); p.status != http.StatusSeeOther {
		t.Fatalf("reply with a file: %d %s", p.status, p.body)
	}
	// The same form again (a double click) sends nothing more.
	if p := f.postFile(c, casePath+"/reply", fields, "invoice <1>.pdf", pdf); p.status != http.StatusSeeOther {
		t.Fatalf("the same form again: %d", p.status)
	}
	_, ms, err := f.app.Engine.Transcript(context.Background(), ws1, id)
	if err != nil {
		t.Fatal(err)
	}
	var sent []baton.Message
	for _, m := range ms {
		if m.Author == baton.ByAgent {
			sent = append(sent, m)
		}
	}
	if len(sent) != 1 || sent[0].Text != "Here it is" || len(sent[0].Attachments) != 1 {
		t.Fatalf("agent messages %+v, want one with the file", sent)
	}
	att := sent[0].Attachments[0]
	if att.Name != "invoice <1>.pdf" || att.Type != "application/pdf" || att.Size != int64(len(pdf)) || !strings.HasPrefix(att.URL, f.srv.URL+"/files/") {
		t.Fatalf("attachment %+v", att)
	}
	res, err := http.Get(att.URL)
	if err != nil {
		t.Fatal(err)
	}
	if got := read(t, res); got.status != http.StatusOK || got.body != string(pdf) || got.header.Get("Content-Type") != "application/pdf" {
		t.Fatalf("the link: %d %q %q", got.status, got.body, got.header.Get("Content-Type"))
	}
	// The transcript links it, its name escaped.
	body := f.get(c, casePath).body
	link := regexp.MustCompile(`<a href="([^"]+)"[^>]*>invoice &lt;1&gt;.pdf</a> <span class="size">23 B</span>`).FindStringSubmatch(body)
	if link == nil || html.UnescapeString(link[1]) != att.URL {
		t.Fatalf("the transcript does not link the file: %s", body)
	}
}
