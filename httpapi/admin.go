package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/engine"
)

// The admin API: /v1/admin, an admin key, the views of package engine
// (never a secret but the one a create or rotation makes, once).

type adminCtxKey struct{}

// requireAdmin authenticates an admin key; for routes under
// /v1/admin/workspaces/{ws} it also puts the workspace in the context.
func requireAdmin(log *slog.Logger, eng *engine.Engine, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, ok := bearer(r)
		if !ok {
			encodeError(w, r, log, errNoKey)
			return
		}
		k, err := eng.AuthenticateAdmin(r.Context(), key)
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		ctx := engine.WithAdmin(r.Context(), k)
		ctx = context.WithValue(ctx, adminCtxKey{}, k)
		ctx = context.WithValue(ctx, workspaceKey, r.PathValue("ws"))
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// decodePatch decodes an update body into a T and reports which of its
// top-level fields were given (a null is given).
func decodePatch[T any](r *http.Request) (T, map[string]bool, error) {
	var zero T
	data, err := readBody(r)
	if err != nil {
		return zero, nil, err
	}
	r.Body = io.NopCloser(bytes.NewReader(data))
	v, err := decode[T](r)
	if err != nil {
		return zero, nil, err
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return zero, nil, baton.Errorf(baton.EBADREQUEST, "the body must be a JSON object")
	}
	given := map[string]bool{}
	for k := range fields {
		given[k] = true
	}
	return v, given, nil
}

// change returns a Change of v when field was given.
func change[T any](given map[string]bool, field string, v *T) engine.Change[T] {
	if !given[field] || v == nil {
		var zero T
		if given[field] {
			return engine.To(zero)
		}
		return engine.Change[T]{}
	}
	return engine.To(*v)
}

// emptyBody refuses a body that is not empty or {}.
func emptyBody(r *http.Request) error {
	if _, err := decode[struct{}](r); err != nil && err != errEmptyBody {
		return err
	}
	return nil
}

type workspaceList struct {
	Workspaces []engine.WorkspaceView `json:"workspaces"`
}

func handleAdminCreateWorkspace(log *slog.Logger, eng *engine.Engine) http.Handler {
	type request struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := decode[request](r)
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		ws, err := eng.CreateWorkspace(r.Context(), engine.WorkspaceInput{ID: req.ID, Name: req.Name})
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		w.Header().Set("Location", "/v1/admin/workspaces/"+ws.ID)
		encode(w, http.StatusCreated, engine.ViewWorkspace(ws))
	})
}

func handleAdminWorkspaces(log *slog.Logger, eng *engine.Engine) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		list, err := eng.Workspaces(r.Context())
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		out := workspaceList{Workspaces: []engine.WorkspaceView{}}
		for _, ws := range list {
			out.Workspaces = append(out.Workspaces, engine.ViewWorkspace(ws))
		}
		encode(w, http.StatusOK, out)
	})
}

func handleAdminWorkspace(log *slog.Logger, eng *engine.Engine) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := eng.Workspace(r.Context(), workspace(r.Context()))
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		encode(w, http.StatusOK, engine.ViewWorkspace(ws))
	})
}

func handleAdminRenameWorkspace(log *slog.Logger, eng *engine.Engine) http.Handler {
	type request struct {
		Name string `json:"name"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := decode[request](r)
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		ws, err := eng.RenameWorkspace(r.Context(), workspace(r.Context()), req.Name)
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		encode(w, http.StatusOK, engine.ViewWorkspace(ws))
	})
}

func handleAdminDeleteWorkspace(log *slog.Logger, eng *engine.Engine) http.Handler {
	type response struct {
		ID      string `json:"id"`
		Deleted bool   `json:"deleted"`
		Ended   int    `json:"ended"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		force, err := boolParam("force", r.URL.Query().Get("force"))
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		ws := workspace(r.Context())
		n, err := eng.DeleteWorkspace(r.Context(), ws, force)
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		encode(w, http.StatusOK, response{ID: ws, Deleted: true, Ended: n})
	})
}

// boolParam reads an optional true/false query parameter.
func boolParam(name, s string) (bool, error) {
	if s == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, baton.FieldErrorf(name, "must be true or false, not %q", s)
	}
	return b, nil
}

