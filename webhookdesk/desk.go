package webhookdesk

import (
	"crypto/sha256"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	baton "github.com/batonhq/baton"
)

// Setting names read from baton.DeskConfig.Settings.
const (
	SettingURL      = "url"
	SettingUsername = "username"
	SettingPassword = "password"
	SettingSecret   = "secret"
)

// MinSecretLen is the shortest accepted shared secret, in bytes.
const MinSecretLen = 16

// MaxInboundBody is the largest inbound request body Inbound accepts.
const MaxInboundBody = 1 << 20

// DefaultTimeout is the timeout of the client New makes when given none.
const DefaultTimeout = 30 * time.Second

// Field documents one setting of a webhook desk.
type Field struct {
	Name     string // key in baton.DeskConfig.Settings
	Required bool
	Secret   bool // never shown back or logged
	Doc      string
}

// Fields lists the settings a webhook desk reads, in the order New checks them.
func Fields() []Field {
	return []Field{
		{SettingURL, true, false, "base URL of the company's service (http or https); Baton posts to {url}/conversation/establish, {url}/chat and {url}/conversation/close"},
		{SettingUsername, false, false, "HTTP Basic user name on Baton's calls to the service"},
		{SettingPassword, false, true, "HTTP Basic password on Baton's calls to the service (needs username)"},
		{SettingSecret, true, true, "shared secret the service presents on its calls to Baton as \"Authorization: Bearer <secret>\"; at least 16 printable ASCII characters"},
	}
}

// Desk is one configured webhook desk. It is safe for concurrent use.
type Desk struct {
	base     string // without trailing slash
	username string
	password string
	basic    bool
	secret   [sha256.Size]byte // SHA-256 of the shared secret
	client   *http.Client
	now      func() time.Time
}

var _ baton.Desk = (*Desk)(nil)

// New returns the desk configured by cfg. Outbound calls go through client,
// whose Timeout bounds each call; nil means a client with DefaultTimeout.
// Invalid settings return a *baton.Error naming the field ("settings.url").
func New(cfg baton.DeskConfig, client *http.Client) (*Desk, error) {
	if cfg.Kind != "" && cfg.Kind != baton.KindWebhook {
		return nil, baton.FieldErrorf("kind", "webhookdesk cannot serve a %q desk", cfg.Kind)
	}
	s := cfg.Settings
	d := &Desk{client: client, now: time.Now}
	if d.client == nil {
		d.client = &http.Client{Timeout: DefaultTimeout}
	}

	raw := strings.TrimSpace(s[SettingURL])
	if raw == "" {
		return nil, baton.FieldErrorf("settings.url", "required: the base URL of the company's service")
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return nil, baton.FieldErrorf("settings.url", "not a URL: %w", urlCause(err))
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, baton.FieldErrorf("settings.url", "scheme must be http or https, not %q", u.Scheme)
	case u.Host == "" || u.Hostname() == "":
		return nil, baton.FieldErrorf("settings.url", "has no host")
	case u.User != nil:
		return nil, baton.FieldErrorf("settings.url", "must not carry credentials: use settings.username and settings.password")
	case u.RawQuery != "" || u.ForceQuery:
		return nil, baton.FieldErrorf("settings.url", "must not have a query: paths are appended to it")
	case u.Fragment != "":
		return nil, baton.FieldErrorf("settings.url", "must not have a fragment")
	}
	d.base = strings.TrimRight(u.String(), "/")

	d.username, d.password = s[SettingUsername], s[SettingPassword]
	switch {
	case strings.Contains(d.username, ":"):
		return nil, baton.FieldErrorf("settings.username", "must not contain a colon (HTTP Basic)")
	case hasControl(d.username):
		return nil, baton.FieldErrorf("settings.username", "must not contain control characters")
	case d.password != "" && d.username == "":
		return nil, baton.FieldErrorf("settings.username", "required when settings.password is set")
	case hasControl(d.password):
		return nil, baton.FieldErrorf("settings.password", "must not contain control characters")
	}
	d.basic = d.username != ""

	secret := s[SettingSecret]
	switch {
	case secret == "":
		return nil, baton.FieldErrorf("settings.secret", "required: the service must present it as a bearer token on its calls to Baton")
	case !printableASCII(secret):
		return nil, baton.FieldErrorf("settings.secret", "must be printable ASCII without spaces (it travels in an Authorization header)")
	case len(secret) < MinSecretLen:
		return nil, baton.FieldErrorf("settings.secret", "too short: at least %d characters", MinSecretLen)
	}
	d.secret = sha256.Sum256([]byte(secret))

	var unknown []string
	for k := range s {
		switch k {
		case SettingURL, SettingUsername, SettingPassword, SettingSecret:
		default:
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, baton.FieldErrorf("settings."+unknown[0], "unknown setting; a webhook desk reads url, username, password and secret")
	}
	return d, nil
}

// urlCause returns the innermost message of a url.Parse error, which would
// otherwise repeat the whole URL.
func urlCause(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}

// Capabilities implements baton.Desk: attachments travel as the protocol
// says (an "attachments" array, and an "Attachment:" line at the end of the
// text, which the desk writes itself), agent names when the service gives
// them, and the customer can end.
func (d *Desk) Capabilities() baton.Capabilities {
	return baton.Capabilities{Attachments: true, AgentProfile: true, EndByCustomer: true}
}

func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
