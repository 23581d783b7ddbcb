package livechatsim

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// App is a registered LiveChat application (Developer Console): the
// client_id, client_secret and redirect URI that the accounts endpoints check.
type App struct {
	ClientID    string
	Secret      string
	RedirectURI string // redirect_uri must equal it or extend it
}

const agentScope = "chats--all:rw,chats--access:rw,customers:own,customers:rw,agents--all:rw," +
	"agents-bot--all:rw,groups--all:rw,webhooks.configuration:rw,webhooks.state:rw"

// token is an access token of kind "agent" (OAuth), "customer" or "bot".
type token struct {
	value   string
	kind    string
	entity  string // agent, customer or bot id
	client  string
	expires time.Time
	refresh string // agent tokens: the refresh token issued with it
	revoked bool
}

type code struct {
	client, agent, redirect, challenge, method string
	expires                                    time.Time
}

// actor is an authenticated requester. kind is "pat", "agent" (OAuth
// Bearer), "bot" or "customer".
type actor struct {
	kind   string
	id     string
	client string // the token's client_id; empty for PATs
}

func (a *actor) isCustomer() bool { return a.kind == "customer" }

func (s *Sim) mint(kind, entity, client string, ttl time.Duration) *token {
	v := s.cfg.Region + ":" + random(urlAlnum, 27)
	if kind == "bot" {
		head := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT"}`))
		body, _ := json.Marshal(obj{"sub": entity, "client_id": client, "exp": s.now().Add(ttl).Unix()})
		v = head + "." + base64.RawURLEncoding.EncodeToString(body) + "." + random(urlAlnum, 43)
	}
	t := &token{value: v, kind: kind, entity: entity, client: client, expires: s.now().Add(ttl)}
	s.tokens[v] = t
	return t
}

const urlAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// live returns a valid, unexpired token or nil.
func (s *Sim) live(v string) *token {
	t := s.tokens[v]
	if t == nil || t.revoked || !s.now().Before(t.expires) {
		return nil
	}
	return t
}

