package store

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// AuditEntry is one row of the append-only audit log.
type AuditEntry struct {
	bun.BaseModel `bun:"table:audit_log"`

	ID         string         `bun:"id,pk" json:"id"`
	TeamID     string         `bun:"team_id" json:"team_id"`
	Actor      string         `bun:"actor" json:"actor"`
	Action     string         `bun:"action" json:"action"`
	TargetKind string         `bun:"target_kind" json:"target_kind"`
	TargetID   string         `bun:"target_id" json:"target_id"`
	Details    map[string]any `bun:"details,type:jsonb" json:"details"`
	IP         string         `bun:"ip" json:"ip"`
	At         time.Time      `bun:"at" json:"at"`
}

// InsertAudit appends an audit row; call it inside the mutation's transaction.
func (s *Store) InsertAudit(ctx context.Context, a *AuditEntry) error {
	if a.ID == "" {
		a.ID = NewID("aud")
	}
	if a.Details == nil {
		a.Details = map[string]any{}
	}
	if _, err := s.db.NewInsert().Model(a).Exec(ctx); err != nil {
		return fmt.Errorf("store: insert audit: %w", err)
	}
	return nil
}

// AuditFilter narrows ListAudit.
type AuditFilter struct {
	TeamID   string
	Action   string
	TargetID string
	Before   string // cursor: ids lower than this
	Limit    int
}

// ListAudit returns audit rows, newest first.
func (s *Store) ListAudit(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	out := []AuditEntry{}
	q := s.db.NewSelect().Model(&out).Where("team_id = ?", f.TeamID)
	if f.Action != "" {
		q = q.Where("action = ?", f.Action)
	}
	if f.TargetID != "" {
		q = q.Where("target_id = ?", f.TargetID)
	}
	if f.Before != "" {
		q = q.Where("id < ?", f.Before)
	}
	if err := q.Order("id DESC").Limit(int64(clampLimit(f.Limit))).Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: list audit: %w", err)
	}
	return out, nil
}

func clampLimit(n int) int {
	if n <= 0 || n > 500 {
		return 100
	}
	return n
}
