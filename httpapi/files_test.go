package httpapi_test

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/batonhq/baton"
)

// multipartBody is a multipart/form-data body with one part per name, each a
// file named filename holding data, and its Content-Type.
func multipartBody(t *testing.T, filename string, data []byte, names ...string) ([]byte, string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for _, n := range names {
		w, err := mw.CreateFormFile(n, filename)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
	}
	mw.Close()
	return b.Bytes(), mw.FormDataContentType()
}

// upload posts r (its path, key and offSpec) with one file in the parts
// named names ("file" when none).
func (f *fixture) upload(r req, filename string, data []byte, names ...string) res {
	f.t.Helper()
	if len(names) == 0 {
		names = []string{"file"}
	}
	body, ct := multipartBody(f.t.(*testing.T), filename, data, names...)
	r.method, r.body, r.header = "POST", body, map[string]string{"Content-Type": ct}
	return f.do(r)
}

// get fetches a link the server made, with no key.
func (f *fixture) get(link string) res {
	f.t.Helper()
	u, err := url.Parse(link)
	if err != nil || u.Scheme+"://"+u.Host != f.srv.URL {
		f.t.Fatalf("link %q is not the server's (%s)", link, f.srv.URL)
	}
	return f.do(req{method: "GET", path: u.RequestURI()})
}

var png = append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0, 1, 2, 3}, 64)...)

