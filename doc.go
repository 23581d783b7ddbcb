// Package baton holds the domain of the Baton human-handoff gateway: workspaces,
// bots, conversations, handoffs, messages, desks and policies, the errors they
// raise, and the interfaces (Store, Desk) that the adapter packages implement.
//
// It imports nothing else of Baton's. The engine package decides; the sqlite and
// postgres packages persist; desk packages (webhookdesk, inbox, ...) and the HTTP
// API adapt the outside world to these types.
package baton
