package store

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// SubscribersTTL bounds how stale Subscribers may be. A change made through
// this process's Store (endpoint created, updated, enabled, disabled or
// deleted) invalidates the cache at once, so the next ingest sees it; a
// change made by another replica is seen within this bound, like an
// ingest source (relay's sourceTTL). In exchange ingest does no
// subscription query per batch.
const SubscribersTTL = 2 * time.Second

// Subscriber is what ingest needs of an enabled endpoint subscribed to a
// source: where the delivery goes and which event types it takes.
type Subscriber struct {
	ID         string   `bun:"id"`
	EventTypes []string `bun:"event_types,array"`
}

// subsCache holds Subscribers per source, shared by a Store and the
// transactions it starts. gen counts invalidations: an entry loaded under
// an older gen is never used, so a lookup that raced a change cannot put
// the old state back.
type subsCache struct {
	mu  sync.Mutex
	gen uint64
	m   map[string]subsEntry
	now func() time.Time
}

type subsEntry struct {
	subs    []Subscriber
	gen     uint64
	expires time.Time
}

func newSubsCache() *subsCache { return &subsCache{m: map[string]subsEntry{}, now: time.Now} }

func (c *subsCache) invalidate() {
	c.mu.Lock()
	c.gen++
	clear(c.m)
	c.mu.Unlock()
}

// Subscribers returns the enabled endpoints subscribed to a source, from a
// short cache (see SubscribersTTL); the caller filters by event type and
// must not modify the result. Inside a transaction it reads the table.
func (s *Store) Subscribers(ctx context.Context, sourceID string) ([]Subscriber, error) {
	c := s.subs
	if c == nil || s.tx != nil {
		return s.loadSubscribers(ctx, sourceID)
	}
	c.mu.Lock()
	e, ok := c.m[sourceID]
	gen, now := c.gen, c.now()
	c.mu.Unlock()
	if ok && e.gen == gen && now.Before(e.expires) {
		return e.subs, nil
	}
	subs, err := s.loadSubscribers(ctx, sourceID)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.gen == gen {
		if len(c.m) >= 10000 { // bounded: start over rather than grow without limit
			clear(c.m)
		}
		c.m[sourceID] = subsEntry{subs: subs, gen: gen, expires: now.Add(SubscribersTTL)}
	}
	c.mu.Unlock()
	return subs, nil
}

func (s *Store) loadSubscribers(ctx context.Context, sourceID string) ([]Subscriber, error) {
	out := []Subscriber{}
	err := s.db.NewRaw(`SELECT e.id, e.event_types FROM subscriptions sub JOIN endpoints e ON e.id = sub.endpoint_id
		WHERE sub.source_id = ? AND e.enabled ORDER BY e.id`, sourceID).Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("store: subscribers of source %s: %w", sourceID, err)
	}
	return out, nil
}

// subscriptionsChanged invalidates Subscribers after a write to endpoints
// or subscriptions: at once outside a transaction, after the commit
// inside one (an ingest between the write and the commit would otherwise
// cache the old rows under the new generation).
func (s *Store) subscriptionsChanged() {
	switch {
	case s.tx != nil:
		s.tx.subsChanged = true
	case s.subs != nil:
		s.subs.invalidate()
	}
}

// txState is what a transaction's Store records for after the commit.
type txState struct {
	subsChanged bool
}
