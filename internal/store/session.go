package store

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// Session is a dashboard login, found by the hash of its cookie token.
type Session struct {
	bun.BaseModel `bun:"table:sessions"`

	Hash       []byte    `bun:"hash,pk"`
	ID         string    `bun:"id"`
	UserID     string    `bun:"user_id"`
	TeamID     *string   `bun:"team_id"`
	CSRFToken  string    `bun:"csrf_token"`
	IP         string    `bun:"ip"`
	UserAgent  string    `bun:"user_agent"`
	CreatedAt  time.Time `bun:"created_at"`
	LastSeenAt time.Time `bun:"last_seen_at"`
	ExpiresAt  time.Time `bun:"expires_at"`
}

// CreateSession inserts a session.
func (s *Store) CreateSession(ctx context.Context, se *Session) error {
	if _, err := s.db.NewInsert().Model(se).Exec(ctx); err != nil {
		return fmt.Errorf("store: create session: %w", err)
	}
	return nil
}

// SessionByHash finds a live session and slides last_seen_at (at most once
// a minute, so page views do not each write).
func (s *Store) SessionByHash(ctx context.Context, hash []byte, now time.Time) (*Session, error) {
	se := new(Session)
	err := s.db.NewRaw(`UPDATE sessions SET last_seen_at = CASE
		WHEN last_seen_at < ?1::timestamptz - interval '1 minute' THEN ?1 ELSE last_seen_at END
		WHERE hash = ?0 AND expires_at > ?1 RETURNING *`, hash, now).Scan(ctx, se)
	if err != nil {
		return nil, notFound(err, "session", "(by hash)")
	}
	return se, nil
}

// SetSessionTeam switches the team a session looks at.
func (s *Store) SetSessionTeam(ctx context.Context, hash []byte, teamID string) error {
	_, err := s.db.NewUpdate().Model((*Session)(nil)).Set("team_id = ?", teamID).Where("hash = ?", hash).Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: switch team: %w", err)
	}
	return nil
}

// DeleteSession revokes one session (logout).
func (s *Store) DeleteSession(ctx context.Context, hash []byte) error {
	if _, err := s.db.NewDelete().Model((*Session)(nil)).Where("hash = ?", hash).Exec(ctx); err != nil {
		return fmt.Errorf("store: delete session: %w", err)
	}
	return nil
}

// DeleteUserSessions revokes every session of a user except keep (a
// password change keeps the session that made it).
func (s *Store) DeleteUserSessions(ctx context.Context, userID string, keep []byte) error {
	q := s.db.NewDelete().Model((*Session)(nil)).Where("user_id = ?", userID)
	if keep != nil {
		q = q.Where("hash <> ?", keep)
	}
	if _, err := q.Exec(ctx); err != nil {
		return fmt.Errorf("store: revoke sessions of %s: %w", userID, err)
	}
	return nil
}

// Invite lets whoever holds its link join a team with a role.
type Invite struct {
	bun.BaseModel `bun:"table:invites"`

	ID         string     `bun:"id,pk"`
	TeamID     string     `bun:"team_id"`
	Role       string     `bun:"role"`
	Hash       []byte     `bun:"hash"`
	Email      string     `bun:"email"`
	CreatedBy  string     `bun:"created_by"`
	CreatedAt  time.Time  `bun:"created_at"`
	ExpiresAt  time.Time  `bun:"expires_at"`
	AcceptedAt *time.Time `bun:"accepted_at"`
	AcceptedBy *string    `bun:"accepted_by"`
}

// CreateInvite inserts an invite.
func (s *Store) CreateInvite(ctx context.Context, in *Invite) error {
	if _, err := s.db.NewInsert().Model(in).Exec(ctx); err != nil {
		return fmt.Errorf("store: create invite: %w", err)
	}
	return nil
}

// InviteByHash finds an open (unaccepted, unexpired) invite.
func (s *Store) InviteByHash(ctx context.Context, hash []byte, now time.Time) (*Invite, error) {
	in := new(Invite)
	err := s.db.NewSelect().Model(in).Where("hash = ? AND accepted_at IS NULL AND expires_at > ?", hash, now).Scan(ctx)
	if err != nil {
		return nil, notFound(err, "invite", "(by hash)")
	}
	return in, nil
}

// AcceptInvite marks an invite used; ErrNotFound if someone was faster.
func (s *Store) AcceptInvite(ctx context.Context, id, userID string, now time.Time) error {
	res, err := s.db.NewUpdate().Model((*Invite)(nil)).Set("accepted_at = ?, accepted_by = ?", now, userID).
		Where("id = ? AND accepted_at IS NULL", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: accept invite %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: accept invite %s: %w", id, ErrNotFound)
	}
	return nil
}

// ListInvites lists a team's invites, newest first.
func (s *Store) ListInvites(ctx context.Context, teamID string) ([]Invite, error) {
	var out []Invite
	if err := s.db.NewSelect().Model(&out).Where("team_id = ?", teamID).Order("id DESC").Limit(100).Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: list invites: %w", err)
	}
	return out, nil
}
