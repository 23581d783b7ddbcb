package livechat

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	baton "github.com/batonhq/baton"
)

// Credentials of the client tests.
const (
	testAccount = "b7eff798-f8df-4364-8059-649c35c9ed0c"
	testPAT     = "dal:test_PAT_0123456789"
	testOrg     = "390e44e6-f1e6-4368-9c6d-74a14508c2e1"
	testClient  = "asXdesldiAJSq9padj"
	testCust    = "b7eff798-f8df-4364-8059-649c35c9ed0c"
)

// request is one request the fake LiveChat received.
type request struct {
	Method, Path, Query, ContentType, Auth string
	Header                                 http.Header
	Cookies                                []*http.Cookie
	Body                                   []byte
}

// fake plays LiveChat for the client tests: it records every request and
// answers with what answer returns (default 200 {}).
type fake struct {
	*httptest.Server
	mu     sync.Mutex
	reqs   []request
	answer func(r request) (int, http.Header, string)
}

func newFake(t *testing.T) *fake {
	t.Helper()
	f := &fake{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rq := request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, ContentType: r.Header.Get("Content-Type"),
			Auth: r.Header.Get("Authorization"), Header: r.Header.Clone(), Cookies: r.Cookies(), Body: body}
		f.mu.Lock()
		f.reqs = append(f.reqs, rq)
		answer := f.answer
		f.mu.Unlock()
		status, header, reply := http.StatusOK, http.Header(nil), "{}"
		if answer != nil {
			status, header, reply = answer(rq)
		}
		for k, vs := range header {
			w.Header()[k] = vs
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, reply)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fake) requests() []request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]request(nil), f.reqs...)
}

func (f *fake) client() *Client {
	c := NewClient(f.Server.Client(), testAccount, testPAT)
	c.APIURL, c.AccountsURL, c.OrganizationID = f.URL, f.URL, testOrg
	return c
}

// sameJSON checks that got is the JSON of the fixture file, field by field.
func sameJSON(t *testing.T, fixture string, got []byte) {
	t.Helper()
	want, err := os.ReadFile(filepath.Join("testdata", "requests", fixture))
	if err != nil {
		t.Fatal(err)
	}
	var w, g any
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("%s: %v", fixture, err)
	}
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("request body is not JSON: %s", got)
	}
	if !reflect.DeepEqual(w, g) {
		t.Errorf("request body differs from testdata/requests/%s\n got: %s\nwant: %s", fixture, compact(got), compact(want))
	}
}

func compact(b []byte) string {
	var v any
	if json.Unmarshal(b, &v) != nil {
		return string(b)
	}
	out, _ := json.Marshal(v)
	return string(out)
}

