package livechatsim

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// Error is a LiveChat API error: the body {"error":{"type","message","data"?}}.
// The Go API returns it too, so tests can check Type.
type Error struct {
	Type    string         `json:"type"`
	Message string         `json:"message"`
	Data    map[string]any `json:"data,omitempty"`
}

// Error returns "type: message".
func (e *Error) Error() string { return e.Type + ": " + e.Message }

// Status is the HTTP status the simulator answers with this error. LiveChat
// documents no status codes for v3.x; this is the mapping inferred in
// shared/reference/livechat.md section 2.
func (e *Error) Status() int {
	if s, ok := statuses[e.Type]; ok {
		return s
	}
	return http.StatusBadRequest
}

var statuses = map[string]int{
	"validation":            http.StatusBadRequest,
	"unsupported_version":   http.StatusBadRequest,
	"wrong_product_version": http.StatusBadRequest,
	"authentication":        http.StatusUnauthorized,
	"authorization":         http.StatusForbidden,
	"missing_access":        http.StatusForbidden,
	"customer_banned":       http.StatusForbidden,
	"limit_reached":         http.StatusForbidden,
	"license_expired":       http.StatusPaymentRequired,
	"not_found":             http.StatusNotFound,
	"license_not_found":     http.StatusNotFound,
	"group_not_found":       http.StatusNotFound,
	"request_timeout":       http.StatusRequestTimeout,
	"already_exists":        http.StatusConflict,
	"entity_too_large":      http.StatusRequestEntityTooLarge,
	"misdirected_request":   http.StatusMisdirectedRequest,
	"chat_inactive":         http.StatusUnprocessableEntity,
	"agent_offline":         http.StatusUnprocessableEntity,
	"groups_offline":        http.StatusUnprocessableEntity,
	"group_offline":         http.StatusUnprocessableEntity,
	"group_unavailable":     http.StatusUnprocessableEntity,
	"too_many_requests":     http.StatusTooManyRequests,
	"internal":              http.StatusInternalServerError,
	"service_unavailable":   http.StatusServiceUnavailable,
}

func errf(typ, format string, args ...any) *Error {
	return &Error{Type: typ, Message: fmt.Sprintf(format, args...)}
}

// Common errors, with LiveChat's messages.
func invalidToken() *Error { return errf("authentication", "Invalid access token") }
func badRequest(format string, args ...any) *Error {
	return errf("validation", format, args...)
}
func notFound(what string) *Error { return errf("not_found", "%s not found", what) }

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":{"type":"internal","message":"Internal server error"}}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

func writeErr(w http.ResponseWriter, err error) {
	var e *Error
	if !errors.As(err, &e) {
		e = errf("internal", "Internal server error")
	}
	writeJSON(w, e.Status(), map[string]any{"error": e})
}

// oauthErr is an accounts API error: {"oauth_exception","exception_description"}.
type oauthErr struct {
	status int
	code   string
	desc   string
}

// Error returns "code: description".
func (e *oauthErr) Error() string { return e.code + ": " + e.desc }

func oauthf(code, format string, args ...any) *oauthErr {
	status := http.StatusUnauthorized
	switch code {
	case "invalid_request", "unsupported_grant_type", "unsupported_response_type", "invalid_scope":
		status = http.StatusBadRequest
	case "server_error":
		status = http.StatusInternalServerError
	}
	return &oauthErr{status, code, fmt.Sprintf(format, args...)}
}

func writeOAuthErr(w http.ResponseWriter, e *oauthErr) {
	writeJSON(w, e.status, map[string]string{"oauth_exception": e.code, "exception_description": e.desc})
}
