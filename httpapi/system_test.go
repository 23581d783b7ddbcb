package httpapi_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
)

func TestOperations(t *testing.T) {
	t.Parallel()
	var down bool
	ready := func(context.Context) error {
		if down {
			return errors.New("store: disk on fire at /var/lib/baton")
		}
		return nil
	}
	f := newFixture(t, withReady(ready))
	bare := newFixture(t)

	tests := []struct {
		name   string
		f      *fixture
		path   string
		status int
		body   string
	}{
		{"healthz", f, "/healthz", 200, "ok"},
		{"readyz", f, "/readyz", 200, "ok"},
		{"readyz without a check", bare, "/readyz", 200, "ok"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.f.do(req{method: "GET", path: tt.path})
			if r.status != tt.status || string(r.body) != tt.body {
				t.Errorf("%s: %d %q", tt.path, r.status, r.body)
			}
		})
	}

	t.Run("metrics", func(t *testing.T) {
		r := f.do(req{method: "GET", path: "/metrics"})
		if r.status != http.StatusOK || !strings.Contains(string(r.body), "baton_desk_status{") {
			t.Errorf("/metrics: %d %.300s", r.status, r.body)
		}
	})

	t.Run("not ready", func(t *testing.T) {
		down = true
		defer func() { down = false }()
		p := wantProblem(t, f.do(req{method: "GET", path: "/readyz"}), http.StatusServiceUnavailable, "unavailable", "")
		if strings.Contains(p.Detail, "fire") {
			t.Errorf("detail leaks the cause: %q", p.Detail)
		}
		if !strings.Contains(f.logs.String(), "disk on fire") {
			t.Error("the cause is not logged")
		}
		// Liveness does not depend on readiness.
		if r := f.do(req{method: "GET", path: "/healthz"}); r.status != http.StatusOK {
			t.Errorf("healthz %d", r.status)
		}
	})

	t.Run("openapi.yaml", func(t *testing.T) {
		r := f.do(req{method: "GET", path: "/openapi.yaml"})
		if r.status != http.StatusOK || !bytes.Equal(r.body, spec(t)) || r.header.Get("Content-Type") != "application/yaml" {
			t.Errorf("%d %q, %d bytes", r.status, r.header.Get("Content-Type"), len(r.body))
		}
	})
}
