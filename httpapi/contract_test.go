package httpapi

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/batonhq/baton/inbox"

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
	doc, err := openapi3.NewLoader().LoadFromData(spec)
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
				if _, ok := bearer(in.RequestValidationInput.Request); !ok {
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
	}
	return resp, nil
}

// TestSpecCoversRoutes checks that openapi.yaml documents exactly the routes
// routes.go serves (inbound's {path...} is {path} there).
func TestSpecCoversRoutes(t *testing.T) {
	doc := loadSpec(t, "http://localhost")
	documented := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented[method+" "+path] = true
		}
	}
	rec := patterns{}
	addRoutes(rec, nil, nil, inbox.Agents{}, http.NotFoundHandler(), nil)
	served := map[string]bool{}
	for p := range rec {
		p = strings.Replace(p, "{path...}", "{path}", 1)
		served[p] = true
		if !documented[p] {
			t.Errorf("route %q is served but not in openapi.yaml", p)
		}
	}
	for p := range documented {
		if !served[p] {
			t.Errorf("openapi.yaml documents %q, which is not served", p)
		}
	}
}

// patterns records the patterns routes are added with.
type patterns map[string]bool

func (p patterns) Handle(pattern string, _ http.Handler) { p[pattern] = true }
