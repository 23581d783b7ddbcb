package livechat

import (
	"encoding/json"
	"time"
)

// The wire types of the LiveChat Web API v3.6 that Baton uses, named after
// the documented JSON. Requests leave out what Baton never sends.

// Event types and visibilities.
const (
	EventMessage       = "message"
	EventFile          = "file"
	EventSystemMessage = "system_message"
	VisibilityAll      = "all"
	VisibilityAgents   = "agents"
)

// User types.
const (
	UserCustomer = "customer"
	UserAgent    = "agent"
)

// Event is one event of a chat thread: a message, a file or a system message.
// Events Baton sends carry only type, text or url, visibility, custom_id and,
// in start_chat, author_id; LiveChat adds the rest.
type Event struct {
	ID                string          `json:"id,omitempty"`
	CustomID          string          `json:"custom_id,omitempty"`
	Type              string          `json:"type"`
	Text              string          `json:"text,omitempty"`
	AuthorID          string          `json:"author_id,omitempty"`
	CreatedAt         time.Time       `json:"created_at,omitzero"`
	Visibility        string          `json:"visibility,omitempty"`
	Properties        json.RawMessage `json:"properties,omitempty"`
	URL               string          `json:"url,omitempty"`              // file
	AlternativeText   string          `json:"alternative_text,omitempty"` // file
	Name              string          `json:"name,omitempty"`             // file, set by LiveChat
	ContentType       string          `json:"content_type,omitempty"`     // file, set by LiveChat
	Size              int64           `json:"size,omitempty"`             // file, set by LiveChat
	SystemMessageType string          `json:"system_message_type,omitempty"`
}

// User is a chat user: a customer or an agent (bots are agents).
type User struct {
	ID      string `json:"id"`
	Type    string `json:"type"`
	Name    string `json:"name,omitempty"`
	Email   string `json:"email,omitempty"`
	Present bool   `json:"present,omitempty"`
}

// Access lists the groups a chat or thread belongs to.
type Access struct {
	GroupIDs []int `json:"group_ids"`
}

// Queue is where a queued thread waits: its place (1 is next) and
// LiveChat's approximation of the wait for an agent, in seconds.
type Queue struct {
	Position int       `json:"position"`
	WaitTime int       `json:"wait_time"`
	QueuedAt time.Time `json:"queued_at,omitzero"`
}

// Thread is one thread of a chat.
type Thread struct {
	ID        string    `json:"id"`
	CreatedAt time.Time `json:"created_at,omitzero"`
	Active    bool      `json:"active"`
	UserIDs   []string  `json:"user_ids,omitempty"`
	Events    []Event   `json:"events,omitempty"`
	Access    *Access   `json:"access,omitempty"`
	Queue     *Queue    `json:"queue,omitempty"`
}

// Chat is a chat as get_chat and the incoming_chat webhook give it.
type Chat struct {
	ID     string  `json:"id"`
	Thread *Thread `json:"thread,omitempty"`
	Users  []User  `json:"users,omitempty"`
	Access *Access `json:"access,omitempty"`
}

// InitialThread is the first thread of a chat start_chat creates.
type InitialThread struct {
	Events []Event `json:"events,omitempty"`
}

// InitialChat is the chat of a start_chat request.
type InitialChat struct {
	Access *Access         `json:"access,omitempty"`
	Users  []User          `json:"users,omitempty"`
	Thread *InitialThread  `json:"thread,omitempty"`
	Props  json.RawMessage `json:"properties,omitempty"`
}

// StartChatRequest is the body of agent start_chat.
type StartChatRequest struct {
	Chat       InitialChat `json:"chat"`
	Active     bool        `json:"active"`
	Continuous bool        `json:"continuous"`
}

// StartChatResponse is the answer to start_chat.
type StartChatResponse struct {
	ChatID   string   `json:"chat_id"`
	ThreadID string   `json:"thread_id"`
	EventIDs []string `json:"event_ids,omitempty"`
}

// Target names where transfer_chat moves a chat: type "group" with int ids
// or type "agent" with agent ids.
type Target struct {
	Type string `json:"type"`
	IDs  []any  `json:"ids"`
}

