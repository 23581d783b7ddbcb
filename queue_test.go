package baton

import (
	"encoding/json"
	"testing"
	"time"
)

func TestMedianWait(t *testing.T) {
	t.Parallel()
	s := time.Second
	for _, tc := range []struct {
		name  string
		waits []time.Duration
		want  time.Duration
	}{
		{"none", nil, 0},
		{"one", []time.Duration{7 * s}, 7 * s},
		{"odd, unsorted", []time.Duration{9 * s, 1 * s, 5 * s}, 5 * s},
		{"even: the mean of the middle two", []time.Duration{4 * s, 1 * s, 10 * s, 6 * s}, 5 * s},
		{"an outlier does not move it", []time.Duration{3 * s, 4 * s, 5 * s, 2 * time.Hour, 4 * s}, 4 * s},
		{"negative counts as zero", []time.Duration{-5 * s, 2 * s, 4 * s}, 2 * s},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := append([]time.Duration(nil), tc.waits...)
			if got := MedianWait(tc.waits); got != tc.want {
				t.Errorf("MedianWait(%v) = %v, want %v", tc.waits, got, tc.want)
			}
			for i := range in {
				if in[i] != tc.waits[i] {
					t.Fatalf("MedianWait reordered its argument: %v", tc.waits)
				}
			}
		})
	}
}

