package relay

import (
	"context"
	"errors"
	"time"

	"github.com/hookrelay/hookrelay/internal/store"
)

// Bulk job kinds: redelivering failed deliveries (bulk.go), and replaying
// the events an endpoint missed (this file).
const (
	BulkKindRedeliver = "redeliver"
	BulkKindReplay    = "replay"
)

// ReplayInput is a replay request for one endpoint.
type ReplayInput struct {
	// Since is the earliest received_at replayed; zero means when the
	// endpoint was last disabled, else when it was paused, else created.
	Since time.Time
	// IncludeFailed also re-queues events whose delivery to the endpoint
	// failed; otherwise only events with no delivery at all are replayed.
	IncludeFailed bool
}

// ReplayPreview is what a replay would do if started now.
type ReplayPreview struct {
	Since time.Time `json:"since"`
	// Events is how many events it would handle: Failed of them re-queue
	// a failed delivery, the others get a new one.
	Events int `json:"events"`
	Failed int `json:"failed"`
}

// maxMissedCount bounds the count on the endpoint page.
const maxMissedCount = 10000

// replaySince is a replay's default start (see ReplayInput.Since).
func replaySince(ep *store.Endpoint) time.Time {
	switch {
	case ep.LastDisabledAt != nil:
		return *ep.LastDisabledAt
	case ep.PausedAt != nil:
		return *ep.PausedAt
	}
	return ep.CreatedAt
}

func replayScope(ep *store.Endpoint, since time.Time, includeFailed bool) store.ReplayScope {
	return store.ReplayScope{TeamID: ep.TeamID, EndpointID: ep.ID, SourceIDs: ep.SourceIDs, EventTypes: ep.EventTypes,
		Since: since, IncludeFailed: includeFailed}
}

// checkReplay validates in against ep and returns the start time.
func (r *Relay) checkReplay(ep *store.Endpoint, in ReplayInput) (time.Time, error) {
	since := in.Since
	if since.IsZero() {
		since = replaySince(ep)
	}
	if since.After(r.Now()) {
		return since, invalid("since", "is in the future")
	}
	if len(ep.SourceIDs) == 0 {
		return since, invalid("endpoint", "has no sources: no event can be replayed to it")
	}
	return since, nil
}

// PreviewReplay counts, without changing anything, the events a replay
// into an endpoint would handle.
func (r *Relay) PreviewReplay(ctx context.Context, a Actor, endpointID string, in ReplayInput) (ReplayPreview, error) {
	ep, err := r.st.GetEndpoint(ctx, a.TeamID, endpointID)
	if err != nil {
		return ReplayPreview{}, err
	}
	since, err := r.checkReplay(ep, in)
	if err != nil {
		return ReplayPreview{}, err
	}
	c, err := r.st.CountReplay(ctx, replayScope(ep, since, in.IncludeFailed), 0)
	return ReplayPreview{Since: since, Events: c.Events, Failed: c.Failed}, err
}

// MissedEvents counts the events that arrived while the endpoint was last
// disabled and got no delivery to it (at most maxMissedCount; more says
// there are more). The window ends shortly after it was enabled again:
// ingest's subscriber cache may have missed it for SubscribersTTL.
func (r *Relay) MissedEvents(ctx context.Context, ep *store.Endpoint) (n int, more bool, err error) {
	if ep.LastDisabledAt == nil || len(ep.SourceIDs) == 0 {
		return 0, false, nil
	}
	sc := replayScope(ep, *ep.LastDisabledAt, false)
	if ep.Enabled && ep.ReenabledAt != nil {
		sc.Until = ep.ReenabledAt.Add(store.SubscribersTTL + time.Minute)
	}
	c, err := r.st.CountReplay(ctx, sc, maxMissedCount+1)
	if err != nil {
		return 0, false, err
	}
	return min(c.Events, maxMissedCount), c.Events > maxMissedCount, nil
}

// StartReplay starts a replay job with the default throttle.
func (r *Relay) StartReplay(ctx context.Context, a Actor, endpointID string, in ReplayInput) (*store.BulkJob, error) {
	return r.StartReplayThrottled(ctx, a, endpointID, in, DefaultBulkThrottle)
}

