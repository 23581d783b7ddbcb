// Package llmtest is a fake OpenAI-compatible chat-completions endpoint for
// tests: the documented envelopes (a chat.completion with its choices and
// usage; {"error": {"message", "type", "code"}} with 400, 401, 429 or 500),
// the checks the real API makes of a request (a Bearer key, a model, a
// strict JSON schema whose properties are all required), and answers
// chosen by the test.
package llmtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/batonhq/baton/llm"
)

// Answer is what the fake answers one request with. The zero Answer is an
// empty completion.
type Answer struct {
	// Content is choices[0].message.content.
	Content string
	// Status, when not 0, answers an error envelope with this status and
	// Error's fields (Error.Status is ignored).
	Status int
	Error  llm.APIError
	// Body, when not empty, is sent as is with status 200 (a broken envelope).
	Body string
	// Block waits for the request's context to end before answering: a model
	// slower than any budget.
	Block bool
	// Finish is choices[0].finish_reason (default "stop").
	Finish string
}

// Server is a fake endpoint. Create one with New; its URL is the base URL
// (the client posts to URL + "/chat/completions").
type Server struct {
	*httptest.Server
	h *handler
}

// New starts a fake endpoint that accepts key (any when empty) and answers
// each valid request with answer; it is closed when the test ends.
func New(t testing.TB, key string, answer func(llm.Request) Answer) *Server {
	h := &handler{key: key, answer: answer}
	s := &Server{Server: httptest.NewServer(h), h: h}
	t.Cleanup(s.Close)
	return s
}

// Requests returns the valid requests received so far.
func (s *Server) Requests() []llm.Request { return s.h.requests() }

// Handler returns the fake as an http.Handler, for Transport.
func Handler(key string, answer func(llm.Request) Answer) http.Handler {
	return &handler{key: key, answer: answer}
}

// Transport serves requests with h in the calling process, without a
// network: inside a testing/synctest bubble a handler that blocks until the
// request's context ends lets virtual time reach the client's budget.
func Transport(h http.Handler) http.RoundTripper { return transport{h} }

type transport struct{ h http.Handler }

func (t transport) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	done := make(chan struct{})
	go func() {
		defer close(done)
		t.h.ServeHTTP(rec, r)
	}()
	select {
	case <-done:
		return rec.Result(), nil
	case <-r.Context().Done():
		<-done
		return nil, context.Cause(r.Context())
	}
}

type handler struct {
	key    string
	answer func(llm.Request) Answer

	mu   sync.Mutex
	seen []llm.Request
}

func (h *handler) requests() []llm.Request {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]llm.Request(nil), h.seen...)
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/chat/completions") {
		fail(w, http.StatusNotFound, llm.APIError{Message: fmt.Sprintf("Unknown request URL: %s %s.", r.Method, r.URL.Path), Type: "invalid_request_error", Code: "unknown_url"})
		return
	}
	if got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); h.key != "" && (!ok || got != h.key) {
		fail(w, http.StatusUnauthorized, llm.APIError{Message: "Incorrect API key provided.", Type: "invalid_request_error", Code: "invalid_api_key"})
		return
	}
	var req llm.Request
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		fail(w, http.StatusBadRequest, llm.APIError{Message: "We could not parse the JSON body of your request: " + err.Error(), Type: "invalid_request_error"})
		return
	}
	if msg := check(req); msg != "" {
		fail(w, http.StatusBadRequest, llm.APIError{Message: msg, Type: "invalid_request_error"})
		return
	}
	h.mu.Lock()
	h.seen = append(h.seen, req)
	h.mu.Unlock()
	a := h.answer(req)
	if a.Block {
		<-r.Context().Done()
		return
	}
	switch {
	case a.Status != 0:
		fail(w, a.Status, a.Error)
		return
	case a.Body != "":
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, a.Body)
		return
	}
	finish := a.Finish
	if finish == "" {
		finish = "stop"
	}
	prompt := 0
	for _, m := range req.Messages {
		prompt += len(strings.Fields(m.Content))
	}
	done := len(strings.Fields(a.Content))
	h.mu.Lock()
	n := len(h.seen)
	h.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(llm.Response{
		ID: fmt.Sprintf("chatcmpl-fake%d", n), Object: "chat.completion", Created: 1767225600, Model: req.Model,
		Choices: []llm.Choice{{Index: 0, Message: llm.Message{Role: "assistant", Content: a.Content}, FinishReason: finish}},
		Usage:   llm.Usage{PromptTokens: prompt, CompletionTokens: done, TotalTokens: prompt + done},
	})
}

// check refuses what the real API refuses: no model, no messages, a role it
// does not know, a json_schema format without a schema or with a strict
// schema that is not closed.
func check(r llm.Request) string {
	switch {
	case r.Model == "":
		return "you must provide a model parameter"
	case len(r.Messages) == 0:
		return "'messages' must contain at least one message"
	}
	for i, m := range r.Messages {
		if m.Role != "system" && m.Role != "user" && m.Role != "assistant" && m.Role != "developer" {
			return fmt.Sprintf("Invalid value for 'messages[%d].role': %q", i, m.Role)
		}
	}
	f := r.ResponseFormat
	if f == nil {
		return ""
	}
	switch f.Type {
	case "text", "json_object":
		return ""
	case "json_schema":
	default:
		return fmt.Sprintf("Invalid value for 'response_format.type': %q", f.Type)
	}
	if f.JSONSchema == nil || f.JSONSchema.Name == "" || f.JSONSchema.Schema == nil {
		return "Missing required parameter: 'response_format.json_schema' with its name and schema."
	}
	if f.JSONSchema.Strict {
		return strict("response_format.json_schema.schema", f.JSONSchema.Schema)
	}
	return ""
}

// strict checks a schema as strict mode does: each object closed, with
// every property required.
func strict(path string, s *llm.Schema) string {
	switch s.Type {
	case "object":
		if s.AdditionalProperties == nil || *s.AdditionalProperties {
			return fmt.Sprintf("Invalid schema for %s: 'additionalProperties' is required to be supplied and to be false.", path)
		}
		for k, p := range s.Properties {
			found := false
			for _, r := range s.Required {
				found = found || r == k
			}
			if !found {
				return fmt.Sprintf("Invalid schema for %s: 'required' is required to include every key in properties; missing %q.", path, k)
			}
			if msg := strict(path+".properties."+k, p); msg != "" {
				return msg
			}
		}
	case "array":
		if s.Items == nil {
			return fmt.Sprintf("Invalid schema for %s: an array needs 'items'.", path)
		}
		return strict(path+".items", s.Items)
	case "string", "number", "integer", "boolean":
	default:
		return fmt.Sprintf("Invalid schema for %s: type %q is not supported.", path, s.Type)
	}
	return ""
}

func fail(w http.ResponseWriter, status int, e llm.APIError) {
	if status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "1")
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(struct {
		Error llm.APIError `json:"error"`
	}{e})
}
