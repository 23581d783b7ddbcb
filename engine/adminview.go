package engine

import (
	"net/mail"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/hours"
	"github.com/batonhq/baton/stdwebhook"
)

// The views are what the admin API shows of the configuration, and what the
// audit log keeps before and after a change: no secret is in any of them.

// WorkspaceView is a workspace as the admin API shows it.
type WorkspaceView struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// ViewWorkspace returns w's view.
func ViewWorkspace(w baton.Workspace) WorkspaceView {
	return WorkspaceView{ID: w.ID, Name: w.Name, CreatedAt: w.CreatedAt}
}

// KeyView is an API key as the admin API shows it: never the secret.
type KeyView struct {
	ID         string         `json:"id"`
	Name       string         `json:"name"`
	Prefix     string         `json:"prefix"`
	Scope      baton.KeyScope `json:"scope"`
	BotID      string         `json:"bot_id"`
	CreatedAt  time.Time      `json:"created_at"`
	LastUsedAt *time.Time     `json:"last_used_at"`
}

// ViewKey returns k's view.
func ViewKey(k baton.APIKey) KeyView {
	return KeyView{ID: k.ID, Name: k.Name, Prefix: k.Prefix, Scope: k.Scope, BotID: k.BotID, CreatedAt: k.CreatedAt, LastUsedAt: timeOrNil(k.LastUsedAt)}
}

// BotView is a bot as the admin API shows it: whether it has a secret, never the secret.
type BotView struct {
	ID                  string        `json:"id"`
	Name                string        `json:"name"`
	WebhookURL          string        `json:"webhook_url"`
	WebhookSecretSet    bool          `json:"webhook_secret_set"`
	PreviousSecretUntil *time.Time    `json:"previous_secret_until"`
	DeskID              string        `json:"desk_id"`
	Policy              *baton.Policy `json:"policy"`
	CreatedAt           time.Time     `json:"created_at"`
}

// ViewBot returns b's view.
func ViewBot(b baton.Bot) BotView {
	v := BotView{ID: b.ID, Name: b.Name, WebhookURL: b.WebhookURL, WebhookSecretSet: b.WebhookSecret != "",
		DeskID: b.DeskID, Policy: b.Policy, CreatedAt: b.CreatedAt}
	if b.PreviousSecret != "" && now().Before(b.PreviousUntil) {
		v.PreviousSecretUntil = timeOrNil(b.PreviousUntil)
	}
	return v
}

// DeskView is a desk as the admin API shows it: its settings without the
// secret ones, which show only as set or unset.
type DeskView struct {
	ID        string            `json:"id"`
	Name      string            `json:"name"`
	Kind      baton.DeskKind    `json:"kind"`
	Settings  map[string]string `json:"settings"`
	Secrets   map[string]string `json:"secrets"`
	Policy    *baton.Policy     `json:"policy"`
	Status    baton.DeskStatus  `json:"status"`
	LastError string            `json:"last_error"`
	CheckedAt *time.Time        `json:"checked_at"`
	CreatedAt time.Time         `json:"created_at"`
}

// ViewDesk returns d's view; secrets names the kind's secret settings.
func ViewDesk(d baton.DeskConfig, secrets []string) DeskView {
	v := DeskView{ID: d.ID, Name: d.Name, Kind: d.Kind, Settings: map[string]string{}, Secrets: map[string]string{},
		Policy: d.Policy, Status: d.Status, LastError: d.LastError, CheckedAt: timeOrNil(d.CheckedAt), CreatedAt: d.CreatedAt}
	if v.Status == "" {
		v.Status = baton.NotConfigured
	}
	for _, name := range secrets {
		v.Secrets[name] = "unset"
	}
	for k, val := range d.Settings {
		if secret(k, secrets) {
			if val != "" {
				v.Secrets[k] = "set"
			}
			continue
		}
		v.Settings[k] = val
	}
	return v
}

// secret reports whether setting name holds a secret: one the kind names,
// or any whose name says so.
func secret(name string, secrets []string) bool {
	for _, s := range secrets {
		if s == name {
			return true
		}
	}
	for _, w := range []string{"secret", "token", "password", "key"} {
		if strings.Contains(name, w) {
			return true
		}
	}
	return false
}

// AgentView is an inbox agent as the admin API shows it.
type AgentView struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Email       string    `json:"email"`
	DeskID      string    `json:"desk_id"`
	Disabled    bool      `json:"disabled"`
	PasswordSet bool      `json:"password_set"`
	KeySet      bool      `json:"key_set"`
	CreatedAt   time.Time `json:"created_at"`
}

// ViewAgent returns a's view.
func ViewAgent(a baton.InboxAgent) AgentView {
	return AgentView{ID: a.ID, Name: a.Name, Email: a.Email, DeskID: a.DeskID, Disabled: a.Disabled,
		PasswordSet: a.PasswordHash != "", KeySet: a.KeyHash != "", CreatedAt: a.CreatedAt}
}

func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// checkID checks an id given by the caller: 1 to 64 letters, digits, '-', '_' or '.'.
func checkID(field, id string) error {
	if id == "" || len(id) > 64 {
		return baton.FieldErrorf(field, "must be 1 to 64 letters, digits, '-', '_' or '.'")
	}
	for _, c := range id {
		if !(c == '_' || c == '-' || c == '.' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return baton.FieldErrorf(field, "%q must be 1 to 64 letters, digits, '-', '_' or '.'", id)
		}
	}
	return nil
}

// maxName is the longest name of a workspace, key, bot, desk or agent.
const maxName = 200

// checkName checks a name: required when required, at most maxName characters.
func checkName(field, name string, required bool) error {
	switch {
	case required && strings.TrimSpace(name) == "":
		return baton.FieldErrorf(field, "is required")
	case utf8.RuneCountInString(name) > maxName:
		return baton.FieldErrorf(field, "is longer than %d characters", maxName)
	}
	return nil
}

// checkWebhook checks a bot's webhook URL and secret.
func checkWebhook(u, secret string) error {
	if u != "" {
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return baton.FieldErrorf("webhook_url", "%q is not an http or https URL", u)
		}
	}
	if secret != "" {
		if _, err := stdwebhook.ParseSecret(secret); err != nil {
			return &baton.Error{Code: baton.EINVALID, Field: "webhook_secret",
				Message: strings.TrimPrefix(err.Error(), "webhook: ") + `; want "whsec_" and the base64 of 24 to 64 random bytes`, Err: err}
		}
	}
	return nil
}

// checkEmail checks an email address.
func checkEmail(field, email string) error {
	if m, err := mail.ParseAddress(email); err != nil || m.Address != email {
		return baton.FieldErrorf(field, "%q is not an email address", email)
	}
	return nil
}

// CheckPolicy validates a policy as the configuration file's are; errors
// name the field under field ("policy.periods[0].start").
func CheckPolicy(field string, p *baton.Policy) error {
	if p == nil {
		return nil
	}
	under := func(err error) error {
		if be, ok := err.(*baton.Error); ok {
			c := *be
			if c.Field != "" {
				c.Field = field + "." + c.Field
			} else {
				c.Field = field
			}
			return &c
		}
		return &baton.Error{Code: baton.EINVALID, Field: field, Message: err.Error(), Err: err}
	}
	if err := hours.Validate(*p); err != nil {
		return under(err)
	}
	if err := p.Check(); err != nil {
		return under(err)
	}
	return nil
}
