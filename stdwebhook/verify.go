package stdwebhook

import (
	"crypto/hmac"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Tolerance is how far a message's timestamp may be from the verifier's clock,
// in either direction.
const Tolerance = 5 * time.Minute

// Errors returned by Verify; test with errors.Is.
var (
	ErrMissingHeaders = errors.New("webhook: missing webhook-id, webhook-timestamp or webhook-signature header")
	ErrBadSignature   = errors.New("webhook: no matching signature")
	ErrTimestamp      = errors.New("webhook: timestamp invalid or outside tolerance")
)

// Verify checks a received message against secret. It succeeds when any v1
// entry of webhook-signature matches (so senders can rotate secrets by sending
// several), comparing in constant time, and the timestamp is within Tolerance
// of now (time.Now() if now is zero). It returns an error wrapping
// ErrMissingHeaders, ErrBadSignature or ErrTimestamp, or ParseSecret's error.
func Verify(secret string, h http.Header, body []byte, now time.Time) error {
	key, err := ParseSecret(secret)
	if err != nil {
		return err
	}
	id := h.Get(HeaderID)
	tsv := h.Get(HeaderTimestamp)
	sigs := strings.Join(h.Values(HeaderSignature), " ")
	if id == "" || tsv == "" || strings.TrimSpace(sigs) == "" {
		return ErrMissingHeaders
	}
	ts, err := strconv.ParseInt(tsv, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: %q is not unix seconds", ErrTimestamp, tsv)
	}
	if now.IsZero() {
		now = time.Now()
	}
	// Check the signature first so that ErrTimestamp always means an authentic
	// message that is too old or too new (a replay or a skewed clock).
	want := sum(key, id, ts, body)
	ok := false
	for _, e := range strings.Fields(sigs) {
		v, sig, found := strings.Cut(e, ",")
		if !found || v != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(sig)
		if err != nil {
			continue
		}
		if hmac.Equal(got, want) {
			ok = true
		}
	}
	if !ok {
		return ErrBadSignature
	}
	if d := now.Sub(time.Unix(ts, 0)); d > Tolerance || d < -Tolerance {
		return fmt.Errorf("%w: message time %d is %v from now", ErrTimestamp, ts, d.Round(time.Second))
	}
	return nil
}
