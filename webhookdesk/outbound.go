package webhookdesk

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	baton "github.com/batonhq/baton"
	"github.com/batonhq/baton/stdwebhook"
)

// Paths on the company's service, appended to the "url" setting.
const (
	PathEstablish = "/conversation/establish"
	PathChat      = "/chat"
	PathClose     = "/conversation/close"
)

// Transcript turn types of the establish body.
const (
	TurnQuestion = "QUESTION" // the customer
	TurnAnswer   = "ANSWER"   // the bot (or anyone answering the customer)
)

// Close types. GPTBots defines TIMEOUT and USER_CLOSED; Baton adds BOT_CLOSED
// and, for its other end reasons, the reason upper-cased (OUT_OF_HOURS, ...).
const (
	CloseTimeout    = "TIMEOUT"
	CloseUserClosed = "USER_CLOSED"
	CloseBotClosed  = "BOT_CLOSED"
)

// HTTPError is the cause inside a *baton.DeskError when the service answered
// with a status other than 2xx.
type HTTPError struct {
	Path    string // PathEstablish, PathChat or PathClose
	Status  int
	Message string // the service's "message" field, or the start of its body
}

// Error implements error.
func (e *HTTPError) Error() string {
	s := fmt.Sprintf("POST %s: HTTP %d", e.Path, e.Status)
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

type turn struct {
	Type string `json:"message_type"`
	Text string `json:"text"`
}

type userInfo struct {
	Email    string         `json:"email"`
	UserID   string         `json:"user_id"`
	Name     string         `json:"name"`
	Metadata map[string]any `json:"metadata,omitempty"`
}

type establishRequest struct {
	IsTest         bool      `json:"istest,omitempty"`
	ConversationID string    `json:"conversation_id"`
	BotID          string    `json:"bot_id"`
	Timestamp      int64     `json:"timestamp"`
	Email          string    `json:"email"`
	Body           []turn    `json:"body"`
	UserInfo       *userInfo `json:"user_info,omitempty"`
	Routing        string    `json:"routing,omitempty"`
	// Brief is the handoff's brief, for the service to show its agent.
	Brief *baton.Brief `json:"brief,omitempty"`
}

type chatRequest struct {
	ConversationID string             `json:"conversation_id"`
	Timestamp      int64              `json:"timestamp"`
	Body           string             `json:"body"`
	MessageID      string             `json:"message_id,omitempty"`
	Attachments    []baton.Attachment `json:"attachments,omitempty"`
}

type closeRequest struct {
	ConversationID string `json:"conversation_id"`
	Timestamp      int64  `json:"timestamp"`
	Type           string `json:"type"`
	Reason         string `json:"reason"`
}

// Open implements baton.Desk. It posts the transcript to establish under the
// handoff id, which it returns as the reference. History turns by the customer
// are QUESTIONs, all others ANSWERs; r.Question ends the transcript as a
// QUESTION unless the history already ends with that same customer message.
// A 2xx opens the handoff; 401/403 is an Auth error; 408, 429, 502, 503, 504
// and network errors are retryable (RetryAfter from Retry-After); any other
// answer means the desk is busy.
func (d *Desk) Open(ctx context.Context, r baton.OpenRequest) (baton.Handle, error) {
	if r.HandoffID == "" {
		return baton.Handle{}, &baton.DeskError{Permanent: true, Err: baton.FieldErrorf("handoff_id", "required: it is the conversation_id the service echoes back")}
	}
	req := establishRequest{
		ConversationID: r.HandoffID,
		Timestamp:      d.now().UnixMilli(),
		Email:          r.Customer.Email,
		Body:           transcript(r.History, r.Question),
		UserInfo: &userInfo{
			Email:    r.Customer.Email,
			UserID:   r.Customer.ID,
			Name:     r.Customer.Name,
			Metadata: r.Customer.Metadata,
		},
		Routing: r.Routing,
	}
	if r.Brief.Summary != "" {
		req.Brief = &r.Brief
	}
	if err := d.post(ctx, PathEstablish, req, true); err != nil {
		return baton.Handle{}, err
	}
	return baton.Handle{Ref: r.HandoffID}, nil
}

// transcript builds the establish body from the history and the latest question.
func transcript(history []baton.Message, question string) []turn {
	body := make([]turn, 0, len(history)+1)
	var last *baton.Message
	for i := range history {
		m := &history[i]
		text := withLinks(m.Text, m.Attachments)
		if text == "" {
			continue
		}
		t := TurnAnswer
		if m.Author == baton.ByCustomer {
			t = TurnQuestion
		}
		body = append(body, turn{Type: t, Text: text})
		last = m
	}
	q := strings.TrimSpace(question)
	if q == "" || (last != nil && last.Author == baton.ByCustomer && strings.TrimSpace(last.Text) == q) {
		return body
	}
	return append(body, turn{Type: TurnQuestion, Text: question})
}

// withLinks appends one line per attachment to text: the protocol carries
// text only, so a file becomes a visible link.
func withLinks(text string, atts []baton.Attachment) string {
	if len(atts) == 0 {
		return text
	}
	var b strings.Builder
	b.WriteString(text)
	for i, a := range atts {
		if i == 0 && text != "" {
			b.WriteString("\n\n")
		} else if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString("Attachment: ")
		if a.Name != "" {
			b.WriteString(a.Name)
			b.WriteString(" ")
		}
		b.WriteString(a.URL)
	}
	return b.String()
}

// Send implements baton.Desk: it posts one customer message to chat, with its
// attachments listed as links at the end of the body and, for services that
// read it, in an "attachments" array. message_id (m.ID) lets the service drop
// a repeated delivery. 401/403 is an Auth error; 408, 429, 5xx and network
// errors are retryable; any other 4xx is permanent.
func (d *Desk) Send(ctx context.Context, h baton.Handle, m baton.Message) error {
	ref := h.Ref
	if ref == "" {
		return &baton.DeskError{Permanent: true, Err: baton.FieldErrorf("ref", "required")}
	}
	text := withLinks(m.Text, m.Attachments)
	if text == "" {
		return &baton.DeskError{Permanent: true, Err: baton.FieldErrorf("text", "empty message: no text and no attachments")}
	}
	return d.post(ctx, PathChat, chatRequest{
		ConversationID: ref,
		Timestamp:      d.now().UnixMilli(),
		Body:           text,
		MessageID:      m.ID,
		Attachments:    m.Attachments,
	}, false)
}

// Close implements baton.Desk: it posts to conversation/close with the type
// CloseType gives and Baton's reason. Errors are classified as for Send.
func (d *Desk) Close(ctx context.Context, h baton.Handle, reason baton.EndReason) error {
	ref := h.Ref
	if ref == "" {
		return &baton.DeskError{Permanent: true, Err: baton.FieldErrorf("ref", "required")}
	}
	return d.post(ctx, PathClose, closeRequest{
		ConversationID: ref,
		Timestamp:      d.now().UnixMilli(),
		Type:           CloseType(reason),
		Reason:         string(reason),
	}, false)
}

// CloseType maps an end reason to the close "type": customer_closed is
// USER_CLOSED; wait_timeout, session_timeout and idle_expired are TIMEOUT;
// bot_closed is BOT_CLOSED; any other reason is upper-cased (OUT_OF_HOURS).
func CloseType(reason baton.EndReason) string {
	switch reason {
	case baton.CustomerClosed:
		return CloseUserClosed
	case baton.WaitTimeout, baton.SessionTimeout, baton.IdleExpired:
		return CloseTimeout
	case baton.BotClosed:
		return CloseBotClosed
	}
	return strings.ToUpper(string(reason))
}

// Check implements baton.Desk: it probes establish with "istest": true, which
// the service must answer with a 2xx without opening anything. 401/403 is an
// Auth error; other failures are classified as for Send.
func (d *Desk) Check(ctx context.Context) error {
	return d.post(ctx, PathEstablish, establishRequest{
		IsTest:    true,
		Timestamp: d.now().UnixMilli(),
		Body:      []turn{},
	}, false)
}

// post sends v as JSON to path and classifies the outcome. With establish,
// a refusal means the desk is busy rather than a permanent failure.
func (d *Desk) post(ctx context.Context, path string, v any, establish bool) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return &baton.DeskError{Permanent: true, Err: fmt.Errorf("POST %s: encode: %w", path, err)}
	}
	body := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.base+path, bytes.NewReader(body))
	if err != nil {
		return &baton.DeskError{Permanent: true, Err: fmt.Errorf("POST %s: %w", path, err)}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "Baton-webhookdesk")
	if d.basic {
		req.SetBasicAuth(d.username, d.password)
	}
	resp, err := d.client.Do(req)
	if err != nil {
		// The *url.Error would repeat the URL; keep its cause (timeouts stay
		// detectable through errors.As and net.Error).
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return &baton.DeskError{Err: fmt.Errorf("POST %s: %w", path, err)}
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // let the connection be reused
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	herr := &HTTPError{Path: path, Status: resp.StatusCode, Message: d.redact(message(snippet))}
	switch s := resp.StatusCode; {
	case s == http.StatusUnauthorized || s == http.StatusForbidden:
		return &baton.DeskError{Auth: true, Err: herr}
	case s == http.StatusRequestTimeout || s == http.StatusTooManyRequests ||
		s == http.StatusBadGateway || s == http.StatusServiceUnavailable || s == http.StatusGatewayTimeout:
		return &baton.DeskError{RetryAfter: stdwebhook.RetryAfter(resp.Header.Get("Retry-After"), d.now()), Err: herr}
	case establish:
		return &baton.DeskError{Busy: true, Err: herr}
	case s >= 500:
		return &baton.DeskError{RetryAfter: stdwebhook.RetryAfter(resp.Header.Get("Retry-After"), d.now()), Err: herr}
	}
	return &baton.DeskError{Permanent: true, Err: herr}
}

// message extracts the service's {"code","message"} message, clipped to
// one short line, and nothing of any other body: an error page may echo the
// request, credentials included, and the message is shown as the desk's
// last error to whoever may read the desk's status.
func message(body []byte) string {
	var r struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &r) == nil && r.Message != "" {
		return clip(r.Message)
	}
	return ""
}

// redact removes the desk's own credentials from a service's message, in
// case the service echoes them.
func (d *Desk) redact(msg string) string {
	if d.password == "" || msg == "" {
		return msg
	}
	for _, s := range []string{base64.StdEncoding.EncodeToString([]byte(d.username + ":" + d.password)), d.password} {
		msg = strings.ReplaceAll(msg, s, "[redacted]")
	}
	return msg
}

func clip(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 200 {
		s = string(r[:200]) + "…"
	}
	return s
}
