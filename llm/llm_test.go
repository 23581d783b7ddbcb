package llm_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/llm"
	"github.com/batonhq/baton/llm/llmtest"
)

var pick = llm.Object(map[string]*llm.Schema{"group_id": {Type: "string", Enum: []string{"1", "2"}}, "reason": {Type: "string"}})

type choice struct {
	GroupID string `json:"group_id"`
	Reason  string `json:"reason"`
}

func TestLLMParseSettings(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		in    map[string]string
		ok    bool
		field string
		want  llm.Config
	}{
		{name: "none", in: map[string]string{"token": "x"}},
		{name: "full", in: map[string]string{"llm_url": "https://api.openai.com/v1/", "llm_key": "sk-1", "llm_model": "gpt-4o-mini", "llm_timeout": "5s"}, ok: true,
			want: llm.Config{URL: "https://api.openai.com/v1", Key: "sk-1", Model: "gpt-4o-mini", Timeout: 5 * time.Second}},
		{name: "default budget", in: map[string]string{"llm_url": "http://127.0.0.1:8000/v1", "llm_model": "local"}, ok: true,
			want: llm.Config{URL: "http://127.0.0.1:8000/v1", Model: "local", Timeout: llm.DefaultTimeout}},
		{name: "no url", in: map[string]string{"llm_key": "sk-1"}, field: "settings.llm_url"},
		{name: "bad url", in: map[string]string{"llm_url": "ftp://x", "llm_model": "m"}, field: "settings.llm_url"},
		{name: "no model", in: map[string]string{"llm_url": "https://x/v1"}, field: "settings.llm_model"},
		{name: "bad timeout", in: map[string]string{"llm_url": "https://x/v1", "llm_model": "m", "llm_timeout": "soon"}, field: "settings.llm_timeout"},
		{name: "long timeout", in: map[string]string{"llm_url": "https://x/v1", "llm_model": "m", "llm_timeout": "2h"}, field: "settings.llm_timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, ok, err := llm.ParseSettings(tc.in)
			if got := baton.ErrorField(err); got != tc.field || ok != tc.ok {
				t.Fatalf("ok %v, err %v (field %q), want ok %v field %q", ok, err, got, tc.ok, tc.field)
			}
			if tc.ok && c != tc.want {
				t.Fatalf("config %+v, want %+v", c, tc.want)
			}
		})
	}
	if got := llm.Without(map[string]string{"llm_url": "u", "llm_key": "k", "llm_model": "m", "llm_timeout": "1s", "token": "t"}); len(got) != 1 || got["token"] != "t" {
		t.Fatalf("Without = %v", got)
	}
}

func TestLLMJSON(t *testing.T) {
	t.Parallel()
	srv := llmtest.New(t, "sk-test", func(r llm.Request) llmtest.Answer {
		return llmtest.Answer{Content: `{"group_id":"2","reason":"billing words"}`}
	})
	c := llm.New(llm.Config{URL: srv.URL, Key: "sk-test", Model: "gpt-test"}, srv.Client())
	var got choice
	if err := c.JSON(context.Background(), []llm.Message{{Role: "user", Content: "hi"}}, "pick", pick, &got); err != nil {
		t.Fatal(err)
	}
	if got != (choice{"2", "billing words"}) {
		t.Fatalf("answer %+v", got)
	}
	reqs := srv.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	r := reqs[0]
	f := r.ResponseFormat
	if r.Model != "gpt-test" || f == nil || f.Type != "json_schema" || f.JSONSchema.Name != "pick" || !f.JSONSchema.Strict ||
		strings.Join(f.JSONSchema.Schema.Properties["group_id"].Enum, ",") != "1,2" || r.Temperature == nil || *r.Temperature != 0 {
		t.Fatalf("request %+v format %+v", r, f)
	}
}

func TestLLMErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		key    string
		answer llmtest.Answer
		status int // an *APIError with this status
		code   llm.Code
		want   string // in the error
	}{
		{name: "wrong key", key: "sk-wrong", status: 401, code: "invalid_api_key", want: "Incorrect API key"},
		{name: "rate limited", key: "sk-test", answer: llmtest.Answer{Status: 429, Error: llm.APIError{Message: "Rate limit reached", Type: "requests", Code: "rate_limit_exceeded"}},
			status: 429, code: "rate_limit_exceeded", want: "Rate limit reached"},
		{name: "server error", key: "sk-test", answer: llmtest.Answer{Status: 500, Error: llm.APIError{Message: "The server had an error", Type: "server_error"}},
			status: 500, want: "server_error"},
		{name: "not an envelope", key: "sk-test", answer: llmtest.Answer{Body: `<html>bad gateway</html>`}, want: "not a completion"},
		{name: "malformed content", key: "sk-test", answer: llmtest.Answer{Content: `{"group_id": 2`}, want: "not the JSON asked for"},
		{name: "other fields", key: "sk-test", answer: llmtest.Answer{Content: `{"group_id":"1","reason":"r","confidence":1}`}, want: "not the JSON asked for"},
		{name: "two values", key: "sk-test", answer: llmtest.Answer{Content: `{"group_id":"1","reason":"r"} {}`}, want: "more than one"},
		{name: "cut short", key: "sk-test", answer: llmtest.Answer{Content: `{"group_id":"1"`, Finish: "length"}, want: "cut short"},
		{name: "no choice", key: "sk-test", answer: llmtest.Answer{Body: `{"id":"x","object":"chat.completion","choices":[]}`}, want: "no choice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := llmtest.New(t, "sk-test", func(llm.Request) llmtest.Answer { return tc.answer })
			c := llm.New(llm.Config{URL: srv.URL, Key: tc.key, Model: "m"}, srv.Client())
			var got choice
			err := c.JSON(context.Background(), []llm.Message{{Role: "user", Content: "hi"}}, "pick", pick, &got)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			var ae *llm.APIError
			if errors.As(err, &ae) != (tc.status != 0) {
				t.Fatalf("err %v: APIError %v, want status %d", err, ae, tc.status)
			}
			if ae != nil && (ae.Status != tc.status || ae.Code != tc.code) {
				t.Fatalf("APIError %+v, want status %d code %q", ae, tc.status, tc.code)
			}
		})
	}
}

