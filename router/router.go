// Package router chooses the human group a conversation is transferred to.
// Words, the default, is deterministic and explains itself: it scores each
// group by the conversation's words found in the group's name and description.
// LLM asks a chat-completions endpoint to choose, held to the desk's groups,
// with Words deciding whenever the model cannot; ForDesk picks between them
// from a desk's settings.
package router

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/batonhq/baton"
)

// Words is the default baton.Router; its decisions are the router "words".
//
// Each customer message contributes its words, the latest one counting
// three times and earlier ones once; bot and agent words count half. A group
// scores the sum of the weights of its name's and description's words found
// in the conversation, divided by the square root of how many words it has,
// so a long description does not win by length. A hint naming a group (by id
// or name) wins outright. Ties go to a group with someone available, then to
// the lower id. With no word in common, the first available group is chosen.
type Words struct{}

var _ baton.Router = Words{}

// Route implements baton.Router.
func (w Words) Route(ctx context.Context, groups []baton.Group, transcript []baton.Message, hint string) (baton.Decision, error) {
	d, err := w.route(groups, transcript, hint)
	d.Router = NameWords
	return d, err
}

// NameWords and NameLLM are the routers' names in a baton.Decision.
const (
	NameWords = "words"
	NameLLM   = "llm"
)

func (Words) route(groups []baton.Group, transcript []baton.Message, hint string) (baton.Decision, error) {
	if len(groups) == 0 {
		return baton.Decision{}, baton.Errorf(baton.EUNAVAILABLE, "the desk has no groups to transfer to")
	}
	if hint != "" {
		for _, g := range groups {
			if g.ID == hint || strings.EqualFold(g.Name, hint) {
				return baton.Decision{GroupID: g.ID, GroupName: g.Name, Score: 1, Reason: fmt.Sprintf("the routing hint %q names this group", hint)}, nil
			}
		}
	}
	weights := map[string]float64{}
	last := -1
	for i, m := range transcript {
		if m.Author == baton.ByCustomer {
			last = i
		}
	}
	for i, m := range transcript {
		w := 0.5
		switch {
		case i == last:
			w = 3
		case m.Author == baton.ByCustomer:
			w = 1
		}
		for _, word := range words(m.Text) {
			weights[word] += w
		}
	}
	type scored struct {
		g     baton.Group
		score float64
		hits  []string
	}
	var all []scored
	for _, g := range groups {
		spelled := map[string]string{}
		own := unique(words(g.Name+" "+g.Description, spelled))
		s := scored{g: g}
		for _, w := range own {
			if weights[w] > 0 {
				s.score += weights[w]
				s.hits = append(s.hits, spelled[w])
			}
		}
		if len(own) > 0 {
			s.score /= sqrt(float64(len(own)))
		}
		all = append(all, s)
	}
	slices.SortStableFunc(all, func(a, b scored) int {
		switch {
		case a.score != b.score:
			if a.score > b.score {
				return -1
			}
			return 1
		case a.g.Available != b.g.Available:
			if a.g.Available {
				return -1
			}
			return 1
		}
		return compareIDs(a.g.ID, b.g.ID)
	})
	best := all[0]
	if best.score == 0 {
		for _, s := range all {
			if s.g.Available {
				return baton.Decision{GroupID: s.g.ID, GroupName: s.g.Name, Reason: "no group matches the conversation's words: the first group with someone available"}, nil
			}
		}
		return baton.Decision{GroupID: best.g.ID, GroupName: best.g.Name, Reason: "no group matches the conversation's words and nobody is available: queued in the first group"}, nil
	}
	return baton.Decision{GroupID: best.g.ID, GroupName: best.g.Name, Score: round(best.score),
		Reason: fmt.Sprintf("the conversation mentions %s", strings.Join(best.hits, ", "))}, nil
}

// stop words carry no topic.
var stop = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`a an and are as at be but by can could do does for from have hello hi how i
		i'm im in is it its me my no not of on or our please so that the their them there this to too us want was
		we what when where which who why will with would you your yes ok okay thanks thank team group support help`) {
		stop[w] = true
	}
}

// words lowercases s and splits it into words without stop words, with a
// light stemming so that "refunds" meets "refund" and "charged" meets
// "charges". seen, when not nil, remembers each stem's first spelling.
func words(s string, seen ...map[string]string) []string {
	f := strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	out := f[:0]
	for _, w := range f {
		if stop[w] || len(w) < 2 {
			continue
		}
		st := stem(w)
		if len(seen) > 0 && seen[0][st] == "" {
			seen[0][st] = w
		}
		out = append(out, st)
	}
	return out
}

func stem(w string) string {
	for _, suf := range []string{"ing", "ed", "es", "s"} {
		if len(w) > len(suf)+2 && strings.HasSuffix(w, suf) {
			w = strings.TrimSuffix(w, suf)
			break
		}
	}
	if len(w) > 3 {
		w = strings.TrimSuffix(w, "e")
	}
	return w
}

func unique(ws []string) []string {
	slices.Sort(ws)
	return slices.Compact(ws)
}

// compareIDs orders numeric ids as numbers, others as strings.
func compareIDs(a, b string) int {
	if len(a) != len(b) && isDigits(a) && isDigits(b) {
		return len(a) - len(b)
	}
	return strings.Compare(a, b)
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

func sqrt(x float64) float64 {
	z := x
	for range 20 {
		z = (z + x/z) / 2
	}
	return z
}

func round(x float64) float64 { return float64(int64(x*100+0.5)) / 100 }
