package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/engine"
)

// Bots of a workspace: their webhook, desk and policy, the webhook secret's
// rotation, and the delivery log of their events with a redelivery each.

// botsData is the bots page: the list and the new-bot form.
type botsData struct {
	Bots   []engine.BotView
	Desks  []baton.DeskConfig
	New    botForm
	Made   *engine.BotView // the bot just made, whose Secret is shown once
	Secret string
}

// botForm is a bot's form as typed.
type botForm struct {
	ID, Name, WebhookURL, DeskID string
	Policy                       policyForm
}

// botData is one bot's page.
type botData struct {
	Bot        engine.BotView
	Form       botForm
	Desks      []baton.DeskConfig
	Deliveries []baton.Delivery
	After      int64 // the page of the log shown: events after this seq
	Next       int64 // the next page's after, 0 when this one is the last
	Overlap    string
	Secret     string // the secret a rotation just made, shown once
}

// botFieldsView is what the "botfields" template gets.
type botFieldsView struct {
	F      botForm
	Desks  []baton.DeskConfig
	Errors map[string]string
	Edit   bool
}

// botFields are the error fields of a bot's form.
var botFields = append([]string{"id", "name", "webhook_url", "desk_id"}, policyFieldNames...)

func readBotForm(r *http.Request) botForm {
	f := r.PostForm
	return botForm{ID: strings.TrimSpace(f.Get("id")), Name: strings.TrimSpace(f.Get("name")), WebhookURL: strings.TrimSpace(f.Get("webhook_url")),
		DeskID: f.Get("desk_id"), Policy: readPolicyFields(f)}
}

// policy is the policy the form makes of old (the zone and periods stay,
// edited on no page of a bot): nil when nothing is set at all.
func (f botForm) policy(old *baton.Policy) (*baton.Policy, error) {
	p := policyOr(old)
	if err := f.Policy.apply(&p); err != nil {
		return nil, err
	}
	if old == nil && f.Policy.blank() {
		return nil, nil
	}
	return &p, nil
}

func (s *Server) botsPage(c *consoleCall, ws baton.Workspace) (*consoleData, error) {
	bots, err := s.p.Engine.Bots(c.ctx, ws.ID)
	if err != nil {
		return nil, err
	}
	desks, err := s.p.Engine.DeskList(c.ctx, ws.ID)
	if err != nil {
		return nil, err
	}
	d := s.consoleData(c, "Bots of "+ws.Name)
	d.WS, d.Nav = ws, "bots"
	d.Bots = &botsData{Desks: desks}
	for _, b := range bots {
		d.Bots.Bots = append(d.Bots.Bots, engine.ViewBot(b))
	}
	return d, nil
}

func (s *Server) consoleBots(w http.ResponseWriter, r *http.Request, c *consoleCall) {
	ws, err := s.workspace(c, r)
	if err != nil {
		s.consoleFail(w, r, c, err)
		return
	}
	d, err := s.botsPage(c, ws)
	if err != nil {
		s.consoleFail(w, r, c, err)
		return
	}
	if r.URL.Query().Get("done") == "deleted" {
		d.Notice = "Bot deleted."
	}
	s.consoleRender(w, http.StatusOK, "bots", d)
}

func (s *Server) consoleCreateBot(w http.ResponseWriter, r *http.Request, c *consoleCall) {
	ws, err := s.workspace(c, r)
	if err != nil {
		s.consoleFail(w, r, c, err)
		return
	}
	in := readBotForm(r)
	pol, err := in.policy(nil)
	var b baton.Bot
	var secret string
	if err == nil {
		b, secret, err = s.p.Engine.CreateBot(c.ctx, ws.ID, engine.BotInput{ID: in.ID, Name: in.Name, WebhookURL: in.WebhookURL, DeskID: in.DeskID, Policy: pol})
	}
	d, lerr := s.botsPage(c, ws)
	if lerr != nil {
		s.consoleFail(w, r, c, lerr)
		return
	}
	if err != nil {
		d.Bots.New = in
		status := formError(d, err, "The bot was not made", botFields...)
		if status == 0 {
			s.consoleFail(w, r, c, err)
			return
		}
		s.consoleRender(w, status, "bots", d)
		return
	}
	v := engine.ViewBot(b)
	d.Bots.Made, d.Bots.Secret = &v, secret
	d.Notice = "Bot made."
	s.consoleRender(w, http.StatusCreated, "bots", d)
}

// botPage reads the request's bot and its page of the delivery log.
func (s *Server) botPage(c *consoleCall, r *http.Request) (*consoleData, baton.Bot, error) {
	ws, err := s.workspace(c, r)
	if err != nil {
		return nil, baton.Bot{}, err
	}
	b, err := s.p.Engine.Bot(c.ctx, ws.ID, r.PathValue("id"))
	if err != nil {
		return nil, b, err
	}
	desks, err := s.p.Engine.DeskList(c.ctx, ws.ID)
	if err != nil {
		return nil, b, err
	}
	after, _ := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
	ds, err := s.p.Engine.Deliveries(c.ctx, ws.ID, b.ID, max(after, 0), 0)
	if err != nil {
		return nil, b, err
	}
	d := s.consoleData(c, "Bot "+b.Name)
	d.WS, d.Nav = ws, "bots"
	d.Bot = &botData{Bot: engine.ViewBot(b), Desks: desks, Deliveries: ds, After: max(after, 0),
		Form:    botForm{ID: b.ID, Name: b.Name, WebhookURL: b.WebhookURL, DeskID: b.DeskID, Policy: policyFormOf(b.Policy)},
		Overlap: engine.DefaultOverlap.String()}
	if len(ds) == engine.DefaultDeliveries {
		d.Bot.Next = ds[len(ds)-1].Seq
	}
	return d, b, nil
}

func (s *Server) consoleBot(w http.ResponseWriter, r *http.Request, c *consoleCall) {
	d, _, err := s.botPage(c, r)
	if err != nil {
		s.consoleFail(w, r, c, err)
		return
	}
	switch r.URL.Query().Get("done") {
	case "saved":
		d.Notice = "Bot saved."
	case "redelivered":
		d.Notice = "Redelivery queued: the event is posted again, in its conversation's order."
	}
	s.consoleRender(w, http.StatusOK, "bot", d)
}

func (s *Server) consoleUpdateBot(w http.ResponseWriter, r *http.Request, c *consoleCall) {
	d, b, err := s.botPage(c, r)
	if err != nil {
		s.consoleFail(w, r, c, err)
		return
	}
	in := readBotForm(r)
	pol, err := in.policy(b.Policy)
	if err == nil {
		_, err = s.p.Engine.UpdateBot(c.ctx, b.WorkspaceID, b.ID, engine.BotUpdate{Name: engine.To(in.Name), WebhookURL: engine.To(in.WebhookURL),
			DeskID: engine.To(in.DeskID), Policy: engine.To(pol)})
	}
	if err == nil {
		http.Redirect(w, r, "/console/ws/"+b.WorkspaceID+"/bots/"+b.ID+"?done=saved", http.StatusSeeOther)
		return
	}
	in.ID = b.ID
	d.Bot.Form = in
	status := formError(d, err, "Not saved", botFields...)
	if status == 0 {
		s.consoleFail(w, r, c, err)
		return
	}
	s.consoleRender(w, status, "bot", d)
}

func (s *Server) consoleRotateSecret(w http.ResponseWriter, r *http.Request, c *consoleCall) {
	d, b, err := s.botPage(c, r)
	if err != nil {
		s.consoleFail(w, r, c, err)
		return
	}
	text := strings.TrimSpace(r.PostForm.Get("overlap"))
	d.Bot.Overlap = text
	var overlap baton.Duration
	if err = overlap.UnmarshalText([]byte(text)); err != nil {
		err = baton.FieldErrorf("overlap", "%q is not a duration like 0s, 30m or 24h", text)
	}
	var secret string
	if err == nil {
		var nb baton.Bot
		nb, secret, err = s.p.Engine.RotateSecret(c.ctx, b.WorkspaceID, b.ID, "", time.Duration(overlap))
		if err == nil {
			d.Bot.Bot = engine.ViewBot(nb)
		}
	}
	if err != nil {
		status := formError(d, err, "The secret was not rotated", "overlap")
		if status == 0 {
			s.consoleFail(w, r, c, err)
			return
		}
		s.consoleRender(w, status, "bot", d)
		return
	}
	d.Bot.Secret = secret
	d.Notice = "Secret rotated."
	s.consoleRender(w, http.StatusOK, "bot", d)
}

func (s *Server) consoleDeleteBot(w http.ResponseWriter, r *http.Request, c *consoleCall) {
	d, b, err := s.botPage(c, r)
	if err != nil {
		s.consoleFail(w, r, c, err)
		return
	}
	s.confirmedDelete(w, r, c, d, "bot", "/console/ws/"+b.WorkspaceID+"/bots?done=deleted", func() error {
		return s.p.Engine.DeleteBot(c.ctx, b.WorkspaceID, b.ID)
	})
}

// confirmedDelete runs del when the form's confirm box is ticked and goes
// to done; otherwise, or when del is refused for a reason the admin can
// mend, it shows page again saying why.
func (s *Server) confirmedDelete(w http.ResponseWriter, r *http.Request, c *consoleCall, d *consoleData, page, done string, del func() error) {
	if r.PostForm.Get("confirm") == "" {
		d.Errors["confirm"] = "tick this to confirm the delete"
		d.Message = "Not deleted: see the field marked below."
		s.consoleRender(w, http.StatusUnprocessableEntity, page, d)
		return
	}
	if err := del(); err != nil {
		if status := formError(d, err, "Not deleted"); status != 0 {
			s.consoleRender(w, status, page, d)
			return
		}
		s.consoleFail(w, r, c, err)
		return
	}
	http.Redirect(w, r, done, http.StatusSeeOther)
}

func (s *Server) consoleRedeliver(w http.ResponseWriter, r *http.Request, c *consoleCall) {
	ws, err := s.workspace(c, r)
	if err != nil {
		s.consoleFail(w, r, c, err)
		return
	}
	id := r.PathValue("id")
	if _, err := s.p.Engine.Redeliver(c.ctx, ws.ID, id, r.PathValue("event")); err != nil {
		s.consoleFail(w, r, c, err)
		return
	}
	http.Redirect(w, r, "/console/ws/"+ws.ID+"/bots/"+id+"?done=redelivered#event-"+r.PathValue("event"), http.StatusSeeOther)
}

// A bot's service periods, on the desks' editor: they apply where the
// handoff's desk has no policy of its own.

// botOf reads the workspace and the bot a bot page's path names.
func (s *Server) botOf(c *consoleCall, r *http.Request) (baton.Workspace, baton.Bot, error) {
	ws, err := s.workspace(c, r)
	if err != nil {
		return ws, baton.Bot{}, err
	}
	b, err := s.p.Engine.Bot(c.ctx, ws.ID, r.PathValue("id"))
	return ws, b, err
}

func (s *Server) consoleBotPolicy(w http.ResponseWriter, r *http.Request, c *consoleCall) {
	ws, b, err := s.botOf(c, r)
	if err != nil {
		s.consoleFail(w, r, c, err)
		return
	}
	v := engine.ViewBot(b)
	d := s.consoleData(c, "Service periods of bot "+b.Name)
	d.WS, d.Nav = ws, "bots"
	p := &policyData{Bot: &v, Weekdays: weekdays, Own: b.Policy != nil, Fields: policyFormOf(b.Policy)}
	p.Zone, p.Weekly, p.Custom = rowsOf(b.Policy)
	s.drawPolicy(p, policyOr(b.Policy))
	d.Policy = p
	if r.URL.Query().Get("done") == "saved" {
		d.Notice = "Saved."
	}
	s.consoleRender(w, http.StatusOK, "policy", d)
}

func (s *Server) consoleSaveBotPolicy(w http.ResponseWriter, r *http.Request, c *consoleCall) {
	ws, b, err := s.botOf(c, r)
	if err != nil {
		s.consoleFail(w, r, c, err)
		return
	}
	v := engine.ViewBot(b)
	s.savePolicy(w, r, c, ws, &policyData{Bot: &v}, "Service periods of bot "+b.Name, b.Policy, func(pol *baton.Policy) error {
		_, err := s.p.Engine.UpdateBot(c.ctx, ws.ID, b.ID, engine.BotUpdate{Policy: engine.To(pol)})
		return err
	}, "/console/ws/"+ws.ID+"/bots/"+b.ID+"/policy?done=saved")
}
