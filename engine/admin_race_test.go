package engine_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/engine"
)

// TestRaceDeleteWhileHandingOff deletes a desk, a bot and a workspace at
// the moment a handoff is asked for through them: either the delete is
// refused or the handoff is, and never does an open handoff outlive the
// desk, bot or workspace it was made for.
func TestRaceDeleteWhileHandingOff(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, st baton.Store) {
		s := newStackOn(t, st, nil, nil)
		ctx := context.Background()
		rounds := 30
		if testing.Short() {
			rounds = 15
		}
		open := func(q baton.OpenQuery) int {
			var n int
			st.View(ctx, func(tx baton.Tx) error {
				hs, err := tx.OpenHandoffs(q)
				n = len(hs)
				return err
			})
			return n
		}
		for i := range rounds {
			ws := fmt.Sprint("race-ws-", i)
			if _, err := s.eng.CreateWorkspace(ctx, engine.WorkspaceInput{ID: ws, Name: "Race"}); err != nil {
				t.Fatal(err)
			}
			for _, id := range []string{"d", "d2"} {
				if _, err := s.eng.CreateDesk(ctx, ws, engine.DeskInput{ID: ws + "-" + id, Name: "D", Kind: baton.KindInbox}); err != nil {
					t.Fatal(err)
				}
			}
			for _, b := range []struct{ id, desk string }{{"b", ws + "-d2"}, {"b2", ws + "-d2"}} {
				if _, _, err := s.eng.CreateBot(ctx, ws, engine.BotInput{ID: ws + "-" + b.id, Name: "B", DeskID: b.desk}); err != nil {
					t.Fatal(err)
				}
			}
			ask := func(bot, desk, conv string) error {
				_, _, err := s.eng.CreateHandoff(ctx, ws, baton.CreateRequest{BotID: bot, DeskID: desk, ExternalID: conv,
					Customer: baton.Customer{ID: "c"}, Question: "a person"})
				return err
			}
			// The desk d, asked for by bot b, is deleted at once.
			_, errs := together(2, func(k int) (struct{}, error) {
				if k == 0 {
					return struct{}{}, s.eng.DeleteDesk(ctx, ws, ws+"-d")
				}
				return struct{}{}, ask(ws+"-b", ws+"-d", "c1")
			})
			if errs[0] == nil && open(baton.OpenQuery{WorkspaceID: ws, DeskID: ws + "-d"}) > 0 {
				t.Fatalf("round %d: desk deleted (handoff: %v) with an open handoff", i, errs[1])
			}
			// The bot b2 is deleted as it asks.
			_, errs = together(2, func(k int) (struct{}, error) {
				if k == 0 {
					return struct{}{}, s.eng.DeleteBot(ctx, ws, ws+"-b2")
				}
				return struct{}{}, ask(ws+"-b2", "", "c2")
			})
			if errs[0] == nil && open(baton.OpenQuery{WorkspaceID: ws, BotID: ws + "-b2"}) > 0 {
				t.Fatalf("round %d: bot deleted (handoff: %v) with an open handoff", i, errs[1])
			}
			// The workspace, unforced, as bot b asks again and a key is made.
			secrets, errs := together(3, func(k int) (string, error) {
				switch k {
				case 0:
					_, err := s.eng.DeleteWorkspace(ctx, ws, false)
					return "", err
				case 1:
					return "", ask(ws+"-b", "", "c3")
				}
				_, secret, err := s.eng.CreateKey(ctx, ws, engine.KeyInput{Name: "late"})
				return secret, err
			})
			if errs[0] == nil && open(baton.OpenQuery{WorkspaceID: ws}) > 0 {
				t.Fatalf("round %d: workspace deleted (handoff: %v) with an open handoff", i, errs[1])
			}
			if errs[0] == nil && errs[2] == nil {
				if _, err := s.eng.Authenticate(ctx, secrets[2]); err == nil {
					t.Fatalf("round %d: a key made as its workspace was deleted still works", i)
				}
			}
		}
	})
}

// TestRaceDeleteAgentWhileClaiming deletes an inbox agent at the moment the
// agent claims a handoff: either the delete or the claim is refused, and
// never is a handoff left held by an agent who is gone.
func TestRaceDeleteAgentWhileClaiming(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, st baton.Store) {
		s := newStackOn(t, st, nil, nil)
		ctx := engine.WithAdmin(context.Background(), baton.AdminKey{ID: "adm", Name: "test"})
		rounds := 10
		if testing.Short() {
			rounds = 5
		}
		for i := range rounds {
			h := s.create(t, fmt.Sprint("claim-race-", i))
			s.drain(t)
			a, _, err := s.eng.CreateAgent(ctx, s.ws, engine.AgentInput{ID: fmt.Sprint("leaver-", i), Name: "Leaver", DeskID: s.desk, Key: true})
			if err != nil {
				t.Fatal(err)
			}
			_, errs := together(2, func(k int) (struct{}, error) {
				if k == 0 {
					return struct{}{}, s.eng.DeleteAgent(ctx, s.ws, a.ID)
				}
				_, err := s.eng.Claim(ctx, a, h.ID)
				return struct{}{}, err
			})
			got := s.handoff(t, h.ID)
			switch {
			case errs[0] == nil && got.Agent.ID == a.ID:
				t.Fatalf("round %d: the agent was deleted holding the handoff (claim: %v)", i, errs[1])
			case errs[0] == nil && errs[1] == nil:
				t.Fatalf("round %d: both the delete and the claim went through", i)
			case errs[0] != nil && baton.ErrorCode(errs[0]) != baton.ECONFLICT:
				t.Fatalf("round %d: the delete failed with %v", i, errs[0])
			}
			if _, err := s.eng.End(ctx, s.ws, h.ID, baton.BotClosed); err != nil {
				t.Fatal(err)
			}
		}
	})
}
