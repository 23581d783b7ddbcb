package web

import (
	"net/http"
	"strings"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/engine"
)

// API keys of a workspace: listed by prefix, made with the secret shown on
// the answer page only, revoked with a confirmation.

// keysData is the API keys page.
type keysData struct {
	Keys   []engine.KeyView
	Bots   []baton.Bot
	New    keyForm
	Made   *engine.KeyView // the key just made, whose Secret is shown once
	Secret string
}

// keyForm is the new-key form as typed.
type keyForm struct {
	Name, Scope, BotID string
}

// keysPage reads the workspace's keys and bots for the page.
func (s *Server) keysPage(c *consoleCall, ws baton.Workspace) (*consoleData, error) {
	keys, err := s.p.Engine.Keys(c.ctx, ws.ID)
	if err != nil {
		return nil, err
	}
	bots, err := s.p.Engine.Bots(c.ctx, ws.ID)
	if err != nil {
		return nil, err
	}
	d := s.consoleData(c, "API keys of "+ws.Name)
	d.WS, d.Nav = ws, "keys"
	d.Keys = &keysData{Bots: bots, New: keyForm{Scope: string(baton.ScopeFull)}}
	for _, k := range keys {
		d.Keys.Keys = append(d.Keys.Keys, engine.ViewKey(k))
	}
	return d, nil
}

func (s *Server) consoleKeys(w http.ResponseWriter, r *http.Request, c *consoleCall) {
	ws, err := s.workspace(c, r)
	if err != nil {
		s.consoleFail(w, r, c, err)
		return
	}
	d, err := s.keysPage(c, ws)
	if err != nil {
		s.consoleFail(w, r, c, err)
		return
	}
	if r.URL.Query().Get("done") == "revoked" {
		d.Notice = "Key revoked: it is refused from now on."
	}
	s.consoleRender(w, http.StatusOK, "keys", d)
}

func (s *Server) consoleCreateKey(w http.ResponseWriter, r *http.Request, c *consoleCall) {
	ws, err := s.workspace(c, r)
	if err != nil {
		s.consoleFail(w, r, c, err)
		return
	}
	in := keyForm{Name: strings.TrimSpace(r.PostForm.Get("name")), Scope: r.PostForm.Get("scope"), BotID: r.PostForm.Get("bot_id")}
	k, secret, err := s.p.Engine.CreateKey(c.ctx, ws.ID, engine.KeyInput{Name: in.Name, Scope: baton.KeyScope(in.Scope), BotID: in.BotID})
	d, lerr := s.keysPage(c, ws)
	if lerr != nil {
		s.consoleFail(w, r, c, lerr)
		return
	}
	if err != nil {
		d.Keys.New = in
		status := formError(d, err, "The key was not made", "name", "scope", "bot_id")
		if status == 0 {
			s.consoleFail(w, r, c, err)
			return
		}
		s.consoleRender(w, status, "keys", d)
		return
	}
	// The answer page is the only place the secret is shown: no redirect
	// (a reload asks to post again), and no-store keeps it out of the cache.
	v := engine.ViewKey(k)
	d.Keys.Made, d.Keys.Secret = &v, secret
	d.Notice = "Key made."
	s.consoleRender(w, http.StatusCreated, "keys", d)
}

func (s *Server) consoleRevokeKey(w http.ResponseWriter, r *http.Request, c *consoleCall) {
	ws, err := s.workspace(c, r)
	if err != nil {
		s.consoleFail(w, r, c, err)
		return
	}
	id := r.PathValue("id")
	d, err := s.keysPage(c, ws)
	if err != nil {
		s.consoleFail(w, r, c, err)
		return
	}
	found := false
	for _, k := range d.Keys.Keys {
		found = found || k.ID == id
	}
	if !found {
		s.consoleFail(w, r, c, baton.Errorf(baton.ENOTFOUND, "no key %q in this workspace", id))
		return
	}
	if r.PostForm.Get("confirm") == "" {
		d.Errors["confirm-"+id] = "tick this to confirm: programs using the key are refused at once"
		d.Message = "Not revoked: see the field marked below."
		s.consoleRender(w, http.StatusUnprocessableEntity, "keys", d)
		return
	}
	if err := s.p.Engine.RevokeKey(c.ctx, ws.ID, id); err != nil {
		s.consoleFail(w, r, c, err)
		return
	}
	http.Redirect(w, r, "/console/ws/"+ws.ID+"/keys?done=revoked", http.StatusSeeOther)
}
