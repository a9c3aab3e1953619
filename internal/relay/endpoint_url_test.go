package relay_test

import (
	"context"
	"errors"
	"net/netip"
	"testing"

	"github.com/hookrelay/hookrelay/internal/delivery"
	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/secret"
	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/testenv"
)

// Endpoint URLs are judged by where their host resolves, not only when
// they are IP literals: in production (nothing allowed) "localhost" is
// refused at creation and on update, and nothing is stored; in local mode
// (loopback allowed) the same URL is accepted. A host that does not
// resolve is left to the dial-time check.
func TestEndpointURLHostResolvedBySSRFGuard(t *testing.T) {
	db, _ := testenv.Postgres(t)
	st := store.New(db)
	box, err := secret.ParseKeys(secret.NewKey("k1"))
	testenv.Must(t, err)
	ctx := context.Background()
	testenv.Must(t, st.CreateTeam(ctx, &store.Team{ID: "team_a", Name: "A"}))
	src := bulkSource(t, st, "team_a")
	a := relay.Actor{TeamID: "team_a", Kind: "user", ID: "u@example.test"}
	prod := relay.New(relay.Deps{Store: st, Box: box, Guard: delivery.NewGuard(nil)}, relay.Options{})
	local := relay.New(relay.Deps{Store: st, Box: box,
		Guard: delivery.NewGuard([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")})}, relay.Options{})
	create := func(r *relay.Relay, url string) (*store.Endpoint, error) {
		ids := []string{src}
		ep, _, err := r.CreateEndpoint(ctx, a, relay.EndpointInput{URL: &url, SourceIDs: &ids})
		return ep, err
	}

	var ve *relay.ValidationError
	for _, url := range []string{"http://localhost:8080/hook", "http://10.0.0.5/hook"} {
		if _, err := create(prod, url); !errors.As(err, &ve) || ve.Field != "url" {
			t.Fatalf("production guard, %s: %v, want a url validation error", url, err)
		}
	}
	if n, _ := db.NewSelect().Table("endpoints").Count(ctx); n != 0 {
		t.Fatalf("%d endpoints stored after refusals", n)
	}
	ep, err := create(local, "http://localhost:8080/hook")
	testenv.Must(t, err)
	if _, err := create(prod, "http://hooks.example.invalid/hook"); err != nil {
		t.Fatalf("unresolvable host refused at creation: %v", err)
	}
	bad := "http://localhost:9090/other"
	if _, err := prod.UpdateEndpoint(ctx, a, ep.ID, relay.EndpointInput{URL: &bad}); !errors.As(err, &ve) || ve.Field != "url" {
		t.Fatalf("production guard, update to localhost: %v", err)
	}
	got, err := st.GetEndpoint(ctx, "team_a", ep.ID)
	testenv.Must(t, err)
	if got.URL != "http://localhost:8080/hook" {
		t.Fatalf("refused update changed the url to %s", got.URL)
	}
}
