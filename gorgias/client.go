package gorgias

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	baton "github.com/batonhq/baton"
)

// Customer is a Gorgias customer, as far as Baton reads and writes it.
type Customer struct {
	ID         int64     `json:"id,omitempty"`
	Name       string    `json:"name,omitempty"`
	Email      string    `json:"email,omitempty"`
	ExternalID string    `json:"external_id,omitempty"`
	Channels   []Channel `json:"channels,omitempty"`
}

// Channel is one of a customer's addresses.
type Channel struct {
	Type      string `json:"type"`
	Address   string `json:"address"`
	Preferred bool   `json:"preferred,omitempty"`
}

// Party is a message's sender or receiver: a customer or a user, by id or email.
type Party struct {
	ID    int64  `json:"id,omitempty"`
	Email string `json:"email,omitempty"`
	Name  string `json:"name,omitempty"`
}

// Attachment is a file a message links to.
type Attachment struct {
	URL         string `json:"url"`
	Name        string `json:"name,omitempty"`
	ContentType string `json:"content_type,omitempty"`
	Size        int64  `json:"size,omitempty"`
}

// Message is a ticket message.
type Message struct {
	ID           int64        `json:"id,omitempty"`
	TicketID     int64        `json:"ticket_id,omitempty"`
	Channel      string       `json:"channel"`
	Via          string       `json:"via"`
	FromAgent    bool         `json:"from_agent"`
	Public       *bool        `json:"public,omitempty"`
	Sender       *Party       `json:"sender,omitempty"`
	Receiver     *Party       `json:"receiver,omitempty"`
	BodyText     string       `json:"body_text,omitempty"`
	BodyHTML     string       `json:"body_html,omitempty"`
	ExternalID   string       `json:"external_id,omitempty"`
	Attachments  []Attachment `json:"attachments,omitempty"`
	SentDatetime string       `json:"sent_datetime,omitempty"`
	Created      string       `json:"created_datetime,omitempty"`
}

// Ticket is a Gorgias ticket.
type Ticket struct {
	ID         int64     `json:"id,omitempty"`
	ExternalID string    `json:"external_id,omitempty"`
	Status     string    `json:"status,omitempty"`
	Channel    string    `json:"channel,omitempty"`
	Via        string    `json:"via,omitempty"`
	FromAgent  bool      `json:"from_agent"`
	Subject    string    `json:"subject,omitempty"`
	Customer   *Party    `json:"customer,omitempty"`
	Messages   []Message `json:"messages,omitempty"`
}

// Integration is an HTTP integration (Gorgias' outgoing webhook).
type Integration struct {
	ID   int64  `json:"id,omitempty"`
	Name string `json:"name"`
	Type string `json:"type"`
	HTTP HTTP   `json:"http"`
}

// HTTP is an HTTP integration's request template. Form is an object of
// templated values, or a template string ("{{context}}").
type HTTP struct {
	URL                 string            `json:"url"`
	Method              string            `json:"method"`
	Headers             map[string]string `json:"headers,omitempty"`
	Form                json.RawMessage   `json:"form,omitempty"`
	RequestContentType  string            `json:"request_content_type"`
	ResponseContentType string            `json:"response_content_type"`
	Triggers            map[string]bool   `json:"triggers"`
}

// page is a cursor-paginated list.
type page[T any] struct {
	Data []T `json:"data"`
	Meta struct {
		NextCursor *string `json:"next_cursor"`
	} `json:"meta"`
}

// Client calls the Gorgias REST API of one account within its rate limit.
type Client struct {
	base  string
	email string
	key   string
	http  *http.Client
	limit *bucket
}

// NewClient returns a client of the account at base (https://acme.gorgias.com)
// that allows itself limit requests per window.
func NewClient(c *http.Client, base, email, key string, limit int, window time.Duration) *Client {
	if c == nil {
		c = &http.Client{Timeout: 30 * time.Second}
	}
	return &Client{base: strings.TrimRight(base, "/"), email: email, key: key, http: c, limit: newBucket(limit, window, time.Now)}
}

