package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/hookrelay/hookrelay/internal/config"
	"github.com/hookrelay/hookrelay/internal/relay"
)

// adminSeed is `hookrelay admin seed --events N --team T [--days D]`:
// synthetic events, deliveries and attempts for measuring at size (see
// README, "Dashboard and API at size"). Never point it at a production
// database: the rows are indistinguishable from real ones.
func adminSeed(ctx context.Context, cfg *config.Config, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("admin seed", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	events := fs.Int("events", 0, "how many events")
	team := fs.String("team", "", "team id (created when missing)")
	days := fs.Int("days", 30, "spread received_at over the last DAYS days")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("admin seed: %w", err)
	}
	if *events <= 0 || *team == "" || *days <= 0 {
		return errors.New("admin seed: --events N (> 0) and --team TEAM_ID are required; --days must be > 0")
	}
	d, err := openDeps(ctx, cfg, true)
	if err != nil {
		return err
	}
	defer d.close()
	if err := d.checkSchema(ctx); err != nil {
		return err
	}
	start, last := time.Now(), time.Now()
	err = d.relay.Seed(ctx, relay.SeedOptions{TeamID: *team, Events: *events, Days: *days, Progress: func(done int) {
		if time.Since(last) > 10*time.Second || done == *events {
			last = time.Now()
			fmt.Fprintf(stdout, "seeded %d/%d events (%s)\n", done, *events, time.Since(start).Round(time.Second))
		}
	}})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "seeded %d events into team %s in %s\n", *events, *team, time.Since(start).Round(time.Second))
	return nil
}
