package baton

import (
	"math"
	"strings"
	"time"
	"unicode/utf8"
)

// Policy defaults.
const (
	DefaultWaitTimeout    = 60 * time.Second
	DefaultWaitGrace      = 60 * time.Second
	DefaultSessionTimeout = 180 * time.Second
	DefaultIdleExpiry     = 30 * time.Minute
	DefaultHistoryRounds  = 10
	MaxPeriodRules        = 10
	// MaxTimeout is the longest any policy duration may be: 30 days.
	MaxTimeout = 30 * 24 * time.Hour
	// MaxTriggerDescription is the most characters a policy's
	// TriggerDescription may hold.
	MaxTriggerDescription = 2000
	// DefaultTriggerDescription is the TriggerDescription of a policy that
	// sets none: what an LLM agent reads as the handoff tool's description.
	DefaultTriggerDescription = "Hand the conversation to a person on the support team. Call this when the customer asks for a human, when they are upset or the conversation goes in circles, or when they need something you cannot do or must not decide (refunds, account changes, complaints). Pass the conversation so far and the customer's latest question."
	// MaxOutOfHoursReply is the most characters a policy's OutOfHoursReply
	// may hold.
	MaxOutOfHoursReply = 2000
	// MaxHistoryRounds is the most rounds of history a policy may keep.
	MaxHistoryRounds = MaxHistory
)

// Policy is what a workspace decides about handoffs through one bot or one desk.
// A zero field means "use the default". Durations are JSON strings ("60s", "30m").
type Policy struct {
	// Zone is the IANA time zone the periods are written in ("Europe/Paris"). Empty means UTC.
	Zone string `json:"zone,omitempty" yaml:"zone,omitempty"`
	// Periods are the service periods. None means always open.
	Periods []Period `json:"periods,omitempty" yaml:"periods,omitempty"`
	// OutOfHoursReply is the text returned to the bot when a handoff is asked for outside the periods.
	OutOfHoursReply string `json:"out_of_hours_reply,omitempty" yaml:"out_of_hours_reply,omitempty"`
	// WaitTimeout is how long a queued handoff waits for an agent before the bot is asked to keep waiting or end.
	WaitTimeout Duration `json:"wait_timeout,omitempty" yaml:"wait_timeout,omitempty"`
	// WaitGrace is how long the bot has to answer the wait-timeout event before the handoff ends with wait_timeout.
	WaitGrace Duration `json:"wait_grace,omitempty" yaml:"wait_grace,omitempty"`
	// SessionTimeout ends an active handoff this long after the agent's last message when the customer has not replied.
	SessionTimeout Duration `json:"session_timeout,omitempty" yaml:"session_timeout,omitempty"`
	// IdleExpiry ends any open handoff after this long with no message either way.
	IdleExpiry Duration `json:"idle_expiry,omitempty" yaml:"idle_expiry,omitempty"`
	// HistoryRounds is how many rounds of history (a customer turn and the bot's answer) go to the desk.
	HistoryRounds int `json:"history_rounds,omitempty" yaml:"history_rounds,omitempty"`
	// RequireEmail makes the handoff wait for the customer's email when the desk does not demand it itself.
	RequireEmail bool `json:"require_email,omitempty" yaml:"require_email,omitempty"`
	// Transfer says when a seat desk hands a chat to humans.
	Transfer *TransferRules `json:"transfer,omitempty" yaml:"transfer,omitempty"`
	// TriggerDescription tells an LLM agent when to hand off to a human
	// through this bot or desk (at most MaxTriggerDescription characters);
	// Baton only stores and returns it.
	TriggerDescription string `json:"trigger_description,omitempty" yaml:"trigger_description,omitempty"`
	// SessionPayloads are the reserved payloads of a bot that expresses a
	// handoff as a live-chat session (CSML style). They are the bot's
	// words: a bot's policy's win over its desk's, and unset names are the
	// defaults (LIVECHAT_SESSION_START, _END, _EXPIRED).
	SessionPayloads *SessionPayloads `json:"session_payloads,omitempty" yaml:"session_payloads,omitempty"`
}

// SessionPayloads name the reserved payloads of a live-chat session. A
// customer message with payload Start opens a handoff, one with End ends
// it; an agent message holding End ends it too, and reaches the bot marked
// with End (show a closing button); a handoff ended by inactivity tells the
// bot Expired.
type SessionPayloads struct {
	Start   string `json:"start,omitempty" yaml:"start,omitempty"`
	End     string `json:"end,omitempty" yaml:"end,omitempty"`
	Expired string `json:"expired,omitempty" yaml:"expired,omitempty"`
}

