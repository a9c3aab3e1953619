package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/hookrelay/hookrelay/internal/config"
	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/task"
)

// stdin is where `admin user create` reads a password from; tests replace it.
var stdin io.Reader = os.Stdin

// cliActor is who the operator commands act as in the audit log.
func cliActor(teamID string) relay.Actor {
	return relay.Actor{TeamID: teamID, Kind: "cli", ID: "admin"}
}

// adminTeamCreate makes an empty team and prints its id.
func adminTeamCreate(ctx context.Context, cfg *config.Config, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("admin team create", flag.ContinueOnError)
	name := fs.String("name", "", "team name")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if strings.TrimSpace(*name) == "" {
		return errors.New("admin team create: --name is required")
	}
	d, err := openDeps(ctx, cfg, false)
	if err != nil {
		return err
	}
	defer d.close()
	t, err := d.relay.CreateTeamAs(ctx, cliActor(""), *name)
	if err != nil {
		return fmt.Errorf("admin team create: %w", err)
	}
	fmt.Fprintf(stdout, "team %s (%s) created\n", t.ID, t.Name)
	return nil
}

// readPassword reads a password piped on stdin; "" when stdin is a
// terminal or empty (then one is generated).
func readPassword(r io.Reader) (string, error) {
	if f, ok := r.(*os.File); ok {
		if st, err := f.Stat(); err != nil || st.Mode()&os.ModeCharDevice != 0 {
			return "", nil
		}
	}
	line, err := bufio.NewReader(io.LimitReader(r, 1024)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// adminUserCreate makes a dashboard account in a team. The password comes
// from stdin (never a flag, which would show in the process list and
// shell history), or is generated and printed once.
func adminUserCreate(ctx context.Context, cfg *config.Config, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("admin user create", flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.Usage = func() {
		fmt.Fprintln(stdout, "usage: hookrelay admin user create --email E --team TEAM_ID [--role R] [--name N]")
		fmt.Fprintln(stdout, "The password is read from stdin (generated and printed once when there is none): "+relay.PasswordRules+".")
		fs.PrintDefaults()
	}
	email := fs.String("email", "", "email address (the login)")
	team := fs.String("team", "", "team id")
	role := fs.String("role", "member", "role in --team: owner, admin, member or viewer")
	name := fs.String("name", "", "display name")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *email == "" || *team == "" {
		return errors.New("admin user create: --email and --team are required (the password is read from stdin)")
	}
	pw, err := readPassword(stdin)
	if err != nil {
		return fmt.Errorf("admin user create: reading the password: %w", err)
	}
	generated := pw == ""
	if generated {
		b := make([]byte, 15)
		_, _ = rand.Read(b)
		pw = base64.RawURLEncoding.EncodeToString(b)
	}
	d, err := openDeps(ctx, cfg, false)
	if err != nil {
		return err
	}
	defer d.close()
	if _, err := d.relay.Store().GetTeam(ctx, *team); err != nil {
		return fmt.Errorf("admin user create: team %s: %w", *team, err)
	}
	u, err := d.relay.CreateUser(ctx, cliActor(*team), *email, *name, pw, *team, *role)
	if err != nil {
		return fmt.Errorf("admin user create: %w", err)
	}
	fmt.Fprintf(stdout, "user %s (%s) created, %s of team %s\n", u.ID, u.Email, *role, *team)
	if generated {
		fmt.Fprintf(stdout, "password (shown once): %s\n", pw)
	}
	return nil
}

// runEndpoint runs `endpoint replay`.
func runEndpoint(ctx context.Context, cfg *config.Config, args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "replay" {
		return errors.New("usage: hookrelay endpoint replay --endpoint EP_ID [--since TIME] [--include-failed] [--dry-run]")
	}
	fs := flag.NewFlagSet("endpoint replay", flag.ContinueOnError)
	epID := fs.String("endpoint", "", "endpoint id (ep_…)")
	sinceArg := fs.String("since", "", "earliest event time, RFC 3339 (default: when the endpoint was last disabled, else paused, else created)")
	failed := fs.Bool("include-failed", false, "also re-send events whose delivery to the endpoint failed")
	dry := fs.Bool("dry-run", false, "only count what would be replayed")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *epID == "" {
		return errors.New("endpoint replay: --endpoint is required")
	}
	in := relay.ReplayInput{IncludeFailed: *failed}
	if *sinceArg != "" {
		t, err := time.Parse(time.RFC3339, *sinceArg)
		if err != nil {
			return fmt.Errorf("endpoint replay: --since: want a time like 2026-01-02T15:04:05Z: %w", err)
		}
		in.Since = t
	}
	d, err := openDeps(ctx, cfg, false)
	if err != nil {
		return err
	}
	defer d.close()
	team, err := d.relay.Store().EndpointTeam(ctx, *epID)
	if err != nil {
		return fmt.Errorf("endpoint replay: %w", err)
	}
	if *dry {
		p, err := d.relay.PreviewReplay(ctx, cliActor(team), *epID, in)
		if err != nil {
			return fmt.Errorf("endpoint replay: %w", err)
		}
		fmt.Fprintf(stdout, "dry run: %d events since %s would be replayed (%d by re-queueing a failed delivery)\n",
			p.Events, p.Since.UTC().Format(time.RFC3339), p.Failed)
		return nil
	}
	j, err := d.relay.StartReplay(ctx, cliActor(team), *epID, in)
	if err != nil {
		return fmt.Errorf("endpoint replay: %w", err)
	}
	fmt.Fprintf(stdout, "replay job %s: %d events since %s\n", j.ID, j.Total, j.Filter.Since.UTC().Format(time.RFC3339))
	return followReplay(ctx, d.relay, j, stdout)
}

// followReplay runs the job's steps here, printing progress, so a replay
// advances even while no worker runs (the deliveries it queues still need
// one). A worker running the same step meanwhile is harmless: the job's
// cursor makes one of the two a no-op. Interrupted, the job goes on in
// the worker; cancel it from the dashboard or the API.
func followReplay(ctx context.Context, r *relay.Relay, j *store.BulkJob, stdout io.Writer) error {
	for j.Status == store.BulkRunning {
		if err := r.BulkStep(ctx, task.BulkRedeliver{JobID: j.ID, Cursor: j.Cursor}); err != nil {
			return fmt.Errorf("endpoint replay: %w", err)
		}
		next, err := r.Store().GetBulkJob(ctx, j.TeamID, j.ID)
		if err != nil {
			return fmt.Errorf("endpoint replay: %w", err)
		}
		j = next
		fmt.Fprintf(stdout, "replayed %d of %d (%s)\n", j.Done, j.Total, j.Status)
		if j.Status != store.BulkRunning {
			break
		}
		select {
		case <-ctx.Done():
			fmt.Fprintf(stdout, "interrupted: job %s goes on in the worker\n", j.ID)
			return ctx.Err()
		case <-time.After(time.Duration(j.PauseMS) * time.Millisecond):
		}
	}
	return nil
}
