package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/stdwebhook"
)

// queueNote is a handoff.queue_updated event as the bot's webhook got it.
type queueNote struct {
	Handoff  string `json:"handoff_id"`
	Position int    `json:"position"`
	Wait     *int64 `json:"estimated_wait_seconds"`
	Desk     string `json:"desk_id"`
}

// queueNotes lists the handoff.queue_updated events the hook got after its
// first from calls, by handoff, in the order they arrived.
func queueNotes(t *testing.T, hook *hookBot, from int) map[string][]queueNote {
	t.Helper()
	out := map[string][]queueNote{}
	for _, c := range hook.calls()[from:] {
		if c.typ != baton.EventQueueUpdated {
			continue
		}
		var env struct{ Data queueNote }
		if err := json.Unmarshal(c.body, &env); err != nil {
			t.Fatal(err)
		}
		out[env.Data.Handoff] = append(out[env.Data.Handoff], env.Data)
	}
	return out
}

// inQueueOrder reads hs again and sorts them as their desk's queue has them:
// the order the desk took them in, which the worker's opens decide.
func (s *stack) inQueueOrder(t *testing.T, hs []baton.Handoff) []baton.Handoff {
	t.Helper()
	out := make([]baton.Handoff, len(hs))
	for i, h := range hs {
		out[i] = s.handoff(t, h.ID)
	}
	slices.SortFunc(out, func(a, b baton.Handoff) int {
		if baton.QueueBefore(a, b) {
			return -1
		}
		return 1
	})
	return out
}

// positions reads where each handoff stands, 0 for one not in the queue.
func (s *stack) positions(t *testing.T, hs []baton.Handoff) []int {
	t.Helper()
	out := make([]int, len(hs))
	for i, h := range hs {
		if got := s.handoff(t, h.ID); got.Place != nil {
			out[i] = got.Place.Position
		}
	}
	return out
}

// TestQueueClaimsAtOnce has four inbox agents claim four different
// handoffs of one desk's queue at the same moment, round after round, on
// each store: the handoffs left keep consecutive positions 1..N in the
// order they entered, none twice and none missing; each whose position
// moved is told, at its bot's webhook, its positions in order (each lower
// than the one before, the last its position now); the front before the
// first claimed one is told nothing; claimed and ended handoffs have no
// place. With no wait at the desk yet there is no estimate; once agents
// have taken handoffs there is one.
func TestQueueClaimsAtOnce(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, st baton.Store) {
		s := newStackOn(t, st, nil, nil)
		hook := &hookBot{}
		withHook(t, s, hook, baton.Bot{WebhookURL: "http://bot.example/hook", WebhookSecret: stdwebhook.NewSecret()}, nil)
		ctx := context.Background()
		agents := []baton.InboxAgent{s.ana}
		for _, name := range []string{"Ben", "Cy", "Di"} {
			a := baton.InboxAgent{ID: name, WorkspaceID: s.ws, DeskID: s.desk, Name: name, KeyHash: baton.HashKey(name + "-key")}
			if err := st.Tx(ctx, func(tx baton.Tx) error { return tx.PutInboxAgent(a) }); err != nil {
				t.Fatal(err)
			}
			agents = append(agents, a)
		}
		rng := rand.New(rand.NewPCG(1, 2))
		const n = 9
		for round := range 6 {
			var hs []baton.Handoff
			for i := range n {
				hs = append(hs, s.create(t, fmt.Sprintf("q%d-%d", round, i)))
			}
			s.drain(t)
			hs = s.inQueueOrder(t, hs)
			if got, want := s.positions(t, hs), []int{1, 2, 3, 4, 5, 6, 7, 8, 9}; !slices.Equal(got, want) {
				t.Fatalf("round %d: positions %v, want %v", round, got, want)
			}
			first := s.handoff(t, hs[0].ID)
			if round == 0 && first.Place.Estimated {
				t.Fatalf("an estimate with no wait at the desk yet: %+v", first.Place)
			}
			if round > 0 && !first.Place.Estimated {
				t.Fatalf("round %d: no estimate though agents took handoffs before", round)
			}
			// The inbox's waiting list says the same.
			waiting, _, err := s.eng.InboxQueue(ctx, s.ana)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range waiting {
				if i := slices.IndexFunc(hs, func(h baton.Handoff) bool { return h.ID == w.ID }); w.Place == nil || w.Place.Position != i+1 {
					t.Fatalf("round %d: the inbox lists %s at %+v, want %d", round, w.ID, w.Place, i+1)
				}
			}
			before := len(hook.calls())

			picks := rng.Perm(n)[:len(agents)]
			slices.Sort(picks)
			_, errs := together(len(agents), func(i int) (baton.Handoff, error) { return s.eng.Claim(ctx, agents[i], hs[picks[i]].ID) })
			for i, err := range errs {
				if err != nil {
					t.Fatalf("round %d: %s claiming %d: %v", round, agents[i].Name, picks[i], err)
				}
			}
			var left []baton.Handoff
			for i, h := range hs {
				if !slices.Contains(picks, i) {
					left = append(left, h)
				}
			}
			got := s.positions(t, left)
			for i, p := range got {
				if p != i+1 {
					t.Fatalf("round %d: claimed %v: positions of the rest %v, want 1..%d", round, picks, got, len(left))
				}
			}
			for _, i := range picks {
				if h := s.handoff(t, hs[i].ID); h.Place != nil {
					t.Fatalf("round %d: claimed %s still has a place %+v", round, h.ID, h.Place)
				}
			}
			s.drain(t)
			// Only what the claims caused: opens that commit out of the
			// order they entered the queue in move the others too.
			notes := queueNotes(t, hook, before)
			for i, h := range left {
				orig := slices.IndexFunc(hs, func(x baton.Handoff) bool { return x.ID == h.ID })
				moved := picks[0] < orig
				var mine []queueNote
				for _, no := range notes[h.ID] {
					if no.Desk != s.desk {
						t.Fatalf("a note for another desk: %+v", no)
					}
					mine = append(mine, no)
				}
				switch {
				case !moved && len(mine) > 0:
					t.Fatalf("round %d: %s, ahead of every claim, was told %+v", round, h.ID, mine)
				case moved && len(mine) == 0:
					t.Fatalf("round %d: %s moved from %d to %d and was not told", round, h.ID, orig+1, i+1)
				case moved && mine[len(mine)-1].Position != i+1:
					t.Fatalf("round %d: %s was told %+v last, stands at %d", round, h.ID, mine[len(mine)-1], i+1)
				}
				for j, no := range mine {
					if no.Wait == nil {
						t.Fatalf("round %d: %s told no estimate after agents took handoffs: %+v", round, h.ID, no)
					}
					if j > 0 && no.Position >= mine[j-1].Position {
						t.Fatalf("round %d: %s told out of order: %+v", round, h.ID, mine)
					}
				}
			}
			if len(hook.calls()) == before {
				t.Fatalf("round %d: nothing told", round)
			}
			// The rest end: the queue empties, and an ended handoff has no place.
			for _, h := range hs {
				if _, err := s.eng.End(ctx, s.ws, h.ID, baton.BotClosed); err != nil {
					t.Fatal(err)
				}
				if got := s.handoff(t, h.ID); got.Place != nil {
					t.Fatalf("ended %s has a place %+v", h.ID, got.Place)
				}
			}
			s.drain(t)
		}
	})
}