// apiError is Gorgias' error body.
type apiError struct {
	Error struct {
		Msg  string          `json:"msg"`
		Data json.RawMessage `json:"data"`
	} `json:"error"`
}

// do makes one call: in is sent as JSON, a 2xx answer decoded into out.
func (c *Client) do(ctx context.Context, method, path string, q url.Values, in, out any) error {
	if err := c.limit.wait(ctx); err != nil {
		return err
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return &baton.DeskError{Permanent: true, Err: err}
		}
		body = bytes.NewReader(b)
	}
	u := c.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return &baton.DeskError{Permanent: true, Err: err}
	}
	req.SetBasicAuth(c.email, c.key)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return &baton.DeskError{Err: fmt.Errorf("%s %s: %w", method, path, err)}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return &baton.DeskError{Err: fmt.Errorf("%s %s: reading the answer: %w", method, path, err)}
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if out == nil {
			return nil
		}
		if err := json.Unmarshal(b, out); err != nil {
			return &baton.DeskError{Err: fmt.Errorf("%s %s: the answer is not the documented JSON: %w", method, path, err)}
		}
		return nil
	}
	var ae apiError
	msg := http.StatusText(resp.StatusCode)
	if json.Unmarshal(b, &ae) == nil && ae.Error.Msg != "" {
		msg = ae.Error.Msg
		if len(ae.Error.Data) > 0 && string(ae.Error.Data) != "null" {
			msg += " " + string(ae.Error.Data)
		}
	}
	cause := &statusError{status: resp.StatusCode, err: fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, msg)}
	switch s := resp.StatusCode; {
	case s == http.StatusUnauthorized || s == http.StatusForbidden:
		return &baton.DeskError{Auth: true, Err: cause}
	case s == http.StatusTooManyRequests:
		d := retryAfter(resp.Header.Get("Retry-after"))
		c.limit.pause(d)
		return &baton.DeskError{RetryAfter: d, Err: cause}
	case s >= 500 || s == http.StatusRequestTimeout:
		return &baton.DeskError{RetryAfter: retryAfter(resp.Header.Get("Retry-after")), Err: cause}
	}
	return &baton.DeskError{Permanent: true, Err: cause}
}

// statusError keeps the status of a call Gorgias answered with an error.
type statusError struct {
	status int
	err    error
}

func (e *statusError) Error() string { return e.err.Error() }
func (e *statusError) Unwrap() error { return e.err }

// status returns the HTTP status a failed call was answered with; 0 when
// none came back.
func status(err error) int {
	var se *statusError
	if errors.As(err, &se) {
		return se.status
	}
	return 0
}

// retryAfter reads a Retry-after of seconds (or an HTTP date); 0 if absent.
func retryAfter(v string) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseFloat(v, 64); err == nil && n >= 0 {
		return time.Duration(n * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0)
	}
	return 0
}

// Account answers GET /api/account: a cheap authenticated call.
func (c *Client) Account(ctx context.Context) error {
	return c.do(ctx, http.MethodGet, "/api/account", nil, nil, nil)
}

// FindCustomer returns the first customer whose field (email or
// external_id) is value.
func (c *Client) FindCustomer(ctx context.Context, field, value string) (Customer, bool, error) {
	var p page[Customer]
	if err := c.do(ctx, http.MethodGet, "/api/customers", url.Values{field: {value}, "limit": {"1"}}, nil, &p); err != nil {
		return Customer{}, false, err
	}
	if len(p.Data) == 0 {
		return Customer{}, false, nil
	}
	return p.Data[0], true, nil
}

// CreateCustomer creates a customer.
func (c *Client) CreateCustomer(ctx context.Context, cu Customer) (Customer, error) {
	var out Customer
	err := c.do(ctx, http.MethodPost, "/api/customers", nil, cu, &out)
	return out, err
}

// FindTicket returns the ticket whose external_id is ext.
func (c *Client) FindTicket(ctx context.Context, ext string) (Ticket, bool, error) {
	var p page[Ticket]
	if err := c.do(ctx, http.MethodGet, "/api/tickets", url.Values{"external_id": {ext}, "limit": {"1"}}, nil, &p); err != nil {
		return Ticket{}, false, err
	}
	for _, t := range p.Data {
		if t.ExternalID == ext {
			return t, true, nil
		}
	}
	return Ticket{}, false, nil
}