type keyCreated struct {
	engine.KeyView
	Key string `json:"key,omitempty"`
}

type keyList struct {
	Keys []engine.KeyView `json:"keys"`
}

func handleAdminCreateKey(log *slog.Logger, eng *engine.Engine) http.Handler {
	type request struct {
		Name  string         `json:"name"`
		Scope baton.KeyScope `json:"scope"`
		BotID string         `json:"bot_id"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := decode[request](r)
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		k, secret, err := eng.CreateKey(r.Context(), workspace(r.Context()), engine.KeyInput{Name: req.Name, Scope: req.Scope, BotID: req.BotID})
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		encode(w, http.StatusCreated, keyCreated{KeyView: engine.ViewKey(k), Key: secret})
	})
}

func handleAdminKeys(log *slog.Logger, eng *engine.Engine) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		keys, err := eng.Keys(r.Context(), workspace(r.Context()))
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		out := keyList{Keys: []engine.KeyView{}}
		for _, k := range keys {
			out.Keys = append(out.Keys, engine.ViewKey(k))
		}
		encode(w, http.StatusOK, out)
	})
}

func handleAdminRevokeKey(log *slog.Logger, eng *engine.Engine) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := eng.RevokeKey(r.Context(), workspace(r.Context()), r.PathValue("id")); err != nil {
			encodeError(w, r, log, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

type botWithSecret struct {
	engine.BotView
	WebhookSecret string `json:"webhook_secret,omitempty"`
}

type botList struct {
	Bots []engine.BotView `json:"bots"`
}

func handleAdminCreateBot(log *slog.Logger, eng *engine.Engine) http.Handler {
	type request struct {
		ID            string        `json:"id"`
		Name          string        `json:"name"`
		WebhookURL    string        `json:"webhook_url"`
		WebhookSecret string        `json:"webhook_secret"`
		DeskID        string        `json:"desk_id"`
		Policy        *baton.Policy `json:"policy"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := decode[request](r)
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		b, secret, err := eng.CreateBot(r.Context(), workspace(r.Context()), engine.BotInput{ID: req.ID, Name: req.Name,
			WebhookURL: req.WebhookURL, WebhookSecret: req.WebhookSecret, DeskID: req.DeskID, Policy: req.Policy})
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		encode(w, http.StatusCreated, botWithSecret{BotView: engine.ViewBot(b), WebhookSecret: secret})
	})
}

func handleAdminBots(log *slog.Logger, eng *engine.Engine) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		bots, err := eng.Bots(r.Context(), workspace(r.Context()))
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		out := botList{Bots: []engine.BotView{}}
		for _, b := range bots {
			out.Bots = append(out.Bots, engine.ViewBot(b))
		}
		encode(w, http.StatusOK, out)
	})
}

func handleAdminBot(log *slog.Logger, eng *engine.Engine) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := eng.Bot(r.Context(), workspace(r.Context()), r.PathValue("id"))
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		encode(w, http.StatusOK, engine.ViewBot(b))
	})
}

func handleAdminUpdateBot(log *slog.Logger, eng *engine.Engine) http.Handler {
	type request struct {
		Name       *string       `json:"name"`
		WebhookURL *string       `json:"webhook_url"`
		DeskID     *string       `json:"desk_id"`
		Policy     *baton.Policy `json:"policy"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, given, err := decodePatch[request](r)
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		u := engine.BotUpdate{Name: change(given, "name", req.Name), WebhookURL: change(given, "webhook_url", req.WebhookURL),
			DeskID: change(given, "desk_id", req.DeskID)}
		if given["policy"] {
			u.Policy = engine.To(req.Policy)
		}
		b, err := eng.UpdateBot(r.Context(), workspace(r.Context()), r.PathValue("id"), u)
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		encode(w, http.StatusOK, engine.ViewBot(b))
	})
}

func handleAdminRotateSecret(log *slog.Logger, eng *engine.Engine) http.Handler {
	type request struct {
		Secret  string         `json:"secret"`
		Overlap baton.Duration `json:"overlap"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := decode[request](r)
		if err != nil && err != errEmptyBody {
			encodeError(w, r, log, err)
			return
		}
		b, secret, err := eng.RotateSecret(r.Context(), workspace(r.Context()), r.PathValue("id"), req.Secret, time.Duration(req.Overlap))
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		encode(w, http.StatusOK, botWithSecret{BotView: engine.ViewBot(b), WebhookSecret: secret})
	})
}

