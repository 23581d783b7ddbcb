// Package password hashes and checks people's passwords (inbox agents sign
// in with one) with argon2id, in the PHC string format:
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>
//
// where salt and hash are unpadded standard base64. The parameters travel in
// the string, so hashes made with other costs keep verifying; Check refuses
// parameters beyond what this package would ever choose, so that a planted
// hash cannot make a check cost minutes or gigabytes.
package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// The cost of a new hash: OWASP's argon2id setting of 19 MiB, two passes,
// one lane (about 20 ms on one core).
const (
	memory  = 19 * 1024 // KiB
	passes  = 2
	threads = 1
	saltLen = 16
	keyLen  = 32
)

// Limits of what a password may be, in characters (MinLen) and bytes (MaxLen).
const (
	MinLen = 10
	MaxLen = 1024
)

// ErrMalformed says a stored hash is not one this package reads.
var ErrMalformed = errors.New("password: not an argon2id hash in the PHC format")

var b64 = base64.RawStdEncoding

// Validate says why pw cannot be a password: fewer than MinLen characters,
// more than MaxLen bytes, or not UTF-8. It returns nil for a good one.
func Validate(pw string) error {
	switch {
	case !utf8.ValidString(pw) || strings.ContainsRune(pw, 0):
		return errors.New("must be UTF-8 text without NUL")
	case utf8.RuneCountInString(pw) < MinLen:
		return fmt.Errorf("must be at least %d characters", MinLen)
	case len(pw) > MaxLen:
		return fmt.Errorf("must be at most %d bytes", MaxLen)
	}
	return nil
}

// Hash returns the argon2id hash of pw with a new random salt, as a PHC
// string. It does not Validate pw.
func Hash(pw string) string {
	salt := make([]byte, saltLen)
	rand.Read(salt)
	key := argon2.IDKey([]byte(pw), salt, passes, memory, threads, keyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, memory, passes, threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// Check reports whether pw is the password encoded hashes, comparing in
// constant time. A hash it cannot read (or whose costs are out of bounds)
// is ErrMalformed.
func Check(pw, encoded string) (bool, error) {
	p, err := parse(encoded)
	if err != nil {
		return false, err
	}
	key := argon2.IDKey([]byte(pw), p.salt, p.time, p.memory, p.threads, uint32(len(p.key)))
	return subtle.ConstantTimeCompare(key, p.key) == 1, nil
}

type params struct {
	memory, time uint32
	threads      uint8
	salt, key    []byte
}

// parse reads a PHC argon2id string, bounding its costs.
func parse(s string) (params, error) {
	var p params
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return p, ErrMalformed
	}
	var m, t, l uint32
	if n, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &l); err != nil || n != 3 ||
		parts[3] != fmt.Sprintf("m=%d,t=%d,p=%d", m, t, l) {
		return p, ErrMalformed
	}
	// At most 256 MiB, 16 passes and 16 lanes; argon2 wants m ≥ 8·p.
	if m > 256*1024 || t < 1 || t > 16 || l < 1 || l > 16 || m < 8*l {
		return p, ErrMalformed
	}
	salt, err := b64.Strict().DecodeString(parts[4])
	if err != nil || len(salt) < 8 || len(salt) > 64 {
		return p, ErrMalformed
	}
	key, err := b64.Strict().DecodeString(parts[5])
	if err != nil || len(key) < 16 || len(key) > 64 {
		return p, ErrMalformed
	}
	return params{memory: m, time: t, threads: uint8(l), salt: salt, key: key}, nil
}
