package store

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"
)

// Re-keying (`hookrelay secrets rekey`) reads the rows whose encrypted
// values are not all sealed with one key, a batch at a time in id order,
// locked for the batch's transaction. The filters are in SQL so a re-run
// after an interruption reads only what is left.

// sourcesToRekey narrows q to the sources holding plaintext (an ingest
// token from before migration 0007) or, unless f.PlaintextOnly, a value
// sealed with a key other than f.KeyID.
func sourcesToRekey(q *bun.SelectQuery, f RekeyFilter) *bun.SelectQuery {
	if f.PlaintextOnly {
		return q.Where("source.ingest_token IS NOT NULL")
	}
	return q.Where(`(source.ingest_token IS NOT NULL
		OR split_part(source.ingest_token_sealed, ':', 2) <> ?
		OR split_part(source.api_key_sealed, ':', 2) <> ?
		OR EXISTS (SELECT 1 FROM jsonb_array_elements(source.secrets) s WHERE s->>'kid' IS DISTINCT FROM ?))`, f.KeyID, f.KeyID, f.KeyID)
}

// endpointsToRekey is sourcesToRekey for endpoints: their secrets and
// custom header values.
func endpointsToRekey(q *bun.SelectQuery, f RekeyFilter) *bun.SelectQuery {
	if f.PlaintextOnly {
		return q.Where(`EXISTS (SELECT 1 FROM jsonb_each_text(endpoint.headers) h WHERE h.value NOT LIKE 'enc1:%')`)
	}
	return q.Where(`(EXISTS (SELECT 1 FROM jsonb_each_text(endpoint.headers) h
			WHERE h.value NOT LIKE 'enc1:%' OR split_part(h.value, ':', 2) <> ?)
		OR EXISTS (SELECT 1 FROM jsonb_array_elements(endpoint.secrets) s WHERE s->>'kid' IS DISTINCT FROM ?))`, f.KeyID, f.KeyID)
}

// RekeyFilter selects the rows a re-keying pass still has to change.
type RekeyFilter struct {
	// KeyID is the newest key: rows sealed only with it are done.
	KeyID string
	// PlaintextOnly matches only values not sealed at all.
	PlaintextOnly bool
	// After is the id the previous batch ended at.
	After string
	Limit int
}

// CountSourcesToRekey counts the sources a pass has left to change.
func (s *Store) CountSourcesToRekey(ctx context.Context, f RekeyFilter) (int, error) {
	n, err := sourcesToRekey(s.db.NewSelect().Model((*Source)(nil)), f).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: count sources to rekey: %w", err)
	}
	return int(n), nil
}

// SourcesToRekey locks and returns the next batch of sources to change.
func (s *Store) SourcesToRekey(ctx context.Context, f RekeyFilter) ([]Source, error) {
	var out []Source
	err := sourcesToRekey(s.db.NewSelect().Model(&out).Where("source.id > ?", f.After), f).
		Order("source.id").Limit(int64(f.Limit)).For("UPDATE").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: sources to rekey: %w", err)
	}
	return out, nil
}

// SaveSourceSealed stores a source's re-sealed secrets, API key and ingest token,
// clearing the plaintext token column.
func (s *Store) SaveSourceSealed(ctx context.Context, src *Source) error {
	_, err := s.db.NewUpdate().Model(src).Column("secrets", "ingest_token_sealed", "ingest_token", "api_key_sealed").
		Where("id = ?", src.ID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: save sealed source %s: %w", src.ID, err)
	}
	return nil
}

// CountEndpointsToRekey counts the endpoints a pass has left to change.
func (s *Store) CountEndpointsToRekey(ctx context.Context, f RekeyFilter) (int, error) {
	n, err := endpointsToRekey(s.db.NewSelect().Model((*Endpoint)(nil)), f).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: count endpoints to rekey: %w", err)
	}
	return int(n), nil
}

// EndpointsToRekey locks and returns the next batch of endpoints to change.
func (s *Store) EndpointsToRekey(ctx context.Context, f RekeyFilter) ([]Endpoint, error) {
	var out []Endpoint
	err := endpointsToRekey(s.db.NewSelect().Model(&out).Where("endpoint.id > ?", f.After), f).
		Order("endpoint.id").Limit(int64(f.Limit)).For("UPDATE").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: endpoints to rekey: %w", err)
	}
	return out, nil
}

// SaveEndpointSealed stores an endpoint's re-sealed secrets and headers.
func (s *Store) SaveEndpointSealed(ctx context.Context, ep *Endpoint) error {
	ep.fill()
	_, err := s.db.NewUpdate().Model(ep).Column("secrets", "headers").Where("id = ?", ep.ID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: save sealed endpoint %s: %w", ep.ID, err)
	}
	return nil
}
