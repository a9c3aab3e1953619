package store

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// Roles, from most to least powerful.
const (
	RoleOwner  = "owner"
	RoleAdmin  = "admin"
	RoleMember = "member"
	RoleViewer = "viewer"
)

// User is a dashboard account.
type User struct {
	bun.BaseModel `bun:"table:users"`

	ID           string    `bun:"id,pk"`
	Email        string    `bun:"email"`
	Name         string    `bun:"name"`
	PasswordHash string    `bun:"password_hash"`
	CreatedAt    time.Time `bun:"created_at,nullzero,default:now()"`
	UpdatedAt    time.Time `bun:"updated_at,nullzero,default:now()"`
}

// Membership gives a user a role in a team.
type Membership struct {
	bun.BaseModel `bun:"table:memberships"`

	TeamID    string    `bun:"team_id,pk"`
	UserID    string    `bun:"user_id,pk"`
	Role      string    `bun:"role"`
	CreatedAt time.Time `bun:"created_at,nullzero,default:now()"`

	// Filled by the listing queries.
	TeamName  string `bun:"team_name,scanonly"`
	UserEmail string `bun:"user_email,scanonly"`
	UserName  string `bun:"user_name,scanonly"`
}

// CreateUser inserts a user; ErrConflict when the email is taken.
func (s *Store) CreateUser(ctx context.Context, u *User) error {
	if _, err := s.db.NewInsert().Model(u).Returning("created_at, updated_at").Exec(ctx); err != nil {
		if isUniqueViolation(err) {
			return fmt.Errorf("store: create user: %w", ErrConflict)
		}
		return fmt.Errorf("store: create user: %w", err)
	}
	return nil
}

// UserByEmail finds a user, case-insensitively.
func (s *Store) UserByEmail(ctx context.Context, email string) (*User, error) {
	u := new(User)
	if err := s.db.NewSelect().Model(u).Where("lower(email) = lower(?)", email).Scan(ctx); err != nil {
		return nil, notFound(err, "user", "(by email)")
	}
	return u, nil
}

// GetUser loads a user.
func (s *Store) GetUser(ctx context.Context, id string) (*User, error) {
	u := new(User)
	if err := s.db.NewSelect().Model(u).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, notFound(err, "user", id)
	}
	return u, nil
}

// SetPassword replaces a user's password hash.
func (s *Store) SetPassword(ctx context.Context, userID, hash string, now time.Time) error {
	_, err := s.db.NewUpdate().Model((*User)(nil)).Set("password_hash = ?, updated_at = ?", hash, now).
		Where("id = ?", userID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: set password %s: %w", userID, err)
	}
	return nil
}

// UpsertMembership sets a user's role in a team.
func (s *Store) UpsertMembership(ctx context.Context, m *Membership) error {
	_, err := s.db.NewInsert().Model(m).On("CONFLICT (team_id, user_id) DO UPDATE").Set("role = EXCLUDED.role").Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: membership: %w", err)
	}
	return nil
}

// GetMembership returns a user's membership in a team.
func (s *Store) GetMembership(ctx context.Context, teamID, userID string) (*Membership, error) {
	m := new(Membership)
	if err := s.db.NewSelect().Model(m).Where("team_id = ? AND user_id = ?", teamID, userID).Scan(ctx); err != nil {
		return nil, notFound(err, "membership", userID)
	}
	return m, nil
}

// TeamsOf lists a user's memberships with team names.
func (s *Store) TeamsOf(ctx context.Context, userID string) ([]Membership, error) {
	var out []Membership
	err := s.db.NewSelect().Model(&out).ColumnExpr("membership.*, t.name AS team_name").
		Join("JOIN teams AS t ON t.id = membership.team_id").Where("membership.user_id = ?", userID).
		Order("t.name", "t.id").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: teams of %s: %w", userID, err)
	}
	return out, nil
}

// MembersOf lists a team's members with their emails.
func (s *Store) MembersOf(ctx context.Context, teamID string) ([]Membership, error) {
	var out []Membership
	err := s.db.NewSelect().Model(&out).ColumnExpr("membership.*, u.email AS user_email, u.name AS user_name").
		Join("JOIN users AS u ON u.id = membership.user_id").Where("membership.team_id = ?", teamID).
		Order("u.email").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: members of %s: %w", teamID, err)
	}
	return out, nil
}

// DeleteMembership removes a user from a team.
func (s *Store) DeleteMembership(ctx context.Context, teamID, userID string) error {
	res, err := s.db.NewDelete().Model((*Membership)(nil)).Where("team_id = ? AND user_id = ?", teamID, userID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: remove member %s: %w", userID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: remove member %s: %w", userID, ErrNotFound)
	}
	return nil
}

// CountOwners counts a team's owners (a team must keep one).
func (s *Store) CountOwners(ctx context.Context, teamID string) (int, error) {
	n, err := s.db.NewSelect().Model((*Membership)(nil)).Where("team_id = ? AND role = 'owner'", teamID).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: count owners: %w", err)
	}
	return int(n), nil
}
