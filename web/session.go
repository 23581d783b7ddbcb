package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/batonhq/baton"
)

// Cookie names. The session is the signed-in agent; the sign-in nonce binds
// the sign-in form's CSRF token to the browser that loaded it.
const (
	sessionCookie = "baton_session"
	signinCookie  = "baton_signin"
	cookiePath    = "/inbox/"
)

// session is what the session cookie carries, signed: who, in which
// workspace, from when and until when, a fingerprint of the agent's
// password hash, so that a new password ends the sessions made with the
// old, and the agent's session generation, so that signing out (or being
// disabled) ends every session made before.
type session struct {
	Agent     string `json:"a"`
	Workspace string `json:"w"`
	Issued    int64  `json:"iat"` // Unix seconds
	Expires   int64  `json:"exp"` // Unix seconds
	Password  string `json:"p"`
	Gen       int64  `json:"g"` // the agent's SessionGen when it was made
}

var b64 = base64.RawURLEncoding

// errSession says a cookie is not a live session: garbled, forged, expired
// or issued in the future.
var errSession = errors.New("web: not a valid session")

// mac is HMAC-SHA256 of the parts under the key, each part ending in a
// newline so that no two lists of parts sign alike.
func mac(key []byte, parts ...string) []byte {
	m := hmac.New(sha256.New, key)
	for _, p := range parts {
		m.Write([]byte(p))
		m.Write([]byte{'\n'})
	}
	return m.Sum(nil)
}

// passwordPrint is a keyed fingerprint of an agent's password hash.
func passwordPrint(key []byte, a baton.InboxAgent) string {
	return b64.EncodeToString(mac(key, "baton web password", a.PasswordHash)[:12])
}

// newSession is a session for the agent from now for ttl.
func newSession(key []byte, a baton.InboxAgent, now time.Time, ttl time.Duration) session {
	return session{Agent: a.ID, Workspace: a.WorkspaceID, Issued: now.Unix(), Expires: now.Add(ttl).Unix(), Password: passwordPrint(key, a), Gen: a.SessionGen}
}

// encode signs s as a cookie value: base64url(JSON) "." base64url(HMAC).
func (s session) encode(key []byte) string {
	payload, _ := json.Marshal(s)
	p := b64.EncodeToString(payload)
	return p + "." + b64.EncodeToString(mac(key, "baton web session v1", p))
}

// decodeSession verifies a cookie value and reads its session, live at now.
func decodeSession(key []byte, value string, now time.Time) (session, error) {
	var s session
	p, sig, ok := strings.Cut(value, ".")
	if !ok || len(value) > 4096 {
		return s, errSession
	}
	got, err := b64.DecodeString(sig)
	if err != nil || !hmac.Equal(got, mac(key, "baton web session v1", p)) {
		return s, errSession
	}
	payload, err := b64.DecodeString(p)
	if err != nil || json.Unmarshal(payload, &s) != nil || s.Agent == "" || s.Workspace == "" {
		return session{}, errSession
	}
	// A minute of clock skew between instances is forgiven.
	if t := now.Unix(); t >= s.Expires || s.Issued > t+60 {
		return session{}, errSession
	}
	return s, nil
}

// csrfToken is the CSRF token of the forms a session's pages hold: an HMAC
// of the session cookie, so it is the session's alone and cannot be made
// without the key.
func csrfToken(key []byte, cookie string) string {
	return b64.EncodeToString(mac(key, "baton web csrf", cookie))
}

// signinToken is the sign-in form's CSRF token, bound to its nonce cookie.
func signinToken(key []byte, nonce string) string {
	return b64.EncodeToString(mac(key, "baton web signin", nonce))
}

// validToken compares a token from a form with the one expected, in
// constant time; an empty one is never valid.
func validToken(got, want string) bool {
	return got != "" && hmac.Equal([]byte(got), []byte(want))
}

// randomToken is 16 random bytes, base64url.
func randomToken() string {
	b := make([]byte, 16)
	rand.Read(b)
	return b64.EncodeToString(b)
}

// cookie builds one of the inbox's cookies: HttpOnly, SameSite=Lax, Secure
// when the request came over TLS or the server is told it is behind TLS. A
// negative maxAge removes it.
func (s *Server) cookie(r *http.Request, name, value, path string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: path, MaxAge: maxAge, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: s.p.Secure || r.TLS != nil}
}
