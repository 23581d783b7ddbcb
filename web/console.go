package web

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/engine"
	"github.com/batonhq/baton/hours"
)

// The admin console: server-rendered pages on the engine's admin methods
// (the same the admin API calls), for a person holding an admin key. Its
// session is a cookie of its own (console_session.go), re-checked against
// the key on every request; every change is made under engine.WithAdmin,
// so the audit log names the key.

// consoleCall is one request of a signed-in admin.
type consoleCall struct {
	key  baton.AdminKey
	ctx  context.Context // the request's, naming the admin key
	csrf string
}

type consoleHandlerFunc func(w http.ResponseWriter, r *http.Request, c *consoleCall)

// consoleData is what every console template gets.
type consoleData struct {
	Title   string
	Admin   string // the signed-in admin key's name
	CSRF    string
	Message string
	Notice  string
	Status  int
	Errors  map[string]string // by field: "name", "settings.url", "zone", "w0", "c1"

	SignInToken string
	Workspaces  []baton.Workspace
	WS          baton.Workspace
	Desks       []deskRow
	NewDesk     *newDeskData
	Policy      *policyData

	Nav       string // the workspace page shown: "desks", "bots", "keys", "agents", "settings"
	WSForm    *wsForm
	Keys      *keysData
	Bots      *botsData
	Bot       *botData
	Agents    *agentsData
	EditDesk  *editDeskData
	Dashboard *dashboardData
}

// deskRow is a desk in the desks list.
type deskRow struct {
	engine.DeskView
	Fields []settingRow
}

// Badge is the desk's service status, as its badge says.
func (d deskRow) Badge() string { return cmp.Or(string(d.Status), string(baton.NotConfigured)) }

// settingField is one setting of a desk kind, labelled as the desk's own console labels it.
type settingField struct {
	Name, Label string
	Secret      bool
}

// settingRow is a setting with its value (or, for a secret, set/unset).
type settingRow struct {
	settingField
	Value string
}

// consoleFields are the settings forms per kind, labelled as the desk's own
// console labels them. The names are the settings' (package web imports no
// desk: a test holds them to livechat.Fields and webhookdesk.Fields), and
// which are secret is the registry's word, through engine.ViewDesk.
var consoleFields = map[baton.DeskKind][]settingField{
	baton.KindLiveChat: {
		// The secrets come last and together: Chromium's password-form
		// analyser takes password inputs split by text inputs for several
		// forms in one, and says so on the console.
		{"organization_id", "Organization ID", false},
		{"group_id", "Group", false},
		{"account_id", "Account ID", false},
		{"client_id", "Client Id", false},
		{"token", "Token", true},
		{"client_secret", "Client Secret", true},
		{"secret_key", "Secret key", true},
	},
	baton.KindWebhook: {
		{"url", "URL", false},
		{"username", "Username", false},
		{"password", "Password", true},
		{"secret", "Secret", true},
	},
	baton.KindGorgias: {
		// Settings → REST API labels the account's fields; the token is
		// Baton's own, for the HTTP integration's URL.
		{"domain", "Domain", false},
		{"base_url", "Base API URL", false},
		{"email", "Username", false},
		{"rate_limit", "Rate limit", false},
		{"api_key", "Password (API Key)", true},
		{"integration_token", "Integration token", true},
	},
	baton.KindIntercom: {
		// Developer Hub → your app: Authentication holds the token, Basic
		// information the client secret; the admin and version are Baton's.
		{"base_url", "Regional API URL", false},
		{"api_version", "Intercom-Version", false},
		{"admin_id", "Admin ID", false},
		{"access_token", "Access token", true},
		{"client_secret", "Client secret", true},
	},
	baton.KindInbox: nil,
}

// consoleKinds are the kinds the console makes desks of, in its order.
var consoleKinds = []baton.DeskKind{baton.KindWebhook, baton.KindLiveChat, baton.KindGorgias, baton.KindIntercom, baton.KindInbox}

type newDeskData struct {
	Kind     baton.DeskKind
	Kinds    []baton.DeskKind
	ID, Name string
	Fields   []settingRow
}

