package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Claimed is everything one delivery attempt needs, loaded by the same
// statement that claims the attempt.
type Claimed struct {
	DeliveryID  string    `bun:"delivery_id"`
	TeamID      string    `bun:"team_id"`
	Attempt     int       `bun:"attempt"`
	EventID     string    `bun:"event_id"`
	SourceID    string    `bun:"source_id"`
	EventType   string    `bun:"event_type"`
	ContentType string    `bun:"content_type"`
	Body        []byte    `bun:"body"`
	ReceivedAt  time.Time `bun:"received_at"`

	EndpointID      string            `bun:"endpoint_id"`
	URL             string            `bun:"url"`
	EndpointEnabled bool              `bun:"enabled"`
	SigningScheme   string            `bun:"signing_scheme"`
	Secrets         []Secret          `bun:"secrets,type:jsonb"`
	Headers         map[string]string `bun:"headers,type:jsonb"`
	TimeoutMS       int               `bun:"timeout_ms"`
	RetrySchedule   string            `bun:"retry_schedule"`
	RateLimit       int               `bun:"rate_limit"`
	MaxInFlight     int               `bun:"max_in_flight"`
	FailingSince    *time.Time        `bun:"failing_since"`

	// Expired is set, inside ClaimAttempt only, when the event or its
	// payload is gone; a returned Claimed never has it.
	Expired string `bun:"expired"`
}

// claimSQL is ClaimAttempt's statement; COALESCEs keep a missing event
// (LEFT JOIN) scannable. "Due" allows one second of earliness: asynq
// stores ProcessAt in whole seconds, so a retry due at 12:00:00.9 may start
// at 12:00:00.1; leases are far longer than that.
const claimSQL = `WITH c AS (
	UPDATE deliveries d SET attempts = d.attempts + 1, updated_at = $1,
		next_attempt_at = $1::timestamptz + (COALESCE(NULLIF(ep.timeout_ms, 0), $2) + $3) * interval '1 millisecond'
	FROM endpoints ep
	WHERE ep.id = d.endpoint_id AND d.id = $4 AND d.status = 'pending' AND d.attempts >= $5
		AND d.next_attempt_at <= $1::timestamptz + interval '1 second'
	RETURNING d.id, d.team_id, d.attempts, d.event_id, d.endpoint_id, d.created_at)
SELECT c.id, c.team_id, c.attempts, c.event_id, COALESCE(e.source_id, ''), COALESCE(e.event_type, ''),
	COALESCE(e.content_type, ''), COALESCE(e.body, ''::bytea), COALESCE(e.received_at, c.created_at), c.endpoint_id,
	ep.url, ep.enabled, ep.signing_scheme, ep.secrets, ep.headers, ep.timeout_ms, ep.retry_schedule,
	ep.rate_limit, ep.max_in_flight, ep.failing_since,
	CASE WHEN e.id IS NULL THEN 'event expired' WHEN e.body_dropped THEN 'payload expired' ELSE '' END
FROM c LEFT JOIN events e ON e.id = c.event_id AND e.received_at = c.created_at
	JOIN endpoints ep ON ep.id = c.endpoint_id`

// ClaimAttempt starts the next attempt of a pending delivery that is due
// (next_attempt_at <= now) and has made at least n-1 attempts: it bumps
// attempts and sets next_attempt_at to a lease of the endpoint's own
// timeout (defaultTimeout when it sets none) plus margin. While the lease
// runs no other task can claim it; once it has run out (the worker died),
// any task for the delivery — asynq re-running the crashed task, the
// sweeper's — claims it again. The returned Attempt is the real attempt
// number. ErrNotFound means the task is stale (delivery settled, not due,
// or an older attempt number than already made), or
// that the event or its payload has expired under the retention policy:
// then the delivery is settled as failed with that reason, since sending
// an empty body would break the exact-bytes promise.
//
// The event is joined on its partition key too: ingest (and every other
// path creating deliveries: SendTestEvent, notifications through Ingest)
// sets deliveries.created_at to the event's received_at, so run-time
// partition pruning reads one day's partition instead of probing all
// (EXPLAIN ANALYZE: one partition's pkey index scan, the others "never
// executed"). Keep it a per-execution plan: a generic plan (a statement
// prepared once) made while today's partition was empty would keep a
// sequential scan of it as the day fills.
func (s *Store) ClaimAttempt(ctx context.Context, deliveryID string, n int, now time.Time, defaultTimeout, margin time.Duration) (*Claimed, error) {
	st, err := s.stmt(ctx, claimSQL)
	if err != nil {
		return nil, err
	}
	c := new(Claimed)
	var secrets, headers []byte
	var failing sql.NullTime
	err = st.QueryRowContext(ctx, now, defaultTimeout.Milliseconds(), margin.Milliseconds(), deliveryID, n-1).Scan(
		&c.DeliveryID, &c.TeamID, &c.Attempt, &c.EventID, &c.SourceID, &c.EventType, &c.ContentType, &c.Body,
		&c.ReceivedAt, &c.EndpointID, &c.URL, &c.EndpointEnabled, &c.SigningScheme, &secrets, &headers,
		&c.TimeoutMS, &c.RetrySchedule, &c.RateLimit, &c.MaxInFlight, &failing, &c.Expired)
	if err == nil {
		if failing.Valid {
			c.FailingSince = &failing.Time
		}
		err = errors.Join(json.Unmarshal(secrets, &c.Secrets), json.Unmarshal(headers, &c.Headers))
	}
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: claim %s attempt %d: %w", deliveryID, n, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: claim %s attempt %d: %w", deliveryID, n, err)
	}
	if c.Expired != "" {
		if err := s.SettleWithoutAttempt(ctx, deliveryID, c.Attempt, StatusFailed, c.Expired, now); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("store: claim %s attempt %d: %s: %w", deliveryID, n, c.Expired, ErrNotFound)
	}
	return c, nil
}

