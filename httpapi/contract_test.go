package httpapi_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"maps"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// The contract test: every request the tests send and every response they get
// goes through contract, which validates both against the embedded
// openapi.yaml with kin-openapi and fails the test on any mismatch. A request
// that breaks the contract on purpose (malformed JSON, an unknown field, no
// key...) is marked with offSpec; its response is still checked.

type offSpecKey struct{}

// offSpec marks a request as breaking the contract on purpose.
func offSpec(ctx context.Context) context.Context { return context.WithValue(ctx, offSpecKey{}, true) }

func isOffSpec(ctx context.Context) bool { v, _ := ctx.Value(offSpecKey{}).(bool); return v }

// loadSpec loads and validates the embedded document, served from base.
func loadSpec(t testing.TB, base string) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(spec(t))
	if err != nil {
		t.Fatalf("openapi.yaml does not load: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("openapi.yaml is not a valid OpenAPI document: %v", err)
	}
	doc.Servers = openapi3.Servers{{URL: base}}
	return doc
}

type contract struct {
	t      testing.TB
	router routers.Router
	next   http.RoundTripper
	opts   *openapi3filter.Options

	mu   sync.Mutex
	seen map[string]bool // "METHOD /path/{template}" of each operation answered 2xx within the contract
}

func newContract(t testing.TB, base string, next http.RoundTripper) *contract {
	router, err := gorillamux.NewRouter(loadSpec(t, base))
	if err != nil {
		t.Fatalf("routing openapi.yaml: %v", err)
	}
	opts := &openapi3filter.Options{
		IncludeResponseStatus:             true, // an undocumented status is a mismatch
		RejectWhenRequestBodyNotSpecified: true,
		MultiError:                        true,
		AuthenticationFunc: func(_ context.Context, in *openapi3filter.AuthenticationInput) error {
			if in.SecurityScheme.Type == "http" && in.SecurityScheme.Scheme == "bearer" {
				if !hasBearer(in.RequestValidationInput.Request) {
					return errors.New("no bearer token")
				}
			}
			return nil
		},
	}
	return &contract{t: t, router: router, next: next, opts: opts}
}

func (c *contract) RoundTrip(r *http.Request) (*http.Response, error) {
	ctx := r.Context()
	name := r.Method + " " + r.URL.RequestURI()
	var body []byte
	if r.Body != nil {
		b, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			return nil, err
		}
		body = b
	}
	send := r.Clone(ctx)
	if r.Body != nil {
		send.Body = io.NopCloser(bytes.NewReader(body))
	}

	var in *openapi3filter.RequestValidationInput
	route, params, err := c.router.FindRoute(r)
	switch {
	case err != nil && !isOffSpec(ctx):
		c.t.Errorf("contract: %s is not in openapi.yaml: %v", name, err)
	case err == nil:
		check := r.Clone(ctx)
		check.Body = io.NopCloser(bytes.NewReader(body))
		in = &openapi3filter.RequestValidationInput{Request: check, PathParams: params, Route: route, Options: c.opts}
		if err := openapi3filter.ValidateRequest(ctx, in); err != nil && !isOffSpec(ctx) {
			c.t.Errorf("contract: request %s breaks openapi.yaml: %v", name, err)
		}
	}

	resp, err := c.next.RoundTrip(send)
	if err != nil || in == nil {
		return resp, err
	}
	opts := *c.opts
	var rbody []byte
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		opts.ExcludeResponseBody = true // a stream never ends; its framing is tested on its own
	} else {
		rbody, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return nil, err
		}
		resp.Body = io.NopCloser(bytes.NewReader(rbody))
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Body:                   io.NopCloser(bytes.NewReader(rbody)),
		Options:                &opts,
	}
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		c.t.Errorf("contract: response %d to %s breaks openapi.yaml: %v\nbody: %s", resp.StatusCode, name, err, rbody)
	} else if resp.StatusCode/100 == 2 && !isOffSpec(ctx) {
		c.mu.Lock()
		if c.seen == nil {
			c.seen = map[string]bool{}
		}
		c.seen[route.Method+" "+route.Path] = true
		c.mu.Unlock()
	}
	return resp, nil
}

// exercised reports the operations answered 2xx within the contract so far.
func (c *contract) exercised() map[string]bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.seen)
}

// spec reads the API contract.
func spec(t testing.TB) []byte {
	b, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// hasBearer reports whether r carries "Authorization: Bearer <token>".
func hasBearer(r *http.Request) bool {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	return ok && strings.EqualFold(scheme, "Bearer") && strings.TrimSpace(token) != ""
}

// problem is an error answer (RFC 9457) as the tests decode it.
type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
	Code   string `json:"code"`
	Field  string `json:"field,omitempty"`
}

// idempotencyHeader is the request header that makes a POST safe to retry.
const idempotencyHeader = "Idempotency-Key"
