package livechatsim

import (
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// configMethods are the Configuration API methods the simulator serves.
var configMethods = map[string]method{
	"list_groups":                (*Sim).listGroupsM,
	"get_group":                  (*Sim).getGroupM,
	"create_group":               (*Sim).createGroupM,
	"update_group":               (*Sim).updateGroupM,
	"delete_group":               (*Sim).deleteGroupM,
	"list_agents":                (*Sim).listAgentsM,
	"get_agent":                  (*Sim).getAgentM,
	"create_bot":                 (*Sim).createBotM,
	"update_bot":                 (*Sim).updateBotM,
	"delete_bot":                 (*Sim).deleteBotM,
	"list_bots":                  (*Sim).listBotsM,
	"get_bot":                    (*Sim).getBotM,
	"issue_bot_token":            (*Sim).botTokenM,
	"reset_bot_secret":           (*Sim).resetSecretM,
	"register_webhook":           (*Sim).registerM,
	"list_webhooks":              (*Sim).listWebhooksM,
	"unregister_webhook":         (*Sim).unregisterM,
	"enable_license_webhooks":    (*Sim).licenseHooksM,
	"disable_license_webhooks":   (*Sim).licenseHooksM,
	"get_license_webhooks_state": (*Sim).licenseHooksM,
	"list_webhook_names":         (*Sim).webhookNamesM,
}

// ids serves GET /v3.4/configuration/action/get_organization_id?license_id=
// and get_license_id?organization_id= (no auth; removed in v3.5).
func (s *Sim) ids(r *http.Request, name string) (any, error) {
	q := r.URL.Query()
	if name == "get_organization_id" {
		if q.Get("license_id") == "" {
			return nil, badRequest("`license_id` is required")
		}
		if q.Get("license_id") != strconv.Itoa(s.cfg.LicenseID) {
			return nil, errf("license_not_found", "License not found")
		}
		return obj{"organization_id": s.cfg.OrganizationID}, nil
	}
	if q.Get("organization_id") == "" {
		return nil, badRequest("`organization_id` is required")
	}
	if q.Get("organization_id") != s.cfg.OrganizationID {
		return nil, errf("license_not_found", "License not found")
	}
	return obj{"license_id": s.cfg.LicenseID}, nil
}

type fieldsIn struct {
	ID     int      `json:"id"`
	Fields []string `json:"fields"`
}

func (s *Sim) groupJSON(g *group, fields []string) obj {
	o := obj{"id": g.id, "name": g.name, "language_code": g.lang}
	if slices.Contains(fields, "agent_priorities") {
		pr := obj{}
		for _, id := range s.order {
			if p, ok := s.agents[id].groups[g.id]; ok {
				pr[id] = p
			}
		}
		o["agent_priorities"] = pr
	}
	if slices.Contains(fields, "routing_status") {
		o["routing_status"] = s.groupStatus(g.id)
	}
	return o
}

func (s *Sim) listGroupsM(c *call) (any, error) {
	var in fieldsIn
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	for _, f := range in.Fields {
		if f != "agent_priorities" && f != "routing_status" {
			return nil, badRequest("Unknown field %q", f)
		}
	}
	var ids []int
	for id := range s.groups {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	out := []any{}
	for _, id := range ids {
		out = append(out, s.groupJSON(s.groups[id], in.Fields))
	}
	return out, nil
}

func (s *Sim) getGroupM(c *call) (any, error) {
	var in fieldsIn
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	g := s.groups[in.ID]
	if g == nil {
		return nil, errf("group_not_found", "Group not found")
	}
	return s.groupJSON(g, in.Fields), nil
}

type groupIn struct {
	ID         int               `json:"id"`
	Name       *string           `json:"name"`
	Lang       *string           `json:"language_code"`
	Priorities map[string]string `json:"agent_priorities"`
}

func (s *Sim) setPriorities(g int, pr map[string]string) error {
	for id, p := range pr {
		if s.agents[id] == nil {
			return notFound("Agent")
		}
		if _, ok := priorities[p]; !ok {
			return badRequest("Invalid priority %q", p)
		}
	}
	for id, p := range pr {
		s.agents[id].groups[g] = p
	}
	return nil
}

func (s *Sim) createGroupM(c *call) (any, error) {
	var in groupIn
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if in.Name == nil || *in.Name == "" {
		return nil, badRequest("`name` is required")
	}
	id := 0
	for g := range s.groups {
		id = max(id, g+1)
	}
	g := &group{id: id, name: *in.Name, lang: "en"}
	if in.Lang != nil {
		g.lang = *in.Lang
	}
	if err := s.setPriorities(id, in.Priorities); err != nil {
		return nil, err
	}
	s.groups[id] = g
	s.drain()
	return obj{"id": id}, nil
}

func (s *Sim) updateGroupM(c *call) (any, error) {
	var in groupIn
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	g := s.groups[in.ID]
	if g == nil {
		return nil, errf("group_not_found", "Group not found")
	}
	if in.Name != nil {
		g.name = *in.Name
	}
	if in.Lang != nil {
		g.lang = *in.Lang
	}
	if err := s.setPriorities(g.id, in.Priorities); err != nil {
		return nil, err
	}
	s.drain()
	return nil, nil
}

func (s *Sim) deleteGroupM(c *call) (any, error) {
	var in groupIn
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if s.groups[in.ID] == nil {
		return nil, errf("group_not_found", "Group not found")
	}
	if in.ID == 0 {
		return nil, badRequest("Group 0 cannot be deleted")
	}
	delete(s.groups, in.ID)
	for _, a := range s.agents {
		delete(a.groups, in.ID)
	}
	return nil, nil
}

func loginStatus(st string) string { return strings.ReplaceAll(st, "_", " ") }

func groupsJSON(a *agent) []any {
	var ids []int
	for g := range a.groups {
		ids = append(ids, g)
	}
	sort.Ints(ids)
	out := []any{}
	for _, g := range ids {
		out = append(out, obj{"id": g, "priority": a.groups[g]})
	}
	return out
}

func (s *Sim) agentJSON(a *agent, fields []string) obj {
	o := obj{"id": a.id, "account_id": a.accountID, "name": a.name, "avatar_path": a.avatar,
		"role": a.role, "login_status": loginStatus(a.status)}
	for _, f := range fields {
		switch f {
		case "max_chats_count":
			o[f] = a.max
		case "groups":
			o[f] = groupsJSON(a)
		case "job_title":
			o[f] = a.job
		case "suspended", "awaiting_approval":
			o[f] = false
		}
	}
	return o
}

func (s *Sim) listAgentsM(c *call) (any, error) {
	var in struct {
		Filters struct {
			GroupIDs []int `json:"group_ids"`
		} `json:"filters"`
		Fields []string `json:"fields"`
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	out := []any{}
	for _, id := range s.order {
		a := s.agents[id]
		if a.bot || (len(in.Filters.GroupIDs) > 0 && !inGroups(a, in.Filters.GroupIDs)) {
			continue
		}
		out = append(out, s.agentJSON(a, in.Fields))
	}
	return out, nil
}

func (s *Sim) getAgentM(c *call) (any, error) {
	var in struct {
		ID     string   `json:"id"`
		Fields []string `json:"fields"`
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if in.ID == "" {
		in.ID = c.who.id
	}
	a := s.agents[in.ID]
	if a == nil || a.bot {
		return nil, notFound("Agent")
	}
	return s.agentJSON(a, in.Fields), nil
}

// owner resolves owner_client_id: required with a PAT, else the token's client.
func (s *Sim) owner(who *actor, given string) (string, error) {
	if given == "" {
		if who.kind == "pat" || who.client == "" {
			return "", badRequest("`owner_client_id` is required when authorizing with a Personal Access Token")
		}
		given = who.client
	}
	if s.apps[given] == nil {
		return "", badRequest("`owner_client_id` %s is not an application of this organization", given)
	}
	return given, nil
}

type botIn struct {
	ID       string  `json:"id"`
	Name     *string `json:"name"`
	Avatar   *string `json:"avatar"`
	Max      *int    `json:"max_chats_count"`
	DefPrio  *string `json:"default_group_priority"`
	JobTitle *string `json:"job_title"`
	Groups   []struct {
		ID       int    `json:"id"`
		Priority string `json:"priority"`
	} `json:"groups"`
	Owner string `json:"owner_client_id"`
}

// applyBot validates and applies create_bot/update_bot fields.
func (s *Sim) applyBot(b *agent, in botIn) error {
	if in.Max != nil && (*in.Max < 1 || *in.Max > 500) {
		return badRequest("`max_chats_count` must be between 1 and 500")
	}
	if in.DefPrio != nil {
		if _, ok := priorities[*in.DefPrio]; !ok {
			return badRequest("Invalid `default_group_priority`")
		}
	}
	groups := map[int]string{}
	for _, g := range in.Groups {
		if s.groups[g.ID] == nil {
			return errf("group_not_found", "Group not found")
		}
		p := g.Priority
		if p == "" {
			p = b.defPrio
			if in.DefPrio != nil {
				p = *in.DefPrio
			}
		}
		if _, ok := priorities[p]; !ok {
			return badRequest("Invalid priority %q", p)
		}
		groups[g.ID] = p
	}
	if in.Name != nil {
		b.name = *in.Name
	}
	if in.Avatar != nil {
		b.avatar = *in.Avatar
	}
	if in.Max != nil {
		b.max = *in.Max
	}
	if in.DefPrio != nil {
		b.defPrio = *in.DefPrio
	}
	if in.JobTitle != nil {
		b.job = *in.JobTitle
	}
	if in.Groups != nil {
		b.groups = groups
	}
	return nil
}

func (s *Sim) createBotM(c *call) (any, error) {
	var in botIn
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if in.Name == nil || *in.Name == "" {
		return nil, badRequest("`name` is required")
	}
	own, err := s.owner(c.who, in.Owner)
	if err != nil {
		return nil, err
	}
	b := &agent{id: hexID(32), secret: hexID(32), owner: own, bot: true, role: "normal", status: Offline,
		max: 6, defPrio: "normal", groups: map[int]string{}, job: "Bot"}
	if err := s.applyBot(b, in); err != nil {
		return nil, err
	}
	s.addAgent(b)
	return obj{"id": b.id, "secret": b.secret}, nil
}

func (s *Sim) bot(id string) (*agent, error) {
	b := s.agents[id]
	if b == nil || !b.bot {
		return nil, notFound("Bot")
	}
	return b, nil
}

func (s *Sim) updateBotM(c *call) (any, error) {
	var in botIn
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	b, err := s.bot(in.ID)
	if err != nil {
		return nil, err
	}
	if err := s.applyBot(b, in); err != nil {
		return nil, err
	}
	s.drain()
	return nil, nil
}

func (s *Sim) deleteBotM(c *call) (any, error) {
	var in botIn
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	b, err := s.bot(in.ID)
	if err != nil {
		return nil, err
	}
	for _, ch := range s.chats {
		if ch.present(b.id) {
			s.leave(ch, b.id)
		}
	}
	delete(s.agents, b.id)
	s.order = slices.DeleteFunc(s.order, func(id string) bool { return id == b.id })
	for v, t := range s.tokens {
		if t.entity == b.id {
			delete(s.tokens, v)
		}
	}
	return nil, nil
}

// botJSON renders a bot with the requested optional fields.
func (s *Sim) botJSON(b *agent, fields []string) obj {
	o := obj{"id": b.id, "name": b.name, "avatar_path": b.avatar}
	opt := obj{"default_group_priority": b.defPrio, "owner_client_id": b.owner, "max_chats_count": b.max,
		"groups": groupsJSON(b), "job_title": b.job}
	for _, f := range fields {
		if v, ok := opt[f]; ok {
			o[f] = v
		}
	}
	return o
}

func (s *Sim) listBotsM(c *call) (any, error) {
	var in struct {
		All    bool     `json:"all"`
		Fields []string `json:"fields"`
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	out := []any{}
	for _, id := range s.order {
		b := s.agents[id]
		if b.bot && (in.All || c.who.client == "" || b.owner == c.who.client) {
			out = append(out, s.botJSON(b, in.Fields))
		}
	}
	return out, nil
}

func (s *Sim) getBotM(c *call) (any, error) {
	var in struct {
		ID     string   `json:"id"`
		Fields []string `json:"fields"`
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	b, err := s.bot(in.ID)
	if err != nil {
		return nil, err
	}
	return s.botJSON(b, append(in.Fields, "default_group_priority", "owner_client_id", "max_chats_count", "groups")), nil
}

func (s *Sim) botTokenM(c *call) (any, error) {
	var in struct {
		BotID  string `json:"bot_id"`
		Client string `json:"client_id"`
		Secret string `json:"bot_secret"`
		Org    string `json:"organization_id"`
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	t, err := s.botToken(in.BotID, in.Client, in.Secret, in.Org)
	if err != nil {
		return nil, err
	}
	return obj{"token": t}, nil
}

func (s *Sim) botToken(id, client, secret, org string) (string, error) {
	switch {
	case id == "" || client == "" || secret == "" || org == "":
		return "", badRequest("`bot_id`, `client_id`, `bot_secret` and `organization_id` are required")
	case org != s.cfg.OrganizationID:
		return "", badRequest("Invalid `organization_id`")
	}
	b, err := s.bot(id)
	if err != nil {
		return "", err
	}
	if !eq(secret, b.secret) {
		return "", badRequest("Invalid `bot_secret`")
	}
	if client != b.owner {
		return "", badRequest("`client_id` does not own the bot")
	}
	return s.mint("bot", b.id, client, BotTokenTTL).value, nil
}

func (s *Sim) resetSecretM(c *call) (any, error) {
	var in botIn
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if _, err := s.owner(c.who, in.Owner); err != nil {
		return nil, err
	}
	b, err := s.bot(in.ID)
	if err != nil {
		return nil, err
	}
	b.secret = hexID(32)
	return obj{"secret": b.secret}, nil
}
