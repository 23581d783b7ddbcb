package baton

import (
	"encoding/json"
	"fmt"
	"net/mail"
	"net/url"
	"strings"
	"unicode/utf8"
)

// Limits on what a bot may send.
const (
	MaxText        = 16 << 10 // bytes of text in one message
	MaxAttachments = 10
	MaxHistory     = 200 // history items in a create request
	MaxExternalID  = 200 // characters of the bot's conversation id
	MaxName        = 200 // characters of the customer's name
	MaxMetadata    = 50  // keys of the customer's metadata
	MaxMetadataKey = 100 // characters of one metadata key
	MaxMetadataLen = 8 << 10
)

// Turn is one message of the history a bot hands over.
type Turn struct {
	Author      Author       `json:"author"` // customer, bot or agent
	Text        string       `json:"text"`
	Attachments []Attachment `json:"attachments,omitempty"`
}

// CreateRequest asks for a human.
type CreateRequest struct {
	BotID      string   // optional when the workspace has one bot
	DeskID     string   // optional: the bot's desk by default
	ExternalID string   // the bot's own id for the conversation
	Customer   Customer // id required; name, email, metadata optional
	History    []Turn   // older first; trimmed to the policy's rounds
	Question   string   // the customer's latest question
	Routing    string   // a hint for the desk's routing (group, team, skill)
}

// Valid checks a request's shape and names the first bad field.
func (r CreateRequest) Valid() error {
	switch {
	case strings.TrimSpace(r.ExternalID) == "":
		return FieldErrorf("conversation_id", "is required")
	case len(r.ExternalID) > MaxExternalID:
		return FieldErrorf("conversation_id", "is longer than %d characters", MaxExternalID)
	case strings.TrimSpace(r.Customer.ID) == "":
		return FieldErrorf("customer.id", "is required")
	case len(r.Customer.ID) > MaxExternalID:
		return FieldErrorf("customer.id", "is longer than %d characters", MaxExternalID)
	case utf8.RuneCountInString(r.Customer.Name) > MaxName:
		return FieldErrorf("customer.name", "is longer than %d characters", MaxName)
	case len(r.Customer.Metadata) > MaxMetadata:
		return FieldErrorf("customer.metadata", "has more than %d keys", MaxMetadata)
	case r.Customer.Email != "" && !ValidEmail(r.Customer.Email):
		return FieldErrorf("customer.email", "%q is not an email address", r.Customer.Email)
	case strings.TrimSpace(r.Question) == "":
		return FieldErrorf("question", "is required")
	case len(r.Question) > MaxText:
		return FieldErrorf("question", "is longer than %d bytes", MaxText)
	case len(r.History) > MaxHistory:
		return FieldErrorf("history", "has more than %d items", MaxHistory)
	}
	for k := range r.Customer.Metadata {
		if utf8.RuneCountInString(k) > MaxMetadataKey {
			return FieldErrorf("customer.metadata", "has a key longer than %d characters", MaxMetadataKey)
		}
	}
	if b, _ := json.Marshal(r.Customer.Metadata); len(b) > MaxMetadataLen {
		return FieldErrorf("customer.metadata", "is larger than %d bytes as JSON", MaxMetadataLen)
	}
	for i, t := range r.History {
		f := fmt.Sprintf("history[%d]", i)
		if t.Author != ByCustomer && t.Author != ByBot && t.Author != ByAgent {
			return FieldErrorf(f+".author", "must be customer, bot or agent")
		}
		if err := validMessage(f, t.Text, t.Attachments); err != nil {
			return err
		}
	}
	return nil
}

// ValidEmail reports whether s is one plain email address, within the
// lengths mail can carry (RFC 5321: 64 bytes before the @, 254 in all).
func ValidEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	at := strings.LastIndexByte(s, '@')
	return err == nil && a.Address == s && len(s) <= 254 && at <= 64
}

// ValidMessage checks a message's text and attachments against Baton's
// limits, naming the first bad field.
func ValidMessage(text string, atts []Attachment) error { return validMessage("", text, atts) }

// validMessage is ValidMessage with the fields named under prefix.
func validMessage(prefix, text string, atts []Attachment) error {
	field := func(name string) string {
		if prefix == "" {
			return name
		}
		return prefix + "." + name
	}
	if strings.TrimSpace(text) == "" && len(atts) == 0 {
		return FieldErrorf(field("text"), "is required when there are no attachments")
	}
	if len(text) > MaxText {
		return FieldErrorf(field("text"), "is longer than %d bytes", MaxText)
	}
	if len(atts) > MaxAttachments {
		return FieldErrorf(field("attachments"), "has more than %d items", MaxAttachments)
	}
	for i, a := range atts {
		f := field(fmt.Sprintf("attachments[%d]", i))
		if u, err := url.Parse(a.URL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return FieldErrorf(f+".url", "must be an http or https URL with a host")
		}
		if a.Size < 0 {
			return FieldErrorf(f+".size", "must not be negative")
		}
	}
	return nil
}
