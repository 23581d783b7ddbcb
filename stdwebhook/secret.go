package stdwebhook

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// SecretPrefix is the prefix of a secret's printable form.
const SecretPrefix = "whsec_"

// Bounds on the decoded length of a secret, in bytes.
const (
	MinKeyLen = 24
	MaxKeyLen = 64
)

// NewSecret returns a fresh secret: "whsec_" and the base64 of 32 random bytes.
func NewSecret() string {
	b := make([]byte, 32)
	rand.Read(b) // never returns an error; it crashes the program instead
	return SecretPrefix + base64.StdEncoding.EncodeToString(b)
}

// ParseSecret decodes a secret ("whsec_" + base64; the prefix may be omitted)
// into its HMAC key. It rejects empty secrets, invalid base64 and keys outside
// MinKeyLen..MaxKeyLen bytes.
func ParseSecret(s string) ([]byte, error) {
	enc := strings.TrimPrefix(strings.TrimSpace(s), SecretPrefix)
	if enc == "" {
		return nil, errors.New("webhook: empty secret")
	}
	key, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return nil, fmt.Errorf("webhook: secret is not valid base64: %w", err)
	}
	if len(key) < MinKeyLen || len(key) > MaxKeyLen {
		return nil, fmt.Errorf("webhook: secret key is %d bytes, want %d to %d", len(key), MinKeyLen, MaxKeyLen)
	}
	return key, nil
}
