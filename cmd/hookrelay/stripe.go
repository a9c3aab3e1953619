package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/hookrelay/hookrelay/internal/config"
	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/store"
)

const stripeUsage = "usage: hookrelay stripe backfill --source SOURCE_ID --since TIME (RFC 3339, a date, or an age such as 36h or 7d)"

// runStripe runs the Stripe workflows: `stripe backfill`.
func runStripe(ctx context.Context, cfg *config.Config, args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "backfill" {
		return errors.New(stripeUsage)
	}
	fs := flag.NewFlagSet("stripe backfill", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	sourceID := fs.String("source", "", "Stripe source id (it must hold an API key)")
	sinceArg := fs.String("since", "", "list events created since this time")
	apiURL := fs.String("api-url", "", "Stripe API base URL (default Stripe's; stripe-mock for a local try)")
	if err := fs.Parse(args[1:]); err != nil {
		return fmt.Errorf("%w\n%s", err, stripeUsage)
	}
	if *sourceID == "" || *sinceArg == "" {
		return errors.New(stripeUsage)
	}
	since, err := parseSince(*sinceArg, time.Now())
	if err != nil {
		return err
	}
	d, err := openDeps(ctx, cfg, true)
	if err != nil {
		return err
	}
	defer d.close()
	if *apiURL != "" {
		d.relay.UseStripeAPI(*apiURL)
	}
	src, err := findStripeSource(ctx, d.relay.Store(), *sourceID)
	if err != nil {
		return fmt.Errorf("stripe backfill: %w", err)
	}
	a := relay.Actor{TeamID: src.TeamID, Kind: "cli", ID: "stripe-backfill"}
	job, err := d.relay.CreateBackfill(ctx, a, src.ID, since)
	if err != nil {
		return fmt.Errorf("stripe backfill: %w", err)
	}
	types := "all types"
	if len(job.Types) > 0 {
		types = strings.Join(job.Types, ",")
	}
	fmt.Fprintf(stdout, "backfill %s: source %s, events since %s, %s\n", job.ID, src.ID, job.Since.Format(time.RFC3339), types)
	progress := func(j store.BackfillJob) {
		fmt.Fprintf(stdout, "pages %d  found %d  new %d  ingested %d\n", j.Pages, j.Found, j.New, j.Ingested)
	}
	if err := d.relay.RunBackfill(ctx, job.ID, progress); err != nil {
		return fmt.Errorf("stripe backfill: %w", err)
	}
	done, err := d.relay.Store().GetBackfillJob(ctx, src.TeamID, job.ID)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backfill %s %s: pages %d, found %d, new %d, ingested %d\n", done.ID, done.Status,
		done.Pages, done.Found, done.New, done.Ingested)
	if done.Status == store.BackfillFailed {
		return fmt.Errorf("stripe backfill: %s", done.Error)
	}
	return nil
}

// parseSince reads a time as RFC 3339, a date (UTC midnight), or an age
// before now ("36h", "7d").
func parseSince(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if n, ok := strings.CutSuffix(s, "d"); ok {
		if days, err := strconv.Atoi(n); err == nil && days >= 0 {
			return now.Add(-time.Duration(days) * 24 * time.Hour), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("--since %q: want RFC 3339 (2026-01-02T15:04:05Z), a date (2026-01-02) or an age (36h, 7d)", s)
}
