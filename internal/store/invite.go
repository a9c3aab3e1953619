package store

import (
	"context"
	"fmt"
	"time"
)

// GetInvite loads a team's invite by id.
func (s *Store) GetInvite(ctx context.Context, teamID, id string) (*Invite, error) {
	in := new(Invite)
	if err := s.db.NewSelect().Model(in).Where("team_id = ? AND id = ?", teamID, id).Scan(ctx); err != nil {
		return nil, notFound(err, "invite", id)
	}
	return in, nil
}

// RevokeInvite ends an open invite now: its link stops working, and the
// row stays as the record of who was invited. ErrNotFound if the invite
// is not open (accepted, expired, revoked, or another team's).
func (s *Store) RevokeInvite(ctx context.Context, teamID, id string, now time.Time) error {
	res, err := s.db.NewUpdate().Model((*Invite)(nil)).Set("expires_at = ?", now).
		Where("team_id = ? AND id = ? AND accepted_at IS NULL AND expires_at > ?", teamID, id, now).Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: revoke invite %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: revoke invite %s: %w", id, ErrNotFound)
	}
	return nil
}
