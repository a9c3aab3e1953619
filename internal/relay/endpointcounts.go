package relay

import (
	"context"
	"fmt"
)

// EndpointStates counts the installation's endpoints by state: "disabled"
// (enabled false: by hand, after a 410, or auto-disabled after failing too
// long), "paused" (enabled but held) and "enabled". Every state is in the
// map, 0 when none, so a gauge read at scrape time never goes missing.
func (r *Relay) EndpointStates(ctx context.Context) (map[string]int, error) {
	var rows []struct {
		State string `bun:"state"`
		N     int    `bun:"n"`
	}
	err := r.st.DB().NewRaw(`SELECT CASE WHEN NOT enabled THEN 'disabled' WHEN paused_at IS NOT NULL THEN 'paused'
		ELSE 'enabled' END AS state, count(*) AS n FROM endpoints GROUP BY 1`).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("relay: endpoint states: %w", err)
	}
	out := map[string]int{"disabled": 0, "paused": 0, "enabled": 0}
	for _, row := range rows {
		out[row.State] = row.N
	}
	return out, nil
}
