// Package store is hookrelay's one storage type: bun models and queries over
// PostgreSQL, one file per aggregate. The same Store runs inside a
// transaction (see Tx), so a use case and its audit row commit together.
package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/driver/pgdriver"
)

// ErrNotFound is returned when a row does not exist (or belongs to another team).
var ErrNotFound = errors.New("not found")

// ErrConflict is returned when a unique key is already taken.
var ErrConflict = errors.New("conflict")

// Store runs queries against a bun.IDB: the database or a transaction.
type Store struct {
	db    bun.IDB
	stmts *stmtCache
	// bookkeeping, when set, runs the delivery claim and finish (see
	// WithBookkeeping).
	bookkeeping *sql.DB
	// subs caches Subscribers (subscribers.go); tx is set inside Tx.
	subs *subsCache
	tx   *txState
}

// Open connects to PostgreSQL and checks the connection.
func Open(ctx context.Context, dsn string) (*bun.DB, error) {
	sqldb := sql.OpenDB(pgdriver.NewConnector(
		pgdriver.WithDSN(dsn),
		pgdriver.WithTimeout(5*time.Second),
		pgdriver.WithReadTimeout(30*time.Second),
		pgdriver.WithWriteTimeout(10*time.Second),
		// Hot-path statements are prepared (prepared.go): plan them once.
		// Inlined bun queries are unaffected.
		pgdriver.WithConnParams(map[string]any{"plan_cache_mode": "force_generic_plan"}),
	))
	sqldb.SetConnMaxLifetime(30 * time.Minute)
	sqldb.SetMaxOpenConns(32)
	sqldb.SetMaxIdleConns(32)
	sqldb.SetConnMaxIdleTime(5 * time.Minute)
	db := bun.NewDB(sqldb, pgdialect.New())
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("store: connect: %w", err)
	}
	return db, nil
}

// OpenBookkeeping opens the pool for delivery bookkeeping (claiming and
// finishing attempts) with synchronous_commit off: those commits return
// before their WAL reaches disk. A PostgreSQL crash can then forget the
// last moments of bookkeeping, so a delivery sent just before it may be
// sent again: the at-least-once promise consumers already dedupe on by
// webhook-id. Events and their deliveries are still committed durably by
// ingest before any provider is answered; only this pool is relaxed, and
// it was worth a third more deliveries per second (README, Benchmark).
func OpenBookkeeping(ctx context.Context, dsn string) (*sql.DB, error) {
	sqldb := sql.OpenDB(pgdriver.NewConnector(
		pgdriver.WithDSN(dsn),
		pgdriver.WithTimeout(5*time.Second),
		pgdriver.WithReadTimeout(30*time.Second),
		pgdriver.WithWriteTimeout(10*time.Second),
		pgdriver.WithConnParams(map[string]any{"plan_cache_mode": "force_generic_plan", "synchronous_commit": "off"}),
	))
	sqldb.SetMaxOpenConns(32)
	sqldb.SetMaxIdleConns(32)
	sqldb.SetConnMaxLifetime(30 * time.Minute)
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := sqldb.PingContext(pctx); err != nil {
		_ = sqldb.Close()
		return nil, fmt.Errorf("store: connect bookkeeping pool: %w", err)
	}
	return sqldb, nil
}

// WithBookkeeping returns a Store that claims and finishes attempts on
// pool (from OpenBookkeeping); everything else stays on the main pool.
func (s *Store) WithBookkeeping(pool *sql.DB) *Store {
	return &Store{db: s.db, stmts: &stmtCache{m: map[string]*sql.Stmt{}}, bookkeeping: pool, subs: s.subs}
}

// New returns a Store over db (a *bun.DB or a bun.Tx).
func New(db bun.IDB) *Store {
	return &Store{db: db, stmts: &stmtCache{m: map[string]*sql.Stmt{}}, subs: newSubsCache()}
}

// DB returns the underlying handle, for callers that run their own queries.
func (s *Store) DB() bun.IDB { return s.db }

// Tx runs fn in a transaction with a Store bound to it; fn's error rolls back.
func (s *Store) Tx(ctx context.Context, fn func(tx *Store) error) error {
	state := &txState{}
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		return fn(&Store{db: tx, stmts: s.stmts, subs: s.subs, tx: state})
	})
	if state.subsChanged && s.subs != nil { // after the commit (or rollback: harmless)
		s.subs.invalidate()
	}
	return err
}

// NewID returns a sortable id with a kind prefix, e.g. "evt_01J…". ulid.Make
// is monotonic within a millisecond, so ids sort in creation order.
func NewID(prefix string) string {
	return prefix + "_" + strings.ToLower(ulid.Make().String())
}

// notFound maps sql.ErrNoRows to ErrNotFound with context.
func notFound(err error, what, id string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("store: %s %s: %w", what, id, ErrNotFound)
	}
	return fmt.Errorf("store: %s %s: %w", what, id, err)
}

// isUniqueViolation reports a PostgreSQL unique_violation (23505).
func isUniqueViolation(err error) bool {
	var pgErr pgdriver.Error
	return errors.As(err, &pgErr) && pgErr.Field('C') == "23505"
}

// IsUnavailable reports whether err means PostgreSQL could not be reached
// or stopped answering, as opposed to a query error: ingest answers 503.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	var pgErr pgdriver.Error
	if errors.As(err, &pgErr) {
		// Class 08 connection exceptions, 57P01-03 admin shutdown / cannot connect now, 53 resources.
		code := pgErr.Field('C')
		return strings.HasPrefix(code, "08") || strings.HasPrefix(code, "57P") || strings.HasPrefix(code, "53")
	}
	return !errors.Is(err, sql.ErrNoRows) && !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrConflict)
}

// jsonb marks a value for bun to encode as JSON in raw queries.
func jsonb(v any) any { return jsonValue{v} }

type jsonValue struct{ v any }

// Value implements driver.Valuer.
func (j jsonValue) Value() (driver.Value, error) {
	b, err := json.Marshal(j.v)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}
