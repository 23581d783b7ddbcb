// Package jsonpath names where a JSON document went wrong for the Go type
// it was read into: encoding/json says "history.text" or only the unknown
// field's name; these find the path with list indexes ("history[2].text",
// "customer.phone"), as a caller's error should name it.
package jsonpath

import (
	"encoding"
	"fmt"
	"reflect"
	"sort"
	"strings"
)

// Unknown finds, in the document v read for a t, the JSON path of the
// field called name that t does not have ("history[1].mood"). encoding/json
// names only the field, not where it is.
func Unknown(t reflect.Type, v any, name, prefix string) (string, bool) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			return "", false
		}
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			path := k
			if prefix != "" {
				path = prefix + "." + k
			}
			ft, known := Field(t, k)
			if !known {
				if k == name {
					return path, true
				}
				continue
			}
			if p, ok := Unknown(ft, obj[k], name, path); ok {
				return p, true
			}
		}
	case reflect.Slice, reflect.Array:
		arr, _ := v.([]any)
		for i, e := range arr {
			if p, ok := Unknown(t.Elem(), e, name, fmt.Sprintf("%s[%d]", prefix, i)); ok {
				return p, true
			}
		}
	}
	return "", false
}

// Mistyped turns the dotted path encoding/json gives for a value of the wrong
// type ("history.text") into the path of the first such value in the document
// v read for a t, with list indexes ("history[2].text").
func Mistyped(t reflect.Type, v any, segs []string, prefix string) (string, bool) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
		if arr, ok := v.([]any); ok {
			for i, e := range arr {
				if p, ok := Mistyped(t.Elem(), e, segs, fmt.Sprintf("%s[%d]", prefix, i)); ok {
					return p, true
				}
			}
			return "", false
		}
	}
	if len(segs) == 0 {
		if obj, ok := v.(map[string]any); ok && t.Kind() == reflect.Map {
			// encoding/json stops its path at a map; find the entry.
			keys := make([]string, 0, len(obj))
			for k := range obj {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				if p, ok := Mistyped(t.Elem(), obj[k], nil, prefix+"."+k); ok {
					return p, true
				}
			}
		}
		return prefix, !fits(t, v)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return "", false
	}
	var et reflect.Type
	switch t.Kind() {
	case reflect.Struct:
		if et, ok = Field(t, segs[0]); !ok {
			return "", false
		}
	case reflect.Map:
		et = t.Elem()
	default:
		return "", false
	}
	for k, val := range obj {
		if k != segs[0] && (t.Kind() == reflect.Map || !strings.EqualFold(k, segs[0])) {
			continue
		}
		path := k
		if prefix != "" {
			path = prefix + "." + k
		}
		if p, ok := Mistyped(et, val, segs[1:], path); ok {
			return p, true
		}
	}
	return "", false
}

// fits reports whether a decoded JSON value can go into a t.
func fits(t reflect.Type, v any) bool {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch v.(type) {
	case nil:
		return true
	case string:
		return t.Kind() == reflect.String || t.Kind() == reflect.Interface || t.Implements(textUnmarshaler) || reflect.PointerTo(t).Implements(textUnmarshaler)
	case float64:
		return t.Kind() >= reflect.Int && t.Kind() <= reflect.Float64 || t.Kind() == reflect.Interface
	case bool:
		return t.Kind() == reflect.Bool || t.Kind() == reflect.Interface
	case []any:
		return t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Interface
	}
	return t.Kind() == reflect.Struct || t.Kind() == reflect.Map || t.Kind() == reflect.Interface
}

var textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()

// Field returns the type of t's field that encoding/json fills from key.
func Field(t reflect.Type, key string) (reflect.Type, bool) {
	var fold reflect.Type
	for i := range t.NumField() {
		sf := t.Field(i)
		tag := sf.Tag.Get("json")
		if tag == "-" || !sf.IsExported() && !sf.Anonymous {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if sf.Anonymous && name == "" {
			et := sf.Type
			for et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if et.Kind() == reflect.Struct {
				if ft, ok := Field(et, key); ok {
					return ft, true
				}
			}
			continue
		}
		if name == "" {
			name = sf.Name
		}
		if name == key {
			return sf.Type, true
		}
		if fold == nil && strings.EqualFold(name, key) {
			fold = sf.Type
		}
	}
	return fold, fold != nil
}

// Kind names a Go type the way a JSON client thinks of it.
func Kind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "a boolean"
	case reflect.Slice, reflect.Array:
		return "an array"
	}
	return "an object"
}
