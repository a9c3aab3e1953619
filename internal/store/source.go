package store

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// Secret is one encrypted secret of a source or endpoint. During a rotation
// several are active; one whose ExpiresAt has passed is ignored.
type Secret struct {
	ID        string     `json:"id"`
	KeyID     string     `json:"kid"`
	Cipher    []byte     `json:"ct"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// Active reports whether the secret may still be used at now.
func (s Secret) Active(now time.Time) bool { return s.ExpiresAt == nil || now.Before(*s.ExpiresAt) }

// Source is where a provider posts webhooks.
type Source struct {
	bun.BaseModel `bun:"table:sources"`

	ID       string `bun:"id,pk"`
	TeamID   string `bun:"team_id"`
	Name     string `bun:"name"`
	Provider string `bun:"provider"`
	// IngestTokenHash is the SHA-256 of the ingest URL's token
	// (HashIngestToken): ingest looks sources up by it.
	IngestTokenHash []byte `bun:"ingest_token_hash"`
	// IngestTokenSealed is the token encrypted for display
	// (secret.Box.SealString, bound to the source id).
	IngestTokenSealed string `bun:"ingest_token_sealed,nullzero"`
	// LegacyIngestToken is the plaintext token of a source created before
	// migration 0007, until `migrate up` or `secrets rekey` seals it.
	LegacyIngestToken string          `bun:"ingest_token,nullzero"`
	Config            json.RawMessage `bun:"config,type:jsonb"`
	Secrets           []Secret        `bun:"secrets,type:jsonb"`
	CreatedAt         time.Time       `bun:"created_at"`
	UpdatedAt         time.Time       `bun:"updated_at"`

	// APIKeySealed is a Stripe source's restricted API key for backfills
	// (secret.Box.SealString, bound to the source id), "" when none.
	APIKeySealed string `bun:"api_key_sealed,nullzero"`

	// IngestToken is the plaintext token, in memory only: set when the
	// source is created, never stored or loaded.
	IngestToken string `bun:"-"`
}

// HashIngestToken is the lookup key of an ingest token.
func HashIngestToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// fill replaces nil collections, which would be stored as NULL.
func (src *Source) fill() {
	if src.Secrets == nil {
		src.Secrets = []Secret{}
	}
	if len(src.Config) == 0 {
		src.Config = []byte("{}")
	}
}

// CreateSource inserts a source. A caller that sets only IngestToken
// gets its hash stored (the relay also seals it for display).
func (s *Store) CreateSource(ctx context.Context, src *Source) error {
	src.fill()
	if len(src.IngestTokenHash) == 0 && src.IngestToken != "" {
		src.IngestTokenHash = HashIngestToken(src.IngestToken)
	}
	if _, err := s.db.NewInsert().Model(src).Exec(ctx); err != nil {
		if isUniqueViolation(err) {
			return fmt.Errorf("store: create source: %w", ErrConflict)
		}
		return fmt.Errorf("store: create source: %w", err)
	}
	return nil
}

// SourceByToken finds the source an ingest URL names, by the token's hash
// (one unique-index lookup).
func (s *Store) SourceByToken(ctx context.Context, token string) (*Source, error) {
	src := new(Source)
	if err := s.db.NewSelect().Model(src).Where("ingest_token_hash = ?", HashIngestToken(token)).Scan(ctx); err != nil {
		return nil, notFound(err, "source", "(by ingest token)")
	}
	return src, nil
}

// GetSource loads a team's source.
func (s *Store) GetSource(ctx context.Context, teamID, id string) (*Source, error) {
	src := new(Source)
	if err := s.db.NewSelect().Model(src).Where("team_id = ? AND id = ?", teamID, id).Scan(ctx); err != nil {
		return nil, notFound(err, "source", id)
	}
	return src, nil
}

// ListSources returns a team's sources, oldest first.
func (s *Store) ListSources(ctx context.Context, teamID string) ([]Source, error) {
	var out []Source
	if err := s.db.NewSelect().Model(&out).Where("team_id = ?", teamID).Order("id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: list sources: %w", err)
	}
	return out, nil
}

// UpdateSource saves name, config, secrets and the API key.
func (s *Store) UpdateSource(ctx context.Context, src *Source) error {
	src.fill()
	res, err := s.db.NewUpdate().Model(src).Column("name", "config", "secrets", "api_key_sealed", "updated_at").
		Where("team_id = ? AND id = ?", src.TeamID, src.ID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: update source %s: %w", src.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: update source %s: %w", src.ID, ErrNotFound)
	}
	return nil
}

// SetIngestToken saves a source's new ingest token (hash and sealed copy):
// from then on the old URL finds nothing.
func (s *Store) SetIngestToken(ctx context.Context, src *Source) error {
	res, err := s.db.NewUpdate().Model(src).
		Column("ingest_token_hash", "ingest_token_sealed", "ingest_token", "updated_at").
		Where("team_id = ? AND id = ?", src.TeamID, src.ID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: ingest token of %s: %w", src.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: ingest token of %s: %w", src.ID, ErrNotFound)
	}
	return nil
}

// DeleteSource removes a source and its subscriptions. Its events stay for
// the delivery log until retention removes them.
func (s *Store) DeleteSource(ctx context.Context, teamID, id string) error {
	res, err := s.db.NewDelete().Model((*Source)(nil)).Where("team_id = ? AND id = ?", teamID, id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: delete source %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: delete source %s: %w", id, ErrNotFound)
	}
	return nil
}

// RejectedRequest records an ingest request refused for its signature.
type RejectedRequest struct {
	bun.BaseModel `bun:"table:rejected_requests"`

	ID         string              `bun:"id,pk" json:"id"`
	TeamID     string              `bun:"team_id" json:"-"`
	SourceID   string              `bun:"source_id" json:"source_id"`
	ReceivedAt time.Time           `bun:"received_at" json:"received_at"`
	Reason     string              `bun:"reason" json:"reason"`
	RemoteAddr string              `bun:"remote_addr" json:"remote_addr"`
	Headers    map[string][]string `bun:"headers,type:jsonb" json:"headers"`
}

// InsertRejected records a rejected request.
func (s *Store) InsertRejected(ctx context.Context, r *RejectedRequest) error {
	if _, err := s.db.NewInsert().Model(r).Exec(ctx); err != nil {
		return fmt.Errorf("store: insert rejected request: %w", err)
	}
	return nil
}

// ListRejected returns a source's latest rejected requests.
func (s *Store) ListRejected(ctx context.Context, teamID, sourceID string, limit int) ([]RejectedRequest, error) {
	out := []RejectedRequest{}
	err := s.db.NewSelect().Model(&out).Where("team_id = ? AND source_id = ?", teamID, sourceID).
		Order("id DESC").Limit(int64(clampLimit(limit))).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: list rejected: %w", err)
	}
	return out, nil
}