// TestClientRequests checks every call's method, path, query,
// authentication and JSON body against testdata/requests, and that the
// documented answers decode.
func TestClientRequests(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const cdn = "https://cdn.livechat-files.com/api/file/lc/att/8948324/45a3581b59a7295145c3825c86ec7ab3/image.png"
	tests := []struct {
		name    string
		api     string // agent, customer, configuration, accounts
		action  string
		fixture string
		reply   string
		call    func(c *Client) (any, error)
		want    any
	}{
		{"start_chat", "agent", "start_chat", "agent_start_chat.json", `{"chat_id":"PJ0MRSHTDG","thread_id":"PGDGHT5G","event_ids":["PGDGHT5G_1","PGDGHT5G_2","PGDGHT5G_3"]}`,
			func(c *Client) (any, error) {
				return c.StartChat(ctx, StartChatRequest{
					Chat: InitialChat{Access: &Access{GroupIDs: []int{19}}, Users: []User{{ID: testCust, Type: UserCustomer}},
						Thread: &InitialThread{Events: []Event{
							{Type: EventMessage, Text: "Hi, my order has not arrived", AuthorID: testCust, Visibility: VisibilityAll},
							{Type: EventMessage, Text: "Sorry to hear that! What is the order number?", Visibility: VisibilityAll},
							{Type: EventMessage, Text: "Where is my parcel?", AuthorID: testCust, Visibility: VisibilityAll},
						}}},
					Active: true,
				})
			}, StartChatResponse{ChatID: "PJ0MRSHTDG", ThreadID: "PGDGHT5G", EventIDs: []string{"PGDGHT5G_1", "PGDGHT5G_2", "PGDGHT5G_3"}}},
		{"transfer_chat", "agent", "transfer_chat", "agent_transfer_chat.json", `{}`,
			func(c *Client) (any, error) {
				return nil, c.TransferChat(ctx, TransferChatRequest{ID: "PJ0MRSHTDG", Target: &Target{Type: "group", IDs: []any{19}},
					IgnoreAgentsAvailability: true, IgnoreRequesterPresence: true})
			}, nil},
		{"deactivate_chat", "agent", "deactivate_chat", "agent_deactivate_chat.json", `{}`,
			func(c *Client) (any, error) { return nil, c.DeactivateChat(ctx, "PJ0MRSHTDG") }, nil},
		{"remove_user_from_chat", "agent", "remove_user_from_chat", "agent_remove_user_from_chat.json", `{}`,
			func(c *Client) (any, error) {
				return nil, c.RemoveUser(ctx, RemoveUserRequest{ChatID: "PJ0MRSHTDG", UserID: "baton@example.com", UserType: UserAgent, IgnoreRequesterPresence: true})
			}, nil},
		{"send_event", "agent", "send_event", "agent_send_event.json", `{"event_id":"K600PKZON8_3"}`,
			func(c *Client) (any, error) {
				return c.SendEvent(ctx, "PW94SJTGW6", Event{Type: EventMessage, Text: "hello world", Visibility: VisibilityAll, CustomID: "baton:msg_1"})
			}, "K600PKZON8_3"},
		{"send_event file", "agent", "send_event", "agent_send_event_file.json", `{"event_id":"K600PKZON8_4"}`,
			func(c *Client) (any, error) {
				return c.SendEvent(ctx, "PW94SJTGW6", Event{Type: EventFile, URL: cdn, Visibility: VisibilityAll, CustomID: "baton:msg_1:file0"})
			}, "K600PKZON8_4"},
		{"get_chat", "agent", "get_chat", "agent_get_chat.json",
			`{"id":"PJ0MRSHTDG","thread":{"id":"K600PKZON8","created_at":"2020-05-07T07:11:28.288340Z","active":true,"user_ids":["smith@example.com"],
			  "events":[{"id":"K600PKZON8_1","created_at":"2020-05-07T07:11:28.288340Z","visibility":"all","type":"message","text":"Hello","author_id":"smith@example.com"}],
			  "properties":{},"access":{"group_ids":[0]},"tags":[],"queue":{"position":42,"wait_time":1337,"queued_at":"2020-05-07T07:11:28.288340Z"}},
			 "users":[{"id":"smith@example.com","type":"agent","name":"Agent Smith","present":true}],"properties":{},"access":{"group_ids":[0]},"is_followed":true}`,
			func(c *Client) (any, error) { return c.GetChat(ctx, "PJ0MRSHTDG") },
			Chat{ID: "PJ0MRSHTDG", Thread: &Thread{ID: "K600PKZON8", CreatedAt: at("2020-05-07T07:11:28.288340Z"), Active: true, UserIDs: []string{"smith@example.com"},
				Events: []Event{{ID: "K600PKZON8_1", CreatedAt: at("2020-05-07T07:11:28.288340Z"), Visibility: "all", Type: "message", Text: "Hello", AuthorID: "smith@example.com"}},
				Access: &Access{GroupIDs: []int{0}}, Queue: &Queue{Position: 42, WaitTime: 1337, QueuedAt: at("2020-05-07T07:11:28.288340Z")}},
				Users: []User{{ID: "smith@example.com", Type: "agent", Name: "Agent Smith", Present: true}}, Access: &Access{GroupIDs: []int{0}}}},
		{"get_customer", "agent", "get_customer", "agent_get_customer.json", `{"id":"` + testCust + `","type":"customer","name":"Casey Doe","email":"casey@example.com","session_fields":[]}`,
			func(c *Client) (any, error) { return c.GetCustomer(ctx, testCust) },
			Customer{ID: testCust, Type: "customer", Name: "Casey Doe", Email: "casey@example.com"}},
		{"customer send_event", "customer", "send_event", "customer_send_event.json", `{"event_id":"K600PKZON8_5"}`,
			func(c *Client) (any, error) {
				return c.CustomerSendEvent(ctx, "dal:customer-token", "PW94SJTGW6", Event{Type: EventMessage, Text: "hello world", Visibility: VisibilityAll, CustomID: "baton:msg_1"})
			}, "K600PKZON8_5"},
		{"customer update_customer", "customer", "update_customer", "customer_update_customer.json", `{}`,
			func(c *Client) (any, error) {
				return nil, c.UpdateCustomer(ctx, "dal:customer-token", UpdateCustomerRequest{Name: "Casey Doe", Email: "casey@example.com",
					SessionFields: []SessionField{{"customer_id": "cust-1"}, {"conversation_id": "conv-1"}}})
			}, nil},
		{"customer deactivate_chat", "customer", "deactivate_chat", "customer_deactivate_chat.json", `{}`,
			func(c *Client) (any, error) {
				return nil, c.CustomerDeactivateChat(ctx, "dal:customer-token", "PJ0MRSHTDG")
			}, nil},
		{"list_groups", "configuration", "list_groups", "configuration_list_groups.json",
			`[{"id":0,"name":"General","language_code":"en","routing_status":"offline"},{"id":19,"name":"Sport shoes","language_code":"en","routing_status":"accepting_chats"}]`,
			func(c *Client) (any, error) { return c.ListGroups(ctx) },
			[]Group{{ID: 0, Name: "General", LanguageCode: "en", RoutingStatus: Offline}, {ID: 19, Name: "Sport shoes", LanguageCode: "en", RoutingStatus: AcceptingChats}}},
		{"get_agent", "configuration", "get_agent", "configuration_get_agent.json",
			`{"id":"smith@example.com","account_id":"d24fa41e-bd96-4dbb-9ed4-df9e1a1a5e7e","name":"Smith","avatar_path":"x","role":"owner","login_status":"not accepting chats"}`,
			func(c *Client) (any, error) { return c.GetAgent(ctx, "smith@example.com") },
			Agent{ID: "smith@example.com", AccountID: "d24fa41e-bd96-4dbb-9ed4-df9e1a1a5e7e", Name: "Smith", Role: "owner", LoginStatus: "not accepting chats"}},
		{"list_agents", "configuration", "list_agents", "configuration_list_agents.json",
			`[{"id":"smith@example.com","account_id":"d24fa41e-bd96-4dbb-9ed4-df9e1a1a5e7e","name":"Smith"}]`,
			func(c *Client) (any, error) { return c.ListAgents(ctx) },
			[]Agent{{ID: "smith@example.com", AccountID: "d24fa41e-bd96-4dbb-9ed4-df9e1a1a5e7e", Name: "Smith"}}},
		{"register_webhook", "configuration", "register_webhook", "configuration_register_webhook.json", `{"id":"pqi8oasdjahuakndw9nsad9na"}`,
			func(c *Client) (any, error) {
				return c.RegisterWebhook(ctx, RegisterWebhookRequest{URL: "https://baton.example.com/v1/desks/lc/inbound/livechat", Action: ActionIncomingEvent,
					SecretKey: "laudla991lamda0pnoaa0", Type: WebhookLicense, OwnerClientID: testClient, Description: "Baton relay desk",
					AdditionalData: []string{"chat_presence_user_ids"}})
			}, "pqi8oasdjahuakndw9nsad9na"},
		{"list_webhooks", "configuration", "list_webhooks", "configuration_list_webhooks.json",
			`[{"id":"pqi8oasdjahuakndw9nsad9na","url":"https://svc/webhooks","description":"d","action":"incoming_event","secret_key":"s","filters":{},"owner_client_id":"asXdesldiAJSq9padj","type":"license","additional_data":["chat_presence_user_ids"]}]`,
			func(c *Client) (any, error) { return c.ListWebhooks(ctx, testClient) },
			[]RegisteredWebhook{{ID: "pqi8oasdjahuakndw9nsad9na", URL: "https://svc/webhooks", Description: "d", Action: "incoming_event", SecretKey: "s",
				Filters: json.RawMessage(`{}`), OwnerClientID: testClient, Type: "license", AdditionalData: []string{"chat_presence_user_ids"}}}},
		{"unregister_webhook", "configuration", "unregister_webhook", "configuration_unregister_webhook.json", `{}`,
			func(c *Client) (any, error) {
				return nil, c.UnregisterWebhook(ctx, "pqi8oasdjahuakndw9nsad9na", testClient)
			}, nil},
		{"get_license_webhooks_state", "configuration", "get_license_webhooks_state", "configuration_get_license_webhooks_state.json", `{"license_webhooks_enabled":true}`,
			func(c *Client) (any, error) { return c.LicenseWebhooksEnabled(ctx, testClient) }, true},
		{"enable_license_webhooks", "configuration", "enable_license_webhooks", "configuration_enable_license_webhooks.json", `{}`,
			func(c *Client) (any, error) { return nil, c.EnableLicenseWebhooks(ctx, testClient) }, nil},
		{"customer token", "accounts", "", "accounts_customer_token.json",
			`{"access_token":"dal:cust","client_id":"asXdesldiAJSq9padj","entity_id":"` + testCust + `","expires_in":28800,"token_type":"Bearer","organization_id":"` + testOrg + `"}`,
			func(c *Client) (any, error) {
				tok, _, err := c.CookieGrant(ctx, testClient, "https://baton.example.com/livechat", nil)
				return tok, err
			}, CustomerToken{AccessToken: "dal:cust", ClientID: testClient, EntityID: testCust, ExpiresIn: 28800, TokenType: "Bearer", OrganizationID: testOrg}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			f.answer = func(request) (int, http.Header, string) { return http.StatusOK, nil, tc.reply }
			got, err := tc.call(f.client())
			if err != nil {
				t.Fatalf("call failed: %v", err)
			}
			if tc.want != nil && !reflect.DeepEqual(got, tc.want) {
				t.Errorf("decoded answer\n got %+v\nwant %+v", got, tc.want)
			}
			reqs := f.requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1", len(reqs))
			}
			r := reqs[0]
			wantPath := "/v3.6/" + tc.api + "/action/" + tc.action
			if tc.api == "accounts" {
				wantPath = "/v2/customer/token"
			}
			if r.Method != http.MethodPost || r.Path != wantPath {
				t.Errorf("%s %s, want POST %s", r.Method, r.Path, wantPath)
			}
			if r.ContentType != "application/json" {
				t.Errorf("Content-Type %q, want application/json", r.ContentType)
			}
			switch tc.api {
			case "agent", "configuration":
				checkBasic(t, r)
				if r.Query != "" {
					t.Errorf("query %q, want none", r.Query)
				}
			case "customer":
				if r.Auth != "Bearer dal:customer-token" {
					t.Errorf("Authorization %q, want the customer's Bearer token", r.Auth)
				}
				if r.Query != "organization_id="+testOrg {
					t.Errorf("query %q, want organization_id=%s", r.Query, testOrg)
				}
			case "accounts":
				if r.Auth != "" {
					t.Errorf("the cookie grant sent Authorization %q, want none", r.Auth)
				}
			}
			sameJSON(t, tc.fixture, r.Body)
		})
	}
}

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

