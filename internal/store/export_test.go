package store

import "time"

// SetSubscribersClock lets a test move the Subscribers cache's clock.
func SetSubscribersClock(s *Store, now func() time.Time) {
	s.subs.mu.Lock()
	s.subs.now = now
	s.subs.mu.Unlock()
}

// The batch statements of the delivery hot path, for plan tests.
var ClaimSQL, PostponeSQL, DeferSQL = claimSQL, postponeSQL, deferSQL
