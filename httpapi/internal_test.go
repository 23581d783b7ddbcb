package httpapi

// Tests of the package's internals: what the external tests, which drive a
// whole Baton through the composition root, cannot reach.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/batonhq/baton"
)

// TestSpecCoversRoutes checks that openapi.yaml documents exactly the routes
// routes.go serves (inbound's {path...} is {path} there).
func TestSpecCoversRoutes(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(spec)
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented[method+" "+path] = true
		}
	}
	rec := patterns{}
	addRoutes(rec, Params{Metrics: http.NotFoundHandler()})
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

// TestPanicRecovery checks that a panic becomes a 500 problem and is logged.
func TestPanicRecovery(t *testing.T) {
	t.Parallel()
	var logs strings.Builder
	var mu sync.Mutex
	log := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return logs.Write(p)
	}), nil))
	h := logRequests(log, recoverPanics(log, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("boom")
	})))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/v1/handoffs/x", nil))
	var p problem
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil || w.Code != http.StatusInternalServerError ||
		w.Header().Get("Content-Type") != "application/problem+json" || p.Code != "internal" || p.Detail != "internal error" {
		t.Errorf("answer %d %s %s", w.Code, w.Header().Get("Content-Type"), w.Body)
	}
	mu.Lock()
	defer mu.Unlock()
	if s := logs.String(); !strings.Contains(s, "boom") || !strings.Contains(s, "status=500") {
		t.Errorf("logs:\n%s", s)
	}
}

// writerFunc is an io.Writer made of a function.
type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// TestDecodeFieldPaths checks that decode names the JSON path of the field at fault.
func TestDecodeFieldPaths(t *testing.T) {
	type inner struct {
		URL string `json:"url"`
	}
	type body struct {
		Name  string            `json:"name"`
		Items []inner           `json:"items"`
		Meta  map[string]any    `json:"meta"`
		Ptr   *inner            `json:"ptr"`
		Tags  map[string]string `json:"tags"`
	}
	tests := []struct {
		body, field string
	}{
		{`{"nope":1}`, "nope"},
		{`{"items":[{"url":"a"},{"url":"b","nope":1}]}`, "items[1].nope"},
		{`{"meta":{"anything":{"goes":1}},"ptr":{"nope":1}}`, "ptr.nope"},
		{`{"NAME":"case-insensitive like encoding/json","nope":1}`, "nope"},
		{`{"name":5}`, "name"},
		{`{"items":[{"url":"a"},{"url":5}]}`, "items[1].url"},
		{`{"ptr":{"url":false}}`, "ptr.url"},
		{`{"tags":{"a":"ok","b":5}}`, "tags.b"},
		{`{"items":{"url":"a"}}`, "items"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("POST", "/", bytes.NewBufferString(tt.body))
		_, err := decode[body](r)
		if got := baton.ErrorField(err); got != tt.field {
			t.Errorf("%s: field %q, want %q (%v)", tt.body, got, tt.field, err)
		}
	}
}

// TestUnavailableRetryAfter: an unavailable error is a 503 problem with a
// Retry-After: the desk's own when the wrapped desk error has one (rounded
// up to whole seconds), a few seconds for a desk that cannot be reached, a
// second otherwise.
func TestUnavailableRetryAfter(t *testing.T) {
	t.Parallel()
	unavailable := &baton.Error{Code: baton.EUNAVAILABLE, Message: "the desk cannot be reached"}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"desk asked to wait", fmt.Errorf("%w: %w", unavailable, &baton.DeskError{RetryAfter: 1500 * time.Millisecond, Err: errors.New("429")}), "2"},
		{"desk unreachable", fmt.Errorf("%w: %w", unavailable, &baton.DeskError{Err: errors.New("connection refused")}), "5"},
		{"anything else", baton.Errorf(baton.EUNAVAILABLE, "a handoff is still opening"), "1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := httptest.NewRecorder()
			encodeError(w, httptest.NewRequest("POST", "/v1/desks/d/inbound/livechat", nil), slog.New(slog.DiscardHandler), tt.err)
			if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") != tt.want {
				t.Errorf("status %d, Retry-After %q; want 503 and %q", w.Code, w.Header().Get("Retry-After"), tt.want)
			}
			if strings.Contains(w.Body.String(), "connection refused") || !strings.Contains(w.Body.String(), `"code":"unavailable"`) {
				t.Errorf("body %s", w.Body)
			}
		})
	}
}

// TestNoMetrics: without a metrics handler /metrics is not served.
func TestNoMetrics(t *testing.T) {
	t.Parallel()
	w := httptest.NewRecorder()
	NewServer(Params{}).ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	if w.Code != http.StatusNotFound || w.Header().Get("Content-Type") != "application/problem+json" {
		t.Errorf("/metrics: %d %s", w.Code, w.Header().Get("Content-Type"))
	}
}

// TestHandoffDecisionOmitted: a transfer's decision is left out of a
// handoff until it is made (the 201 of a transfer answers before the
// router chose), and kept once made.
func TestHandoffDecisionOmitted(t *testing.T) {
	t.Parallel()
	undecided, _ := json.Marshal(newHandoff(baton.Handoff{ID: "ho_1", Decision: &baton.Decision{Trigger: "bot"}}))
	if strings.Contains(string(undecided), `"decision"`) {
		t.Errorf("an undecided transfer: %s, want no decision", undecided)
	}
	decided, _ := json.Marshal(newHandoff(baton.Handoff{ID: "ho_1", Decision: &baton.Decision{GroupID: "2", GroupName: "Sales", Score: 0.8, Reason: "pricing", Trigger: "bot", Router: "words"}}))
	if !strings.Contains(string(decided), `"group_id":"2"`) {
		t.Errorf("a decided transfer: %s, want its decision", decided)
	}
}