func handleAdminDeleteBot(log *slog.Logger, eng *engine.Engine) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := eng.DeleteBot(r.Context(), workspace(r.Context()), r.PathValue("id")); err != nil {
			encodeError(w, r, log, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// deliveryJSON is one event's deliveries to a bot's webhook.
type deliveryJSON struct {
	EventID     string        `json:"event_id"`
	Type        string        `json:"type"`
	Seq         int64         `json:"seq"`
	CreatedAt   time.Time     `json:"created_at"`
	Status      string        `json:"status"`
	Attempts    []attemptJSON `json:"attempts"`
	NextRetryAt *time.Time    `json:"next_retry_at"`
}

type attemptJSON struct {
	At         time.Time `json:"at"`
	StatusCode int       `json:"status_code"`
	Error      string    `json:"error"`
	DurationMS int64     `json:"duration_ms"`
}

func newDelivery(d baton.Delivery) deliveryJSON {
	out := deliveryJSON{EventID: d.EventID, Type: string(d.Type), Seq: d.Seq, CreatedAt: utc(d.CreatedAt), Status: string(d.Status), Attempts: []attemptJSON{}}
	if !d.NextRetryAt.IsZero() {
		t := utc(d.NextRetryAt)
		out.NextRetryAt = &t
	}
	for _, a := range d.Attempts {
		out.Attempts = append(out.Attempts, attemptJSON{At: utc(a.At), StatusCode: a.StatusCode, Error: a.Error, DurationMS: a.Duration.Milliseconds()})
	}
	return out
}

func handleAdminDeliveries(log *slog.Logger, eng *engine.Engine) http.Handler {
	type response struct {
		Deliveries []deliveryJSON `json:"deliveries"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		after, limit, err := pageParams(r)
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		ds, err := eng.Deliveries(r.Context(), workspace(r.Context()), r.PathValue("id"), after, limit)
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		out := response{Deliveries: []deliveryJSON{}}
		for _, d := range ds {
			out.Deliveries = append(out.Deliveries, newDelivery(d))
		}
		encode(w, http.StatusOK, out)
	})
}

// pageParams reads the after and limit query parameters of a list.
func pageParams(r *http.Request) (after int64, limit int, err error) {
	q := r.URL.Query()
	if s := q.Get("after"); s != "" {
		if after, err = strconv.ParseInt(s, 10, 64); err != nil || after < 0 {
			return 0, 0, baton.FieldErrorf("after", "must be a sequence number (a whole number from 0), not %q", s)
		}
	}
	if s := q.Get("limit"); s != "" {
		if limit, err = strconv.Atoi(s); err != nil || limit < 1 || limit > 1000 {
			return 0, 0, baton.FieldErrorf("limit", "must be a whole number from 1 to 1000, not %q", s)
		}
	}
	return after, limit, nil
}

func handleAdminRedeliver(log *slog.Logger, eng *engine.Engine) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := emptyBody(r); err != nil {
			encodeError(w, r, log, err)
			return
		}
		d, err := eng.Redeliver(r.Context(), workspace(r.Context()), r.PathValue("id"), r.PathValue("event_id"))
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		encode(w, http.StatusAccepted, newDelivery(d))
	})
}

// policyOrEmpty answers a stored policy, {} for none.
func policyOrEmpty(p *baton.Policy) baton.Policy {
	if p == nil {
		return baton.Policy{}
	}
	return *p
}

func handleAdminBotPolicy(log *slog.Logger, eng *engine.Engine) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := eng.Bot(r.Context(), workspace(r.Context()), r.PathValue("id"))
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		encode(w, http.StatusOK, policyOrEmpty(b.Policy))
	})
}

func handleAdminPutBotPolicy(log *slog.Logger, eng *engine.Engine) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := decode[baton.Policy](r)
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		b, err := eng.UpdateBot(r.Context(), workspace(r.Context()), r.PathValue("id"), engine.BotUpdate{Policy: engine.To(&p)})
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		encode(w, http.StatusOK, policyOrEmpty(b.Policy))
	})
}

// forBot serves a bot API read for the bot in the path: its bot_id is the path's.
func forBot(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		q.Set("bot_id", r.PathValue("id"))
		r2 := r.Clone(r.Context())
		r2.URL.RawQuery = q.Encode()
		next.ServeHTTP(w, r2)
	})
}

type deskList struct {
	Desks []engine.DeskView `json:"desks"`
}

func handleAdminCreateDesk(log *slog.Logger, eng *engine.Engine) http.Handler {
	type request struct {
		ID       string            `json:"id"`
		Name     string            `json:"name"`
		Kind     baton.DeskKind    `json:"kind"`
		Settings map[string]string `json:"settings"`
		Policy   *baton.Policy     `json:"policy"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := decode[request](r)
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		d, err := eng.CreateDesk(r.Context(), workspace(r.Context()), engine.DeskInput{ID: req.ID, Name: req.Name, Kind: req.Kind, Settings: req.Settings, Policy: req.Policy})
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		encode(w, http.StatusCreated, eng.ViewDesk(d))
	})
}

func handleAdminDesks(log *slog.Logger, eng *engine.Engine) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		desks, err := eng.DeskList(r.Context(), workspace(r.Context()))
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		out := deskList{Desks: []engine.DeskView{}}
		for _, d := range desks {
			out.Desks = append(out.Desks, eng.ViewDesk(d))
		}
		encode(w, http.StatusOK, out)
	})
}

