package store

import (
	"context"
	"fmt"
	"time"
)

// SwitchEndpoint enables or disables an endpoint, with a reason for
// disabling, and reports whether it changed: only the transition writes,
// so several deliveries disabling one endpoint at once (a burst of 410s)
// change it once, and the caller audits and notifies once. The row's lock
// serializes them: a second UPDATE re-reads the row and finds it done.
// Disabling records the window (last_disabled_at, reenabled_at) the
// endpoint page counts missed events in.
func (s *Store) SwitchEndpoint(ctx context.Context, teamID, id string, enabled bool, reason string, now time.Time) (bool, error) {
	res, err := s.db.NewRaw(`UPDATE endpoints SET enabled = ?0, disabled_reason = ?1, updated_at = ?2,
		disabled_at = CASE WHEN ?0 THEN NULL ELSE ?2::timestamptz END,
		last_disabled_at = CASE WHEN ?0 THEN last_disabled_at ELSE ?2::timestamptz END,
		reenabled_at = CASE WHEN ?0 THEN ?2::timestamptz ELSE NULL END
		WHERE team_id = ?3 AND id = ?4 AND enabled <> ?0`, enabled, reason, now, teamID, id).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("store: enable endpoint %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n > 0 {
		s.subscriptionsChanged()
		return true, nil
	}
	return false, s.endpointExists(ctx, teamID, id)
}

func (s *Store) endpointExists(ctx context.Context, teamID, id string) error {
	ok, err := s.db.NewSelect().Table("endpoints").Where("team_id = ? AND id = ?", teamID, id).Exists(ctx)
	if err != nil {
		return fmt.Errorf("store: endpoint %s: %w", id, err)
	}
	if !ok {
		return fmt.Errorf("store: endpoint %s: %w", id, ErrNotFound)
	}
	return nil
}

// LockEndpoint is GetEndpoint that also locks the row until the
// transaction ends, so an update cannot write back a state (enabled,
// paused) that changed since it was read.
func (s *Store) LockEndpoint(ctx context.Context, teamID, id string) (*Endpoint, error) {
	ep := new(Endpoint)
	err := s.db.NewSelect().Model(ep).Column("endpoint.*").ColumnExpr(endpointSourcesColumn).
		Where("team_id = ? AND id = ?", teamID, id).For("UPDATE OF endpoint").Scan(ctx)
	if err != nil {
		return nil, notFound(err, "endpoint", id)
	}
	return ep, nil
}

// PauseEndpoint pauses an endpoint and reports whether it was running.
func (s *Store) PauseEndpoint(ctx context.Context, teamID, id string, now time.Time) (bool, error) {
	res, err := s.db.NewRaw(`UPDATE endpoints SET paused_at = ?, updated_at = ?
		WHERE team_id = ? AND id = ? AND paused_at IS NULL`, now, now, teamID, id).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("store: pause endpoint %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n > 0 {
		return true, nil
	}
	return false, s.endpointExists(ctx, teamID, id)
}

// ResumeEndpoint ends an endpoint's pause and makes the deliveries it held
// due now: those pushed to hold or more past the pause's start (a hold
// pushes a claimed delivery hold past its claim, which came after the
// pause). It returns when the pause began (nil: it was not paused) and
// the released deliveries with the attempt number their task must carry.
func (s *Store) ResumeEndpoint(ctx context.Context, teamID, id string, hold time.Duration, now time.Time) (*time.Time, []ClaimRequest, error) {
	var pausedAt []time.Time
	err := s.db.NewRaw(`UPDATE endpoints e SET paused_at = NULL, updated_at = ?
		FROM (SELECT id, paused_at FROM endpoints WHERE team_id = ? AND id = ? FOR UPDATE) old
		WHERE e.id = old.id AND old.paused_at IS NOT NULL RETURNING old.paused_at`, now, teamID, id).Scan(ctx, &pausedAt)
	if err != nil {
		return nil, nil, fmt.Errorf("store: resume endpoint %s: %w", id, err)
	}
	if len(pausedAt) == 0 {
		return nil, nil, s.endpointExists(ctx, teamID, id)
	}
	out := []ClaimRequest{}
	err = s.db.NewRaw(`UPDATE deliveries SET next_attempt_at = ?, updated_at = ?
		WHERE endpoint_id = ? AND status = 'pending' AND next_attempt_at >= ?::timestamptz + ? * interval '1 millisecond'
		RETURNING id AS delivery_id, attempts + 1 AS n`, now, now, id, pausedAt[0], hold.Milliseconds()).Scan(ctx, &out)
	if err != nil {
		return nil, nil, fmt.Errorf("store: release deliveries of %s: %w", id, err)
	}
	return &pausedAt[0], out, nil
}

// EndpointTeam returns the team of an endpoint, for operator tools that
// name an endpoint by id alone.
func (s *Store) EndpointTeam(ctx context.Context, id string) (string, error) {
	var team string
	if err := s.db.NewRaw(`SELECT team_id FROM endpoints WHERE id = ?`, id).Scan(ctx, &team); err != nil {
		return "", notFound(err, "endpoint", id)
	}
	return team, nil
}
