package web

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/engine"
)

// Workspaces: create, rename and delete, on the admin API's rules (a
// workspace with open handoffs is deleted only with force).

// wsForm is the workspace forms as typed.
type wsForm struct {
	ID, Name string
	Force    bool
}

func (s *Server) consoleCreateWorkspace(w http.ResponseWriter, r *http.Request, c *consoleCall) {
	in := wsForm{ID: strings.TrimSpace(r.PostForm.Get("id")), Name: strings.TrimSpace(r.PostForm.Get("name"))}
	ws, err := s.p.Engine.CreateWorkspace(c.ctx, engine.WorkspaceInput{ID: in.ID, Name: in.Name})
	if err == nil {
		http.Redirect(w, r, "/console/ws/"+ws.ID+"/?done=ws-created", http.StatusSeeOther)
		return
	}
	all, lerr := s.p.Engine.Workspaces(c.ctx)
	if lerr != nil {
		s.consoleFail(w, r, c, lerr)
		return
	}
	d := s.consoleData(c, "Workspaces")
	for _, ws := range all {
		if ws.DeletedAt.IsZero() {
			d.Workspaces = append(d.Workspaces, ws)
		}
	}
	d.WSForm = &in
	status := formError(d, err, "The workspace was not created", "id", "name")
	if status == 0 {
		s.consoleFail(w, r, c, err)
		return
	}
	s.consoleRender(w, status, "workspaces", d)
}

func (s *Server) consoleWorkspaceSettings(w http.ResponseWriter, r *http.Request, c *consoleCall) {
	ws, err := s.workspace(c, r)
	if err != nil {
		s.consoleFail(w, r, c, err)
		return
	}
	d := s.consoleData(c, "Settings of "+ws.Name)
	d.WS, d.Nav, d.WSForm = ws, "settings", &wsForm{Name: ws.Name}
	if r.URL.Query().Get("done") == "renamed" {
		d.Notice = "Workspace renamed."
	}
	s.consoleRender(w, http.StatusOK, "wssettings", d)
}

func (s *Server) consoleRenameWorkspace(w http.ResponseWriter, r *http.Request, c *consoleCall) {
	ws, err := s.workspace(c, r)
	if err != nil {
		s.consoleFail(w, r, c, err)
		return
	}
	name := strings.TrimSpace(r.PostForm.Get("name"))
	if _, err = s.p.Engine.RenameWorkspace(c.ctx, ws.ID, name); err == nil {
		http.Redirect(w, r, "/console/ws/"+ws.ID+"/settings?done=renamed", http.StatusSeeOther)
		return
	}
	d := s.consoleData(c, "Settings of "+ws.Name)
	d.WS, d.Nav, d.WSForm = ws, "settings", &wsForm{Name: name}
	status := formError(d, err, "Not renamed", "name")
	if status == 0 {
		s.consoleFail(w, r, c, err)
		return
	}
	s.consoleRender(w, status, "wssettings", d)
}

func (s *Server) consoleDeleteWorkspace(w http.ResponseWriter, r *http.Request, c *consoleCall) {
	ws, err := s.workspace(c, r)
	if err != nil {
		s.consoleFail(w, r, c, err)
		return
	}
	d := s.consoleData(c, "Settings of "+ws.Name)
	d.WS, d.Nav, d.WSForm = ws, "settings", &wsForm{Name: ws.Name, Force: r.PostForm.Get("force") != ""}
	if r.PostForm.Get("confirm") != ws.ID {
		d.Errors["confirm"] = fmt.Sprintf("type the workspace's id, %s, to delete it", ws.ID)
		d.Message = "Not deleted: see the field marked below."
		s.consoleRender(w, http.StatusUnprocessableEntity, "wssettings", d)
		return
	}
	ended, err := s.p.Engine.DeleteWorkspace(c.ctx, ws.ID, d.WSForm.Force)
	if err == nil {
		if ended > 0 {
			s.p.Log.Info("console: a workspace was deleted with force", "workspace", ws.ID, "ended", ended)
		}
		http.Redirect(w, r, "/console/?done=deleted", http.StatusSeeOther)
		return
	}
	if baton.ErrorCode(err) == baton.ECONFLICT {
		// The admin API's rule: open handoffs are ended only with force.
		d.Errors["force"] = "Tick this to end the open handoffs (they close as bot_closed), then delete again."
		d.Message = "Not deleted: " + baton.ErrorMessage(err) + "."
		s.consoleRender(w, http.StatusConflict, "wssettings", d)
		return
	}
	s.consoleFail(w, r, c, err)
}
