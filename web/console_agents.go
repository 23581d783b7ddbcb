package web

import (
	"net/http"
	"strings"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/engine"
)

// Inbox agents of a workspace: the people answering its inbox desks.

// agentsData is the inbox agents page.
type agentsData struct {
	Agents []engine.AgentView
	Desks  []baton.DeskConfig // the workspace's inbox desks
	New    agentForm
}

// agentForm is the new-agent form as typed (the password is never shown back).
type agentForm struct {
	ID, Name, Email, DeskID string
}

func (s *Server) agentsPage(c *consoleCall, ws baton.Workspace) (*consoleData, error) {
	agents, err := s.p.Engine.Agents(c.ctx, ws.ID)
	if err != nil {
		return nil, err
	}
	desks, err := s.p.Engine.DeskList(c.ctx, ws.ID)
	if err != nil {
		return nil, err
	}
	d := s.consoleData(c, "Inbox agents of "+ws.Name)
	d.WS, d.Nav = ws, "agents"
	d.Agents = &agentsData{}
	for _, a := range agents {
		d.Agents.Agents = append(d.Agents.Agents, engine.ViewAgent(a))
	}
	for _, dc := range desks {
		if dc.Kind == baton.KindInbox {
			d.Agents.Desks = append(d.Agents.Desks, dc)
		}
	}
	return d, nil
}

func (s *Server) consoleAgents(w http.ResponseWriter, r *http.Request, c *consoleCall) {
	ws, err := s.workspace(c, r)
	if err != nil {
		s.consoleFail(w, r, c, err)
		return
	}
	d, err := s.agentsPage(c, ws)
	if err != nil {
		s.consoleFail(w, r, c, err)
		return
	}
	switch r.URL.Query().Get("done") {
	case "created":
		d.Notice = "Agent added: they sign in to the inbox with their email and password."
	case "disabled":
		d.Notice = "Agent disabled: their sessions ended, and they cannot sign in."
	case "enabled":
		d.Notice = "Agent enabled."
	case "password":
		d.Notice = "Password changed: the agent's sessions ended."
	case "deleted":
		d.Notice = "Agent deleted."
	}
	s.consoleRender(w, http.StatusOK, "agents", d)
}

func (s *Server) consoleCreateAgent(w http.ResponseWriter, r *http.Request, c *consoleCall) {
	ws, err := s.workspace(c, r)
	if err != nil {
		s.consoleFail(w, r, c, err)
		return
	}
	f := r.PostForm
	in := agentForm{ID: strings.TrimSpace(f.Get("id")), Name: strings.TrimSpace(f.Get("name")), Email: strings.TrimSpace(f.Get("email")), DeskID: f.Get("desk_id")}
	_, _, err = s.p.Engine.CreateAgent(c.ctx, ws.ID, engine.AgentInput{ID: in.ID, Name: in.Name, Email: in.Email, DeskID: in.DeskID, Password: f.Get("password")})
	if err == nil {
		http.Redirect(w, r, "/console/ws/"+ws.ID+"/agents?done=created", http.StatusSeeOther)
		return
	}
	d, lerr := s.agentsPage(c, ws)
	if lerr != nil {
		s.consoleFail(w, r, c, lerr)
		return
	}
	d.Agents.New = in
	status := formError(d, err, "The agent was not added", "id", "name", "email", "desk_id", "password")
	if status == 0 {
		s.consoleFail(w, r, c, err)
		return
	}
	s.consoleRender(w, status, "agents", d)
}

// agent reads the request's agent, ENOTFOUND when it is another workspace's.
func (s *Server) agent(c *consoleCall, r *http.Request) (baton.Workspace, baton.InboxAgent, error) {
	ws, err := s.workspace(c, r)
	if err != nil {
		return ws, baton.InboxAgent{}, err
	}
	a, err := s.p.Engine.Agent(c.ctx, ws.ID, r.PathValue("id"))
	return ws, a, err
}

func (s *Server) consoleEnableAgent(w http.ResponseWriter, r *http.Request, c *consoleCall) {
	ws, a, err := s.agent(c, r)
	if err != nil {
		s.consoleFail(w, r, c, err)
		return
	}
	disable := r.PostForm.Get("enabled") != "true"
	if _, err := s.p.Engine.UpdateAgent(c.ctx, ws.ID, a.ID, engine.AgentUpdate{Disabled: engine.To(disable)}); err != nil {
		s.consoleFail(w, r, c, err)
		return
	}
	done := "enabled"
	if disable {
		done = "disabled"
	}
	http.Redirect(w, r, "/console/ws/"+ws.ID+"/agents?done="+done+"#agent-"+a.ID, http.StatusSeeOther)
}

func (s *Server) consoleAgentPassword(w http.ResponseWriter, r *http.Request, c *consoleCall) {
	ws, a, err := s.agent(c, r)
	if err != nil {
		s.consoleFail(w, r, c, err)
		return
	}
	_, err = s.p.Engine.UpdateAgent(c.ctx, ws.ID, a.ID, engine.AgentUpdate{Password: engine.To(r.PostForm.Get("password"))})
	if err == nil {
		http.Redirect(w, r, "/console/ws/"+ws.ID+"/agents?done=password#agent-"+a.ID, http.StatusSeeOther)
		return
	}
	d, lerr := s.agentsPage(c, ws)
	if lerr != nil {
		s.consoleFail(w, r, c, lerr)
		return
	}
	if baton.ErrorField(err) == "password" {
		err = baton.FieldErrorf("password-"+a.ID, "%s", baton.ErrorMessage(err))
	}
	status := formError(d, err, "The password was not changed", "password-"+a.ID)
	if status == 0 {
		s.consoleFail(w, r, c, err)
		return
	}
	s.consoleRender(w, status, "agents", d)
}

func (s *Server) consoleDeleteAgent(w http.ResponseWriter, r *http.Request, c *consoleCall) {
	ws, a, err := s.agent(c, r)
	if err != nil {
		s.consoleFail(w, r, c, err)
		return
	}
	if r.PostForm.Get("confirm") == "" {
		d, err := s.agentsPage(c, ws)
		if err != nil {
			s.consoleFail(w, r, c, err)
			return
		}
		d.Errors["confirm-"+a.ID] = "tick this to confirm the delete"
		d.Message = "Not deleted: see the field marked below."
		s.consoleRender(w, http.StatusUnprocessableEntity, "agents", d)
		return
	}
	if err := s.p.Engine.DeleteAgent(c.ctx, ws.ID, a.ID); err != nil {
		s.consoleFail(w, r, c, err)
		return
	}
	http.Redirect(w, r, "/console/ws/"+ws.ID+"/agents?done=deleted", http.StatusSeeOther)
}
