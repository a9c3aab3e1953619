package testenv

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/migrations"
)

// Migrating a fresh database took 1.5–2.5 s on a busy CI machine, and the
// suite makes hundreds. Instead each test binary copies a migrated
// template (CREATE DATABASE … TEMPLATE), built once per schema and day:
// its name carries a hash of the migration files embedded in the binary
// (the ones it applies), so an edited migration
// gets a new template, and the UTC date, since migrating creates the day
// partitions from today on. Test binaries running at once build it under
// an advisory lock.
var (
	templateOnce sync.Once
	templateName string // "" means: migrate each database instead
)

// templateLock is the advisory lock key that serialises template builds.
const templateLock = 0x686f6f6b // "hook"

// template returns the name of a migrated template database, building it
// when missing, or "" when it cannot (then Postgres migrates directly).
func template(ctx context.Context) string {
	templateOnce.Do(func() { templateName = buildTemplate(ctx) })
	return templateName
}

func buildTemplate(ctx context.Context) string {
	sum := migrationsHash()
	if sum == "" {
		return ""
	}
	day := time.Now().UTC().Format("20060102")
	name := "hookrelay_tmpl_" + sum + "_" + day
	admin, err := store.Open(ctx, AdminDSN())
	if err != nil {
		return ""
	}
	defer admin.Close()
	conn, err := admin.Conn(ctx)
	if err != nil {
		return ""
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(?)", templateLock); err != nil {
		return ""
	}
	defer conn.ExecContext(context.Background(), "SELECT pg_advisory_unlock(?)", templateLock) //nolint:errcheck
	var exists bool
	if err := conn.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = ?)", name).Scan(&exists); err != nil {
		return ""
	}
	if exists {
		return name
	}
	// Templates of other days are stale (another schema's of today may
	// still serve a test binary built before a migration was edited); a
	// half-built one (a crash mid-migration) is named _wip, never used.
	rows, err := conn.QueryContext(ctx, "SELECT datname FROM pg_database WHERE datname LIKE 'hookrelay\\_tmpl\\_%' AND datname NOT LIKE ?",
		"%"+day)
	if err != nil {
		return ""
	}
	var stale []string
	for rows.Next() {
		var n string
		if rows.Scan(&n) == nil {
			stale = append(stale, n)
		}
	}
	_ = rows.Close()
	for _, n := range stale {
		_, _ = conn.ExecContext(ctx, "DROP DATABASE IF EXISTS "+n+" WITH (FORCE)")
	}
	wip := name + "_wip"
	if _, err := conn.ExecContext(ctx, "CREATE DATABASE "+wip); err != nil {
		return ""
	}
	if !migrate(ctx, replaceDB(AdminDSN(), wip)) {
		_, _ = conn.ExecContext(ctx, "DROP DATABASE IF EXISTS "+wip+" WITH (FORCE)")
		return ""
	}
	// The migrator's sessions may still be closing; a template must have none.
	_, _ = conn.ExecContext(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ?", wip)
	if _, err := conn.ExecContext(ctx, "ALTER DATABASE "+wip+" RENAME TO "+name); err != nil {
		return ""
	}
	return name
}

// migrate applies every migration to the database at dsn and closes it.
func migrate(ctx context.Context, dsn string) bool {
	db, err := store.Open(ctx, dsn)
	if err != nil {
		return false
	}
	defer db.Close()
	m, err := migrations.NewMigrator(db)
	if err != nil {
		return false
	}
	_, err = m.Up(ctx)
	return err == nil
}

// migrationsHash hashes the migration files embedded in this binary: the
// ones buildTemplate applies, whatever is on disk by now.
func migrationsHash() string {
	files, err := fs.Glob(migrations.Files(), "*.sql")
	if err != nil || len(files) == 0 {
		return ""
	}
	sort.Strings(files)
	h := sha256.New()
	h.Write([]byte("embedded v2\x00")) // not the names the on-disk hash gave
	for _, f := range files {
		b, err := fs.ReadFile(migrations.Files(), f)
		if err != nil {
			return ""
		}
		h.Write([]byte(f + "\x00"))
		h.Write(b)
	}
	return strings.ToLower(hex.EncodeToString(h.Sum(nil))[:12])
}
