package livechat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	baton "github.com/batonhq/baton"
	"github.com/batonhq/baton/stdwebhook"
)

// APIVersion is the LiveChat Web API version Baton speaks (the stable one).
const APIVersion = "3.6"

// Default base URLs.
const (
	DefaultAPIURL      = "https://api.livechatinc.com"
	DefaultAccountsURL = "https://accounts.livechat.com"
)

// MaxFileSize is the largest file LiveChat's upload_file takes (10 MB).
const MaxFileSize = 10 << 20

// maxResponse bounds the answers read from LiveChat.
const maxResponse = 16 << 20

// The cookies the Accounts API sets on a cookie grant; sending them back
// renews the token of the same customer.
const (
	CookieCustomerID    = "__lc_cid"
	CookieCustomerToken = "__lc_cst"
)

// APIError is a LiveChat answer other than 2xx: the Web APIs' body
// {"error":{"type","message","data"}}, or the Accounts API's
// {"oauth_exception","exception_description"} (Type holds the exception).
// Every client call that fails returns a *baton.DeskError wrapping it.
type APIError struct {
	Call       string          // "agent/start_chat", "accounts/customer/token", ...
	Status     int             // the HTTP status
	Type       string          // "validation", "authentication", ... or the OAuth exception
	Message    string          // LiveChat's message, clipped to one line
	Data       json.RawMessage // the error's data ({"region":"fra"}), if any
	RetryAfter time.Duration   // from Retry-After; 0 when LiveChat sent none
}

// Error implements error.
func (e *APIError) Error() string {
	s := fmt.Sprintf("livechat %s: HTTP %d", e.Call, e.Status)
	if e.Type != "" {
		s += " " + e.Type
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// Client calls the LiveChat Web API v3.6 and the Accounts API. Agent and
// Configuration calls authenticate with the personal access token as HTTP
// Basic (account id : token; LiveChat refuses a PAT sent as Bearer);
// Customer calls with a customer's Bearer token and ?organization_id=.
// Every error is a *baton.DeskError (see Classify). It is safe for
// concurrent use.
type Client struct {
	HTTP        *http.Client // makes the calls; its Timeout bounds each
	APIURL      string       // without a trailing slash
	AccountsURL string       // without a trailing slash
	AccountID   string       // the PAT's account
	Token       string       // the PAT
	// OrganizationID is the license's organization. When empty and
	// LicenseID is set, it is looked up once (get_organization_id).
	OrganizationID string
	LicenseID      int64 // used only to look up OrganizationID

	now    func() time.Time
	mu     sync.Mutex
	region string // learned from misdirected_request
}

// NewClient returns a client for the given PAT against the default URLs.
func NewClient(httpClient *http.Client, accountID, token string) *Client {
	if httpClient == nil {
		httpClient = &http.Client{Timeout: DefaultTimeout}
	}
	return &Client{HTTP: httpClient, APIURL: DefaultAPIURL, AccountsURL: DefaultAccountsURL, AccountID: accountID, Token: token, now: time.Now}
}

func (c *Client) clock() time.Time {
	if c.now != nil {
		return c.now()
	}
	return time.Now()
}

// Agent calls an Agent Chat API action with the PAT: in is sent as JSON, a
// 2xx answer decoded into out (nil ignores it).
func (c *Client) Agent(ctx context.Context, action string, in, out any) error {
	return c.post(ctx, "agent", action, c.basic, nil, in, out)
}

// Configuration calls a Configuration API action with the PAT.
func (c *Client) Configuration(ctx context.Context, action string, in, out any) error {
	return c.post(ctx, "configuration", action, c.basic, nil, in, out)
}

// Customer calls a Customer Chat API action as the customer whose access
// token is given, with ?organization_id=.
func (c *Client) Customer(ctx context.Context, token, action string, in, out any) error {
	q, err := c.orgQuery(ctx)
	if err != nil {
		return err
	}
	return c.post(ctx, "customer", action, bearer(token), q, in, out)
}

func (c *Client) basic(r *http.Request) { r.SetBasicAuth(c.AccountID, c.Token) }

func bearer(token string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) }
}

func (c *Client) orgQuery(ctx context.Context) (url.Values, error) {
	org, err := c.Organization(ctx)
	if err != nil {
		return nil, err
	}
	return url.Values{"organization_id": {org}}, nil
}

// Organization returns the organization id, looking it up from the license
// id the first time (GET /v3.4/configuration/action/get_organization_id,
// which LiveChat kept only on the 3.4 path).
func (c *Client) Organization(ctx context.Context) (string, error) {
	c.mu.Lock()
	org, lic := c.OrganizationID, c.LicenseID
	c.mu.Unlock()
	if org != "" {
		return org, nil
	}
	if lic <= 0 {
		return "", &baton.DeskError{Permanent: true, Err: baton.FieldErrorf("settings.organization_id", "required (or settings.license_id)")}
	}
	u := c.APIURL + "/v3.4/configuration/action/get_organization_id?license_id=" + strconv.FormatInt(lic, 10)
	var out struct {
		OrganizationID string `json:"organization_id"`
	}
	err := c.do(ctx, "configuration/get_organization_id", func() (*http.Request, error) {
		return http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	}, &out)
	if err != nil {
		return "", err
	}
	if out.OrganizationID == "" {
		return "", &baton.DeskError{Permanent: true, Err: fmt.Errorf("livechat get_organization_id: no organization for license %d", lic)}
	}
	c.mu.Lock()
	c.OrganizationID = out.OrganizationID
	c.mu.Unlock()
	return out.OrganizationID, nil
}

