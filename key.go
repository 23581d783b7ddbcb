package baton

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"strings"
)

// Key prefixes say what a secret Baton makes is for.
const (
	PrefixAPIKey   = "bk_"   // a workspace's bot API key
	PrefixAdminKey = "badm_" // an admin API key
	PrefixAgentKey = "bak_"  // an inbox agent's key
)

// MinKeyLen is the fewest characters a key declared in a configuration
// file may have (the keys Baton makes are far longer). A shorter key could
// be guessed: online, since key checks are not rate-limited, or offline
// from its key id, the first 16 hex digits of its SHA-256 (see KeyID).
const MinKeyLen = 16

// HashKey returns how API and agent keys are stored: hex SHA-256.
func HashKey(key string) string {
	s := sha256.Sum256([]byte(key))
	return hex.EncodeToString(s[:])
}

// NewKey returns a new secret key: prefix and 32 random bytes in lower-case base32.
func NewKey(prefix string) string {
	var b [32]byte
	rand.Read(b[:])
	return prefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}

// KeyID is the stable id of the key with this hash, for keys that come
// without one (from a configuration file).
func KeyID(hash string) string {
	if len(hash) > 16 {
		hash = hash[:16]
	}
	return "key_" + hash
}

// KeyPrefix returns the first characters of a key, to recognise it by:
// its kind's prefix and eight more, but never more than a third of the key
// (a short key from a file keeps most of its secret).
func KeyPrefix(key string) string {
	n := strings.IndexByte(key, '_') + 9
	if n < 9 {
		n = 8
	}
	return key[:min(n, len(key)/3)]
}
