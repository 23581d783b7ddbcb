package intercom

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	baton "github.com/batonhq/baton"
)

// Rate-limit headers of every answer.
const (
	HeaderLimit     = "X-RateLimit-Limit"
	HeaderRemaining = "X-RateLimit-Remaining"
	HeaderReset     = "X-RateLimit-Reset" // Unix seconds
)

// Waits for the rate limit.
const (
	// MaxInlineWait is the longest a call waits for the rate limit within
	// itself; a longer wait fails the call with it as RetryAfter.
	MaxInlineWait = 5 * time.Second
	// DefaultThrottle is the wait after a 429 that gives no reset.
	DefaultThrottle = 10 * time.Second
)

// Client calls the Intercom REST API of one workspace with its access
// token, keeping within the rate limit the answers report.
type Client struct {
	base    string
	token   string
	version string
	http    *http.Client
	now     func() time.Time

	mu        sync.Mutex
	remaining int       // calls left in the window; -1 unknown
	reset     time.Time // when the window refills
	until     time.Time // a 429 asked to wait until then
}

// NewClient returns a client of the API at base sending version as
// Intercom-Version; c nil means a client with a 30 s timeout.
func NewClient(c *http.Client, base, token, version string) *Client {
	if c == nil {
		c = &http.Client{Timeout: 30 * time.Second}
	}
	return &Client{base: strings.TrimRight(base, "/"), token: token, version: version, http: c, now: time.Now, remaining: -1}
}

