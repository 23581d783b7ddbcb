package baton

import "time"

// Workspace is a tenant. Nothing crosses workspaces.
type Workspace struct {
	ID        string
	Name      string
	CreatedAt time.Time
}

// APIKey is a workspace's bearer token, stored hashed (SHA-256, hex).
type APIKey struct {
	Hash        string
	WorkspaceID string
	Name        string
	CreatedAt   time.Time
}

// Bot is a client of Baton. Events go to WebhookURL signed with WebhookSecret
// (Standard Webhooks) and are also readable from the event stream.
type Bot struct {
	ID            string
	WorkspaceID   string
	Name          string
	WebhookURL    string
	WebhookSecret string
	// PreviousSecret is the secret WebhookSecret replaced; deliveries are
	// signed with it too until PreviousUntil, so a bot verifying with the
	// old secret keeps working during a rotation.
	PreviousSecret string
	PreviousUntil  time.Time
	DeskID         string // the desk handoffs go to unless the request names one
	Policy         *Policy
	CreatedAt      time.Time
}

// InboxAgent is a person answering handoffs in the built-in inbox, with their
// own key (stored hashed).
type InboxAgent struct {
	ID          string
	WorkspaceID string
	DeskID      string
	Name        string
	Email       string
	KeyHash     string
	CreatedAt   time.Time
}