// checkBasic checks that a request carries the PAT as HTTP Basic
// account_id:token, never as Bearer.
func checkBasic(t *testing.T, r request) {
	t.Helper()
	scheme, cred, _ := strings.Cut(r.Auth, " ")
	if scheme != "Basic" {
		t.Fatalf("Authorization %q: want the PAT as Basic, never Bearer", r.Auth)
	}
	raw, err := base64.StdEncoding.DecodeString(cred)
	if err != nil || string(raw) != testAccount+":"+testPAT {
		t.Errorf("Basic credentials %q, want %s:%s", raw, testAccount, testPAT)
	}
}

// TestUpload checks upload_file's multipart body on both APIs.
func TestUpload(t *testing.T) {
	t.Parallel()
	for _, api := range []string{"agent", "customer"} {
		t.Run(api, func(t *testing.T) {
			f := newFake(t)
			f.answer = func(request) (int, http.Header, string) {
				return http.StatusOK, nil, `{"url":"https://cdn.livechat-files.com/api/file/lc/att/1/h/a.png"}`
			}
			u, err := f.client().Upload(context.Background(), api, "dal:customer-token", "a.png", "image/png", []byte("PNGDATA"))
			if err != nil || u != "https://cdn.livechat-files.com/api/file/lc/att/1/h/a.png" {
				t.Fatalf("Upload = %q, %v", u, err)
			}
			r := f.requests()[0]
			if r.Path != "/v3.6/"+api+"/action/upload_file" {
				t.Errorf("path %s", r.Path)
			}
			if api == "agent" {
				checkBasic(t, r)
			} else if r.Auth != "Bearer dal:customer-token" || r.Query != "organization_id="+testOrg {
				t.Errorf("customer upload: Authorization %q, query %q", r.Auth, r.Query)
			}
			mt, params, err := mime.ParseMediaType(r.ContentType)
			if err != nil || mt != "multipart/form-data" {
				t.Fatalf("Content-Type %q, want multipart/form-data", r.ContentType)
			}
			mr := multipart.NewReader(strings.NewReader(string(r.Body)), params["boundary"])
			p, err := mr.NextPart()
			if err != nil {
				t.Fatal(err)
			}
			data, _ := io.ReadAll(p)
			if p.FormName() != "file" || p.FileName() != "a.png" || p.Header.Get("Content-Type") != "image/png" || string(data) != "PNGDATA" {
				t.Errorf("part %q file %q type %q data %q; want file, a.png, image/png, PNGDATA", p.FormName(), p.FileName(), p.Header.Get("Content-Type"), data)
			}
		})
	}
}

