package baton

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// DeskKind names a desk adapter.
type DeskKind string

// Desk kinds.
const (
	KindInbox    DeskKind = "inbox"
	KindWebhook  DeskKind = "webhook"
	KindLiveChat DeskKind = "livechat"
	KindIntercom DeskKind = "intercom"
	KindGorgias  DeskKind = "gorgias"
)

// DeskStatus is the live service status of a desk.
type DeskStatus string

// Desk statuses.
const (
	NotConfigured DeskStatus = "not_configured"
	Available     DeskStatus = "available"
	Unavailable   DeskStatus = "unavailable"
)

// DeskConfig is a configured connection to a support system. Settings hold the
// kind's fields (URLs, credentials); stores encrypt them at rest.
type DeskConfig struct {
	ID          string
	WorkspaceID string
	Name        string
	Kind        DeskKind
	Settings    map[string]string
	Policy      *Policy
	Status      DeskStatus
	LastError   string
	CheckedAt   time.Time
	CreatedAt   time.Time
}

// Missing reports whether err, from building d's adapter, says a required
// setting is absent (rather than present and wrong). Such a desk may be
// stored, with its status not_configured, and completed later.
func (d DeskConfig) Missing(err error) bool {
	f, ok := strings.CutPrefix(ErrorField(err), "settings.")
	return ok && strings.TrimSpace(d.Settings[f]) == ""
}

// CheckSettings builds d's adapter with build to check its settings, and
// returns the first fault in a setting that is given. A required setting
// left out is no fault (the desk is stored not_configured and completed
// later), but it must not hide the others: it is filled with a stand-in
// and the build tried again, until the build passes or faults a setting
// that was given. A stand-in the kind refuses ends the check: what was
// given could not be checked past it.
func (d DeskConfig) CheckSettings(build func(DeskConfig) error) error {
	probe := d
	probe.Settings = make(map[string]string, len(d.Settings))
	for k, v := range d.Settings {
		probe.Settings[k] = v
	}
	stood := map[string]bool{}
	for range 32 {
		err := build(probe)
		if err == nil {
			return nil
		}
		f, ok := strings.CutPrefix(ErrorField(err), "settings.")
		switch {
		case ok && stood[f]:
			return nil // the stand-in is refused: nothing given is at fault so far
		case ok && strings.TrimSpace(probe.Settings[f]) == "":
			stood[f] = true
			probe.Settings[f] = standIn(f)
		default:
			return err
		}
	}
	return nil
}

// standIn is a value that passes as most settings called name: a URL for a
// URL, a long token otherwise.
func standIn(name string) string {
	if strings.Contains(name, "url") || strings.Contains(name, "uri") {
		return "https://baton.invalid/"
	}
	return "standin0123456789abcdefABCDEF"
}

// Capabilities say what a desk can carry. What a desk lacks degrades visibly:
// an attachment a desk cannot take is sent as a link in the text.
type Capabilities struct {
	Attachments   bool `json:"attachments"`
	Typing        bool `json:"typing"`
	AgentProfile  bool `json:"agent_profile"`
	Transfer      bool `json:"transfer"`
	EndByCustomer bool `json:"end_by_customer"`
	NeedsEmail    bool `json:"needs_email"`
}

// OpenRequest is what a desk gets to open a handoff.
type OpenRequest struct {
	HandoffID  string
	ExternalID string // the bot's conversation id
	Customer   Customer
	History    []Message // the last N rounds, oldest first
	Question   string    // the customer's latest question
	Routing    string    // a routing hint: a group, team or skill
	// Brief is what the agent should read first (a summary, the language,
	// what the bot tried, the customer's fields); each desk renders it its
	// own way, or with Brief.Text.
	Brief Brief
	// Progress is what an earlier attempt at this open saved with Save. A
	// desk that opens in several calls (a customer, then a chat) continues
	// from it, also after Baton crashed mid-open, instead of starting over
	// and leaving a stray chat in the desk.
	Progress string
	// Save records progress durably (sealed, like Handle.Data) before the
	// desk makes its next call. Nil means nothing is saved.
	Save func(progress string) error
}

// Handle is an open handoff as its desk knows it: the desk's reference (a chat
// or ticket id, which the desk's inbound events carry) and whatever state the
// desk asks Baton to keep for later calls (a customer session, say). Stores
// seal Data at rest.
type Handle struct {
	Ref  string
	Data string
}

