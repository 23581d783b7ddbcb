package baton

import (
	"fmt"
	"html"
	"slices"
	"strings"
	"unicode"
)

// Brief is what a desk's agent reads first when a handoff opens, beside the
// history: what the customer wants, in which language, what the bot already
// tried, and what the customer gave about themselves. Desks render it their
// own way (a LiveChat thread event for agents, a Gorgias internal note, the
// inbox's header); Text is a plain rendering any desk can use.
type Brief struct {
	// Summary is a short account of what the customer wants.
	Summary string `json:"summary"`
	// By says who wrote Summary: BriefByLLM (the desk's LLM endpoint) or
	// BriefByExtract (the customer's own turns).
	By string `json:"by"`
	// Language is the customer's language as a BCP 47 tag ("fr"), or empty
	// when it could not be told.
	Language string `json:"language,omitempty"`
	// Tried lists what the bot already answered, oldest first.
	Tried []string `json:"tried,omitempty"`
	// Fields are what the customer gave: name, email, the bot's metadata.
	Fields []Field `json:"fields,omitempty"`
}

// Who wrote a brief's summary.
const (
	BriefByLLM     = "llm"
	BriefByExtract = "extract"
)

// Field is one thing the customer gave, by name.
type Field struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Bounds of an extractive brief.
const (
	briefTurns = 3   // the customer's last turns summed up, and the bot's tried
	briefRunes = 400 // the summary's length
	triedRunes = 200 // each tried answer's length
)

// MakeBrief builds the extractive brief of a handoff from its customer, the
// history before it and the question: the summary is the customer's last
// turns, the language a guess from their common words, the tried list the
// bot's last answers.
func MakeBrief(c Customer, history []Message, question string) Brief {
	b := Brief{By: BriefByExtract}
	var said []string
	for _, m := range history {
		t := strings.Join(strings.Fields(m.Text), " ")
		switch {
		case t == "":
		case m.Author == ByCustomer:
			said = append(said, t)
		case m.Author == ByBot:
			b.Tried = append(b.Tried, clip(t, triedRunes))
		}
	}
	if q := strings.Join(strings.Fields(question), " "); q != "" && (len(said) == 0 || said[len(said)-1] != q) {
		said = append(said, q)
	}
	b.Language = Language(strings.Join(said, " "))
	if len(said) > briefTurns {
		said = said[len(said)-briefTurns:]
	}
	if len(b.Tried) > briefTurns {
		b.Tried = b.Tried[len(b.Tried)-briefTurns:]
	}
	b.Summary = clip(strings.Join(said, " / "), briefRunes)
	if b.Summary == "" {
		b.Summary = "The customer asked for a person."
	}
	b.Fields = CustomerFields(c)
	return b
}

// CustomerFields lists what the customer gave: name, email, then the
// metadata by key.
func CustomerFields(c Customer) []Field {
	var out []Field
	if c.Name != "" {
		out = append(out, Field{"name", c.Name})
	}
	if c.Email != "" {
		out = append(out, Field{"email", c.Email})
	}
	keys := make([]string, 0, len(c.Metadata))
	for k := range c.Metadata {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if v := fmt.Sprint(c.Metadata[k]); v != "" && c.Metadata[k] != nil {
			out = append(out, Field{k, clip(v, triedRunes)})
		}
	}
	return out
}

// Text renders b as plain lines, for a desk note.
func (b Brief) Text() string {
	var s strings.Builder
	fmt.Fprintf(&s, "Summary: %s", b.Summary)
	if b.By == BriefByLLM {
		s.WriteString(" (written by an LLM)")
	}
	if b.Language != "" {
		fmt.Fprintf(&s, "\nLanguage: %s", b.Language)
	}
	if len(b.Tried) > 0 {
		s.WriteString("\nThe bot tried:")
		for _, t := range b.Tried {
			s.WriteString("\n- " + t)
		}
	}
	if len(b.Fields) > 0 {
		s.WriteString("\nThe customer gave:")
		for _, f := range b.Fields {
			s.WriteString("\n- " + f.Name + ": " + f.Value)
		}
	}
	return s.String()
}

// HTML renders b as a small HTML fragment (paragraphs and lists, every
// text escaped), for a desk whose notes take HTML (Gorgias, Intercom).
func (b Brief) HTML() string {
	var s strings.Builder
	esc := html.EscapeString
	fmt.Fprintf(&s, "<p><strong>Summary:</strong> %s", esc(b.Summary))
	if b.By == BriefByLLM {
		s.WriteString(" <em>(written by an LLM)</em>")
	}
	s.WriteString("</p>")
	if b.Language != "" {
		fmt.Fprintf(&s, "<p><strong>Language:</strong> %s</p>", esc(b.Language))
	}
	list := func(title string, items []string) {
		if len(items) == 0 {
			return
		}
		fmt.Fprintf(&s, "<p><strong>%s</strong></p><ul>", title)
		for _, it := range items {
			s.WriteString("<li>" + esc(it) + "</li>")
		}
		s.WriteString("</ul>")
	}
	list("The bot tried:", b.Tried)
	var fields []string
	for _, f := range b.Fields {
		fields = append(fields, f.Name+": "+f.Value)
	}
	list("The customer gave:", fields)
	return s.String()
}

// common are frequent short words of each language Language tells apart.
var common = map[string][]string{
	"en": {"the", "and", "is", "my", "you", "to", "it", "have", "what", "with", "for", "can", "not", "this"},
	"fr": {"le", "la", "les", "et", "est", "je", "mon", "ma", "vous", "pas", "une", "pour", "avec", "bonjour", "merci"},
	"de": {"der", "die", "das", "und", "ist", "ich", "mein", "meine", "nicht", "sie", "mit", "ein", "eine", "hallo", "danke"},
	"es": {"el", "los", "las", "es", "yo", "mi", "usted", "no", "una", "para", "con", "hola", "gracias", "que", "por"},
	"it": {"il", "lo", "gli", "sono", "io", "mio", "mia", "non", "una", "per", "con", "ciao", "grazie", "che", "della"},
	"pt": {"o", "os", "as", "eu", "meu", "minha", "você", "não", "uma", "para", "com", "olá", "obrigado", "que", "do"},
	"nl": {"de", "het", "een", "en", "is", "ik", "mijn", "niet", "u", "voor", "met", "hallo", "bedankt", "dat", "van"},
}

// Language guesses the language of text from its common words: the
// language with the most of them, if at least two and more than any
// other; "" otherwise.
func Language(text string) string {
	words := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) })
	best, bestN, second := "", 0, 0
	langs := make([]string, 0, len(common))
	for l := range common {
		langs = append(langs, l)
	}
	slices.Sort(langs)
	for _, l := range langs {
		n := 0
		for _, w := range words {
			if slices.Contains(common[l], w) {
				n++
			}
		}
		switch {
		case n > bestN:
			best, bestN, second = l, n, bestN
		case n > second:
			second = n
		}
	}
	if bestN < 2 || bestN == second {
		return ""
	}
	return best
}

// clip shortens s to n runes, marking the cut.
func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