// Outcome is how an attempt left its delivery.
type Outcome struct {
	Status        string     // pending (retry scheduled), succeeded or failed
	NextAttemptAt *time.Time // when pending
	LastStatus    int
	LastError     string
	// EndpointID gets its failure streak updated with the attempt.
	EndpointID string
}

// finishSQL is FinishAttempt's statement.
const finishSQL = `WITH a AS (
	INSERT INTO delivery_attempts (delivery_id, n, started_at, duration_ms, url, request_headers,
		response_status, response_headers, response_body, error, manual)
	VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8::jsonb, $9, $10, $11)
	ON CONFLICT (delivery_id, n, started_at) DO NOTHING),
f AS (
	UPDATE endpoints SET failing_since = CASE WHEN $12 THEN NULL ELSE $13::timestamptz END
	WHERE id = $14 AND (failing_since IS NULL) = NOT $12)
UPDATE deliveries SET status = $15, next_attempt_at = $16, last_status = $17, last_error = $18, updated_at = $13
WHERE id = $1 AND attempts = $2`

// nullTime passes a nil *time.Time as SQL NULL.
func nullTime(t *time.Time) sql.NullTime {
	if t == nil {
		return sql.NullTime{}
	}
	return sql.NullTime{Time: *t, Valid: true}
}

// FinishAttempt records attempt a and settles its delivery in one
// statement. The delivery is only updated if no later attempt was claimed
// meanwhile (a manual redelivery racing a retry); the attempt row is kept
// either way, so the log shows every request made.
//
// delivery_attempts is partitioned by started_at, so its key is
// (delivery_id, n, started_at) (migration 0005). (delivery_id, n) stays
// unique by construction: ClaimAttempt hands attempt n to one task only,
// and only that task, once, gets here with n. The conflict clause absorbs
// an exact replay of the same insert.
func (s *Store) FinishAttempt(ctx context.Context, a *Attempt, o Outcome, now time.Time) error {
	st, err := s.stmt(ctx, finishSQL)
	if err != nil {
		return err
	}
	reqH, err := json.Marshal(a.RequestHeaders)
	if err != nil {
		return err
	}
	respH, err := json.Marshal(a.ResponseHeaders)
	if err != nil {
		return err
	}
	_, err = st.ExecContext(ctx, a.DeliveryID, a.N, a.StartedAt, a.DurationMS, a.URL, string(reqH),
		a.ResponseStatus, string(respH), a.ResponseBody, a.Error, a.Manual,
		o.Status == StatusSucceeded, now, o.EndpointID, o.Status,
		nullTime(o.NextAttemptAt), o.LastStatus, o.LastError)
	if err != nil {
		return fmt.Errorf("store: finish %s attempt %d: %w", a.DeliveryID, a.N, err)
	}
	return nil
}

// Postpone gives back a claimed attempt that was not sent (the endpoint's
// gate said wait): attempts goes back to n-1, due at until.
func (s *Store) Postpone(ctx context.Context, deliveryID string, n int, until time.Time) error {
	_, err := s.db.NewRaw(`UPDATE deliveries SET attempts = attempts - 1, next_attempt_at = ?
		WHERE id = ? AND attempts = ? AND status = 'pending'`, until, deliveryID, n).Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: postpone %s: %w", deliveryID, err)
	}
	return nil
}

// SettleWithoutAttempt ends a claimed delivery that was not sent (its
// endpoint is disabled).
func (s *Store) SettleWithoutAttempt(ctx context.Context, deliveryID string, n int, status, reason string, now time.Time) error {
	_, err := s.db.NewRaw(`UPDATE deliveries SET status = ?, next_attempt_at = NULL, last_error = ?, updated_at = ?
		WHERE id = ? AND attempts = ?`, status, reason, now, deliveryID, n).Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: settle %s: %w", deliveryID, err)
	}
	return nil
}
