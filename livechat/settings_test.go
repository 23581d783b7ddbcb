package livechat

import (
	"encoding/base64"
	"maps"
	"testing"

	baton "github.com/batonhq/baton"
)

func relaySettings() map[string]string {
	return map[string]string{
		SettingOrganizationID: testOrg,
		SettingClientID:       testClient,
		SettingRedirectURI:    "https://baton.example.com/livechat",
		SettingAccountID:      testAccount,
		SettingToken:          testPAT,
		SettingSecretKey:      "laudla991lamda0pnoaa0",
		SettingGroupID:        "19",
		SettingGroups:         "Sales=1, billing=2",
	}
}

func TestSettings(t *testing.T) {
	t.Parallel()
	st, err := ParseSettings(relaySettings())
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode != ModeRelay || st.GroupID != 19 || st.Groups["sales"] != 1 || st.Groups["billing"] != 2 ||
		st.APIURL != DefaultAPIURL || st.AccountsURL != DefaultAccountsURL {
		t.Errorf("parsed %+v", st)
	}
	for hint, want := range map[string]int{"": 19, "SALES": 1, "billing": 2, "7": 7, "unknown": 19} {
		if g := st.Group(hint); g != want {
			t.Errorf("Group(%q) = %d, want %d", hint, g, want)
		}
	}

	// The console's Base64 form of account_id:token is accepted.
	s := relaySettings()
	s[SettingToken] = base64.StdEncoding.EncodeToString([]byte(testAccount + ":" + testPAT))
	if st, err := ParseSettings(s); err != nil || st.Token != testPAT {
		t.Errorf("Base64 token: %q, %v; want %q", st.Token, err, testPAT)
	}

	// Seat mode needs agent_email, not organization_id or redirect_uri.
	seat := map[string]string{SettingMode: "seat", SettingClientID: testClient, SettingAccountID: testAccount, SettingToken: testPAT,
		SettingSecretKey: "laudla991lamda0pnoaa0", SettingAgentEmail: "bot@example.com", SettingAPIURL: "http://127.0.0.1:9/"}
	if st, err := ParseSettings(seat); err != nil || st.Mode != ModeSeat || st.APIURL != "http://127.0.0.1:9" {
		t.Errorf("seat settings: %+v, %v", st, err)
	}

	tests := []struct {
		name  string
		base  map[string]string
		set   map[string]string
		del   []string
		field string
	}{
		{"mode", relaySettings(), map[string]string{SettingMode: "agent"}, nil, "settings.mode"},
		{"unknown", relaySettings(), map[string]string{"licence_id": "1"}, nil, "settings.licence_id"},
		{"no organization", relaySettings(), nil, []string{SettingOrganizationID}, "settings.organization_id"},
		{"both organization and license", relaySettings(), map[string]string{SettingLicenseID: "104130623"}, nil, "settings.license_id"},
		{"license not a number", relaySettings(), map[string]string{SettingLicenseID: "abc", SettingOrganizationID: ""}, nil, "settings.license_id"},
		{"no client_id", relaySettings(), nil, []string{SettingClientID}, "settings.client_id"},
		{"no redirect_uri", relaySettings(), nil, []string{SettingRedirectURI}, "settings.redirect_uri"},
		{"bad redirect_uri", relaySettings(), map[string]string{SettingRedirectURI: "localhost"}, nil, "settings.redirect_uri"},
		{"no account_id", relaySettings(), nil, []string{SettingAccountID}, "settings.account_id"},
		{"account_id with colon", relaySettings(), map[string]string{SettingAccountID: "a:b"}, nil, "settings.account_id"},
		{"no token", relaySettings(), nil, []string{SettingToken}, "settings.token"},
		{"token with space", relaySettings(), map[string]string{SettingToken: "dal: x"}, nil, "settings.token"},
		{"no secret_key", relaySettings(), nil, []string{SettingSecretKey}, "settings.secret_key"},
		{"short secret_key", relaySettings(), map[string]string{SettingSecretKey: "short"}, nil, "settings.secret_key"},
		{"group_id", relaySettings(), map[string]string{SettingGroupID: "-1"}, nil, "settings.group_id"},
		{"groups entry", relaySettings(), map[string]string{SettingGroups: "sales"}, nil, "settings.groups"},
		{"groups id", relaySettings(), map[string]string{SettingGroups: "sales=x"}, nil, "settings.groups"},
		{"groups twice", relaySettings(), map[string]string{SettingGroups: "sales=1,Sales=2"}, nil, "settings.groups"},
		{"agent_email", relaySettings(), map[string]string{SettingAgentEmail: "bot"}, nil, "settings.agent_email"},
		{"seat agent_email", seat, nil, []string{SettingAgentEmail}, "settings.agent_email"},
		{"api_url", relaySettings(), map[string]string{SettingAPIURL: "ftp://x"}, nil, "settings.api_url"},
		{"accounts_url query", relaySettings(), map[string]string{SettingAccountsURL: "https://x/?a=1"}, nil, "settings.accounts_url"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := maps.Clone(tc.base)
			maps.Copy(s, tc.set)
			for _, k := range tc.del {
				delete(s, k)
			}
			_, err := ParseSettings(s)
			if baton.ErrorCode(err) != baton.EINVALID || baton.ErrorField(err) != tc.field {
				t.Errorf("error %v, want EINVALID on %s", err, tc.field)
			}
			if _, err := New(baton.DeskConfig{Kind: baton.KindLiveChat, Settings: s}, nil); baton.ErrorField(err) != tc.field {
				t.Errorf("New: %v, want an error on %s", err, tc.field)
			}
		})
	}
	if _, err := New(baton.DeskConfig{Kind: baton.KindWebhook, Settings: relaySettings()}, nil); baton.ErrorField(err) != "kind" {
		t.Errorf("New with kind webhook: %v", err)
	}
}
