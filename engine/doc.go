// Package engine decides. Each use case (a bot asking for a human, a
// customer or agent message, a desk event, an inbox agent's claim, a timer
// falling due) is one write transaction: load the handoff and its
// conversation, apply an ownership transition of package baton, and save
// the result with the events and jobs it causes. The engine starts no
// goroutines and calls no desk: package outbox runs the jobs and asks the
// engine to record what they found. It talks to the store through
// baton.Store and to desks through baton.Desks; it never imports a concrete
// desk or store.
package engine
