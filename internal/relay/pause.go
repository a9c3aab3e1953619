package relay

import (
	"context"
	"strconv"
	"time"

	"github.com/hookrelay/hookrelay/internal/store"
)

// PauseHold is how far a paused endpoint's claimed delivery is pushed
// back. Resume makes held deliveries due at once; the hold only bounds
// how long one would wait if that release were lost (the sweeper then
// finds it due, and the worker holds it again while the pause lasts).
// No task is enqueued for a held delivery, so a long pause does not pile
// scheduled tasks up in Redis.
const PauseHold = 24 * time.Hour

// hold gives back claimed attempts of a paused endpoint without using an
// attempt number: they are pending, due PauseHold from now, and counted
// as postponed. Nothing is sent, nothing recorded as an attempt.
func (r *Relay) hold(ctx context.Context, cs []*store.Claimed, now time.Time) error {
	reqs := make([]store.ClaimRequest, len(cs))
	for i, c := range cs {
		reqs[i] = store.ClaimRequest{DeliveryID: c.DeliveryID, N: c.Attempt}
		r.m.Postponed(c.EndpointID)
	}
	if err := r.st.PostponeAttempts(ctx, reqs, now.Add(PauseHold), "endpoint paused"); err != nil {
		return err
	}
	r.log.Debug("delivery_held", "delivery_id", cs[0].DeliveryID, "count", len(cs), "endpoint_id", cs[0].EndpointID,
		"reason", "endpoint paused")
	return nil
}

// PauseEndpoint pauses an endpoint: events keep creating deliveries for
// it, and the worker holds them, using no attempt, until ResumeEndpoint.
// Pausing a paused endpoint changes nothing and writes no audit row.
func (r *Relay) PauseEndpoint(ctx context.Context, a Actor, id string) (*store.Endpoint, error) {
	var ep *store.Endpoint
	err := r.st.Tx(ctx, func(tx *store.Store) error {
		paused, err := tx.PauseEndpoint(ctx, a.TeamID, id, r.Now())
		if err != nil {
			return err
		}
		if ep, err = tx.GetEndpoint(ctx, a.TeamID, id); err != nil || !paused {
			return err
		}
		return r.audit(ctx, tx, a, "endpoint.pause", "endpoint", id, map[string]any{"before": map[string]any{"paused": false}})
	})
	return ep, err
}

// ResumeEndpoint ends a pause: the deliveries held meanwhile become due now
// and are queued (a lost enqueue is the sweeper's). It returns the
// endpoint and how many deliveries were released.
func (r *Relay) ResumeEndpoint(ctx context.Context, a Actor, id string) (*store.Endpoint, int, error) {
	var (
		ep       *store.Endpoint
		released []store.ClaimRequest
	)
	now := r.Now()
	err := r.st.Tx(ctx, func(tx *store.Store) error {
		pausedAt, rel, err := tx.ResumeEndpoint(ctx, a.TeamID, id, PauseHold, now)
		if err != nil {
			return err
		}
		released = rel
		if ep, err = tx.GetEndpoint(ctx, a.TeamID, id); err != nil || pausedAt == nil {
			return err
		}
		return r.audit(ctx, tx, a, "endpoint.resume", "endpoint", id, map[string]any{
			"before": map[string]any{"paused": true, "paused_at": pausedAt}, "released": len(rel)})
	})
	if err != nil {
		return nil, 0, err
	}
	n := len(released)
	// Groups of a wave, as the worker takes them; the nonce keeps these
	// tasks apart from the completed ones of the attempts they carry.
	for len(released) > 0 {
		k := min(len(released), Wave)
		r.enqueueGroups(ctx, released[:k], id, false, "r"+strconv.FormatInt(now.UnixNano(), 36), now)
		released = released[k:]
	}
	return ep, n, nil
}
