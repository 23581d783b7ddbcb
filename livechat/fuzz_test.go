package livechat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	baton "github.com/batonhq/baton"
)

// The organization and account the fuzzed desks belong to.
const (
	fuzzOrg     = "390e44e6-f1e6-0368c-z6ddb-74g14508c2ex"
	fuzzAccount = "acc-baton-1"
)

// roundTripFunc serves HTTP requests in memory.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func answer(status int, body string) *http.Response {
	return &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(body))}
}

// stubLiveChat answers the lookups inbound webhooks make, in memory and the
// same way every time: e-mails are agents (Maria has a name), other ids are
// not agents; every chat has the seat, a customer and Maria in it.
func stubLiveChat() *http.Client {
	return &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		var in struct {
			ID     string `json:"id"`
			ChatID string `json:"chat_id"`
		}
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &in)
		q := func(s string) string { v, _ := json.Marshal(s); return string(v) }
		switch {
		case strings.HasSuffix(r.URL.Path, "/configuration/action/get_agent"):
			switch {
			case in.ID == maria:
				return answer(200, `{"id":"maria@example.com","name":"Maria"}`), nil
			case strings.Contains(in.ID, "@"):
				return answer(200, `{"id":`+q(in.ID)+`}`), nil
			}
			return answer(404, `{"error":{"type":"not_found","message":"Agent not found"}}`), nil
		case strings.HasSuffix(r.URL.Path, "/configuration/action/list_agents"):
			return answer(200, `[{"id":"baton@example.com","account_id":"`+fuzzAccount+`","name":"Baton"},{"id":"maria@example.com","name":"Maria"}]`), nil
		case strings.HasSuffix(r.URL.Path, "/agent/action/get_customer"):
			return answer(200, `{"id":`+q(in.ID)+`,"name":"Grace"}`), nil
		case strings.HasSuffix(r.URL.Path, "/agent/action/get_chat"):
			if in.ChatID == "" {
				return answer(400, `{"error":{"type":"validation","message":"chat_id required"}}`), nil
			}
			return answer(200, `{"id":`+q(in.ChatID)+`,"users":[{"id":"baton@example.com","type":"agent","present":true},`+
				`{"id":"cu_1","type":"customer","name":"Grace","present":true},{"id":"maria@example.com","type":"agent","name":"Maria","present":false}],`+
				`"thread":{"id":"T1","active":true,"events":[{"id":"T1_1","type":"message","text":"hello?","author_id":"cu_1","visibility":"all"},`+
				`{"id":"T1_2","type":"message","text":"hi","author_id":"maria@example.com","visibility":"all"},`+
				`{"id":"T1_3","type":"message","text":"still there?","author_id":"cu_1","visibility":"all"}]}}`), nil
		}
		return answer(404, `{"error":{"type":"not_found","message":"no such action"}}`), nil
	})}
}

