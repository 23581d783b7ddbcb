// Package jsoncheck finds what a JSON document may carry but Baton cannot
// keep: a NUL character (\u0000), which PostgreSQL refuses in text and jsonb
// and which no field of Baton's has a use for. The bot API's decoder and the
// desk adapters (after verifying a request) run NUL over the body, so such a
// request is refused as malformed, naming the field, on every store alike.
package jsoncheck

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/batonhq/baton"
)

// escaped is how a NUL appears in JSON text: encoding/json refuses a raw
// control character inside a string, so the escape is the only way in.
var escaped = []byte(`\u0000`)

// NUL returns an EBADREQUEST *baton.Error naming the JSON path of the first
// string or object key, in document order, holding a NUL character
// ("customer.name", "history[2].text", "metadata.foo"; a key is named with
// its NUL written \u0000), and nil when there is none. data that is not
// valid JSON gives nil: reporting that is the decoder's business. A body
// without the six bytes \u0000 is passed over without parsing.
func NUL(data []byte) error {
	if !bytes.Contains(data, escaped) {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	path, found, err := walk(dec, "")
	if err != nil || !found {
		return nil
	}
	field := path
	if field == "" {
		field = "body"
	}
	return &baton.Error{Code: baton.EBADREQUEST, Field: field, Message: "must not contain a NUL character (\\u0000)"}
}

// walk reads one value from dec and reports the path of the first NUL in it.
func walk(dec *json.Decoder, path string) (string, bool, error) {
	tok, err := dec.Token()
	if err != nil {
		return "", false, err
	}
	switch t := tok.(type) {
	case string:
		return path, strings.ContainsRune(t, 0), nil
	case json.Delim:
		switch t {
		case '{':
			for dec.More() {
				ktok, err := dec.Token()
				if err != nil {
					return "", false, err
				}
				k, _ := ktok.(string)
				kp := strings.ReplaceAll(k, "\x00", `\u0000`)
				if path != "" {
					kp = path + "." + kp
				}
				if strings.ContainsRune(k, 0) {
					return kp, true, nil
				}
				if p, found, err := walk(dec, kp); err != nil || found {
					return p, found, err
				}
			}
		case '[':
			for i := 0; dec.More(); i++ {
				if p, found, err := walk(dec, fmt.Sprintf("%s[%d]", path, i)); err != nil || found {
					return p, found, err
				}
			}
		}
		_, err := dec.Token() // the closing delimiter
		return "", false, err
	}
	return "", false, nil
}
