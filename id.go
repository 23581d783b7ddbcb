package baton

import (
	"crypto/rand"
	"encoding/base32"
	"strings"
	"time"
)

// NewID returns a random id with a prefix, like "ho_5k2...".
func NewID(prefix string) string {
	var b [15]byte
	rand.Read(b[:])
	return prefix + "_" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}

// Now is the time as Baton records it: UTC, to the microsecond that stores
// keep. It reads time.Now, so testing/synctest bubbles see virtual time.
func Now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }
