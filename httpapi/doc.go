// Package httpapi is Baton's HTTP API: the v1 bot API (handoffs,
// conversations, availability, events and their stream), the inbound URL desks
// call, the built-in inbox's agent API, and the health, readiness, metrics and
// OpenAPI routes.
//
// NewServer returns one http.Handler. Every route is listed in routes.go;
// handlers are maker functions that take their dependencies and return an
// http.Handler. Bodies are JSON read by one decode function (unknown fields
// refused, 1 MiB at most) and written by one encode function. Every error is an
// RFC 9457 problem (application/problem+json) whose "code" is the baton.Error
// code and whose "field" is the JSON path of the bad input, when one is at fault.
//
// Every POST under /v1 that a workspace or an agent makes may carry an
// Idempotency-Key. The key and a SHA-256 of the method, path and body travel
// to the engine in the context (engine.WithIdempotency); the engine stores the
// outcome in the same transaction as the effect, so a retried request returns
// the current state of what it created or changed (with Idempotent-Replayed:
// true) and a key reused with another request is refused.
//
// The contract is openapi.yaml, written by hand and served at /openapi.yaml;
// the tests validate every request and response they make against it.
package httpapi
