// Package proof is Baton's fault suite: it builds the real baton binary,
// runs it over loopback HTTP on SQLite and on PostgreSQL, plays everyone
// around it, breaks things, and checks from what every receiver recorded
// that Baton kept its promises. The package has no code of its own; it is
// its tests.
//
// # Who the suite plays
//
// The deployment is testdata/proof.yaml: workspace "proof" with a webhook
// desk of long timers ("company"), a webhook desk of short timers
// ("timers": wait 1 s, grace 1 s, session 2 s, idle 8 s), a webhook desk
// that is always out of hours ("closed": open only on a day long past),
// the built-in inbox and a LiveChat relay desk, one bot per desk; and
// workspace "other", a second tenant with its own webhook desk, inbox and
// inbox agent. Around the binary the suite runs:
//
//   - the bots: one HTTP receiver verifying every Standard Webhooks
//     signature (package stdwebhook), recording every delivery's webhook-id,
//     event id, type, handoff, conversation, seq and arrival time;
//   - the company's services: a webhook-desk receiver that checks HTTP
//     Basic auth, records establish, chat and close calls, can answer
//     503/429 with Retry-After, hang, refuse an establish (a customer id
//     "busy-…" gets 409: desk_unavailable), and answers as agents through
//     Baton's inbound API. Agent messages are numbered per conversation
//     ("1", "2", …), as a desk with per-chat sequences does, and inbound
//     deliveries are retried on transport errors, 503 and 429;
//   - the inbox agents Ana and Bob (and Zed of workspace other), claiming,
//     replying and ending through /v1/inbox;
//   - LiveChat: the simulator (package livechatsim) in process, Marie as
//     its human agent, its chat webhooks registered with `baton livechat
//     webhooks` and sent through a round-robin balancer to the instances;
//   - the customers, writing through the bot API.
//
// The driver's API clients go round robin over the instances themselves. A
// request whose answer never came (the instance was killed) is sent again,
// with the same Idempotency-Key, to the next instance that is up.
//
// # Invariants
//
// The checks (check_test.go) run at the end of every scenario on what the
// receivers recorded and what the driver was acknowledged:
//
//   - delivered: every customer message answered 201 reaches its desk (the
//     company's /chat, LiveChat's chat, the inbox transcript); every agent
//     message acknowledged (inbound 200, inbox 201, LiveChat webhook
//     answered 200) reaches the bot as handoff.agent_message;
//   - ordered: first arrivals keep the order of acknowledgement, per
//     handoff, and the bot's events of a conversation arrive in seq order;
//   - repeats only with the same id: a desk never gets one text under two
//     message ids nor one id with two texts; a webhook-id always carries
//     the same event, an event id one webhook-id, and one agent message
//     never becomes two events;
//   - the right end: every handoff ends once, with the reason that matches
//     what the driver did (agent close → agent_closed, bot end for the
//     customer → customer_closed, bot end → bot_closed, nobody answering →
//     wait_timeout, agent silent → session_timeout, both silent →
//     idle_expired, closed periods → out_of_hours, desk refusing →
//     desk_unavailable), and GET /v1/handoffs/{id} agrees;
//   - timers: at most one handoff.wait_timeout per wait, at most one
//     handoff.ended per handoff, none fired before its due time nor later
//     than the scenario's bound (3 s; with kills, the longest restart
//     plus the job lease bound plus 3 s);
//   - not blocked: no acknowledged message waits longer than the bound for
//     its delivery (5 s; with kills, the same bound as timers); nothing is
//     relayed to the bot after handoff.ended.
//
// A violation fails the test with one line naming what was lost, doubled or
// reordered: the handoff, conversation, desk, message id and text, when it
// was acknowledged and what the receiver got instead. A lost agent message
// whose message_id had already been used on the same desk by another
// handoff says so.
//
// # Scenarios
//
// Every scenario runs on "sqlite" and on "postgres" (pgtest.Migrated, a
// copy of the migrated template database: with BATON_TEST_POSTGRES_URL set,
// as in CI, an unreachable server fails the test; BATON_SECRET_KEY is
// generated).
//
//   - TestSoak: conversations of every kind in drive_test.go, concurrently,
//     three rounds of messages both ways each, every ending there is, over
//     the webhook desks, the inbox and LiveChat.
//   - TestCrash: the soak with SIGKILL at random moments (at least three
//     kills), each killed instance restarted on the same database; one
//     instance on SQLite, two on PostgreSQL (three in long mode) behind the
//     driver's round robin, one killed at a time. On the short-timer desk a
//     timer delayed by a kill may legitimately end a handoff before a
//     message reaches its receiver, and which timer wins depends on the
//     delay: there such a message must arrive in order under one id or not
//     at all, and the end must be a timer reason consistent with whether
//     the agent had answered.
//   - TestRaces: an agent answering at the open, in three timings (inside
//     the establish handler before it answers, concurrently with the
//     answer, right after it); identical requests with one Idempotency-Key
//     sent to two instances at the same moment (create handoff and customer
//     message: one object, the other answer a replay with the same id, and
//     the same key with another body refused); Ana and Bob claiming one
//     inbox handoff at once (exactly one wins, the loser cannot reply); the
//     bot ending for the customer while the agent replies (one end,
//     customer_closed; the reply reaches the bot before handoff.ended or
//     never, and an inbox reply answered 201 must reach it).
//   - TestOutages: the company's service answering /chat 503, then 429,
//     with Retry-After: 1 (visible while it lasts as GET /v1/availability
//     status unavailable with last_error, and in baton_deliveries_total
//     {result="error",target="desk"}; available again afterwards); the
//     bot's endpoint answering 503 with Retry-After (visible in
//     baton_deliveries_total{result="error",target="bot"}); a desk that
//     holds requests without answering while a LiveChat conversation must
//     still flow. Afterwards everything arrives in order, and no retry
//     comes earlier than the Retry-After before it.
//   - TestHostile: forged inbound calls on the webhook desk (wrong, missing
//     or the other workspace's secret, an unknown desk id: 401, no effect)
//     and LiveChat webhooks with a wrong or missing secret_key (401); a
//     valid inbound message, close and LiveChat webhook delivered again (no
//     effect); 12 MB bodies, nesting 100000 deep, invalid UTF-8 and NUL in
//     fields (a 4xx or accepted intact, never a 5xx; oversized and deep
//     refused); a body that stalls after its first byte (the server must
//     give up within 15 s); and every bot and inbox route with the ids of
//     the other workspace (404, and nothing changed, both ways).
//
// # Commands
//
// Short mode, the default (all scenarios, both stores, a couple of dozen
// conversations per soak; the scenarios run in parallel, and the two stores
// of each at once, about 25 s in all):
//
//	BATON_TEST_POSTGRES_URL='postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable' \
//	    go test -short ./proof/
//
// One scenario on one store while developing:
//
//	go test -short -run 'TestSoak/sqlite' ./proof/ -v
//
// BATON_PROOF_KINDS, a regular expression over the kind names of
// drive_test.go, restricts the soak and the crash to some kinds.
//
// Long mode: BATON_PROOF_LONG (a Go duration) runs the soak and the crash
// in waves for that long per store, one scenario and one store at a time;
// the results are logged as markdown (-v) and appended to
// BATON_PROOF_RESULTS when set, ready for RESULTS.md:
//
//	BATON_PROOF_LONG=15m BATON_PROOF_RESULTS=proof/RESULTS.md \
//	    go test -run 'TestSoak|TestCrash' -timeout 60m -v ./proof/
//
// # Job leases
//
// Every instance is started with BATON_JOB_LEASE=3s. When the binary's
// usage names that variable, a killed instance's jobs must be taken over
// within it; when it does not (the engine's lease is then 60 s), the suite
// tolerates 60 s, says so in the crash scenario's log, and its crash runs
// on PostgreSQL take that much longer.
package proof
