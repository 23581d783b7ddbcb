package stdwebhook

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Timeout is the default time a receiver has to answer a delivery.
const Timeout = 15 * time.Second

// MaxRetryAfter caps the Retry-After a receiver may ask for.
const MaxRetryAfter = time.Hour

// maxDrain is how much of a response body Post reads before closing it.
const maxDrain = 64 << 10

// Result is the outcome of one delivery attempt.
type Result struct {
	Status     int           // HTTP status; 0 if no response was received
	RetryAfter time.Duration // receiver's Retry-After on 429/502/503/504, capped at MaxRetryAfter; 0 if none
	Abort      bool          // receiver sent "webhook-delivery: abort-message": stop retrying this message
	Gone       bool          // receiver answered 410 Gone: disable the endpoint
	Err        error         // transport error (connection, timeout, cancellation); nil if a response came
}

// OK reports whether the attempt succeeded: a 2xx response.
func (r Result) OK() bool {
	return r.Err == nil && r.Status >= 200 && r.Status <= 299
}

// NewClient returns an HTTP client with the given timeout (Timeout if
// timeout <= 0) that never follows redirects.
func NewClient(timeout time.Duration) *http.Client {
	if timeout <= 0 {
		timeout = Timeout
	}
	return &http.Client{Timeout: timeout, CheckRedirect: noRedirect}
}

func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

var defaultClient = NewClient(0)

// Post makes one delivery attempt: it POSTs body with headers h to url using c
// (NewClient(0) if nil). Redirects are never followed, whatever c's
// CheckRedirect says: a 3xx is a failed attempt. A client without a timeout
// gets Timeout. At most 64 KiB of the response body is read.
func Post(ctx context.Context, c *http.Client, url string, h http.Header, body []byte) Result {
	if c == nil {
		c = defaultClient
	} else {
		cc := *c // shallow copy shares the Transport and its connection pool
		cc.CheckRedirect = noRedirect
		if cc.Timeout <= 0 {
			cc.Timeout = Timeout
		}
		c = &cc
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return Result{Err: err}
	}
	req.Header = h.Clone()
	if req.Header == nil {
		req.Header = make(http.Header)
	}
	resp, err := c.Do(req)
	if err != nil {
		return Result{Err: err}
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrain))
	resp.Body.Close()

	r := Result{
		Status: resp.StatusCode,
		Gone:   resp.StatusCode == http.StatusGone,
		Abort:  strings.EqualFold(strings.TrimSpace(resp.Header.Get("webhook-delivery")), "abort-message"),
	}
	switch resp.StatusCode {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		r.RetryAfter = RetryAfter(resp.Header.Get("Retry-After"), time.Now())
	}
	return r
}

// RetryAfter reads a Retry-After value, delay-seconds or HTTP-date,
// relative to now. It returns 0 for a missing, invalid or past value and caps
// the result at MaxRetryAfter. Desks use it for their APIs' answers too.
func RetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		if n >= int64(MaxRetryAfter/time.Second) {
			return MaxRetryAfter
		}
		d = time.Duration(n) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	} else {
		return 0
	}
	return min(max(d, 0), MaxRetryAfter)
}
