package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/internal/jsoncheck"
	"github.com/batonhq/baton/internal/jsonpath"
)

// maxBody is the largest request body the API reads.
const maxBody = 1 << 20

// errEmptyBody is what decode returns for a request with no body. Handlers
// whose body is optional treat it as the zero value.
var errEmptyBody = &baton.Error{Code: baton.EBADREQUEST, Message: "the request body is empty: expected a JSON object"}

// errTooLarge is the problem for a body over maxBody.
var errTooLarge = &baton.Error{Code: baton.ETOOLARGE, Message: fmt.Sprintf("the request body is larger than the limit of %d bytes (1 MiB)", maxBody)}

// errBodyTimeout is the problem for a body that did not arrive within the
// body deadline.
var errBodyTimeout = &baton.Error{Code: baton.ETIMEOUT, Message: "the request body did not arrive in time"}

// encode writes v as JSON with status. A failed write means the client went
// away; there is nobody left to tell.
func encode[T any](w http.ResponseWriter, status int, v T) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// decode reads the request body as one JSON object into a T. A body sent
// as another media type than JSON is refused (unsupported_media_type, 415;
// no Content-Type is taken as JSON). Unknown fields are refused. Every failure is a *baton.Error: bad_request for unreadable
// JSON (with its byte offset), an unknown field (its JSON path in Field) or a
// string or key holding a NUL character (its path in Field), invalid for a
// value of the wrong type (its path in Field), too_large for a body over
// 1 MiB, request_timeout for a body slower than the deadline, and
// errEmptyBody for no body at all.
func decode[T any](r *http.Request) (T, error) {
	var v T
	data, err := readBody(r)
	if err != nil {
		return v, err
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return v, errEmptyBody
	}
	if err := jsonType(r.Header.Get("Content-Type")); err != nil {
		return v, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		return v, decodeError(err, reflect.TypeFor[T](), data)
	}
	// One object and nothing after it but white space.
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return v, &baton.Error{Code: baton.EBADREQUEST, Message: fmt.Sprintf("unexpected data after the JSON object at byte offset %d", dec.InputOffset())}
	}
	if err := jsoncheck.Text(data); err != nil {
		var zero T
		return zero, err
	}
	return v, nil
}

// readBody reads the whole request body. Its failures are *baton.Error:
// too_large over maxBody, request_timeout past the body deadline (see
// bodyDeadline), bad_request otherwise.
func readBody(r *http.Request) ([]byte, error) {
	data, err := io.ReadAll(r.Body)
	var mbe *http.MaxBytesError
	switch {
	case err == nil:
		return data, nil
	case errors.As(err, &mbe):
		return nil, errTooLarge
	case errors.Is(err, os.ErrDeadlineExceeded):
		return nil, errBodyTimeout
	}
	return nil, baton.Errorf(baton.EBADREQUEST, "the request body could not be read")
}

// decodeError turns an error reading body data into a T into a *baton.Error.
func decodeError(err error, t reflect.Type, data []byte) error {
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &syn):
		return &baton.Error{Code: baton.EBADREQUEST, Message: fmt.Sprintf("malformed JSON at byte offset %d: %s", syn.Offset, strings.TrimPrefix(syn.Error(), "json: "))}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &baton.Error{Code: baton.EBADREQUEST, Message: fmt.Sprintf("malformed JSON: the body ends in the middle of a value at byte offset %d", len(data))}
	case errors.As(err, &typ):
		if typ.Field == "" {
			return &baton.Error{Code: baton.EBADREQUEST, Message: fmt.Sprintf("the body must be a JSON object, not %s", typ.Value)}
		}
		field := typ.Field
		var doc any
		if t != nil && json.Unmarshal(data, &doc) == nil {
			if p, ok := jsonpath.Mistyped(t, doc, strings.Split(typ.Field, "."), ""); ok {
				field = p
			}
		}
		return &baton.Error{Code: baton.EINVALID, Field: field, Message: fmt.Sprintf("must be %s, not %s", jsonpath.Kind(typ.Type), typ.Value)}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		path := name
		var doc any
		if t != nil && json.Unmarshal(data, &doc) == nil {
			if p, ok := jsonpath.Unknown(t, doc, name, ""); ok {
				path = p
			}
		}
		return &baton.Error{Code: baton.EBADREQUEST, Field: path, Message: fmt.Sprintf("unknown field %q", path)}
	}
	var doc any
	if t != nil && json.Unmarshal(data, &doc) == nil {
		if path, verr := refusedValue(t, doc, ""); verr != nil {
			return &baton.Error{Code: baton.EINVALID, Field: path, Message: baton.ErrorMessage(verr), Err: verr}
		}
	}
	return &baton.Error{Code: baton.EBADREQUEST, Message: "the body is not a JSON object this endpoint understands"}
}

var jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()

// refusedValue finds, in the document v read for a t, the first value whose
// type reads itself (json.Unmarshaler, a duration say) and refuses it, and
// returns its JSON path and the refusal.
func refusedValue(t reflect.Type, v any, prefix string) (string, error) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if v != nil && reflect.PointerTo(t).Implements(jsonUnmarshaler) {
		b, _ := json.Marshal(v)
		if err := reflect.New(t).Interface().(json.Unmarshaler).UnmarshalJSON(b); err != nil {
			return prefix, err
		}
		return "", nil
	}
	join := func(k string) string {
		if prefix == "" {
			return k
		}
		return prefix + "." + k
	}
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			var ft reflect.Type
			switch t.Kind() {
			case reflect.Struct:
				f, ok := jsonpath.Field(t, k)
				if !ok {
					continue
				}
				ft = f
			case reflect.Map:
				ft = t.Elem()
			default:
				continue
			}
			if p, err := refusedValue(ft, val, join(k)); err != nil {
				return p, err
			}
		}
	case []any:
		if t.Kind() != reflect.Slice && t.Kind() != reflect.Array {
			return "", nil
		}
		for i, val := range x {
			if p, err := refusedValue(t.Elem(), val, fmt.Sprintf("%s[%d]", prefix, i)); err != nil {
				return p, err
			}
		}
	}
	return "", nil
}

// problem is an RFC 9457 problem document with Baton's code and field.
type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
	Code   string `json:"code"`
	Field  string `json:"field,omitempty"`
}

// statusOf maps a baton error code to its HTTP status.
func statusOf(code string) int {
	switch code {
	case baton.EINVALID, baton.EIDEMPOTENCY:
		return http.StatusUnprocessableEntity
	case baton.EBADREQUEST:
		return http.StatusBadRequest
	case baton.ETOOLARGE:
		return http.StatusRequestEntityTooLarge
	case baton.EMEDIATYPE:
		return http.StatusUnsupportedMediaType
	case baton.EMETHOD:
		return http.StatusMethodNotAllowed
	case baton.ETIMEOUT:
		return http.StatusRequestTimeout
	case baton.ENOTFOUND:
		return http.StatusNotFound
	case baton.ECONFLICT, baton.ESTALE:
		return http.StatusConflict
	case baton.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case baton.EFORBIDDEN:
		return http.StatusForbidden
	case baton.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// encodeError writes err as a problem. Internal errors are logged and their
// text is never sent.
func encodeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	code := baton.ErrorCode(err)
	status := statusOf(code)
	switch {
	case code == baton.EINTERNAL && errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		log.Debug("request cancelled by the client", "method", r.Method, "path", r.URL.Path)
	case code == baton.EINTERNAL:
		log.Error("internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	case code == baton.EUNAVAILABLE:
		log.Warn("dependency unavailable", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", strconv.Itoa(retryAfter(err)))
	}
	writeProblem(w, problem{Status: status, Code: code, Detail: baton.ErrorMessage(err), Field: baton.ErrorField(err)})
}

// Retry-After, in seconds, of a 503: what the desk asked for when err wraps
// a *baton.DeskError that says, a desk that cannot be reached gets a few
// seconds, anything else (a handoff still opening) a second.
const (
	retryAfterDesk  = 5
	retryAfterOther = 1
)

// retryAfter is the Retry-After in seconds for an unavailable err.
func retryAfter(err error) int {
	var de *baton.DeskError
	if !errors.As(err, &de) {
		return retryAfterOther
	}
	if de.RetryAfter > 0 {
		return int((de.RetryAfter + time.Second - 1) / time.Second)
	}
	return retryAfterDesk
}

// writeProblem fills in the type and title of p and writes it.
func writeProblem(w http.ResponseWriter, p problem) {
	p.Type = "about:blank"
	p.Title = http.StatusText(p.Status)
	if p.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="baton"`)
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

// jsonType accepts a Content-Type that is JSON (application/json, or any
// type ending in +json), with any parameters, or none at all.
func jsonType(ct string) error {
	if strings.TrimSpace(ct) == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json")) {
		return nil
	}
	return &baton.Error{Code: baton.EMEDIATYPE, Field: "Content-Type", Message: fmt.Sprintf("%q is not JSON: send Content-Type: application/json", ct)}
}
