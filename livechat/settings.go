package livechat

import (
	"encoding/base64"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	baton "github.com/batonhq/baton"
)

// Setting names read from baton.DeskConfig.Settings, as the LiveChat
// Developer Console names the values.
const (
	SettingMode           = "mode"
	SettingOrganizationID = "organization_id"
	SettingLicenseID      = "license_id"
	SettingClientID       = "client_id"
	SettingClientSecret   = "client_secret"
	SettingRedirectURI    = "redirect_uri"
	SettingAccountID      = "account_id"
	SettingToken          = "token"
	SettingSecretKey      = "secret_key"
	SettingGroupID        = "group_id"
	SettingGroups         = "groups"
	SettingAgentEmail     = "agent_email"
	SettingAPIURL         = "api_url"
	SettingAccountsURL    = "accounts_url"
)

// Modes.
const (
	ModeRelay = "relay" // the bot hands conversations into LiveChat
	ModeSeat  = "seat"  // the bot answers in LiveChat as an agent seat
)

// MinSecretKeyLen is the shortest accepted webhook secret_key.
const MinSecretKeyLen = 16

// DefaultTimeout is the timeout of the HTTP client New makes when given none.
const DefaultTimeout = 30 * time.Second

// Field documents one setting of a LiveChat desk.
type Field struct {
	Name     string // key in baton.DeskConfig.Settings
	Required string // "always", "relay", "seat" or "" (optional)
	Secret   bool   // never shown back or logged
	Doc      string // what the value is and where the console shows it
}

// Fields lists the settings a LiveChat desk reads.
func Fields() []Field {
	return []Field{
		{SettingMode, "", false, `"relay" (default): hand conversations into LiveChat; "seat": the bot answers as the agent agent_email and transfers chats to human groups`},
		{SettingOrganizationID, "relay", false, "the license's Organization ID (Developer Console: Settings → Account); or give license_id"},
		{SettingLicenseID, "", false, "the license number, looked up to the organization id when organization_id is empty"},
		{SettingClientID, "always", false, "the Client Id of your app's App Authorization block; owner of the webhooks and of customer identities"},
		{SettingClientSecret, "", true, "the app's Client Secret; accepted for completeness, no call Baton makes needs it"},
		{SettingRedirectURI, "relay", false, "one of the app's Redirect URIs; the customer cookie grant names it"},
		{SettingAccountID, "always", false, "the Account ID shown with the personal access token"},
		{SettingToken, "always", true, "the personal access token (its Base64 form from the console is accepted too); sent as HTTP Basic account_id:token"},
		{SettingSecretKey, "always", true, "the chat webhooks' Secret key; LiveChat sends it in every webhook body"},
		{SettingGroupID, "", false, "relay: the group handoffs are routed to (default 0, all agents)"},
		{SettingGroups, "", false, `relay: routing hints to groups, "sales=1,billing=2"; a handoff's routing hint picks one (a hint that is a group id works too)`},
		{SettingAgentEmail, "seat", false, "seat: the agent seat the bot takes over (the PAT's own agent); relay: optional, the PAT's agent id"},
		{SettingAPIURL, "", false, "the Web API base URL (default " + DefaultAPIURL + "; point it at `baton sim livechat` locally)"},
		{SettingAccountsURL, "", false, "the Accounts API base URL (default " + DefaultAccountsURL + ")"},
	}
}

// Settings are a LiveChat desk's parsed settings.
type Settings struct {
	Mode           string         // ModeRelay or ModeSeat
	OrganizationID string         // empty when LicenseID is given
	LicenseID      int64          // 0 unless given instead of OrganizationID
	ClientID       string         // the app's Client Id
	ClientSecret   string         // the app's Client Secret (unused by Baton's calls)
	RedirectURI    string         // one of the app's Redirect URIs
	AccountID      string         // the PAT's account
	Token          string         // the PAT itself (decoded from the console's Base64 form)
	SecretKey      string         // the chat webhooks' secret_key
	GroupID        int            // relay: the default group
	Groups         map[string]int // routing hint (lower case) → group id
	AgentEmail     string         // seat: the seat agent; relay: the PAT's agent, if given
	APIURL         string         // Web API base URL, without a trailing slash
	AccountsURL    string         // Accounts API base URL, without a trailing slash
}

