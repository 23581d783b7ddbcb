// Package web is Baton's web inbox: the built-in inbox desk's agents sign in
// with their email and password and see, claim, answer and end handoffs in a
// browser, with the same rules as the /v1/inbox API (the engine's InboxQueue,
// Claim, Reply and EndByAgent), with files in replies (kept by the engine,
// linked by signed URLs), the customer's typing shown, and the agent's
// typing and reading told to the bot. It is also the admin console under
// /console/ (console.go): admin-key holders manage workspaces, API keys
// (console_keys.go), bots and their delivery log (console_bots.go), desks
// (console_desk.go), policies and inbox agents (console_agents.go) through
// the engine's admin calls, with a session cookie of their own
// (baton_console, 8 hours, the admin key read again on every request;
// console_session.go).
//
// The pages are html/template files rendered on the server, and one small
// script (static/inbox.js) keeps them live; all are embedded in the binary,
// and nothing is built with Node. Every page works without the script, which
// only follows GET /inbox/events (server-sent events, woken by the hub when
// this instance commits a change to the workspace, and polling for other
// instances') and fetches the page's parts again when what they show changed.
//
// Security:
//   - A session is a cookie (baton_session, HttpOnly, SameSite=Lax, Secure
//     over TLS or when Params.Secure says so) signed with HMAC-SHA256: the
//     agent, the workspace, when it was issued, when it expires (12 hours
//     later) and a keyed fingerprint of the agent's password hash. Every
//     request reads the agent again, so a disabled or deleted agent, a new
//     password or a deleted workspace ends the session at its next request
//     (and a live page's stream at once). A session also carries the
//     agent's session generation: signing out moves it on, which ends every
//     session of the agent, copies of the cookie included.
//   - Every form carries a CSRF token, an HMAC of the session cookie (of a
//     nonce cookie on the sign-in form), checked on every POST together with
//     the request's origin (http.CrossOriginProtection); a forged or missing
//     one is answered 403 and changes nothing.
//   - Failed sign-ins are limited per email and per client address (see
//     Limits); the answer never says whether the email or the password was
//     wrong.
//   - Every answer carries a Content-Security-Policy that allows scripts,
//     styles and images from Baton only (no inline script or style) and no
//     framing, with X-Content-Type-Options: nosniff and Referrer-Policy:
//     same-origin. html/template escapes every text.
//   - A handoff of another desk or workspace is 404, as one that does not exist.
package web