// TestErrors checks how LiveChat's errors become DeskErrors.
func TestErrors(t *testing.T) {
	t.Parallel()
	now := time.Now().UTC().Truncate(time.Second)
	type want struct {
		auth, permanent, busy bool
		retryAfter            time.Duration
	}
	tests := []struct {
		name   string
		status int
		header http.Header
		body   string
		want   want
	}{
		{"authentication", 401, nil, `{"error":{"type":"authentication","message":"Invalid access token"}}`, want{auth: true}},
		{"authorization", 403, nil, `{"error":{"type":"authorization","message":"Authorization error"}}`, want{auth: true}},
		{"license_expired", 402, nil, `{"error":{"type":"license_expired","message":"License expired"}}`, want{auth: true}},
		{"too_many_requests", 429, nil, `{"error":{"type":"too_many_requests","message":"Too many requests"}}`, want{}},
		{"too_many_requests Retry-After", 429, http.Header{"Retry-After": {"7"}}, `{"error":{"type":"too_many_requests","message":"Too many requests"}}`, want{retryAfter: 7 * time.Second}},
		{"Retry-After date", 503, http.Header{"Retry-After": {now.Add(90 * time.Second).Format(http.TimeFormat)}}, `{"error":{"type":"service_unavailable","message":"Service unavailable"}}`, want{retryAfter: 90 * time.Second}},
		{"service_unavailable", 503, nil, `{"error":{"type":"service_unavailable","message":"Service unavailable"}}`, want{}},
		{"internal", 500, nil, `{"error":{"type":"internal","message":"Internal server error"}}`, want{}},
		{"request_timeout", 408, nil, `{"error":{"type":"request_timeout","message":"Request timed out"}}`, want{}},
		{"bare 502", 502, nil, `<html>bad gateway</html>`, want{}},
		{"chat_inactive", 422, nil, `{"error":{"type":"chat_inactive","message":"Chat is inactive"}}`, want{permanent: true}},
		{"not_found", 404, nil, `{"error":{"type":"not_found","message":"Chat not found"}}`, want{permanent: true}},
		{"validation", 400, nil, `{"error":{"type":"validation","message":"Wrong format of request"}}`, want{permanent: true}},
		{"groups_offline", 422, nil, `{"error":{"type":"groups_offline","message":"Groups offline"}}`, want{busy: true}},
		{"oauth invalid_client", 401, nil, `{"oauth_exception":"invalid_client","exception_description":"client_id not found"}`, want{auth: true}},
		{"oauth invalid_request", 400, nil, `{"oauth_exception":"invalid_request","exception_description":"redirect_uri mismatch"}`, want{permanent: true}},
		{"oauth server_error", 500, nil, `{"oauth_exception":"server_error","exception_description":"x"}`, want{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			f.answer = func(request) (int, http.Header, string) { return tc.status, tc.header, tc.body }
			c := f.client()
			c.now = func() time.Time { return now }
			err := c.DeactivateChat(context.Background(), "PJ0MRSHTDG")
			var de *baton.DeskError
			if !errors.As(err, &de) {
				t.Fatalf("error %v (%T), want a *baton.DeskError", err, err)
			}
			got := want{auth: de.Auth, permanent: de.Permanent, busy: de.Busy, retryAfter: de.RetryAfter}
			if got != tc.want {
				t.Errorf("%v classified %+v, want %+v", err, got, tc.want)
			}
			var ae *APIError
			if !errors.As(err, &ae) || ae.Status != tc.status {
				t.Errorf("error %v does not carry an *APIError with status %d", err, tc.status)
			}
		})
	}

	t.Run("network", func(t *testing.T) {
		f := newFake(t)
		c := f.client()
		f.Close()
		err := c.DeactivateChat(context.Background(), "PJ0MRSHTDG")
		var de *baton.DeskError
		if !errors.As(err, &de) || de.Auth || de.Permanent || de.Busy {
			t.Errorf("a network failure gave %v, want a retryable *baton.DeskError", err)
		}
	})
}

