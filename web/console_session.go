package web

import (
	"crypto/hmac"
	"encoding/json"
	"strings"
	"time"

	"github.com/batonhq/baton"
)

// The console's session: a cookie of its own, apart from the inbox's.
const (
	consoleCookie       = "baton_console"
	consoleSigninCookie = "baton_console_signin"
	consolePath         = "/console/"
	// ConsoleSessionTTL is how long a console session lasts from sign-in.
	ConsoleSessionTTL = 8 * time.Hour
)

// consoleSession is what the console cookie carries, signed: the admin key's
// id and a keyed fingerprint of its hash (never the key), so that the
// session ends when the key is revoked or replaced under the same id.
type consoleSession struct {
	Key     string `json:"k"`
	Print   string `json:"p"`
	Issued  int64  `json:"iat"`
	Expires int64  `json:"exp"`
	Gen     int64  `json:"g"` // the key's SessionGen when it was made
}

// adminPrint is a keyed fingerprint of an admin key's hash.
func adminPrint(key []byte, k baton.AdminKey) string {
	return b64.EncodeToString(mac(key, "baton console admin key", k.Hash)[:12])
}

func newConsoleSession(key []byte, k baton.AdminKey, now time.Time, ttl time.Duration) consoleSession {
	return consoleSession{Key: k.ID, Print: adminPrint(key, k), Issued: now.Unix(), Expires: now.Add(ttl).Unix(), Gen: k.SessionGen}
}

func (s consoleSession) encode(key []byte) string {
	payload, _ := json.Marshal(s)
	p := b64.EncodeToString(payload)
	return p + "." + b64.EncodeToString(mac(key, "baton console session v1", p))
}

func decodeConsoleSession(key []byte, value string, now time.Time) (consoleSession, error) {
	var s consoleSession
	p, sig, ok := strings.Cut(value, ".")
	if !ok || len(value) > 4096 {
		return s, errSession
	}
	got, err := b64.DecodeString(sig)
	if err != nil || !hmac.Equal(got, mac(key, "baton console session v1", p)) {
		return s, errSession
	}
	payload, err := b64.DecodeString(p)
	if err != nil || json.Unmarshal(payload, &s) != nil || s.Key == "" || s.Print == "" {
		return consoleSession{}, errSession
	}
	if t := now.Unix(); t >= s.Expires || s.Issued > t+60 {
		return consoleSession{}, errSession
	}
	return s, nil
}

// consoleCSRF is the CSRF token of a console session's forms.
func consoleCSRF(key []byte, cookie string) string {
	return b64.EncodeToString(mac(key, "baton console csrf", cookie))
}

// consoleSigninToken is the console sign-in form's token, bound to its nonce cookie.
func consoleSigninToken(key []byte, nonce string) string {
	return b64.EncodeToString(mac(key, "baton console signin", nonce))
}