// CreateTicket creates a ticket with its first messages.
func (c *Client) CreateTicket(ctx context.Context, t Ticket) (Ticket, error) {
	var out Ticket
	err := c.do(ctx, http.MethodPost, "/api/tickets", nil, t, &out)
	return out, err
}

// AddMessage adds a message to a ticket.
func (c *Client) AddMessage(ctx context.Context, ticket string, m Message) (Message, error) {
	var out Message
	err := c.do(ctx, http.MethodPost, "/api/tickets/"+url.PathEscape(ticket)+"/messages", nil, m, &out)
	return out, err
}

// Messages lists a ticket's messages, following the cursor to the end.
func (c *Client) Messages(ctx context.Context, ticket string) ([]Message, error) {
	var all []Message
	q := url.Values{"limit": {"100"}}
	for range 100 {
		var p page[Message]
		if err := c.do(ctx, http.MethodGet, "/api/tickets/"+url.PathEscape(ticket)+"/messages", q, nil, &p); err != nil {
			return nil, err
		}
		all = append(all, p.Data...)
		if p.Meta.NextCursor == nil || *p.Meta.NextCursor == "" {
			break
		}
		q.Set("cursor", *p.Meta.NextCursor)
	}
	return all, nil
}

// SetStatus sets a ticket's status (open or closed).
func (c *Client) SetStatus(ctx context.Context, ticket, st string) error {
	return c.do(ctx, http.MethodPut, "/api/tickets/"+url.PathEscape(ticket), nil, map[string]string{"status": st}, nil)
}

// CreateIntegration creates an HTTP integration.
func (c *Client) CreateIntegration(ctx context.Context, in Integration) (Integration, error) {
	var out Integration
	err := c.do(ctx, http.MethodPost, "/api/integrations", nil, in, &out)
	return out, err
}

// Integrations lists the account's integrations.
func (c *Client) Integrations(ctx context.Context) ([]Integration, error) {
	var p page[Integration]
	err := c.do(ctx, http.MethodGet, "/api/integrations", url.Values{"limit": {"100"}}, nil, &p)
	return p.Data, err
}

// bucket is a client-side leaky bucket: it holds up to limit calls and
// drains limit per window, so Baton keeps within the account's own bucket.
type bucket struct {
	rate  float64 // calls drained per second
	limit float64
	now   func() time.Time

	mu    sync.Mutex
	level float64
	at    time.Time
	until time.Time // a 429 asked to wait until then
}

func newBucket(limit int, window time.Duration, now func() time.Time) *bucket {
	return &bucket{rate: float64(limit) / window.Seconds(), limit: float64(limit), now: now}
}

// wait takes room for one call, waiting for it while ctx allows; when the
// wait would outlast ctx, it fails with the wait as RetryAfter.
func (b *bucket) wait(ctx context.Context) error {
	b.mu.Lock()
	now := b.now()
	if !b.at.IsZero() {
		b.level = max(0, b.level-now.Sub(b.at).Seconds()*b.rate)
	}
	b.at = now
	var d time.Duration
	if b.level+1 > b.limit {
		d = time.Duration((b.level + 1 - b.limit) / b.rate * float64(time.Second))
	}
	if u := b.until.Sub(now); u > d {
		d = u
	}
	if dl, ok := ctx.Deadline(); d > 0 && ok && now.Add(d).After(dl) {
		b.mu.Unlock()
		return &baton.DeskError{RetryAfter: d, Err: fmt.Errorf("Gorgias rate limit: %.0f calls per %.0fs used; next call in %v", b.limit, b.limit/b.rate, d.Round(time.Millisecond))}
	}
	b.level++ // the room is taken now, used after the wait
	b.mu.Unlock()
	if d <= 0 {
		return nil
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

// pause holds every call for d (a 429's Retry-after).
func (b *bucket) pause(d time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if u := b.now().Add(d); u.After(b.until) {
		b.until = u
	}
}
