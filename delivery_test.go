package baton_test

import (
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/batonhq/baton"
)

func TestDeliveryStatusOf(t *testing.T) {
	t.Parallel()
	ok := baton.DeliveryAttempt{StatusCode: 200}
	no := baton.DeliveryAttempt{StatusCode: 503, Error: "bot webhook answered 503"}
	none := baton.DeliveryAttempt{Error: "connection refused"}
	tests := []struct {
		name     string
		pending  bool
		attempts []baton.DeliveryAttempt
		want     baton.DeliveryStatus
	}{
		{"never posted", false, nil, baton.DeliveryStream},
		{"first attempt waiting", true, nil, baton.DeliveryPending},
		{"retrying", true, []baton.DeliveryAttempt{no, none}, baton.DeliveryPending},
		{"redelivery of a delivered event", true, []baton.DeliveryAttempt{ok}, baton.DeliveryPending},
		{"delivered at once", false, []baton.DeliveryAttempt{ok}, baton.DeliveryDelivered},
		{"delivered after failures", false, []baton.DeliveryAttempt{no, none, ok}, baton.DeliveryDelivered},
		{"retries ran out", false, []baton.DeliveryAttempt{no, none}, baton.DeliveryFailed},
		{"redelivered and failed", false, []baton.DeliveryAttempt{ok, no}, baton.DeliveryFailed},
		{"gone", false, []baton.DeliveryAttempt{{StatusCode: 410}}, baton.DeliveryFailed},
		{"a 3xx is no delivery", false, []baton.DeliveryAttempt{{StatusCode: 301}}, baton.DeliveryFailed},
		{"299 is", false, []baton.DeliveryAttempt{{StatusCode: 299}}, baton.DeliveryDelivered},
	}
	for _, tt := range tests {
		if got := baton.DeliveryStatusOf(tt.pending, tt.attempts); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
}

func TestAttemptError(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"", ""},
		{"bot webhook answered 503", "bot webhook answered 503"},
		{"dial tcp: lookup x\non 127.0.0.53:53:\tno such host\r\n", "dial tcp: lookup x on 127.0.0.53:53: no such host"},
		{"nul\x00in it", "nul in it"},
		{"bad \xff\xfe utf-8", "bad utf-8"},
		{"del\x7fete", "del ete"},
	}
	for _, tt := range tests {
		if got := baton.AttemptError(tt.in); got != tt.want {
			t.Errorf("AttemptError(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	// Long text is cut at a character boundary, whatever its characters.
	for _, long := range []string{strings.Repeat("x", 1000), strings.Repeat("é", 500), strings.Repeat("✓", 400), "a" + strings.Repeat("🙂", 300)} {
		got := baton.AttemptError(long)
		if len(got) > baton.MaxAttemptError || !utf8.ValidString(got) || !strings.HasSuffix(got, "…") {
			t.Errorf("AttemptError of %d bytes = %d bytes %q", len(long), len(got), got)
		}
	}
	if got := baton.AttemptError(strings.Repeat("y", baton.MaxAttemptError)); len(got) != baton.MaxAttemptError || strings.HasSuffix(got, "…") {
		t.Errorf("text of exactly the limit was changed: %q", got)
	}
}

// TestSigningSecrets: the previous secret signs until PreviousUntil, not at
// it or after; a bot with no previous secret signs with its own only.
func TestSigningSecrets(t *testing.T) {
	t.Parallel()
	until := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	b := baton.Bot{WebhookSecret: "new", PreviousSecret: "old", PreviousUntil: until}
	tests := []struct {
		name string
		bot  baton.Bot
		at   time.Time
		want []string
	}{
		{"during the overlap", b, until.Add(-time.Microsecond), []string{"new", "old"}},
		{"long before its end", b, until.Add(-24 * time.Hour), []string{"new", "old"}},
		{"at its end", b, until, []string{"new"}},
		{"after it", b, until.Add(time.Hour), []string{"new"}},
		{"no previous secret", baton.Bot{WebhookSecret: "new", PreviousUntil: until}, until.Add(-time.Hour), []string{"new"}},
		{"no end", baton.Bot{WebhookSecret: "new", PreviousSecret: "old"}, until, []string{"new"}},
	}
	for _, tt := range tests {
		if got := tt.bot.SigningSecrets(tt.at); !slices.Equal(got, tt.want) {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}