// fuzzDesk returns a desk of the mode whose API is stubLiveChat.
func fuzzDesk(t testing.TB, mode string) baton.Desk {
	s := map[string]string{
		SettingMode: mode, SettingClientID: "client-1", SettingAccountID: fuzzAccount, SettingToken: "pat-1",
		SettingSecretKey: secretKey, SettingAgentEmail: batonAgent, SettingAPIURL: "http://livechat.invalid",
	}
	if mode == ModeRelay {
		s[SettingOrganizationID] = fuzzOrg
		s[SettingRedirectURI] = "https://baton.example.com/livechat"
	}
	d, err := New(baton.DeskConfig{ID: "desk_lc", Kind: baton.KindLiveChat, Settings: s}, stubLiveChat())
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// FuzzInbound checks LiveChat webhooks in both modes: a body whose secret_key
// is not the desk's is always forged and nothing else; a genuine one either
// fails with a *baton.Error (EINVALID naming its field, or EBADREQUEST) or
// gives events with an id, a ref and a type the mode produces, never Baton's
// own words as an agent's or a customer's; the same delivery twice gives the
// same events.
func FuzzInbound(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "webhooks", "*.json"))
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(false, b)
		f.Add(true, b)
	}
	env := `"secret_key":"{{secret}}","organization_id":"{{org}}"`
	for _, s := range []string{
		`{` + env + `,"action":"incoming_chat","payload":{"chat":{"id":"C1","users":[{"id":"{{self}}","type":"agent"},{"id":"cu_9","type":"customer","name":"Ann","email":"ann@example.com"}],` +
			`"thread":{"id":"T9","events":[{"id":"T9_1","type":"message","text":"help","author_id":"cu_9"},{"id":"T9_2","type":"file","url":"https://cdn.example/f.png","author_id":"cu_9","size":-3},{"id":"","type":"message","text":"x","author_id":"cu_9"}]}}},` +
			`"additional_data":{"chat_presence_user_ids":["{{self}}","cu_9"]}}`,
		`{` + env + `,"action":"incoming_event","payload":{"chat_id":"C1","thread_id":"T9","event":{"id":"T9_4","type":"message","text":"hi","author_id":"cu_9","visibility":"all"}}}`,
		`{` + env + `,"action":"incoming_event","payload":{"chat_id":"C1","event":{"id":"E","type":"file","author_id":"0123456789abcdef0123456789abcdef","visibility":"all"}},"additional_data":{"chat_presence_user_ids":null}}`,
		`{` + env + `,"action":"chat_transferred","payload":{"chat_id":"C1","thread_id":"T9","transferred_to":{"agent_ids":["{{self}}"],"group_ids":[2]}}}`,
		`{` + env + `,"action":"chat_transferred","payload":{"chat_id":"C1","transferred_to":{"agent_ids":["","{{self}}","maria@example.com"],"group_ids":[-1,0]}}}`,
		`{` + env + `,"action":"chat_deactivated","payload":{"chat_id":"C1","thread_id":"T9","user_id":"cu_9"}}`,
		`{` + env + `,"action":"chat_deactivated","payload":{"chat_id":"C1","thread_id":"T9","user_id":"maria@example.com"}}`,
		`{` + env + `,"action":"user_added_to_chat","payload":{"chat_id":"C1","thread_id":"T9","user":{"id":"maria@example.com","type":"agent"},"user_type":"agent"}}`,
		`{` + env + `,"action":"user_added_to_chat","payload":{"chat_id":"C1","user":{"id":"{{self}}","type":"agent","name":"B"}}}`,
		`{` + env + `,"action":"incoming_event","payload":null}`,
		`{` + env + `,"action":"incoming_event","payload":[]}`,
		`{"secret_key":"{{secret}}","organization_id":"other-org","action":"incoming_event"}`,
		`{"secret_key":"{{secret}}","license_id":null,"action":"chat_deactivated","payload":{"chat_id":"C"}}`,
		`{"secret_key":"{{secret}}","secret_key":"wrong-wrong-wrong-wrong"}`,
		`{"secret_key":null}`,
		` {"secret_key":"{{secret}}"}`,
		`{"secret_key":"{{secret}}","action":""}`,
	} {
		f.Add(false, []byte(s))
		f.Add(true, []byte(s))
	}
	f.Fuzz(func(t *testing.T, seat bool, body []byte) {
		if len(body) > 32<<10 {
			return
		}
		mode, self := ModeRelay, batonAgent
		if seat {
			mode = ModeSeat
		}
		body = []byte(strings.NewReplacer("{{secret}}", secretKey, "{{org}}", fuzzOrg, "{{self}}", self).Replace(string(body)))
		d := fuzzDesk(t, mode)
		ctx := context.Background()
		evs, err := d.Inbound(ctx, "livechat", http.Header{}, body)

		var probe struct {
			SecretKey *string `json:"secret_key"`
		}
		genuine := json.Unmarshal(body, &probe) == nil && bytes.HasPrefix(bytes.TrimSpace(body), []byte("{")) &&
			probe.SecretKey != nil && *probe.SecretKey == secretKey
		if !genuine {
			if !errors.Is(err, baton.ErrForged) || evs != nil {
				t.Fatalf("a body without the secret_key gave %v, %v; want only baton.ErrForged", evs, err)
			}
			return
		}
		if err != nil {
			var e *baton.Error
			switch {
			case evs != nil:
				t.Fatalf("events %v with error %v", evs, err)
			case errors.Is(err, baton.ErrForged):
				t.Fatalf("a genuine webhook refused as forged: %v", err)
			case !errors.As(err, &e):
				t.Fatalf("error %v is not a *baton.Error", err)
			case e.Code == baton.EINVALID && e.Field == "":
				t.Fatalf("invalid without a field: %v", err)
			case e.Code != baton.EINVALID && e.Code != baton.EBADREQUEST:
				t.Fatalf("unexpected code %q: %v", e.Code, err)
			}
			return
		}
		allowed := map[baton.DeskEventType]bool{baton.DeskAgentMessage: true, baton.DeskAgentClosed: true, baton.DeskCustomerClosed: true,
			baton.DeskAgentJoined: true, baton.DeskTransferred: true}
		if seat {
			allowed[baton.DeskCustomerMessage], allowed[baton.DeskSeatReturned] = true, true
		}
		for _, ev := range evs {
			switch {
			case !allowed[ev.Type]:
				t.Fatalf("%s mode gave a %q event", mode, ev.Type)
			case ev.ID == "" || ev.Ref == "":
				t.Fatalf("event without id or ref: %+v", ev)
			case ev.Agent.ID == self || ev.Customer.ID == self:
				t.Fatalf("Baton's own seat reported as a person: %+v", ev)
			case (ev.Type == baton.DeskAgentMessage || ev.Type == baton.DeskCustomerMessage) && strings.TrimSpace(ev.Text) == "" && len(ev.Attachments) == 0:
				t.Fatalf("an empty message: %+v", ev)
			case ev.Type == baton.DeskCustomerMessage && ev.Customer.ID == "":
				t.Fatalf("a customer message from nobody: %+v", ev)
			case ev.Type == baton.DeskAgentMessage && ev.Agent.ID == "":
				t.Fatalf("an agent message from nobody: %+v", ev)
			}
			for _, a := range ev.Attachments {
				if a.URL == "" {
					t.Fatalf("an attachment without a URL: %+v", ev)
				}
			}
		}
		// The same delivery gives the same events, but for the ids of
		// transfers: nothing tells one transfer from another to the same
		// place, so each delivery is its own (applying it again is harmless).
		again, err := d.Inbound(ctx, "livechat", http.Header{}, body)
		if err != nil || !reflect.DeepEqual(transferless(again), transferless(evs)) {
			t.Fatalf("the same delivery again gave %+v, %v; first %+v", again, err, evs)
		}
	})
}

