package baton

import (
	"errors"
	"fmt"
)

// Error codes. Each maps to one HTTP status in the API.
const (
	EINVALID      = "invalid"                // a field is malformed or out of range (422)
	EBADREQUEST   = "bad_request"            // the request itself is unreadable: bad JSON, unknown field (400)
	ETOOLARGE     = "too_large"              // the body is over the stated limit (413)
	EMEDIATYPE    = "unsupported_media_type" // the body is not of a type the call takes: JSON (415)
	EMETHOD       = "method_not_allowed"     // the path does not take this method (405, with Allow)
	ETIMEOUT      = "request_timeout"        // the request body did not arrive within the server's deadline (408)
	ENOTFOUND     = "not_found"              // no such object in this workspace (404)
	ECONFLICT     = "conflict"               // the object's state forbids the action (409)
	ESTALE        = "stale_epoch"            // the action was decided under an ownership epoch that has moved on (409)
	EIDEMPOTENCY  = "idempotency"            // an Idempotency-Key was reused with a different request (422)
	EUNAUTHORIZED = "unauthorized"           // missing or wrong credentials (401)
	EFORBIDDEN    = "forbidden"              // credentials valid but not allowed (403)
	EUNAVAILABLE  = "unavailable"            // a dependency (desk, store) cannot serve now (503)
	EINTERNAL     = "internal"               // a bug or an unexpected failure (500)
)

// Error is a domain error: a code for machines, a message for people, when
// one input field is at fault that field's JSON path (for example
// "customer.email"), and the error that caused it, if any.
type Error struct {
	Code    string
	Field   string
	Message string
	Err     error
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Error implements the error interface.
func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s: %s", e.Code, e.Field, e.Message)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and a formatted message. A %w
// verb in format keeps its error as the cause, as fmt.Errorf does.
func Errorf(code, format string, args ...any) *Error {
	err := fmt.Errorf(format, args...)
	return &Error{Code: code, Message: err.Error(), Err: errors.Unwrap(err)}
}

// FieldErrorf returns an EINVALID *Error naming the offending field; a %w
// verb keeps its error as the cause.
func FieldErrorf(field, format string, args ...any) *Error {
	e := Errorf(EINVALID, format, args...)
	e.Field = field
	return e
}

// ErrorCode returns the code of err if it is (or wraps) an *Error, EINTERNAL otherwise,
// and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorField returns the field named by err if it is (or wraps) an *Error.
func ErrorField(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}

// ErrorMessage returns the human message of err; internal errors are not exposed.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

// CheckSize refuses a body over limit bytes with ETOOLARGE: desks cap what
// they read from inbound requests with it.
func CheckSize(body []byte, limit int) error {
	if len(body) > limit {
		return &Error{Code: ETOOLARGE, Message: fmt.Sprintf("body is over %d bytes", limit)}
	}
	return nil
}