// TestQueueEstimate, in virtual time: the estimate is the median of the
// desk's recent waits (queued to taken) times the position, told with each
// move; a desk with no wait within the last 24 hours has none.
func TestQueueEstimate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		long := baton.Duration(30 * 24 * time.Hour)
		s := newStack(t, dir, &baton.Policy{WaitTimeout: long, IdleExpiry: long})
		ctx := context.Background()
		var hs []baton.Handoff
		for i := range 3 {
			hs = append(hs, s.create(t, fmt.Sprint("e", i)))
		}
		s.drain(t)
		hs = s.inQueueOrder(t, hs)
		place := func(h baton.Handoff) baton.QueuePlace {
			t.Helper()
			got := s.handoff(t, h.ID)
			if got.Place == nil {
				t.Fatalf("%s is not in the queue: %s", h.ID, got.State)
			}
			return *got.Place
		}
		if p := place(hs[2]); p.Position != 3 || p.Estimated || p.WaitSeconds() != nil {
			t.Fatalf("with no history: %+v, want position 3 and no estimate", p)
		}
		// In virtual time the three entered at the same instant: their
		// order is their ids', whatever order the opens committed in.
		from := len(s.events(t))
		time.Sleep(30 * time.Second)
		if _, err := s.eng.Claim(ctx, s.ana, hs[0].ID); err != nil { // waited 30 s
			t.Fatal(err)
		}
		if p := place(hs[1]); p != (baton.QueuePlace{Position: 1, Wait: 30 * time.Second, Estimated: true}) {
			t.Fatalf("next after one wait of 30 s: %+v", p)
		}
		if p := place(hs[2]); p != (baton.QueuePlace{Position: 2, Wait: 60 * time.Second, Estimated: true}) {
			t.Fatalf("second after one wait of 30 s: %+v", p)
		}
		time.Sleep(60 * time.Second)
		// An agent's first reply takes the handoff too: waited 90 s.
		if _, err := s.eng.Reply(ctx, s.ana, hs[1].ID, "Hello, Ana here", nil); err != nil {
			t.Fatal(err)
		}
		if p := place(hs[2]); p != (baton.QueuePlace{Position: 1, Wait: 60 * time.Second, Estimated: true}) {
			t.Fatalf("next after waits of 30 s and 90 s: %+v, want 60 s", p)
		}
		var told []queueNote
		for _, ev := range s.events(t)[from:] {
			if ev.Type == baton.EventQueueUpdated && ev.HandoffID == hs[2].ID {
				var d queueNote
				json.Unmarshal(ev.Data, &d)
				told = append(told, d)
			}
		}
		if len(told) != 2 || told[0].Position != 2 || *told[0].Wait != 60 || told[1].Position != 1 || *told[1].Wait != 60 {
			t.Fatalf("told %+v; want position 2 (2 × 30 s) then 1 (the median of 30 s and 90 s)", told)
		}
		// A day later those waits are too old to go by.
		time.Sleep(baton.WaitWindow + time.Minute)
		if p := place(hs[2]); p.Position != 1 || p.Estimated {
			t.Fatalf("a day later: %+v, want no estimate", p)
		}
	})
}