// FuzzAPIAnswer checks how the client reads LiveChat's answers: any status,
// Retry-After and body give either success on a 2xx whose body decodes, or a
// *baton.DeskError of exactly one class wrapping an *APIError with the status,
// a one-line message of at most 200 characters and a Retry-After in
// 0..webhook.MaxRetryAfter.
func FuzzAPIAnswer(f *testing.F) {
	f.Add(200, "", `{"id":"PJ0MRSHTDG","users":[{"id":"a","type":"agent","present":true}],"thread":{"id":"T","events":[{"id":"E","type":"message","text":"x","created_at":"2019-10-11T09:41:00.877000Z"}]}}`)
	f.Add(200, "", `[{"id":"a@b","account_id":"x"}]`)
	f.Add(200, "", ``)
	f.Add(200, "", `{"id":1}`)
	f.Add(204, "", `null`)
	f.Add(400, "", `{"error":{"type":"validation","message":"Wrong format of request\n\tdetails","data":{"field":"chat_id"}}}`)
	f.Add(401, "", `{"error":{"type":"authentication","message":"Invalid access token"}}`)
	f.Add(403, "", `not json`)
	f.Add(421, "", `{"error":{"type":"misdirected_request","message":"wrong region","data":{"region":"fra"}}}`)
	f.Add(421, "", `{"error":{"type":"misdirected_request","data":{"region":""}}}`)
	f.Add(429, "30", `{"error":{"type":"too_many_requests"}}`)
	f.Add(503, "Wed, 21 Oct 2015 07:28:00 GMT", `{"error":null}`)
	f.Add(500, "-1", strings.Repeat("é", 300))
	f.Add(400, "", `{"oauth_exception":"invalid_grant","exception_description":"expired"}`)
	f.Add(302, "", `{"error":{"type":"groups_offline"}}`)
	f.Add(999, "", "\xff\xfe")
	f.Fuzz(func(t *testing.T, status int, retryAfter, body string) {
		if status < 100 || status > 999 || len(body) > 64<<10 {
			return
		}
		now := time.Date(2015, 10, 21, 7, 27, 0, 0, time.UTC)
		calls := 0
		c := NewClient(&http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			calls++
			resp := answer(status, body)
			if retryAfter != "" {
				resp.Header.Set("Retry-After", retryAfter)
			}
			return resp, nil
		})}, fuzzAccount, "pat-1")
		c.APIURL = "http://livechat.invalid"
		c.now = func() time.Time { return now }

		for _, call := range []func() error{
			func() error { _, err := c.GetChat(context.Background(), "C1"); return err },
			func() error { _, err := c.ListAgents(context.Background()); return err },
		} {
			calls = 0
			err := call()
			if calls < 1 || calls > 2 {
				t.Fatalf("%d HTTP calls for one client call", calls)
			}
			ok := status >= 200 && status < 300
			if err == nil {
				if !ok {
					t.Fatalf("status %d taken as success", status)
				}
				continue
			}
			var de *baton.DeskError
			if !errors.As(err, &de) {
				t.Fatalf("error %v (%T) is not a *baton.DeskError", err, err)
			}
			if ok {
				continue // an unreadable 2xx answer: retried on the engine's schedule
			}
			var ae *APIError
			if !errors.As(err, &ae) {
				t.Fatalf("a %d answer gave %v, which wraps no *APIError", status, err)
			}
			classes := 0
			for _, b := range []bool{de.Auth, de.Busy, de.Permanent, !de.Auth && !de.Busy && !de.Permanent} {
				if b {
					classes++
				}
			}
			switch {
			case ae.Status != status:
				t.Fatalf("APIError status %d, answer %d", ae.Status, status)
			case classes != 1:
				t.Fatalf("DeskError %+v is not of exactly one class", de)
			case strings.ContainsAny(ae.Message, "\n\r\t") || utf8.RuneCountInString(ae.Message) > 201:
				t.Fatalf("message %q is not one clipped line", ae.Message)
			case ae.RetryAfter < 0 || ae.RetryAfter > time.Hour:
				t.Fatalf("Retry-After %q read as %v", retryAfter, ae.RetryAfter)
			case de.RetryAfter != 0 && de.RetryAfter != ae.RetryAfter:
				t.Fatalf("DeskError waits %v, APIError says %v", de.RetryAfter, ae.RetryAfter)
			case (status >= 500 || status == 408 || status == 429) && (de.Permanent || de.Busy) && ae.Type == "":
				t.Fatalf("a %d without a type is not retried: %+v", status, de)
			}
			if n, err := strconv.Atoi(strings.TrimSpace(retryAfter)); err == nil && n > 0 && n < 3600 && ae.RetryAfter != time.Duration(n)*time.Second {
				t.Fatalf("Retry-After %q read as %v", retryAfter, ae.RetryAfter)
			}
		}
	})
}

