package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync"

	"github.com/uptrace/bun"
)

// The delivery hot path (claim, finish) runs as prepared statements with
// $n parameters: bun inlines values into the SQL text, so PostgreSQL would
// plan every statement anew, and planning a join over a partitioned table
// cost more CPU than executing it. The pool runs with plan_cache_mode =
// force_generic_plan (see Open), so a connection plans a statement once and
// prunes partitions at run time; ANALYZE and new partitions invalidate the
// cached plan, and connections are recycled (ConnMaxLifetime) anyway.

// stmtCache holds statements prepared on one *sql.DB; database/sql
// prepares each on a connection the first time it runs there.
type stmtCache struct {
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

// stmt returns query prepared on the store's database (cached), or on its
// transaction (closed with it).
func (s *Store) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	var pool *sql.DB
	switch db := s.db.(type) {
	case bun.Tx:
		return db.Tx.PrepareContext(ctx, query)
	case *bun.DB:
		pool = db.DB
	}
	if s.bookkeeping != nil {
		pool = s.bookkeeping
	}
	if pool != nil {
		s.stmts.mu.Lock()
		defer s.stmts.mu.Unlock()
		if st, ok := s.stmts.m[query]; ok {
			return st, nil
		}
		st, err := pool.PrepareContext(ctx, query)
		if err != nil {
			return nil, fmt.Errorf("store: prepare: %w", err)
		}
		s.stmts.m[query] = st
		return st, nil
	}
	return nil, fmt.Errorf("store: cannot prepare on %T", s.db)
}
