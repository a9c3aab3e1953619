package relay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/hookrelay/hookrelay/internal/provider"
	"github.com/hookrelay/hookrelay/internal/store"
)

// The operations team, source and endpoint have fixed ids: every process
// of an installation finds the same ones, and EnsureOps is idempotent.
const (
	OpsTeamID     = store.OpsTeamID
	OpsSourceID   = "src_hookrelay_ops"
	OpsEndpointID = "ep_hookrelay_ops"
)

type opsTarget struct {
	mu  sync.Mutex
	src *store.Source
}

// EnsureOps makes hookrelay's own notifications (endpoint.disabled,
// delivery.exhausted, endpoint.recovered) flow to url, signed Standard
// Webhooks style with secret, through the normal pipeline: an internal
// team with one unsigned source and one endpoint. An empty url turns
// notifications off (and disables the endpoint if it exists).
func (r *Relay) EnsureOps(ctx context.Context, url, secret string) error {
	a := SystemActor(OpsTeamID)
	err := r.st.Tx(ctx, func(tx *store.Store) error {
		if _, err := tx.GetTeam(ctx, OpsTeamID); errors.Is(err, store.ErrNotFound) {
			if url == "" {
				return nil
			}
			if err := tx.CreateTeam(ctx, &store.Team{ID: OpsTeamID, Name: "hookrelay operations"}); err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
		src, err := tx.GetSource(ctx, OpsTeamID, OpsSourceID)
		if errors.Is(err, store.ErrNotFound) {
			now := r.Now()
			src = &store.Source{ID: OpsSourceID, TeamID: OpsTeamID, Name: "hookrelay", Provider: provider.None,
				CreatedAt: now, UpdatedAt: now}
			r.setIngestToken(src, NewIngestToken())
			if err := tx.CreateSource(ctx, src); err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
		ep, err := tx.GetEndpoint(ctx, OpsTeamID, OpsEndpointID)
		if errors.Is(err, store.ErrNotFound) {
			if url == "" {
				return nil
			}
			now := r.Now()
			ep = &store.Endpoint{ID: OpsEndpointID, TeamID: OpsTeamID, Description: "HOOKRELAY_NOTIFY_URL",
				SigningScheme: "standard-webhooks", SourceIDs: []string{OpsSourceID}, CreatedAt: now, UpdatedAt: now}
			ep.URL, ep.Enabled = url, true
			ep.Secrets = []store.Secret{r.sealSecret(ep.ID, secret, nil)}
			if err := tx.CreateEndpoint(ctx, ep); err != nil {
				return err
			}
			return r.audit(ctx, tx, a, "endpoint.create", "endpoint", ep.ID, map[string]any{"url": url})
		} else if err != nil {
			return err
		}
		cur, _ := r.openSecrets(ep.ID, ep.Secrets)
		if ep.URL == url && ep.Enabled == (url != "") && len(cur) > 0 && cur[0] == secret {
			return nil
		}
		ep.URL, ep.Enabled, ep.UpdatedAt = url, url != "", r.Now()
		if url == "" {
			ep.URL, ep.DisabledReason = "https://notifications.invalid/", "HOOKRELAY_NOTIFY_URL unset"
		}
		ep.Secrets = []store.Secret{r.sealSecret(ep.ID, secret, nil)}
		if err := tx.UpdateEndpoint(ctx, ep); err != nil {
			return err
		}
		return r.audit(ctx, tx, a, "endpoint.update", "endpoint", ep.ID, map[string]any{"url": ep.URL, "enabled": ep.Enabled})
	})
	if err != nil {
		return fmt.Errorf("relay: notifications: %w", err)
	}
	if url == "" {
		return nil
	}
	src, err := r.st.GetSource(ctx, OpsTeamID, OpsSourceID)
	if err != nil {
		return fmt.Errorf("relay: notifications: %w", err)
	}
	r.ops.mu.Lock()
	r.ops.src = src
	r.ops.mu.Unlock()
	return nil
}

// notify sends an operational event through the pipeline. Events about the
// operations team itself are not announced, so a failing notification URL
// cannot feed on itself.
func (r *Relay) notify(ctx context.Context, teamID, kind string, data map[string]any) {
	r.ops.mu.Lock()
	src := r.ops.src
	r.ops.mu.Unlock()
	if src == nil || teamID == OpsTeamID {
		return
	}
	data["team_id"] = teamID
	now := r.Now()
	body, _ := json.Marshal(map[string]any{"type": kind, "timestamp": now, "data": data})
	out, err := r.Ingest(ctx, []Inbound{{Source: src, Result: provider.Result{EventType: kind, Verified: true},
		Body: body, ContentType: "application/json", ReceivedAt: now}})
	if err != nil {
		r.log.Error("notify_failed", "type", kind, "error", err.Error())
		return
	}
	r.Dispatch(ctx, out)
}
