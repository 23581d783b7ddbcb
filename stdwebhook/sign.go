package stdwebhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
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

// Signer signs messages with one secret. It is safe for concurrent use.
type Signer struct {
	key []byte
}

// NewSigner returns a Signer for secret, which must pass ParseSecret.
func NewSigner(secret string) (*Signer, error) {
	key, err := ParseSecret(secret)
	if err != nil {
		return nil, err
	}
	return &Signer{key: key}, nil
}

// Sign returns the signature "v1,<base64 HMAC-SHA256(key, id.ts.body)>" where
// ts is ts.Unix().
func (s *Signer) Sign(id string, ts time.Time, body []byte) string {
	mac := s.mac(id, ts.Unix(), body)
	out := make([]byte, 3, 3+base64.StdEncoding.EncodedLen(len(mac)))
	copy(out, "v1,")
	return string(base64.StdEncoding.AppendEncode(out, mac))
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

// mac returns HMAC-SHA256(key, id + "." + ts + "." + body).
func (s *Signer) mac(id string, ts int64, body []byte) []byte {
	return sum(s.key, id, ts, body)
}

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
