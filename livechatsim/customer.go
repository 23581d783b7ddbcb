package livechatsim

import "strconv"

// customerMethods are the Customer Chat API methods the simulator serves.
var customerMethods = map[string]method{
	"start_chat":                  (*Sim).startChatM,
	"resume_chat":                 (*Sim).resumeChatM,
	"send_event":                  (*Sim).sendEventM,
	"deactivate_chat":             (*Sim).deactivateM,
	"get_chat":                    (*Sim).getChatM,
	"list_chats":                  (*Sim).listChatsM,
	"list_threads":                (*Sim).listThreadsM,
	"get_customer":                (*Sim).getSelfM,
	"update_customer":             (*Sim).updateCustomerM,
	"set_customer_session_fields": (*Sim).sessionFieldsM,
	"list_group_statuses":         (*Sim).groupStatusesM,
	"send_rich_message_postback":  (*Sim).postbackM,
	"mark_events_as_seen":         (*Sim).seenM,
	"send_sneak_peek":             (*Sim).indicatorM,
	"upload_file":                 nil, // served by upload
}

func (s *Sim) getSelfM(c *call) (any, error) {
	return s.customerJSON(s.customers[c.who.id], "self"), nil
}

func (s *Sim) sessionFieldsM(c *call) (any, error) {
	var in struct {
		SessionFields []map[string]string `json:"session_fields"`
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if in.SessionFields == nil {
		return nil, badRequest("`session_fields` is required")
	}
	return nil, s.updateCustomer(c.who, s.customers[c.who.id], customerIn{SessionFields: in.SessionFields})
}

func (s *Sim) groupStatusesM(c *call) (any, error) {
	var in struct {
		All      bool  `json:"all"`
		GroupIDs []int `json:"group_ids"`
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if in.All == (len(in.GroupIDs) > 0) {
		return nil, badRequest("Exactly one of `all` and `group_ids` is required")
	}
	ids := in.GroupIDs
	if in.All {
		for id := range s.groups {
			ids = append(ids, id)
		}
	}
	st := obj{}
	for _, id := range ids {
		if s.groups[id] == nil {
			return nil, errf("group_not_found", "Group not found")
		}
		status := "offline"
		if s.online([]int{id}) {
			status = "online_for_queue"
			if s.pick([]int{id}, nil) != nil {
				status = "online"
			}
		}
		st[strconv.Itoa(id)] = status
	}
	return obj{"groups_status": st}, nil
}

// groupStatus is a group's routing_status: accepting_chats when a member
// accepts chats, not_accepting_chats when one is online, else offline.
func (s *Sim) groupStatus(id int) string {
	status := Offline
	for _, a := range s.agents {
		p, ok := a.groups[id]
		if !ok || p == "supervisor" {
			continue
		}
		if a.status == Accepting {
			return Accepting
		}
		if a.status == NotAccepting {
			status = NotAccepting
		}
	}
	return status
}
