package httpapi

import (
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/engine"
)

// handleCreateHandoff asks for a human. All three outcomes answer 201 with the
// handoff: requested (the desk is being opened), requested with needs_email,
// or ended out_of_hours carrying the reply for the customer.
func handleCreateHandoff(log *slog.Logger, eng *engine.Engine) http.Handler {
	type request struct {
		BotID          string         `json:"bot_id"`
		DeskID         string         `json:"desk_id"`
		ConversationID string         `json:"conversation_id"`
		Customer       baton.Customer `json:"customer"`
		History        []baton.Turn   `json:"history"`
		Question       string         `json:"question"`
		Routing        string         `json:"routing"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := decode[request](r)
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		h, _, err := eng.CreateHandoff(r.Context(), workspace(r.Context()), baton.CreateRequest{
			BotID: req.BotID, DeskID: req.DeskID, ExternalID: req.ConversationID, Customer: req.Customer,
			History: req.History, Question: req.Question, Routing: req.Routing,
		})
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		w.Header().Set("Location", "/v1/handoffs/"+h.ID)
		encode(w, http.StatusCreated, newHandoff(h))
	})
}

// handleGetHandoff reads one handoff.
func handleGetHandoff(log *slog.Logger, eng *engine.Engine) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, err := eng.Handoff(r.Context(), workspace(r.Context()), r.PathValue("id"))
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		encode(w, http.StatusOK, newHandoff(h))
	})
}

// handleCustomerMessage relays a customer message to the human side.
func handleCustomerMessage(log *slog.Logger, eng *engine.Engine) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := decode[messageRequest](r)
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		ws, id := workspace(r.Context()), r.PathValue("id")
		m, err := eng.CustomerMessage(r.Context(), ws, id, req.Text, req.Attachments)
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		ext, err := eng.ExternalID(r.Context(), ws, id)
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		encode(w, http.StatusCreated, newMessage(m, ext))
	})
}

// handleKeepWaiting answers a wait-timeout event: keep waiting for an agent.
func handleKeepWaiting(log *slog.Logger, eng *engine.Engine) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := decode[struct{}](r); err != nil && err != errEmptyBody {
			encodeError(w, r, log, err)
			return
		}
		h, err := eng.KeepWaiting(r.Context(), workspace(r.Context()), r.PathValue("id"))
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		encode(w, http.StatusOK, newHandoff(h))
	})
}

// handleEndHandoff ends a handoff from the bot's side; the body is optional.
func handleEndHandoff(log *slog.Logger, eng *engine.Engine) http.Handler {
	type request struct {
		Reason baton.EndReason `json:"reason"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := decode[request](r)
		if err != nil && err != errEmptyBody {
			encodeError(w, r, log, err)
			return
		}
		h, err := eng.End(r.Context(), workspace(r.Context()), r.PathValue("id"), req.Reason)
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		encode(w, http.StatusOK, newHandoff(h))
	})
}

// handleProvideEmail gives a handoff waiting for it the customer's email.
func handleProvideEmail(log *slog.Logger, eng *engine.Engine) http.Handler {
	type request struct {
		Email string `json:"email"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := decode[request](r)
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		h, err := eng.ProvideEmail(r.Context(), workspace(r.Context()), r.PathValue("id"), req.Email)
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		encode(w, http.StatusOK, newHandoff(h))
	})
}

// handleGetConversation tells a bot who owns a conversation and under which
// epoch. A conversation Baton has never seen belongs to the bot at epoch 0.
func handleGetConversation(log *slog.Logger, eng *engine.Engine) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("conversation_id")
		c, hs, err := eng.Conversation(r.Context(), workspace(r.Context()), r.URL.Query().Get("bot_id"), id)
		switch {
		case baton.ErrorCode(err) == baton.ENOTFOUND && baton.ErrorField(err) == "":
			// The bot was found (a missing bot names bot_id) but the
			// conversation was not: it was never handed off, the bot holds it.
			c = baton.Conversation{ExternalID: id, Owner: baton.OwnerBot}
		case err != nil:
			encodeError(w, r, log, err)
			return
		}
		out := conversationJSON{ConversationID: c.ExternalID, Owner: c.Owner, Epoch: c.Epoch, Handoffs: newHandoffs(hs)}
		if c.HandoffID != "" {
			out.OpenHandoffID = &c.HandoffID
		}
		encode(w, http.StatusOK, out)
	})
}

// handleBotMessage records a bot's reply to the customer if the bot still owns
// the conversation under the epoch it names: the check a bot makes before it
// speaks. A moved epoch is a 409 stale_epoch problem.
func handleBotMessage(log *slog.Logger, eng *engine.Engine) http.Handler {
	type request struct {
		BotID       string             `json:"bot_id"`
		Epoch       *int64             `json:"epoch"`
		Text        string             `json:"text"`
		Attachments []baton.Attachment `json:"attachments"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := decode[request](r)
		if err == nil && req.Epoch == nil {
			err = baton.FieldErrorf("epoch", "is required: the epoch the bot decided to speak under")
		}
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		id := r.PathValue("conversation_id")
		m, err := eng.BotMessage(r.Context(), workspace(r.Context()), engine.BotSays{BotID: req.BotID, ExternalID: id, Epoch: *req.Epoch, Text: req.Text, Attachments: req.Attachments})
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		encode(w, http.StatusCreated, newMessage(m, id))
	})
}

