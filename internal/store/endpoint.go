package store

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// Endpoint is where deliveries go.
type Endpoint struct {
	bun.BaseModel `bun:"table:endpoints"`

	ID             string            `bun:"id,pk"`
	TeamID         string            `bun:"team_id"`
	URL            string            `bun:"url"`
	Description    string            `bun:"description"`
	Enabled        bool              `bun:"enabled"`
	DisabledReason string            `bun:"disabled_reason"`
	EventTypes     []string          `bun:"event_types,array"`
	SigningScheme  string            `bun:"signing_scheme"`
	Secrets        []Secret          `bun:"secrets,type:jsonb"`
	Headers        map[string]string `bun:"headers,type:jsonb"`
	TimeoutMS      int               `bun:"timeout_ms"`
	RetrySchedule  string            `bun:"retry_schedule"`
	RateLimit      int               `bun:"rate_limit"`
	MaxInFlight    int               `bun:"max_in_flight"`
	FailingSince   *time.Time        `bun:"failing_since"`
	DisabledAt     *time.Time        `bun:"disabled_at"`
	// PausedAt is set while the endpoint is paused: deliveries are still
	// created for it, and held until it is resumed (pause.go).
	PausedAt *time.Time `bun:"paused_at"`
	// LastDisabledAt and ReenabledAt bound the last time the endpoint was
	// disabled (ReenabledAt nil: it still is); kept after it is enabled
	// again, for counting and replaying the events it missed.
	LastDisabledAt *time.Time `bun:"last_disabled_at"`
	ReenabledAt    *time.Time `bun:"reenabled_at"`
	CreatedAt      time.Time  `bun:"created_at"`
	UpdatedAt      time.Time  `bun:"updated_at"`

	// SourceIDs is filled from subscriptions by the loaders.
	SourceIDs []string `bun:"source_ids,array,scanonly"`
}

const endpointSourcesColumn = `ARRAY(SELECT source_id FROM subscriptions s WHERE s.endpoint_id = endpoint.id ORDER BY source_id) AS source_ids`

// fill replaces nil collections, which would be stored as NULL.
func (ep *Endpoint) fill() {
	if ep.EventTypes == nil {
		ep.EventTypes = []string{}
	}
	if ep.Secrets == nil {
		ep.Secrets = []Secret{}
	}
	if ep.Headers == nil {
		ep.Headers = map[string]string{}
	}
}

// CreateEndpoint inserts an endpoint with its subscriptions.
func (s *Store) CreateEndpoint(ctx context.Context, ep *Endpoint) error {
	ep.fill()
	if _, err := s.db.NewInsert().Model(ep).Exec(ctx); err != nil {
		return fmt.Errorf("store: create endpoint: %w", err)
	}
	return s.setSubscriptions(ctx, ep)
}

// UpdateEndpoint saves every editable field and the subscriptions.
func (s *Store) UpdateEndpoint(ctx context.Context, ep *Endpoint) error {
	ep.fill()
	res, err := s.db.NewUpdate().Model(ep).
		Column("url", "description", "enabled", "disabled_reason", "event_types", "signing_scheme",
			"secrets", "headers", "timeout_ms", "retry_schedule", "rate_limit", "max_in_flight", "disabled_at",
			"last_disabled_at", "reenabled_at", "updated_at").
		Where("team_id = ? AND id = ?", ep.TeamID, ep.ID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: update endpoint %s: %w", ep.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: update endpoint %s: %w", ep.ID, ErrNotFound)
	}
	return s.setSubscriptions(ctx, ep)
}

func (s *Store) setSubscriptions(ctx context.Context, ep *Endpoint) error {
	defer s.subscriptionsChanged()
	if _, err := s.db.NewRaw(`DELETE FROM subscriptions WHERE endpoint_id = ?`, ep.ID).Exec(ctx); err != nil {
		return fmt.Errorf("store: subscriptions of %s: %w", ep.ID, err)
	}
	if len(ep.SourceIDs) == 0 {
		return nil
	}
	// Only the team's own sources can be subscribed; a foreign id is not found.
	res, err := s.db.NewRaw(`INSERT INTO subscriptions (endpoint_id, source_id)
		SELECT ?, id FROM sources WHERE team_id = ? AND id IN (?)`, ep.ID, ep.TeamID, bun.In(ep.SourceIDs)).Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: subscriptions of %s: %w", ep.ID, err)
	}
	if n, _ := res.RowsAffected(); int(n) != len(ep.SourceIDs) {
		return fmt.Errorf("store: subscriptions of %s: source %w", ep.ID, ErrNotFound)
	}
	return nil
}

// GetEndpoint loads a team's endpoint with its source ids.
func (s *Store) GetEndpoint(ctx context.Context, teamID, id string) (*Endpoint, error) {
	ep := new(Endpoint)
	err := s.db.NewSelect().Model(ep).Column("endpoint.*").ColumnExpr(endpointSourcesColumn).
		Where("team_id = ? AND id = ?", teamID, id).Scan(ctx)
	if err != nil {
		return nil, notFound(err, "endpoint", id)
	}
	return ep, nil
}

// ListEndpoints returns a team's endpoints, oldest first.
func (s *Store) ListEndpoints(ctx context.Context, teamID string) ([]Endpoint, error) {
	var out []Endpoint
	err := s.db.NewSelect().Model(&out).Column("endpoint.*").ColumnExpr(endpointSourcesColumn).
		Where("team_id = ?", teamID).Order("id").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: list endpoints: %w", err)
	}
	return out, nil
}

// SubscribedEndpoints returns the enabled endpoints subscribed to a source;
// the caller filters by event type.
func (s *Store) SubscribedEndpoints(ctx context.Context, sourceID string) ([]Endpoint, error) {
	var out []Endpoint
	err := s.db.NewSelect().Model(&out).
		Join("JOIN subscriptions AS sub ON sub.endpoint_id = endpoint.id").
		Where("sub.source_id = ? AND endpoint.enabled", sourceID).Order("endpoint.id").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: endpoints of source %s: %w", sourceID, err)
	}
	return out, nil
}

// SetEndpointEnabled enables or disables an endpoint with a reason; see
// SwitchEndpoint.
func (s *Store) SetEndpointEnabled(ctx context.Context, teamID, id string, enabled bool, reason string, now time.Time) error {
	_, err := s.SwitchEndpoint(ctx, teamID, id, enabled, reason, now)
	return err
}

// DeleteEndpoint removes an endpoint and cancels its pending deliveries.
func (s *Store) DeleteEndpoint(ctx context.Context, teamID, id string, now time.Time) error {
	res, err := s.db.NewDelete().Model((*Endpoint)(nil)).Where("team_id = ? AND id = ?", teamID, id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: delete endpoint %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: delete endpoint %s: %w", id, ErrNotFound)
	}
	s.subscriptionsChanged()
	_, err = s.db.NewRaw(`UPDATE deliveries SET status = 'cancelled', last_error = 'endpoint deleted', updated_at = ?
		WHERE endpoint_id = ? AND status = 'pending'`, now, id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: cancel deliveries of %s: %w", id, err)
	}
	return nil
}
