// Package intercom is the Intercom desk: Baton hands a conversation into an
// Intercom workspace as a conversation the customer (a contact) starts,
// and takes the admins' replies back through the app's webhooks.
//
// Outbound, Baton calls the REST API (https://api.intercom.io by default)
// with the workspace's access token as a Bearer token and the pinned
// Intercom-Version (2.16 unless api_version says). Open finds the contact
// (by external_id = Baton's customer id, else by email) or creates it,
// reusing the id a 409 conflict names (the search index lags behind a
// contact just made), then creates a conversation from the contact whose
// body carries the history, one line per turn, and the latest question.
// Its progress is saved between calls, so a retried open never makes a
// second conversation. Send posts a user reply (files as attachment_urls);
// Close closes the conversation as admin_id. The client keeps within the
// X-RateLimit-Remaining/Reset the API reports and waits out a 429.
//
// Inbound, Intercom posts notification_event envelopes to
// /v1/desks/{desk}/inbound/intercom, signed with X-Hub-Signature
// (sha1=HMAC-SHA1 of the raw body, keyed with the app's client_secret),
// checked in constant time before anything is parsed. Topics map to desk
// events: conversation.admin.replied (a message; the first makes the
// handoff active), .admin.closed (agent_closed), .admin.snoozed (the agent
// paused until snoozed_until), .admin.unsnoozed and .admin.opened
// (resumed), conversation.read (a read receipt) and .admin.assigned (the
// agent changes). ping, notes, Baton's own user replies and unknown topics
// are acknowledged and ignored.
package intercom
