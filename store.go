package baton

import (
	"context"
	"time"
)

// Store persists everything. All reads and writes go through a transaction so
// that a change and the work it schedules (jobs) commit together.
type Store interface {
	// Tx runs fn in a read-write transaction and commits if fn returns nil.
	Tx(ctx context.Context, fn func(Tx) error) error
	// View runs fn in a read-only transaction: a consistent snapshot that
	// takes no locks and, where the database allows, does not wait for the
	// writer. Writes in fn fail.
	View(ctx context.Context, fn func(Tx) error) error
	// Close releases the store.
	Close() error
}

// Tx is one store transaction. Lookups return an ENOTFOUND *Error when
// nothing matches. Lookups that take a workspace never return another
// workspace's rows; those by a global id (ConversationByID, Message, Event,
// HandoffMessages, DeskByID) do, and their callers check the workspace.
// In a read-write transaction, a conversation or handoff read is locked
// until the transaction ends (SELECT … FOR UPDATE on PostgreSQL; SQLite has
// one writer): the engine's "read, check, write" relies on it.
type Tx interface {
	// CreateWorkspace adds a workspace; its id must be new (a deleted
	// workspace's id stays taken: ECONFLICT).
	CreateWorkspace(w Workspace) error
	// Workspace reads a workspace that is not deleted.
	Workspace(id string) (Workspace, error)
	// Workspaces lists the workspaces that are not deleted, oldest first.
	Workspaces() ([]Workspace, error)
	// RenameWorkspace changes a workspace's name.
	RenameWorkspace(id, name string) error
	// DeleteWorkspace marks a workspace deleted at at and revokes its API
	// keys and its inbox agents' keys.
	DeleteWorkspace(id string, at time.Time) error
	// PutAPIKey adds an API key or replaces the one with its hash (keeping
	// its LastUsedAt).
	PutAPIKey(k APIKey) error
	// APIKey finds the key with this hash, of a workspace that is not deleted.
	APIKey(hash string) (APIKey, error)
	// APIKeys lists a workspace's API keys, oldest first.
	APIKeys(workspaceID string) ([]APIKey, error)
	// DeleteAPIKey revokes one API key of a workspace by its id.
	DeleteAPIKey(workspaceID, id string) error
	// TouchAPIKey records that the key with this hash was used at at.
	TouchAPIKey(hash string, at time.Time) error

	// PutAdminKey adds an admin key or replaces the one with its hash.
	PutAdminKey(k AdminKey) error
	// AdminKey finds the admin key with this hash.
	AdminKey(hash string) (AdminKey, error)
	// AdminKeys lists the admin keys, oldest first.
	AdminKeys() ([]AdminKey, error)
	// DeleteAdminKey revokes an admin key by its id.
	DeleteAdminKey(id string) error
	// TouchAdminKey records that the admin key with this hash was used at at.
	TouchAdminKey(hash string, at time.Time) error
	// EndAdminSessions moves an admin key's SessionGen on, by its id.
	EndAdminSessions(id string) error

	// AddAudit appends an audit entry, setting a.Seq.
	AddAudit(a *AuditEntry) error
	// Audit lists a page of audit entries, in order.
	Audit(p AuditPage) ([]AuditEntry, error)

	// PutBot inserts or replaces a bot by ID.
	PutBot(b Bot) error
	// Bot reads a bot of the workspace.
	Bot(workspaceID, id string) (Bot, error)
	// Bots lists the workspace's bots.
	Bots(workspaceID string) ([]Bot, error)
	// DeleteBot removes a bot of the workspace.
	DeleteBot(workspaceID, id string) error

	// PutDesk inserts or replaces a desk by ID.
	PutDesk(d DeskConfig) error
	// Desk reads a desk of the workspace.
	Desk(workspaceID, id string) (DeskConfig, error)
	// DeskByID reads a desk of any workspace that is not deleted, for
	// inbound desk requests, which carry no workspace.
	DeskByID(id string) (DeskConfig, error)
	// Desks lists the workspace's desks.
	Desks(workspaceID string) ([]DeskConfig, error)
	// DeleteDesk removes a desk of the workspace.
	DeleteDesk(workspaceID, id string) error
	// SetDeskStatus records a desk's service status.
	SetDeskStatus(s DeskState) error
	// DeskStatuses returns every desk's status by desk id, for metrics.
	DeskStatuses() (map[string]DeskStatus, error)
	// AddDeskFailure records a failed call to a desk in its history.
	// SetDeskStatus records there each change of status. Both prune the
	// desk's history older than DeskHistoryKept, but for the status it had
	// then (its latest change before then).
	AddDeskFailure(f DeskFailure) error
	// DeskFailures counts the failed calls to the workspace's desks in each
	// bucket of q, by desk; a bucket without any is left out.
	DeskFailures(q StatsQuery) ([]DeskCount, error)
	// DeskChanges lists the status changes of the workspace's desks in q's
	// range, each desk's preceded by its latest change before the range
	// (its status at the start), by desk id, then in order.
	DeskChanges(q StatsQuery) ([]DeskChange, error)

	// PutInboxAgent inserts or replaces an inbox agent by ID.
	PutInboxAgent(a InboxAgent) error
	// InboxAgentByKey finds the inbox agent whose key has this hash.
	InboxAgentByKey(hash string) (InboxAgent, error)
	// InboxAgent reads an inbox agent of the workspace.
	InboxAgent(workspaceID, id string) (InboxAgent, error)
	// InboxAgents lists the workspace's inbox agents, oldest first.
	InboxAgents(workspaceID string) ([]InboxAgent, error)
	// TouchInboxAgent records that an inbox agent of the workspace used
	// the inbox at at (InboxAgent.SeenAt); PutInboxAgent keeps it.
	TouchInboxAgent(workspaceID, id string, at time.Time) error
	// DeleteInboxAgent removes an inbox agent of the workspace.
	DeleteInboxAgent(workspaceID, id string) error
	// InboxAgentsByEmail lists the inbox agents, of every workspace that
	// is not deleted, whose email is email (ASCII letters compared without
	// case), oldest first: the web inbox signs agents in by email, and an
	// email is unique only within a workspace.
	InboxAgentsByEmail(email string) ([]InboxAgent, error)

	// AddFile stores a new file (its Size is len(Data)); its id must be
	// new (ECONFLICT).
	AddFile(f File) error
	// File reads a file of a workspace that is not deleted.
	File(workspaceID, id string) (File, error)
	// DeleteFiles removes a workspace's files made before before.
	DeleteFiles(workspaceID string, before time.Time) error

	// PutConversation inserts or replaces a conversation by ID.
	PutConversation(c Conversation) error
	// Conversation finds a conversation by the bot's id for it.
	Conversation(k ConversationKey) (Conversation, error)
	// ConversationByID reads a conversation by Baton's id for it.
	ConversationByID(id string) (Conversation, error)

	// PutHandoff inserts or replaces a handoff by ID.
	PutHandoff(h Handoff) error
	// Handoff reads a handoff of the workspace.
	Handoff(workspaceID, id string) (Handoff, error)
	// HandoffByRef finds the handoff a desk knows by its reference, the
	// newest if the desk reused it.
	HandoffByRef(deskID, ref string) (Handoff, error)
	// Handoffs lists a conversation's handoffs, newest first.
	Handoffs(conversationID string) ([]Handoff, error)
	// HandoffsInState lists a desk's handoffs in a state, oldest first.
	HandoffsInState(deskID string, s State, limit int) ([]Handoff, error)
	// Pin holds the workspace, bot and desk a new handoff is made for until
	// the transaction ends, so that a delete of any of them running at the
	// same time waits for this one and then finds its handoff (PostgreSQL:
	// FOR SHARE; SQLite has one writer). ENOTFOUND when one is gone.
	Pin(p Pin) error
	// QueuedHandoffs lists a desk's queue: its handoffs in state queued that
	// no agent has taken (TakenAt zero), in queue order (QueuedAt, then ID;
	// see QueueBefore), at most limit (0 = all).
	QueuedHandoffs(deskID string, limit int) ([]Handoff, error)
	// QueuePosition is 1 + how many of the queue of h's desk come before h
	// in queue order, whether or not h is in it: h's rank there.
	QueuePosition(h Handoff) (int, error)
	// RecentWaits lists how long the desk's handoffs that an agent took at
	// or after since had waited, from QueuedAt to TakenAt, the latest taken
	// first, at most limit.
	RecentWaits(deskID string, since time.Time, limit int) ([]time.Duration, error)
	// LockQueue holds a desk's queue until the transaction ends: a
	// transaction that changes who is in the queue takes it before it reads
	// the queue, so that two changes at one desk see each other, one after
	// the other (PostgreSQL: an advisory lock; SQLite has one writer).
	LockQueue(deskID string) error
	// OpenHandoffs lists the open handoffs (not ended) a query asks for,
	// oldest first.
	OpenHandoffs(q OpenQuery) ([]Handoff, error)
	// CountHandoffs counts handoffs by state and end reason ("" when not ended), for metrics.
	CountHandoffs() (map[[2]string]int64, error)
	// HandoffCounts counts the workspace's handoffs created in q's range by
	// bucket and outcome; a combination without any is left out.
	HandoffCounts(q StatsQuery) ([]HandoffCount, error)
	// ReplyTimes is the distribution of the first agent reply times of the
	// workspace's handoffs created in q's range, with one percentile per
	// fraction (0 < f ≤ 1) asked for.
	ReplyTimes(q StatsQuery, fractions ...float64) (ReplyTimes, error)

	// AddMessage appends m, setting m.Seq to the next number in its conversation.
	AddMessage(m *Message) error
	// Messages lists a conversation's messages with Seq > after, in order, at most limit (0 = all).
	Messages(conversationID string, after int64, limit int) ([]Message, error)
	// LastMessages lists a conversation's last n messages, in order.
	LastMessages(conversationID string, n int) ([]Message, error)
	// HandoffMessages lists one handoff's messages, in order.
	HandoffMessages(handoffID string) ([]Message, error)
	// Message reads a message by its id.
	Message(id string) (Message, error)

	// AddEvent appends e, setting e.Seq to the next number in its workspace.
	AddEvent(e *Event) error
	// Events lists a page of a bot's events, in order.
	Events(p EventPage) ([]Event, error)
	// Event reads an event by its id.
	Event(id string) (Event, error)

	// PutJob inserts j; when j.Key is set and a job with that key exists, it
	// replaces its RunAt and Payload instead (timers are rescheduled this way).
	PutJob(j Job) error
	// ClaimJobs leases up to limit due jobs until now+lease and returns them.
	// Within one Lane only the oldest job is ever due, so a lane runs in order.
	ClaimJobs(now time.Time, limit int, lease time.Duration) ([]Job, error)
	// FollowJobs leases, behind each of heads (jobs this transaction or an
	// earlier one of the caller's claimed), up to limit of the jobs queued
	// next in its lane, in lane order, as long as they are of the head's
	// kind, due at now and not held by anyone, until now+lease; a lease
	// that ran out counts as an attempt, as in ClaimJobs. The caller runs
	// them after their head, one after another, and releases with RetryJob
	// the ones it does not run: so a lane still runs in order.
	FollowJobs(heads []Job, now time.Time, limit int, lease time.Duration) ([]Job, error)
	// RenewJobs extends the leases of claimed jobs to until: the heartbeat of
	// the worker running them. Released or finished jobs are left alone.
	RenewJobs(ids []int64, until time.Time) error
	// FinishJob deletes jobs that are done.
	FinishJob(ids ...int64) error
	// RetryJob releases a claimed job to run again.
	RetryJob(r JobRetry) error
	// DeleteJobByKey removes a keyed job (a cancelled timer); absent is not an error.
	DeleteJobByKey(key string) error
	// NextJobAt is the earliest RunAt of any job, false if there are none.
	NextJobAt() (time.Time, bool, error)
	// JobCount counts pending jobs by kind, for metrics and tests.
	JobCount() (map[string]int64, error)

	// SeenDeskEvent records a desk event id and reports whether it was already recorded.
	SeenDeskEvent(deskID, eventID string, at time.Time) (bool, error)

	// Idempotency looks up a stored idempotency record.
	Idempotency(workspaceID, key string) (Idempotency, error)
	// ClaimIdempotency records r unless its key is recorded already, and
	// returns the record that holds the key and whether it is r. A claim of
	// a key that another open transaction has claimed waits for that
	// transaction to end, so concurrent requests with one key never both run.
	ClaimIdempotency(r Idempotency) (Idempotency, bool, error)
	// PutIdempotency inserts r or replaces the record of its key.
	PutIdempotency(r Idempotency) error

	// AddAttempt records an attempt to post an event to its bot's webhook
	// in the delivery log, which keeps the event's last AttemptsKept; the
	// event must exist (ENOTFOUND otherwise).
	AddAttempt(a DeliveryAttempt) error
	// Deliveries lists a page of a bot's events, in order, each with its
	// attempts and its status: pending while a job with its EventID exists.
	Deliveries(p DeliveryPage) ([]Delivery, error)
}

// Idempotency remembers the outcome of a POST made with an Idempotency-Key.
type Idempotency struct {
	WorkspaceID string
	Key         string
	Request     string // a hash of method, path and body
	Result      string // the id of what the request created or changed
	Status      int
	CreatedAt   time.Time
}

// DeskState is a desk's service status as its last call or check found it.
type DeskState struct {
	DeskID    string
	Status    DeskStatus
	LastError string
	CheckedAt time.Time
}

// ConversationKey finds a conversation by the bot's own id for it.
type ConversationKey struct {
	WorkspaceID string
	BotID       string
	ExternalID  string
}

// EventPage asks for one bot's events with Seq after After, at most Limit
// (0 = all).
type EventPage struct {
	WorkspaceID string
	BotID       string
	After       int64
	Limit       int
}

// JobRetry releases a claimed job to run again at RunAt, having been tried
// Attempts times, the last failing with LastError.
type JobRetry struct {
	ID        int64
	RunAt     time.Time
	Attempts  int
	LastError string
}
