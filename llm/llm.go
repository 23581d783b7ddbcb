// Package llm is a client of an OpenAI-compatible chat-completions endpoint
// (OpenAI, Azure OpenAI, vLLM, llama.cpp, Ollama and the like), over plain
// HTTP. Baton asks it for answers shaped by a JSON schema: the LLM router's
// choice of group, a handoff's brief.
//
// A desk opts in with three settings, read by ParseSettings and common to
// every desk kind: llm_url (the base URL, such as https://api.openai.com/v1),
// llm_key (the API key, a secret) and llm_model; llm_timeout (a Go duration,
// default 3s) is the budget of one call.
package llm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/internal/jsoncheck"
)

// The desk settings of the endpoint.
const (
	SettingURL     = "llm_url"
	SettingKey     = "llm_key"
	SettingModel   = "llm_model"
	SettingTimeout = "llm_timeout"
)

// DefaultTimeout is the budget of one call unless llm_timeout says otherwise.
const DefaultTimeout = 3 * time.Second

// maxAnswer bounds the answer body read.
const maxAnswer = 1 << 20

// Config says which endpoint to call and how long to wait for it.
type Config struct {
	URL     string        // base URL; the client posts to URL + "/chat/completions"
	Key     string        // API key, sent as a Bearer token; empty sends none
	Model   string        // the model asked
	Timeout time.Duration // budget of one call (DefaultTimeout when 0)
}

// ParseSettings reads the endpoint from a desk's settings; ok is false when
// llm_url is not set, which is not an error: the desk uses no LLM. Errors
// are *baton.Error naming the setting ("settings.llm_model").
func ParseSettings(s map[string]string) (c Config, ok bool, err error) {
	get := func(k string) string { return strings.TrimSpace(s[k]) }
	c = Config{URL: strings.TrimRight(get(SettingURL), "/"), Key: get(SettingKey), Model: get(SettingModel), Timeout: DefaultTimeout}
	if c.URL == "" {
		for _, k := range []string{SettingKey, SettingModel, SettingTimeout} {
			if get(k) != "" {
				return c, false, baton.FieldErrorf("settings."+SettingURL, "is required with %s", k)
			}
		}
		return c, false, nil
	}
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return c, false, baton.FieldErrorf("settings."+SettingURL, "%q is not an http or https URL", s[SettingURL])
	}
	if c.Model == "" {
		return c, false, baton.FieldErrorf("settings."+SettingModel, "is required with %s", SettingURL)
	}
	if t := get(SettingTimeout); t != "" {
		d, err := time.ParseDuration(t)
		if err != nil || d <= 0 || d > time.Minute {
			return c, false, baton.FieldErrorf("settings."+SettingTimeout, "%q is not a duration between 0 and 1m, such as 3s", t)
		}
		c.Timeout = d
	}
	return c, true, nil
}

// Without returns a copy of a desk's settings without the endpoint's, which
// are every kind's and no kind reads itself.
func Without(s map[string]string) map[string]string {
	out := maps.Clone(s)
	for _, k := range []string{SettingURL, SettingKey, SettingModel, SettingTimeout} {
		delete(out, k)
	}
	return out
}

// Message is one chat message of a request or a choice.
type Message struct {
	Role    string `json:"role"` // system, user or assistant
	Content string `json:"content"`
	// Refusal is the model's refusal to answer, in place of Content.
	Refusal string `json:"refusal,omitempty"`
}

// Request is the body of POST /chat/completions.
type Request struct {
	Model          string          `json:"model"`
	Messages       []Message       `json:"messages"`
	ResponseFormat *ResponseFormat `json:"response_format,omitempty"`
	Temperature    *float64        `json:"temperature,omitempty"`
	MaxTokens      int             `json:"max_completion_tokens,omitempty"`
}

// ResponseFormat asks for an answer shaped by a JSON schema.
type ResponseFormat struct {
	Type       string      `json:"type"` // "json_schema"
	JSONSchema *JSONSchema `json:"json_schema,omitempty"`
}

// JSONSchema names a schema and asks it to be followed exactly.
type JSONSchema struct {
	Name   string  `json:"name"`
	Strict bool    `json:"strict"`
	Schema *Schema `json:"schema"`
}

// Schema is the part of JSON Schema that strict structured outputs accept:
// every property required, no others allowed.
type Schema struct {
	Type                 string             `json:"type"`
	Description          string             `json:"description,omitempty"`
	Enum                 []string           `json:"enum,omitempty"`
	Properties           map[string]*Schema `json:"properties,omitempty"`
	Required             []string           `json:"required,omitempty"`
	AdditionalProperties *bool              `json:"additionalProperties,omitempty"`
	Items                *Schema            `json:"items,omitempty"`
}

// Object is a strict object schema: each property is required and no other
// is allowed.
func Object(props map[string]*Schema) *Schema {
	no := false
	s := &Schema{Type: "object", Properties: props, AdditionalProperties: &no}
	for k := range props {
		s.Required = append(s.Required, k)
	}
	slices.Sort(s.Required)
	return s
}

// Response is the answer of POST /chat/completions.
type Response struct {
	ID      string   `json:"id"`
	Object  string   `json:"object"` // "chat.completion"
	Created int64    `json:"created"`
	Model   string   `json:"model"`
	Choices []Choice `json:"choices"`
	Usage   Usage    `json:"usage"`
}

// Choice is one answer of a Response.
type Choice struct {
	Index        int     `json:"index"`
	Message      Message `json:"message"`
	FinishReason string  `json:"finish_reason"` // stop, length, content_filter, …
}

