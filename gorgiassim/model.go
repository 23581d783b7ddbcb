package gorgiassim

import (
	"encoding/json"
	"time"
)

// Customer is a customer as the API shows it.
type Customer struct {
	ID         int64           `json:"id"`
	Name       string          `json:"name"`
	Email      string          `json:"email"`
	ExternalID string          `json:"external_id"`
	Language   string          `json:"language,omitempty"`
	Channels   []Channel       `json:"channels"`
	Data       json.RawMessage `json:"data,omitempty"`
	Created    time.Time       `json:"created_datetime"`
}

// Channel is a customer's address.
type Channel struct {
	Type      string `json:"type"`
	Address   string `json:"address"`
	Preferred bool   `json:"preferred"`
}

// Party is a message's sender or receiver.
type Party struct {
	ID    int64  `json:"id,omitempty"`
	Email string `json:"email,omitempty"`
	Name  string `json:"name,omitempty"`
}

// Attachment is a file a message links to.
type Attachment struct {
	URL         string `json:"url"`
	Name        string `json:"name,omitempty"`
	ContentType string `json:"content_type,omitempty"`
	Size        int64  `json:"size,omitempty"`
}

// Message is a ticket message.
type Message struct {
	ID          int64        `json:"id"`
	TicketID    int64        `json:"ticket_id"`
	Channel     string       `json:"channel"`
	Via         string       `json:"via"`
	FromAgent   bool         `json:"from_agent"`
	Public      bool         `json:"public"`
	Sender      *Party       `json:"sender"`
	Receiver    *Party       `json:"receiver"`
	BodyText    string       `json:"body_text"`
	BodyHTML    string       `json:"body_html"`
	ExternalID  string       `json:"external_id"`
	Attachments []Attachment `json:"attachments"`
	Sent        *time.Time   `json:"sent_datetime"`
	Failed      *time.Time   `json:"failed_datetime"`
	Created     time.Time    `json:"created_datetime"`
}

// Ticket is a ticket with its messages.
type Ticket struct {
	ID         int64      `json:"id"`
	ExternalID string     `json:"external_id"`
	Status     string     `json:"status"`
	Channel    string     `json:"channel"`
	Via        string     `json:"via"`
	FromAgent  bool       `json:"from_agent"`
	Subject    string     `json:"subject"`
	Customer   *Party     `json:"customer"`
	Messages   []Message  `json:"messages"`
	Created    time.Time  `json:"created_datetime"`
	Updated    time.Time  `json:"updated_datetime"`
	Closed     *time.Time `json:"closed_datetime"`
	Snoozed    *time.Time `json:"snooze_datetime"`
}

// Integration is a stored HTTP integration.
type Integration struct {
	ID          int64      `json:"id"`
	Name        string     `json:"name"`
	Type        string     `json:"type"`
	HTTP        HTTP       `json:"http"`
	Deactivated *time.Time `json:"deactivated_datetime"`
	Failures    int        `json:"-"`
}

// HTTP is an integration's request template.
type HTTP struct {
	URL                 string            `json:"url"`
	Method              string            `json:"method"`
	Headers             map[string]string `json:"headers"`
	Form                json.RawMessage   `json:"form"`
	RequestContentType  string            `json:"request_content_type"`
	ResponseContentType string            `json:"response_content_type"`
	Triggers            map[string]bool   `json:"triggers"`
}

// Event is what fires an integration.
type Event struct {
	ID         int64     `json:"id"`
	Type       string    `json:"type"`
	ObjectID   int64     `json:"object_id"`
	ObjectType string    `json:"object_type"`
	UserID     *int64    `json:"user_id"`
	Created    time.Time `json:"created_datetime"`
}

// Triggers the engine fires.
const (
	TicketCreated        = "ticket-created"
	TicketUpdated        = "ticket-updated"
	TicketMessageCreated = "ticket-message-created"
	TicketMessageFailed  = "ticket-message-failed"
	TicketSelfUnsnoozed  = "ticket-self-unsnoozed"
)