// TestQueueDeskFigure: the desk's own figure is the handoff's position
// from the moment the desk reports it, told to its bot once per new
// figure; the handoffs before it leaving do not move it, while the others
// still move; an agent who takes it takes it out.
func TestQueueDeskFigure(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStack(t, t.TempDir(), nil)
	var hs []baton.Handoff
	for i := range 3 {
		hs = append(hs, s.create(t, fmt.Sprint("f", i)))
	}
	s.drain(t)
	hs = s.inQueueOrder(t, hs)
	from := len(s.events(t)) // what the opens told is not this test's
	dc, err := s.eng.Desk(ctx, s.ws, s.desk)
	if err != nil {
		t.Fatal(err)
	}
	figure := func(h baton.Handoff, id string, pos int, agent baton.Agent) {
		t.Helper()
		ref := s.handoff(t, h.ID).DeskRef
		if err := s.eng.ApplyDeskEvent(ctx, dc, baton.DeskEvent{ID: id, Ref: ref, Type: baton.DeskTransferred, Position: pos, Agent: agent}); err != nil {
			t.Fatal(err)
		}
	}
	told := func(h baton.Handoff) []int {
		var out []int
		for _, ev := range s.events(t)[from:] {
			if ev.Type == baton.EventQueueUpdated && ev.HandoffID == h.ID {
				var d queueNote
				json.Unmarshal(ev.Data, &d)
				out = append(out, d.Position)
			}
		}
		return out
	}
	figure(hs[1], "t1", 7, baton.Agent{})
	if got := s.positions(t, hs); !slices.Equal(got, []int{1, 7, 3}) {
		t.Fatalf("positions %v, want the desk's 7 for the second", got)
	}
	figure(hs[1], "t2", 7, baton.Agent{}) // the same figure again: nothing new
	if got := told(hs[1]); !slices.Equal(got, []int{7}) {
		t.Fatalf("told %v, want [7] once", got)
	}
	if _, err := s.eng.Claim(ctx, s.ana, hs[0].ID); err != nil {
		t.Fatal(err)
	}
	if got := s.positions(t, hs); !slices.Equal(got, []int{0, 7, 2}) {
		t.Fatalf("after the front was claimed: %v, want the desk's figure to stand and the third to move up", got)
	}
	if got, want := told(hs[1]), []int{7}; !slices.Equal(got, want) {
		t.Fatalf("the desk-placed handoff was told %v, want %v", got, want)
	}
	if got, want := told(hs[2]), []int{2}; !slices.Equal(got, want) {
		t.Fatalf("the third was told %v, want %v", got, want)
	}
	figure(hs[1], "t3", 4, baton.Agent{})
	if got, want := told(hs[1]), []int{7, 4}; !slices.Equal(got, want) {
		t.Fatalf("told %v after a new figure, want %v", got, want)
	}
	// A transfer to an agent takes it out of the queue: the rest move up.
	figure(hs[1], "t4", 0, baton.Agent{ID: "lc-ann", Name: "Ann"})
	if got := s.positions(t, hs); !slices.Equal(got, []int{0, 0, 1}) {
		t.Fatalf("after an agent took the second: %v", got)
	}
	if got, want := told(hs[2]), []int{2, 1}; !slices.Equal(got, want) {
		t.Fatalf("the third was told %v, want %v", got, want)
	}
}

// TestQueueKeepWaiting: keeping a handoff waiting after a wait timeout
// keeps its place: it is not sent to the back.
func TestQueueKeepWaiting(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStack(t, t.TempDir(), nil)
	s.create(t, "k1")
	s.create(t, "k2")
	s.drain(t)
	var a, b baton.Handoff
	for _, x := range []string{"k1", "k2"} {
		_, hs, err := s.eng.Conversation(ctx, s.ws, s.bot, x)
		if err != nil {
			t.Fatal(err)
		}
		a, b = b, hs[0]
	}
	if baton.QueueBefore(b, a) {
		a, b = b, a
	}
	if _, err := s.eng.KeepWaiting(ctx, s.ws, a.ID); err != nil {
		t.Fatal(err)
	}
	got, err := s.eng.KeepWaiting(ctx, s.ws, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Place == nil || got.Place.Position != 1 {
		t.Fatalf("keep-waiting answered %+v, want position 1", got.Place)
	}
	if p := s.positions(t, []baton.Handoff{a, b}); !slices.Equal(p, []int{1, 2}) {
		t.Fatalf("positions %v, want [1 2]", p)
	}
	// The conversation read shows the open handoff's place.
	_, hs, err := s.eng.Conversation(ctx, s.ws, s.bot, b.ExternalID)
	if err != nil || len(hs) != 1 || hs[0].Place == nil || hs[0].Place.Position != 2 {
		t.Fatalf("conversation %s: %+v, %v", b.ExternalID, hs, err)
	}
}
