package sqlstore

import (
	"strings"

	"github.com/batonhq/baton"
)

// InboxAgentsByEmail lists the inbox agents of live workspaces whose email
// is email with ASCII letters compared without case, oldest first. An empty
// email matches nothing. SQL's lower() narrows the rows (SQLite's folds only
// ASCII, PostgreSQL's more); the comparison in Go makes both stores answer
// alike.
func (t *tx) InboxAgentsByEmail(email string) ([]baton.InboxAgent, error) {
	if email == "" {
		return nil, nil
	}
	found, err := all(t, scanAgent, `SELECT `+agentColumns+` FROM inbox_agents
		WHERE email <> '' AND lower(email) = lower(?)
			AND workspace_id IN (SELECT id FROM workspaces WHERE deleted_at = 0)
		ORDER BY created_at, id`, email)
	if err != nil {
		return nil, err
	}
	var out []baton.InboxAgent
	for _, a := range found {
		if asciiLower(a.Email) == asciiLower(email) {
			out = append(out, a)
		}
	}
	return out, nil
}

// asciiLower lowers the ASCII letters of s and leaves every other rune.
func asciiLower(s string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + ('a' - 'A')
		}
		return r
	}, s)
}