// handleTransfer hands a seat chat to a human group.
func handleTransfer(log *slog.Logger, eng *engine.Engine) http.Handler {
	type request struct {
		BotID string `json:"bot_id"`
		Hint  string `json:"hint"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := decode[request](r)
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		h, err := eng.Transfer(r.Context(), workspace(r.Context()), engine.TransferRequest{BotID: req.BotID, ExternalID: r.PathValue("conversation_id"), Hint: req.Hint})
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		encode(w, http.StatusCreated, newHandoff(h))
	})
}

// handleAvailability says whether a handoff can be served now.
func handleAvailability(log *slog.Logger, eng *engine.Engine) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		at, err := timeParam("at", q.Get("at"))
		if err == nil {
			var a engine.Availability
			a, err = eng.Availability(r.Context(), workspace(r.Context()), deskQuery(r), at)
			if err == nil {
				encode(w, http.StatusOK, newAvailability(a))
				return
			}
		}
		encodeError(w, r, log, err)
	})
}

// handleCalendar lists the open time of each date of a range.
func handleCalendar(log *slog.Logger, eng *engine.Engine) http.Handler {
	type window struct {
		Start time.Time `json:"start"`
		End   time.Time `json:"end"`
	}
	type day struct {
		Date    string   `json:"date"`
		Windows []window `json:"windows"`
	}
	type response struct {
		Zone string `json:"zone"`
		Days []day  `json:"days"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		from, err := dateParam("from", q.Get("from"))
		var to time.Time
		if err == nil {
			to, err = dateParam("to", q.Get("to"))
		}
		var out response
		if err == nil {
			var days []engine.Day
			out.Zone, days, err = eng.Calendar(r.Context(), workspace(r.Context()), deskQuery(r), from, to)
			for _, d := range days {
				ws := make([]window, 0, len(d.Windows))
				for _, x := range d.Windows {
					ws = append(ws, window{Start: x.Start.UTC(), End: x.End.UTC()})
				}
				out.Days = append(out.Days, day{Date: d.Date, Windows: ws})
			}
		}
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		encode(w, http.StatusOK, out)
	})
}

// deskQuery reads the bot_id and desk_id a read names.
func deskQuery(r *http.Request) engine.DeskQuery {
	q := r.URL.Query()
	return engine.DeskQuery{BotID: q.Get("bot_id"), DeskID: q.Get("desk_id")}
}

// The years the availability and calendar reads answer for: service
// periods are about the present, and outside these years a next opening
// could not be written as RFC 3339 nor a zone's offset in whole minutes.
const (
	firstYear = 1970
	lastYear  = 9000
)

// timeParam reads an RFC 3339 instant (the letters T and Z in either case);
// "" is the zero time.
func timeParam(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, strings.ToUpper(s))
	if err != nil {
		return t, baton.FieldErrorf(field, "%q is not an RFC 3339 time like 2026-12-24T09:00:00Z", s)
	}
	if y := t.UTC().Year(); y < firstYear || y > lastYear {
		return t, baton.FieldErrorf(field, "%q is outside the years %d to %d", s, firstYear, lastYear)
	}
	return t, nil
}

// dateParam reads a required civil date, YYYY-MM-DD.
func dateParam(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, baton.FieldErrorf(field, "is required: a date like 2026-12-24")
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return t, baton.FieldErrorf(field, "%q is not a date like 2026-12-24", s)
	}
	if y := t.Year(); y < firstYear || y > lastYear {
		return t, baton.FieldErrorf(field, "%q is outside the years %d to %d", s, firstYear, lastYear)
	}
	return t, nil
}

// handleTyping records that the customer is typing, for the agent's page:
// 204, whether or not a report came less than a few seconds before.
func handleTyping(log *slog.Logger, eng *engine.Engine) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := decode[struct{}](r); err != nil && err != errEmptyBody {
			encodeError(w, r, log, err)
			return
		}
		if _, err := eng.CustomerTyping(r.Context(), workspace(r.Context()), r.PathValue("id")); err != nil {
			encodeError(w, r, log, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// saidJSON is what a customer message passed on whole did.
type saidJSON struct {
	Action  string       `json:"action"`
	Handoff *handoffJSON `json:"handoff,omitempty"`
	Message *messageJSON `json:"message,omitempty"`
}

// handleCustomerSays takes one customer message of a conversation, its
// session payload included, and answers what Baton did with it: opened a
// handoff (201), relayed it to the desk (201), ended the handoff, or left
// it to the bot (200).
func handleCustomerSays(log *slog.Logger, eng *engine.Engine) http.Handler {
	type request struct {
		BotID       string             `json:"bot_id"`
		DeskID      string             `json:"desk_id"`
		Customer    baton.Customer     `json:"customer"`
		Text        string             `json:"text"`
		Payload     string             `json:"payload"`
		Attachments []baton.Attachment `json:"attachments"`
		History     []baton.Turn       `json:"history"`
		Routing     string             `json:"routing"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := decode[request](r)
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		id := r.PathValue("conversation_id")
		s, err := eng.CustomerSays(r.Context(), workspace(r.Context()), engine.CustomerSays{BotID: req.BotID, ExternalID: id,
			Customer: req.Customer, Text: req.Text, Payload: req.Payload, Attachments: req.Attachments,
			History: req.History, DeskID: req.DeskID, Routing: req.Routing})
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		out, status := saidJSON{Action: s.Action}, http.StatusOK
		if s.Handoff.ID != "" {
			h := newHandoff(s.Handoff)
			out.Handoff = &h
		}
		switch s.Action {
		case engine.SaidOpened:
			if !s.Before {
				status = http.StatusCreated
			}
			w.Header().Set("Location", "/v1/handoffs/"+s.Handoff.ID)
		case engine.SaidRelayed:
			status = http.StatusCreated
		}
		if s.Message.ID != "" {
			m := newMessage(s.Message, id)
			out.Message = &m
		}
		encode(w, status, out)
	})
}
