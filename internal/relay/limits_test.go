package relay_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/store"
)

// Account fields the REST API does not reach (user name and email, API
// token and team names) have their limits in the use cases, so the
// dashboard, the invite page and the CLI all refuse the same.
func TestAccountFieldLimits(t *testing.T) {
	ctx := context.Background()
	r, st, team := newRelay(t, nil)
	sys := relay.SystemActor(team)
	long := strings.Repeat("a", 201)
	field := func(err error) string {
		var ve *relay.ValidationError
		if !errors.As(err, &ve) {
			return "not a validation error: " + errString(err)
		}
		return ve.Field
	}
	if _, err := r.CreateUser(ctx, sys, "ann@example.com", long, "correct horse battery", team, "owner"); field(err) != "name" {
		t.Errorf("user name of 201: %v", err)
	}
	if _, err := r.CreateUser(ctx, sys, strings.Repeat("a", 250)+"@example.com", "Ann", "correct horse battery", team, "owner"); field(err) != "email" {
		t.Errorf("email of 262: %v", err)
	}
	if _, _, err := r.CreateToken(ctx, sys, long, nil); field(err) != "name" {
		t.Errorf("token name of 201: %v", err)
	}
	if _, err := r.StartBulk(ctx, sys, store.BulkFilter{EventType: long}); field(err) != "event_type" {
		t.Errorf("bulk event type of 201: %v", err)
	}
	if n, err := st.CountUsers(ctx); err != nil || n != 0 {
		t.Errorf("refused users stored: %d %v", n, err)
	}
	if _, err := r.CreateUser(ctx, sys, "ann@example.com", strings.Repeat("a", 200), "correct horse battery", team, "owner"); err != nil {
		t.Errorf("a name at the limit: %v", err)
	}
}

func errString(err error) string {
	if err == nil {
		return "nil"
	}
	return err.Error()
}