// post sends one JSON action call.
func (c *Client) post(ctx context.Context, api, action string, auth func(*http.Request), q url.Values, in, out any) error {
	body, err := encodeJSON(in)
	if err != nil {
		return &baton.DeskError{Permanent: true, Err: fmt.Errorf("livechat %s/%s: encode: %w", api, action, err)}
	}
	u := c.APIURL + "/v" + APIVersion + "/" + api + "/action/" + action
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return c.do(ctx, api+"/"+action, func() (*http.Request, error) {
		r, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		r.Header.Set("Content-Type", "application/json")
		auth(r)
		return r, nil
	}, out)
}

// Upload sends a file with upload_file (api "agent" with the PAT, or
// "customer" with the customer's token) and returns its LiveChat URL.
func (c *Client) Upload(ctx context.Context, api, customerToken, name, contentType string, data []byte) (string, error) {
	auth, q := c.basic, url.Values(nil)
	if api == "customer" {
		var err error
		if q, err = c.orgQuery(ctx); err != nil {
			return "", err
		}
		auth = bearer(customerToken)
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename=%q`, safeFilename(name)))
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	h.Set("Content-Type", contentType)
	pw, err := mw.CreatePart(h)
	if err == nil {
		_, err = pw.Write(data)
	}
	if err == nil {
		err = mw.Close()
	}
	if err != nil {
		return "", &baton.DeskError{Permanent: true, Err: fmt.Errorf("livechat %s/upload_file: %w", api, err)}
	}
	u := c.APIURL + "/v" + APIVersion + "/" + api + "/action/upload_file"
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var out UploadFileResponse
	err = c.do(ctx, api+"/upload_file", func() (*http.Request, error) {
		r, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(buf.Bytes()))
		if err != nil {
			return nil, err
		}
		r.Header.Set("Content-Type", mw.FormDataContentType())
		auth(r)
		return r, nil
	}, &out)
	if err != nil {
		return "", err
	}
	if out.URL == "" {
		return "", &baton.DeskError{Err: fmt.Errorf("livechat %s/upload_file: the answer has no url", api)}
	}
	return out.URL, nil
}

// safeFilename keeps a file name printable and free of quotes and paths.
func safeFilename(name string) string {
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '"' || r == '\\' || r == '/' {
			return '_'
		}
		return r
	}, name)
	if strings.TrimSpace(name) == "" {
		return "file"
	}
	return name
}

// CookieGrant asks the Accounts API for a customer token with the cookie
// grant. With no cookies it creates a new customer; with the cookies a
// previous grant set, it renews the token of that same customer. It returns
// the token and the cookies to keep (the ones sent, updated by any the
// answer sets).
func (c *Client) CookieGrant(ctx context.Context, clientID, redirectURI string, cookies map[string]string) (CustomerToken, map[string]string, error) {
	var tok CustomerToken
	org, err := c.Organization(ctx)
	if err != nil {
		return tok, nil, err
	}
	body, err := encodeJSON(CustomerTokenRequest{GrantType: "cookie", ClientID: clientID, ResponseType: "token", OrganizationID: org, RedirectURI: redirectURI})
	if err != nil {
		return tok, nil, &baton.DeskError{Permanent: true, Err: err}
	}
	kept := map[string]string{}
	for k, v := range cookies {
		kept[k] = v
	}
	var resp *http.Response
	err = c.doResp(ctx, "accounts/customer/token", func() (*http.Request, error) {
		r, err := http.NewRequestWithContext(ctx, http.MethodPost, c.AccountsURL+"/v2/customer/token", bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		r.Header.Set("Content-Type", "application/json")
		for _, name := range []string{CookieCustomerID, CookieCustomerToken} {
			if v := cookies[name]; v != "" {
				r.AddCookie(&http.Cookie{Name: name, Value: v})
			}
		}
		return r, nil
	}, &tok, func(r *http.Response) { resp = r })
	if err != nil {
		return tok, nil, err
	}
	for _, ck := range resp.Cookies() {
		if ck.Name == CookieCustomerID || ck.Name == CookieCustomerToken {
			kept[ck.Name] = ck.Value
		}
	}
	if tok.AccessToken == "" || tok.EntityID == "" {
		return tok, nil, &baton.DeskError{Err: errors.New("livechat accounts/customer/token: the answer has no access_token or entity_id")}
	}
	return tok, kept, nil
}

// do sends the request build makes and decodes a 2xx answer into out.
func (c *Client) do(ctx context.Context, call string, build func() (*http.Request, error), out any) error {
	return c.doResp(ctx, call, build, out, nil)
}

// doResp is do with a look at the successful response (its cookies). A
// misdirected_request naming the license's region is retried once with
// X-Region.
func (c *Client) doResp(ctx context.Context, call string, build func() (*http.Request, error), out any, seen func(*http.Response)) error {
	for attempt := 0; ; attempt++ {
		err := c.once(ctx, call, build, out, seen)
		var ae *APIError
		if attempt == 0 && errors.As(err, &ae) && ae.Type == "misdirected_request" {
			var d struct {
				Region string `json:"region"`
			}
			if json.Unmarshal(ae.Data, &d) == nil && d.Region != "" {
				c.mu.Lock()
				changed := c.region != d.Region
				c.region = d.Region
				c.mu.Unlock()
				if changed {
					continue
				}
			}
		}
		return err
	}
}

func (c *Client) once(ctx context.Context, call string, build func() (*http.Request, error), out any, seen func(*http.Response)) error {
	req, err := build()
	if err != nil {
		return &baton.DeskError{Permanent: true, Err: fmt.Errorf("livechat %s: %w", call, err)}
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "Baton-livechat")
	c.mu.Lock()
	region := c.region
	c.mu.Unlock()
	if region != "" {
		req.Header.Set("X-Region", region)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL would repeat the base; keep the cause
		}
		return &baton.DeskError{Err: fmt.Errorf("livechat %s: %w", call, err)}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return &baton.DeskError{Err: fmt.Errorf("livechat %s: reading the answer: %w", call, err)}
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if seen != nil {
			seen(resp)
		}
		if out == nil || len(bytes.TrimSpace(body)) == 0 {
			return nil
		}
		if err := json.Unmarshal(body, out); err != nil {
			return &baton.DeskError{Err: fmt.Errorf("livechat %s: unreadable answer: %v", call, err)}
		}
		return nil
	}
	return Classify(parseError(call, resp, body, c.clock()))
}

// parseError reads an error answer.
func parseError(call string, resp *http.Response, body []byte, now time.Time) *APIError {
	e := &APIError{Call: call, Status: resp.StatusCode, RetryAfter: stdwebhook.RetryAfter(resp.Header.Get("Retry-After"), now)}
	var web struct {
		Error *struct {
			Type    string          `json:"type"`
			Message string          `json:"message"`
			Data    json.RawMessage `json:"data"`
		} `json:"error"`
		OAuth       string `json:"oauth_exception"`
		Description string `json:"exception_description"`
	}
	switch {
	case json.Unmarshal(body, &web) != nil:
		e.Message = clip(string(body))
	case web.Error != nil:
		e.Type, e.Message, e.Data = web.Error.Type, clip(web.Error.Message), web.Error.Data
	case web.OAuth != "":
		e.Type, e.Message = web.OAuth, clip(web.Description)
	default:
		e.Message = clip(string(body))
	}
	return e
}

// Classify maps a LiveChat error to what Baton's worker does next:
//
//   - authentication, authorization, license_expired, license_not_found and
//     the Accounts API's invalid_client, unauthorized_client, access_denied
//     and invalid_grant: Auth (the desk is unavailable until fixed);
//   - too_many_requests, service_unavailable, internal, request_timeout,
//     misdirected_request, server_error, any 5xx, 408 and 429: retryable,
//     after Retry-After when LiveChat sends one, else on the engine's
//     schedule;
//   - groups_offline, group_offline, group_unavailable: Busy;
//   - everything else (chat_inactive, not_found, validation, ...): Permanent.
func Classify(e *APIError) *baton.DeskError {
	switch e.Type {
	case "authentication", "authorization", "license_expired", "license_not_found",
		"invalid_client", "unauthorized_client", "access_denied", "invalid_grant":
		return &baton.DeskError{Auth: true, Err: e}
	case "too_many_requests", "service_unavailable", "internal", "request_timeout", "misdirected_request", "server_error":
		return &baton.DeskError{RetryAfter: e.RetryAfter, Err: e}
	case "groups_offline", "group_offline", "group_unavailable":
		return &baton.DeskError{Busy: true, Err: e}
	}
	switch s := e.Status; {
	case s >= 500 || s == http.StatusRequestTimeout || s == http.StatusTooManyRequests:
		return &baton.DeskError{RetryAfter: e.RetryAfter, Err: e}
	case e.Type == "" && (s == http.StatusUnauthorized || s == http.StatusForbidden):
		return &baton.DeskError{Auth: true, Err: e}
	}
	return &baton.DeskError{Permanent: true, Err: e}
}

// errType returns the LiveChat error type inside err, or "".
func errType(err error) string {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Type
	}
	return ""
}

// encodeJSON encodes v without HTML escaping and without a final newline.
func encodeJSON(v any) ([]byte, error) {
	if v == nil {
		return []byte("{}"), nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func clip(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 200 {
		s = string(r[:200]) + "…"
	}
	return s
}
