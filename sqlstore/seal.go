package sqlstore

import (
	"crypto/rand"
	"errors"
)

// sealVersion is the first byte of every sealed value, so the format (and the
// key) can change later without guessing.
const sealVersion = 1

// errOpen is returned when a sealed value cannot be opened; it never carries the value.
var errOpen = errors.New("cannot decrypt secret (wrong key or corrupt value)")

// seal encrypts plain with AES-256-GCM. ad binds the result to one column of
// one row, so a sealed value copied elsewhere does not open. The result is
// version || nonce || ciphertext+tag; nil plain (no secret) stays nil.
func (s *Store) seal(plain []byte, ad string) []byte {
	if plain == nil {
		return nil
	}
	ns := s.aead.NonceSize()
	out := make([]byte, 1+ns, 1+ns+len(plain)+s.aead.Overhead())
	out[0] = sealVersion
	rand.Read(out[1:])
	return s.aead.Seal(out, out[1:], plain, []byte(ad))
}

// open decrypts what seal produced.
func (s *Store) open(b []byte, ad string) ([]byte, error) {
	if len(b) == 0 {
		return nil, nil
	}
	ns := s.aead.NonceSize()
	if b[0] != sealVersion || len(b) < 1+ns+s.aead.Overhead() {
		return nil, errOpen
	}
	plain, err := s.aead.Open(nil, b[1:1+ns], b[1+ns:], []byte(ad))
	if err != nil {
		return nil, errOpen
	}
	if plain == nil {
		plain = []byte{}
	}
	return plain, nil
}
