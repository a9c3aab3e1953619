package dashboard

import (
	"github.com/hookrelay/hookrelay/internal/relay"
)

// checkFilters refuses list and search filter values longer than
// relay.MaxFilterLen, naming the first such field (names sorted by the
// caller's order).
func checkFilters(names []string, get func(string) string) error {
	for _, n := range names {
		if err := relay.CheckFilter(n, get(n)); err != nil {
			return err
		}
	}
	return nil
}
