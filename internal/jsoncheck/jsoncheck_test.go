package jsoncheck

import (
	"testing"

	"github.com/batonhq/baton"
)

func TestNUL(t *testing.T) {
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
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := NUL([]byte(tt.body))
			if tt.field == "" {
				if err != nil {
					t.Fatalf("NUL(%s) = %v, want nil", tt.body, err)
				}
				return
			}
			if baton.ErrorCode(err) != baton.EBADREQUEST || baton.ErrorField(err) != tt.field {
				t.Fatalf("NUL(%s) = %v, want bad_request naming %q", tt.body, err, tt.field)
			}
		})
	}
}
