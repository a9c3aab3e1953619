package relay

import (
	"context"
	"time"

	"github.com/hookrelay/hookrelay/internal/store"
)

// RecoverEndpoint re-enables an endpoint and redelivers, as one audited
// action, every delivery to it that failed since its trouble began (its
// failure streak, or its disabling, whichever came first).
func (r *Relay) RecoverEndpoint(ctx context.Context, a Actor, id string) (int, error) {
	var ds []store.Delivery
	err := r.st.Tx(ctx, func(tx *store.Store) error {
		ep, err := tx.GetEndpoint(ctx, a.TeamID, id)
		if err != nil {
			return err
		}
		since := r.Now().Add(-r.opt.AutoDisableAfter)
		for _, t := range []*time.Time{ep.FailingSince, ep.DisabledAt} {
			if t != nil && t.Before(since) {
				since = *t
			}
		}
		if !ep.Enabled {
			if err := tx.SetEndpointEnabled(ctx, a.TeamID, id, true, "", r.Now()); err != nil {
				return err
			}
		}
		if ds, err = tx.ResetFailedSince(ctx, a.TeamID, id, since, r.Now()); err != nil {
			return err
		}
		return r.audit(ctx, tx, a, "endpoint.recover", "endpoint", id, map[string]any{
			"before": map[string]any{"enabled": ep.Enabled, "disabled_reason": ep.DisabledReason},
			"since":  since, "redelivered": len(ds)})
	})
	if err != nil {
		return 0, err
	}
	for i := range ds {
		r.enqueueManual(ctx, &ds[i])
	}
	return len(ds), nil
}