// Desk is a connection to one configured support system. Calls are made by the
// delivery worker from durable jobs, so they may be repeated: a desk should make
// them idempotent using the ids it is given where its API allows.
type Desk interface {
	// Capabilities says what this desk carries.
	Capabilities() Capabilities
	// Check verifies the credentials and reachability.
	Check(ctx context.Context) error
	// Open opens the handoff in the desk and returns its handle there.
	Open(ctx context.Context, r OpenRequest) (Handle, error)
	// Send relays one customer message into the desk.
	Send(ctx context.Context, h Handle, m Message) error
	// Close ends the handoff in the desk.
	Close(ctx context.Context, h Handle, reason EndReason) error
	// Inbound verifies and parses a request the desk sent to Baton at
	// /v1/desks/{desk}/inbound/{path}. It must verify before parsing.
	// A request that is authentic but carries nothing (a probe) returns no events.
	Inbound(ctx context.Context, path string, h http.Header, body []byte) ([]DeskEvent, error)
}

// DeskEventType is what happened in the desk.
type DeskEventType string

// Desk event types.
const (
	DeskAgentJoined    DeskEventType = "agent_joined"
	DeskAgentMessage   DeskEventType = "agent_message"
	DeskAgentClosed    DeskEventType = "agent_closed"
	DeskCustomerClosed DeskEventType = "customer_closed"
	DeskTransferred    DeskEventType = "transferred"
	// DeskAgentRead: the agent has read the customer's messages up to At.
	DeskAgentRead DeskEventType = "agent_read"
	// DeskAgentPaused: the agent put the conversation aside until Until
	// (Intercom's snooze); DeskAgentResumed: it is back before then.
	DeskAgentPaused  DeskEventType = "agent_paused"
	DeskAgentResumed DeskEventType = "agent_resumed"
	// Seat desks only.
	DeskCustomerMessage DeskEventType = "customer_message" // a customer wrote in a chat the seat is in
	DeskSeatReturned    DeskEventType = "seat_returned"    // the chat came back to the seat: the bot answers again
)

// DeskEvent is one verified event from a desk. ID is the desk's own event id,
// used to drop duplicates; Ref finds the handoff.
type DeskEvent struct {
	ID          string
	Ref         string
	Type        DeskEventType
	Agent       Agent
	Customer    Customer // seat desks: who wrote
	Text        string
	Attachments []Attachment
	At          time.Time
	// Position is the desk's own figure for the handoff's place in its
	// queue (1 is next), when the event gives one (LiveChat's queue on a
	// chat it transferred and queued); 0 otherwise.
	Position int
	// Until is when a DeskAgentPaused pause ends.
	Until time.Time
}

// repeatKey marks a context as Repeat's.
type repeatKey struct{}

// Repeat returns ctx marked for a desk call that an earlier attempt may have
// made already: the attempt failed without an answer, or its instance died
// mid-call. A desk without its own deduplication looks before it writes
// again.
func Repeat(ctx context.Context) context.Context { return context.WithValue(ctx, repeatKey{}, true) }

// Repeated reports whether ctx is marked by Repeat.
func Repeated(ctx context.Context) bool { r, _ := ctx.Value(repeatKey{}).(bool); return r }

// DeskError classifies a failed desk call so the worker knows what to do next.
type DeskError struct {
	Busy       bool          // the desk declined the handoff (nobody to take it): do not retry
	Auth       bool          // credentials refused: the desk is unavailable until fixed
	Permanent  bool          // the request can never succeed: do not retry
	RetryAfter time.Duration // the desk asked to wait this long
	Err        error
}

// Error implements error.
func (e *DeskError) Error() string {
	switch {
	case e.Busy:
		return fmt.Sprintf("desk busy: %v", e.Err)
	case e.Auth:
		return fmt.Sprintf("desk refused credentials: %v", e.Err)
	case e.Permanent:
		return fmt.Sprintf("desk rejected request: %v", e.Err)
	}
	return fmt.Sprintf("desk call failed: %v", e.Err)
}

// Unwrap returns the cause.
func (e *DeskError) Unwrap() error { return e.Err }

// ErrForged is returned (wrapped) by Desk.Inbound when a request fails verification.
var ErrForged = &Error{Code: EUNAUTHORIZED, Message: "inbound request failed verification"}

