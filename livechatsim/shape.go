package livechatsim

import (
	"embed"
	"encoding/json"
	"fmt"
	"strconv"
)

//go:embed testdata/*.json
var fixtures embed.FS

// Fixture returns a testdata fixture: a documented LiveChat example payload
// (see testdata/README.md), e.g. "send_event_request.json" or
// "incoming_event.json"; nil if there is none.
func Fixture(name string) []byte {
	b, err := fixtures.ReadFile("testdata/" + name)
	if err != nil {
		return nil
	}
	return b
}

// Shape compares a JSON body with a fixture by shape: the same keys and
// JSON types, recursively; values may differ. Keys the docs mark optional
// may be missing, never added. It returns the differences.
func Shape(fixture, body []byte) []string { return compare(fixture, body, false) }

// RequestShape compares a request body with a request fixture: any key may
// be missing (request parameters are mostly optional), but a key the fixture
// lacks or a different JSON type is a difference.
func RequestShape(fixture, body []byte) []string { return compare(fixture, body, true) }

func compare(fixture, body []byte, partial bool) []string {
	var want, got any
	if err := json.Unmarshal(fixture, &want); err != nil {
		return []string{"fixture: " + err.Error()}
	}
	if err := json.Unmarshal(body, &got); err != nil {
		return []string{"body: " + err.Error()}
	}
	return shape("$", want, got, partial)
}

// optional are keys the docs mark optional in answers and webhooks.
var optional = map[string]bool{
	"queue": true, "tags": true, "previous_thread_id": true, "next_thread_id": true, "custom_id": true,
	"data": true, "event_ids": true, "next_page_id": true, "previous_page_id": true, "chat_properties": true,
	"chat_presence_user_ids": true, "additional_data": true, "properties": true, "user_id": true,
	"requester_id": true,
}

// customerOptional are the optional keys of customer user objects.
var customerOptional = map[string]bool{"name": true, "email": true, "avatar": true, "phone_number": true,
	"agent_last_event_created_at": true, "customer_last_event_created_at": true}

// freeform keys hold arbitrary JSON of the fixture's kind.
var freeform = map[string]bool{"properties": true, "chat_properties": true, "session_fields": true,
	"text_vars": true, "filters": true}

// dicts are objects with arbitrary keys whose values share one shape.
var dicts = map[string]bool{"last_event_per_type": true, "agent_priorities": true}

func jsonKind(v any) string {
	switch v.(type) {
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

func shape(path string, want, got any, partial bool) []string {
	if jsonKind(want) != jsonKind(got) {
		return []string{fmt.Sprintf("%s: want %s, got %s", path, jsonKind(want), jsonKind(got))}
	}
	var diffs []string
	switch w := want.(type) {
	case map[string]any:
		g := got.(map[string]any)
		typ, _ := g["type"].(string)
		for k, wv := range w {
			gv, ok := g[k]
			switch {
			case !ok:
				if !partial && !optional[k] && !(typ == "customer" && customerOptional[k]) {
					diffs = append(diffs, fmt.Sprintf("%s.%s: missing", path, k))
				}
			case freeform[k]:
				if jsonKind(wv) != jsonKind(gv) {
					diffs = append(diffs, fmt.Sprintf("%s.%s: want %s, got %s", path, k, jsonKind(wv), jsonKind(gv)))
				}
			case dicts[k]:
				wm, gm := wv.(map[string]any), gv.(map[string]any)
				for _, proto := range wm {
					for gk, v := range gm {
						diffs = append(diffs, shape(path+"."+k+"."+gk, proto, v, partial)...)
					}
					break
				}
			default:
				diffs = append(diffs, shape(path+"."+k, wv, gv, partial)...)
			}
		}
		for k := range g {
			if _, ok := w[k]; !ok {
				diffs = append(diffs, fmt.Sprintf("%s.%s: unexpected key", path, k))
			}
		}
	case []any:
		if len(w) == 0 {
			return nil
		}
		for i, gv := range got.([]any) {
			proto := w[min(i, len(w)-1)]
			if gm, ok := gv.(map[string]any); ok && gm["type"] != nil {
				for _, wv := range w {
					if wm, ok := wv.(map[string]any); ok && wm["type"] == gm["type"] {
						proto = wv
						break
					}
				}
			}
			diffs = append(diffs, shape(path+"["+strconv.Itoa(i)+"]", proto, gv, partial)...)
		}
	}
	return diffs
}
