package relay_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/secret"
	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/stripefixture"
	"github.com/hookrelay/hookrelay/internal/task"
	"github.com/hookrelay/hookrelay/internal/testenv"
)

func TestSendTestEvent(t *testing.T) {
	db, _ := testenv.Postgres(t)
	st := store.New(db)
	box, err := secret.ParseKeys(secret.NewKey("k1"))
	testenv.Must(t, err)
	log := &taskLog{}
	r := relay.New(relay.Deps{Store: st, Box: box, Enqueuer: log}, relay.Options{})
	ctx := context.Background()
	testenv.Must(t, st.CreateTeam(ctx, &store.Team{ID: "team_a", Name: "A"}))
	a := relay.Actor{TeamID: "team_a", Kind: "user", ID: "u@example.test"}
	src := bulkSource(t, st, "team_a")
	ep := bulkEndpoint(t, st, "team_a", "http://127.0.0.1:1/", src)
	sibling := bulkEndpoint(t, st, "team_a", "http://127.0.0.1:2/", src)
	now := time.Now().UTC()
	lonely := store.NewID("ep")
	testenv.Must(t, st.CreateEndpoint(ctx, &store.Endpoint{ID: lonely, TeamID: "team_a", URL: "http://127.0.0.1:3/",
		Enabled: true, SigningScheme: "none", CreatedAt: now, UpdatedAt: now}))

	var ve *relay.ValidationError
	if _, _, err := r.SendTestEvent(ctx, a, lonely, ""); !errors.As(err, &ve) || ve.Field != "source_ids" {
		t.Fatalf("no source: %v", err)
	}
	if _, _, err := r.SendTestEvent(ctx, a, ep, "two words"); !errors.As(err, &ve) || ve.Field != "event_type" {
		t.Fatalf("bad type: %v", err)
	}
	other := relay.Actor{TeamID: "team_b", Kind: "user", ID: "x"}
	if _, _, err := r.SendTestEvent(ctx, other, ep, ""); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("other team: %v", err)
	}

	ev, d, err := r.SendTestEvent(ctx, a, ep, "")
	testenv.Must(t, err)
	var m map[string]any
	testenv.Must(t, json.Unmarshal(ev.Body, &m))
	if id, _ := m["id"].(string); len(id) < 10 || id[:9] != "evt_test_" || m["api_version"] != "2023-10-16" ||
		m["type"] != relay.DefaultTestEventType || ev.SourceID != src || !ev.Verified {
		t.Fatalf("event %+v body %v", ev, m)
	}
	ds, err := st.DeliveriesOfEvent(ctx, "team_a", ev.ID)
	testenv.Must(t, err)
	if len(ds) != 1 || ds[0].ID != d.ID || ds[0].EndpointID != ep || ds[0].Status != store.StatusPending {
		t.Fatalf("deliveries %+v (sibling %s must get none)", ds, sibling)
	}
	if ts := log.take(task.TypeDeliver); len(ts) != 1 {
		t.Fatalf("%d deliver tasks", len(ts))
	}
	n, err := db.NewSelect().Table("audit_log").Where("action = 'endpoint.test_event' AND target_id = ?", ep).Count(ctx)
	if err != nil || n != 1 {
		t.Fatalf("%d audit rows, %v", n, err)
	}

	enabled := false
	_, err = r.UpdateEndpoint(ctx, a, ep, relay.EndpointInput{Enabled: &enabled})
	testenv.Must(t, err)
	if _, _, err := r.SendTestEvent(ctx, a, ep, ""); !errors.As(err, &ve) || ve.Field != "enabled" {
		t.Fatalf("disabled endpoint: %v", err)
	}
}

// A Stripe source's test event is the fixture of its type (the body
// matches the type); a type without a fixture is refused and stores nothing.
func TestSendTestEventBodyMatchesType(t *testing.T) {
	db, _ := testenv.Postgres(t)
	st := store.New(db)
	box, err := secret.ParseKeys(secret.NewKey("k1"))
	testenv.Must(t, err)
	r := relay.New(relay.Deps{Store: st, Box: box, Enqueuer: &taskLog{}}, relay.Options{})
	ctx := context.Background()
	testenv.Must(t, st.CreateTeam(ctx, &store.Team{ID: "team_a", Name: "A"}))
	a := relay.Actor{TeamID: "team_a", Kind: "user", ID: "u@example.test"}
	ep := bulkEndpoint(t, st, "team_a", "http://127.0.0.1:1/", bulkSource(t, st, "team_a"))
	for _, typ := range []string{"charge.refunded", "checkout.session.completed", "customer.subscription.deleted"} {
		ev, _, err := r.SendTestEvent(ctx, a, ep, typ)
		testenv.Must(t, err)
		var m struct {
			Type string
			Data struct{ Object struct{ Object string } }
		}
		testenv.Must(t, json.Unmarshal(ev.Body, &m))
		if m.Type != typ || m.Data.Object.Object != stripefixture.ObjectOf(typ) {
			t.Fatalf("%s: body type %q object %q", typ, m.Type, m.Data.Object.Object)
		}
	}
	var ve *relay.ValidationError
	if _, _, err := r.SendTestEvent(ctx, a, ep, "customer.created"); !errors.As(err, &ve) || ve.Field != "event_type" {
		t.Fatalf("type without a fixture: %v", err)
	}
	if n, err := db.NewSelect().Table("events").Where("event_type = 'customer.created'").Count(ctx); err != nil || n != 0 {
		t.Fatalf("%d events stored for a refused type, %v", n, err)
	}
	if got := relay.TestEventTypes("stripe"); len(got) != len(stripefixture.Types()) || len(relay.TestEventTypes("github")) != 0 {
		t.Fatalf("TestEventTypes: %v", got)
	}
}
