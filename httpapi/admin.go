package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
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

// answer serves a call with no body to read: fn's result as JSON with
// status, or its error as a problem.
func answer[T any](log *slog.Logger, status int, fn func(r *http.Request, ws string) (T, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, err := fn(r, workspace(r.Context()))
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		encode(w, status, v)
	})
}

// accept serves a call whose body is a Req: decoded (an empty body is the
// zero Req when empty is true), then fn, as answer does.
func accept[Req, T any](log *slog.Logger, status int, empty bool, fn func(r *http.Request, ws string, req Req) (T, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := decode[Req](r)
		if err != nil && !(empty && err == errEmptyBody) {
			encodeError(w, r, log, err)
			return
		}
		v, err := fn(r, workspace(r.Context()), req)
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		encode(w, status, v)
	})
}

// patch serves an update whose body is a Req, as accept does, telling fn
// which top-level fields were given (see decodePatch).
func patch[Req, T any](log *slog.Logger, fn func(r *http.Request, ws string, req Req, given map[string]bool) (T, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, given, err := decodePatch[Req](r)
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		v, err := fn(r, workspace(r.Context()), req, given)
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		encode(w, http.StatusOK, v)
	})
}

// remove serves a delete: fn, then 204.
func remove(log *slog.Logger, fn func(r *http.Request, ws string) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := fn(r, workspace(r.Context())); err != nil {
			encodeError(w, r, log, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// once marks an answer that carries a secret shown this once: no cache keeps it.
func once(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// Workspaces.

func handleAdminCreateWorkspace(log *slog.Logger, eng *engine.Engine) http.Handler {
	type request struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	return accept(log, http.StatusCreated, false, func(r *http.Request, _ string, req request) (engine.WorkspaceView, error) {
		w, err := eng.CreateWorkspace(r.Context(), engine.WorkspaceInput{ID: req.ID, Name: req.Name})
		return engine.ViewWorkspace(w), err
	})
}

func handleAdminWorkspaces(log *slog.Logger, eng *engine.Engine) http.Handler {
	type response struct {
		Workspaces []engine.WorkspaceView `json:"workspaces"`
	}
	return answer(log, http.StatusOK, func(r *http.Request, _ string) (response, error) {
		list, err := eng.Workspaces(r.Context())
		return response{views(list, engine.ViewWorkspace)}, err
	})
}

// views maps a list to its views, never nil (an empty list is []).
func views[T, V any](list []T, view func(T) V) []V {
	out := make([]V, 0, len(list))
	for _, x := range list {
		out = append(out, view(x))
	}
	return out
}

func handleAdminWorkspace(log *slog.Logger, eng *engine.Engine) http.Handler {
	return answer(log, http.StatusOK, func(r *http.Request, ws string) (engine.WorkspaceView, error) {
		w, err := eng.Workspace(r.Context(), ws)
		return engine.ViewWorkspace(w), err
	})
}

func handleAdminRenameWorkspace(log *slog.Logger, eng *engine.Engine) http.Handler {
	type request struct {
		Name string `json:"name"`
	}
	return accept(log, http.StatusOK, false, func(r *http.Request, ws string, req request) (engine.WorkspaceView, error) {
		w, err := eng.RenameWorkspace(r.Context(), ws, req.Name)
		return engine.ViewWorkspace(w), err
	})
}

func handleAdminDeleteWorkspace(log *slog.Logger, eng *engine.Engine) http.Handler {
	type response struct {
		ID      string `json:"id"`
		Deleted bool   `json:"deleted"`
		Ended   int    `json:"ended"`
	}
	return answer(log, http.StatusOK, func(r *http.Request, ws string) (response, error) {
		force, err := boolParam("force", r.URL.Query().Get("force"))
		if err != nil {
			return response{}, err
		}
		n, err := eng.DeleteWorkspace(r.Context(), ws, force)
		return response{ID: ws, Deleted: true, Ended: n}, err
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

// API keys.

type keyCreated struct {
	engine.KeyView
	Key string `json:"key,omitempty"`
}

func handleAdminCreateKey(log *slog.Logger, eng *engine.Engine) http.Handler {
	type request struct {
		Name  string         `json:"name"`
		Scope baton.KeyScope `json:"scope"`
		BotID string         `json:"bot_id"`
	}
	return once(accept(log, http.StatusCreated, false, func(r *http.Request, ws string, req request) (keyCreated, error) {
		k, secret, err := eng.CreateKey(r.Context(), ws, engine.KeyInput{Name: req.Name, Scope: req.Scope, BotID: req.BotID})
		return keyCreated{KeyView: engine.ViewKey(k), Key: secret}, err
	}))
}

func handleAdminKeys(log *slog.Logger, eng *engine.Engine) http.Handler {
	type response struct {
		Keys []engine.KeyView `json:"keys"`
	}
	return answer(log, http.StatusOK, func(r *http.Request, ws string) (response, error) {
		keys, err := eng.Keys(r.Context(), ws)
		return response{views(keys, engine.ViewKey)}, err
	})
}

func handleAdminRevokeKey(log *slog.Logger, eng *engine.Engine) http.Handler {
	return remove(log, func(r *http.Request, ws string) error { return eng.RevokeKey(r.Context(), ws, r.PathValue("id")) })
}

// Bots.

type botWithSecret struct {
	engine.BotView
	WebhookSecret string `json:"webhook_secret,omitempty"`
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
	return once(accept(log, http.StatusCreated, false, func(r *http.Request, ws string, req request) (botWithSecret, error) {
		b, secret, err := eng.CreateBot(r.Context(), ws, engine.BotInput{ID: req.ID, Name: req.Name,
			WebhookURL: req.WebhookURL, WebhookSecret: req.WebhookSecret, DeskID: req.DeskID, Policy: req.Policy})
		return botWithSecret{BotView: engine.ViewBot(b), WebhookSecret: secret}, err
	}))
}

func handleAdminBots(log *slog.Logger, eng *engine.Engine) http.Handler {
	type response struct {
		Bots []engine.BotView `json:"bots"`
	}
	return answer(log, http.StatusOK, func(r *http.Request, ws string) (response, error) {
		bots, err := eng.Bots(r.Context(), ws)
		return response{views(bots, engine.ViewBot)}, err
	})
}

func handleAdminBot(log *slog.Logger, eng *engine.Engine) http.Handler {
	return answer(log, http.StatusOK, func(r *http.Request, ws string) (engine.BotView, error) {
		b, err := eng.Bot(r.Context(), ws, r.PathValue("id"))
		return engine.ViewBot(b), err
	})
}

func handleAdminUpdateBot(log *slog.Logger, eng *engine.Engine) http.Handler {
	type request struct {
		Name       *string       `json:"name"`
		WebhookURL *string       `json:"webhook_url"`
		DeskID     *string       `json:"desk_id"`
		Policy     *baton.Policy `json:"policy"`
	}
	return patch(log, func(r *http.Request, ws string, req request, given map[string]bool) (engine.BotView, error) {
		u := engine.BotUpdate{Name: change(given, "name", req.Name), WebhookURL: change(given, "webhook_url", req.WebhookURL),
			DeskID: change(given, "desk_id", req.DeskID)}
		if given["policy"] {
			u.Policy = engine.To(req.Policy)
		}
		b, err := eng.UpdateBot(r.Context(), ws, r.PathValue("id"), u)
		return engine.ViewBot(b), err
	})
}

func handleAdminRotateSecret(log *slog.Logger, eng *engine.Engine) http.Handler {
	type request struct {
		Secret  string          `json:"secret"`
		Overlap *baton.Duration `json:"overlap"`
	}
	return once(accept(log, http.StatusOK, true, func(r *http.Request, ws string, req request) (botWithSecret, error) {
		overlap := engine.DefaultOverlap
		if req.Overlap != nil {
			overlap = time.Duration(*req.Overlap)
		}
		b, secret, err := eng.RotateSecret(r.Context(), ws, r.PathValue("id"), req.Secret, overlap)
		return botWithSecret{BotView: engine.ViewBot(b), WebhookSecret: secret}, err
	}))
}

func handleAdminDeleteBot(log *slog.Logger, eng *engine.Engine) http.Handler {
	return remove(log, func(r *http.Request, ws string) error { return eng.DeleteBot(r.Context(), ws, r.PathValue("id")) })
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
	return answer(log, http.StatusOK, func(r *http.Request, ws string) (response, error) {
		after, limit, err := pageParams(r)
		if err != nil {
			return response{}, err
		}
		ds, err := eng.Deliveries(r.Context(), ws, r.PathValue("id"), after, limit)
		return response{views(ds, newDelivery)}, err
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
	return accept(log, http.StatusAccepted, true, func(r *http.Request, ws string, _ struct{}) (deliveryJSON, error) {
		d, err := eng.Redeliver(r.Context(), ws, r.PathValue("id"), r.PathValue("event_id"))
		return newDelivery(d), err
	})
}

// Policies: a bot's or a desk's, {} for none.

func policyOrEmpty(p *baton.Policy) baton.Policy {
	if p == nil {
		return baton.Policy{}
	}
	return *p
}

func handleAdminBotPolicy(log *slog.Logger, eng *engine.Engine) http.Handler {
	return answer(log, http.StatusOK, func(r *http.Request, ws string) (baton.Policy, error) {
		b, err := eng.Bot(r.Context(), ws, r.PathValue("id"))
		return policyOrEmpty(b.Policy), err
	})
}

func handleAdminPutBotPolicy(log *slog.Logger, eng *engine.Engine) http.Handler {
	return accept(log, http.StatusOK, false, func(r *http.Request, ws string, p baton.Policy) (baton.Policy, error) {
		b, err := eng.UpdateBot(r.Context(), ws, r.PathValue("id"), engine.BotUpdate{Policy: engine.To(&p)})
		return policyOrEmpty(b.Policy), inBody(err, "policy.")
	})
}

// inBody renames the field of err for a call whose body is the object the
// engine calls prefix: a policy PUT's "policy.zone" is its body's "zone".
func inBody(err error, prefix string) error {
	var be *baton.Error
	if errors.As(err, &be) && strings.HasPrefix(be.Field, prefix) {
		c := *be
		c.Field = strings.TrimPrefix(be.Field, prefix)
		return &c
	}
	return err
}

func handleAdminDeskPolicy(log *slog.Logger, eng *engine.Engine) http.Handler {
	return answer(log, http.StatusOK, func(r *http.Request, ws string) (baton.Policy, error) {
		d, err := eng.Desk(r.Context(), ws, r.PathValue("id"))
		return policyOrEmpty(d.Policy), err
	})
}

func handleAdminPutDeskPolicy(log *slog.Logger, eng *engine.Engine) http.Handler {
	return accept(log, http.StatusOK, false, func(r *http.Request, ws string, p baton.Policy) (baton.Policy, error) {
		d, err := eng.UpdateDesk(r.Context(), ws, r.PathValue("id"), engine.DeskUpdate{Policy: engine.To(&p)})
		return policyOrEmpty(d.Policy), inBody(err, "policy.")
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

// Desks.

func handleAdminCreateDesk(log *slog.Logger, eng *engine.Engine) http.Handler {
	type request struct {
		ID       string            `json:"id"`
		Name     string            `json:"name"`
		Kind     baton.DeskKind    `json:"kind"`
		Settings map[string]string `json:"settings"`
		Policy   *baton.Policy     `json:"policy"`
	}
	return accept(log, http.StatusCreated, false, func(r *http.Request, ws string, req request) (engine.DeskView, error) {
		d, err := eng.CreateDesk(r.Context(), ws, engine.DeskInput{ID: req.ID, Name: req.Name, Kind: req.Kind, Settings: req.Settings, Policy: req.Policy})
		return eng.ViewDesk(d), err
	})
}

func handleAdminDesks(log *slog.Logger, eng *engine.Engine) http.Handler {
	type response struct {
		Desks []engine.DeskView `json:"desks"`
	}
	return answer(log, http.StatusOK, func(r *http.Request, ws string) (response, error) {
		desks, err := eng.DeskList(r.Context(), ws)
		return response{views(desks, eng.ViewDesk)}, err
	})
}

func handleAdminDesk(log *slog.Logger, eng *engine.Engine) http.Handler {
	return answer(log, http.StatusOK, func(r *http.Request, ws string) (engine.DeskView, error) {
		d, err := eng.Desk(r.Context(), ws, r.PathValue("id"))
		return eng.ViewDesk(d), err
	})
}

func handleAdminUpdateDesk(log *slog.Logger, eng *engine.Engine) http.Handler {
	type request struct {
		Name     *string           `json:"name"`
		Settings map[string]string `json:"settings"`
		Policy   *baton.Policy     `json:"policy"`
	}
	return patch(log, func(r *http.Request, ws string, req request, given map[string]bool) (engine.DeskView, error) {
		u := engine.DeskUpdate{Name: change(given, "name", req.Name), Settings: req.Settings}
		if given["policy"] {
			u.Policy = engine.To(req.Policy)
		}
		d, err := eng.UpdateDesk(r.Context(), ws, r.PathValue("id"), u)
		return eng.ViewDesk(d), err
	})
}

func handleAdminDeleteDesk(log *slog.Logger, eng *engine.Engine) http.Handler {
	return remove(log, func(r *http.Request, ws string) error { return eng.DeleteDesk(r.Context(), ws, r.PathValue("id")) })
}

// handleAdminCheckDesk runs the desk's credential check now and records it.
func handleAdminCheckDesk(log *slog.Logger, eng *engine.Engine, check func(context.Context, baton.DeskConfig) (baton.DeskStatus, string)) http.Handler {
	type response struct {
		Status    baton.DeskStatus `json:"status"`
		LastError string           `json:"last_error"`
		CheckedAt time.Time        `json:"checked_at"`
	}
	return accept(log, http.StatusOK, true, func(r *http.Request, ws string, _ struct{}) (response, error) {
		d, err := eng.Desk(r.Context(), ws, r.PathValue("id"))
		if err != nil {
			return response{}, err
		}
		status, last := baton.NotConfigured, "this build cannot check desks"
		if check != nil {
			status, last = check(r.Context(), d)
		}
		d, err = eng.RecordCheck(r.Context(), baton.DeskState{DeskID: d.ID, Status: status, LastError: last})
		return response{Status: d.Status, LastError: d.LastError, CheckedAt: utc(d.CheckedAt)}, err
	})
}

// Inbox agents.

type agentWithKey struct {
	engine.AgentView
	Key string `json:"key,omitempty"`
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
	return once(accept(log, http.StatusCreated, false, func(r *http.Request, ws string, req request) (agentWithKey, error) {
		a, key, err := eng.CreateAgent(r.Context(), ws, engine.AgentInput{ID: req.ID, Name: req.Name,
			Email: req.Email, DeskID: req.DeskID, Password: req.Password, Key: req.APIKey})
		return agentWithKey{AgentView: engine.ViewAgent(a), Key: key}, err
	}))
}

func handleAdminAgents(log *slog.Logger, eng *engine.Engine) http.Handler {
	type response struct {
		Agents []engine.AgentView `json:"agents"`
	}
	return answer(log, http.StatusOK, func(r *http.Request, ws string) (response, error) {
		agents, err := eng.Agents(r.Context(), ws)
		return response{views(agents, engine.ViewAgent)}, err
	})
}

func handleAdminAgent(log *slog.Logger, eng *engine.Engine) http.Handler {
	return answer(log, http.StatusOK, func(r *http.Request, ws string) (engine.AgentView, error) {
		a, err := eng.Agent(r.Context(), ws, r.PathValue("id"))
		return engine.ViewAgent(a), err
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
	return patch(log, func(r *http.Request, ws string, req request, given map[string]bool) (engine.AgentView, error) {
		a, err := eng.UpdateAgent(r.Context(), ws, r.PathValue("id"), engine.AgentUpdate{
			Name: change(given, "name", req.Name), Email: change(given, "email", req.Email), DeskID: change(given, "desk_id", req.DeskID),
			Password: change(given, "password", req.Password), Disabled: change(given, "disabled", req.Disabled)})
		return engine.ViewAgent(a), err
	})
}

func handleAdminDeleteAgent(log *slog.Logger, eng *engine.Engine) http.Handler {
	return remove(log, func(r *http.Request, ws string) error { return eng.DeleteAgent(r.Context(), ws, r.PathValue("id")) })
}

func handleAdminAgentKey(log *slog.Logger, eng *engine.Engine) http.Handler {
	return once(accept(log, http.StatusOK, true, func(r *http.Request, ws string, _ struct{}) (agentWithKey, error) {
		a, key, err := eng.NewAgentKey(r.Context(), ws, r.PathValue("id"))
		return agentWithKey{AgentView: engine.ViewAgent(a), Key: key}, err
	}))
}

// The audit log.

type auditJSON struct {
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

func newAudit(e baton.AuditEntry) auditJSON {
	orNull := func(m json.RawMessage) json.RawMessage {
		if m == nil {
			return json.RawMessage("null")
		}
		return m
	}
	return auditJSON{Seq: e.Seq, At: utc(e.At), Actor: e.Actor, Action: e.Action, Object: e.Object, ObjectID: e.ObjectID,
		WorkspaceID: e.WorkspaceID, Before: orNull(e.Before), After: orNull(e.After)}
}

func handleAdminAudit(log *slog.Logger, eng *engine.Engine) http.Handler {
	type response struct {
		Entries []auditJSON `json:"entries"`
	}
	return answer(log, http.StatusOK, func(r *http.Request, _ string) (response, error) {
		after, limit, err := pageParams(r)
		if err != nil {
			return response{}, err
		}
		if limit == 0 {
			limit = 100
		}
		es, err := eng.Audit(r.Context(), baton.AuditPage{WorkspaceID: r.URL.Query().Get("workspace"), After: after, Limit: limit})
		return response{views(es, newAudit)}, err
	})
}
