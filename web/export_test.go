package web

import (
	"time"

	"github.com/batonhq/baton"
)

// SessionCookie signs a session cookie's value for a, issued at issued and
// lasting ttl, as sign-in would: tests make expired ones with it.
func SessionCookie(key []byte, a baton.InboxAgent, issued time.Time, ttl time.Duration) string {
	return newSession(key, a, issued, ttl).encode(key)
}

// CSRFToken is the CSRF token of a session cookie's forms.
func CSRFToken(key []byte, cookie string) string { return csrfToken(key, cookie) }

// ConsoleFields are the console's settings forms: kind → setting names and secrecy.
func ConsoleFields() map[baton.DeskKind]map[string]bool {
	out := map[baton.DeskKind]map[string]bool{}
	for k, fs := range consoleFields {
		out[k] = map[string]bool{}
		for _, f := range fs {
			out[k][f.Name] = f.Secret
		}
	}
	return out
}
