package jsoncheck

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/batonhq/baton"
)

func TestText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body, field string // field "" means no error
	}{
		{"clean", `{"a":"b","c":[1,"d",{"e":null}]}`, ""},
		{"escaped backslash is not a NUL", `{"a":"\\u0000"}`, ""},
		{"not JSON", `{"a":"\u0000`, ""},
		{"top-level field", `{"conversation_id":"c\u0000"}`, "conversation_id"},
		{"nested field", `{"customer":{"id":"x","name":"A\u0000B"}}`, "customer.name"},
		{"list element", `{"history":[{"text":"a"},{"text":"b"},{"text":"\u0000"}]}`, "history[2].text"},
		{"map value", `{"metadata":{"ok":"1","foo":"\u0000"}}`, "metadata.foo"},
		{"map key", `{"metadata":{"f\u0000o":"x"}}`, `metadata.f\u0000o`},
		{"first in document order", `{"z":"\u0000","a":"\u0000"}`, "z"},
		{"string in a list", `{"days":["mon","\u0000"]}`, "days[1]"},
		{"top-level string", `"\u0000"`, "body"},
		{"after numbers and booleans", `{"n":1.5,"b":true,"s":"x\u0000"}`, "s"},
		{"invalid UTF-8 bytes", "{\"a\":\"ok\",\"text\":\"bad\xff\xfebytes\"}", "text"},
		{"invalid UTF-8 in a key", "{\"metadata\":{\"k\xff\":\"v\"}}", "metadata.k\ufffd"},
		{"unpaired surrogate", `{"name":"x\ud800y"}`, "name"},
		{"paired surrogates are fine", `{"name":"\ud83d\ude00"}`, ""},
		{"U+FFFD sent as such is fine", "{\"a\":\"\uFFFD \ufffd \xef\xbf\xbd\"}", ""},
		{"invalid UTF-8 outside strings is the decoder's business", "{\"a\":1}\xff", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := Text([]byte(tt.body))
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Text(%s) = %v, want nil", tt.body, err)
				}
				return
			}
			if baton.ErrorCode(err) != baton.EBADREQUEST || baton.ErrorField(err) != tt.field {
				t.Fatalf("Text(%s) = %v, want bad_request naming %q", tt.body, err, tt.field)
			}
		})
	}
}

// FuzzText checks that Text refuses exactly what the decoder would not keep
// as sent: when it passes a valid document, no decoded string holds a NUL or
// a U+FFFD the sender did not write; when it refuses, it names a field.
func FuzzText(f *testing.F) {
	for _, s := range []string{`{"a":"b"}`, `{"a":"\u0000"}`, "{\"a\":\"\xff\"}", `{"a":"\ud800"}`, `{"a":"\ud83d\ude00"}`, `["\ufffd"]`, `{"k\u0000":1}`, `"x"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		err := Text(data)
		if err != nil {
			if baton.ErrorCode(err) != baton.EBADREQUEST || baton.ErrorField(err) == "" {
				t.Fatalf("Text(%q) = %v: not a bad request naming a field", data, err)
			}
			return
		}
		var v any
		if json.Unmarshal(data, &v) != nil {
			return
		}
		sentFFFD := bytes.Contains(data, []byte("\uFFFD")) || bytes.Contains(bytes.ToLower(data), []byte(`\ufffd`))
		var check func(any)
		check = func(v any) {
			switch v := v.(type) {
			case string:
				if strings.ContainsRune(v, 0) || (strings.ContainsRune(v, utf8.RuneError) && !sentFFFD) {
					t.Fatalf("Text(%q) passed a document that decodes to %q", data, v)
				}
			case []any:
				for _, x := range v {
					check(x)
				}
			case map[string]any:
				for k, x := range v {
					check(k)
					check(x)
				}
			}
		}
		check(v)
	})
}