// TestTransferCannotAssign: transfer_chat refused because nobody can take
// the chat is asked again with ignore_agents_availability.
func TestTransferCannotAssign(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.answer = func(r request) (int, http.Header, string) {
		var in TransferChatRequest
		json.Unmarshal(r.Body, &in)
		if !in.IgnoreAgentsAvailability {
			return 400, nil, `{"error":{"type":"validation","message":"Cannot assign any agent from requested groups"}}`
		}
		return 200, nil, `{}`
	}
	err := f.client().TransferChat(context.Background(), TransferChatRequest{ID: "PJ0MRSHTDG", Target: &Target{Type: "group", IDs: []any{19}}})
	if err != nil {
		t.Fatal(err)
	}
	reqs := f.requests()
	if len(reqs) != 2 || !strings.Contains(string(reqs[1].Body), `"ignore_agents_availability":true`) {
		t.Errorf("requests %d, second %s: want a retry with ignore_agents_availability", len(reqs), reqs[len(reqs)-1].Body)
	}
}

// TestMisdirected: a misdirected_request naming the region is repeated once
// with X-Region.
func TestMisdirected(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.answer = func(r request) (int, http.Header, string) {
		if r.Header.Get("X-Region") != "fra" {
			return 421, nil, `{"error":{"type":"misdirected_request","message":"Wrong region","data":{"region":"fra"}}}`
		}
		return 200, nil, `{}`
	}
	if err := f.client().DeactivateChat(context.Background(), "PJ0MRSHTDG"); err != nil {
		t.Fatal(err)
	}
	if n := len(f.requests()); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}
}