func handleAdminDesk(log *slog.Logger, eng *engine.Engine) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d, err := eng.Desk(r.Context(), workspace(r.Context()), r.PathValue("id"))
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		encode(w, http.StatusOK, eng.ViewDesk(d))
	})
}

func handleAdminUpdateDesk(log *slog.Logger, eng *engine.Engine) http.Handler {
	type request struct {
		Name     *string           `json:"name"`
		Settings map[string]string `json:"settings"`
		Policy   *baton.Policy     `json:"policy"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, given, err := decodePatch[request](r)
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		u := engine.DeskUpdate{Name: change(given, "name", req.Name), Settings: req.Settings}
		if given["policy"] {
			u.Policy = engine.To(req.Policy)
		}
		d, err := eng.UpdateDesk(r.Context(), workspace(r.Context()), r.PathValue("id"), u)
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		encode(w, http.StatusOK, eng.ViewDesk(d))
	})
}

func handleAdminDeleteDesk(log *slog.Logger, eng *engine.Engine) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := eng.DeleteDesk(r.Context(), workspace(r.Context()), r.PathValue("id")); err != nil {
			encodeError(w, r, log, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// handleAdminCheckDesk runs the desk's credential check now and records it.
func handleAdminCheckDesk(log *slog.Logger, eng *engine.Engine, check func(context.Context, baton.DeskConfig) (baton.DeskStatus, string)) http.Handler {
	type response struct {
		Status    baton.DeskStatus `json:"status"`
		LastError string           `json:"last_error"`
		CheckedAt time.Time        `json:"checked_at"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := emptyBody(r); err != nil {
			encodeError(w, r, log, err)
			return
		}
		d, err := eng.Desk(r.Context(), workspace(r.Context()), r.PathValue("id"))
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		status, last := baton.NotConfigured, "this build cannot check desks"
		if check != nil {
			status, last = check(r.Context(), d)
		}
		d, err = eng.RecordCheck(r.Context(), baton.DeskState{DeskID: d.ID, Status: status, LastError: last})
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		encode(w, http.StatusOK, response{Status: d.Status, LastError: d.LastError, CheckedAt: utc(d.CheckedAt)})
	})
}

func handleAdminDeskPolicy(log *slog.Logger, eng *engine.Engine) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d, err := eng.Desk(r.Context(), workspace(r.Context()), r.PathValue("id"))
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		encode(w, http.StatusOK, policyOrEmpty(d.Policy))
	})
}

func handleAdminPutDeskPolicy(log *slog.Logger, eng *engine.Engine) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := decode[baton.Policy](r)
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		d, err := eng.UpdateDesk(r.Context(), workspace(r.Context()), r.PathValue("id"), engine.DeskUpdate{Policy: engine.To(&p)})
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		encode(w, http.StatusOK, policyOrEmpty(d.Policy))
	})
}

