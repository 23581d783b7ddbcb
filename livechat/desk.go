package livechat

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	baton "github.com/batonhq/baton"
)

// MaxInboundBody is the largest webhook body Inbound accepts.
const MaxInboundBody = 4 << 20

// InboundLimit implements baton.InboundLimiter: Baton's inbound route of a
// LiveChat desk reads webhooks of up to MaxInboundBody (an incoming_chat
// carries the thread's initial events).
func (c *core) InboundLimit() int { return MaxInboundBody }

// maxCache bounds each lookup cache (agents, customers); a full cache is
// emptied and refilled.
const maxCache = 10000

// New returns the desk cfg configures: a *Relay, or a *Seat when the mode
// setting is "seat". Outbound calls go through client, whose Timeout bounds
// each call; nil means a client with DefaultTimeout. Invalid settings return
// a *baton.Error naming the field ("settings.client_id").
func New(cfg baton.DeskConfig, client *http.Client) (baton.Desk, error) {
	c, err := newCore(cfg, client)
	if err != nil {
		return nil, err
	}
	if c.st.Mode == ModeSeat {
		return &Seat{core: c}, nil
	}
	return newRelay(c), nil
}

// core is what both modes share: settings, the API client, the webhook
// secret and the lookups inbound events need.
type core struct {
	st     Settings
	api    *Client
	http   *http.Client
	secret [sha256.Size]byte // SHA-256 of the secret_key
	now    func() time.Time

	mu        sync.Mutex
	self      string               // the PAT's agent id, once known
	agents    map[string]agentInfo // author id → what it is
	customers map[string]Customer  // customer id → profile
}

// agentInfo is what an author id turned out to be.
type agentInfo struct {
	agent bool
	name  string
}

func newCore(cfg baton.DeskConfig, client *http.Client) (*core, error) {
	if cfg.Kind != "" && cfg.Kind != baton.KindLiveChat {
		return nil, baton.FieldErrorf("kind", "the livechat package cannot serve a %q desk", cfg.Kind)
	}
	st, err := ParseSettings(cfg.Settings)
	if err != nil {
		return nil, err
	}
	if client == nil {
		client = &http.Client{Timeout: DefaultTimeout}
	}
	api := NewClient(client, st.AccountID, st.Token)
	api.APIURL, api.AccountsURL = st.APIURL, st.AccountsURL
	api.OrganizationID, api.LicenseID = st.OrganizationID, st.LicenseID
	c := &core{st: st, api: api, http: client, now: time.Now, secret: sha256.Sum256([]byte(st.SecretKey)),
		agents: map[string]agentInfo{}, customers: map[string]Customer{}}
	if st.Mode == ModeSeat {
		c.self = st.AgentEmail
	} else if st.AgentEmail != "" {
		c.self = st.AgentEmail
	}
	return c, nil
}

// Settings returns the desk's parsed settings.
func (c *core) Settings() Settings { return c.st }

// Client returns the desk's LiveChat API client.
func (c *core) Client() *Client { return c.api }

// Capabilities implements baton.Desk: files (uploaded to LiveChat, or links
// when they cannot be), agent names, transfers, and the customer can end.
func (c *core) Capabilities() baton.Capabilities {
	return baton.Capabilities{Attachments: true, AgentProfile: true, Transfer: true, EndByCustomer: true}
}

// selfID returns the agent id of the PAT's account: agent_email when set,
// else the agent whose account_id is the PAT's (list_agents, once).
func (c *core) selfID(ctx context.Context) (string, error) {
	c.mu.Lock()
	self := c.self
	c.mu.Unlock()
	if self != "" {
		return self, nil
	}
	agents, err := c.api.ListAgents(ctx)
	var de *baton.DeskError
	if errors.As(err, &de) && de.Auth && errType(err) == "authorization" {
		return "", &baton.DeskError{Auth: true, Err: fmt.Errorf(
			"finding the personal access token's agent (give the token the agents--all:ro scope, or set settings.agent_email): %w", de.Err)}
	} else if err != nil {
		return "", err
	}
	for _, a := range agents {
		if a.AccountID == c.st.AccountID {
			c.mu.Lock()
			c.self = a.ID
			c.agents[a.ID] = agentInfo{agent: true, name: a.Name}
			c.mu.Unlock()
			return a.ID, nil
		}
	}
	return "", &baton.DeskError{Permanent: true, Err: baton.FieldErrorf("settings.account_id",
		"no agent of the license has account %s: create the personal access token as an agent of this license", c.st.AccountID)}
}