// consoleHandler is the console's own mux, under /console/.
func (s *Server) consoleHandler() http.Handler {
	funcs := template.FuncMap{
		"asset":    func(name string) string { return assetURL(s.static, name) },
		"clock":    func(t time.Time) string { return t.UTC().Format("Jan 2, 15:04 UTC") },
		"newKinds": func() []baton.DeskKind { return consoleKinds },
		"kindName": func(k baton.DeskKind) string {
			switch k {
			case baton.KindLiveChat:
				return "LiveChat"
			case baton.KindGorgias:
				return "Gorgias"
			case baton.KindIntercom:
				return "Intercom"
			case baton.KindWebhook:
				return "webhook"
			case baton.KindInbox:
				return "built-in inbox"
			}
			return string(k)
		},
		"policyFields": func(f policyForm, errs map[string]string) policyFieldsView { return policyFieldsView{f, errs} },
		"botFields": func(f botForm, desks []baton.DeskConfig, errs map[string]string, edit bool) botFieldsView {
			return botFieldsView{f, desks, errs, edit}
		},
		"stamp": func(t time.Time) string { return t.UTC().Format("Jan 2, 15:04:05 UTC") },
		"ms":    func(d time.Duration) int64 { return d.Milliseconds() },
	}
	for _, name := range []string{"signin", "workspaces", "desks", "newdesk", "policy", "error",
		"wssettings", "keys", "bots", "bot", "agents", "editdesk"} {
		s.pages["console/"+name] = template.Must(template.New(name).Funcs(funcs).ParseFS(templateFS,
			"templates/console_layout.html", "templates/console_parts.html", "templates/console_"+name+".html"))
	}
	m := http.NewServeMux()
	m.Handle("GET /console/signin", http.HandlerFunc(s.consoleSignInForm))
	m.Handle("POST /console/signin", s.origin(http.HandlerFunc(s.consoleSignIn)))
	m.Handle("POST /console/signout", s.consoleForm(s.consoleSignOut))
	m.Handle("GET /console/{$}", s.consolePage(s.consoleWorkspaces))
	m.Handle("GET /console/ws/{ws}/{$}", s.consolePage(s.consoleDesks))
	m.Handle("POST /console/ws/{ws}/desks/{id}/check", s.consoleForm(s.consoleCheck))
	m.Handle("GET /console/ws/{ws}/desks/new", s.consolePage(s.consoleNewDesk))
	m.Handle("POST /console/ws/{ws}/desks", s.consoleForm(s.consoleCreateDesk))
	m.Handle("GET /console/ws/{ws}/desks/{id}/policy", s.consolePage(s.consolePolicy))
	m.Handle("POST /console/ws/{ws}/desks/{id}/policy", s.consoleForm(s.consoleSavePolicy))
	m.Handle("POST /console/workspaces", s.consoleForm(s.consoleCreateWorkspace))
	m.Handle("GET /console/ws/{ws}/settings", s.consolePage(s.consoleWorkspaceSettings))
	m.Handle("POST /console/ws/{ws}/rename", s.consoleForm(s.consoleRenameWorkspace))
	m.Handle("POST /console/ws/{ws}/delete", s.consoleForm(s.consoleDeleteWorkspace))
	m.Handle("GET /console/ws/{ws}/keys", s.consolePage(s.consoleKeys))
	m.Handle("POST /console/ws/{ws}/keys", s.consoleForm(s.consoleCreateKey))
	m.Handle("POST /console/ws/{ws}/keys/{id}/revoke", s.consoleForm(s.consoleRevokeKey))
	m.Handle("GET /console/ws/{ws}/bots", s.consolePage(s.consoleBots))
	m.Handle("POST /console/ws/{ws}/bots", s.consoleForm(s.consoleCreateBot))
	m.Handle("GET /console/ws/{ws}/bots/{id}", s.consolePage(s.consoleBot))
	m.Handle("POST /console/ws/{ws}/bots/{id}", s.consoleForm(s.consoleUpdateBot))
	m.Handle("POST /console/ws/{ws}/bots/{id}/rotate", s.consoleForm(s.consoleRotateSecret))
	m.Handle("GET /console/ws/{ws}/bots/{id}/policy", s.consolePage(s.consoleBotPolicy))
	m.Handle("POST /console/ws/{ws}/bots/{id}/policy", s.consoleForm(s.consoleSaveBotPolicy))
	m.Handle("POST /console/ws/{ws}/bots/{id}/delete", s.consoleForm(s.consoleDeleteBot))
	m.Handle("POST /console/ws/{ws}/bots/{id}/deliveries/{event}/redeliver", s.consoleForm(s.consoleRedeliver))
	m.Handle("GET /console/ws/{ws}/desks/{id}/edit", s.consolePage(s.consoleEditDesk))
	m.Handle("POST /console/ws/{ws}/desks/{id}/edit", s.consoleForm(s.consoleUpdateDesk))
	m.Handle("POST /console/ws/{ws}/desks/{id}/delete", s.consoleForm(s.consoleDeleteDesk))
	m.Handle("GET /console/ws/{ws}/agents", s.consolePage(s.consoleAgents))
	m.Handle("POST /console/ws/{ws}/agents", s.consoleForm(s.consoleCreateAgent))
	m.Handle("POST /console/ws/{ws}/agents/{id}/enabled", s.consoleForm(s.consoleEnableAgent))
	m.Handle("POST /console/ws/{ws}/agents/{id}/password", s.consoleForm(s.consoleAgentPassword))
	m.Handle("POST /console/ws/{ws}/agents/{id}/delete", s.consoleForm(s.consoleDeleteAgent))
	s.dashboardRoutes(m, funcs)
	m.Handle("/console/", s.consolePage(func(w http.ResponseWriter, r *http.Request, c *consoleCall) {
		s.consoleFail(w, r, c, baton.Errorf(baton.ENOTFOUND, "no page %s", r.URL.Path))
	}))
	return m
}

