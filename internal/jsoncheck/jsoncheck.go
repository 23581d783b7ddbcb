// Package jsoncheck finds what a JSON document may carry but Baton cannot
// keep as sent: a NUL character (\u0000), which PostgreSQL refuses in text
// and jsonb and which no field of Baton's has a use for, and text that is not
// UTF-8 (raw invalid bytes, or an escaped lone surrogate such as \ud800),
// which encoding/json would quietly turn into U+FFFD, so that two different
// ids would become one. The bot API's decoder and the desk adapters (after
// verifying a request) run Text over the body, so such a request is refused
// as malformed, naming the field, on every store alike.
package jsoncheck

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/batonhq/baton"
)

// Markers of a body worth walking: a NUL can only come in escaped (the
// decoder refuses a raw control character in a string), and a surrogate
// only as an escape \uD800-\uDFFF.
var (
	escapedNUL = []byte(`\u0000`)
	surrogate  = [][]byte{[]byte(`\ud`), []byte(`\uD`)}
	// replacement is U+FFFD as sent, raw or escaped (in lower case, as the
	// raw bytes are compared): a decoded U+FFFD that was sent as such is
	// the sender's text, not a repair.
	replacement = [][]byte{[]byte("\uFFFD"), []byte(`\ufffd`)}
)

// Text returns an EBADREQUEST *baton.Error naming the JSON path of the first
// string or object key, in document order, holding a NUL character or text
// that is not UTF-8 ("customer.name", "history[2].text", "metadata.foo"; a
// key is named with a NUL written \u0000), and nil when there is none. data
// that is not valid JSON gives nil: reporting that is the decoder's
// business. A body with neither marker is passed over without parsing.
func Text(data []byte) error {
	if !bytes.Contains(data, escapedNUL) && utf8.Valid(data) && !bytes.Contains(data, surrogate[0]) && !bytes.Contains(data, surrogate[1]) {
		return nil
	}
	w := walker{dec: json.NewDecoder(bytes.NewReader(data)), data: data}
	w.dec.UseNumber()
	path, why, err := w.value("")
	if err != nil || why == "" {
		return nil
	}
	if path == "" {
		path = "body"
	}
	return &baton.Error{Code: baton.EBADREQUEST, Field: path, Message: why}
}

// walker reads a document token by token, keeping where the last one ended
// so that each string can be checked as it was sent.
type walker struct {
	dec  *json.Decoder
	data []byte
	end  int64 // offset just past the last token read
}

// token reads the next token and the bytes it came from (with any
// separators before it).
func (w *walker) token() (json.Token, []byte, error) {
	tok, err := w.dec.Token()
	if err != nil {
		return nil, nil, err
	}
	start, end := w.end, w.dec.InputOffset()
	w.end = end
	return tok, w.data[start:end], nil
}

// bad says what is wrong with a decoded string s sent as raw, or "".
func bad(s string, raw []byte) string {
	switch {
	case strings.ContainsRune(s, 0):
		return "must not contain a NUL character (\\u0000)"
	case strings.ContainsRune(s, utf8.RuneError) && !bytes.Contains(raw, replacement[0]) && !bytes.Contains(bytes.ToLower(raw), replacement[1]):
		return "must be UTF-8 text (it holds invalid bytes or an unpaired surrogate escape)"
	}
	return ""
}

// value reads one value and reports the path of the first bad string in it
// and what is wrong with it.
func (w *walker) value(path string) (string, string, error) {
	tok, raw, err := w.token()
	if err != nil {
		return "", "", err
	}
	switch t := tok.(type) {
	case string:
		return path, bad(t, raw), nil
	case json.Delim:
		switch t {
		case '{':
			for w.dec.More() {
				ktok, kraw, err := w.token()
				if err != nil {
					return "", "", err
				}
				k, _ := ktok.(string)
				kp := strings.ReplaceAll(k, "\x00", `\u0000`)
				if path != "" {
					kp = path + "." + kp
				}
				if why := bad(k, kraw); why != "" {
					return kp, why, nil
				}
				if p, why, err := w.value(kp); err != nil || why != "" {
					return p, why, err
				}
			}
		case '[':
			for i := 0; w.dec.More(); i++ {
				if p, why, err := w.value(fmt.Sprintf("%s[%d]", path, i)); err != nil || why != "" {
					return p, why, err
				}
			}
		}
		_, _, err := w.token() // the closing delimiter
		return "", "", err
	}
	return "", "", nil
}
