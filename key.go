package baton

import (
	"crypto/sha256"
	"encoding/hex"
)

// HashKey returns how API and agent keys are stored: hex SHA-256.
func HashKey(key string) string {
	s := sha256.Sum256([]byte(key))
	return hex.EncodeToString(s[:])
}
