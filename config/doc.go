// Package config reads, checks and applies the YAML file that declares a
// deployment's workspaces, so that the deployment can be rebuilt from it.
//
// The file holds one document with two keys. workspaces is a list of
// workspaces, each with an id and a name, and
//
//   - api_keys: the bots' API keys ({name, key}), stored hashed;
//   - desks: {id, name, kind, settings, policy}; kind is inbox, webhook or
//     livechat, settings are the kind's (the inbox desk takes none), and a
//     desk whose required settings are missing is kept, as not_configured;
//   - bots: {id, name, webhook_url, webhook_secret, desk, policy}; the
//     secret is "whsec_" and the base64 of 24 to 64 random bytes;
//   - inbox_agents: {id, name, email, desk, key, password}, people
//     answering an inbox desk of the workspace with their own key (stored
//     hashed), a password of at least 10 characters (stored as an argon2id
//     hash, see package password), or both.
//
// admin_keys is a list of the admin API's keys ({name, key}), stored
// hashed: deployment-wide, not a workspace's.
//
// A policy is a baton.Policy under its YAML names (zone, periods,
// out_of_hours_reply, wait_timeout, ..., trigger_description). Unknown and
// repeated keys are errors. "${NAME}" in a string value is replaced by the
// environment variable NAME, which must be set and not empty; any other "$"
// is kept. Ids are unique across the file, and so are keys, of every kind;
// a key is at least baton.MinKeyLen characters.
//
// The file is at most 1 MiB, and its YAML aliases may stand for at most
// 10000 values in all: an alias may repeat a part of the file, not multiply
// it. Every error about the content names the value's path and line, like
// "workspaces[0].desks[1].kind (line 12): is required: ...".
//
// Apply makes the store match the file for what the file declares, in one
// transaction, and returns the Plan of what it created, updated and deleted
// (with ApplyParams.DryRun, of what it would: the transaction is rolled
// back). An object the file names is as the file says, a field it leaves out
// emptied (a desk's settings, an agent's key or password); what the file
// cannot say is kept (creation times, desk statuses, a bot's previous secret,
// an agent's disabled flag, a key's scope). The API keys, inbox agents and
// admin keys an apply created are Managed: one the file no longer lists is
// deleted. Those made through the admin API are never deleted by an apply,
// and workspaces, desks and bots the file no longer names stay in the store.
// A file without admin_keys leaves the admin keys alone. Every change has
// its entry in the audit log, secrets masked (see AuditJSON).
package config
