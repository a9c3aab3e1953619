package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"time"

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
//
// A generic plan is only as good as the statistics and table sizes it was
// made with: one made while deliveries or today's events partition was
// nearly empty keeps scanning it sequentially as it fills (seen in `make
// bench`: hundreds of sequential scans of deliveries per second). So stmt
// re-prepares a statement when it has lived its lifetime — 1 s at first,
// doubling up to stmtMaxLife — and the new plan sees the tables as they
// are. A replaced statement is closed one stmtMaxLife later, when no query
// can still be using it.
type stmtCache struct {
	mu sync.Mutex
	m  map[string]*sql.Stmt
	// Lazily made; statements that durableStmt caches have no entry and
	// never expire.
	born    map[string]time.Time
	life    map[string]time.Duration
	retired []retiredStmt
}

type retiredStmt struct {
	st *sql.Stmt
	at time.Time
}

// stmtMaxLife bounds how long one prepared plan is kept.
const stmtMaxLife = time.Minute

// fresh returns the cached statement for query unless it has outlived its
// lifetime (then it is retired); c.mu is held.
func (c *stmtCache) fresh(query string, now time.Time) (*sql.Stmt, bool) {
	st, ok := c.m[query]
	if !ok {
		return nil, false
	}
	born, tracked := c.born[query]
	if !tracked || now.Sub(born) < c.life[query] {
		return st, true
	}
	c.retired = append(c.retired, retiredStmt{st: st, at: now})
	delete(c.m, query)
	return nil, false
}

// keep caches a newly prepared statement and closes retired ones that no
// query can still use; c.mu is held.
func (c *stmtCache) keep(query string, st *sql.Stmt, now time.Time) {
	if c.born == nil {
		c.born, c.life = map[string]time.Time{}, map[string]time.Duration{}
	}
	c.m[query] = st
	c.born[query] = now
	c.life[query] = min(max(2*c.life[query], time.Second), stmtMaxLife)
	live := c.retired[:0]
	for _, r := range c.retired {
		if now.Sub(r.at) > stmtMaxLife {
			_ = r.st.Close()
			continue
		}
		live = append(live, r)
	}
	c.retired = live
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
		now := time.Now()
		if st, ok := s.stmts.fresh(query, now); ok {
			return st, nil
		}
		st, err := pool.PrepareContext(ctx, query)
		if err != nil {
			return nil, fmt.Errorf("store: prepare: %w", err)
		}
		s.stmts.keep(query, st, now)
		return st, nil
	}
	return nil, fmt.Errorf("store: cannot prepare on %T", s.db)
}
