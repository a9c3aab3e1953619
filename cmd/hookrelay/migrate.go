package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/hookrelay/hookrelay/internal/config"
	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/migrations"
)

func runMigrate(ctx context.Context, cfg *config.Config, args []string, stdout io.Writer) error {
	if len(args) != 1 {
		return errors.New("usage: hookrelay migrate up|down|status|unlock")
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
	switch args[0] {
	case "up":
		names, err := m.Up(ctx)
		if err != nil {
			return err
		}
		if len(names) == 0 {
			fmt.Fprintln(stdout, "migrate: schema is current")
		} else {
			fmt.Fprintln(stdout, "migrate: applied", strings.Join(names, ", "))
		}
		return sealPlaintext(ctx, cfg, db, stdout)
	case "down":
		names, err := m.Down(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, "migrate: rolled back", strings.Join(names, ", "))
	case "status":
		applied, pending, err := m.Status(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "applied: %s\npending: %s\n", orNone(applied), orNone(pending))
	case "unlock":
		return m.Unlock(ctx)
	default:
		return fmt.Errorf("migrate: unknown action %q (up, down, status, unlock)", args[0])
	}
	return nil
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "(none)"
	}
	return strings.Join(s, ", ")
}
