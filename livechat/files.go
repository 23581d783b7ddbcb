package livechat

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strings"
	"unicode/utf8"

	baton "github.com/batonhq/baton"
)

// maxText is the longest message text LiveChat takes (16 KB).
const maxText = 16 << 10

// outgoing is one message ready for send_event: its text (with links for
// the files that could not be uploaded) and the LiveChat URLs of the files
// that were.
type outgoing struct {
	text  string
	files []string
}

// uploader uploads one file to LiveChat and returns its URL.
type uploader func(ctx context.Context, name, contentType string, data []byte) (string, error)

// prepare fetches and uploads m's attachments. A file that is too big,
// cannot be fetched or is refused by LiveChat degrades visibly: it becomes a
// line "File: <name> <url> (<why>)" in the text. Temporary failures of the
// upload (and refused credentials) are returned: nothing has been sent yet,
// so the whole message can be retried.
func (c *core) prepare(ctx context.Context, m baton.Message, upload uploader) (outgoing, error) {
	out := outgoing{text: m.Text}
	var links []string
	for _, a := range m.Attachments {
		name := fileName(a)
		data, ctype, why := c.fetch(ctx, a)
		if why == "" {
			u, err := upload(ctx, name, ctype, data)
			var de *baton.DeskError
			switch {
			case err == nil:
				out.files = append(out.files, u)
				continue
			case errors.As(err, &de) && de.Permanent:
				why = "LiveChat refused the upload: " + errMessage(err)
			default:
				return out, err
			}
		}
		links = append(links, fmt.Sprintf("File: %s %s (%s)", name, a.URL, why))
	}
	if len(links) > 0 {
		if strings.TrimSpace(out.text) != "" {
			out.text += "\n\n"
		}
		out.text += strings.Join(links, "\n")
	}
	out.text = limitText(out.text)
	return out, nil
}

// fetch downloads an attachment, at most MaxFileSize bytes. It returns why
// it could not ("" when it could).
func (c *core) fetch(ctx context.Context, a baton.Attachment) ([]byte, string, string) {
	u, err := url.Parse(a.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, "", "not an http or https URL"
	}
	if a.Size > MaxFileSize {
		return nil, "", tooLarge(a.Size)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.URL, nil)
	if err != nil {
		return nil, "", "not fetchable"
	}
	req.Header.Set("User-Agent", "Baton-livechat")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, "", "could not be fetched"
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, "", fmt.Sprintf("could not be fetched: HTTP %d", resp.StatusCode)
	}
	if resp.ContentLength > MaxFileSize {
		return nil, "", tooLarge(resp.ContentLength)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxFileSize+1))
	if err != nil {
		return nil, "", "could not be fetched"
	}
	if len(data) > MaxFileSize {
		return nil, "", tooLarge(-1)
	}
	ctype := a.Type
	if ctype == "" {
		ctype = resp.Header.Get("Content-Type")
	}
	if mt, _, err := mime.ParseMediaType(ctype); err == nil {
		ctype = mt
	} else {
		ctype = "application/octet-stream"
	}
	return data, ctype, ""
}

func tooLarge(size int64) string {
	if size < 0 {
		return "over LiveChat's 10 MB limit"
	}
	return fmt.Sprintf("%.1f MB, over LiveChat's 10 MB limit", float64(size)/(1<<20))
}

// fileName is the attachment's name, else the last part of its URL path.
func fileName(a baton.Attachment) string {
	if n := strings.TrimSpace(a.Name); n != "" {
		return n
	}
	if u, err := url.Parse(a.URL); err == nil {
		if b := path.Base(u.Path); b != "." && b != "/" && b != "" {
			return b
		}
	}
	return "file"
}

// textOf renders a history turn's text with its attachments as links.
func textOf(m baton.Message) string {
	text := m.Text
	for _, a := range m.Attachments {
		if strings.TrimSpace(text) != "" {
			text += "\n"
		}
		text += fmt.Sprintf("File: %s %s", fileName(a), a.URL)
	}
	return text
}

// limitText cuts a text to LiveChat's 16 KB, on a character boundary.
func limitText(s string) string {
	if len(s) <= maxText {
		return s
	}
	cut := maxText - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// errMessage is LiveChat's message in err, else err's text.
func errMessage(err error) string {
	var ae *APIError
	if errors.As(err, &ae) {
		if ae.Message != "" {
			return ae.Message
		}
		return ae.Type
	}
	return err.Error()
}
