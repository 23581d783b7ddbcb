package intercom

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// ID is an Intercom id. The API writes most ids as strings and some
// (admin_assignee_id, old payloads' ids) as numbers; null reads as "".
type ID string

// UnmarshalJSON reads a string, a number or null.
func (id *ID) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case string(b) == "null":
		*id = ""
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*id = ID(s)
	default:
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return fmt.Errorf("an id must be a string or a number, not %.20s", b)
		}
		*id = ID(n.String())
	}
	return nil
}

// Admin is a teammate of the workspace.
type Admin struct {
	Type  string `json:"type"`
	ID    ID     `json:"id"`
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
}

// Contact is a user or a lead.
type Contact struct {
	Type       string `json:"type,omitempty"`
	ID         ID     `json:"id,omitempty"`
	Role       string `json:"role,omitempty"` // user or lead
	ExternalID string `json:"external_id,omitempty"`
	Email      string `json:"email,omitempty"`
	Name       string `json:"name,omitempty"`
}

// Author is who wrote a conversation part.
type Author struct {
	Type  string `json:"type"` // admin, user, lead, bot, team
	ID    ID     `json:"id"`
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
}

// PartAttachment is a file on a conversation part.
type PartAttachment struct {
	Type        string `json:"type,omitempty"` // upload
	Name        string `json:"name,omitempty"`
	URL         string `json:"url"`
	ContentType string `json:"content_type,omitempty"`
	Filesize    int64  `json:"filesize,omitempty"`
}

// Assignee is whom an assignment part gave the conversation to.
type Assignee struct {
	Type string `json:"type"` // admin, team, nobody_admin
	ID   ID     `json:"id"`
}

// Part is a conversation part: a message, a note or a state change.
type Part struct {
	Type        string           `json:"type,omitempty"`
	ID          ID               `json:"id"`
	PartType    string           `json:"part_type"`
	Body        string           `json:"body,omitempty"`
	CreatedAt   int64            `json:"created_at,omitempty"`
	Author      Author           `json:"author"`
	AssignedTo  *Assignee        `json:"assigned_to,omitempty"`
	Attachments []PartAttachment `json:"attachments,omitempty"`
}

// Parts is a conversation's list of parts.
type Parts struct {
	Type       string `json:"type,omitempty"`
	TotalCount int    `json:"total_count"`
	Parts      []Part `json:"conversation_parts"`
}

// Source is the message that began a conversation.
type Source struct {
	Type        string           `json:"type,omitempty"`
	ID          ID               `json:"id"`
	Body        string           `json:"body,omitempty"`
	Author      Author           `json:"author"`
	Attachments []PartAttachment `json:"attachments,omitempty"`
}

// ContactRef names a contact of a conversation.
type ContactRef struct {
	Type       string `json:"type,omitempty"`
	ID         ID     `json:"id"`
	ExternalID string `json:"external_id,omitempty"`
}

// Contacts is a conversation's list of contacts.
type Contacts struct {
	Type     string       `json:"type,omitempty"`
	Contacts []ContactRef `json:"contacts"`
}

// Conversation is a conversation as the API and the webhooks show it. In a
// webhook, Parts holds only the parts that caused the notification.
type Conversation struct {
	Type            string   `json:"type"`
	ID              ID       `json:"id"`
	CreatedAt       int64    `json:"created_at,omitempty"`
	UpdatedAt       int64    `json:"updated_at,omitempty"`
	State           string   `json:"state,omitempty"` // open, closed, snoozed
	Open            bool     `json:"open"`
	Read            bool     `json:"read"`
	SnoozedUntil    *int64   `json:"snoozed_until"`
	AdminAssigneeID ID       `json:"admin_assignee_id,omitempty"`
	TeamAssigneeID  ID       `json:"team_assignee_id,omitempty"`
	Source          *Source  `json:"source,omitempty"`
	Contacts        Contacts `json:"contacts"`
	Parts           Parts    `json:"conversation_parts"`
	// Assignee is the 1.x payloads' assignee (an admin with a name).
	Assignee *Admin `json:"assignee,omitempty"`
}

// UserMessage is what creating a conversation answers: the message, with
// the conversation it began.
type UserMessage struct {
	Type           string `json:"type"`
	ID             ID     `json:"id"`
	CreatedAt      int64  `json:"created_at"`
	Body           string `json:"body"`
	ConversationID ID     `json:"conversation_id"`
}

// From is who a conversation is created from.
type From struct {
	Type string `json:"type"` // user, lead or contact
	ID   ID     `json:"id"`
}

// NewConversation is the body of POST /conversations.
type NewConversation struct {
	From           From     `json:"from"`
	Body           string   `json:"body"`
	AttachmentURLs []string `json:"attachment_urls,omitempty"`
}

// Reply is the body of POST /conversations/{id}/reply.
type Reply struct {
	MessageType    string   `json:"message_type"` // comment, note, quick_reply
	Type           string   `json:"type"`         // user or admin
	IntercomUserID ID       `json:"intercom_user_id,omitempty"`
	AdminID        ID       `json:"admin_id,omitempty"`
	Body           string   `json:"body"`
	AttachmentURLs []string `json:"attachment_urls,omitempty"`
}

// PartRequest is the body of POST /conversations/{id}/parts: close,
// snoozed, open or assignment.
type PartRequest struct {
	MessageType  string `json:"message_type"`
	Type         string `json:"type,omitempty"`
	AdminID      ID     `json:"admin_id"`
	Body         string `json:"body,omitempty"`
	SnoozedUntil int64  `json:"snoozed_until,omitempty"`
	AssigneeID   ID     `json:"assignee_id,omitempty"`
}

// Interval is an open interval of an office-hours schedule, in minutes
// from Monday 00:00 (0…10080); of an exception, from the date's midnight.
type Interval struct {
	StartMinute int `json:"start_minute"`
	EndMinute   int `json:"end_minute"`
	DayOfWeek   int `json:"day_of_week"`
}

// Schedule is an office-hours schedule.
type Schedule struct {
	Type            string     `json:"type"`
	ID              ID         `json:"id"`
	Name            string     `json:"name"`
	TimeZone        string     `json:"time_zone_name"`
	Intervals       []Interval `json:"time_intervals"`
	TwentyFourSeven bool       `json:"twenty_four_seven"`
}

// Exception is a date on which a schedule is closed or keeps other hours.
type Exception struct {
	Type       string     `json:"type"`
	ID         ID         `json:"id"`
	ScheduleID ID         `json:"office_hours_schedule_id"`
	Date       string     `json:"exception_date"` // YYYY-MM-DD
	Kind       string     `json:"exception_type"` // closed or custom_hours
	Name       string     `json:"name,omitempty"`
	Intervals  []Interval `json:"time_intervals"`
	Annual     bool       `json:"recurring_annually"`
}

// list is a list answer: contacts and schedules under data.
type list[T any] struct {
	Type       string `json:"type"`
	Data       []T    `json:"data"`
	TotalCount int    `json:"total_count"`
}

// Query is a search query: a field compared to a value, or (operator AND
// or OR) a list of queries as Value.
type Query struct {
	Field    string `json:"field,omitempty"`
	Operator string `json:"operator"`
	Value    any    `json:"value"`
}

// Search is the body of a search call.
type Search struct {
	Query      Query `json:"query"`
	Pagination struct {
		PerPage int `json:"per_page"`
	} `json:"pagination"`
}