// consoleAuth reads the console cookie and the admin key again: a revoked
// key (or one replaced under its id) ends the session at once.
func (s *Server) consoleAuth(r *http.Request) (c *consoleCall, had bool, err error) {
	ck, err := r.Cookie(consoleCookie)
	if err != nil {
		return nil, false, nil
	}
	sess, err := decodeConsoleSession(s.p.SessionKey, ck.Value, time.Now())
	if err != nil {
		return nil, true, nil
	}
	k, err := s.p.Engine.AdminKeyByID(r.Context(), sess.Key)
	switch {
	case baton.ErrorCode(err) == baton.ENOTFOUND:
		return nil, true, nil
	case err != nil:
		return nil, true, err
	case !validToken(sess.Print, adminPrint(s.p.SessionKey, k)) || sess.Gen != k.SessionGen:
		return nil, true, nil
	}
	return &consoleCall{key: k, ctx: engine.WithAdmin(r.Context(), k), csrf: consoleCSRF(s.p.SessionKey, ck.Value)}, true, nil
}

func (s *Server) consolePage(h consoleHandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, had, err := s.consoleAuth(r)
		if err != nil {
			s.consoleFail(w, r, nil, err)
			return
		}
		if c == nil {
			to := "/console/signin"
			if had {
				http.SetCookie(w, s.cookie(r, consoleCookie, "", consolePath, -1))
				to += "?ended=1"
			}
			http.Redirect(w, r, to, http.StatusSeeOther)
			return
		}
		h(w, r, c)
	})
}

// consoleForm serves a form: same origin, a live session, its CSRF token.
func (s *Server) consoleForm(h consoleHandlerFunc) http.Handler {
	return s.origin(s.consolePage(func(w http.ResponseWriter, r *http.Request, c *consoleCall) {
		if err := r.ParseForm(); err != nil {
			s.consoleFail(w, r, c, baton.Errorf(baton.EBADREQUEST, "the form could not be read"))
			return
		}
		if !validToken(r.PostForm.Get("csrf"), c.csrf) {
			d := s.consoleData(c, "Forbidden")
			d.Message = "This form could not be checked (it may be stale, or it came from another site): nothing was changed. Reload the page and try again."
			s.consoleRender(w, http.StatusForbidden, "error", d)
			return
		}
		h(w, r, c)
	}))
}

func (s *Server) consoleData(c *consoleCall, title string) *consoleData {
	d := &consoleData{Title: title + " · Baton console", Errors: map[string]string{}}
	if c != nil {
		d.Admin, d.CSRF = c.key.Name, c.csrf
	}
	return d
}

