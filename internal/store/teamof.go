package store

import (
	"context"
	"fmt"
	"strings"
)

// objectTables are the tables whose rows a dashboard link names, by id
// prefix.
var objectTables = map[string]string{"evt": "events", "dlv": "deliveries", "ep": "endpoints", "src": "sources",
	"bulk": "bulk_jobs"}

// TeamOfObject returns the team an object belongs to, whichever team
// that is, from its id's prefix (evt_, dlv_, ep_, src_, bulk_). It is for
// offering a user a switch to one of their own teams; the caller must
// check the membership before saying anything about the object.
func (s *Store) TeamOfObject(ctx context.Context, id string) (string, error) {
	prefix, _, ok := strings.Cut(id, "_")
	table, known := objectTables[prefix]
	if !ok || !known || len(id) > 64 {
		return "", fmt.Errorf("store: team of %q: %w", id, ErrNotFound)
	}
	var team string
	err := s.db.NewSelect().Table(table).Column("team_id").Where("id = ?", id).Limit(1).Scan(ctx, &team)
	if err != nil {
		return "", notFound(err, table, id)
	}
	return team, nil
}
