package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/hookrelay/hookrelay/internal/config"
	"github.com/hookrelay/hookrelay/internal/provider"
	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/store"
)

func runAdmin(ctx context.Context, cfg *config.Config, args []string, stdout io.Writer) error {
	switch {
	case len(args) >= 1 && args[0] == "bootstrap":
		return adminBootstrap(ctx, cfg, stdout)
	case len(args) >= 2 && args[0] == "token" && args[1] == "create":
		return adminTokenCreate(ctx, cfg, args[2:], stdout)
	case len(args) >= 1 && args[0] == "create-user":
		return adminCreateUser(ctx, cfg, args[1:], stdout)
	}
	return errors.New("usage: hookrelay admin bootstrap | admin token create --team TEAM_ID --name NAME [--scopes read,write]" +
		" | admin create-user --email E --password P [--team TEAM_ID --role owner|admin|member|viewer]")
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
	pw := fs.String("password", "", "password, 10 to 72 characters")
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

// runTrigger signs a realistic Stripe event with a Stripe source's secret
// and posts it to the source's ingest URL, as Stripe would.
func runTrigger(ctx context.Context, cfg *config.Config, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("trigger", flag.ContinueOnError)
	sourceID := fs.String("source", "", "Stripe source id (default: the first Stripe source)")
	evType := "payment_intent.succeeded"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		evType, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	d, err := openDeps(ctx, cfg, true)
	if err != nil {
		return err
	}
	defer d.close()
	src, err := findStripeSource(ctx, d.relay.Store(), *sourceID)
	if err != nil {
		return err
	}
	secrets, err := d.relay.RevealSecrets(ctx, relay.Actor{TeamID: src.TeamID, Kind: "cli", ID: "trigger"}, "source", src.ID, src.Secrets)
	if err != nil || len(secrets) == 0 {
		return fmt.Errorf("trigger: source %s has no usable secret: %v", src.ID, err)
	}
	body := relay.StripeTestBody(store.NewID("evt_trigger"), evType, time.Now())
	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: secrets[0], Timestamp: time.Now()})
	url := d.relay.IngestURL(cfg.PublicURL, src)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("Stripe-Signature", signed.Header)
	req.Header.Set("User-Agent", "Stripe/1.0 (+https://stripe.com/docs/webhooks)")
	// hookrelay's own ingest URL, which the operator configured; still no
	// proxy from the environment and no redirects followed.
	client := &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{Proxy: nil},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("trigger: is hookrelay running at %s? %w", cfg.PublicURL, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	fmt.Fprintf(stdout, "%s %s → %d %s\n", evType, url, resp.StatusCode, strings.TrimSpace(string(out)))
	if resp.StatusCode >= 300 {
		return fmt.Errorf("trigger: ingest answered %d", resp.StatusCode)
	}
	return nil
}

func findStripeSource(ctx context.Context, st *store.Store, id string) (*store.Source, error) {
	teams, err := st.ListTeams(ctx)
	if err != nil {
		return nil, err
	}
	for _, t := range teams {
		srcs, err := st.ListSources(ctx, t.ID)
		if err != nil {
			return nil, err
		}
		for i := range srcs {
			if srcs[i].Provider == provider.Stripe && (id == "" || srcs[i].ID == id) {
				return &srcs[i], nil
			}
		}
	}
	return nil, errors.New("trigger: no Stripe source found (run `hookrelay admin bootstrap`)")
}
