// Package gorgias is the Gorgias desk: Baton hands a conversation into a
// Gorgias helpdesk as a ticket on the api channel, and takes the agent's
// replies back through a Gorgias HTTP integration.
//
// Outbound, Baton calls the REST API (https://{domain}.gorgias.com/api) with
// HTTP Basic email:api_key, within the account's leaky bucket of 40
// requests per 20 seconds (a limiter per desk; a 429's Retry-after is
// honoured as baton.DeskError.RetryAfter). Open finds or creates the
// customer (by external_id = Baton's customer id, then email), looks for a
// ticket whose external_id is the handoff id, and creates one whose first
// message carries the history and the question, one line per turn. Send
// posts an incoming customer message; Close sets the ticket closed.
//
// Inbound, Gorgias' HTTP integration calls Baton at
// /v1/desks/{desk}/inbound/gorgias. It has no signature: the integration
// carries the desk's integration_token in its URL (token=) or in an
// X-Baton-Token header, compared in constant time. The call may carry its
// fields in the query string (CSML Studio's template: external_id,
// ticket_id, event_type, event_id, message_id, text, from_agent), as a JSON
// body of the same keys, or as the whole {{context}}. The integration fires
// for every message, Baton's own customer messages too: only public agent
// messages are relayed, the rest is acknowledged and ignored.
package gorgias
