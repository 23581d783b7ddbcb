package stdwebhook

import (
	"math/rand/v2"
	"testing"
	"time"
)

func TestScheduleDefault(t *testing.T) {
	t.Parallel()
	want := []time.Duration{0, 5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour}
	if len(Schedule) != len(want) {
		t.Fatalf("len(Schedule) = %d, want %d", len(Schedule), len(want))
	}
	for i := range want {
		if Schedule[i] != want[i] {
			t.Errorf("Schedule[%d] = %v, want %v", i, Schedule[i], want[i])
		}
	}
}

func TestBackoffSequence(t *testing.T) {
	t.Parallel()
	mid := func() float64 { return 0.5 } // no jitter
	for attempt := 1; attempt <= len(Schedule); attempt++ {
		d, ok := Backoff(attempt, Schedule, mid)
		if !ok || d != Schedule[attempt-1] {
			t.Errorf("Backoff(%d) = %v, %v; want %v, true", attempt, d, ok, Schedule[attempt-1])
		}
	}
	for _, attempt := range []int{-1, 0, len(Schedule) + 1, 100} {
		if d, ok := Backoff(attempt, Schedule, mid); ok || d != 0 {
			t.Errorf("Backoff(%d) = %v, %v; want 0, false", attempt, d, ok)
		}
	}
	if _, ok := Backoff(1, nil, mid); ok {
		t.Error("Backoff(1, nil schedule) = true")
	}
}

func TestBackoffScaled(t *testing.T) {
	t.Parallel()
	scaled := make([]time.Duration, len(Schedule))
	for i, d := range Schedule {
		scaled[i] = d / time.Hour * time.Millisecond // 10h -> 10ms
	}
	var delays []time.Duration
	for attempt := 1; ; attempt++ {
		d, ok := Backoff(attempt, scaled, nil)
		if !ok {
			break
		}
		delays = append(delays, d)
	}
	if len(delays) != 8 {
		t.Fatalf("got %d attempts, want 8", len(delays))
	}
	if delays[7] < 9*time.Millisecond || delays[7] > 11*time.Millisecond {
		t.Errorf("last scaled delay = %v, want about 10ms", delays[7])
	}
}

func TestBackoffJitter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		r      float64
		lo, hi time.Duration // inclusive bounds for attempt 3 (5 min)
	}{
		{"low", 0, 270 * time.Second, 270 * time.Second},
		{"mid", 0.5, 300 * time.Second, 300 * time.Second},
		{"high", 0.999999999, 329 * time.Second, 330 * time.Second},
		{"below range clamped", -3, 270 * time.Second, 270 * time.Second},
		{"above range clamped", 7, 330 * time.Second, 330 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, ok := Backoff(3, Schedule, func() float64 { return tt.r })
			if !ok || d < tt.lo || d > tt.hi {
				t.Fatalf("Backoff(3) = %v, %v; want in [%v, %v]", d, ok, tt.lo, tt.hi)
			}
		})
	}

	// Random draws stay within ±10% and are not all equal; the immediate
	// first attempt is never jittered.
	rng := rand.New(rand.NewPCG(1, 2))
	for attempt := 1; attempt <= len(Schedule); attempt++ {
		base := Schedule[attempt-1]
		lo, hi := base*9/10, base*11/10
		seen := map[time.Duration]bool{}
		for range 200 {
			d, ok := Backoff(attempt, Schedule, rng.Float64)
			if !ok || d < lo || d > hi {
				t.Fatalf("Backoff(%d) = %v, %v; want in [%v, %v]", attempt, d, ok, lo, hi)
			}
			seen[d] = true
		}
		if base == 0 && len(seen) != 1 {
			t.Errorf("Backoff(%d) jittered a zero delay", attempt)
		}
		if base > 0 && len(seen) < 100 {
			t.Errorf("Backoff(%d) gave only %d distinct delays in 200 draws", attempt, len(seen))
		}
	}
	if d, ok := Backoff(2, Schedule, nil); !ok || d < 4500*time.Millisecond || d > 5500*time.Millisecond {
		t.Errorf("Backoff(2, nil rnd) = %v, %v", d, ok)
	}
}