func eq(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// pat resolves "base64(account_id:pat)" to a human agent.
func (s *Sim) pat(cred string) *agent {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
	if err != nil {
		return nil
	}
	acc, p, ok := strings.Cut(string(raw), ":")
	if !ok {
		return nil
	}
	for _, id := range s.order {
		a := s.agents[id]
		if !a.bot && a.accountID == acc && a.pat != "" && eq(a.pat, p) {
			return a
		}
	}
	return nil
}

func bearer(r *http.Request) (scheme, cred string) {
	scheme, cred, _ = strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	return strings.ToLower(scheme), strings.TrimSpace(cred)
}

// authAgent authenticates an Agent API call: Basic PAT, or Bearer agent
// OAuth or bot token. Up to v3.5 an agent token may act as a bot with
// X-Author-Id.
func (s *Sim) authAgent(r *http.Request, ver string) (*actor, error) {
	scheme, cred := bearer(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	var a *actor
	switch scheme {
	case "basic":
		ag := s.pat(cred)
		if ag == nil {
			return nil, invalidToken()
		}
		a = &actor{kind: "pat", id: ag.id}
	case "bearer":
		t := s.live(cred)
		if t == nil || t.kind == "customer" || s.agents[t.entity] == nil {
			return nil, invalidToken()
		}
		a = &actor{kind: t.kind, id: t.entity, client: t.client}
	case "":
		return nil, errf("authentication", "Authentication error")
	default:
		return nil, invalidToken()
	}
	if id := r.Header.Get("X-Author-Id"); id != "" && ver != "v3.6" && a.kind != "bot" {
		if b := s.agents[id]; b != nil && b.bot {
			a = &actor{kind: "bot", id: id, client: a.client}
		}
	}
	return a, nil
}

// authCustomer authenticates a Customer API call: Bearer customer token
// only, with the required ?organization_id=.
func (s *Sim) authCustomer(r *http.Request) (*actor, error) {
	scheme, cred := bearer(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	if scheme == "" {
		return nil, errf("authentication", "Authentication error")
	}
	t := s.live(cred)
	if scheme != "bearer" || t == nil || t.kind != "customer" || s.customers[t.entity] == nil {
		return nil, invalidToken()
	}
	org := r.URL.Query().Get("organization_id")
	if org == "" {
		return nil, badRequest("`organization_id` query parameter is required")
	}
	if org != s.cfg.OrganizationID {
		return nil, errf("license_not_found", "License not found")
	}
	return &actor{kind: "customer", id: t.entity, client: t.client}, nil
}

// authConfig authenticates a Configuration API call: Basic PAT or Bearer
// agent OAuth token.
func (s *Sim) authConfig(r *http.Request) (*actor, error) {
	a, err := s.authAgent(r, "v3.6")
	if err != nil {
		return nil, err
	}
	if a.kind == "bot" {
		return nil, errf("authorization", "Bot tokens cannot call the Configuration API")
	}
	return a, nil
}

// Accounts API.

// params reads an accounts request: JSON or form body, plus the query.
func params(r *http.Request) (map[string]string, error) {
	p := map[string]string{}
	for k, v := range r.URL.Query() {
		p[k] = v[0]
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "application/json" {
		var m map[string]any
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&m); err != nil {
			return nil, oauthf("invalid_request", "malformed JSON body")
		}
		for k, v := range m {
			switch v := v.(type) {
			case string:
				p[k] = v
			case nil:
			default:
				b, _ := json.Marshal(v)
				p[k] = string(b)
			}
		}
		return p, nil
	}
	if err := r.ParseForm(); err != nil {
		return nil, oauthf("invalid_request", "malformed form body")
	}
	for k, v := range r.PostForm {
		p[k] = v[0]
	}
	return p, nil
}

func (s *Sim) app(clientID string) (*App, *oauthErr) {
	if clientID == "" {
		return nil, oauthf("invalid_request", "client_id is required")
	}
	a := s.apps[clientID]
	if a == nil {
		return nil, oauthf("invalid_client", "client_id not found")
	}
	return a, nil
}

func redirectOK(a *App, uri string) bool {
	return uri == a.RedirectURI || (a.RedirectURI != "" && strings.HasPrefix(uri, a.RedirectURI))
}

func (s *Sim) oauthToken(w http.ResponseWriter, r *http.Request) {
	p, err := params(r)
	if err != nil {
		writeOAuthErr(w, err.(*oauthErr))
		return
	}
	s.mu.Lock()
	out, oerr := s.grant(p)
	s.mu.Unlock()
	if oerr != nil {
		writeOAuthErr(w, oerr)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Sim) grant(p map[string]string) (obj, *oauthErr) {
	a, oerr := s.app(p["client_id"])
	if oerr != nil {
		return nil, oerr
	}
	if !eq(p["client_secret"], a.Secret) {
		return nil, oauthf("invalid_client", "invalid client_secret")
	}
	var agentID string
	switch p["grant_type"] {
	case "authorization_code":
		key := strings.ReplaceAll(p["code"], "%3A", ":")
		c := s.codes[key]
		if c == nil || c.client != a.ClientID || !s.now().Before(c.expires) {
			return nil, oauthf("invalid_grant", "invalid or expired code")
		}
		delete(s.codes, key) // single use
		if p["redirect_uri"] != "" && p["redirect_uri"] != c.redirect {
			return nil, oauthf("invalid_grant", "redirect_uri mismatch")
		}
		if c.challenge != "" {
			v := p["code_verifier"]
			if c.method == "S256" {
				sum := sha256.Sum256([]byte(v))
				v = base64.RawURLEncoding.EncodeToString(sum[:])
			}
			if v == "" || !eq(v, c.challenge) {
				return nil, oauthf("invalid_grant", "invalid code_verifier")
			}
		}
		agentID = c.agent
	case "refresh_token":
		rt := s.refresh[p["refresh_token"]]
		if rt == nil || rt.client != a.ClientID {
			return nil, oauthf("invalid_grant", "invalid refresh_token")
		}
		agentID = rt.entity
	case "":
		return nil, oauthf("invalid_request", "grant_type is required")
	default:
		return nil, oauthf("unsupported_grant_type", "unsupported grant_type %q", p["grant_type"])
	}
	ag := s.agents[agentID]
	if ag == nil {
		return nil, oauthf("access_denied", "agent not found")
	}
	t := s.agentToken(a.ClientID, ag.id, p["refresh_token"])
	return obj{"access_token": t.value, "account_id": ag.accountID, "expires_in": int(TokenTTL / time.Second),
		"organization_id": s.cfg.OrganizationID, "refresh_token": t.refresh, "scope": agentScope,
		"token_type": "Bearer"}, nil
}

// agentToken mints an agent OAuth token with a refresh token (rt, or a new one).
func (s *Sim) agentToken(client, agentID, rt string) *token {
	t := s.mint("agent", agentID, client, TokenTTL)
	if s.refresh[rt] == nil {
		rt = random(urlAlnum[:62], 24)
		s.refresh[rt] = &token{value: rt, kind: "refresh", entity: agentID, client: client}
	}
	t.refresh = rt
	return t
}

// authorize is the accounts authorization page: GET /?response_type=code&
// client_id&redirect_uri&state[&code_challenge&code_challenge_method]
// redirects back with ?code=&state=. The simulator logs in agent_id (a
// simulator extension) or the first human agent.
func (s *Sim) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("response_type") == "" {
		writeJSON(w, http.StatusOK, obj{"simulator": "livechat", "organization_id": s.cfg.OrganizationID, "license_id": s.cfg.LicenseID})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if q.Get("response_type") != "code" {
		writeOAuthErr(w, oauthf("unsupported_response_type", "response_type must be code"))
		return
	}
	a, oerr := s.app(q.Get("client_id"))
	if oerr != nil {
		writeOAuthErr(w, oerr)
		return
	}
	uri := q.Get("redirect_uri")
	if uri == "" {
		uri = a.RedirectURI
	}
	if !redirectOK(a, uri) {
		writeOAuthErr(w, oauthf("invalid_request", "redirect_uri mismatch"))
		return
	}
	id := q.Get("agent_id")
	if id == "" {
		for _, aid := range s.order {
			if !s.agents[aid].bot {
				id = aid
				break
			}
		}
	}
	c, err := s.code(a.ClientID, id, uri, q.Get("code_challenge"), q.Get("code_challenge_method"))
	if err != nil {
		writeOAuthErr(w, oauthf("access_denied", "%v", err))
		return
	}
	u, err := url.Parse(uri)
	if err != nil {
		writeOAuthErr(w, oauthf("invalid_request", "bad redirect_uri"))
		return
	}
	v := u.Query()
	v.Set("code", c)
	if st := q.Get("state"); st != "" {
		v.Set("state", st)
	}
	u.RawQuery = v.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

func (s *Sim) code(client, agentID, redirect, challenge, method string) (string, error) {
	if a := s.agents[agentID]; a == nil || a.bot {
		return "", notFound("Agent")
	}
	if challenge != "" && method == "" {
		method = "plain"
	}
	c := s.cfg.Region + ":" + random(urlAlnum[:62], 22)
	s.codes[c] = &code{client: client, agent: agentID, redirect: redirect, challenge: challenge,
		method: method, expires: s.now().Add(5 * time.Minute)}
	return c, nil
}

func (s *Sim) info(w http.ResponseWriter, r *http.Request) {
	scheme, cred := bearer(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.live(cred)
	if scheme != "bearer" || t == nil || t.kind != "agent" {
		writeOAuthErr(w, oauthf("access_denied", "invalid or expired access token"))
		return
	}
	writeJSON(w, http.StatusOK, obj{"access_token": t.value, "account_id": s.agents[t.entity].accountID,
		"client_id": t.client, "expires_in": int(t.expires.Sub(s.now()) / time.Second),
		"organization_id": s.cfg.OrganizationID, "scope": agentScope, "token_type": "Bearer"})
}

func (s *Sim) customerInfo(w http.ResponseWriter, r *http.Request) {
	scheme, cred := bearer(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.live(cred)
	if scheme != "bearer" || t == nil || t.kind != "customer" {
		writeOAuthErr(w, oauthf("access_denied", "invalid or expired access token"))
		return
	}
	writeJSON(w, http.StatusOK, obj{"access_token": t.value, "client_id": t.client, "entity_id": t.entity,
		"expires_in": int(t.expires.Sub(s.now()) / time.Second), "organization_id": s.cfg.OrganizationID,
		"token_type": "Bearer"})
}

// revoke is DELETE /v2/token with a Bearer token or ?code=<token>.
func (s *Sim) revoke(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query().Get("code")
	if v == "" {
		_, v = bearer(r)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.tokens[v]; t != nil {
		t.revoked = true
		if t.refresh != "" {
			delete(s.refresh, t.refresh)
		}
	} else if rt := s.refresh[v]; rt != nil {
		delete(s.refresh, v)
		for _, t := range s.tokens {
			if t.refresh == v {
				t.revoked = true
			}
		}
	}
	writeJSON(w, http.StatusOK, obj{})
}

// customerToken is POST /v2/customer/token (cookie and agent_token grants).
func (s *Sim) customerToken(w http.ResponseWriter, r *http.Request) {
	p, err := params(r)
	if err != nil {
		writeOAuthErr(w, err.(*oauthErr))
		return
	}
	scheme, cred := bearer(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	if rt := p["response_type"]; rt != "" && rt != "token" {
		writeOAuthErr(w, oauthf("unsupported_response_type", "response_type must be token"))
		return
	}
	a, oerr := s.app(p["client_id"])
	if oerr != nil {
		writeOAuthErr(w, oerr)
		return
	}
	if org := p["organization_id"]; org != "" && org != s.cfg.OrganizationID {
		writeOAuthErr(w, oauthf("invalid_request", "organization_id not found"))
		return
	}
	var cu *customer
	switch p["grant_type"] {
	case "cookie":
		if p["organization_id"] == "" {
			writeOAuthErr(w, oauthf("invalid_request", "organization_id is required"))
			return
		}
		if !redirectOK(a, p["redirect_uri"]) {
			writeOAuthErr(w, oauthf("invalid_request", "redirect_uri mismatch"))
			return
		}
		cid, _ := r.Cookie("__lc_cid")
		cst, _ := r.Cookie("__lc_cst")
		if cid != nil && cst != nil {
			if c := s.customers[cid.Value]; c != nil && eq(c.cst, cst.Value) {
				cu = c
			}
		}
		if cu == nil {
			cu = s.newCustomer()
		}
		for name, v := range map[string]string{"__lc_cid": cu.id, "__lc_cst": cu.cst} {
			http.SetCookie(w, &http.Cookie{Name: name, Value: v, Path: "/", MaxAge: 2 * 365 * 24 * 3600,
				HttpOnly: true, SameSite: http.SameSiteLaxMode})
		}
	case "agent_token":
		t := s.live(cred)
		if scheme != "bearer" || t == nil || (t.kind != "agent" && t.kind != "bot") {
			writeOAuthErr(w, oauthf("access_denied", "agent_token grant requires a valid agent Bearer token (not a PAT)"))
			return
		}
		if id := p["entity_id"]; id != "" {
			if cu = s.customers[id]; cu == nil {
				writeOAuthErr(w, oauthf("invalid_request", "entity_id not found"))
				return
			}
		} else {
			cu = s.newCustomer()
		}
	case "":
		writeOAuthErr(w, oauthf("invalid_request", "grant_type is required"))
		return
	default:
		writeOAuthErr(w, oauthf("unsupported_grant_type", "unsupported grant_type %q", p["grant_type"]))
		return
	}
	t := s.mint("customer", cu.id, a.ClientID, TokenTTL)
	writeJSON(w, http.StatusOK, obj{"access_token": t.value, "client_id": a.ClientID, "entity_id": cu.id,
		"expires_in": int(TokenTTL / time.Second), "token_type": "Bearer", "organization_id": s.cfg.OrganizationID})
}

func (s *Sim) newCustomer() *customer {
	c := &customer{id: uuid4(), created: s.now(), cst: random(urlAlnum[:62], 32)}
	s.customers[c.id] = c
	return c
}