// settingsOf reads "key=value" lines into a settings map.
func settingsOf(lines string) map[string]string {
	s := map[string]string{}
	for _, l := range strings.Split(lines, "\n") {
		if k, v, ok := strings.Cut(l, "="); ok {
			s[k] = v
		}
	}
	return s
}

// settingsMap writes st back as the settings that say it.
func settingsMap(st Settings) map[string]string {
	s := map[string]string{SettingMode: st.Mode, SettingClientID: st.ClientID, SettingAccountID: st.AccountID, SettingToken: st.Token,
		SettingSecretKey: st.SecretKey, SettingGroupID: strconv.Itoa(st.GroupID), SettingAPIURL: st.APIURL, SettingAccountsURL: st.AccountsURL}
	for k, v := range map[string]string{SettingOrganizationID: st.OrganizationID, SettingClientSecret: st.ClientSecret,
		SettingRedirectURI: st.RedirectURI, SettingAgentEmail: st.AgentEmail} {
		if v != "" {
			s[k] = v
		}
	}
	if st.LicenseID != 0 {
		s[SettingLicenseID] = strconv.FormatInt(st.LicenseID, 10)
	}
	var groups []string
	for hint, id := range st.Groups {
		groups = append(groups, hint+"="+strconv.Itoa(id))
	}
	if len(groups) > 0 {
		s[SettingGroups] = strings.Join(groups, ",")
	}
	return s
}