// TestFiles uploads files as a bot and as an agent, sends them in messages
// both ways and opens them by their links; forged, cut and cross-workspace
// links open nothing, and every refused upload names the part and keeps
// nothing.
func TestFiles(t *testing.T) {
	t.Parallel()
	for _, store := range stores {
		t.Run(store, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, withStore(store))

			att := must[baton.Attachment](t, f.upload(req{path: "/v1/files", key: key1}, "receipt.png", png), http.StatusCreated)
			if att.Name != "receipt.png" || att.Type != "image/png" || att.Size != int64(len(png)) || !strings.HasPrefix(att.URL, f.srv.URL+"/files/"+ws1+"/") {
				t.Fatalf("uploaded %+v", att)
			}
			got := f.get(att.URL)
			if got.status != http.StatusOK || !bytes.Equal(got.body, png) {
				t.Fatalf("GET the link: %d, %d bytes", got.status, len(got.body))
			}
			for k, want := range map[string]string{"Content-Type": "image/png", "X-Content-Type-Options": "nosniff",
				"Content-Security-Policy": "default-src 'none'; sandbox", "Content-Disposition": `inline; filename=receipt.png`} {
				if v := got.header.Get(k); v != want {
					t.Errorf("%s: %q, want %q", k, v, want)
				}
			}

			// The customer sends it; the agent claims, answers with a file of
			// its own, and the bot's event carries the agent's link.
			h := f.waitState(f.create("c-files").ID, "queued")
			f.do(req{method: "POST", path: "/v1/handoffs/" + h.ID + "/messages", key: key1, body: map[string]any{"text": "Here it is", "attachments": []baton.Attachment{att}}})
			tr := must[wireTranscript](t, f.do(req{method: "GET", path: "/v1/inbox/handoffs/" + h.ID + "/messages", key: agentKey1}), http.StatusOK)
			if last := tr.Messages[len(tr.Messages)-1]; len(last.Attachments) != 1 || last.Attachments[0].URL != att.URL {
				t.Fatalf("the agent's transcript ends with %+v", last)
			}
			must[wireHandoff](t, f.do(req{method: "POST", path: "/v1/inbox/handoffs/" + h.ID + "/claim", key: agentKey1}), http.StatusOK)
			notes := []byte("Your parcel left on Monday.\n")
			mine := must[baton.Attachment](t, f.upload(req{path: "/v1/inbox/files", key: agentKey1}, `..\..\notes.txt`, notes), http.StatusCreated)
			if mine.Name != "notes.txt" || mine.Type != "text/plain" {
				t.Errorf("agent's upload %+v: want the name's last element and text/plain", mine)
			}
			must[wireHandoff](t, f.do(req{method: "POST", path: "/v1/inbox/handoffs/" + h.ID + "/messages", key: agentKey1, body: map[string]any{"text": "", "attachments": []baton.Attachment{mine}}}), http.StatusCreated)
			var link string
			f.afterJobs(func() bool {
				for _, e := range f.events(0) {
					if e.Type == baton.EventAgentMessage {
						if atts, _ := e.Data["attachments"].([]any); len(atts) == 1 {
							link, _ = atts[0].(map[string]any)["url"].(string)
						}
					}
				}
				return link != ""
			})
			if link != mine.URL {
				t.Fatalf("agent.message carries %q, want %q", link, mine.URL)
			}
			if got := f.get(link); !bytes.Equal(got.body, notes) || got.header.Get("Content-Disposition") != "attachment; filename=notes.txt" {
				t.Errorf("the agent's file: %d %q %q", got.status, got.body, got.header.Get("Content-Disposition"))
			}

			// Links are only what Baton signed, for the workspace it signed.
			u, _ := url.Parse(att.URL)
			q := u.Query()
			forged := func(path string, q url.Values) string { return f.srv.URL + path + "?" + q.Encode() }
			bad := url.Values{"exp": q["exp"], "sig": {strings.Repeat("A", len(q.Get("sig")))}}
			later := url.Values{"exp": {"99999999999"}, "sig": q["sig"]}
			wantProblem(t, f.get(forged(u.Path, bad)), http.StatusForbidden, baton.EFORBIDDEN, "")
			wantProblem(t, f.get(forged(u.Path, later)), http.StatusForbidden, baton.EFORBIDDEN, "")
			wantProblem(t, f.get(forged(strings.Replace(u.Path, ws1, ws2, 1), q)), http.StatusForbidden, baton.EFORBIDDEN, "")
			noExp := req{method: "GET", path: u.Path + "?sig=" + q.Get("sig"), offSpec: true}
			wantProblem(t, f.do(noExp), http.StatusForbidden, baton.EFORBIDDEN, "")

			// Refused uploads.
			for _, c := range []struct {
				name, filename string
				data           []byte
				parts          []string
				offSpec        bool
				status         int
				code, field    string
			}{
				{"HTML", "page.html", []byte("<html><script>alert(1)</script></html>"), nil, false, 422, baton.EINVALID, "file"},
				{"SVG", "x.svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>`), nil, false, 422, baton.EINVALID, "file"},
				{"text named .html", "x.html", []byte("hello"), nil, false, 422, baton.EINVALID, "file"},
				{"a picture named .pdf", "x.pdf", png, nil, false, 422, baton.EINVALID, "file"},
				{"text named .bat", "run.bat", []byte("@echo off\r\nstart calc\r\n"), nil, false, 422, baton.EINVALID, "file"},
				{"a PDF named .hta", "x.hta", []byte("%PDF-1.4\n"), nil, false, 422, baton.EINVALID, "file"},
				{"a program", "a.exe", []byte("MZ\x90\x00\x03\x00\x00\x00"), nil, false, 422, baton.EINVALID, "file"},
				{"empty", "e.txt", nil, nil, false, 422, baton.EINVALID, "file"},
				{"no name", "", png, nil, false, 422, baton.EINVALID, "file"},
				{"too large", "big.txt", bytes.Repeat([]byte("a"), baton.MaxFileSize+1), nil, false, 413, baton.ETOOLARGE, "file"},
				{"another part", "a.png", png, []string{"file", "extra"}, true, 422, baton.EINVALID, "extra"},
				{"two files", "a.png", png, []string{"file", "file"}, false, 422, baton.EINVALID, "file"},
				{"no file part", "a.png", png, []string{"document"}, true, 422, baton.EINVALID, "document"},
			} {
				parts := c.parts
				if parts == nil {
					parts = []string{"file"}
				}
				wantProblem(t, f.upload(req{path: "/v1/files", key: key1, offSpec: c.offSpec}, c.filename, c.data, parts...), c.status, c.code, c.field)
			}
			wantProblem(t, f.do(req{method: "POST", path: "/v1/files", key: key1, body: map[string]any{"file": "x"}, offSpec: true}), http.StatusUnsupportedMediaType, baton.EMEDIATYPE, "")
			wantProblem(t, f.upload(req{path: "/v1/files", offSpec: true}, "a.png", png), http.StatusUnauthorized, baton.EUNAUTHORIZED, "")
			wantProblem(t, f.upload(req{path: "/v1/inbox/files", key: key1}, "a.png", png), http.StatusUnauthorized, baton.EUNAUTHORIZED, "")
			// The same upload under one Idempotency-Key (framed anew) keeps
			// one file; another file under that key is refused.
			keyed := req{path: "/v1/files", key: key1, header: map[string]string{"Idempotency-Key": "up-1"}}
			upload := func(r req, name string, data []byte) res {
				body, ct := multipartBody(t, name, data, "file")
				r.method, r.body = "POST", body
				r.header = map[string]string{"Content-Type": ct, "Idempotency-Key": r.header["Idempotency-Key"]}
				return f.do(r)
			}
			first := must[baton.Attachment](t, upload(keyed, "a.png", png), http.StatusCreated)
			again := upload(keyed, "a.png", png)
			if got := must[baton.Attachment](t, again, http.StatusCreated); got != first || again.header.Get("Idempotent-Replayed") != "true" {
				t.Errorf("the same upload again: %+v %q, want %+v replayed", got, again.header.Get("Idempotent-Replayed"), first)
			}
			wantProblem(t, upload(keyed, "b.png", png), http.StatusUnprocessableEntity, baton.EIDEMPOTENCY, "Idempotency-Key")
			var n int
			if err := f.store.DB().QueryRow(`SELECT count(*) FROM files`).Scan(&n); err != nil || n != 3 {
				t.Errorf("%d files kept (%v), want the 3 accepted", n, err)
			}

			// A deleted workspace's files are gone.
			must[map[string]any](t, f.do(req{method: "DELETE", path: "/v1/admin/workspaces/" + ws1 + "?force=true", key: adminKey}), http.StatusOK)
			wantProblem(t, f.get(att.URL), http.StatusNotFound, baton.ENOTFOUND, "")
		})
	}
}
