// Package stdwebhook signs, verifies and delivers events following the Standard
// Webhooks v1 specification (https://www.standardwebhooks.com).
//
// A message carries three headers: webhook-id (stable across retries),
// webhook-timestamp (unix seconds of this attempt) and webhook-signature (a
// space separated list of "v1,<base64 HMAC-SHA256>" entries over
// id + "." + timestamp + "." + body). Secrets are shown as "whsec_" followed by
// the base64 of 24 to 64 random bytes. While a secret is rotated, a Signer
// made with both sends one entry per secret, so either verifies.
//
// Delivery is the caller's loop: Post one attempt, inspect the Result, and ask
// Backoff for the delay before the next attempt.
package stdwebhook