func TestEstimateWait(t *testing.T) {
	t.Parallel()
	s := time.Second
	for _, tc := range []struct {
		name     string
		waits    []time.Duration
		position int
		want     time.Duration
		ok       bool
	}{
		{"no history: no estimate", nil, 3, 0, false},
		{"next in line: one median", []time.Duration{20 * s, 40 * s, 60 * s}, 1, 40 * s, true},
		{"third: three medians", []time.Duration{20 * s, 40 * s, 60 * s}, 3, 120 * s, true},
		{"whole seconds", []time.Duration{1500 * time.Millisecond}, 1, 1 * s, true},
		{"a position below 1 counts as 1", []time.Duration{30 * s}, 0, 30 * s, true},
		{"taken at once: zero, an estimate still", []time.Duration{0}, 4, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := EstimateWait(tc.waits, tc.position)
			if got != tc.want || ok != tc.ok {
				t.Errorf("EstimateWait(%v, %d) = %v, %v; want %v, %v", tc.waits, tc.position, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestQueueBefore(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	a := Handoff{ID: "ho_b", QueuedAt: t0}
	b := Handoff{ID: "ho_a", QueuedAt: t0.Add(time.Microsecond)}
	c := Handoff{ID: "ho_c", QueuedAt: t0}
	for _, tc := range []struct {
		x, y Handoff
		want bool
	}{
		{a, b, true},  // entered first
		{b, a, false}, // entered later, whatever the id
		{a, c, true},  // the same instant: the smaller id
		{c, a, false},
		{a, a, false}, // not before itself
	} {
		if got := QueueBefore(tc.x, tc.y); got != tc.want {
			t.Errorf("QueueBefore(%s@%v, %s@%v) = %v, want %v", tc.x.ID, tc.x.QueuedAt, tc.y.ID, tc.y.QueuedAt, got, tc.want)
		}
	}
}

func TestQueuePlace(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	queued := Handoff{ID: "ho_1", State: Queued, QueuedAt: t0}
	waits := []time.Duration{time.Minute, 3 * time.Minute}
	for _, tc := range []struct {
		name  string
		h     func(Handoff) Handoff
		rank  int
		waits []time.Duration
		want  QueuePlace
		ok    bool
	}{
		{"queued, with history", func(h Handoff) Handoff { return h }, 3, waits, QueuePlace{Position: 3, Wait: 6 * time.Minute, Estimated: true}, true},
		{"queued, no history", func(h Handoff) Handoff { return h }, 1, nil, QueuePlace{Position: 1}, true},
		{"the desk's figure wins", func(h Handoff) Handoff { h.DeskPosition = 42; return h }, 2, waits, QueuePlace{Position: 42, Wait: 84 * time.Minute, Estimated: true}, true},
		{"taken: not in the queue", func(h Handoff) Handoff { h.Agent, h.TakenAt = Agent{ID: "a"}, t0; return h }, 1, waits, QueuePlace{}, false},
		{"active: not in the queue", func(h Handoff) Handoff { h.State, h.TakenAt = Active, t0; return h }, 1, waits, QueuePlace{}, false},
		{"ended: not in the queue", func(h Handoff) Handoff { h.State, h.EndReason = Ended, BotClosed; return h }, 1, waits, QueuePlace{}, false},
		{"requested: not yet in the queue", func(h Handoff) Handoff { h.State, h.QueuedAt = Requested, time.Time{}; return h }, 1, waits, QueuePlace{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := tc.h(queued).QueuePlace(tc.rank, tc.waits)
			if got != tc.want || ok != tc.ok {
				t.Errorf("QueuePlace(%d, %v) = %+v, %v; want %+v, %v", tc.rank, tc.waits, got, ok, tc.want, tc.ok)
			}
		})
	}
}

// TestQueueTransitions: entering the queue, being taken (a join, or a
// reply with no join first) and ending while waiting say that the queue
// moved; being taken records when, once; what happens after does not move
// the queue again.
func TestQueueTransitions(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	pol := Policy{}.Effective()
	fresh := func() (*Handoff, *Conversation) {
		c := &Conversation{ID: "cv", Owner: OwnerBot}
		h := &Handoff{ID: "ho", ConversationID: "cv", DeskID: "d", State: Requested, CreatedAt: t0}
		if _, err := h.Request(c, JobOpen, t0, t0); err != nil {
			t.Fatal(err)
		}
		eff, err := h.Queue("ref", pol, t0)
		if err != nil || !eff.Queue || !h.InQueue() {
			t.Fatalf("Queue: %+v, %v; in queue %v; want it to enter", eff, err, h.InQueue())
		}
		return h, c
	}
	t.Run("join", func(t *testing.T) {
		h, _ := fresh()
		eff := h.Join(Agent{ID: "a", Name: "Ann"}, t0.Add(time.Minute))
		if !eff.Queue || h.InQueue() || !h.TakenAt.Equal(t0.Add(time.Minute)) {
			t.Fatalf("Join: %+v, taken at %v; want it out of the queue at 1m", eff, h.TakenAt)
		}
		if eff := h.Join(Agent{ID: "b", Name: "Bo"}, t0.Add(2*time.Minute)); eff.Queue || !h.TakenAt.Equal(t0.Add(time.Minute)) {
			t.Fatalf("a second agent: %+v, taken at %v; want no move, the first time kept", eff, h.TakenAt)
		}
	})
	t.Run("reply without a name", func(t *testing.T) {
		h, c := fresh()
		eff, err := h.AgentReply(c, Message{ID: "m"}, Agent{}, t0.Add(time.Minute))
		if err != nil || !eff.Queue || h.InQueue() || !h.TakenAt.Equal(t0.Add(time.Minute)) {
			t.Fatalf("AgentReply: %+v, %v, taken at %v; want it out of the queue", eff, err, h.TakenAt)
		}
	})
	t.Run("reply after a join", func(t *testing.T) {
		h, c := fresh()
		h.Join(Agent{ID: "a", Name: "Ann"}, t0.Add(time.Minute))
		eff, err := h.AgentReply(c, Message{ID: "m"}, Agent{ID: "a", Name: "Ann"}, t0.Add(2*time.Minute))
		if err != nil || eff.Queue || !h.TakenAt.Equal(t0.Add(time.Minute)) {
			t.Fatalf("AgentReply: %+v, %v, taken at %v; want no move, taken at the join", eff, err, h.TakenAt)
		}
	})
	t.Run("end while waiting", func(t *testing.T) {
		h, c := fresh()
		eff, err := h.End(c, CustomerClosed, nil, true, t0.Add(time.Minute))
		if err != nil || !eff.Queue || h.InQueue() || !h.TakenAt.IsZero() {
			t.Fatalf("End: %+v, %v; want it out of the queue, never taken", eff, err)
		}
	})
	t.Run("end once taken", func(t *testing.T) {
		h, c := fresh()
		h.Join(Agent{ID: "a", Name: "Ann"}, t0.Add(time.Minute))
		if eff, err := h.End(c, AgentClosed, nil, false, t0.Add(2*time.Minute)); err != nil || eff.Queue {
			t.Fatalf("End: %+v, %v; want no move: it had left the queue", eff, err)
		}
	})
	t.Run("keep waiting keeps the place", func(t *testing.T) {
		h, _ := fresh()
		if eff, err := h.KeepWaiting(t0.Add(time.Minute)); err != nil || eff.Queue || !h.QueuedAt.Equal(t0) || !h.InQueue() {
			t.Fatalf("KeepWaiting: %+v, %v, queued at %v", eff, err, h.QueuedAt)
		}
	})
	t.Run("ended before the desk had it", func(t *testing.T) {
		c := &Conversation{ID: "cv", Owner: OwnerBot}
		h := &Handoff{ID: "ho", State: Requested, CreatedAt: t0}
		if _, err := h.Request(c, JobOpen, t0, t0); err != nil {
			t.Fatal(err)
		}
		if eff, err := h.End(c, BotClosed, nil, true, t0); err != nil || eff.Queue {
			t.Fatalf("End: %+v, %v; want no move: it was never queued", eff, err)
		}
	})
}

func TestDeskPlaced(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	h := Handoff{ID: "ho", State: Queued, QueuedAt: t0}
	if eff := h.DeskPlaced(0); eff.Placed || h.DeskPosition != 0 {
		t.Fatalf("no figure: %+v, %d", eff, h.DeskPosition)
	}
	if eff := h.DeskPlaced(4); !eff.Placed || h.DeskPosition != 4 {
		t.Fatalf("a first figure: %+v, %d; want it told", eff, h.DeskPosition)
	}
	if eff := h.DeskPlaced(4); eff.Placed {
		t.Fatalf("the same figure again: %+v; want nothing to tell", eff)
	}
	if eff := h.DeskPlaced(2); !eff.Placed || h.DeskPosition != 2 {
		t.Fatalf("a new figure: %+v, %d", eff, h.DeskPosition)
	}
	taken := h
	taken.TakenAt = t0
	if eff := taken.DeskPlaced(1); eff.Placed || taken.DeskPosition != 2 {
		t.Fatalf("taken: %+v, %d; want the figure ignored", eff, taken.DeskPosition)
	}
	ended := h
	ended.State = Ended
	if eff := ended.DeskPlaced(1); eff.Placed {
		t.Fatalf("ended: %+v", eff)
	}
}

// TestQueueUpdatedData: the event says what it is about and where the
// handoff stands, with a null estimate when there is none.
func TestQueueUpdatedData(t *testing.T) {
	t.Parallel()
	h := Handoff{ID: "ho_1", ExternalID: "conv-1", DeskID: "support", State: Queued, Epoch: 3}
	for _, tc := range []struct {
		p    QueuePlace
		want string
	}{
		{QueuePlace{Position: 2, Wait: 90 * time.Second, Estimated: true},
			`{"handoff_id":"ho_1","state":"queued","conversation_id":"conv-1","epoch":3,"desk_id":"support","position":2,"estimated_wait_seconds":90}`},
		{QueuePlace{Position: 1},
			`{"handoff_id":"ho_1","state":"queued","conversation_id":"conv-1","epoch":3,"desk_id":"support","position":1,"estimated_wait_seconds":null}`},
	} {
		ev, err := NewEvent(h.QueueUpdate(tc.p))
		if err != nil {
			t.Fatal(err)
		}
		if ev.Type != EventQueueUpdated || ev.HandoffID != h.ID || ev.ExternalID != h.ExternalID || ev.Epoch != 3 {
			t.Errorf("event %+v", ev)
		}
		var got, want any
		if err := json.Unmarshal(ev.Data, &got); err != nil {
			t.Fatal(err)
		}
		json.Unmarshal([]byte(tc.want), &want)
		if g, _ := json.Marshal(got); string(g) != mustJSON(want) {
			t.Errorf("data %s, want %s", ev.Data, tc.want)
		}
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
