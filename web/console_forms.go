package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/batonhq/baton"
)

// What the console's forms share: field errors, and the policy fields
// besides the service periods (a desk's policy page and a bot's page).

// formError puts err on the page d: next to its field when the field is one
// of fields (the form's names), in the alert otherwise, after what ("Not
// saved"). It returns the status to answer, or 0 when err is not one a
// person can fix by changing the form: the caller then answers consoleFail.
func formError(d *consoleData, err error, what string, fields ...string) int {
	status := http.StatusUnprocessableEntity
	switch baton.ErrorCode(err) {
	case baton.EINVALID, baton.EBADREQUEST:
	case baton.ECONFLICT:
		status = http.StatusConflict
	default:
		return 0
	}
	msg := baton.ErrorMessage(err)
	if f := baton.ErrorField(err); f != "" && slices.Contains(fields, f) {
		d.Errors[f] = msg
		d.Message = what + ": see the field marked below."
	} else {
		d.Message = what + ": " + msg
	}
	return status
}

// policyForm is a policy's fields besides its zone and periods, as the form
// shows them (or as they were typed).
type policyForm struct {
	WaitTimeout, WaitGrace, SessionTimeout, IdleExpiry string
	HistoryRounds                                      string
	OutOfHours, Trigger                                string
	RequireEmail                                       bool
	Start, End, Expired                                string // the session payloads' names
}

// policyFieldNames are the error fields of a policyForm.
var policyFieldNames = []string{"policy.wait_timeout", "policy.wait_grace", "policy.session_timeout", "policy.idle_expiry",
	"policy.history_rounds", "policy.out_of_hours_reply", "policy.trigger_description",
	"policy.session_payloads", "policy.session_payloads.start", "policy.session_payloads.end", "policy.session_payloads.expired"}

// policyFormOf shows p's fields; a zero field is blank (its default applies).
func policyFormOf(p *baton.Policy) policyForm {
	var f policyForm
	if p == nil {
		return f
	}
	dur := func(d baton.Duration) string {
		if d == 0 {
			return ""
		}
		return d.D().String()
	}
	f.WaitTimeout, f.WaitGrace, f.SessionTimeout, f.IdleExpiry = dur(p.WaitTimeout), dur(p.WaitGrace), dur(p.SessionTimeout), dur(p.IdleExpiry)
	if p.HistoryRounds != 0 {
		f.HistoryRounds = strconv.Itoa(p.HistoryRounds)
	}
	f.OutOfHours, f.Trigger, f.RequireEmail = p.OutOfHoursReply, p.TriggerDescription, p.RequireEmail
	if sp := p.SessionPayloads; sp != nil {
		f.Start, f.End, f.Expired = sp.Start, sp.End, sp.Expired
	}
	return f
}

// readPolicyFields reads a policy form's fields as typed.
func readPolicyFields(v url.Values) policyForm {
	// A browser sends a textarea's line breaks as CRLF: one break is "\n".
	get := func(k string) string { return strings.TrimSpace(strings.ReplaceAll(v.Get(k), "\r\n", "\n")) }
	return policyForm{WaitTimeout: get("wait_timeout"), WaitGrace: get("wait_grace"), SessionTimeout: get("session_timeout"),
		IdleExpiry: get("idle_expiry"), HistoryRounds: get("history_rounds"), OutOfHours: get("out_of_hours_reply"),
		Trigger: get("trigger_description"), RequireEmail: v.Get("require_email") != "",
		Start: get("session_start"), End: get("session_end"), Expired: get("session_expired")}
}

// blank reports whether the form sets nothing (every default applies).
func (f policyForm) blank() bool { return f == policyForm{} }

// apply sets f's fields on p. An error names the field under "policy.";
// the limits are CheckPolicy's.
func (f policyForm) apply(p *baton.Policy) error {
	for _, d := range []struct {
		name, text string
		to         *baton.Duration
	}{{"wait_timeout", f.WaitTimeout, &p.WaitTimeout}, {"wait_grace", f.WaitGrace, &p.WaitGrace},
		{"session_timeout", f.SessionTimeout, &p.SessionTimeout}, {"idle_expiry", f.IdleExpiry, &p.IdleExpiry}} {
		*d.to = 0
		if d.text != "" && d.to.UnmarshalText([]byte(d.text)) != nil {
			return baton.FieldErrorf("policy."+d.name, "%q is not a duration like 90s, 5m or 1h30m", d.text)
		}
	}
	p.HistoryRounds = 0
	if f.HistoryRounds != "" {
		n, err := strconv.Atoi(f.HistoryRounds)
		if err != nil {
			return baton.FieldErrorf("policy.history_rounds", "%q is not a whole number", f.HistoryRounds)
		}
		p.HistoryRounds = n
	}
	p.OutOfHoursReply, p.TriggerDescription, p.RequireEmail = f.OutOfHours, f.Trigger, f.RequireEmail
	p.SessionPayloads = nil
	if f.Start != "" || f.End != "" || f.Expired != "" {
		p.SessionPayloads = &baton.SessionPayloads{Start: f.Start, End: f.End, Expired: f.Expired}
	}
	return nil
}

// policyFieldsView is what the "policyfields" template gets.
type policyFieldsView struct {
	F      policyForm
	Errors map[string]string
}