// TransferChatRequest is the body of agent transfer_chat.
type TransferChatRequest struct {
	ID                       string  `json:"id"`
	Target                   *Target `json:"target,omitempty"`
	IgnoreAgentsAvailability bool    `json:"ignore_agents_availability"`
	IgnoreRequesterPresence  bool    `json:"ignore_requester_presence"`
}

// DeactivateChatRequest is the body of deactivate_chat. The customer API
// takes no ignore_requester_presence.
type DeactivateChatRequest struct {
	ID                      string `json:"id"`
	IgnoreRequesterPresence bool   `json:"ignore_requester_presence,omitempty"`
}

// RemoveUserRequest is the body of agent remove_user_from_chat.
type RemoveUserRequest struct {
	ChatID                  string `json:"chat_id"`
	UserID                  string `json:"user_id"`
	UserType                string `json:"user_type"`
	IgnoreRequesterPresence bool   `json:"ignore_requester_presence"`
}

// SendEventRequest is the body of send_event.
type SendEventRequest struct {
	ChatID string `json:"chat_id"`
	Event  Event  `json:"event"`
}

// SendEventResponse is the answer to send_event.
type SendEventResponse struct {
	EventID string `json:"event_id"`
}

// UploadFileResponse is the answer to upload_file.
type UploadFileResponse struct {
	URL string `json:"url"`
}

// GetChatRequest is the body of get_chat.
type GetChatRequest struct {
	ChatID   string `json:"chat_id"`
	ThreadID string `json:"thread_id,omitempty"`
}

// SessionField is one {"key": "value"} entry of a customer's session fields.
type SessionField map[string]string

// UpdateCustomerRequest is the body of customer update_customer (the
// customer updates itself, so no id).
type UpdateCustomerRequest struct {
	Name          string         `json:"name,omitempty"`
	Email         string         `json:"email,omitempty"`
	SessionFields []SessionField `json:"session_fields,omitempty"`
}

// GetCustomerRequest is the body of agent get_customer.
type GetCustomerRequest struct {
	ID string `json:"id"`
}

// Customer is a customer as get_customer gives it.
type Customer struct {
	ID    string `json:"id"`
	Type  string `json:"type,omitempty"`
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
}

// GetAgentRequest is the body of configuration get_agent.
type GetAgentRequest struct {
	ID     string   `json:"id"`
	Fields []string `json:"fields,omitempty"`
}

// AgentFilters narrow list_agents.
type AgentFilters struct {
	GroupIDs []int `json:"group_ids,omitempty"`
}

// ListAgentsRequest is the body of configuration list_agents.
type ListAgentsRequest struct {
	Filters *AgentFilters `json:"filters,omitempty"`
	Fields  []string      `json:"fields,omitempty"`
}

// Agent is an agent as get_agent and list_agents give it.
type Agent struct {
	ID          string `json:"id"`
	AccountID   string `json:"account_id,omitempty"`
	Name        string `json:"name,omitempty"`
	Role        string `json:"role,omitempty"`
	LoginStatus string `json:"login_status,omitempty"`
}

// ListGroupsRequest is the body of configuration list_groups.
type ListGroupsRequest struct {
	Fields []string `json:"fields,omitempty"`
}

// Group routing statuses.
const (
	AcceptingChats    = "accepting_chats"
	NotAcceptingChats = "not_accepting_chats"
	Offline           = "offline"
)

// Group is a group as list_groups gives it.
type Group struct {
	ID              int               `json:"id"`
	Name            string            `json:"name"`
	LanguageCode    string            `json:"language_code,omitempty"`
	RoutingStatus   string            `json:"routing_status,omitempty"`
	AgentPriorities map[string]string `json:"agent_priorities,omitempty"`
}

// Webhook types.
const (
	WebhookLicense = "license"
	WebhookBot     = "bot"
)

// RegisterWebhookRequest is the body of configuration register_webhook.
type RegisterWebhookRequest struct {
	URL            string          `json:"url"`
	Action         string          `json:"action"`
	SecretKey      string          `json:"secret_key"`
	Type           string          `json:"type"`
	OwnerClientID  string          `json:"owner_client_id"`
	Description    string          `json:"description,omitempty"`
	AdditionalData []string        `json:"additional_data,omitempty"`
	Filters        json.RawMessage `json:"filters,omitempty"`
}

// RegisterWebhookResponse is the answer to register_webhook.
type RegisterWebhookResponse struct {
	ID string `json:"id"`
}

