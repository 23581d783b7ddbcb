package baton

import (
	"strings"
	"time"
	"unicode/utf8"
)

// The delivery log: every attempt the outbox makes to post an event to its
// bot's webhook is recorded with what came of it, so that an operator can
// see why a bot did not get an event, and deliver it again.

// DeliveryStatus is where an event's delivery to its bot's webhook stands.
type DeliveryStatus string

// Delivery statuses, as DeliveryStatusOf decides them.
const (
	// DeliveryPending: a delivery job of the event is waiting to run (a
	// first attempt, a retry, or a redelivery).
	DeliveryPending DeliveryStatus = "pending"
	// DeliveryDelivered: the last attempt was answered 2xx.
	DeliveryDelivered DeliveryStatus = "delivered"
	// DeliveryFailed: no delivery is pending and the last attempt failed:
	// the retries ran out, or the bot refused the event for good (410,
	// abort-message), or it could not be sent (an unusable secret).
	DeliveryFailed DeliveryStatus = "failed"
	// DeliveryStream: the event was never posted to a webhook (the bot had
	// none when it was written): the bot reads it from the event stream.
	DeliveryStream DeliveryStatus = "stream"
)

// AttemptsKept is how many attempts the delivery log keeps per event: the
// newest. Older ones are dropped as new ones are recorded.
const AttemptsKept = 20

// MaxAttemptError is the longest DeliveryAttempt.Error, in bytes.
const MaxAttemptError = 200

// DeliveryAttempt is one try at posting an event to its bot's webhook.
type DeliveryAttempt struct {
	EventID     string
	WorkspaceID string
	BotID       string
	At          time.Time     // when the attempt started (the signed timestamp)
	StatusCode  int           // the HTTP status of the answer; 0 when none came
	Error       string        // what went wrong, short (AttemptError); "" for a 2xx
	Duration    time.Duration // from the request's start to its answer or failure
	// Nth is which attempt at the event this is, counting from 1, or at
	// least a bound on it (a worker that died may have lost one); 0 when
	// unknown. The log is trimmed to AttemptsKept only when it may hold
	// more: a first attempt has nothing to trim.
	Nth int
}

// OK reports whether the attempt was answered 2xx.
func (a DeliveryAttempt) OK() bool { return a.StatusCode >= 200 && a.StatusCode <= 299 }

// Delivery is an event's delivery to its bot's webhook: the event, the
// attempts made to post it and where it stands.
type Delivery struct {
	EventID   string
	Type      string
	Seq       int64
	CreatedAt time.Time
	Status    DeliveryStatus
	// Attempts are the event's attempts, oldest first: the last AttemptsKept.
	// Redeliveries add theirs to the same list.
	Attempts []DeliveryAttempt
	// NextRetryAt is, while the delivery is pending, the earliest time its
	// next attempt runs (it may wait longer for the conversation's earlier
	// events to be delivered); zero otherwise.
	NextRetryAt time.Time
}

// DeliveryPage asks for the deliveries of one bot's events with Seq after
// After, in order, at most Limit (0 = all).
type DeliveryPage struct {
	WorkspaceID string
	BotID       string
	After       int64
	Limit       int
}

// DeliveryStatusOf decides a delivery's status from whether a delivery job
// of its event is pending and from its attempts, oldest first.
func DeliveryStatusOf(pending bool, attempts []DeliveryAttempt) DeliveryStatus {
	switch {
	case pending:
		return DeliveryPending
	case len(attempts) == 0:
		return DeliveryStream
	case attempts[len(attempts)-1].OK():
		return DeliveryDelivered
	}
	return DeliveryFailed
}

// AttemptError shortens an error's text for the delivery log: at most
// MaxAttemptError bytes of valid UTF-8 without control characters, so it
// can always be stored. The caller keeps secrets, URLs and bodies out of it.
func AttemptError(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f || r == utf8.RuneError { // RuneError: also every invalid byte
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= MaxAttemptError {
		return s
	}
	cut := MaxAttemptError - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// SigningSecrets are the secrets a delivery at at is signed with: the
// webhook secret and, until PreviousUntil, the previous one.
func (b Bot) SigningSecrets(at time.Time) []string {
	if b.PreviousSecret != "" && at.Before(b.PreviousUntil) {
		return []string{b.WebhookSecret, b.PreviousSecret}
	}
	return []string{b.WebhookSecret}
}
