// Package outbox runs Baton's durable jobs: it claims due job rows under a
// short lease that it renews while they run, runs each with the handler of
// its kind (a desk call, a signed bot webhook, a timer), and records the
// outcome: finished, retried on the schedule (honouring Retry-After), or
// given up. Each attempt at posting an event to a bot is logged (the
// delivery log, baton.DeliveryAttempt) in the transaction that records its
// job's outcome. Desk calls keep each desk's service status current. What
// a job finds (a desk opened a handoff, a bot took an event, a timer is
// due) is recorded through the engine, which decides what it means.
package outbox
