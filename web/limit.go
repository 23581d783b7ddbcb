package web

import (
	"sync"
	"time"
)

// limiter counts failures per key (an email, a client address) over a
// sliding window. It lives in the process: with several instances behind a
// load balancer, each counts its own.
type limiter struct {
	max    int
	window time.Duration

	mu    sync.Mutex
	fails map[string][]time.Time // oldest first, at most max, all within window
}

// maxLimiterKeys bounds the memory a flood of distinct keys can take: past
// it, keys whose failures have all aged out are dropped, then any.
const maxLimiterKeys = 50_000

func newLimiter(max int, window time.Duration) *limiter {
	return &limiter{max: max, window: window, fails: map[string][]time.Time{}}
}

// recent is key's failures within the window before now; the caller holds mu.
func (l *limiter) recent(key string, now time.Time) []time.Time {
	fs := l.fails[key]
	for len(fs) > 0 && !fs[0].After(now.Add(-l.window)) {
		fs = fs[1:]
	}
	if len(fs) == 0 {
		delete(l.fails, key)
		return nil
	}
	l.fails[key] = fs
	return fs
}

// wait is how long until key may try again: 0 unless it has failed max
// times within the window.
func (l *limiter) wait(key string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	fs := l.recent(key, now)
	if len(fs) < l.max {
		return 0
	}
	return fs[len(fs)-l.max].Add(l.window).Sub(now)
}

// fail records a failure of key at now.
func (l *limiter) fail(key string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fs := append(l.recent(key, now), now)
	if len(fs) > l.max {
		fs = fs[len(fs)-l.max:]
	}
	l.fails[key] = fs
	if len(l.fails) > maxLimiterKeys {
		for k := range l.fails {
			l.recent(k, now)
		}
		for k := range l.fails {
			if len(l.fails) <= maxLimiterKeys {
				break
			}
			delete(l.fails, k)
		}
	}
}

// reset forgets key's failures.
func (l *limiter) reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.fails, key)
}
