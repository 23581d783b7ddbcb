// Package engine decides. It owns the ownership model (one owner per
// conversation, fenced by an epoch), the handoff state machine, the policies,
// and the worker that runs durable jobs: deliveries to desks and bots, and
// timers. It talks to the store through baton.Store and to desks through
// baton.Desk; it never imports a concrete desk or store.
package engine
