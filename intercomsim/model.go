package intercomsim

import "time"

// Contact is a user or a lead.
type Contact struct {
	Type        string    `json:"type"`
	ID          string    `json:"id"`
	WorkspaceID string    `json:"workspace_id"`
	Role        string    `json:"role"`
	ExternalID  *string   `json:"external_id"`
	Email       *string   `json:"email"`
	Name        *string   `json:"name"`
	CreatedAt   int64     `json:"created_at"`
	indexed     time.Time // when search finds it
}

// Attachment is a file on a part.
type Attachment struct {
	Type        string `json:"type"`
	Name        string `json:"name"`
	URL         string `json:"url"`
	ContentType string `json:"content_type"`
	Filesize    int64  `json:"filesize"`
}

// Author is who wrote a part.
type Author struct {
	Type  string `json:"type"`
	ID    string `json:"id"`
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
}

// Assigned is whom an assignment part gave the conversation to.
type Assigned struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

// Part is a conversation part. Body is kept as plain text; it is shown as
// HTML or plain text as the API version asks.
type Part struct {
	Type        string       `json:"type"`
	ID          string       `json:"id"`
	PartType    string       `json:"part_type"`
	Body        string       `json:"body"`
	CreatedAt   int64        `json:"created_at"`
	UpdatedAt   int64        `json:"updated_at"`
	NotifiedAt  int64        `json:"notified_at"`
	AssignedTo  *Assigned    `json:"assigned_to"`
	Author      Author       `json:"author"`
	Attachments []Attachment `json:"attachments"`
	ExternalID  *string      `json:"external_id"`
	Redacted    bool         `json:"redacted"`
	// Stored is when the simulator stored the part, finer than CreatedAt
	// (seconds), for measurements; never shown by the API.
	Stored time.Time `json:"-"`
}

// Source is a conversation's first message.
type Source struct {
	Type        string       `json:"type"`
	ID          string       `json:"id"`
	DeliveredAs string       `json:"delivered_as"`
	Body        string       `json:"body"`
	Author      Author       `json:"author"`
	Attachments []Attachment `json:"attachments"`
}

// Conversation is a conversation with all its parts.
type Conversation struct {
	ID            string
	CreatedAt     int64
	UpdatedAt     int64
	State         string // open, closed, snoozed
	Read          bool
	SnoozedUntil  int64
	AdminAssignee string
	Contact       string // the contact's id
	ExternalID    string // the contact's external id
	Source        Source
	Parts         []Part
	indexed       time.Time // when search finds it
}

// Schedule is an office-hours schedule.
type Schedule struct {
	Type            string     `json:"type"`
	ID              string     `json:"id"`
	Name            string     `json:"name"`
	TimeZone        string     `json:"time_zone_name"`
	Intervals       []Interval `json:"time_intervals"`
	TwentyFourSeven bool       `json:"twenty_four_seven"`
	CreatedAt       int64      `json:"created_at"`
	UpdatedAt       int64      `json:"updated_at"`
}

// Interval is an open interval in minutes (from Monday 00:00 for a
// schedule, from midnight for an exception).
type Interval struct {
	StartMinute int `json:"start_minute"`
	EndMinute   int `json:"end_minute"`
	DayOfWeek   int `json:"day_of_week"`
}

// Exception is a date a schedule is closed or keeps other hours.
type Exception struct {
	Type       string     `json:"type"`
	ID         string     `json:"id"`
	ScheduleID string     `json:"office_hours_schedule_id"`
	Date       string     `json:"exception_date"`
	Kind       string     `json:"exception_type"` // closed or custom_hours
	Name       string     `json:"name"`
	Intervals  []Interval `json:"time_intervals"`
	Annual     bool       `json:"recurring_annually"`
}

// Webhook is a subscription: the URL notifications of its topics go to.
type Webhook struct {
	ID     string
	URL    string
	Topics map[string]bool
}

// Topics the simulator emits.
const (
	TopicPing        = "ping"
	TopicUserCreated = "conversation.user.created"
	TopicUserReplied = "conversation.user.replied"
	TopicReplied     = "conversation.admin.replied"
	TopicNoted       = "conversation.admin.noted"
	TopicClosed      = "conversation.admin.closed"
	TopicSnoozed     = "conversation.admin.snoozed"
	TopicUnsnoozed   = "conversation.admin.unsnoozed"
	TopicOpened      = "conversation.admin.opened"
	TopicAssigned    = "conversation.admin.assigned"
	TopicRead        = "conversation.read"
)