// The default session payloads, CSML Studio's.
const (
	DefaultSessionStart   = "LIVECHAT_SESSION_START"
	DefaultSessionEnd     = "LIVECHAT_SESSION_END"
	DefaultSessionExpired = "LIVECHAT_SESSION_EXPIRED"
)

// The shortest and longest a session payload's name may be. An agent's
// message that holds the end name as a word ends the session, so it should
// be one nobody writes by chance.
const (
	MinPayload = 3
	MaxPayload = 64
)

// Effective returns p with every unset name replaced by its default.
func (p SessionPayloads) Effective() SessionPayloads {
	if p.Start == "" {
		p.Start = DefaultSessionStart
	}
	if p.End == "" {
		p.End = DefaultSessionEnd
	}
	if p.Expired == "" {
		p.Expired = DefaultSessionExpired
	}
	return p
}

// Check validates the names: MinPayload to MaxPayload letters, digits and
// "_.:-", and three different names once the defaults fill the unset.
func (p SessionPayloads) Check() error {
	for _, f := range []struct{ name, v string }{{"start", p.Start}, {"end", p.End}, {"expired", p.Expired}} {
		field := "session_payloads." + f.name
		if len(f.v) > MaxPayload || f.v != "" && len(f.v) < MinPayload {
			return FieldErrorf(field, "must be %d to %d characters (or left out for the default)", MinPayload, MaxPayload)
		}
		for _, r := range f.v {
			if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune("_.:-", r)) {
				return FieldErrorf(field, "may hold only letters, digits and _ . : -, not %q", r)
			}
		}
	}
	e := p.Effective()
	if e.Start == e.End || e.Start == e.Expired || e.End == e.Expired {
		return FieldErrorf("session_payloads", "start, end and expired must be three different names (defaults included)")
	}
	return nil
}

// Closing reports whether an agent's text holds the end payload as a word
// of its own (not inside a longer name or word), and returns the text
// without it.
func (p SessionPayloads) Closing(text string) (string, bool) {
	end := p.End
	if end == "" {
		return text, false
	}
	var b strings.Builder
	found := false
	for rest := text; ; {
		i := strings.Index(rest, end)
		if i < 0 {
			b.WriteString(rest)
			break
		}
		j := i + len(end)
		if nameByte(rest, i-1) || nameByte(rest, j) {
			b.WriteString(rest[:j]) // part of something longer: words, kept
		} else {
			b.WriteString(rest[:i])
			found = true
		}
		rest = rest[j:]
	}
	if !found {
		return text, false
	}
	return strings.TrimSpace(b.String()), true
}

