// Package livechat connects Baton to LiveChat (text.com) through its Web API
// v3.6, in one of two modes (setting "mode"):
//
//   - relay (default, *Relay): the customer stays on the bot's channel;
//     Baton opens a LiveChat chat for the handoff, speaks in it as the
//     customer and relays the agents' replies back to the bot;
//   - seat (*Seat, also a baton.Seat): LiveChat is the bot's channel; the
//     bot answers chats as an agent seat (agent_email) and hands chats to
//     human groups.
//
// No LiveChat SDK is usable here (the Go proxy refuses lc-sdk-go), so the
// package has its own small client (Client): one POST helper per API, typed
// request and response structs with the documented JSON names, and errors
// read from {"error":{"type","message"}} (or the Accounts API's
// {"oauth_exception","exception_description"}) into an *APIError, always
// wrapped in a *baton.DeskError (see Classify). The personal access token
// (PAT) is sent as HTTP Basic account_id:token, never Bearer, on the Agent
// Chat and Configuration APIs; customer calls carry the customer's Bearer
// token and ?organization_id=. A misdirected_request naming a region is
// retried once with X-Region.
//
// # Settings
//
// Named as in the LiveChat Developer Console; see Fields. Every mode needs
// client_id, account_id, token (the PAT; its console Base64 form works too)
// and secret_key (the chat webhooks' Secret key, at least 16 characters).
// Create the PAT with the scopes the calls need (the console's "select
// all" covers them): chats--all:rw, customers:ro, agents--all:ro,
// groups--all:ro, webhooks.configuration:rw and webhooks.state:rw.
// Relay also needs organization_id (or license_id, looked up once with
// GET /v3.4/configuration/action/get_organization_id) and redirect_uri (one
// of the app's Redirect URIs, which the customer cookie grant names), and
// reads group_id (default 0) and groups ("sales=1,billing=2": a handoff's
// routing hint picks a group; a hint that is a number is a group id). Seat
// needs agent_email. api_url and accounts_url point the desk at
// `baton sim livechat`.
//
// # Relay: opening a handoff
//
// LiveChat has no "import a transcript" call, and Baton must show the agent
// the history as a conversation, each turn its own message by its own
// author, not one blob. Open therefore:
//
//  1. creates a customer with the Accounts API cookie grant (client_id,
//     organization_id, redirect_uri) and keeps its __lc_cid/__lc_cst cookies
//     and customer id in Handle.Data (a Session, JSON), so a later call, even
//     in another process, can renew the customer's 8 h token by repeating
//     the grant with the cookies (the agent_token grant would need an agent
//     OAuth token; LiveChat refuses PATs there);
//  2. names the customer (customer update_customer: name, email, and Baton's
//     customer, conversation and handoff ids as session fields);
//  3. starts the chat as the PAT's agent (agent start_chat) with users = the
//     customer, access.group_ids = the routed group, and thread.events = the
//     history turns (the customer's with author_id = the customer; the bot's
//     left to the requester, the PAT's account; agents may author initial
//     events of the users they list) and the latest question by the
//     customer;
//  4. transfers the chat to that group (transfer_chat with
//     ignore_agents_availability and ignore_requester_presence), which
//     assigns an available agent or queues the chat there; the transfer
//     takes the previous agents out of the chat, and if the PAT's account is
//     still present, Open removes it (remove_user_from_chat).
//
// A customer start_chat (the other documented way) cannot carry the bot's
// turns: every initial event would be the customer's. Botpress' sequence
// (start_chat, then add the customer) also writes the history as one blob.
// If a step after start_chat fails, the progress is kept in memory and the
// engine's retry resumes there instead of opening a second chat; this only
// holds while the same *Relay is reused (Factory), so a restart between a
// failed transfer and its retry can leave one stray chat.
//
// Send posts each customer message as the customer (customer send_event,
// custom_id "baton:<message id>"). Files are fetched (at most 10 MB),
// uploaded with upload_file and sent as file events after the text; one
// that is too large, unreachable or refused becomes a visible line
// "File: <name> <url> (<why>)" in the text. When the token has expired or
// LiveChat answers authentication, the cookie grant renews it and the call
// is made again, once: nothing is lost. Close deactivates the chat as the
// PAT's agent (ignore_requester_presence), or as the customer when the
// customer ended the handoff; a chat already inactive counts as closed.
//
// # Seat mode
//
// The conversation is the chat: Open returns the chat id
// (OpenRequest.ConversationID) without a call, Send posts nothing (the human
// reads the customer in LiveChat), Close deactivates the chat unless the
// handoff ended as transferred. Reply posts the bot's message as the seat
// (agent send_event with the seat's PAT; files via upload_file). Groups
// lists the groups with their routing_status (available = accepting_chats:
// keep the seat out of the human groups, or its own status makes them look
// available and routing may hand chats back to it). Transfer moves the chat
// to a group (ignore_agents_availability: queued when nobody is there),
// then takes the seat out if it is still in. Check verifies that the PAT's
// account is agent_email's.
//
// # Inbound webhooks
//
// LiveChat posts every webhook as {"webhook_id", "secret_key", "action",
// "organization_id", "payload", "additional_data"}; RegisterWebhooks sets
// them up (incoming_chat, incoming_event, chat_transferred,
// chat_deactivated; type license; additional_data chat_presence_user_ids).
// Any path under the desk's inbound URL is accepted. Inbound first checks
// that the body is a JSON object whose secret_key equals the setting
// (constant time, on SHA-256 digests); anything else wraps baton.ErrForged.
// Only then is the envelope read: the legacy envelope (license_id instead of
// organization_id, API v3.3 and older) and another organization's are
// refused with a precise error (EBADREQUEST, EINVALID); actions Baton does
// not read are acknowledged with no events, so LiveChat does not retry
// them. Events are mapped so:
//
//	                      relay                                    seat
//	incoming_event        an agent's (not the PAT's account's)     the seat's own: dropped; another agent's:
//	                      message or file, visibility all:         DeskAgentMessage; the customer's, when the
//	                      DeskAgentMessage; the customer's:        seat is in the chat: DeskCustomerMessage
//	                      dropped (Baton's own send echoing)
//	incoming_chat         ignored (the chat Baton started)         as incoming_event, for each initial event,
//	                                                               when the seat is among the users
//	chat_transferred      DeskTransferred (to the first agent      DeskSeatReturned when transferred_to names
//	                      named, if any)                           the seat, then the customer's messages
//	                                                               since an agent last wrote (get_chat), else
//	                                                               DeskTransferred
//	chat_deactivated      DeskAgentClosed (DeskCustomerClosed when user_id is a customer)
//	user_added_to_chat    DeskAgentJoined for an agent other than Baton's
//
// A chat_transferred that queued the chat carries LiveChat's place for it
// (payload.queue.position, in the group's queue, which holds chats Baton
// did not start too): it becomes the DeskTransferred event's Position, the
// handoff's position from then on, until another transfer reports a new
// one. LiveChat reports later moves of its queue only as RTM pushes
// (Agent Chat API queue_positions_updated, Customer Chat API
// queue_position_updated), which no webhook carries and Baton, on the Web
// API, does not receive; the wait_time beside the position (LiveChat's own
// approximation) is not read: Baton estimates every desk's wait the same
// way, from the waits it saw there.
//
// Echoes are dropped by author id (the PAT's agent, or the seat), never by
// author type: a bot is an agent too. Whether an author is an agent, and
// its name, comes from get_agent (cached); an id LiveChat does not know as
// an agent is a customer. The seat's presence comes from
// chat_presence_user_ids, or get_chat when the webhook lacks it. Agent
// messages, transfers and closes are reported for every chat of the license
// (webhooks are license-wide and the desk keeps no chat list); the engine
// ignores chats it does not hold.
//
// Event ids, for deduplication: "event:<chat>/<event id>" for events
// (incoming_event and the events of incoming_chat), and
// "<action>:<chat>:<thread>:..." (plus the agents and groups of a transfer,
// or the user added) for the others, so a repeated delivery has the same id.
//
// # Errors
//
// authentication and authorization are Auth errors (for a customer token:
// renewed first); too_many_requests, service_unavailable, internal,
// request_timeout, other 5xx and network errors are retryable, after
// Retry-After when LiveChat sends one, else on the engine's schedule;
// transfer_chat's validation "Cannot assign any agent from requested groups"
// is answered by asking again with ignore_agents_availability;
// chat_inactive, not_found and other refusals are Permanent.
//
// Desks keep caches (customer tokens renewed, agent names, the PAT's agent
// id, an interrupted Open's progress). Build them through a Factory so one
// desk serves every call.
package livechat
