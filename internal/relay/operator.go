package relay

import (
	"context"
	"strings"

	"github.com/hookrelay/hookrelay/internal/store"
)

// CreateTeamAs makes an empty team for an operator (the CLI), audited as
// team.create in the new team by a; members are added with CreateUser.
func (r *Relay) CreateTeamAs(ctx context.Context, a Actor, name string) (*store.Team, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return nil, invalid("name", "is required")
	}
	if err := checkLen("name", name, MaxNameLen); err != nil {
		return nil, err
	}
	t := &store.Team{ID: store.NewID("team"), Name: name}
	err := r.st.Tx(ctx, func(tx *store.Store) error {
		if err := tx.CreateTeam(ctx, t); err != nil {
			return err
		}
		a.TeamID = t.ID
		return r.audit(ctx, tx, a, "team.create", "team", t.ID, map[string]any{"name": t.Name})
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}