// Usage counts a call's tokens.
type Usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// APIError is the endpoint refusing a call: its HTTP status and its error
// object, {"error": {"message", "type", "code"}}.
type APIError struct {
	Status  int    `json:"-"`
	Message string `json:"message"`
	Type    string `json:"type"`
	Code    Code   `json:"code"`
}

// Error implements error.
func (e *APIError) Error() string {
	s := fmt.Sprintf("chat completions: HTTP %d", e.Status)
	if e.Type != "" {
		s += " " + e.Type
	}
	if e.Code != "" {
		s += " (" + string(e.Code) + ")"
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// Code is an error object's code, a string or a number depending on the
// server, or null.
type Code string

// UnmarshalJSON implements json.Unmarshaler.
func (c *Code) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*c = Code(s)
		return nil
	}
	if string(b) == "null" {
		*c = ""
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	*c = Code(n.String())
	return nil
}

// ErrTimeout is a call that did not answer within its budget.
var ErrTimeout = errors.New("chat completions: no answer within the time budget")

// Client calls one endpoint. It is safe for concurrent use.
type Client struct {
	cfg  Config
	http *http.Client
}

// New returns a client of the endpoint cfg names; hc makes the calls
// (nil: a new client). The budget is cfg.Timeout, not hc's timeout.
func New(cfg Config, hc *http.Client) *Client {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if hc == nil {
		hc = &http.Client{}
	}
	cfg.URL = strings.TrimRight(cfg.URL, "/")
	return &Client{cfg: cfg, http: hc}
}

// Config returns the client's configuration.
func (c *Client) Config() Config { return c.cfg }

// Complete posts r (its model set to the client's when empty) and returns
// the answer. It gives up after the budget with an error wrapping
// ErrTimeout; an answer that is not a 2xx is an *APIError.
func (c *Client) Complete(ctx context.Context, r Request) (Response, error) {
	if r.Model == "" {
		r.Model = c.cfg.Model
	}
	body, err := json.Marshal(r)
	if err != nil {
		return Response{}, fmt.Errorf("chat completions: encode the request: %w", err)
	}
	ctx, cancel := context.WithTimeoutCause(ctx, c.cfg.Timeout, ErrTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.URL+"/chat/completions", bytes.NewReader(body))
	if err != nil {
		return Response{}, fmt.Errorf("chat completions: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if c.cfg.Key != "" {
		req.Header.Set("Authorization", "Bearer "+c.cfg.Key)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return Response{}, c.failed(ctx, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, maxAnswer))
	if err != nil {
		return Response{}, c.failed(ctx, err)
	}
	if res.StatusCode/100 != 2 {
		e := &APIError{Status: res.StatusCode}
		var env struct {
			Error *APIError `json:"error"`
		}
		if json.Unmarshal(b, &env) == nil && env.Error != nil {
			env.Error.Status = res.StatusCode
			e = env.Error
		} else {
			e.Message = snippet(b)
		}
		return Response{}, e
	}
	var out Response
	if err := json.Unmarshal(b, &out); err != nil {
		return Response{}, fmt.Errorf("chat completions: the answer is not a completion: %w", err)
	}
	return out, nil
}

// failed says why a call got no answer: the budget ran out, or err.
func (c *Client) failed(ctx context.Context, err error) error {
	if errors.Is(context.Cause(ctx), ErrTimeout) {
		return fmt.Errorf("%w (%s)", ErrTimeout, c.cfg.Timeout)
	}
	return fmt.Errorf("chat completions: %w", err)
}

// JSON asks for an answer shaped by schema, called name, and decodes the
// first choice's content into out. An answer that is refused, cut short,
// or not JSON of out's shape is an error.
func (c *Client) JSON(ctx context.Context, msgs []Message, name string, schema *Schema, out any) error {
	zero := 0.0
	res, err := c.Complete(ctx, Request{Messages: msgs, Temperature: &zero,
		ResponseFormat: &ResponseFormat{Type: "json_schema", JSONSchema: &JSONSchema{Name: name, Strict: true, Schema: schema}}})
	if err != nil {
		return err
	}
	if len(res.Choices) == 0 {
		return errors.New("chat completions: the answer has no choice")
	}
	ch := res.Choices[0]
	switch {
	case ch.Message.Refusal != "":
		return fmt.Errorf("chat completions: the model refused: %s", snippet([]byte(ch.Message.Refusal)))
	case ch.FinishReason == "length":
		return errors.New("chat completions: the answer was cut short (finish_reason length)")
	}
	dec := json.NewDecoder(strings.NewReader(ch.Message.Content))
	dec.DisallowUnknownFields()
	if err := dec.Decode(out); err != nil {
		return fmt.Errorf("chat completions: the answer %q is not the JSON asked for: %w", snippet([]byte(ch.Message.Content)), err)
	}
	if dec.More() {
		return fmt.Errorf("chat completions: the answer %q has more than one JSON value", snippet([]byte(ch.Message.Content)))
	}
	// Text Baton would keep (a brief's summary) must be UTF-8 without NUL:
	// decoding would have changed a lone surrogate, and a NUL cannot be
	// stored on every store.
	if err := jsoncheck.Text([]byte(ch.Message.Content)); err != nil {
		return fmt.Errorf("chat completions: the answer's %s %s", baton.ErrorField(err), baton.ErrorMessage(err))
	}
	return nil
}

// snippet is the start of b, for an error message.
func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if r := []rune(s); len(r) > 200 {
		s = string(r[:200]) + "…"
	}
	return s
}
