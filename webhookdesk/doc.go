// Package webhookdesk connects Baton to a company's own support system over the
// "webhook desk" protocol, the shape of GPTBots' "Human Service — Webhook" mode
// (shared/reference/desks.md, section 3), so a service written for that mode
// works with Baton unchanged.
//
// Baton calls the company's service (settings "url", optional HTTP Basic
// "username" and "password"), always POST with a JSON body:
//
//	{url}/conversation/establish  open a handoff: transcript, customer, routing hint
//	{url}/chat                    relay one customer message (body is a string)
//	{url}/conversation/close      end the handoff: type TIMEOUT, USER_CLOSED, BOT_CLOSED, ...
//
// The handoff id travels as conversation_id and is the desk's reference: the
// company echoes it back. A 2xx to establish opens the handoff; any other
// answer means the desk is busy, except refused credentials (401, 403) and
// temporary trouble (408, 429, 502, 503, 504, network errors), which are
// retried. Check probes establish with "istest": true; the company must answer
// 2xx and open nothing.
//
// The company calls Baton back at /v1/desks/{desk}/inbound/{path} with
// "Authorization: Bearer <secret>" (setting "secret"), verified in constant
// time before anything is parsed:
//
//	message  {"conversation_id", "timestamp", "body", "message_id"?, "agent"?, "attachments"?}
//	close    {"conversation_id", "timestamp"}
//	join     {"conversation_id", "timestamp"?, "agent"}
//
// The GPTBots paths human/message/receive and human/close (with or without a
// v1/ prefix) are accepted as aliases of message and close. Any body with
// "istest": true is a probe: authentic, no events.
//
// The protocol carries text only, so attachments degrade visibly: they are
// listed as links at the end of the text (and also sent in an "attachments"
// array that services may read).
package webhookdesk
