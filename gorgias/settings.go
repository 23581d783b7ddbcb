package gorgias

import (
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	baton "github.com/batonhq/baton"
)

// Setting names read from baton.DeskConfig.Settings.
const (
	SettingDomain           = "domain"
	SettingBaseURL          = "base_url"
	SettingEmail            = "email"
	SettingAPIKey           = "api_key"
	SettingIntegrationToken = "integration_token"
	SettingRateLimit        = "rate_limit"
)

// MinTokenLen is the shortest accepted integration_token.
const MinTokenLen = 16

// Default rate: API-key integrations may make 40 requests per 20 seconds.
const (
	DefaultLimit  = 40
	DefaultWindow = 20 * time.Second
)

// Field documents one setting of a Gorgias desk.
type Field struct {
	Name     string // key in baton.DeskConfig.Settings
	Required bool
	Secret   bool // never shown back or logged
	Doc      string
}

// Fields lists the settings a Gorgias desk reads.
func Fields() []Field {
	return []Field{
		{SettingDomain, true, false, `the account's subdomain: "acme" for https://acme.gorgias.com`},
		{SettingBaseURL, false, false, "the helpdesk's base URL instead of https://{domain}.gorgias.com (point it at `baton sim gorgias`)"},
		{SettingEmail, true, false, "the email of the user whose REST API key Baton uses (Settings → REST API: Username)"},
		{SettingAPIKey, true, true, "that user's REST API key (Settings → REST API: Password); sent as HTTP Basic email:api_key"},
		{SettingIntegrationToken, true, true, "a random secret of at least 16 characters the HTTP integration sends (token= in its URL or an X-Baton-Token header)"},
		{SettingRateLimit, false, false, `requests per window Baton allows itself, "40/20s" by default (OAuth apps 80/20s, enterprise 40/10s)`},
	}
}

// Settings are a Gorgias desk's parsed settings.
type Settings struct {
	Domain  string
	BaseURL string // without a trailing slash
	Email   string
	APIKey  string
	Token   string
	Limit   int
	Window  time.Duration
}

var domainRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// ParseSettings checks a Gorgias desk's settings. Errors are *baton.Error
// naming the field ("settings.domain").
func ParseSettings(s map[string]string) (Settings, error) {
	st := Settings{Limit: DefaultLimit, Window: DefaultWindow}
	get := func(k string) string { return strings.TrimSpace(s[k]) }
	var unknown []string
	for k := range s {
		switch k {
		case SettingDomain, SettingBaseURL, SettingEmail, SettingAPIKey, SettingIntegrationToken, SettingRateLimit:
		default:
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return st, baton.FieldErrorf("settings."+unknown[0], "unknown setting; a Gorgias desk reads domain, base_url, email, api_key, integration_token and rate_limit")
	}
	// "acme", "acme.gorgias.com" or the whole "https://acme.gorgias.com/api/".
	st.Domain = strings.ToLower(get(SettingDomain))
	st.Domain = strings.TrimPrefix(strings.TrimPrefix(st.Domain, "https://"), "http://")
	st.Domain, _, _ = strings.Cut(st.Domain, "/")
	st.Domain = strings.TrimSuffix(st.Domain, ".gorgias.com")
	switch {
	case st.Domain == "":
		return st, baton.FieldErrorf("settings.domain", `required: the account's subdomain ("acme" for acme.gorgias.com)`)
	case !domainRE.MatchString(st.Domain):
		return st, baton.FieldErrorf("settings.domain", "must be the account's subdomain: letters, digits and dashes")
	}
	st.BaseURL = "https://" + st.Domain + ".gorgias.com"
	if b := get(SettingBaseURL); b != "" {
		u, err := url.Parse(b)
		switch {
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
			return st, baton.FieldErrorf("settings.base_url", "must be an absolute http or https URL")
		case u.User != nil || u.RawQuery != "" || u.Fragment != "":
			return st, baton.FieldErrorf("settings.base_url", "must carry no credentials, query or fragment")
		}
		st.BaseURL = strings.TrimSuffix(strings.TrimRight(u.String(), "/"), "/api")
	}
	st.Email = get(SettingEmail)
	switch {
	case st.Email == "":
		return st, baton.FieldErrorf("settings.email", "required: the email of the REST API user")
	case !strings.Contains(st.Email, "@") || strings.Contains(st.Email, ":") || !printable(st.Email):
		return st, baton.FieldErrorf("settings.email", "must be an email address (no colon or space)")
	}
	st.APIKey = get(SettingAPIKey)
	switch {
	case st.APIKey == "":
		return st, baton.FieldErrorf("settings.api_key", "required: the REST API key")
	case !printable(st.APIKey):
		return st, baton.FieldErrorf("settings.api_key", "must be printable ASCII without spaces")
	}
	st.Token = get(SettingIntegrationToken)
	switch {
	case st.Token == "":
		return st, baton.FieldErrorf("settings.integration_token", "required: the secret the HTTP integration presents")
	case !printable(st.Token):
		return st, baton.FieldErrorf("settings.integration_token", "must be printable ASCII without spaces")
	case len(st.Token) < MinTokenLen:
		return st, baton.FieldErrorf("settings.integration_token", "too short: at least %d characters", MinTokenLen)
	}
	if r := get(SettingRateLimit); r != "" {
		n, w, ok := strings.Cut(r, "/")
		limit, err := strconv.Atoi(strings.TrimSpace(n))
		window, err2 := time.ParseDuration(strings.TrimSpace(w))
		if !ok || err != nil || err2 != nil || limit < 1 || window <= 0 {
			return st, baton.FieldErrorf("settings.rate_limit", `must be requests/window, like "40/20s", not %q`, r)
		}
		st.Limit, st.Window = limit, window
	}
	return st, nil
}

// printable reports whether s is printable ASCII without spaces.
func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return s != ""
}
