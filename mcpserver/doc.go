// Package mcpserver offers Baton's bot API to LLM agents as tools: an MCP
// server (the official Go SDK, streamable HTTP, stateless) and the same
// tools as function-calling definitions (OpenAI and Anthropic shapes) with
// a plain call to run one. One table of typed tools is the source of both:
// the names, descriptions, input and output JSON schemas and the code that
// runs a call are the same whichever way a model reaches them.
//
// Every tool calls the engine's use cases, as the REST handlers do. Its
// answer is a structured result with an instruction, the exact thing the
// model is to say or do next; a mistake (a missing or wrong-typed argument,
// a handoff of another workspace) is a tool error whose text names the
// argument, never a transport error; only a call of an unlisted tool is a
// JSON-RPC error (the SDK's invalid params).
//
// A retried call does not act twice: each write carries an idempotency
// key made from the call's content and what it acts on (the bot and
// the conversation, the handoff, the last reply the customer answered), kept
// in the engine's idempotency records as the REST API's keys are. A call
// alike to one that finished more than two minutes before is no retry: a
// request whose handoff has ended, or a message, is made anew.
package mcpserver
