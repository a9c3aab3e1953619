package relay

import (
	"context"

	"github.com/hookrelay/hookrelay/internal/store"
)

// RevokeInvite cancels an open invite of the current team so its link no
// longer works. As with creating one, only owners touch owner invites.
func (r *Relay) RevokeInvite(ctx context.Context, c *Current, ip, id string) error {
	if !c.Can(PermMembers) {
		return ErrForbidden
	}
	return r.st.Tx(ctx, func(tx *store.Store) error {
		in, err := tx.GetInvite(ctx, c.TeamID, id)
		if err != nil {
			return err
		}
		if in.Role == store.RoleOwner && !c.Can(PermOwner) {
			return ErrForbidden
		}
		if err := tx.RevokeInvite(ctx, c.TeamID, id, r.Now()); err != nil {
			return err
		}
		return r.audit(ctx, tx, c.Actor(ip), "invite.revoke", "invite", id,
			map[string]any{"before": map[string]any{"role": in.Role, "email": in.Email, "expires_at": in.ExpiresAt}})
	})
}
