package store

import (
	"context"
	"crypto/sha256"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// Team owns sources, endpoints, events and tokens.
type Team struct {
	bun.BaseModel `bun:"table:teams"`

	ID        string    `bun:"id,pk" json:"id"`
	Name      string    `bun:"name" json:"name"`
	CreatedAt time.Time `bun:"created_at,nullzero,default:now()" json:"created_at"`
}

// APIToken is a team-scoped bearer token; only its hash is stored.
type APIToken struct {
	bun.BaseModel `bun:"table:api_tokens"`

	ID         string     `bun:"id,pk" json:"id"`
	TeamID     string     `bun:"team_id" json:"team_id"`
	Name       string     `bun:"name" json:"name"`
	Hash       []byte     `bun:"hash" json:"-"`
	Prefix     string     `bun:"prefix" json:"prefix"`
	Scopes     []string   `bun:"scopes,array" json:"scopes"`
	CreatedAt  time.Time  `bun:"created_at,nullzero,default:now()" json:"created_at"`
	LastUsedAt *time.Time `bun:"last_used_at" json:"last_used_at"`
	RevokedAt  *time.Time `bun:"revoked_at" json:"revoked_at"`
}

// HashToken is how tokens are stored and looked up.
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// CreateTeam inserts a team.
func (s *Store) CreateTeam(ctx context.Context, t *Team) error {
	if _, err := s.db.NewInsert().Model(t).Returning("created_at").Exec(ctx); err != nil {
		return fmt.Errorf("store: create team: %w", err)
	}
	return nil
}

// OpsTeamID is the internal team that carries hookrelay's own
// notifications; it is nobody's team and ListTeams leaves it out.
const OpsTeamID = "team_hookrelay_ops"

// ListTeams returns every team people use, oldest first.
func (s *Store) ListTeams(ctx context.Context) ([]Team, error) {
	var ts []Team
	if err := s.db.NewSelect().Model(&ts).Where("id <> ?", OpsTeamID).Order("id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: list teams: %w", err)
	}
	return ts, nil
}

// GetTeam loads a team by id.
func (s *Store) GetTeam(ctx context.Context, id string) (*Team, error) {
	t := new(Team)
	if err := s.db.NewSelect().Model(t).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, notFound(err, "team", id)
	}
	return t, nil
}

// CountUsers counts dashboard accounts.
func (s *Store) CountUsers(ctx context.Context) (int, error) {
	n, err := s.db.NewSelect().Table("users").Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: count users: %w", err)
	}
	return int(n), nil
}

// CreateAPIToken inserts a token row (its hash, never the token).
func (s *Store) CreateAPIToken(ctx context.Context, t *APIToken) error {
	if _, err := s.db.NewInsert().Model(t).Returning("created_at").Exec(ctx); err != nil {
		return fmt.Errorf("store: create api token: %w", err)
	}
	return nil
}

// APITokenByHash finds a live (not revoked) token and stamps last_used_at at
// most once a minute, so authentication is one statement on the hot path.
func (s *Store) APITokenByHash(ctx context.Context, hash []byte, now time.Time) (*APIToken, error) {
	t := new(APIToken)
	err := s.db.NewRaw(`UPDATE api_tokens SET last_used_at = CASE
		WHEN last_used_at IS NULL OR last_used_at < ?1::timestamptz - interval '1 minute' THEN ?1 ELSE last_used_at END
		WHERE hash = ?0 AND revoked_at IS NULL RETURNING *`, hash, now).Scan(ctx, t)
	if err != nil {
		return nil, notFound(err, "api token", "(by hash)")
	}
	return t, nil
}

// ListAPITokens returns a team's tokens, newest first.
func (s *Store) ListAPITokens(ctx context.Context, teamID string) ([]APIToken, error) {
	var ts []APIToken
	err := s.db.NewSelect().Model(&ts).Where("team_id = ?", teamID).Order("id DESC").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: list api tokens: %w", err)
	}
	return ts, nil
}

// RevokeAPIToken marks a token revoked.
func (s *Store) RevokeAPIToken(ctx context.Context, teamID, id string, now time.Time) error {
	res, err := s.db.NewUpdate().Model((*APIToken)(nil)).Set("revoked_at = ?", now).
		Where("team_id = ? AND id = ? AND revoked_at IS NULL", teamID, id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: revoke api token %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: revoke api token %s: %w", id, ErrNotFound)
	}
	return nil
}
