package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/hookrelay/hookrelay/internal/config"
	"github.com/hookrelay/hookrelay/internal/provider"
	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/stripefixture"
)

// localKeyFile is where `make run` keeps the local encryption key
// (deploy/run-local.sh), relative to the repository root.
const localKeyFile = ".local/encryption.key"

// useLocalKey fills cfg.EncryptionKeys from .local/encryption.key in the
// working directory when running in local mode without
// HOOKRELAY_ENCRYPTION_KEYS: `make run` exports the key only to the server
// it starts, and a second terminal's `bin/hookrelay trigger` must find it
// too. Production never reads it: there the key comes from the environment.
func useLocalKey(cfg *config.Config) error {
	if cfg.EncryptionKeys != "" || cfg.Env != config.EnvLocal {
		return nil
	}
	b, err := os.ReadFile(localKeyFile)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", localKeyFile, err)
	}
	cfg.EncryptionKeys = strings.TrimSpace(string(b))
	return nil
}

// runTrigger signs a realistic Stripe event (internal/stripefixture) with
// a Stripe source's secret and posts it to the source's ingest URL, as
// Stripe would. --list prints the event types there are fixtures for.
func runTrigger(ctx context.Context, cfg *config.Config, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("trigger", flag.ContinueOnError)
	sourceID := fs.String("source", "", "Stripe source id (default: the first Stripe source)")
	list := fs.Bool("list", false, "list the event types there are fixtures for")
	evType := relay.DefaultTestEventType
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		evType, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *list {
		for _, t := range stripefixture.Types() {
			fmt.Fprintln(stdout, t)
		}
		return nil
	}
	if !stripefixture.Has(evType) {
		return fmt.Errorf("trigger: no fixture for %q; `hookrelay trigger --list` shows the %d there are", evType, len(stripefixture.Types()))
	}
	d, err := openDeps(ctx, cfg, true)
	if err != nil {
		if strings.Contains(err.Error(), "HOOKRELAY_ENCRYPTION_KEYS is not set") {
			wd, _ := os.Getwd()
			return fmt.Errorf("trigger: %w; no %s in %s either: run it from the directory of `make run`", err, localKeyFile, wd)
		}
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
	now := time.Now()
	body, err := stripefixture.Body(stripefixture.NewFlow(""), evType, store.NewID("evt_trigger"), now)
	if err != nil {
		return err
	}
	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: secrets[0], Timestamp: now})
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

// findStripeSource is the Stripe source id names, or the first one of
// any team when id is empty.
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
	if id != "" {
		return nil, fmt.Errorf("no Stripe source %s", id)
	}
	return nil, errors.New("no Stripe source found (run `hookrelay admin bootstrap`)")
}
