package livechat

import (
	"context"
	"errors"
	"strings"

	baton "github.com/batonhq/baton"
)

// One typed method per LiveChat action Baton uses. Each returns a
// *baton.DeskError wrapping an *APIError on failure.

// StartChat starts a chat as the PAT's agent (agent start_chat).
func (c *Client) StartChat(ctx context.Context, r StartChatRequest) (StartChatResponse, error) {
	var out StartChatResponse
	err := c.Agent(ctx, "start_chat", r, &out)
	if err == nil && out.ChatID == "" {
		err = &baton.DeskError{Err: errors.New("livechat agent/start_chat: the answer has no chat_id")}
	}
	return out, err
}

// TransferChat moves a chat (agent transfer_chat). When LiveChat refuses
// because nobody in the target can take the chat now ("Cannot assign any
// agent ..."), it asks again with ignore_agents_availability, which queues
// the chat there.
func (c *Client) TransferChat(ctx context.Context, r TransferChatRequest) error {
	err := c.Agent(ctx, "transfer_chat", r, nil)
	if err != nil && !r.IgnoreAgentsAvailability && cannotAssign(err) {
		r.IgnoreAgentsAvailability = true
		err = c.Agent(ctx, "transfer_chat", r, nil)
	}
	return err
}

// cannotAssign reports whether err is transfer_chat's "no agent can be
// assigned now" refusal.
func cannotAssign(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Type == "validation" && strings.Contains(strings.ToLower(ae.Message), "cannot assign any agent")
}

// DeactivateChat closes a chat as the PAT's agent, present in it or not
// (agent deactivate_chat with ignore_requester_presence).
func (c *Client) DeactivateChat(ctx context.Context, chatID string) error {
	return c.Agent(ctx, "deactivate_chat", DeactivateChatRequest{ID: chatID, IgnoreRequesterPresence: true}, nil)
}

// CustomerDeactivateChat closes a chat as its customer (customer deactivate_chat).
func (c *Client) CustomerDeactivateChat(ctx context.Context, token, chatID string) error {
	return c.Customer(ctx, token, "deactivate_chat", DeactivateChatRequest{ID: chatID}, nil)
}

// RemoveUser takes a user out of a chat (agent remove_user_from_chat).
func (c *Client) RemoveUser(ctx context.Context, r RemoveUserRequest) error {
	return c.Agent(ctx, "remove_user_from_chat", r, nil)
}

// SendEvent posts an event as the PAT's agent (agent send_event) and
// returns its id.
func (c *Client) SendEvent(ctx context.Context, chatID string, ev Event) (string, error) {
	var out SendEventResponse
	err := c.Agent(ctx, "send_event", SendEventRequest{ChatID: chatID, Event: ev}, &out)
	return out.EventID, err
}

// CustomerSendEvent posts an event as the customer whose token is given
// (customer send_event) and returns its id.
func (c *Client) CustomerSendEvent(ctx context.Context, token, chatID string, ev Event) (string, error) {
	var out SendEventResponse
	err := c.Customer(ctx, token, "send_event", SendEventRequest{ChatID: chatID, Event: ev}, &out)
	return out.EventID, err
}

// GetChat reads a chat with its latest thread (agent get_chat).
func (c *Client) GetChat(ctx context.Context, chatID string) (Chat, error) {
	var out Chat
	err := c.Agent(ctx, "get_chat", GetChatRequest{ChatID: chatID}, &out)
	return out, err
}

// GetCustomer reads a customer (agent get_customer).
func (c *Client) GetCustomer(ctx context.Context, id string) (Customer, error) {
	var out Customer
	err := c.Agent(ctx, "get_customer", GetCustomerRequest{ID: id}, &out)
	return out, err
}

// UpdateCustomer sets the customer's own name, email and session fields
// (customer update_customer).
func (c *Client) UpdateCustomer(ctx context.Context, token string, r UpdateCustomerRequest) error {
	return c.Customer(ctx, token, "update_customer", r, nil)
}

// ListGroups lists the license's groups with their routing status
// (configuration list_groups).
func (c *Client) ListGroups(ctx context.Context) ([]Group, error) {
	var out []Group
	err := c.Configuration(ctx, "list_groups", ListGroupsRequest{Fields: []string{"routing_status"}}, &out)
	return out, err
}

// GetAgent reads one agent (configuration get_agent).
func (c *Client) GetAgent(ctx context.Context, id string) (Agent, error) {
	var out Agent
	err := c.Configuration(ctx, "get_agent", GetAgentRequest{ID: id}, &out)
	return out, err
}

// ListAgents lists the license's agents (configuration list_agents).
func (c *Client) ListAgents(ctx context.Context) ([]Agent, error) {
	var out []Agent
	err := c.Configuration(ctx, "list_agents", ListAgentsRequest{}, &out)
	return out, err
}

// RegisterWebhook registers one webhook (configuration register_webhook).
func (c *Client) RegisterWebhook(ctx context.Context, r RegisterWebhookRequest) (string, error) {
	var out RegisterWebhookResponse
	err := c.Configuration(ctx, "register_webhook", r, &out)
	return out.ID, err
}

// ListWebhooks lists the webhooks an app registered (configuration list_webhooks).
func (c *Client) ListWebhooks(ctx context.Context, ownerClientID string) ([]RegisteredWebhook, error) {
	var out []RegisteredWebhook
	err := c.Configuration(ctx, "list_webhooks", OwnerRequest{OwnerClientID: ownerClientID}, &out)
	return out, err
}

// UnregisterWebhook removes one of an app's webhooks (configuration unregister_webhook).
func (c *Client) UnregisterWebhook(ctx context.Context, id, ownerClientID string) error {
	return c.Configuration(ctx, "unregister_webhook", UnregisterWebhookRequest{ID: id, OwnerClientID: ownerClientID}, nil)
}

// LicenseWebhooksEnabled reports whether the app's license webhooks are on
// (configuration get_license_webhooks_state).
func (c *Client) LicenseWebhooksEnabled(ctx context.Context, ownerClientID string) (bool, error) {
	var out WebhooksState
	err := c.Configuration(ctx, "get_license_webhooks_state", OwnerRequest{OwnerClientID: ownerClientID}, &out)
	return out.Enabled, err
}

// EnableLicenseWebhooks turns the app's license webhooks on
// (configuration enable_license_webhooks).
func (c *Client) EnableLicenseWebhooks(ctx context.Context, ownerClientID string) error {
	return c.Configuration(ctx, "enable_license_webhooks", OwnerRequest{OwnerClientID: ownerClientID}, nil)
}
