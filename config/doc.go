// Package config reads, checks and applies the YAML file that declares a
// deployment's workspaces, so that the deployment can be rebuilt from it.
//
// The file holds one document with one key, workspaces: a list of
// workspaces, each with an id and a name, and
//
//   - api_keys: the bots' API keys ({name, key}), stored hashed;
//   - desks: {id, name, kind, settings, policy}; kind is inbox, webhook or
//     livechat, settings are the kind's (the inbox desk takes none), and a
//     desk whose required settings are missing is kept, as not_configured;
//   - bots: {id, name, webhook_url, webhook_secret, desk, policy}; the
//     secret is "whsec_" and the base64 of 24 to 64 random bytes;
//   - inbox_agents: {id, name, email, desk, key}, people answering an inbox
//     desk of the workspace with their own key, stored hashed.
//
// A policy is a baton.Policy under its YAML names (zone, periods,
// out_of_hours_reply, wait_timeout, ...). Unknown and repeated keys are
// errors. "${NAME}" in a string value is replaced by the environment
// variable NAME, which must be set and not empty; any other "$" is kept.
// Ids are unique across the file, and so are keys.
//
// The file is at most 1 MiB, and its YAML aliases may stand for at most
// 10000 values in all: an alias may repeat a part of the file, not multiply
// it. Every error about the content names the value's path and line, like
// "workspaces[0].desks[1].kind (line 12): is required: ...".
//
// Apply writes the file as upserts: what it names is created or updated,
// keeping creation times and desk statuses; workspaces, desks and bots it no
// longer names stay in the store, while a workspace's API keys and inbox
// agents are exactly those the file lists (others are revoked).
package config
