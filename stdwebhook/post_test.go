package stdwebhook

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestPost(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		handler http.HandlerFunc
		want    Result
		ok      bool
	}{
		{"200", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "thanks") }, Result{Status: 200}, true},
		{"204", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }, Result{Status: 204}, true},
		{"202 large body", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(202)
			io.WriteString(w, strings.Repeat("x", 1<<20))
		}, Result{Status: 202}, true},
		{"302 not followed", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/followed", http.StatusFound)
		}, Result{Status: 302}, false},
		{"307 not followed", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/followed", http.StatusTemporaryRedirect)
		}, Result{Status: 307}, false},
		{"400", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(400) }, Result{Status: 400}, false},
		{"410 gone", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(410) }, Result{Status: 410, Gone: true}, false},
		{"429 seconds", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(429)
		}, Result{Status: 429, RetryAfter: 7 * time.Second}, false},
		{"429 capped", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "86400")
			w.WriteHeader(429)
		}, Result{Status: 429, RetryAfter: time.Hour}, false},
		{"429 garbage", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "soon")
			w.WriteHeader(429)
		}, Result{Status: 429}, false},
		{"503 seconds", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "120")
			w.WriteHeader(503)
		}, Result{Status: 503, RetryAfter: 2 * time.Minute}, false},
		{"503 no retry-after", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) }, Result{Status: 503}, false},
		{"504 seconds", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "3")
			w.WriteHeader(504)
		}, Result{Status: 504, RetryAfter: 3 * time.Second}, false},
		{"500 ignores retry-after", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "3")
			w.WriteHeader(500)
		}, Result{Status: 500}, false},
		{"abort on 500", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Webhook-Delivery", "abort-message")
			w.WriteHeader(500)
		}, Result{Status: 500, Abort: true}, false},
		{"abort on 400, odd case", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("webhook-delivery", " Abort-Message ")
			w.WriteHeader(400)
		}, Result{Status: 400, Abort: true}, false},
		{"other webhook-delivery value", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("webhook-delivery", "retry")
			w.WriteHeader(500)
		}, Result{Status: 500}, false},
	}

	s := mustSigner(t, vecSecret)
	body := []byte(`{"type":"ping"}`)
	clients := map[string]*http.Client{
		"NewClient":    NewClient(2 * time.Second),
		"plain client": {Timeout: 2 * time.Second}, // follows redirects by default; Post must not
		"nil client":   nil,
	}
	for cname, c := range clients {
		for _, tt := range tests {
			t.Run(cname+"/"+tt.name, func(t *testing.T) {
				var followed atomic.Int32
				var mu sync.Mutex
				var got struct {
					method string
					h      http.Header
					body   string
				}
				mux := http.NewServeMux()
				mux.HandleFunc("/followed", func(w http.ResponseWriter, r *http.Request) { followed.Add(1) })
				mux.HandleFunc("/hook", func(w http.ResponseWriter, r *http.Request) {
					b, _ := io.ReadAll(r.Body)
					mu.Lock()
					got.method, got.h, got.body = r.Method, r.Header.Clone(), string(b)
					mu.Unlock()
					tt.handler(w, r)
				})
				srv := httptest.NewServer(mux)
				defer srv.Close()

				h := s.Headers("msg_1", time.Now(), body)
				r := Post(context.Background(), c, srv.URL+"/hook", h, body)
				if r != tt.want {
					t.Errorf("Post = %+v, want %+v", r, tt.want)
				}
				if r.OK() != tt.ok {
					t.Errorf("OK() = %v, want %v", r.OK(), tt.ok)
				}
				mu.Lock()
				defer mu.Unlock()
				if n := followed.Load(); n != 0 {
					t.Errorf("redirect followed %d times", n)
				}
				if got.method != http.MethodPost || got.body != string(body) {
					t.Errorf("server got %s %q", got.method, got.body)
				}
				if err := Verify(vecSecret, got.h, []byte(got.body), time.Now()); err != nil {
					t.Errorf("server could not verify the delivery: %v", err)
				}
			})
		}
	}
}

func TestPostRetryAfterDate(t *testing.T) {
	t.Parallel()
	for _, status := range []int{429, 503} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", time.Now().Add(2*time.Minute).UTC().Format(http.TimeFormat))
			w.WriteHeader(status)
		}))
		r := Post(context.Background(), NewClient(time.Second), srv.URL, nil, []byte("{}"))
		srv.Close()
		if r.Status != status || r.OK() || r.RetryAfter < 115*time.Second || r.RetryAfter > 2*time.Minute {
			t.Errorf("status %d: Post = %+v, want RetryAfter about 2m", status, r)
		}
	}
}

func TestPostHanging(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)

	start := time.Now()
	r := Post(context.Background(), NewClient(100*time.Millisecond), srv.URL, nil, []byte("{}"))
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("Post took %v with a 100ms timeout", elapsed)
	}
	var ne net.Error
	if r.OK() || r.Status != 0 || !errors.As(r.Err, &ne) || !ne.Timeout() {
		t.Errorf("Post = %+v, want a timeout error", r)
	}

	// A cancelled context ends the attempt too.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	r = Post(ctx, NewClient(0), srv.URL, nil, []byte("{}"))
	if r.OK() || !errors.Is(r.Err, context.DeadlineExceeded) {
		t.Errorf("Post(cancelled) = %+v, want context.DeadlineExceeded", r)
	}
}

func TestPostTransportErrors(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens now
	if r := Post(context.Background(), NewClient(time.Second), url, nil, nil); r.OK() || r.Err == nil || r.Status != 0 {
		t.Errorf("Post(closed server) = %+v, want an error", r)
	}
	if r := Post(context.Background(), nil, "://bad url", nil, nil); r.Err == nil {
		t.Errorf("Post(bad url) = %+v, want an error", r)
	}
}

func TestNewClient(t *testing.T) {
	t.Parallel()
	if c := NewClient(0); c.Timeout != 15*time.Second || c.CheckRedirect == nil {
		t.Errorf("NewClient(0) = %+v", c)
	}
	if c := NewClient(-time.Second); c.Timeout != 15*time.Second {
		t.Errorf("NewClient(-1s).Timeout = %v", c.Timeout)
	}
	if c := NewClient(3 * time.Second); c.Timeout != 3*time.Second {
		t.Errorf("NewClient(3s).Timeout = %v", c.Timeout)
	}
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		v    string
		want time.Duration
	}{
		{"", 0},
		{"0", 0},
		{"-5", 0},
		{"30", 30 * time.Second},
		{" 30 ", 30 * time.Second},
		{"3599", 3599 * time.Second},
		{"3600", time.Hour},
		{"99999999999999999999", 0}, // overflows int64: not a number we accept
		{"9999999999", time.Hour},
		{"1.5", 0},
		{"Sun, 01 Mar 2026 12:00:45 GMT", 45 * time.Second},
		{"Sunday, 01-Mar-26 12:10:00 GMT", 10 * time.Minute}, // RFC 850
		{"Sun Mar  1 12:00:05 2026", 5 * time.Second},        // ANSI C
		{"Sun, 01 Mar 2026 11:00:00 GMT", 0},                 // past
		{"Mon, 02 Mar 2026 12:00:00 GMT", time.Hour},         // capped
		{"tomorrow", 0},
	}
	for _, tt := range tests {
		if got := RetryAfter(tt.v, now); got != tt.want {
			t.Errorf("RetryAfter(%q) = %v, want %v", tt.v, got, tt.want)
		}
	}
}
