// Package livechatsim simulates LiveChat (Text platform) Web API v3.6 over
// real HTTP, built from the published docs (shared/reference/livechat.md):
// the Agent, Customer and Configuration APIs Baton uses, the accounts
// endpoints that issue tokens, routing with queues, and webhook delivery
// with retries, plus fault injection and /sim/ driver endpoints that let a
// test act as a human agent or as a customer in the chat widget.
//
// # Quick start
//
//	sim := livechatsim.New(livechatsim.Config{})
//	defer sim.Close()
//	sim.AddGroup(1, "Support")
//	app := sim.AddApp(livechatsim.App{RedirectURI: "https://baton.example/cb"})
//	a, _ := sim.AddAgent(livechatsim.Agent{ID: "smith@example.com", Groups: map[int]string{1: "first"}})
//	srv := httptest.NewServer(sim.Handler())
//	// a.Basic() is "Basic base64(account_id:pat)"; POST srv.URL+"/v3.6/agent/action/start_chat" …
//	chatID, _ := sim.CustomerStartChat(1, "I need help") // routed to smith
//	sim.AgentSend(chatID, "smith@example.com", "Hello!")
//	sim.Flush(ctx)                                       // webhooks delivered
//	for _, d := range sim.Webhooks() { env, _ := d.Envelope(); _ = env }
//
// Main serves a seeded simulator for `baton sim livechat`.
//
// # LiveChat endpoints (one host)
//
//	POST /v3.6/agent/action/{method}          also /v3.5, /v3.4; others: unsupported_version
//	POST /v3.6/customer/action/{method}?organization_id=<org>   (required)
//	POST /v3.6/configuration/action/{method}
//	GET  /v3.4/configuration/action/get_organization_id?license_id=   (no auth; 3.4 only)
//	GET  /v3.4/configuration/action/get_license_id?organization_id=   (no auth; 3.4 only)
//	POST /v2/token           grant_type authorization_code | refresh_token; form or JSON body
//	DELETE /v2/token         Authorization: Bearer <token> or ?code=<token>; answers {}
//	GET  /v2/info            Bearer agent token
//	POST /v2/customer/token  grant_type cookie | agent_token (also /customer/token)
//	GET  /v2/customer/info   Bearer customer token
//	GET  /?response_type=code&client_id&redirect_uri&state[&agent_id]   authorize: 302 with ?code
//	GET  /api/file/lc/att/…  files uploaded with upload_file
//
// Agent API methods: start_chat, resume_chat, send_event, deactivate_chat,
// follow_chat, unfollow_chat, transfer_chat, get_chat, list_chats,
// list_threads, add_user_to_chat, remove_user_from_chat, get_customer,
// update_customer, set_routing_status, list_routing_statuses,
// list_agents_for_transfer, upload_file, send_rich_message_postback,
// mark_events_as_seen, send_typing_indicator, send_thinking_indicator,
// tag_thread, untag_thread. Customer API: start_chat, resume_chat,
// send_event, deactivate_chat, get_chat, list_chats, list_threads,
// get_customer, update_customer, set_customer_session_fields, upload_file,
// list_group_statuses, send_rich_message_postback, mark_events_as_seen,
// send_sneak_peek. Configuration API: list_groups, get_group, create_group,
// update_group, delete_group, list_agents, get_agent, create_bot,
// update_bot, delete_bot, list_bots, get_bot, issue_bot_token,
// reset_bot_secret, register_webhook, list_webhooks, unregister_webhook,
// enable_license_webhooks, disable_license_webhooks,
// get_license_webhooks_state, list_webhook_names (no auth). Any other
// method answers not_found (so v3.5 close_chat fails as in LiveChat).
//
// # Authentication
//
// Agent API: "Basic base64(account_id:pat)", "Bearer <agent OAuth token>"
// (from /v2/token) or "Bearer <bot token>" (issue_bot_token). A PAT sent as
// Bearer, a customer token, an unknown, revoked or expired token answer 401
// {"error":{"type":"authentication","message":"Invalid access token"}}; up
// to v3.5, X-Author-Id: <bot id> with an agent credential acts as that bot.
// Customer API: Bearer customer token only. Configuration API: PAT or agent
// OAuth token; bot tokens get authorization. With a PAT, the webhook
// methods, create_bot and reset_bot_secret need owner_client_id (an app);
// with an OAuth token it defaults to the token's client_id. X-Region,
// X-API-Version and User-Agent are ignored.
//
// Accounts: client_id must be an app (AddApp), client_secret must match,
// redirect_uri must equal or extend the app's. The cookie grant without
// valid __lc_cid/__lc_cst cookies creates a new customer and sets both
// cookies; with them it returns a fresh token for the same customer. The
// agent_token grant needs a Bearer agent OAuth or bot token (never a PAT);
// entity_id picks an existing customer, else a new one is created. Errors
// are {"oauth_exception","exception_description"} with 400 (invalid_request,
// unsupported_*) or 401 (invalid_client, invalid_grant, access_denied).
// Agent and customer tokens last 28800 s, bot tokens 24 h, codes 5 minutes.
//
// # Shapes and errors
//
// Errors are {"error":{"type","message","data"?}} with the status mapping
// inferred in livechat.md section 2 (validation 400, authentication 401,
// authorization/missing_access/limit_reached 403, not_found/group_not_found
// 404, entity_too_large 413, misdirected_request 421, chat_inactive/
// agent_offline/groups_offline 422, too_many_requests 429, internal 500,
// service_unavailable 503). Void methods answer 200 {}. Chat and thread
// ids are 10 uppercase alphanumerics, event ids "<thread>_<n>", customers
// UUIDs, bots 32 hex digits, agents e-mails, webhooks 25 lowercase
// alphanumerics; timestamps are RFC 3339 UTC with microseconds.
// Requests are decoded leniently: unknown fields are ignored, and
// "recipients" is accepted for "visibility".
//
// # Chats and routing
//
// A customer's start_chat or resume_chat (access.group_ids, default [0])
// fails with groups_offline unless continuous or an agent of the groups
// accepts chats. It is assigned to the agent or bot of the groups that
// accepts chats, is below max_chats_count and not already in the chat, by
// priority first > normal > last (never supervisor), then fewest active
// chats, then creation order; otherwise the thread is queued and
// thread.queue {position, wait_time (seconds waited), queued_at} appears.
// Queued threads, oldest first, are assigned whenever capacity appears
// (set_routing_status to accepting_chats, a chat deactivated, an agent
// added...), firing user_added_to_chat (reason "assigned") and
// chat_transferred (reason "assigned", transferred_to.agent_ids).
// An agent's start_chat puts the requester in the chat with the listed
// users (at most one customer and 4 agents) and does not route.
// transfer_chat to a group assigns an available agent of the target not in
// the chat, removing the present agents; if none and not
// ignore_agents_availability it fails with validation "Cannot assign any
// agent from requested groups", else the chat is queued (chat_transferred
// carries queue). Deactivation, transfers and user changes add the
// documented system messages (manual_archived_agent,
// manual_archived_customer, chat_transferred, agent_added, agent_joined,
// agent_removed, agent_left, customer_added, customer_updated), which
// fire incoming_event like any event; the initial events of start_chat and
// resume_chat travel in incoming_chat only. A transfer to an agent needs
// the agent to have access to the chat, and to accept chats (else
// agent_offline) unless ignore_agents_availability. A requester who is not
// present gets missing_access (unless ignore_requester_presence where the
// method has it); sending to an inactive chat gets chat_inactive (customers
// may attach_to_last_thread).
//
// # Webhooks
//
// Registered webhooks (register_webhook or AddWebhook; at most 3 per action
// per owner_client_id; type license or bot; license webhooks off while
// disable_license_webhooks is in force; bot webhooks only while a bot of
// the owner accepts chats) fire for incoming_chat, incoming_event (also for
// events the client itself sent), chat_deactivated, chat_transferred,
// user_added_to_chat, user_removed_from_chat, routing_status_set (status
// with a space: "accepting chats"), customer_session_fields_updated and
// incoming_rich_message_postback, honouring the filters author_type,
// chat_presence.user_ids values/exclude_values, chat_presence.my_bots,
// only_my_chats (properties.source.client_id), source_type and agent_ids.
// The body is {"webhook_id","secret_key","action","organization_id",
// "payload","additional_data"} with only the requested additional_data keys
// ({} when none), POSTed as application/json by one goroutine in order. A
// status other than 200, an error or a timeout (Config.Timeout, default
// 10 s) is retried after each of Config.Retry (default 5 s, 15 s, 30 s).
//
// # Faults
//
// SetFaults (or POST /sim/faults) injects, on /v3.x calls: 429
// too_many_requests after RateLimit calls per credential per RateWindow or
// for the next TooMany calls, 503 service_unavailable, 500 internal, 421
// misdirected_request with data.region, and Latency. On webhooks:
// Duplicates (every delivery twice), Legacy (license_id int instead of
// organization_id) and Paused. ExpireTokens expires every issued token;
// Advance moves the simulated clock. upload_file over 10 MB answers 413
// entity_too_large.
//
// # Driver endpoints (not LiveChat)
//
// JSON in and out; errors use the LiveChat envelope.
//
//	POST /sim/setup     {"groups":[{"id","name"}],"apps":[{"client_id","secret","redirect_uri"}],
//	                     "agents":[{"id","name","account_id","pat","role","status","max_chats_count",
//	                                "groups":[{"id","priority"}]}],
//	                     "bots":[{"id","name","secret","owner_client_id","status","max_chats_count","groups"}],
//	                     "webhooks":[<register_webhook body>]}
//	                    → {"organization_id","license_id","apps":[…],"agents":[{"id","account_id","pat",
//	                       "authorization"}],"bots":[{"id","secret"}],"webhooks":[{"id","action"}]}
//	GET  /sim/state     groups, agents, bots (with status), apps, chats (all threads), customers, webhooks, now
//	GET  /sim/chats, /sim/chats/{id}, /sim/customers/{id}
//	GET  /sim/requests  [{"method","path","query","auth","status","body"}]  (LiveChat and accounts calls)
//	GET  /sim/webhooks  [{"id","webhook_id","action","url","attempts","status","error","delivered",
//	                      "failed","duplicate","body"}]
//	POST /sim/webhooks/flush                  wait until no delivery is pending
//	POST /sim/webhooks/redeliver {"id"}       deliver a body again (a duplicate)
//	GET|POST /sim/faults {"rate_limit","rate_window_ms","too_many","unavailable","internal",
//	                      "misdirected","latency_ms","duplicates","legacy","paused"}
//	POST /sim/expire_tokens
//	POST /sim/advance {"seconds"}             → {"now"}
//	POST /sim/code {"client_id","agent_id"}   → {"code"} for /v2/token
//	POST /sim/token {"client_id","agent_id"} | {"bot_id"} → {"access_token"}
//	POST /sim/agent/send {"agent_id","chat_id","text"} → {"event_id"}
//	POST /sim/agent/file {"agent_id","chat_id","name","data"(base64)} → {"event_id"}
//	POST /sim/agent/join | /sim/agent/close {"agent_id","chat_id"}
//	POST /sim/agent/transfer {"agent_id","chat_id","target":{"type","ids"},"ignore_agents_availability"}
//	POST /sim/agent/status {"agent_id","status"}
//	POST /sim/customer/start {"group_id","text","name","email"} → {"chat_id","customer_id"}
//	POST /sim/customer/send {"chat_id","text"} → {"event_id"}
//	POST /sim/customer/close {"chat_id"}
//
// The Go API mirrors them: AddGroup, AddApp, AddAgent, AddBot, AddWebhook,
// Code, AgentToken, BotToken, CustomerToken, AgentSend, AgentFile,
// AgentJoin, AgentClose, AgentTransfer, SetStatus, CustomerStartChat,
// CustomerSend, CustomerClose, Chat, Chats, Customer, Status, Webhooks,
// Flush, Redeliver, Requests, Faults, SetFaults, ExpireTokens, Advance.
// Driver actions of human agents carry the LiveChat agent app's client_id
// (source_type "other_clients"); AgentClose and AgentTransfer act with
// ignore_requester_presence, as an administrator can.
//
// # Checking a client against the docs
//
// testdata/*.json transcribe the documented examples (testdata/README.md);
// Fixture returns one. Requests (GET /sim/requests) logs the LiveChat API
// and accounts requests a client sent; RequestShape compares a request body
// with a request fixture (no unknown keys, same JSON types) and Shape
// compares an answer or webhook with its fixture (same keys and types):
//
//	for _, r := range sim.Requests() {
//		if r.Path == "/v3.6/agent/action/send_event" {
//			for _, d := range livechatsim.RequestShape(livechatsim.Fixture("send_event_request.json"), r.Body) {
//				t.Error(d)
//			}
//		}
//	}
package livechatsim
