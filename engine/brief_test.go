package engine_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/llm"
	"github.com/batonhq/baton/llm/llmtest"
)

// TestOpenBrief: a desk with an LLM endpoint gets the brief the model wrote
// (the inbox shows it); when the endpoint fails, the extractive brief goes.
// When the agent ends the handoff, handoff.ended tells the human segment in
// words.
func TestOpenBrief(t *testing.T) {
	t.Parallel()
	fake := llmtest.New(t, "sk-test", func(r llm.Request) llmtest.Answer {
		if r.ResponseFormat.JSONSchema.Name != "handoff_brief" {
			t.Errorf("schema %q", r.ResponseFormat.JSONSchema.Name)
		}
		if strings.Contains(r.Messages[1].Content, "fail me") {
			return llmtest.Answer{Status: 429, Error: llm.APIError{Message: "Rate limit reached", Type: "requests", Code: "rate_limit_exceeded"}}
		}
		return llmtest.Answer{Content: `{"summary":"The customer's parcel is a week late; they gave order 1234.","language":"en","tried":["asked for the order number"]}`}
	})
	eachStore(t, func(t *testing.T, st baton.Store) {
		ctx := context.Background()
		s := newStackOn(t, st, nil, nil)
		err := st.Tx(ctx, func(tx baton.Tx) error {
			dc, err := tx.Desk(s.ws, s.desk)
			if err != nil {
				return err
			}
			dc.Settings = map[string]string{"llm_url": fake.URL + "/v1", "llm_key": "sk-test", "llm_model": "gpt-test"}
			return tx.PutDesk(dc)
		})
		if err != nil {
			t.Fatal(err)
		}
		ask := func(conv, question string) baton.Handoff {
			h, _, err := s.eng.CreateHandoff(ctx, s.ws, baton.CreateRequest{
				ExternalID: conv, Customer: baton.Customer{ID: "cust-" + conv, Name: "Cus", Email: conv + "@example.com"}, Question: question,
				History: []baton.Turn{{Author: baton.ByCustomer, Text: "my parcel is late"}, {Author: baton.ByBot, Text: "What is the order number?"}, {Author: baton.ByCustomer, Text: "1234"}},
			})
			if err != nil {
				t.Fatal(err)
			}
			s.drain(t)
			return h
		}

		h := ask("a", "Where is it?")
		c, err := s.eng.InboxCase(ctx, s.ana, h.ID)
		if err != nil {
			t.Fatal(err)
		}
		b := c.Brief
		if b.By != baton.BriefByLLM || b.Summary != "The customer's parcel is a week late; they gave order 1234." || b.Language != "en" ||
			len(b.Tried) != 1 || len(b.Fields) != 2 || b.Fields[1] != (baton.Field{Name: "email", Value: "a@example.com"}) {
			t.Fatalf("brief %+v", b)
		}

		h2 := ask("b", "fail me, where is it?")
		c, err = s.eng.InboxCase(ctx, s.ana, h2.ID)
		if err != nil {
			t.Fatal(err)
		}
		if b := c.Brief; b.By != baton.BriefByExtract || b.Summary != "my parcel is late / 1234 / fail me, where is it?" || b.Tried[0] != "What is the order number?" {
			t.Fatalf("fallback brief %+v", b)
		}

		// The agent answers and ends: handoff.ended says so in words.
		if _, err := s.eng.Claim(ctx, s.ana, h.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.eng.Reply(ctx, s.ana, h.ID, "It arrives tomorrow.", nil); err != nil {
			t.Fatal(err)
		}
		if _, err := s.eng.EndByAgent(ctx, s.ana, h.ID); err != nil {
			t.Fatal(err)
		}
		s.drain(t)
		var ended baton.EndedData
		for _, e := range s.events(t) {
			if e.Type == baton.EventEnded && e.HandoffID == h.ID {
				if err := json.Unmarshal(e.Data, &ended); err != nil {
					t.Fatal(err)
				}
			}
		}
		sum := ended.Summary
		if sum.Asked != "Where is it?" || sum.Answered != "It arrives tomorrow." || sum.Outcome != "Ana closed the conversation" ||
			sum.Text != `The customer asked: "Where is it?". Ana answered: "It arrives tomorrow.". Ana closed the conversation.` {
			t.Fatalf("summary %+v", sum)
		}
	})
}
