package baton

import (
	"encoding/json"
	"time"
)

// Workspace is a tenant. Nothing crosses workspaces.
type Workspace struct {
	ID        string
	Name      string
	CreatedAt time.Time
	// DeletedAt is when the workspace was deleted (zero while it lives). A
	// deleted workspace keeps its rows, so that work already scheduled (the
	// close of a handoff its delete ended) still runs, but no key reaches it.
	DeletedAt time.Time
}

// KeyScope is what an API key may do.
type KeyScope string

// Key scopes.
const (
	ScopeFull KeyScope = "full" // every bot API call, the MCP server and the tools
	ScopeRead KeyScope = "read" // the bot API's reads only
	ScopeBot  KeyScope = "bot"  // every bot API call, but not the MCP server nor the tools
	ScopeMCP  KeyScope = "mcp"  // the MCP server and the tools only: the key an LLM agent's configuration holds
)

// MCP reports whether a key of scope s may use the MCP server and call
// the tools (POST /mcp, POST /v1/tools/{name}).
func (s KeyScope) MCP() bool { return s == ScopeFull || s == ScopeMCP }

// APIKey is a workspace's bearer token for the bot API, stored hashed
// (SHA-256, hex). Prefix, the first characters of the secret, lets people
// tell keys apart without the secret.
type APIKey struct {
	ID          string
	Hash        string
	WorkspaceID string
	Name        string
	Prefix      string
	Scope       KeyScope
	BotID       string // when set, the key reaches only this bot's conversations
	// Managed marks a key a configuration file declares: applying a file
	// that no longer lists it revokes it. Keys made through the admin API
	// are not managed.
	Managed    bool
	CreatedAt  time.Time
	LastUsedAt time.Time
}

// AdminKey is a deployment-wide bearer token for the admin API, stored
// hashed. It is a separate kind from API keys: neither works on the other's API.
type AdminKey struct {
	ID         string
	Hash       string
	Name       string
	Prefix     string
	Managed    bool // declared in a configuration file (see APIKey.Managed)
	CreatedAt  time.Time
	LastUsedAt time.Time
	// SessionGen is carried by the key's console sessions: signing out
	// moves it on (Tx.EndAdminSessions), ending them all. Puts keep it.
	SessionGen int64
}

// Bot is a client of Baton. Events go to WebhookURL signed with WebhookSecret
// (Standard Webhooks) and are also readable from the event stream.
type Bot struct {
	ID            string
	WorkspaceID   string
	Name          string
	WebhookURL    string
	WebhookSecret string
	// PreviousSecret, after a rotation, also signs deliveries until
	// PreviousUntil, so the bot can move to the new secret at its pace.
	PreviousSecret string
	PreviousUntil  time.Time
	DeskID         string // the desk handoffs go to unless the request names one
	Policy         *Policy
	CreatedAt      time.Time
}

// InboxAgent is a person answering handoffs in the built-in inbox, with their
// own key (stored hashed) and a password for the web inbox (stored as a
// password hash).
type InboxAgent struct {
	ID           string
	WorkspaceID  string
	DeskID       string
	Name         string
	Email        string
	KeyHash      string
	PasswordHash string
	Disabled     bool // a disabled agent's key and password are refused
	// SessionGen is carried by the agent's web sessions: moving it on
	// (signing out, disabling, a new password) ends every session made before.
	SessionGen int64
	Managed    bool // declared in a configuration file (see APIKey.Managed)
	CreatedAt  time.Time
	// SeenAt is when the agent last used the inbox, with its key or a web
	// session (recorded at most once a minute; zero if never).
	SeenAt time.Time
}

// OnlineWindow is how lately an inbox agent must have used the inbox to
// count as online: the web inbox is a page an agent keeps open, which
// fetches its lists every 30 seconds (and an agent's use is recorded at
// most once a minute), so an agent with the inbox open stays online and one
// who closed it is offline within this window.
const OnlineWindow = 5 * time.Minute

// Online reports whether a is an agent who can answer now: not disabled
// and seen within OnlineWindow before at.
func (a InboxAgent) Online(at time.Time) bool {
	return !a.Disabled && !a.SeenAt.IsZero() && at.Sub(a.SeenAt) <= OnlineWindow
}

// AuditEntry records one change to the configuration: who made it, when,
// and the object before and after (as the admin API shows it, secrets
// masked; null when it did not exist).
type AuditEntry struct {
	Seq         int64
	At          time.Time
	Actor       string // "admin:<key name>", "apply", "init"
	Action      string // create, update, delete, revoke, rotate, check
	Object      string // workspace, key, admin_key, bot, desk, agent, policy
	ObjectID    string
	WorkspaceID string
	Before      json.RawMessage
	After       json.RawMessage
}

// AuditPage asks for audit entries with Seq after After, at most Limit, of
// one workspace ("" = all).
type AuditPage struct {
	WorkspaceID string
	After       int64
	Limit       int
}

// OpenQuery asks for the open handoffs of a workspace, of one bot or one
// desk when set, at most Limit (0 = all).
type OpenQuery struct {
	WorkspaceID string
	BotID       string
	DeskID      string
	Limit       int
}

// Pin names the rows a new handoff depends on (see Tx.Pin).
type Pin struct {
	WorkspaceID string
	BotID       string
	DeskID      string
	AgentID     string // an inbox agent taking or answering a handoff, not disabled
}
