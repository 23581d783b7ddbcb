package intercom

import (
	"net/url"
	"regexp"
	"slices"
	"strings"

	baton "github.com/batonhq/baton"
)

// Setting names read from baton.DeskConfig.Settings.
const (
	SettingAccessToken  = "access_token"
	SettingClientSecret = "client_secret"
	SettingAPIVersion   = "api_version"
	SettingAdminID      = "admin_id"
	SettingBaseURL      = "base_url"
)

// Defaults.
const (
	DefaultBaseURL = "https://api.intercom.io"
	// DefaultVersion is the Intercom-Version Baton pins: the newest in
	// Intercom's published OpenAPI descriptions. 2.17 payloads are read too.
	DefaultVersion = "2.16"
)

// Field documents one setting of an Intercom desk.
type Field struct {
	Name     string // key in baton.DeskConfig.Settings
	Required bool
	Secret   bool // never shown back or logged
	Doc      string
}

// Fields lists the settings an Intercom desk reads.
func Fields() []Field {
	return []Field{
		{SettingAccessToken, true, true, "the app's access token (Developer Hub → your app → Authentication); sent as Authorization: Bearer"},
		{SettingClientSecret, true, true, "the app's client secret (Developer Hub → your app → Basic information), which signs the webhooks (X-Hub-Signature)"},
		{SettingAPIVersion, false, false, `the Intercom-Version Baton sends, "2.16" by default`},
		{SettingAdminID, false, false, "the id of the admin Baton closes conversations as (default: the admin who owns the access token, GET /me)"},
		{SettingBaseURL, false, false, "the API's base URL: https://api.intercom.io (default), https://api.eu.intercom.io or https://api.au.intercom.io; point it at `baton sim intercom` to test"},
	}
}

// Settings are an Intercom desk's parsed settings.
type Settings struct {
	Token   string
	Secret  string
	Version string
	AdminID string // "" means the token's own admin
	BaseURL string // without a trailing slash
}

var (
	versionRE = regexp.MustCompile(`^(\d\.\d{1,2}|Preview|Unstable)$`)
	digitsRE  = regexp.MustCompile(`^\d{1,20}$`)
)

// ParseSettings checks an Intercom desk's settings. Errors are *baton.Error
// naming the field ("settings.access_token").
func ParseSettings(s map[string]string) (Settings, error) {
	known := []string{SettingAccessToken, SettingClientSecret, SettingAPIVersion, SettingAdminID, SettingBaseURL}
	keys := make([]string, 0, len(s))
	for k := range s {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !slices.Contains(known, k) {
			return Settings{}, baton.FieldErrorf("settings."+k, "unknown setting; an Intercom desk reads %s", strings.Join(known, ", "))
		}
	}
	get := func(k string) string { return strings.TrimSpace(s[k]) }
	st := Settings{Token: get(SettingAccessToken), Secret: get(SettingClientSecret), Version: get(SettingAPIVersion),
		AdminID: get(SettingAdminID), BaseURL: DefaultBaseURL}
	for _, f := range []struct{ name, val, what string }{
		{SettingAccessToken, st.Token, "the app's access token"},
		{SettingClientSecret, st.Secret, "the app's client secret, which signs the webhooks"},
	} {
		switch {
		case f.val == "":
			return st, baton.FieldErrorf("settings."+f.name, "required: %s", f.what)
		case !token(f.val):
			return st, baton.FieldErrorf("settings."+f.name, "must be printable ASCII without spaces")
		}
	}
	if st.Version == "" {
		st.Version = DefaultVersion
	} else if !versionRE.MatchString(st.Version) {
		return st, baton.FieldErrorf("settings."+SettingAPIVersion, `must be an Intercom API version like "2.16", not %q`, clip(st.Version, 20))
	}
	if st.AdminID != "" && !digitsRE.MatchString(st.AdminID) {
		return st, baton.FieldErrorf("settings."+SettingAdminID, "must be an admin id (digits), not %q", clip(st.AdminID, 30))
	}
	if b := get(SettingBaseURL); b != "" {
		u, err := url.Parse(b)
		switch {
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
			return st, baton.FieldErrorf("settings."+SettingBaseURL, "must be an absolute http or https URL")
		case u.User != nil || u.RawQuery != "" || u.Fragment != "":
			return st, baton.FieldErrorf("settings."+SettingBaseURL, "must carry no credentials, query or fragment")
		}
		st.BaseURL = strings.TrimRight(u.String(), "/")
	}
	return st, nil
}

// token reports whether s is printable ASCII without spaces.
func token(s string) bool {
	return s != "" && strings.IndexFunc(s, func(r rune) bool { return r <= ' ' || r > '~' }) < 0
}

// clip shortens s to n runes for an error message.
func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
