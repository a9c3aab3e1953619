package migrations

import (
	"context"
	"fmt"
	"strings"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/migrate"
)

// Migrator wraps bun's migrator with the options hookrelay needs.
type Migrator struct{ m *migrate.Migrator }

// NewMigrator returns a migrator over db. A failed migration is not marked
// applied (bun's default would record it anyway).
func NewMigrator(db *bun.DB) (*Migrator, error) {
	ms, err := New()
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	return &Migrator{m: migrate.NewMigrator(db, ms, migrate.WithMarkAppliedOnSuccess(true))}, nil
}

// Up applies every pending migration under bun's lock and returns their names.
func (m *Migrator) Up(ctx context.Context) ([]string, error) {
	if err := m.m.Init(ctx); err != nil {
		return nil, fmt.Errorf("migrations: init: %w", err)
	}
	if err := m.m.Lock(ctx); err != nil {
		return nil, fmt.Errorf("migrations: lock (a crashed run may hold it; see `hookrelay migrate unlock`): %w", err)
	}
	defer m.m.Unlock(ctx) //nolint:errcheck // best effort; the error of Migrate matters more
	g, err := m.m.Migrate(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrations: up: %w", err)
	}
	return names(g), nil
}

// Down rolls back the last group.
func (m *Migrator) Down(ctx context.Context) ([]string, error) {
	if err := m.m.Init(ctx); err != nil {
		return nil, fmt.Errorf("migrations: init: %w", err)
	}
	if err := m.m.Lock(ctx); err != nil {
		return nil, fmt.Errorf("migrations: lock: %w", err)
	}
	defer m.m.Unlock(ctx) //nolint:errcheck
	g, err := m.m.Rollback(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrations: down: %w", err)
	}
	return names(g), nil
}

// Unlock releases a lock left by a crashed run.
func (m *Migrator) Unlock(ctx context.Context) error {
	if err := m.m.Init(ctx); err != nil {
		return fmt.Errorf("migrations: init: %w", err)
	}
	return m.m.Unlock(ctx)
}

// Status lists applied and pending migrations.
func (m *Migrator) Status(ctx context.Context) (applied, pending []string, err error) {
	if err := m.m.Init(ctx); err != nil {
		return nil, nil, fmt.Errorf("migrations: init: %w", err)
	}
	ms, err := m.m.MigrationsWithStatus(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("migrations: status: %w", err)
	}
	for _, x := range ms {
		if x.IsApplied() {
			applied = append(applied, x.Name)
		} else {
			pending = append(pending, x.Name)
		}
	}
	return applied, pending, nil
}

// CheckCurrent returns an error naming the pending migrations, so serve and
// worker refuse to run against an old schema.
func (m *Migrator) CheckCurrent(ctx context.Context) error {
	_, pending, err := m.Status(ctx)
	if err != nil {
		return err
	}
	if len(pending) > 0 {
		return fmt.Errorf("migrations: schema is behind, pending %s: run `hookrelay migrate up`", strings.Join(pending, ", "))
	}
	return nil
}

func names(g *migrate.MigrationGroup) []string {
	if g == nil {
		return nil
	}
	var out []string
	for _, x := range g.Migrations {
		out = append(out, x.Name)
	}
	return out
}