func (s *Server) consoleRender(w http.ResponseWriter, status int, page string, d *consoleData) {
	d.Status = status
	var buf bytes.Buffer
	if err := s.pages["console/"+page].ExecuteTemplate(&buf, "layout", d); err != nil {
		s.p.Log.Error("rendering a console page failed", "page", page, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// consoleFail answers an error as a page.
func (s *Server) consoleFail(w http.ResponseWriter, r *http.Request, c *consoleCall, err error) {
	status, title, msg := http.StatusInternalServerError, "Something went wrong", "Baton could not answer this request. Try again in a moment."
	switch baton.ErrorCode(err) {
	case baton.ENOTFOUND:
		status, title, msg = http.StatusNotFound, "Not found", "There is no such page, workspace, desk, bot, key or agent."
	case baton.ECONFLICT:
		status, title, msg = http.StatusConflict, "Not done", baton.ErrorMessage(err)
	case baton.EINVALID, baton.EBADREQUEST, baton.ETOOLARGE:
		status, title, msg = http.StatusUnprocessableEntity, "Not done", baton.ErrorMessage(err)
	default:
		s.p.Log.Error("console: a request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	d := s.consoleData(c, title)
	d.Message = msg
	s.consoleRender(w, status, "error", d)
}

// Sign-in.

func (s *Server) consoleSignInPage(w http.ResponseWriter, r *http.Request) *consoleData {
	nonce := ""
	if ck, err := r.Cookie(consoleSigninCookie); err == nil && len(ck.Value) == 22 {
		nonce = ck.Value
	} else {
		nonce = randomToken()
		http.SetCookie(w, s.cookie(r, consoleSigninCookie, nonce, "/console/signin", 0))
	}
	d := s.consoleData(nil, "Sign in")
	d.SignInToken = consoleSigninToken(s.p.SessionKey, nonce)
	return d
}

func (s *Server) consoleSignInForm(w http.ResponseWriter, r *http.Request) {
	c, _, err := s.consoleAuth(r)
	if err != nil {
		s.consoleFail(w, r, nil, err)
		return
	}
	if c != nil {
		http.Redirect(w, r, consolePath, http.StatusSeeOther)
		return
	}
	d := s.consoleSignInPage(w, r)
	if r.URL.Query().Get("ended") != "" {
		d.Message = "Your console session has ended. Sign in again."
	}
	s.consoleRender(w, http.StatusOK, "signin", d)
}

func (s *Server) consoleSignIn(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.consoleFail(w, r, nil, baton.Errorf(baton.EBADREQUEST, "the form could not be read"))
		return
	}
	ck, err := r.Cookie(consoleSigninCookie)
	if err != nil || !validToken(r.PostForm.Get("csrf"), consoleSigninToken(s.p.SessionKey, ck.Value)) {
		d := s.consoleData(nil, "Forbidden")
		d.Message = "This form could not be checked (it may be stale, or it came from another site). Reload the page and try again."
		s.consoleRender(w, http.StatusForbidden, "error", d)
		return
	}
	ipKey, now := "console:"+clientIP(r), time.Now()
	if wait := s.byIP.wait(ipKey, now); wait > 0 {
		secs := int(math.Ceil(wait.Seconds()))
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		d := s.consoleSignInPage(w, r)
		d.Message = fmt.Sprintf("Too many failed sign-ins. Try again in %s.", waitText(secs))
		s.consoleRender(w, http.StatusTooManyRequests, "signin", d)
		return
	}
	k, err := s.p.Engine.AuthenticateAdmin(r.Context(), strings.TrimSpace(r.PostForm.Get("key")))
	if baton.ErrorCode(err) == baton.EUNAUTHORIZED {
		s.byIP.fail(ipKey, now)
		d := s.consoleSignInPage(w, r)
		d.Message = "Not signed in: " + baton.ErrorMessage(err) + "."
		s.consoleRender(w, http.StatusUnauthorized, "signin", d)
		return
	} else if err != nil {
		s.consoleFail(w, r, nil, err)
		return
	}
	s.byIP.reset(ipKey)
	// The key as stored now: the authentication may answer from a cache
	// that predates the key's last sign-out.
	if k, err = s.p.Engine.AdminKeyByID(r.Context(), k.ID); err != nil {
		s.consoleFail(w, r, nil, err)
		return
	}
	value := newConsoleSession(s.p.SessionKey, k, now, ConsoleSessionTTL).encode(s.p.SessionKey)
	http.SetCookie(w, s.cookie(r, consoleCookie, value, consolePath, int(ConsoleSessionTTL.Seconds())))
	s.p.Log.Info("console: an admin signed in", "admin_key", k.ID)
	http.Redirect(w, r, consolePath, http.StatusSeeOther)
}

// consoleSignOut ends every console session of the key, copies of this
// cookie included, and removes the cookie.
func (s *Server) consoleSignOut(w http.ResponseWriter, r *http.Request, c *consoleCall) {
	if err := s.p.Engine.EndConsoleSessions(r.Context(), c.key.ID); err != nil {
		s.consoleFail(w, r, c, err)
		return
	}
	http.SetCookie(w, s.cookie(r, consoleCookie, "", consolePath, -1))
	http.Redirect(w, r, "/console/signin", http.StatusSeeOther)
}

// Workspaces and desks.

func (s *Server) consoleWorkspaces(w http.ResponseWriter, r *http.Request, c *consoleCall) {
	all, err := s.p.Engine.Workspaces(c.ctx)
	if err != nil {
		s.consoleFail(w, r, c, err)
		return
	}
	d := s.consoleData(c, "Workspaces")
	for _, ws := range all {
		if ws.DeletedAt.IsZero() {
			d.Workspaces = append(d.Workspaces, ws)
		}
	}
	d.WSForm = &wsForm{}
	if r.URL.Query().Get("done") == "deleted" {
		d.Notice = "Workspace deleted."
	}
	s.consoleRender(w, http.StatusOK, "workspaces", d)
}

// workspace reads the request's workspace, ENOTFOUND when deleted.
func (s *Server) workspace(c *consoleCall, r *http.Request) (baton.Workspace, error) {
	ws, err := s.p.Engine.Workspace(c.ctx, r.PathValue("ws"))
	if err == nil && !ws.DeletedAt.IsZero() {
		err = baton.Errorf(baton.ENOTFOUND, "workspace %s was deleted", ws.ID)
	}
	return ws, err
}

func (s *Server) consoleDesks(w http.ResponseWriter, r *http.Request, c *consoleCall) {
	ws, err := s.workspace(c, r)
	if err != nil {
		s.consoleFail(w, r, c, err)
		return
	}
	desks, err := s.p.Engine.DeskList(c.ctx, ws.ID)
	if err != nil {
		s.consoleFail(w, r, c, err)
		return
	}
	d := s.consoleData(c, ws.Name)
	d.WS, d.Nav = ws, "desks"
	for _, dc := range desks {
		v := s.p.Engine.ViewDesk(dc)
		row := deskRow{DeskView: v}
		for _, f := range consoleFields[dc.Kind] {
			sr := settingRow{settingField: f, Value: v.Settings[f.Name]}
			if f.Secret {
				sr.Value = cmp.Or(v.Secrets[f.Name], "unset")
			}
			row.Fields = append(row.Fields, sr)
		}
		d.Desks = append(d.Desks, row)
	}
	switch r.URL.Query().Get("done") {
	case "created":
		d.Notice = "Desk created."
	case "checked":
		d.Notice = "Desk checked."
	case "saved":
		d.Notice = "Desk saved."
	case "deleted":
		d.Notice = "Desk deleted."
	case "ws-created":
		d.Notice = "Workspace created."
	}
	s.consoleRender(w, http.StatusOK, "desks", d)
}

func (s *Server) consoleCheck(w http.ResponseWriter, r *http.Request, c *consoleCall) {
	ws, err := s.workspace(c, r)
	if err != nil {
		s.consoleFail(w, r, c, err)
		return
	}
	dc, err := s.p.Engine.Desk(c.ctx, ws.ID, r.PathValue("id"))
	if err != nil {
		s.consoleFail(w, r, c, err)
		return
	}
	status, last := baton.NotConfigured, "this build cannot check desks"
	if s.p.CheckDesk != nil {
		status, last = s.p.CheckDesk(c.ctx, dc)
	}
	if _, err := s.p.Engine.RecordCheck(c.ctx, baton.DeskState{DeskID: dc.ID, Status: status, LastError: last}); err != nil {
		s.consoleFail(w, r, c, err)
		return
	}
	http.Redirect(w, r, "/console/ws/"+ws.ID+"/?done=checked#desk-"+dc.ID, http.StatusSeeOther)
}

func newDesk(kind baton.DeskKind) *newDeskData {
	n := &newDeskData{Kind: kind, Kinds: consoleKinds}
	for _, f := range consoleFields[kind] {
		n.Fields = append(n.Fields, settingRow{settingField: f})
	}
	return n
}

func (s *Server) consoleNewDesk(w http.ResponseWriter, r *http.Request, c *consoleCall) {
	ws, err := s.workspace(c, r)
	if err != nil {
		s.consoleFail(w, r, c, err)
		return
	}
	kind := baton.DeskKind(r.URL.Query().Get("kind"))
	if _, ok := consoleFields[kind]; !ok {
		kind = baton.KindWebhook
	}
	d := s.consoleData(c, "New desk")
	d.WS, d.NewDesk = ws, newDesk(kind)
	s.consoleRender(w, http.StatusOK, "newdesk", d)
}

func (s *Server) consoleCreateDesk(w http.ResponseWriter, r *http.Request, c *consoleCall) {
	ws, err := s.workspace(c, r)
	if err != nil {
		s.consoleFail(w, r, c, err)
		return
	}
	kind := baton.DeskKind(r.PostForm.Get("kind"))
	if _, ok := consoleFields[kind]; !ok {
		s.consoleFail(w, r, c, baton.FieldErrorf("kind", "is not a kind the console makes"))
		return
	}
	n := newDesk(kind)
	n.ID, n.Name = strings.TrimSpace(r.PostForm.Get("id")), strings.TrimSpace(r.PostForm.Get("name"))
	settings := map[string]string{}
	for i, f := range n.Fields {
		v := strings.TrimSpace(r.PostForm.Get("settings." + f.Name))
		if v != "" {
			settings[f.Name] = v
		}
		if !f.Secret {
			n.Fields[i].Value = v // a secret is never shown back
		}
	}
	if len(settings) == 0 {
		settings = nil
	}
	_, err = s.p.Engine.CreateDesk(c.ctx, ws.ID, engine.DeskInput{ID: n.ID, Name: n.Name, Kind: kind, Settings: settings})
	if code := baton.ErrorCode(err); code == baton.EINVALID || code == baton.ECONFLICT {
		d := s.consoleData(c, "New desk")
		d.WS, d.NewDesk = ws, n
		field := baton.ErrorField(err)
		if field == "" || !slices.ContainsFunc(append([]string{"id", "name", "kind"}, fieldNames(n.Fields)...), func(f string) bool { return f == field }) {
			d.Message = baton.ErrorMessage(err)
		} else {
			d.Errors[field] = baton.ErrorMessage(err)
			d.Message = "The desk was not created: see the field marked below."
		}
		s.consoleRender(w, http.StatusUnprocessableEntity, "newdesk", d)
		return
	} else if err != nil {
		s.consoleFail(w, r, c, err)
		return
	}
	http.Redirect(w, r, "/console/ws/"+ws.ID+"/?done=created", http.StatusSeeOther)
}

func fieldNames(fs []settingRow) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = "settings." + f.Name
	}
	return out
}

// Policies.

var weekdays = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}

// periodRow is one row of the service-period editor: a weekly rule (Key
// "w<i>") or a custom date (Key "c<i>"), open or closed (a holiday).
type periodRow struct {
	Key        string
	Days       map[string]bool
	Date       string
	Start, End string
	Closed     bool
}

func (p periodRow) blank() bool {
	return len(p.Days) == 0 && p.Date == "" && p.Start == "" && p.End == "" && !p.Closed
}

type policyData struct {
	Desk     deskRow
	Zone     string
	Weekly   []periodRow
	Custom   []periodRow
	Weekdays []string
	Week     template.HTML // the merged week as SVG
	OpenNow  bool
	NextOpen string // "" when open now or never again
	Preview  bool
	Own      bool // the desk has a policy of its own (else each bot's applies)
	Fields   policyForm
	Bot      *engine.BotView // the bot whose policy this is, nil for a desk's
}

// maxRows bounds the rows a posted editor is read for.
const maxRows = 20

// rowsOf lists a policy's periods as editor rows, with blank rows to add more.
func rowsOf(pol *baton.Policy) (zone string, weekly, custom []periodRow) {
	if pol != nil {
		zone = pol.Zone
		for _, p := range pol.Periods {
			row := periodRow{Days: map[string]bool{}, Date: p.Date, Start: p.Start, End: p.End, Closed: p.Closed}
			for _, d := range p.Days {
				row.Days[strings.ToLower(d)] = true
			}
			if p.Kind == baton.Custom {
				custom = append(custom, row)
			} else {
				weekly = append(weekly, row)
			}
		}
	}
	weekly = append(weekly, periodRow{Days: map[string]bool{}}, periodRow{Days: map[string]bool{}})
	custom = append(custom, periodRow{Days: map[string]bool{}})
	for i := range weekly {
		weekly[i].Key = fmt.Sprintf("w%d", i)
	}
	for i := range custom {
		custom[i].Key = fmt.Sprintf("c%d", i)
	}
	return zone, weekly, custom
}

// readPolicyForm reads the editor: the rows as posted, and the periods they
// make (blank rows skipped), with the row key of each period by its index.
func readPolicyForm(r *http.Request) (zone string, weekly, custom []periodRow, periods []baton.Period, keys []string) {
	f := r.PostForm
	zone = strings.TrimSpace(f.Get("zone"))
	for i := range maxRows {
		k := fmt.Sprintf("w%d", i)
		row := periodRow{Key: k, Days: map[string]bool{}, Start: strings.TrimSpace(f.Get(k + ".start")), End: strings.TrimSpace(f.Get(k + ".end"))}
		for _, d := range f[k+".days"] {
			if slices.Contains(weekdays, d) {
				row.Days[d] = true
			}
		}
		if !posted(f, k, ".start", ".end", ".days") {
			break
		}
		weekly = append(weekly, row)
		if !row.blank() {
			p := baton.Period{Kind: baton.Weekly, Start: row.Start, End: row.End}
			for _, d := range weekdays {
				if row.Days[d] {
					p.Days = append(p.Days, d)
				}
			}
			periods, keys = append(periods, p), append(keys, k)
		}
	}
	for i := range maxRows {
		k := fmt.Sprintf("c%d", i)
		if !posted(f, k, ".date", ".start", ".end", ".closed") {
			break
		}
		row := periodRow{Key: k, Days: map[string]bool{}, Date: strings.TrimSpace(f.Get(k + ".date")), Start: strings.TrimSpace(f.Get(k + ".start")),
			End: strings.TrimSpace(f.Get(k + ".end")), Closed: f.Get(k+".closed") != ""}
		custom = append(custom, row)
		if !row.blank() {
			// A closed date with times is the engine's to refuse, not ours to drop.
			p := baton.Period{Kind: baton.Custom, Date: row.Date, Closed: row.Closed, Start: row.Start, End: row.End}
			periods, keys = append(periods, p), append(keys, k)
		}
	}
	return zone, weekly, custom, periods, keys
}

// posted reports whether the form holds any of row key's fields.
func posted(f url.Values, key string, fields ...string) bool {
	for _, name := range fields {
		if _, ok := f[key+name]; ok {
			return true
		}
	}
	return false
}

func (s *Server) consolePolicy(w http.ResponseWriter, r *http.Request, c *consoleCall) {
	ws, dc, err := s.consoleDesk(c, r)
	if err != nil {
		s.consoleFail(w, r, c, err)
		return
	}
	d := s.consoleData(c, "Service periods of "+dc.Name)
	d.WS = ws
	p := &policyData{Desk: deskRow{DeskView: s.p.Engine.ViewDesk(dc)}, Weekdays: weekdays}
	p.Zone, p.Weekly, p.Custom = rowsOf(dc.Policy)
	p.Own = dc.Policy != nil
	p.Fields = policyFormOf(dc.Policy)
	s.drawPolicy(p, policyOr(dc.Policy))
	d.Policy = p
	if r.URL.Query().Get("done") == "saved" {
		d.Notice = "Saved."
	}
	s.consoleRender(w, http.StatusOK, "policy", d)
}

func policyOr(p *baton.Policy) baton.Policy {
	if p == nil {
		return baton.Policy{}
	}
	return *p
}

func (s *Server) consoleDesk(c *consoleCall, r *http.Request) (baton.Workspace, baton.DeskConfig, error) {
	ws, err := s.workspace(c, r)
	if err != nil {
		return ws, baton.DeskConfig{}, err
	}
	dc, err := s.p.Engine.Desk(c.ctx, ws.ID, r.PathValue("id"))
	return ws, dc, err
}

var periodField = regexp.MustCompile(`^policy\.periods\[(\d+)\]`)

func (s *Server) consoleSavePolicy(w http.ResponseWriter, r *http.Request, c *consoleCall) {
	ws, dc, err := s.consoleDesk(c, r)
	if err != nil {
		s.consoleFail(w, r, c, err)
		return
	}
	p := &policyData{Desk: deskRow{DeskView: s.p.Engine.ViewDesk(dc)}}
	s.savePolicy(w, r, c, ws, p, "Service periods of "+dc.Name, dc.Policy, func(pol *baton.Policy) error {
		_, err := s.p.Engine.UpdateDesk(c.ctx, ws.ID, dc.ID, engine.DeskUpdate{Policy: engine.To(pol)})
		return err
	}, "/console/ws/"+ws.ID+"/desks/"+dc.ID+"/policy?done=saved")
}

// savePolicy reads the policy form over old (the fields it does not show
// stay), and previews it on p's page, or saves it with save and sends the
// browser to done.
func (s *Server) savePolicy(w http.ResponseWriter, r *http.Request, c *consoleCall, ws baton.Workspace, p *policyData, title string,
	old *baton.Policy, save func(*baton.Policy) error, done string) {
	zone, weekly, custom, periods, keys := readPolicyForm(r)
	fields := readPolicyFields(r.PostForm)
	pol := policyOr(old)
	pol.Zone, pol.Periods = zone, periods
	preview := r.PostForm.Get("action") == "preview"
	err := fields.apply(&pol)
	if err == nil {
		err = engine.CheckPolicy("policy", &pol)
	}
	if err == nil && !preview {
		if err = save(&pol); err == nil {
			http.Redirect(w, r, done, http.StatusSeeOther)
			return
		}
	}
	d := s.consoleData(c, title)
	d.WS = ws
	p.Weekdays, p.Zone, p.Weekly, p.Custom, p.Preview, p.Own, p.Fields = weekdays, zone, weekly, custom, preview, true, fields
	// One more blank row of each, to add a rule.
	p.Weekly = append(p.Weekly, periodRow{Key: fmt.Sprintf("w%d", len(weekly)), Days: map[string]bool{}})
	p.Custom = append(p.Custom, periodRow{Key: fmt.Sprintf("c%d", len(custom)), Days: map[string]bool{}})
	d.Policy = p
	status := http.StatusOK
	switch code := baton.ErrorCode(err); {
	case err == nil:
		s.drawPolicy(p, pol)
		d.Notice = "Preview: not saved yet."
	case code == baton.EINVALID:
		status = http.StatusUnprocessableEntity
		field := baton.ErrorField(err)
		msg := baton.ErrorMessage(err)
		if m := periodField.FindStringSubmatch(field); m != nil {
			if i, _ := strconv.Atoi(m[1]); i < len(keys) {
				d.Errors[keys[i]] = cmp.Or(strings.TrimPrefix(strings.TrimPrefix(field, m[0]), "."), "rule") + ": " + msg
			}
		} else if field == "policy.zone" {
			d.Errors["zone"] = msg
		} else if slices.Contains(policyFieldNames, field) {
			d.Errors[field] = msg
		}
		d.Message = "Not saved: " + cmp.Or(field, "policy") + " " + msg
		s.drawPolicy(p, policyOr(old)) // the picture stays the saved policy's
	default:
		s.consoleFail(w, r, c, err)
		return
	}
	s.consoleRender(w, status, "policy", d)
}

// drawPolicy fills in the week picture and open now / next open at, from
// the policy's calendar, for the 7 days from today in its zone.
func (s *Server) drawPolicy(p *policyData, pol baton.Policy) {
	cal, err := hours.Compile(pol.Effective())
	if err != nil {
		return
	}
	now := time.Now().In(cal.Location())
	p.OpenNow = cal.Open(now)
	if !p.OpenNow {
		if next, ok := cal.NextOpen(now); ok {
			p.NextOpen = next.In(cal.Location()).Format("Mon Jan 2, 15:04") + " (" + cal.Location().String() + ")"
		}
	}
	p.Week = weekSVG(cal, now)
}

// weekSVG draws 7 rows (today and the next 6 days) of 24 hours, each open
// window filled. Presentation attributes only: the CSP forbids inline style.
func weekSVG(cal *hours.Calendar, now time.Time) template.HTML {
	const label, cell, row, top = 96, 24, 26, 20
	width := label + 24*cell
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="week" id="week" role="img" aria-labelledby="week-title" viewBox="0 0 %d %d" width="%d" height="%d">`, width+2, top+7*row+2, width+2, top+7*row+2)
	fmt.Fprintf(&b, `<title id="week-title">Open hours, the next 7 days (%s)</title>`, template.HTMLEscapeString(cal.Location().String()))
	for h := 0; h < 24; h += 3 {
		fmt.Fprintf(&b, `<text class="hour" x="%d" y="14">%02d</text>`, label+h*cell, h)
	}
	for i := range 7 {
		day := time.Date(now.Year(), now.Month(), now.Day()+i, 0, 0, 0, 0, cal.Location())
		y := top + i*row
		fmt.Fprintf(&b, `<g class="day" data-date="%s"><text class="date" x="0" y="%d">%s</text>`, day.Format(time.DateOnly), y+17, day.Format("Mon Jan 2"))
		for h := range 24 {
			fmt.Fprintf(&b, `<rect class="cell" x="%d" y="%d" width="%d" height="%d"/>`, label+h*cell, y, cell, row-4)
		}
		for _, w := range cal.OnDate(day.Year(), day.Month(), day.Day()) {
			from := w.Start.Hour()*60 + w.Start.Minute()
			to := w.End.Hour()*60 + w.End.Minute()
			if y, m, d := w.End.Date(); y != day.Year() || m != day.Month() || d != day.Day() {
				to = 24 * 60
			}
			x0, x1 := label+from*cell/60, label+to*cell/60
			fmt.Fprintf(&b, `<rect class="open" x="%d" y="%d" width="%d" height="%d" data-from="%s" data-to="%s"><title>open %s–%s</title></rect>`,
				x0, y, max(x1-x0, 1), row-4, w.Start.Format("15:04"), clockOf(to), w.Start.Format("15:04"), clockOf(to))
		}
		b.WriteString(`</g>`)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func clockOf(min int) string { return fmt.Sprintf("%02d:%02d", min/60, min%60) }