// StartReplayThrottled starts a bulk job that sends an endpoint the events
// it missed since in.Since: each event in scope gets a new delivery (or
// its failed one re-queued), due now, paced by th, cancellable and
// resumable like a bulk redelivery. Events arriving after the start are
// not part of it (ingest delivers them). It is audited once, here, as
// endpoint.replay with the counts.
func (r *Relay) StartReplayThrottled(ctx context.Context, a Actor, endpointID string, in ReplayInput, th BulkThrottle) (*store.BulkJob, error) {
	now := r.Now()
	var j *store.BulkJob
	err := r.st.Tx(ctx, func(tx *store.Store) error {
		ep, err := tx.GetEndpoint(ctx, a.TeamID, endpointID)
		if err != nil {
			return err
		}
		since, err := r.checkReplay(ep, in)
		if err != nil {
			return err
		}
		if !ep.Enabled {
			return invalid("endpoint", "is disabled: enable it (or pause it) first, or the replayed events would fail at once")
		}
		c, err := tx.CountReplay(ctx, replayScope(ep, since, in.IncludeFailed), 0)
		if err != nil {
			return err
		}
		if c.Events == 0 {
			return invalid("since", "no missed events to replay since %s", since.UTC().Format(time.RFC3339))
		}
		j = &store.BulkJob{ID: store.NewID("bulk"), TeamID: a.TeamID, Kind: BulkKindReplay,
			Filter: store.BulkFilter{EndpointID: ep.ID, Since: since, IncludeFailed: in.IncludeFailed},
			Total:  c.Events, Upto: c.Upto, BatchSize: max(th.Batch, 1), PauseMS: int(th.Pause.Milliseconds()),
			Status: store.BulkRunning, CreatedBy: a.String(), CreatedAt: now, UpdatedAt: now}
		if err := tx.CreateBulkJob(ctx, j); err != nil {
			return err
		}
		return r.audit(ctx, tx, a, "endpoint.replay", "endpoint", ep.ID, map[string]any{"bulk_job_id": j.ID,
			"since": since, "include_failed": in.IncludeFailed, "events": c.Events, "failed": c.Failed,
			"new": c.Events - c.Failed})
	})
	if err != nil {
		return nil, err
	}
	r.enqueueStep(ctx, j.ID)
	return j, nil
}

// replayBatch is one step of a replay job, inside BulkStep's transaction:
// the next batch of events in scope after the cursor get a delivery due
// now (new, or the failed one re-queued). It returns the attempts to
// enqueue after the commit, how many events it handled, and the job's
// new cursor and status. A deleted or disabled endpoint ends the job.
func (r *Relay) replayBatch(ctx context.Context, tx *store.Store, j *store.BulkJob) ([]store.ClaimRequest, int, string, string, error) {
	ep, err := tx.GetEndpoint(ctx, j.TeamID, j.Filter.EndpointID)
	if err != nil || !ep.Enabled {
		if err == nil || errors.Is(err, store.ErrNotFound) {
			r.log.Info("replay_stopped", "bulk_job_id", j.ID, "endpoint_id", j.Filter.EndpointID, "reason", "endpoint deleted or disabled")
			return nil, 0, j.Cursor, store.BulkCancelled, nil
		}
		return nil, 0, "", "", err
	}
	if err := tx.LockReplay(ctx, ep.ID); err != nil {
		return nil, 0, "", "", err
	}
	evs, err := tx.NextReplay(ctx, replayScope(ep, j.Filter.Since, j.Filter.IncludeFailed), j.Cursor, j.Upto, j.BatchSize)
	if err != nil {
		return nil, 0, "", "", err
	}
	now := r.Now()
	var (
		reqs   []store.ClaimRequest
		failed []string
		fresh  []store.Delivery
	)
	for _, e := range evs {
		if e.FailedDelivery != "" {
			failed = append(failed, e.FailedDelivery)
			continue
		}
		// created_at is the event's received_at, as at ingest: the claim
		// finds the event's partition through it.
		fresh = append(fresh, store.Delivery{ID: store.NewID("dlv"), TeamID: j.TeamID, EventID: e.ID, EndpointID: ep.ID,
			Status: store.StatusPending, NextAttemptAt: &now, CreatedAt: e.ReceivedAt, UpdatedAt: now})
		reqs = append(reqs, store.ClaimRequest{DeliveryID: fresh[len(fresh)-1].ID, N: 1})
	}
	if err := tx.InsertDeliveries(ctx, fresh); err != nil {
		return nil, 0, "", "", err
	}
	ds, err := tx.ResetFailed(ctx, j.TeamID, failed, now)
	if err != nil {
		return nil, 0, "", "", err
	}
	for _, d := range ds {
		reqs = append(reqs, store.ClaimRequest{DeliveryID: d.ID, N: d.Attempts + 1})
	}
	cursor, status := j.Cursor, store.BulkRunning
	if len(evs) > 0 {
		cursor = evs[len(evs)-1].ID
	}
	if len(evs) < j.BatchSize {
		status = store.BulkFinished
	}
	return reqs, len(evs), cursor, status, nil
}
