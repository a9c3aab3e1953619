package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/uptrace/bun"

	"github.com/hookrelay/hookrelay/internal/config"
	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/secret"
	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/migrations"
)

const secretsUsage = "usage: hookrelay secrets rekey [--batch N] | hookrelay secrets new-key KEY_ID"

// runSecrets runs `hookrelay secrets rekey`: every encrypted value is
// re-sealed with the newest key, so older keys can then be removed from
// HOOKRELAY_ENCRYPTION_KEYS. `hookrelay secrets new-key KEY_ID` prints a
// fresh key to put first in that list before a rekey.
func runSecrets(ctx context.Context, cfg *config.Config, args []string, stdout io.Writer) error {
	if len(args) == 2 && args[0] == "new-key" && args[1] != "" && !strings.ContainsAny(args[1], ":, ") {
		_, err := fmt.Fprintln(stdout, secret.NewKey(args[1]))
		return err
	}
	if len(args) < 1 || args[0] != "rekey" {
		return errors.New(secretsUsage)
	}
	fs := flag.NewFlagSet("secrets rekey", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	batch := fs.Int("batch", relay.DefaultRekeyBatch, "rows per transaction")
	if err := fs.Parse(args[1:]); err != nil || fs.NArg() > 0 || *batch <= 0 {
		return errors.New(secretsUsage)
	}
	if cfg.EncryptionKeys == "" {
		return errors.New("secrets rekey: HOOKRELAY_ENCRYPTION_KEYS is not set")
	}
	box, err := secret.ParseKeys(cfg.EncryptionKeys)
	if err != nil {
		return err
	}
	db, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	m, err := migrations.NewMigrator(db)
	if err != nil {
		return err
	}
	if err := m.CheckCurrent(ctx); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "secrets rekey: sealing every secret with key %q\n", box.KeyID())
	res, err := rekey(ctx, db, box, relay.RekeyOptions{BatchSize: *batch, Actor: relay.Actor{Kind: "cli", ID: "secrets-rekey"}}, "secrets rekey", stdout)
	if err != nil {
		return fmt.Errorf("secrets rekey: stopped (run it again to continue): %w", err)
	}
	fmt.Fprintf(stdout, "secrets rekey: done: %d sources, %d endpoints re-sealed in %d batches; every value is on key %q\n",
		res.Sources, res.Endpoints, res.Batches, box.KeyID())
	return nil
}

// rekey runs a re-keying pass, printing a line per batch.
func rekey(ctx context.Context, db *bun.DB, box *secret.Box, o relay.RekeyOptions, label string, stdout io.Writer) (relay.RekeyResult, error) {
	r := relay.New(relay.Deps{Store: store.New(db), Box: box}, relay.Options{})
	o.Progress = func(p relay.RekeyProgress) {
		fmt.Fprintf(stdout, "%s: batch %d: %s %d/%d\n", label, p.Batch, p.Table, p.Done, p.Total)
	}
	return r.Rekey(ctx, o)
}

// sealPlaintext seals the ingest tokens and header values stored in
// plaintext before migration 0007; `migrate up` runs it after migrating.
// Without keys it says how to do it later.
func sealPlaintext(ctx context.Context, cfg *config.Config, db *bun.DB, stdout io.Writer) error {
	if cfg.EncryptionKeys == "" {
		fmt.Fprintln(stdout, "migrate: HOOKRELAY_ENCRYPTION_KEYS is not set: run `hookrelay secrets rekey` with it to encrypt ingest tokens and header values")
		return nil
	}
	box, err := secret.ParseKeys(cfg.EncryptionKeys)
	if err != nil {
		return err
	}
	res, err := rekey(ctx, db, box, relay.RekeyOptions{PlaintextOnly: true, Actor: relay.Actor{Kind: "cli", ID: "migrate"}}, "migrate: sealing", stdout)
	if err != nil {
		return fmt.Errorf("migrate: sealing plaintext values (run `hookrelay secrets rekey` to finish): %w", err)
	}
	if res.Sources+res.Endpoints > 0 {
		fmt.Fprintf(stdout, "migrate: sealed the plaintext ingest tokens of %d sources and header values of %d endpoints\n",
			res.Sources, res.Endpoints)
	}
	return nil
}