// OwnerRequest is the body of list_webhooks, enable_license_webhooks and
// get_license_webhooks_state: just the app's client id.
type OwnerRequest struct {
	OwnerClientID string `json:"owner_client_id"`
}

// UnregisterWebhookRequest is the body of configuration unregister_webhook.
type UnregisterWebhookRequest struct {
	ID            string `json:"id"`
	OwnerClientID string `json:"owner_client_id"`
}

// RegisteredWebhook is one webhook as list_webhooks gives it.
type RegisteredWebhook struct {
	ID             string          `json:"id"`
	URL            string          `json:"url"`
	Description    string          `json:"description,omitempty"`
	Action         string          `json:"action"`
	SecretKey      string          `json:"secret_key,omitempty"`
	Filters        json.RawMessage `json:"filters,omitempty"`
	OwnerClientID  string          `json:"owner_client_id"`
	Type           string          `json:"type"`
	AdditionalData []string        `json:"additional_data,omitempty"`
}

// WebhooksState is the answer to get_license_webhooks_state.
type WebhooksState struct {
	Enabled bool `json:"license_webhooks_enabled"`
}

// CustomerTokenRequest is the body of the Accounts API customer token
// request; Baton uses the cookie grant.
type CustomerTokenRequest struct {
	GrantType      string `json:"grant_type"`
	ClientID       string `json:"client_id"`
	ResponseType   string `json:"response_type"`
	OrganizationID string `json:"organization_id"`
	RedirectURI    string `json:"redirect_uri"`
}

// CustomerToken is the Accounts API's answer to a customer token request.
type CustomerToken struct {
	AccessToken    string `json:"access_token"`
	ClientID       string `json:"client_id,omitempty"`
	EntityID       string `json:"entity_id"`
	ExpiresIn      int64  `json:"expires_in"`
	TokenType      string `json:"token_type,omitempty"`
	OrganizationID string `json:"organization_id,omitempty"`
}

// Webhook is the envelope LiveChat posts to a webhook URL (v3.4 and later).
// LicenseID is set only by the legacy (v3.3 and older) envelope.
type Webhook struct {
	WebhookID      string          `json:"webhook_id"`
	SecretKey      string          `json:"secret_key"`
	Action         string          `json:"action"`
	OrganizationID string          `json:"organization_id"`
	LicenseID      json.RawMessage `json:"license_id,omitempty"`
	Payload        json.RawMessage `json:"payload"`
	AdditionalData *AdditionalData `json:"additional_data,omitempty"`
}

// AdditionalData holds the webhook's additional_data Baton asks for.
type AdditionalData struct {
	ChatPresenceUserIDs []string `json:"chat_presence_user_ids,omitempty"`
}

// The payloads of the webhook actions Baton reads.

// IncomingChat is the payload of incoming_chat.
type IncomingChat struct {
	Chat Chat `json:"chat"`
}

// IncomingEvent is the payload of incoming_event.
type IncomingEvent struct {
	ChatID   string `json:"chat_id"`
	ThreadID string `json:"thread_id"`
	Event    Event  `json:"event"`
}

// TransferredTo says where chat_transferred moved a chat.
type TransferredTo struct {
	GroupIDs []int    `json:"group_ids,omitempty"`
	AgentIDs []string `json:"agent_ids,omitempty"`
}

// ChatTransferred is the payload of chat_transferred.
type ChatTransferred struct {
	ChatID        string        `json:"chat_id"`
	ThreadID      string        `json:"thread_id,omitempty"`
	RequesterID   string        `json:"requester_id,omitempty"`
	Reason        string        `json:"reason,omitempty"`
	TransferredTo TransferredTo `json:"transferred_to"`
	Queue         *Queue        `json:"queue,omitempty"`
}

// ChatDeactivated is the payload of chat_deactivated.
type ChatDeactivated struct {
	ChatID   string `json:"chat_id"`
	ThreadID string `json:"thread_id"`
	UserID   string `json:"user_id,omitempty"`
}

// UserAddedToChat is the payload of user_added_to_chat.
type UserAddedToChat struct {
	ChatID      string `json:"chat_id"`
	ThreadID    string `json:"thread_id"`
	User        User   `json:"user"`
	UserType    string `json:"user_type"`
	Reason      string `json:"reason,omitempty"`
	RequesterID string `json:"requester_id,omitempty"`
}
