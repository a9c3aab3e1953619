package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/hookrelay/hookrelay/internal/config"
	"github.com/hookrelay/hookrelay/internal/relay"
)

func runAdmin(ctx context.Context, cfg *config.Config, args []string, stdout io.Writer) error {
	switch {
	case len(args) >= 1 && args[0] == "bootstrap":
		return adminBootstrap(ctx, cfg, stdout)
	case len(args) >= 2 && args[0] == "token" && args[1] == "create":
		return adminTokenCreate(ctx, cfg, args[2:], stdout)
	case len(args) >= 2 && args[0] == "team" && args[1] == "create":
		return adminTeamCreate(ctx, cfg, args[2:], stdout)
	case len(args) >= 2 && args[0] == "user" && args[1] == "create":
		return adminUserCreate(ctx, cfg, args[2:], stdout)
	case len(args) >= 1 && args[0] == "create-user":
		return adminCreateUser(ctx, cfg, args[1:], stdout)
	case len(args) >= 1 && args[0] == "seed":
		return adminSeed(ctx, cfg, args[1:], stdout)
	}
	return errors.New("usage: hookrelay admin bootstrap | admin token create --team TEAM_ID --name NAME [--scopes read,write]" +
		" | admin team create --name NAME | admin user create --email E --team TEAM_ID [--role R] (password on stdin)" +
		" | admin create-user --email E --password P [--team TEAM_ID --role owner|admin|member|viewer]" +
		" | admin seed --events N --team TEAM_ID [--days 30]")
}

// adminBootstrap sets up an empty install and prints what a new user needs.
// On a second run it changes nothing and says how to get a new token.
func adminBootstrap(ctx context.Context, cfg *config.Config, stdout io.Writer) error {
	d, err := openDeps(ctx, cfg, true)
	if err != nil {
		return err
	}
	defer d.close()
	if err := d.checkSchema(ctx); err != nil {
		return err
	}
	b, err := d.relay.Bootstrap(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, "")
	if b.Created {
		fmt.Fprintf(stdout, "  API token (shown once, keep it):  %s\n", b.Token)
		fmt.Fprintf(stdout, "  Team:                             %s\n", b.TeamID)
		fmt.Fprintf(stdout, "  Stripe source ingest URL:         %s/in/%s\n", cfg.PublicURL, b.IngestToken)
		fmt.Fprintf(stdout, "  Dashboard login (shown once):     %s / %s\n", b.AdminEmail, b.AdminPassword)
	} else {
		fmt.Fprintf(stdout, "  Already set up (team %s). A new API token:\n", b.TeamID)
		fmt.Fprintf(stdout, "    bin/hookrelay admin token create --team %s --name laptop\n", b.TeamID)
		if b.AdminPassword != "" {
			fmt.Fprintf(stdout, "  Dashboard login (shown once):     %s / %s\n", b.AdminEmail, b.AdminPassword)
		} else {
			fmt.Fprintf(stdout, "  A new dashboard account:\n    bin/hookrelay admin create-user --email you@example.com --password '…' --team %s --role owner\n", b.TeamID)
		}
	}
	fmt.Fprintf(stdout, "  Dashboard:                        %s/\n", cfg.PublicURL)
	fmt.Fprintf(stdout, "  Add an endpoint (e.g. your app on :3000):\n")
	fmt.Fprintf(stdout, "    curl -s -X POST %s/api/v1/endpoints -H \"Authorization: Bearer %s\" -d '{\"url\":\"http://127.0.0.1:3000/webhooks\",\"source_ids\":[\"%s\"]}'\n",
		cfg.PublicURL, orDefault(b.Token, "$TOKEN"), orDefault(b.SourceID, "SRC_ID"))
	fmt.Fprintf(stdout, "  Send a signed test event:\n    bin/hookrelay trigger payment_intent.succeeded\n\n")
	return nil
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// adminCreateUser makes a dashboard account, optionally a team member.
func adminCreateUser(ctx context.Context, cfg *config.Config, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("admin create-user", flag.ContinueOnError)
	email := fs.String("email", "", "email address (the login)")
	fs.SetOutput(stdout)
	pw := fs.String("password", "", "password: "+relay.PasswordRules)
	name := fs.String("name", "", "display name")
	team := fs.String("team", "", "team id to add the user to (optional)")
	role := fs.String("role", "member", "role in --team: owner, admin, member or viewer")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *email == "" || *pw == "" {
		return errors.New("admin create-user: --email and --password are required")
	}
	d, err := openDeps(ctx, cfg, false)
	if err != nil {
		return err
	}
	defer d.close()
	if *team != "" {
		if _, err := d.relay.Store().GetTeam(ctx, *team); err != nil {
			return fmt.Errorf("admin create-user: team %s: %w", *team, err)
		}
	}
	u, err := d.relay.CreateUser(ctx, relay.Actor{TeamID: *team, Kind: "cli", ID: "admin"}, *email, *name, *pw, *team, *role)
	if err != nil {
		return fmt.Errorf("admin create-user: %w", err)
	}
	if *team != "" {
		fmt.Fprintf(stdout, "user %s (%s) created, %s of team %s\n", u.ID, u.Email, *role, *team)
	} else {
		fmt.Fprintf(stdout, "user %s (%s) created, in no team yet\n", u.ID, u.Email)
	}
	return nil
}

func adminTokenCreate(ctx context.Context, cfg *config.Config, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("admin token create", flag.ContinueOnError)
	team := fs.String("team", "", "team id")
	name := fs.String("name", "", "token name")
	scopes := fs.String("scopes", "read,write", "comma-separated scopes")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *team == "" || *name == "" {
		return errors.New("admin token create: --team and --name are required")
	}
	d, err := openDeps(ctx, cfg, false)
	if err != nil {
		return err
	}
	defer d.close()
	plain, t, err := d.relay.CreateToken(ctx, relay.Actor{TeamID: *team, Kind: "cli", ID: "admin"}, *name, strings.Split(*scopes, ","))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "token %s (%s), shown once:\n%s\n", t.ID, strings.Join(t.Scopes, ","), plain)
	return nil
}
