// Package testenv gives tests real services: a fresh, migrated PostgreSQL
// database and an isolated Redis database. A missing service fails the test
// (it never skips): `make test` starts both.
package testenv

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/migrations"
)

// AdminDSN is the database tests connect to in order to create their own.
func AdminDSN() string {
	return cmp.Or(os.Getenv("HOOKRELAY_TEST_DATABASE_URL"),
		"postgres://hookrelay:hookrelay@127.0.0.1:5432/postgres?sslmode=disable")
}

// Postgres creates a migrated database for this test, dropped at cleanup,
// and returns a connection to it and its DSN.
func Postgres(tb testing.TB) (*bun.DB, string) {
	tb.Helper()
	ctx := context.Background()
	admin, err := store.Open(ctx, AdminDSN())
	if err != nil {
		tb.Fatalf("testenv: PostgreSQL unavailable (run `make test`, which starts it): %v", err)
	}
	defer admin.Close()
	name := strings.ToLower(store.NewID("hookrelay_test"))
	tmpl := template(ctx)
	create := "CREATE DATABASE " + name
	if tmpl != "" {
		create += " TEMPLATE " + tmpl
	}
	if _, err := admin.ExecContext(ctx, create); err != nil {
		tb.Fatalf("testenv: create database: %v", err)
	}
	dsn := replaceDB(AdminDSN(), name)
	db, err := store.Open(ctx, dsn)
	if err != nil {
		tb.Fatalf("testenv: open %s: %v", name, err)
	}
	if tmpl == "" { // no template: migrate this one
		m, err := migrations.NewMigrator(db)
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := m.Up(ctx); err != nil {
			tb.Fatalf("testenv: migrate: %v", err)
		}
	}
	tb.Cleanup(func() {
		_ = db.Close()
		a, err := store.Open(context.Background(), AdminDSN())
		if err != nil {
			return
		}
		defer a.Close()
		_, _ = a.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	return db, dsn
}

func replaceDB(dsn, name string) string {
	q := ""
	if i := strings.Index(dsn, "?"); i >= 0 {
		dsn, q = dsn[:i], dsn[i:]
	}
	return dsn[:strings.LastIndex(dsn, "/")+1] + name + q
}

// Must fails the test on err.
func Must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(fmt.Sprint(err))
	}
}