// errorList is Intercom's error body.
type errorList struct {
	Type   string `json:"type"`
	Errors []struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"errors"`
}

// APIError is a refused call: its status and Intercom's first error.
type APIError struct {
	Status  int
	Code    string // "not_found", "conflict", …
	Message string
	Call    string // "POST /contacts"
}

func (e *APIError) Error() string {
	return fmt.Sprintf("%s: %d %s: %s", e.Call, e.Status, e.Code, e.Message)
}

// apiError returns the *APIError in err's chain, or nil.
func apiError(err error) *APIError {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae
	}
	return nil
}

// wait returns how long the next call must wait for the rate limit.
func (c *Client) wait() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	d := c.until.Sub(now)
	if c.remaining == 0 && c.reset.After(now) {
		d = max(d, c.reset.Sub(now))
	}
	return max(d, 0)
}

// observe reads the rate-limit headers of an answer; throttled says it was a 429.
func (c *Client) observe(h http.Header, throttled bool) time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if n, err := strconv.Atoi(strings.TrimSpace(h.Get(HeaderRemaining))); err == nil {
		c.remaining = n
	}
	if s, err := strconv.ParseInt(strings.TrimSpace(h.Get(HeaderReset)), 10, 64); err == nil {
		c.reset = time.Unix(s, 0)
	}
	if !throttled {
		return 0
	}
	until := c.reset
	if !until.After(now) {
		until = now.Add(DefaultThrottle)
	}
	c.until = until
	return until.Sub(now)
}

// sleep waits d, or fails with d as RetryAfter when d is longer than
// MaxInlineWait or outlasts ctx.
func sleep(ctx context.Context, d time.Duration, why string) error {
	if d <= 0 {
		return nil
	}
	if dl, ok := ctx.Deadline(); d > MaxInlineWait || (ok && time.Until(dl) < d) {
		return &baton.DeskError{RetryAfter: d, Err: fmt.Errorf("intercom: %s; next call in %v", why, d.Round(time.Millisecond))}
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return &baton.DeskError{RetryAfter: d, Err: ctx.Err()}
	}
}

// call makes one API call, sending in as JSON and decoding a 2xx answer
// into out. A 429 is waited out and the call made again while the wait
// is short; nothing is lost either way.
func (c *Client) call(ctx context.Context, method, path string, in, out any) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return &baton.DeskError{Permanent: true, Err: err}
		}
	}
	name := method + " " + path
	for attempt := 0; ; attempt++ {
		if err := sleep(ctx, c.wait(), "rate limit reached"); err != nil {
			return err
		}
		status, hdr, b, err := c.send(ctx, method, path, body)
		if err != nil {
			return &baton.DeskError{Err: fmt.Errorf("%s: %w", name, err)}
		}
		throttled := status == http.StatusTooManyRequests
		d := c.observe(hdr, throttled)
		if throttled && attempt < 3 {
			if err := sleep(ctx, d, "429 Too Many Requests"); err != nil {
				return err
			}
			continue
		}
		return decodeAnswer(name, status, hdr, b, out, d)
	}
}

// send makes one request and reads its answer.
func (c *Client) send(ctx context.Context, method, path string, body []byte) (int, http.Header, []byte, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, r)
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Intercom-Version", c.version)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return 0, nil, nil, fmt.Errorf("reading the answer: %w", err)
	}
	return resp.StatusCode, resp.Header, b, nil
}

// decodeAnswer turns an answer into out or a classified *baton.DeskError.
func decodeAnswer(name string, status int, hdr http.Header, b []byte, out any, throttle time.Duration) error {
	if status >= 200 && status < 300 {
		if out == nil {
			return nil
		}
		if err := json.Unmarshal(b, out); err != nil {
			return &baton.DeskError{Err: fmt.Errorf("%s: the answer is not the documented JSON: %w", name, err)}
		}
		return nil
	}
	ae := &APIError{Status: status, Call: name, Code: strings.ToLower(strings.ReplaceAll(http.StatusText(status), " ", "_"))}
	var el errorList
	if json.Unmarshal(b, &el) == nil && len(el.Errors) > 0 {
		ae.Code, ae.Message = el.Errors[0].Code, el.Errors[0].Message
	}
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return &baton.DeskError{Auth: true, Err: ae}
	case status == http.StatusTooManyRequests:
		return &baton.DeskError{RetryAfter: throttle, Err: ae}
	case status >= 500 || status == http.StatusRequestTimeout:
		ra, _ := strconv.Atoi(hdr.Get("Retry-After"))
		return &baton.DeskError{RetryAfter: time.Duration(ra) * time.Second, Err: ae}
	}
	return &baton.DeskError{Permanent: true, Err: ae}
}

// Me returns the admin who owns the access token.
func (c *Client) Me(ctx context.Context) (Admin, error) {
	var a Admin
	err := c.call(ctx, http.MethodGet, "/me", nil, &a)
	return a, err
}

// Admin returns an admin by id.
func (c *Client) Admin(ctx context.Context, id ID) (Admin, error) {
	var a Admin
	err := c.call(ctx, http.MethodGet, "/admins/"+url.PathEscape(string(id)), nil, &a)
	return a, err
}

// SearchContacts returns the contacts whose field (external_id, email) is value.
func (c *Client) SearchContacts(ctx context.Context, field, value string) ([]Contact, error) {
	var s Search
	s.Query = Query{Field: field, Operator: "=", Value: value}
	s.Pagination.PerPage = 5
	var l list[Contact]
	err := c.call(ctx, http.MethodPost, "/contacts/search", s, &l)
	return l.Data, err
}

// conflictRE finds the id a 409 names: "…already exists with id=<id>".
var conflictRE = regexp.MustCompile(`id=([0-9A-Za-z_-]+)`)

// CreateContact creates a contact. When one with the same external_id or
// email exists (a 409 conflict), it returns that one's id, and existed.
func (c *Client) CreateContact(ctx context.Context, in Contact) (id ID, existed bool, err error) {
	var out Contact
	err = c.call(ctx, http.MethodPost, "/contacts", in, &out)
	if ae := apiError(err); ae != nil && ae.Status == http.StatusConflict {
		if m := conflictRE.FindStringSubmatch(ae.Message); m != nil {
			return ID(m[1]), true, nil
		}
	}
	return out.ID, false, err
}

// CreateConversation creates a conversation from a contact and returns
// the message that began it (with its conversation_id).
func (c *Client) CreateConversation(ctx context.Context, in NewConversation) (UserMessage, error) {
	var out UserMessage
	err := c.call(ctx, http.MethodPost, "/conversations", in, &out)
	return out, err
}

// SearchConversations returns the contact's conversations whose first
// message contains text.
func (c *Client) SearchConversations(ctx context.Context, contact ID, text string) ([]Conversation, error) {
	var s Search
	s.Query = Query{Operator: "AND", Value: []Query{
		{Field: "contact_ids", Operator: "=", Value: string(contact)},
		{Field: "source.body", Operator: "~", Value: text},
	}}
	s.Pagination.PerPage = 5
	var out struct {
		Conversations []Conversation `json:"conversations"`
	}
	err := c.call(ctx, http.MethodPost, "/conversations/search", s, &out)
	return out.Conversations, err
}

// Conversation returns a conversation with its parts.
func (c *Client) Conversation(ctx context.Context, id string) (Conversation, error) {
	var out Conversation
	err := c.call(ctx, http.MethodGet, "/conversations/"+url.PathEscape(id), nil, &out)
	return out, err
}

// Reply adds a reply (a user's or an admin's) to a conversation. The
// answer, the whole conversation, is not read.
func (c *Client) Reply(ctx context.Context, conversation string, r Reply) (Conversation, error) {
	var conv Conversation
	err := c.call(ctx, http.MethodPost, "/conversations/"+url.PathEscape(conversation)+"/reply", r, &conv)
	return conv, err
}

// Part closes, snoozes, opens or assigns a conversation. The answer, the
// whole conversation, is not read.
func (c *Client) Part(ctx context.Context, conversation string, p PartRequest) error {
	return c.call(ctx, http.MethodPost, "/conversations/"+url.PathEscape(conversation)+"/parts", p, nil)
}

// Schedules lists the workspace's office-hours schedules.
func (c *Client) Schedules(ctx context.Context) ([]Schedule, error) {
	var l list[Schedule]
	err := c.call(ctx, http.MethodGet, "/office_hours_schedules", nil, &l)
	return l.Data, err
}

// Exceptions lists a schedule's exceptions (holidays and other hours).
func (c *Client) Exceptions(ctx context.Context, schedule ID) ([]Exception, error) {
	var l list[Exception]
	err := c.call(ctx, http.MethodGet, "/office_hours_schedules/"+url.PathEscape(string(schedule))+"/office_hours_exceptions", nil, &l)
	return l.Data, err
}