// TestLLMBudget: a model slower than the budget gives up after exactly the
// budget (3s by default), in virtual time.
func TestLLMBudget(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		h := llmtest.Handler("", func(llm.Request) llmtest.Answer { return llmtest.Answer{Block: true} })
		c := llm.New(llm.Config{URL: "http://llm.invalid/v1", Model: "m"}, &http.Client{Transport: llmtest.Transport(h)})
		start := time.Now()
		var got choice
		err := c.JSON(context.Background(), []llm.Message{{Role: "user", Content: "hi"}}, "pick", pick, &got)
		if !errors.Is(err, llm.ErrTimeout) {
			t.Fatalf("err = %v, want ErrTimeout", err)
		}
		if d := time.Since(start); d != llm.DefaultTimeout {
			t.Fatalf("gave up after %s, want %s", d, llm.DefaultTimeout)
		}
	})
}

// TestLLMStrictSchema: the fake refuses a strict schema that is not closed,
// as the real API does, and the client reports its 400.
func TestLLMStrictSchema(t *testing.T) {
	t.Parallel()
	srv := llmtest.New(t, "", func(llm.Request) llmtest.Answer { return llmtest.Answer{Content: `{}`} })
	c := llm.New(llm.Config{URL: srv.URL, Model: "m"}, srv.Client())
	open := &llm.Schema{Type: "object", Properties: map[string]*llm.Schema{"a": {Type: "string"}}}
	var ae *llm.APIError
	err := c.JSON(context.Background(), []llm.Message{{Role: "user", Content: "hi"}}, "open", open, &struct{}{})
	if !errors.As(err, &ae) || ae.Status != 400 || !strings.Contains(ae.Message, "additionalProperties") {
		t.Fatalf("err = %v", err)
	}
}

// TestLLMBrief: the model's brief is kept within bounds, with the
// extractive brief's fields, and its language when the model's is no tag.
func TestLLMBrief(t *testing.T) {
	t.Parallel()
	base := baton.MakeBrief(baton.Customer{Name: "Kim", Email: "kim@example.com"},
		[]baton.Message{{Author: baton.ByCustomer, Text: "Hola, mi pedido no llega"}, {Author: baton.ByBot, Text: "¿Cuál es el número?"}}, "Quiero hablar con una persona, gracias")
	r := baton.OpenRequest{HandoffID: "h1", History: []baton.Message{{Author: baton.ByCustomer, Text: "Hola, mi pedido no llega"}}, Question: "Quiero hablar con una persona", Brief: base}
	for _, tc := range []struct {
		name, content string
		want          baton.Brief
		err           string
	}{
		{name: "kept", content: `{"summary":"  The order has  not arrived. ","language":"es","tried":["asked for the order number"]}`,
			want: baton.Brief{Summary: "The order has not arrived.", By: baton.BriefByLLM, Language: "es", Tried: []string{"asked for the order number"}, Fields: base.Fields}},
		{name: "not a tag", content: `{"summary":"s","language":"Spanish (Spain)","tried":["", "a", "b", "c", "d", "e", "f"]}`,
			want: baton.Brief{Summary: "s", By: baton.BriefByLLM, Language: "es", Tried: []string{"a", "b", "c", "d", "e"}, Fields: base.Fields}},
		{name: "a region", content: `{"summary":"s","language":"es-419","tried":[]}`,
			want: baton.Brief{Summary: "s", By: baton.BriefByLLM, Language: "es-419", Fields: base.Fields}},
		{name: "empty", content: `{"summary":" ","language":"es","tried":[]}`, err: "summary is empty"},
		{name: "malformed", content: `{"summary":5}`, err: "not the JSON"},
		{name: "a NUL", content: `{"summary":"bad\u0000nul","language":"es","tried":[]}`, err: "summary must not contain a NUL"},
		{name: "a lone surrogate", content: `{"summary":"s","language":"es","tried":["x\ud800"]}`, err: "tried[0] must be UTF-8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := llmtest.New(t, "", func(q llm.Request) llmtest.Answer {
				if q.ResponseFormat.JSONSchema.Name != "handoff_brief" || !strings.Contains(q.Messages[1].Content, `"question":"Quiero hablar con una persona"`) {
					t.Errorf("request %+v", q)
				}
				return llmtest.Answer{Content: tc.content}
			})
			b, err := llm.New(llm.Config{URL: srv.URL, Model: "m"}, srv.Client()).Brief(context.Background(), r)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if b.Summary != tc.want.Summary || b.By != tc.want.By || b.Language != tc.want.Language || !slices.Equal(b.Tried, tc.want.Tried) || !slices.Equal(b.Fields, tc.want.Fields) {
				t.Fatalf("brief %+v\nwant  %+v", b, tc.want)
			}
		})
	}
}
