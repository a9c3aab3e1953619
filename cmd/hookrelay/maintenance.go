package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/hookrelay/hookrelay/internal/config"
	"github.com/hookrelay/hookrelay/internal/relay"
)

// runMaintenance runs the retention task once, now, for operators who
// want it outside the worker's schedule (after changing the retention).
func runMaintenance(ctx context.Context, cfg *config.Config, args []string, stdout io.Writer) error {
	if len(args) != 1 || args[0] != "run" {
		return errors.New("usage: hookrelay maintenance run")
	}
	d, err := openDeps(ctx, cfg, false)
	if err != nil {
		return err
	}
	defer d.close()
	if err := d.checkSchema(ctx); err != nil {
		return err
	}
	rep, err := d.relay.RunRetention(ctx, relay.RetentionPolicy{Retention: cfg.Retention, PayloadRetention: cfg.PayloadRetention})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "partitions created: %s\npartitions dropped: %s\npayloads emptied: %d\ndeliveries deleted: %d\ndedup keys trimmed: %d\n",
		orNone(rep.Created), orNone(rep.Dropped), rep.PayloadsDropped, rep.DeliveriesDeleted, rep.KeysTrimmed)
	if len(rep.PayloadPartitions) > 0 {
		fmt.Fprintf(stdout, "payload partitions: %s\n", strings.Join(rep.PayloadPartitions, ", "))
	}
	return nil
}