// FuzzParseSettings checks ParseSettings on any settings: an error is
// EINVALID naming a "settings." field; accepted settings are in canonical
// form (a mode, printable ids, an http(s) API base without a trailing slash,
// a long enough secret_key) and, written back as settings, parse to the same.
func FuzzParseSettings(f *testing.F) {
	all := func(s map[string]string) string {
		var b strings.Builder
		for k, v := range s {
			b.WriteString(k + "=" + v + "\n")
		}
		return b.String()
	}
	f.Add(all(relaySettings()))
	f.Add(all(settingsMap(Settings{Mode: ModeSeat, ClientID: "c", AccountID: "a", Token: "t", SecretKey: strings.Repeat("s", MinSecretKeyLen), AgentEmail: "seat@example.com"})))
	f.Add("mode=SEAT\nclient_id=c\naccount_id=a\ntoken=YTpwYXQ=\nsecret_key=0123456789abcdef\nagent_email=x@y\napi_url=http://h:1/p/\n")
	f.Add("mode=relay\nlicense_id=104130623\nclient_id=c\nredirect_uri=https://r\naccount_id=a\ntoken=t\nsecret_key=0123456789abcdef\ngroups= A = 1 ,,b=2\ngroup_id=007\n")
	f.Add("mode=relay\norganization_id=o\nlicense_id=-1\nclient_id=c c\naccount_id=a:b\ntoken=\x00\nsecret_key=short\napi_url=https://u:p@h/?q#f\nextra=1\n")
	f.Add("mode=relay\norganization_id=o\nclient_id=c\nredirect_uri=javascript:x\naccount_id=a\ntoken=t\nsecret_key=0123456789abcdef\ngroups=a=1,A=2\naccounts_url=https://[::1]:80/\n")
	f.Fuzz(func(t *testing.T, lines string) {
		if len(lines) > 4<<10 {
			return
		}
		st, err := ParseSettings(settingsOf(lines))
		if err != nil {
			if baton.ErrorCode(err) != baton.EINVALID || !strings.HasPrefix(baton.ErrorField(err), "settings.") {
				t.Fatalf("ParseSettings error %v does not name a settings field", err)
			}
			return
		}
		switch {
		case st.Mode != ModeRelay && st.Mode != ModeSeat:
			t.Fatalf("mode %q", st.Mode)
		case !printable(st.ClientID) || !printable(st.AccountID) || !printable(st.Token) || strings.Contains(st.AccountID, ":"):
			t.Fatalf("ids not printable: %+v", st)
		case len(st.SecretKey) < MinSecretKeyLen || hasControl(st.SecretKey):
			t.Fatalf("secret_key %q", st.SecretKey)
		case !absoluteURL(st.APIURL) || strings.HasSuffix(st.APIURL, "/") || !absoluteURL(st.AccountsURL) || strings.HasSuffix(st.AccountsURL, "/"):
			t.Fatalf("base URLs %q, %q", st.APIURL, st.AccountsURL)
		case st.Mode == ModeSeat && st.AgentEmail == "":
			t.Fatalf("a seat without agent_email: %+v", st)
		case st.Mode == ModeRelay && (st.RedirectURI == "" || (st.OrganizationID == "") == (st.LicenseID == 0)):
			t.Fatalf("relay settings incomplete: %+v", st)
		case st.GroupID < 0:
			t.Fatalf("group_id %d", st.GroupID)
		}
		for hint, id := range st.Groups {
			if id < 0 || hint == "" || hint != strings.ToLower(strings.TrimSpace(hint)) {
				t.Fatalf("groups %v", st.Groups)
			}
		}
		again, err := ParseSettings(settingsMap(st))
		if err != nil || !reflect.DeepEqual(again, st) {
			t.Fatalf("settings %+v written back parse to %+v, %v", st, again, err)
		}
	})
}

// transferless returns evs with the ids of transfers blanked: they are new
// on every delivery.
func transferless(evs []baton.DeskEvent) []baton.DeskEvent {
	out := slices.Clone(evs)
	for i, ev := range out {
		if strings.HasPrefix(ev.ID, ActionChatTransferred+":") {
			out[i].ID = ActionChatTransferred
		}
	}
	return out
}
