package livechatsim_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/batonhq/baton/livechatsim"
)

func Example() {
	sim := livechatsim.New(livechatsim.Config{})
	defer sim.Close()
	sim.AddGroup(1, "Support")
	smith, _ := sim.AddAgent(livechatsim.Agent{ID: "smith@example.com", Groups: map[int]string{1: "first"}})
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()

	// A customer starts a chat in the widget; routing assigns smith, who answers.
	chatID, _ := sim.CustomerStartChat(1, "I need help")
	sim.AgentSend(chatID, smith.ID, "Hello!")

	// The LiveChat API sees the same chat, authenticated with smith's PAT.
	req, _ := http.NewRequest("POST", srv.URL+"/v3.6/agent/action/get_chat",
		strings.NewReader(`{"chat_id":"`+chatID+`"}`))
	req.Header.Set("Authorization", smith.Basic())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	var chat struct {
		Thread struct {
			Events []struct{ Text string }
		}
	}
	json.NewDecoder(resp.Body).Decode(&chat)
	for _, e := range chat.Thread.Events {
		fmt.Println(e.Text)
	}

	sim.Flush(context.Background()) // no webhooks registered: nothing to wait for
	c, _ := sim.Chat(chatID)
	fmt.Println(c.Active(), len(c.Present()), c.Present()[1])
	// Output:
	// I need help
	// Hello!
	// true 2 smith@example.com
}
