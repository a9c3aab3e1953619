package relay

import (
	"context"
	"errors"

	"github.com/hookrelay/hookrelay/internal/store"
)

// Who may create teams (Options.TeamCreation, HOOKRELAY_TEAM_CREATION).
const (
	// TeamCreationOwners lets only owners of the installation's first
	// team create teams: the default, so a signed-up viewer cannot start
	// teams of their own on a shared instance.
	TeamCreationOwners = "owners"
	// TeamCreationAnyone lets every signed-in user create teams.
	TeamCreationAnyone = "anyone"
)

// ErrTeamCreation refuses a team creation the instance does not allow.
var ErrTeamCreation = errors.New("on this installation only owners of the first team create teams (HOOKRELAY_TEAM_CREATION=owners); ask one of them")

// MayCreateTeam reports whether c may create a team under the instance's
// setting. The first team is the oldest one apart from hookrelay's own
// operations team (the one `hookrelay admin bootstrap` creates).
func (r *Relay) MayCreateTeam(ctx context.Context, c *Current) (bool, error) {
	if r.opt.TeamCreation == TeamCreationAnyone {
		return true, nil
	}
	teams, err := r.st.ListTeams(ctx)
	if err != nil {
		return false, err
	}
	if len(teams) == 0 {
		return true, nil
	}
	for _, m := range c.Teams {
		if m.TeamID == teams[0].ID && m.Role == store.RoleOwner {
			return true, nil
		}
	}
	return false, nil
}
