package router

import (
	"context"
	"testing"

	"github.com/batonhq/baton"
)

func msg(a baton.Author, text string) baton.Message { return baton.Message{Author: a, Text: text} }

func TestWords(t *testing.T) {
	t.Parallel()
	groups := []baton.Group{
		{ID: "0", Name: "General", Available: true},
		{ID: "19", Name: "Billing", Description: "invoices, refunds, payments and charges", Available: false},
		{ID: "20", Name: "Technical support", Description: "login problems, errors, app crashes", Available: true},
		{ID: "21", Name: "Sales", Description: "pricing, plans, quotes", Available: true},
	}
	tests := []struct {
		name       string
		transcript []baton.Message
		hint       string
		want       string
		reason     string
	}{
		{"refund goes to billing even if nobody is there", []baton.Message{
			msg(baton.ByCustomer, "Hi"), msg(baton.ByBot, "Hello! How can I help?"),
			msg(baton.ByCustomer, "I was charged twice, I want a refund")}, "", "19", "the conversation mentions charges, refunds"},
		{"the latest message weighs most", []baton.Message{
			msg(baton.ByCustomer, "I saw your pricing page"),
			msg(baton.ByCustomer, "but now the app crashes with an error at login")}, "", "20", "the conversation mentions app, crashes, errors, login"},
		{"a hint by name wins", []baton.Message{msg(baton.ByCustomer, "refund please")}, "sales", "21", `the routing hint "sales" names this group`},
		{"a hint by id wins", []baton.Message{msg(baton.ByCustomer, "refund please")}, "20", "20", `the routing hint "20" names this group`},
		{"no words in common: first available", []baton.Message{msg(baton.ByCustomer, "hmm")}, "", "0",
			"no group matches the conversation's words: the first group with someone available"},
		{"stems meet", []baton.Message{msg(baton.ByCustomer, "questions about invoice payment")}, "", "19", "the conversation mentions invoices, payments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Words{}.Route(context.Background(), groups, tt.transcript, tt.hint)
			if err != nil {
				t.Fatal(err)
			}
			if d.GroupID != tt.want || d.Reason != tt.reason {
				t.Fatalf("got %s (%s), %q; want %s, %q", d.GroupID, d.GroupName, d.Reason, tt.want, tt.reason)
			}
		})
	}
	if _, err := (Words{}).Route(context.Background(), nil, nil, ""); baton.ErrorCode(err) != baton.EUNAVAILABLE {
		t.Fatalf("no groups: %v", err)
	}
}

func TestWordsIsDeterministic(t *testing.T) {
	t.Parallel()
	groups := []baton.Group{{ID: "2", Name: "Returns"}, {ID: "1", Name: "Returns"}}
	for range 20 {
		d, _ := Words{}.Route(context.Background(), groups, []baton.Message{msg(baton.ByCustomer, "returns")}, "")
		if d.GroupID != "1" {
			t.Fatalf("tie went to %s, want the lower id", d.GroupID)
		}
	}
}