// author says whether id is an agent (or bot) of the license, with its
// name: get_agent, cached. An id get_agent does not know (not_found,
// validation) is a customer, unless it has the shape of a bot id. When get_agent cannot be asked
// (authorization, rate limit, outage), the id's shape decides: an e-mail
// or a bot id is an agent. It never fails, so webhooks are not redelivered
// out of order for want of a name.
func (c *core) author(ctx context.Context, id string) (agentInfo, error) {
	if id == "" {
		return agentInfo{}, nil
	}
	c.mu.Lock()
	info, ok := c.agents[id]
	c.mu.Unlock()
	if ok {
		return info, nil
	}
	a, err := c.api.GetAgent(ctx, id)
	switch t := errType(err); {
	case err == nil:
		info = agentInfo{agent: true, name: a.Name}
	case t == "not_found" || t == "validation":
		// get_agent knows humans only; a bot (32 hex digits) acts as an agent.
		info = agentInfo{agent: botID(id)}
	default:
		// get_agent cannot be asked now (credentials, rate limit, outage):
		// judge by the id's shape (agents are e-mails, bots 32 hex digits)
		// rather than fail the webhook, whose redelivery would come out of
		// order. Not cached, so the name is filled in later.
		return agentInfo{agent: strings.Contains(id, "@") || botID(id)}, nil
	}
	c.remember(id, info)
	return info, nil
}

func (c *core) remember(id string, info agentInfo) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.agents) >= maxCache {
		clear(c.agents)
	}
	c.agents[id] = info
}

// agent returns a baton.Agent for an agent id, named when LiveChat says.
func (c *core) agent(ctx context.Context, id string) baton.Agent {
	info, _ := c.author(ctx, id)
	return baton.Agent{ID: id, Name: info.name}
}

// customer returns what is known of a customer: from the chats seen, else
// get_customer (cached); the id alone when neither answers.
func (c *core) customer(ctx context.Context, id string) baton.Customer {
	c.mu.Lock()
	cu, ok := c.customers[id]
	c.mu.Unlock()
	if !ok {
		got, err := c.api.GetCustomer(ctx, id)
		if err != nil {
			return baton.Customer{ID: id}
		}
		cu = got
		c.keepCustomer(cu)
	}
	return baton.Customer{ID: id, Name: cu.Name, Email: cu.Email}
}

func (c *core) keepCustomer(cu Customer) {
	if cu.ID == "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.customers) >= maxCache {
		clear(c.customers)
	}
	c.customers[cu.ID] = cu
}

// checkGroups lists the groups (a cheap authenticated call) and checks that
// the configured ones exist.
func (c *core) checkGroups(ctx context.Context, relay bool) ([]Group, error) {
	groups, err := c.api.ListGroups(ctx)
	if err != nil {
		return nil, err
	}
	if !relay {
		return groups, nil
	}
	have := map[int]bool{}
	var names []string
	for _, g := range groups {
		have[g.ID] = true
		names = append(names, fmt.Sprintf("%d %s", g.ID, g.Name))
	}
	if !have[c.st.GroupID] {
		return nil, &baton.DeskError{Permanent: true, Err: baton.FieldErrorf("settings.group_id",
			"group %d does not exist in the license (groups: %s)", c.st.GroupID, strings.Join(names, ", "))}
	}
	hints := make([]string, 0, len(c.st.Groups))
	for h := range c.st.Groups {
		hints = append(hints, h)
	}
	sort.Strings(hints)
	for _, h := range hints {
		if g := c.st.Groups[h]; !have[g] {
			return nil, &baton.DeskError{Permanent: true, Err: baton.FieldErrorf("settings.groups",
				"hint %q names group %d, which does not exist in the license (groups: %s)", h, g, strings.Join(names, ", "))}
		}
	}
	return groups, nil
}

// botID reports whether id has the shape of a LiveChat bot id: 32
// lower-case hex digits (customers are UUIDs, agents e-mails).
func botID(id string) bool {
	if len(id) != 32 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
