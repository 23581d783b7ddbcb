package stdwebhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Header names defined by Standard Webhooks.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// Signer signs messages with one secret, or with several while a secret is
// being rotated. It is safe for concurrent use.
type Signer struct {
	keys [][]byte // the first is the current secret's
}

// NewSigner returns a Signer for secret and, while a secret is being
// rotated, for others too (the previous one): every message it signs then
// carries one signature per secret, secret's first, so a receiver that
// holds any one of them verifies it. Each secret must pass ParseSecret.
func NewSigner(secret string, others ...string) (*Signer, error) {
	key, err := ParseSecret(secret)
	if err != nil {
		return nil, err
	}
	s := &Signer{keys: [][]byte{key}}
	for i, o := range others {
		k, err := ParseSecret(o)
		if err != nil {
			return nil, fmt.Errorf("webhook: other secret %d: %w", i+1, err)
		}
		s.keys = append(s.keys, k)
	}
	return s, nil
}

// Sign returns the signature "v1,<base64 HMAC-SHA256(key, id.ts.body)>" where
// ts is ts.Unix(), one per secret of the Signer, separated by spaces.
func (s *Signer) Sign(id string, ts time.Time, body []byte) string {
	n := 3 + base64.StdEncoding.EncodedLen(sha256.Size)
	out := make([]byte, 0, len(s.keys)*(n+1))
	for i, key := range s.keys {
		if i > 0 {
			out = append(out, ' ')
		}
		out = append(out, "v1,"...)
		out = base64.StdEncoding.AppendEncode(out, sum(key, id, ts.Unix(), body))
	}
	return string(out)
}

// Headers returns the webhook-id, webhook-timestamp and webhook-signature
// headers for one delivery attempt at ts, plus Content-Type application/json.
func (s *Signer) Headers(id string, ts time.Time, body []byte) http.Header {
	h := make(http.Header, 4)
	h.Set("Content-Type", "application/json")
	h.Set(HeaderID, id)
	h.Set(HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	h.Set(HeaderSignature, s.Sign(id, ts, body))
	return h
}

// sum returns HMAC-SHA256(key, id + "." + ts + "." + body).
func sum(key []byte, id string, ts int64, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	var buf [24]byte
	b := append(buf[:0], '.')
	b = strconv.AppendInt(b, ts, 10)
	b = append(b, '.')
	m.Write([]byte(id))
	m.Write(b)
	m.Write(body)
	return m.Sum(nil)
}
