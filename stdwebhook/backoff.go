package stdwebhook

import (
	"math/rand/v2"
	"time"
)

// Schedule is the default retry schedule: Schedule[i] is the delay before
// attempt i+1, counted from the failure of the previous attempt. Attempt 1 is
// immediate; there are 8 attempts in all. Pass a scaled copy to Backoff in
// tests.
var Schedule = []time.Duration{
	0,
	5 * time.Second,
	5 * time.Minute,
	30 * time.Minute,
	2 * time.Hour,
	5 * time.Hour,
	10 * time.Hour,
	10 * time.Hour,
}

// Backoff returns the delay before attempt number attempt (1-based) under
// schedule, with ±10% jitter drawn from rnd (a source of floats in [0, 1); nil
// means math/rand/v2). It returns false when attempt is past the end of the
// schedule (or below 1): stop retrying.
func Backoff(attempt int, schedule []time.Duration, rnd func() float64) (time.Duration, bool) {
	if attempt < 1 || attempt > len(schedule) {
		return 0, false
	}
	d := schedule[attempt-1]
	if d <= 0 {
		return 0, true
	}
	if rnd == nil {
		rnd = rand.Float64
	}
	r := min(max(rnd(), 0), 1)
	return time.Duration(float64(d) * (0.9 + 0.2*r)), true
}
