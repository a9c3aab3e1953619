package store

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"
	"github.com/uptrace/bun"
)

// Time-partitioned tables (migration 0005): one partition per UTC day,
// named <table>_pYYYYMMDD, and <table>_default for rows outside them.
const (
	TableEvents   = "events"
	TableAttempts = "delivery_attempts"
)

// partitionKey is each partitioned table's partition column.
var partitionKey = map[string]string{TableEvents: "received_at", TableAttempts: "started_at"}

// ddlLockTimeout bounds the wait for the locks that attaching or dropping
// a partition takes: a long dashboard query must not make ingest queue up
// behind the DDL. A run that times out is retried by the next one.
const ddlLockTimeout = "1s"

// retentionLock serialises partition DDL across worker replicas (an
// advisory lock id; the value is arbitrary but fixed).
const retentionLock = 0x686f6f6b72 // "hookr"

// Partition is one day partition of a table.
type Partition struct {
	Table string
	Name  string
	// Day is the first instant (UTC midnight) the partition holds; it
	// holds [Day, Day+24h).
	Day time.Time
}

// End is the first instant after the partition.
func (p Partition) End() time.Time { return p.Day.AddDate(0, 0, 1) }

// PartitionName is the name of table's partition for the UTC day of t.
func PartitionName(table string, t time.Time) string {
	return table + "_p" + t.UTC().Format("20060102")
}

// Day truncates t to its UTC midnight.
func Day(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// NewIDAt is NewID as if minted at t (backfills and tests: ids encode their
// creation time, which retention and time filters rely on).
func NewIDAt(prefix string, t time.Time) string {
	return prefix + "_" + strings.ToLower(ulid.MustNew(ulid.Timestamp(t), rand.Reader).String())
}

// Partitions lists table's day partitions, oldest first (not the default).
func (s *Store) Partitions(ctx context.Context, table string) ([]Partition, error) {
	if partitionKey[table] == "" {
		return nil, fmt.Errorf("store: %s is not partitioned", table)
	}
	var names []string
	err := s.db.NewRaw(`SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = ?::regclass ORDER BY c.relname`, table).Scan(ctx, &names)
	if err != nil {
		return nil, fmt.Errorf("store: partitions of %s: %w", table, err)
	}
	out := make([]Partition, 0, len(names))
	for _, n := range names {
		day, err := time.Parse("20060102", strings.TrimPrefix(n, table+"_p"))
		if !strings.HasPrefix(n, table+"_p") || err != nil {
			continue // the default partition, or one made by hand
		}
		out = append(out, Partition{Table: table, Name: n, Day: day})
	}
	return out, nil
}

// ddl runs fn in a transaction holding the retention advisory lock, with
// a lock timeout.
func (s *Store) ddl(ctx context.Context, fn func(tx bun.Tx) error) error {
	return s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.ExecContext(ctx, "SET LOCAL lock_timeout = '"+ddlLockTimeout+"'"); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(?)", retentionLock); err != nil {
			return err
		}
		return fn(tx)
	})
}

// CreatePartition makes sure table has a partition for the UTC day of t.
// It reports whether it created one and how many rows it moved into it
// from the default partition (rows that arrived before their day's
// partition existed; normally none).
//
// The partition is built as a plain table and then attached: ATTACH takes
// a SHARE UPDATE EXCLUSIVE lock on the parent, which does not block
// ingest, where CREATE TABLE … PARTITION OF would take ACCESS EXCLUSIVE.
// New partitions have no foreign keys to check (LIBRARY-NOTES' plan trap)
// and are analyzed as they fill by autovacuum.
func (s *Store) CreatePartition(ctx context.Context, table string, t time.Time) (created bool, moved int64, err error) {
	key := partitionKey[table]
	if key == "" {
		return false, 0, fmt.Errorf("store: %s is not partitioned", table)
	}
	day := Day(t)
	name := PartitionName(table, day)
	err = s.ddl(ctx, func(tx bun.Tx) error {
		var exists bool
		if err := tx.NewRaw("SELECT to_regclass(?) IS NOT NULL", name).Scan(ctx, &exists); err != nil {
			return err
		}
		if exists {
			return nil
		}
		if _, err := tx.ExecContext(ctx, "CREATE TABLE ? (LIKE ? INCLUDING DEFAULTS)", bun.Ident(name), bun.Ident(table)); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `WITH m AS (DELETE FROM ? WHERE ? >= ? AND ? < ? RETURNING *)
			INSERT INTO ? SELECT * FROM m`, bun.Ident(table+"_default"), bun.Ident(key), day, bun.Ident(key),
			day.AddDate(0, 0, 1), bun.Ident(name))
		if err != nil {
			return err
		}
		moved, _ = res.RowsAffected()
		_, err = tx.ExecContext(ctx, "ALTER TABLE ? ATTACH PARTITION ? FOR VALUES FROM (?) TO (?)",
			bun.Ident(table), bun.Ident(name), day, day.AddDate(0, 0, 1))
		created = err == nil
		return err
	})
	if err != nil {
		return false, 0, fmt.Errorf("store: create partition %s: %w", name, err)
	}
	return created, moved, nil
}