// Ignored is returned (wrapped, or as is) by Desk.Inbound for an authentic
// request that Baton acknowledges and ignores: an event it cannot attribute
// (its chat is unknown to the desk's API, say), which no retry would change.
// The inbound answer is 200 and names Reason. Err is the cause, for the log.
type Ignored struct {
	Reason string // one of the Ignored… reasons
	Err    error
}

// Why an authentic inbound request was acknowledged and ignored.
const (
	IgnoredNoEvents     = "no_events"       // the desk found nothing for Baton in it (a probe, another chat, an echo)
	IgnoredDuplicate    = "duplicate"       // every event was applied before
	IgnoredUnknown      = "unknown_handoff" // no handoff of the desk has the event's reference
	IgnoredUnattributed = "unattributed"    // the desk cannot tell what the event is about (its chat is unknown to its API)
	IgnoredEnded        = "handoff_ended"   // the handoff has ended: a late agent message is kept, never relayed
)

// IgnoredReasons lists the reasons, for metrics that start at zero.
var IgnoredReasons = []string{IgnoredNoEvents, IgnoredDuplicate, IgnoredUnknown, IgnoredUnattributed, IgnoredEnded}

// Error implements error.
func (e *Ignored) Error() string {
	if e.Err == nil {
		return "ignored: " + e.Reason
	}
	return fmt.Sprintf("ignored: %s: %v", e.Reason, e.Err)
}

// Unwrap returns the cause.
func (e *Ignored) Unwrap() error { return e.Err }

// InboundQuery is the header under which Baton's inbound route hands
// Desk.Inbound the request's raw query string, since Inbound gets no URL: a
// desk that templates its callbacks into the query (Gorgias' HTTP
// integration) reads it there. The route sets it itself, replacing any the
// caller sent.
const InboundQuery = "Baton-Inbound-Query"

// InboundLimiter is an optional interface of a Desk whose inbound requests
// may be larger (or must be smaller) than the API's default of 1 MiB:
// InboundLimit is the largest body, in bytes, its inbound route reads.
type InboundLimiter interface {
	InboundLimit() int
}

// Opener is an optional interface of a Desk that saves its progress while
// it opens a handoff (OpenRequest.Save). While a handoff is opening, an
// inbound event for a reference Baton does not know waits (it is refused as
// unavailable and the desk delivers it again), since it may be the handoff's.
// OpeningRef narrows that: given the saved progress, it returns the
// reference the open has reached and known true; "" and true when the open
// cannot have created anything the desk reports on yet; known false when
// any reference may be the handoff's.
type Opener interface {
	OpeningRef(progress string) (ref string, known bool)
}

// Abandoner is an optional interface of an Opener whose open may leave
// something in the desk that Baton never learns of: a create that got no
// answer, for a handoff that ended before another attempt found it. When such
// a handoff ends, Abandon is given its saved progress (OpenRequest.HandoffID
// and Progress) to find what an earlier attempt made and close it; a
// DeskError with RetryAfter asks to look again later (what was asked for may
// still appear).
type Abandoner interface {
	Abandon(ctx context.Context, r OpenRequest) error
}

// Desks gives the adapter of a configured desk. The desk registry
// implements it: it builds each desk once and keeps it while the desk's
// Staffed is an optional interface of a Desk that can tell whether
// someone there takes a handoff now (LiveChat: the routing status of the
// relay's group). The availability read asks it, within StaffedTimeout.
type Staffed interface {
	Accepting(ctx context.Context) (bool, error)
}

// StaffedTimeout is how long the availability read waits for a desk's
// Accepting before it answers without it.
const StaffedTimeout = 2 * time.Second

// kind and settings stay the same.
type Desks interface {
	Desk(DeskConfig) (Desk, error)
}

// Observer receives measurements; the metrics package implements it.
// Every method may be called from several goroutines.
type Observer interface {
	Delivery(target string, ok bool)                             // one delivery attempt to "desk" or "bot"
	DeskCall(kind DeskKind, op string, d time.Duration, ok bool) // one call into a desk
	Waited(d time.Duration)                                      // a handoff went from queued to active after d
	Ended(reason EndReason)                                      // a handoff ended
}

// DesksFunc builds desk adapters with a plain function, building each anew:
// a baton.Desks for tests and tools.
type DesksFunc func(DeskConfig) (Desk, error)

// Desk implements Desks.
func (f DesksFunc) Desk(dc DeskConfig) (Desk, error) { return f(dc) }
