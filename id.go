package baton

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"strings"
	"time"
)

// NewID returns a random id with a prefix, like "ho_5k2...".
func NewID(prefix string) string {
	var b [15]byte
	rand.Read(b[:])
	return prefix + "_" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}

// HashKey returns how API and agent keys are stored: hex SHA-256.
func HashKey(key string) string {
	s := sha256.Sum256([]byte(key))
	return hex.EncodeToString(s[:])
}

// Now is the time as Baton records it: UTC, to the microsecond that stores
// keep. It reads time.Now, so testing/synctest bubbles see virtual time.
func Now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }
