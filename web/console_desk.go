package web

import (
	"cmp"
	"net/http"
	"strings"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/engine"
)

// A desk's settings: edited with the same form per kind as a new desk's. A
// secret shows only whether it is set; left blank it keeps its value.

// editDeskData is a desk's edit page.
type editDeskData struct {
	Desk   deskRow
	Name   string
	Fields []settingRow // a secret's Value is "set" or "unset"
}

func (s *Server) editDesk(c *consoleCall, r *http.Request) (*consoleData, baton.DeskConfig, error) {
	ws, dc, err := s.consoleDesk(c, r)
	if err != nil {
		return nil, dc, err
	}
	v := s.p.Engine.ViewDesk(dc)
	e := &editDeskData{Desk: deskRow{DeskView: v}, Name: dc.Name}
	for _, f := range consoleFields[dc.Kind] {
		sr := settingRow{settingField: f, Value: v.Settings[f.Name]}
		if f.Secret {
			sr.Value = cmp.Or(v.Secrets[f.Name], "unset")
		}
		e.Fields = append(e.Fields, sr)
	}
	d := s.consoleData(c, "Settings of "+dc.Name)
	d.WS, d.Nav, d.EditDesk = ws, "desks", e
	return d, dc, nil
}

func (s *Server) consoleEditDesk(w http.ResponseWriter, r *http.Request, c *consoleCall) {
	d, _, err := s.editDesk(c, r)
	if err != nil {
		s.consoleFail(w, r, c, err)
		return
	}
	s.consoleRender(w, http.StatusOK, "editdesk", d)
}

func (s *Server) consoleUpdateDesk(w http.ResponseWriter, r *http.Request, c *consoleCall) {
	d, dc, err := s.editDesk(c, r)
	if err != nil {
		s.consoleFail(w, r, c, err)
		return
	}
	e := d.EditDesk
	e.Name = strings.TrimSpace(r.PostForm.Get("name"))
	settings := map[string]string{}
	for i, f := range e.Fields {
		v := strings.TrimSpace(r.PostForm.Get("settings." + f.Name))
		switch {
		case !f.Secret:
			settings[f.Name], e.Fields[i].Value = v, v // "" removes it
		case r.PostForm.Get("clear."+f.Name) != "":
			settings[f.Name] = ""
		case v != "":
			settings[f.Name] = v // blank keeps the secret; it is never shown back
		}
	}
	_, err = s.p.Engine.UpdateDesk(c.ctx, dc.WorkspaceID, dc.ID, engine.DeskUpdate{Name: engine.To(e.Name), Settings: settings})
	if err == nil {
		http.Redirect(w, r, "/console/ws/"+dc.WorkspaceID+"/?done=saved#desk-"+dc.ID, http.StatusSeeOther)
		return
	}
	status := formError(d, err, "Not saved", append([]string{"name"}, fieldNames(e.Fields)...)...)
	if status == 0 {
		s.consoleFail(w, r, c, err)
		return
	}
	s.consoleRender(w, status, "editdesk", d)
}

func (s *Server) consoleDeleteDesk(w http.ResponseWriter, r *http.Request, c *consoleCall) {
	d, dc, err := s.editDesk(c, r)
	if err != nil {
		s.consoleFail(w, r, c, err)
		return
	}
	// Refused while a bot, an agent or an open handoff holds the desk: the message says which.
	s.confirmedDelete(w, r, c, d, "editdesk", "/console/ws/"+dc.WorkspaceID+"/?done=deleted", func() error {
		return s.p.Engine.DeleteDesk(c.ctx, dc.WorkspaceID, dc.ID)
	})
}
