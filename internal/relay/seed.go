package relay

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hookrelay/hookrelay/internal/provider"
	"github.com/hookrelay/hookrelay/internal/store"
)

// SeedOptions is `hookrelay admin seed`: synthetic events for measuring
// the dashboard and API at size.
type SeedOptions struct {
	TeamID string
	Events int
	// Days spreads received_at over the last Days days (default 30).
	Days     int
	Progress func(done int)
}

// seedSources are the seeded sources and the endpoints subscribed to
// each: every event of the first source has two deliveries, the others
// one (about 1.3 deliveries per event).
var seedSources = []struct {
	name, provider string
	endpoints      []string
}{
	{"seed-stripe", provider.Stripe, []string{"seed-orders", "seed-billing"}},
	{"seed-github", provider.GitHub, []string{"seed-ci"}},
	{"seed-stripe-eu", provider.Stripe, []string{"seed-billing-eu"}},
}

// Seed creates the team (named after its id) when it does not exist, its
// seed sources and endpoints when missing (each creation audited as any
// other), and then opts.Events events spread over the last opts.Days
// days, with deliveries and attempts (store.Seed).
func (r *Relay) Seed(ctx context.Context, opts SeedOptions) error {
	if opts.TeamID == "" || opts.Events <= 0 {
		return invalid("events", "a team and a positive number of events are required")
	}
	if opts.Days <= 0 {
		opts.Days = 30
	}
	if _, err := r.st.GetTeam(ctx, opts.TeamID); errors.Is(err, store.ErrNotFound) {
		if err := r.st.CreateTeam(ctx, &store.Team{ID: opts.TeamID, Name: opts.TeamID}); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	a := Actor{TeamID: opts.TeamID, Kind: "cli", ID: "seed"}
	srcs, err := r.st.ListSources(ctx, opts.TeamID)
	if err != nil {
		return err
	}
	eps, err := r.st.ListEndpoints(ctx, opts.TeamID)
	if err != nil {
		return err
	}
	srcByName, epByName := map[string]string{}, map[string]store.SeedEndpoint{}
	for _, s := range srcs {
		srcByName[s.Name] = s.ID
	}
	for _, e := range eps {
		epByName[e.Description] = store.SeedEndpoint{ID: e.ID, URL: e.URL}
	}
	var spec []store.SeedSource
	for _, ss := range seedSources {
		id, ok := srcByName[ss.name]
		if !ok {
			name, kind, sec := ss.name, ss.provider, "whsec_seed_"+randomHex(16)
			src, err := r.CreateSource(ctx, a, SourceInput{Name: &name, Provider: &kind, Secret: &sec})
			if err != nil {
				return fmt.Errorf("seed: source %s: %w", name, err)
			}
			id = src.ID
		}
		one := store.SeedSource{ID: id}
		for _, en := range ss.endpoints {
			ep, ok := epByName[en]
			if !ok {
				url, desc, ids := "https://hooks.example.com/"+en, en, []string{id}
				created, _, err := r.CreateEndpoint(ctx, a, EndpointInput{URL: &url, Description: &desc, SourceIDs: &ids})
				if err != nil {
					return fmt.Errorf("seed: endpoint %s: %w", en, err)
				}
				ep = store.SeedEndpoint{ID: created.ID, URL: created.URL}
			}
			one.Endpoints = append(one.Endpoints, ep)
		}
		spec = append(spec, one)
	}
	to := time.Now()
	return r.st.Seed(ctx, store.SeedSpec{TeamID: opts.TeamID, Sources: spec, Events: opts.Events,
		From: to.Add(-time.Duration(opts.Days)*24*time.Hour + time.Hour), To: to, Progress: opts.Progress})
}
