package baton

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestBriefExtract(t *testing.T) {
	t.Parallel()
	c := Customer{ID: "c1", Name: "Léa", Email: "lea@example.fr", Metadata: map[string]any{"plan": "pro", "orders": 3, "none": nil}}
	hist := []Message{
		{Author: ByCustomer, Text: "Bonjour, je ne reçois pas ma facture"},
		{Author: ByBot, Text: "Vous pouvez la télécharger depuis votre compte."},
		{Author: ByCustomer, Text: "Le lien   ne marche pas"},
		{Author: ByBot, Text: "Essayez un autre navigateur."},
	}
	b := MakeBrief(c, hist, "Je veux parler à une personne pour la facture")
	want := Brief{By: BriefByExtract, Language: "fr",
		Summary: "Bonjour, je ne reçois pas ma facture / Le lien ne marche pas / Je veux parler à une personne pour la facture",
		Tried:   []string{"Vous pouvez la télécharger depuis votre compte.", "Essayez un autre navigateur."},
		Fields:  []Field{{"name", "Léa"}, {"email", "lea@example.fr"}, {"orders", "3"}, {"plan", "pro"}}}
	if b.Summary != want.Summary || b.By != want.By || b.Language != want.Language || !slices.Equal(b.Tried, want.Tried) || !slices.Equal(b.Fields, want.Fields) {
		t.Fatalf("brief %+v\nwant  %+v", b, want)
	}
	text := b.Text()
	for _, s := range []string{"Summary: Bonjour", "Language: fr", "The bot tried:\n- Vous pouvez", "The customer gave:\n- name: Léa\n- email: lea@example.fr"} {
		if !strings.Contains(text, s) {
			t.Errorf("Text lacks %q:\n%s", s, text)
		}
	}

	h := Brief{Summary: "<b>x</b>", By: BriefByLLM, Tried: []string{"a&b"}, Fields: []Field{{"email", "e@x"}}}.HTML()
	if want := "<p><strong>Summary:</strong> &lt;b&gt;x&lt;/b&gt; <em>(written by an LLM)</em></p><p><strong>The bot tried:</strong></p><ul><li>a&amp;b</li></ul>" +
		"<p><strong>The customer gave:</strong></p><ul><li>email: e@x</li></ul>"; h != want {
		t.Fatalf("HTML\n%s\nwant\n%s", h, want)
	}

	// The question repeating the last turn counts once; only the last
	// three turns are kept, and long ones are cut.
	long := strings.Repeat("refund ", 100)
	b = MakeBrief(Customer{}, []Message{{Author: ByCustomer, Text: "one"}, {Author: ByCustomer, Text: "two"}, {Author: ByCustomer, Text: "three"}, {Author: ByCustomer, Text: long}}, long)
	if !strings.HasPrefix(b.Summary, "two / three / refund") || len([]rune(b.Summary)) != briefRunes || b.Fields != nil || b.Tried != nil {
		t.Fatalf("brief %+v", b)
	}
	if b := MakeBrief(Customer{}, nil, ""); b.Summary != "The customer asked for a person." || b.Language != "" {
		t.Fatalf("empty brief %+v", b)
	}
}

func TestBriefLanguage(t *testing.T) {
	t.Parallel()
	for text, want := range map[string]string{
		"I have a problem with my invoice and the app":  "en",
		"Je ne trouve pas ma commande, merci":           "fr",
		"Ich habe meine Rechnung nicht bekommen, danke": "de",
		"Hola, no encuentro mi pedido, gracias":         "es",
		"Ciao, non trovo il mio ordine, grazie":         "it",
		"Olá, não encontro o meu pedido, obrigado":      "pt",
		"Hallo, ik kan mijn bestelling niet vinden":     "nl",
		"refund": "",
		"":       "",
	} {
		if got := Language(text); got != want {
			t.Errorf("Language(%q) = %q, want %q", text, got, want)
		}
	}
}

func TestSummaryWords(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)
	h := Handoff{CreatedAt: t0, QueuedAt: t0, ActiveAt: t0.Add(time.Minute), EndedAt: t0.Add(5 * time.Minute), EndReason: AgentClosed,
		Agent: Agent{ID: "ann", Name: "Ann"}, Question: "Where is my refund?"}
	msgs := []Message{
		{Author: ByCustomer, Text: "Where is my refund?", CreatedAt: t0},              // the question, part of the brief
		{Author: ByCustomer, Text: "It was order 42", CreatedAt: t0.Add(time.Second)}, // during the handoff
		{Author: ByAgent, Text: "Hi, Ann here.", CreatedAt: t0.Add(time.Minute)},
		{Author: ByAgent, Text: "Refunded today, 3 to 5 days.", CreatedAt: t0.Add(2 * time.Minute)},
		{Author: ByAgent, Text: "a late one", CreatedAt: t0.Add(6 * time.Minute), Late: true},
	}
	s := Summarize(h, msgs)
	if s.Asked != "Where is my refund? / It was order 42" || s.Answered != "Hi, Ann here. / Refunded today, 3 to 5 days." || s.Outcome != "Ann closed the conversation" {
		t.Fatalf("summary %+v", s)
	}
	if want := `The customer asked: "Where is my refund? / It was order 42". Ann answered: "Hi, Ann here. / Refunded today, 3 to 5 days.". Ann closed the conversation.`; s.Text != want {
		t.Fatalf("text %q\nwant %q", s.Text, want)
	}
	// Nobody came.
	h = Handoff{CreatedAt: t0, QueuedAt: t0, EndedAt: t0.Add(time.Hour), EndReason: WaitTimeout, Question: "hello?"}
	s = Summarize(h, msgs[:1])
	if s.Answered != "" || s.Text != `The customer asked: "hello?". No agent answered. Nobody took the conversation in time (wait timeout).` {
		t.Fatalf("summary %+v", s)
	}
	for _, r := range []EndReason{AgentClosed, CustomerClosed, BotClosed, WaitTimeout, SessionTimeout, IdleExpired, OutOfHours, DeskUnavailable, Transferred} {
		if outcome(r, "Ann") == "" {
			t.Errorf("no outcome for %s", r)
		}
	}
}