// DropPartition drops a day partition and everything in it. Dropping
// takes a brief ACCESS EXCLUSIVE lock on the parent, bounded by the lock
// timeout.
func (s *Store) DropPartition(ctx context.Context, p Partition) error {
	err := s.ddl(ctx, func(tx bun.Tx) error {
		if _, err := tx.ExecContext(ctx, "DROP TABLE IF EXISTS ?", bun.Ident(p.Name)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, "DELETE FROM payload_expired_partitions WHERE partition = ?", p.Name)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: drop partition %s: %w", p.Name, err)
	}
	return nil
}

// PayloadExpired lists the event partitions whose payloads were dropped.
func (s *Store) PayloadExpired(ctx context.Context) (map[string]bool, error) {
	var names []string
	if err := s.db.NewRaw("SELECT partition FROM payload_expired_partitions").Scan(ctx, &names); err != nil {
		return nil, fmt.Errorf("store: payload-expired partitions: %w", err)
	}
	out := make(map[string]bool, len(names))
	for _, n := range names {
		out[n] = true
	}
	return out, nil
}

// DropPartitionPayloads empties the bodies of one events partition in one
// UPDATE (it touches that day only, once: the partition is then recorded
// as done) and returns how many events it changed.
func (s *Store) DropPartitionPayloads(ctx context.Context, p Partition, now time.Time) (int64, error) {
	if p.Table != TableEvents {
		return 0, fmt.Errorf("store: drop payloads of %s: not an events partition", p.Name)
	}
	var n int64
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE ? SET body = ''::bytea, body_dropped = true WHERE NOT body_dropped`,
			bun.Ident(p.Name))
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		_, err = tx.ExecContext(ctx, `INSERT INTO payload_expired_partitions (partition, expired_at) VALUES (?, ?)
			ON CONFLICT (partition) DO NOTHING`, p.Name, now)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: drop payloads of %s: %w", p.Name, err)
	}
	return n, nil
}

// The bounded statements below select a batch through an index and
// delete it by an array of keys (= ANY (ARRAY(…))): with IN (subquery)
// PostgreSQL chose a hash semi-join over a sequential scan of the whole
// table for every batch.

// DropDefaultPayloads empties the bodies of up to limit events in the
// default partition received before cutoff (through its received_at index).
func (s *Store) DropDefaultPayloads(ctx context.Context, cutoff time.Time, limit int) (int64, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE events_default SET body = ''::bytea, body_dropped = true
		WHERE ctid = ANY (ARRAY(SELECT ctid FROM events_default WHERE received_at < ? AND NOT body_dropped LIMIT ?))`,
		cutoff, limit)
	if err != nil {
		return 0, fmt.Errorf("store: drop default partition payloads: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// DeleteDefaultBefore deletes up to limit rows of table's default
// partition older than cutoff (through its time index).
func (s *Store) DeleteDefaultBefore(ctx context.Context, table string, cutoff time.Time, limit int) (int64, error) {
	key := partitionKey[table]
	if key == "" {
		return 0, fmt.Errorf("store: %s is not partitioned", table)
	}
	def := bun.Ident(table + "_default")
	res, err := s.db.ExecContext(ctx, `DELETE FROM ? WHERE ctid = ANY (ARRAY(SELECT ctid FROM ? WHERE ? < ? LIMIT ?))`,
		def, def, bun.Ident(key), cutoff, limit)
	if err != nil {
		return 0, fmt.Errorf("store: expire %s_default: %w", table, err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// TrimEventKeys deletes up to limit deduplication keys of events received
// before cutoff (an index range on event_keys_received).
func (s *Store) TrimEventKeys(ctx context.Context, cutoff time.Time, limit int) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM event_keys WHERE ctid = ANY (ARRAY(
		SELECT ctid FROM event_keys WHERE received_at < ? ORDER BY received_at LIMIT ?))`,
		cutoff, limit)
	if err != nil {
		return 0, fmt.Errorf("store: trim event keys: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// DeleteDeliveriesBefore deletes up to limit deliveries created before
// cutoff, whatever their status. Delivery ids are ULIDs minted at creation,
// so this is a range of the primary key: no time index is maintained on
// the ingest path for the sake of retention.
func (s *Store) DeleteDeliveriesBefore(ctx context.Context, cutoff time.Time, limit int) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM deliveries WHERE id = ANY (ARRAY(
		SELECT id FROM deliveries WHERE id < ? ORDER BY id LIMIT ?))`, idAt("dlv", cutoff), limit)
	if err != nil {
		return 0, fmt.Errorf("store: expire deliveries: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// DeleteRejectedBefore deletes up to limit rejected requests recorded
// before cutoff, oldest first, through the primary key (ids encode their
// time), and returns how many went.
func (s *Store) DeleteRejectedBefore(ctx context.Context, cutoff time.Time, limit int) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM rejected_requests WHERE id = ANY (ARRAY(
		SELECT id FROM rejected_requests WHERE id < ? ORDER BY id LIMIT ?))`, idAt("rej", cutoff), limit)
	if err != nil {
		return 0, fmt.Errorf("store: expire rejected requests: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}
