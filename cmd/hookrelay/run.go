package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/hookrelay/hookrelay/internal/config"
)

const usage = `usage: hookrelay <command>

commands:
  serve                 run the HTTP API, ingest and dashboard
  worker                run the delivery worker and sweeper
  all                   serve and worker in one process (small installs, local use)
  migrate up|down|status|unlock
  config                print the effective configuration, secrets redacted
  version               print the version
  healthcheck [--url URL | --metrics]
                        GET /healthz on HOOKRELAY_LISTEN (--metrics: on HOOKRELAY_METRICS_LISTEN, the
                        worker's listener); exit 0 on 200, else 1 (for the image, which has no shell or curl)
  admin bootstrap       on an empty install: create a team, an API token and a Stripe source
  admin token create --team TEAM_ID --name NAME [--scopes read,write]
  admin team create --name NAME
  admin user create --email E --team TEAM_ID [--role owner|admin|member|viewer] [--name N]
                        password on stdin; with none (a terminal), one is generated and printed once
  endpoint replay --endpoint EP_ID [--since TIME] [--include-failed] [--dry-run]
                        send an endpoint the events it missed (while disabled), printing progress
  secrets rekey [--batch N]
                        re-encrypt every secret with the newest key (then older keys can go)
  secrets new-key KEY_ID
                        print a fresh encryption key (KEY_ID:base64) for HOOKRELAY_ENCRYPTION_KEYS
  maintenance run       create partitions ahead, drop expired ones (the worker does this hourly)
  trigger [EVENT_TYPE] [--source SOURCE_ID] | trigger --list
                        send a Stripe-signed test event to a Stripe source
  listen --server URL --token API_TOKEN --forward-to URL [--source SOURCE_ID] [--replay SINCE]
                        stream the team's events to a local URL, signed (like stripe listen)
  stripe backfill --source SOURCE_ID --since TIME
                        ingest the events Stripe's Events API lists that the relay never stored
`

// run is the whole program: it parses args, loads config and runs one command.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) < 2 {
		fmt.Fprint(stdout, usage)
		return errors.New("no command given")
	}
	cmd, rest := args[1], args[2:]
	switch cmd {
	case "version":
		fmt.Fprintln(stdout, "hookrelay", version)
		return nil
	case "healthcheck":
		// Before config.Load: a probe needs only the listen address.
		return runHealthcheck(ctx, rest, getenv, stdout)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	case "listen": // a developer's machine: no database, no configuration
		return runListen(ctx, rest, stdout)
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	if err := useLocalKey(cfg); err != nil {
		return err
	}
	switch cmd {
	case "config":
		for _, kv := range cfg.Redacted() {
			fmt.Fprintf(stdout, "%-32s %s\n", kv[0], kv[1])
		}
		return nil
	case "migrate":
		return runMigrate(ctx, cfg, rest, stdout)
	case "serve", "worker", "all":
		return runServers(ctx, cfg, cmd, stdout)
	case "admin":
		return runAdmin(ctx, cfg, rest, stdout)
	case "maintenance":
		return runMaintenance(ctx, cfg, rest, stdout)
	case "trigger":
		return runTrigger(ctx, cfg, rest, stdout)
	case "stripe":
		return runStripe(ctx, cfg, rest, stdout)
	case "secrets":
		return runSecrets(ctx, cfg, rest, stdout)
	case "endpoint":
		return runEndpoint(ctx, cfg, rest, stdout)
	}
	fmt.Fprint(stdout, usage)
	return fmt.Errorf("unknown command %q", strings.Join(args[1:2], ""))
}