// nameByte reports whether s[i] exists and is a letter, digit, _ or -, so
// that a name next to it is part of a longer word ("." and ":" end a
// sentence, not a word).
func nameByte(s string, i int) bool {
	if i < 0 || i >= len(s) {
		return false
	}
	c := s[i]
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// Ending is the payload that tells the bot a handoff ended for reason: End
// when a person ended it, Expired when it ended of inactivity, "" otherwise.
func (p SessionPayloads) Ending(reason EndReason) string {
	switch reason {
	case CustomerClosed, AgentClosed, BotClosed:
		return p.End
	case IdleExpired, SessionTimeout:
		return p.Expired
	}
	return ""
}

// PeriodKind is how a period rule repeats.
type PeriodKind string

// Period kinds.
const (
	Weekly PeriodKind = "weekly" // on the given days of every week
	Custom PeriodKind = "custom" // once, on the given date
)

// Period is one service-period rule. Start and End are local clock times "HH:MM"
// in the policy's zone; End may be "24:00"; an End earlier than Start means the
// window runs past midnight into the next day. A custom rule with Closed set
// closes its whole date (a holiday) whatever other rules say.
type Period struct {
	Kind   PeriodKind `json:"kind" yaml:"kind"`
	Days   []string   `json:"days,omitempty" yaml:"days,omitempty"` // weekly: "mon".."sun"
	Date   string     `json:"date,omitempty" yaml:"date,omitempty"` // custom: "2026-12-25"
	Start  string     `json:"start,omitempty" yaml:"start,omitempty"`
	End    string     `json:"end,omitempty" yaml:"end,omitempty"`
	Closed bool       `json:"closed,omitempty" yaml:"closed,omitempty"`
}

// Check validates the fields of p that need no calendar (package hours
// checks the zone and periods): durations are not negative nor longer than
// MaxTimeout, history rounds are 0 to MaxHistoryRounds, the trigger
// description and the out-of-hours reply are UTF-8 text without NUL, of at
// most MaxTriggerDescription and MaxOutOfHoursReply characters. The error
// names the field.
func (p Policy) Check() error {
	for _, d := range []struct {
		name string
		d    Duration
	}{{"wait_timeout", p.WaitTimeout}, {"wait_grace", p.WaitGrace}, {"session_timeout", p.SessionTimeout}, {"idle_expiry", p.IdleExpiry}} {
		switch {
		case d.d < 0:
			return FieldErrorf(d.name, "must not be negative")
		case time.Duration(d.d) > MaxTimeout:
			return FieldErrorf(d.name, "is longer than %s, the longest a policy may wait", MaxTimeout)
		}
	}
	if p.HistoryRounds < 0 || p.HistoryRounds > MaxHistoryRounds {
		return FieldErrorf("history_rounds", "must be between 0 and %d", MaxHistoryRounds)
	}
	for _, t := range []struct {
		name, text string
		max        int
	}{{"trigger_description", p.TriggerDescription, MaxTriggerDescription}, {"out_of_hours_reply", p.OutOfHoursReply, MaxOutOfHoursReply}} {
		if !utf8.ValidString(t.text) || strings.ContainsRune(t.text, 0) {
			return FieldErrorf(t.name, "is not valid UTF-8 or holds a NUL character")
		}
		if n := utf8.RuneCountInString(t.text); n > t.max {
			return FieldErrorf(t.name, "is %d characters; at most %d are allowed", n, t.max)
		}
	}
	if p.SessionPayloads != nil {
		return p.SessionPayloads.Check()
	}
	return nil
}

// Effective returns p with every zero field replaced by its default.
func (p Policy) Effective() Policy {
	if p.WaitTimeout <= 0 {
		p.WaitTimeout = Duration(DefaultWaitTimeout)
	}
	if p.WaitGrace <= 0 {
		p.WaitGrace = Duration(DefaultWaitGrace)
	}
	if p.SessionTimeout <= 0 {
		p.SessionTimeout = Duration(DefaultSessionTimeout)
	}
	if p.IdleExpiry <= 0 {
		p.IdleExpiry = Duration(DefaultIdleExpiry)
	}
	if p.HistoryRounds <= 0 {
		p.HistoryRounds = DefaultHistoryRounds
	}
	if p.TriggerDescription == "" {
		p.TriggerDescription = DefaultTriggerDescription
	}
	var names SessionPayloads
	if p.SessionPayloads != nil {
		names = *p.SessionPayloads
	}
	names = names.Effective()
	p.SessionPayloads = &names
	return p
}

// Duration is a time.Duration that reads and writes as a Go duration string ("90s")
// in JSON and YAML; a bare JSON number is read as seconds.
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// MarshalText writes d as "90s".
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText reads "90s", "1m30s" or a plain number of seconds.
func (d *Duration) UnmarshalText(b []byte) error {
	s := string(b)
	if v, err := time.ParseDuration(s); err == nil {
		*d = Duration(v)
		return nil
	}
	var secs int64
	for i, c := range s {
		if c < '0' || c > '9' || i > 9 {
			return Errorf(EINVALID, "%q is not a duration like \"60s\" or \"30m\"", s)
		}
		secs = secs*10 + int64(c-'0')
	}
	if s == "" {
		return Errorf(EINVALID, "empty duration")
	}
	if secs > int64(math.MaxInt64/time.Second) {
		return Errorf(EINVALID, "%q seconds is longer than the longest duration, %v", s, time.Duration(math.MaxInt64))
	}
	*d = Duration(time.Duration(secs) * time.Second)
	return nil
}

// UnmarshalJSON accepts a duration string or a number of seconds; null
// leaves d as it is (the default, for a policy field).
func (d *Duration) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	if len(b) > 1 && b[0] == '"' && b[len(b)-1] == '"' {
		return d.UnmarshalText(b[1 : len(b)-1])
	}
	return d.UnmarshalText(b)
}