// TestOrganizationLookup: a license id is looked up to the organization
// once, on the 3.4 path.
func TestOrganizationLookup(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.answer = func(r request) (int, http.Header, string) {
		if strings.HasSuffix(r.Path, "get_organization_id") {
			return 200, nil, `{"organization_id":"` + testOrg + `"}`
		}
		return 200, nil, `{"event_id":"X_1"}`
	}
	c := f.client()
	c.OrganizationID, c.LicenseID = "", 104130623
	for range 2 {
		if _, err := c.CustomerSendEvent(context.Background(), "tok", "PJ0MRSHTDG", Event{Type: EventMessage, Text: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	reqs := f.requests()
	if len(reqs) != 3 || reqs[0].Method != http.MethodGet || reqs[0].Path != "/v3.4/configuration/action/get_organization_id" || reqs[0].Query != "license_id=104130623" {
		t.Fatalf("requests: %+v", reqs)
	}
	if reqs[2].Query != "organization_id="+testOrg {
		t.Errorf("customer call query %q", reqs[2].Query)
	}
}

// TestCookieGrantCookies: the cookies one grant sets are sent by the next,
// which renews the same customer.
func TestCookieGrantCookies(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.answer = func(r request) (int, http.Header, string) {
		h := http.Header{}
		h.Add("Set-Cookie", "__lc_cid="+testCust+"; Path=/; Max-Age=63072000; HttpOnly")
		h.Add("Set-Cookie", "__lc_cst=secret-cst; Path=/; Max-Age=63072000; HttpOnly")
		return 200, h, `{"access_token":"dal:cust","entity_id":"` + testCust + `","expires_in":28800}`
	}
	c := f.client()
	_, cookies, err := c.CookieGrant(context.Background(), testClient, "https://baton.example.com/livechat", nil)
	if err != nil {
		t.Fatal(err)
	}
	if cookies[CookieCustomerID] != testCust || cookies[CookieCustomerToken] != "secret-cst" {
		t.Fatalf("kept cookies %v", cookies)
	}
	if _, _, err := c.CookieGrant(context.Background(), testClient, "https://baton.example.com/livechat", cookies); err != nil {
		t.Fatal(err)
	}
	reqs := f.requests()
	if len(reqs[0].Cookies) != 0 {
		t.Errorf("the first grant sent cookies %v", reqs[0].Cookies)
	}
	got := map[string]string{}
	for _, ck := range reqs[1].Cookies {
		got[ck.Name] = ck.Value
	}
	if !reflect.DeepEqual(got, cookies) {
		t.Errorf("the renewal sent cookies %v, want %v", got, cookies)
	}
}
