package dashboard

import (
	"context"

	"github.com/hookrelay/hookrelay/internal/store"
)

// testEventsOf says which deliveries of a list are of test events (by
// event id), so the endpoint's pages badge them as the events list does.
func (d *Dashboard) testEventsOf(ctx context.Context, teamID string, ds []store.Delivery) (map[string]bool, error) {
	ids := make([]string, 0, len(ds))
	seen := map[string]bool{}
	for _, dl := range ds {
		if !seen[dl.EventID] {
			seen[dl.EventID] = true
			ids = append(ids, dl.EventID)
		}
	}
	return d.Relay.Store().TestEventIDs(ctx, teamID, ids)
}