type agentWithKey struct {
	engine.AgentView
	Key string `json:"key,omitempty"`
}

type agentList struct {
	Agents []engine.AgentView `json:"agents"`
}

func handleAdminCreateAgent(log *slog.Logger, eng *engine.Engine) http.Handler {
	type request struct {
		ID       string `json:"id"`
		Name     string `json:"name"`
		Email    string `json:"email"`
		DeskID   string `json:"desk_id"`
		Password string `json:"password"`
		APIKey   bool   `json:"api_key"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := decode[request](r)
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		a, key, err := eng.CreateAgent(r.Context(), workspace(r.Context()), engine.AgentInput{ID: req.ID, Name: req.Name,
			Email: req.Email, DeskID: req.DeskID, Password: req.Password, Key: req.APIKey})
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		encode(w, http.StatusCreated, agentWithKey{AgentView: engine.ViewAgent(a), Key: key})
	})
}

func handleAdminAgents(log *slog.Logger, eng *engine.Engine) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		agents, err := eng.Agents(r.Context(), workspace(r.Context()))
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		out := agentList{Agents: []engine.AgentView{}}
		for _, a := range agents {
			out.Agents = append(out.Agents, engine.ViewAgent(a))
		}
		encode(w, http.StatusOK, out)
	})
}

func handleAdminAgent(log *slog.Logger, eng *engine.Engine) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, err := eng.Agent(r.Context(), workspace(r.Context()), r.PathValue("id"))
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		encode(w, http.StatusOK, engine.ViewAgent(a))
	})
}

func handleAdminUpdateAgent(log *slog.Logger, eng *engine.Engine) http.Handler {
	type request struct {
		Name     *string `json:"name"`
		Email    *string `json:"email"`
		DeskID   *string `json:"desk_id"`
		Password *string `json:"password"`
		Disabled *bool   `json:"disabled"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, given, err := decodePatch[request](r)
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		a, err := eng.UpdateAgent(r.Context(), workspace(r.Context()), r.PathValue("id"), engine.AgentUpdate{
			Name: change(given, "name", req.Name), Email: change(given, "email", req.Email), DeskID: change(given, "desk_id", req.DeskID),
			Password: change(given, "password", req.Password), Disabled: change(given, "disabled", req.Disabled)})
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		encode(w, http.StatusOK, engine.ViewAgent(a))
	})
}

func handleAdminAgentKey(log *slog.Logger, eng *engine.Engine) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := emptyBody(r); err != nil {
			encodeError(w, r, log, err)
			return
		}
		a, key, err := eng.NewAgentKey(r.Context(), workspace(r.Context()), r.PathValue("id"))
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		encode(w, http.StatusOK, agentWithKey{AgentView: engine.ViewAgent(a), Key: key})
	})
}

func handleAdminAudit(log *slog.Logger, eng *engine.Engine) http.Handler {
	type entry struct {
		Seq         int64           `json:"seq"`
		At          time.Time       `json:"at"`
		Actor       string          `json:"actor"`
		Action      string          `json:"action"`
		Object      string          `json:"object"`
		ObjectID    string          `json:"object_id"`
		WorkspaceID string          `json:"workspace_id"`
		Before      json.RawMessage `json:"before"`
		After       json.RawMessage `json:"after"`
	}
	type response struct {
		Entries []entry `json:"entries"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		after, limit, err := pageParams(r)
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		if limit == 0 {
			limit = 100
		}
		es, err := eng.Audit(r.Context(), baton.AuditPage{WorkspaceID: r.URL.Query().Get("workspace"), After: after, Limit: limit})
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		out := response{Entries: []entry{}}
		null := json.RawMessage("null")
		for _, e := range es {
			x := entry{Seq: e.Seq, At: utc(e.At), Actor: e.Actor, Action: e.Action, Object: e.Object, ObjectID: e.ObjectID,
				WorkspaceID: e.WorkspaceID, Before: e.Before, After: e.After}
			if x.Before == nil {
				x.Before = null
			}
			if x.After == nil {
				x.After = null
			}
			out.Entries = append(out.Entries, x)
		}
		encode(w, http.StatusOK, out)
	})
}
