package store

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// Delivery statuses.
const (
	StatusPending   = "pending"
	StatusSucceeded = "succeeded"
	StatusFailed    = "failed"
	StatusCancelled = "cancelled"
)

// Delivery is one event bound for one endpoint.
type Delivery struct {
	bun.BaseModel `bun:"table:deliveries"`

	ID            string     `bun:"id,pk"`
	TeamID        string     `bun:"team_id"`
	EventID       string     `bun:"event_id"`
	EndpointID    string     `bun:"endpoint_id"`
	Status        string     `bun:"status"`
	Attempts      int        `bun:"attempts"`
	NextAttemptAt *time.Time `bun:"next_attempt_at"`
	LastStatus    int        `bun:"last_status"`
	LastError     string     `bun:"last_error"`
	// HeldReason says why a pending delivery waits without an attempt
	// (circuit open, rate limit, …; relay.postpone); empty when not held.
	HeldReason string    `bun:"held_reason"`
	CreatedAt  time.Time `bun:"created_at"`
	UpdatedAt  time.Time `bun:"updated_at"`
}

// Attempt is one HTTP request made for a delivery.
type Attempt struct {
	bun.BaseModel `bun:"table:delivery_attempts"`

	DeliveryID      string              `bun:"delivery_id,pk"`
	N               int                 `bun:"n,pk"`
	StartedAt       time.Time           `bun:"started_at"`
	DurationMS      int                 `bun:"duration_ms"`
	URL             string              `bun:"url"`
	RequestHeaders  map[string][]string `bun:"request_headers,type:jsonb"`
	ResponseStatus  int                 `bun:"response_status"`
	ResponseHeaders map[string][]string `bun:"response_headers,type:jsonb"`
	ResponseBody    []byte              `bun:"response_body"`
	Error           string              `bun:"error"`
	Manual          bool                `bun:"manual"`
}

// InsertDeliveries inserts a batch of deliveries in one statement.
func (s *Store) InsertDeliveries(ctx context.Context, ds []Delivery) error {
	if len(ds) == 0 {
		return nil
	}
	if _, err := s.db.NewInsert().Model(&ds).Exec(ctx); err != nil {
		return fmt.Errorf("store: insert deliveries: %w", err)
	}
	return nil
}

// GetDelivery loads a team's delivery.
func (s *Store) GetDelivery(ctx context.Context, teamID, id string) (*Delivery, error) {
	d := new(Delivery)
	if err := s.db.NewSelect().Model(d).Where("team_id = ? AND id = ?", teamID, id).Scan(ctx); err != nil {
		return nil, notFound(err, "delivery", id)
	}
	return d, nil
}

// DeliveriesOfEvent lists an event's deliveries.
func (s *Store) DeliveriesOfEvent(ctx context.Context, teamID, eventID string) ([]Delivery, error) {
	var out []Delivery
	err := s.db.NewSelect().Model(&out).Where("team_id = ? AND event_id = ?", teamID, eventID).Order("id").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: deliveries of event %s: %w", eventID, err)
	}
	return out, nil
}

// AttemptsOf lists a delivery's attempts in order.
func (s *Store) AttemptsOf(ctx context.Context, deliveryID string) ([]Attempt, error) {
	var out []Attempt
	if err := s.db.NewSelect().Model(&out).Where("delivery_id = ?", deliveryID).Order("n").Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: attempts of %s: %w", deliveryID, err)
	}
	return out, nil
}

// ResetForRedelivery makes a delivery pending and due now, whatever its
// state, and returns it (with the attempt count the next task must carry).
func (s *Store) ResetForRedelivery(ctx context.Context, teamID, id string, now time.Time) (*Delivery, error) {
	d := new(Delivery)
	err := s.db.NewRaw(`UPDATE deliveries SET status = 'pending', next_attempt_at = ?, updated_at = ?
		WHERE team_id = ? AND id = ? RETURNING *`, now, now, teamID, id).Scan(ctx, d)
	if err != nil {
		return nil, notFound(err, "delivery", id)
	}
	return d, nil
}

// DueDelivery is what the sweeper needs to re-enqueue a delivery.
type DueDelivery struct {
	ID         string `bun:"id"`
	Attempts   int    `bun:"attempts"`
	EndpointID string `bun:"endpoint_id"`
}

// DueDeliveries lists pending deliveries due before cutoff, oldest first.
func (s *Store) DueDeliveries(ctx context.Context, cutoff time.Time, limit int) ([]DueDelivery, error) {
	var out []DueDelivery
	err := s.db.NewRaw(`SELECT id, attempts, endpoint_id FROM deliveries WHERE status = 'pending' AND next_attempt_at < ?
		ORDER BY next_attempt_at LIMIT ?`, cutoff, limit).Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("store: due deliveries: %w", err)
	}
	return out, nil
}

// ResetFailedSince makes an endpoint's deliveries that failed since a time
// pending and due now, and returns them (for RecoverEndpoint).
func (s *Store) ResetFailedSince(ctx context.Context, teamID, endpointID string, since, now time.Time) ([]Delivery, error) {
	out := []Delivery{}
	err := s.db.NewRaw(`UPDATE deliveries SET status = 'pending', next_attempt_at = ?, updated_at = ?
		WHERE team_id = ? AND endpoint_id = ? AND status = 'failed' AND updated_at >= ? RETURNING *`,
		now, now, teamID, endpointID, since).Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("store: reset failed deliveries of %s: %w", endpointID, err)
	}
	return out, nil
}