// ParseSettings checks a LiveChat desk's settings. Errors are *baton.Error
// naming the field ("settings.client_id").
func ParseSettings(s map[string]string) (Settings, error) {
	var st Settings
	get := func(k string) string { return strings.TrimSpace(s[k]) }

	switch m := strings.ToLower(get(SettingMode)); m {
	case "", ModeRelay:
		st.Mode = ModeRelay
	case ModeSeat:
		st.Mode = ModeSeat
	default:
		return st, baton.FieldErrorf("settings.mode", "must be relay or seat, not %q", s[SettingMode])
	}
	relay, seat := st.Mode == ModeRelay, st.Mode == ModeSeat

	var unknown []string
	for k := range s {
		switch k {
		case SettingMode, SettingOrganizationID, SettingLicenseID, SettingClientID, SettingClientSecret, SettingRedirectURI,
			SettingAccountID, SettingToken, SettingSecretKey, SettingGroupID, SettingGroups, SettingAgentEmail, SettingAPIURL, SettingAccountsURL:
		default:
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return st, baton.FieldErrorf("settings."+unknown[0], "unknown setting; a LiveChat desk reads %s", fieldNames())
	}

	st.OrganizationID = get(SettingOrganizationID)
	if lic := get(SettingLicenseID); lic != "" {
		n, err := strconv.ParseInt(lic, 10, 64)
		if err != nil || n <= 0 {
			return st, baton.FieldErrorf("settings.license_id", "must be the license number (a positive integer), not %q", lic)
		}
		st.LicenseID = n
	}
	switch {
	case st.OrganizationID != "" && !token68(st.OrganizationID):
		return st, baton.FieldErrorf("settings.organization_id", "must be the Organization ID from the console (letters, digits and dashes)")
	case st.OrganizationID != "" && st.LicenseID != 0:
		return st, baton.FieldErrorf("settings.license_id", "give organization_id or license_id, not both")
	case relay && st.OrganizationID == "" && st.LicenseID == 0:
		return st, baton.FieldErrorf("settings.organization_id", "required in relay mode (or settings.license_id): customer identities belong to the organization")
	}

	st.ClientID = get(SettingClientID)
	switch {
	case st.ClientID == "":
		return st, baton.FieldErrorf("settings.client_id", "required: the Client Id of your app (App Authorization block)")
	case !token68(st.ClientID):
		return st, baton.FieldErrorf("settings.client_id", "must be printable ASCII without spaces")
	}
	st.ClientSecret = s[SettingClientSecret]
	if hasControl(st.ClientSecret) {
		return st, baton.FieldErrorf("settings.client_secret", "must not contain control characters")
	}

	st.RedirectURI = get(SettingRedirectURI)
	switch {
	case st.RedirectURI == "" && relay:
		return st, baton.FieldErrorf("settings.redirect_uri", "required in relay mode: one of your app's Redirect URIs (the customer cookie grant names it)")
	case st.RedirectURI != "" && !absoluteURL(st.RedirectURI):
		return st, baton.FieldErrorf("settings.redirect_uri", "must be an absolute http or https URL")
	}

	st.AccountID = get(SettingAccountID)
	switch {
	case st.AccountID == "":
		return st, baton.FieldErrorf("settings.account_id", "required: the Account ID shown with your personal access token")
	case strings.Contains(st.AccountID, ":") || !token68(st.AccountID):
		return st, baton.FieldErrorf("settings.account_id", "must be the Account ID (printable, no colon or space)")
	}
	st.Token = get(SettingToken)
	if st.Token == "" {
		return st, baton.FieldErrorf("settings.token", "required: the personal access token")
	}
	if pat, ok := fromBase64(st.Token, st.AccountID); ok {
		st.Token = pat // the console's "Base64" form of account_id:token
	}
	if !printable(st.Token) {
		return st, baton.FieldErrorf("settings.token", "must be printable ASCII without spaces")
	}

	st.SecretKey = s[SettingSecretKey]
	switch {
	case st.SecretKey == "":
		return st, baton.FieldErrorf("settings.secret_key", "required: the Secret key of your chat webhooks")
	case hasControl(st.SecretKey):
		return st, baton.FieldErrorf("settings.secret_key", "must not contain control characters")
	case len(st.SecretKey) < MinSecretKeyLen:
		return st, baton.FieldErrorf("settings.secret_key", "too short: at least %d characters (use the console's Generate)", MinSecretKeyLen)
	}

	if g := get(SettingGroupID); g != "" {
		n, err := strconv.Atoi(g)
		if err != nil || n < 0 {
			return st, baton.FieldErrorf("settings.group_id", "must be a group id (an integer, 0 or more), not %q", g)
		}
		st.GroupID = n
	}
	if g := get(SettingGroups); g != "" {
		st.Groups = map[string]int{}
		for i, entry := range strings.Split(g, ",") {
			entry = strings.TrimSpace(entry)
			if entry == "" {
				continue
			}
			hint, id, ok := strings.Cut(entry, "=")
			hint = strings.ToLower(strings.TrimSpace(hint))
			n, err := strconv.Atoi(strings.TrimSpace(id))
			switch {
			case !ok || hint == "":
				return st, baton.FieldErrorf("settings.groups", "entry %d (%q) must be hint=group_id", i+1, entry)
			case err != nil || n < 0:
				return st, baton.FieldErrorf("settings.groups", "entry %d (%q): the group id must be an integer, 0 or more", i+1, entry)
			}
			if _, dup := st.Groups[hint]; dup {
				return st, baton.FieldErrorf("settings.groups", "hint %q appears twice", hint)
			}
			st.Groups[hint] = n
		}
	}

	st.AgentEmail = get(SettingAgentEmail)
	switch {
	case st.AgentEmail == "" && seat:
		return st, baton.FieldErrorf("settings.agent_email", "required in seat mode: the email of the agent seat the bot takes over")
	case st.AgentEmail != "" && (!strings.Contains(st.AgentEmail, "@") || !printable(st.AgentEmail)):
		return st, baton.FieldErrorf("settings.agent_email", "must be an agent's email address")
	}

	var err error
	if st.APIURL, err = baseURL(SettingAPIURL, get(SettingAPIURL), DefaultAPIURL); err != nil {
		return st, err
	}
	if st.AccountsURL, err = baseURL(SettingAccountsURL, get(SettingAccountsURL), DefaultAccountsURL); err != nil {
		return st, err
	}
	return st, nil
}

// Group returns the group a routing hint names: a hint of the groups
// setting (case-insensitive), else a hint that is itself a group id, else
// the default group_id.
func (st Settings) Group(hint string) int {
	hint = strings.ToLower(strings.TrimSpace(hint))
	if hint == "" {
		return st.GroupID
	}
	if g, ok := st.Groups[hint]; ok {
		return g
	}
	if n, err := strconv.Atoi(hint); err == nil && n >= 0 {
		return n
	}
	return st.GroupID
}

func fieldNames() string {
	var names []string
	for _, f := range Fields() {
		names = append(names, f.Name)
	}
	return strings.Join(names, ", ")
}

// fromBase64 recognises the console's Base64 "account_id:token" string.
func fromBase64(v, accountID string) (string, bool) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		b, err := enc.DecodeString(v)
		if err != nil {
			continue
		}
		acc, pat, ok := strings.Cut(string(b), ":")
		if ok && acc == accountID && pat != "" {
			return pat, true
		}
	}
	return "", false
}

func baseURL(field, v, def string) (string, error) {
	if v == "" {
		return def, nil
	}
	u, err := url.Parse(v)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return "", baton.FieldErrorf("settings."+field, "must be an absolute http or https URL")
	case u.User != nil:
		return "", baton.FieldErrorf("settings."+field, "must not carry credentials")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return "", baton.FieldErrorf("settings."+field, "must not have a query or fragment: paths are appended to it")
	}
	return strings.TrimRight(u.String(), "/"), nil
}

func absoluteURL(v string) bool {
	u, err := url.Parse(v)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
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

// token68 is printable for ids that travel in URLs and headers.
func token68(s string) bool { return printable(s) }
