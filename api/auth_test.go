package api_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/internal/testenv"
)

func TestAuthRefusesMissingBadAndRevokedTokens(t *testing.T) {
	e := newEnv(t)
	wantError(t, e.do("GET", "/api/v1/sources", "", nil), 401, "unauthorized")
	wantError(t, e.do("GET", "/api/v1/sources", "hr_not-a-real-token", nil), 401, "unauthorized")

	req := httptest.NewRequest("GET", "/api/v1/sources", nil)
	req.Header.Set("Authorization", "Basic "+e.token)
	wantError(t, e.send(req), 401, "unauthorized")

	tok, id := e.newToken(e.team)
	e.call("GET", "/api/v1/sources", nil, 200, nil)
	if r := e.do("GET", "/api/v1/sources", tok, nil); r.Status != 200 {
		t.Fatalf("fresh token: %d %s", r.Status, r.Body)
	}
	testenv.Must(t, e.st.RevokeAPIToken(context.Background(), e.team, id, time.Now()))
	msg := wantError(t, e.do("GET", "/api/v1/sources", tok, nil), 401, "unauthorized")
	if msg != "invalid or revoked token" {
		t.Fatalf("message %q", msg)
	}
	// Revoking one token leaves the others working.
	e.call("GET", "/api/v1/sources", nil, 200, nil)
}

// seeded is one team's worth of objects: a source, an endpoint, an event
// and its delivery.
type seeded struct {
	source, ingestURL, endpoint, event, delivery string
}

func (e *env) seed() seeded {
	e.t.Helper()
	src := e.createSource("stripe")
	ep := e.createEndpoint("http://127.0.0.1:9/hook", nil, str(src, "id"))
	evt := e.ingestStripe(str(src, "ingest_url"), "evt_seed_"+str(src, "id"), "invoice.paid")
	var got struct {
		Deliveries []obj `json:"deliveries"`
	}
	e.call("GET", "/api/v1/events/"+evt, nil, 200, &got)
	if len(got.Deliveries) != 1 {
		e.t.Fatalf("seeded event has %d deliveries", len(got.Deliveries))
	}
	return seeded{source: str(src, "id"), ingestURL: str(src, "ingest_url"), endpoint: str(ep, "id"),
		event: evt, delivery: str(got.Deliveries[0], "id")}
}

func TestReadOnlyTokenReadsButCannotMutate(t *testing.T) {
	e := newEnv(t)
	s := e.seed()
	ro, _ := e.newToken(e.team, "read")
	before := e.auditCount(e.team)

	mutations := []struct{ method, path string }{
		{"POST", "/api/v1/sources"},
		{"PATCH", "/api/v1/sources/" + s.source},
		{"DELETE", "/api/v1/sources/" + s.source},
		{"POST", "/api/v1/sources/" + s.source + "/secret/reveal"},
		{"POST", "/api/v1/endpoints"},
		{"PATCH", "/api/v1/endpoints/" + s.endpoint},
		{"DELETE", "/api/v1/endpoints/" + s.endpoint},
		{"POST", "/api/v1/endpoints/" + s.endpoint + "/enable"},
		{"POST", "/api/v1/endpoints/" + s.endpoint + "/disable"},
		{"POST", "/api/v1/endpoints/" + s.endpoint + "/secret/reveal"},
		{"POST", "/api/v1/endpoints/" + s.endpoint + "/secret/rotate"},
		{"POST", "/api/v1/events/" + s.event + "/redeliver"},
		{"POST", "/api/v1/deliveries/" + s.delivery + "/redeliver"},
	}
	for _, m := range mutations {
		wantError(t, e.do(m.method, m.path, ro, obj{"name": "x"}), 403, "forbidden")
	}
	if n := e.auditCount(e.team); n != before {
		t.Fatalf("refused mutations wrote %d audit rows", n-before)
	}
	e.call("GET", "/api/v1/sources/"+s.source, nil, 200, nil) // still there

	reads := []string{"/api/v1/sources", "/api/v1/sources/" + s.source, "/api/v1/sources/" + s.source + "/rejected",
		"/api/v1/endpoints", "/api/v1/endpoints/" + s.endpoint, "/api/v1/events", "/api/v1/events/" + s.event,
		"/api/v1/deliveries/" + s.delivery, "/api/v1/audit"}
	for _, p := range reads {
		if r := e.do("GET", p, ro, nil); r.Status != 200 {
			t.Fatalf("GET %s with read token: %d %s", p, r.Status, r.Body)
		}
	}
}

func TestTeamIsolation(t *testing.T) {
	e := newEnv(t)
	a := e.seed()
	_, tokB, _ := e.newTeam("Team B")
	// A bulk job of team A's: a replay to an endpoint created after the event.
	late := e.createEndpoint("http://127.0.0.1:9/late", nil, a.source)
	var job obj
	e.call("POST", "/api/v1/endpoints/"+str(late, "id")+"/replay", obj{"since": time.Now().Add(-time.Hour)}, 202, &job)
	beforeA := e.auditCount(e.team)

	notFound := []struct{ method, path string }{
		{"GET", "/api/v1/sources/" + a.source},
		{"PATCH", "/api/v1/sources/" + a.source},
		{"DELETE", "/api/v1/sources/" + a.source},
		{"GET", "/api/v1/sources/" + a.source + "/rejected"},
		{"POST", "/api/v1/sources/" + a.source + "/secret/reveal"},
		{"GET", "/api/v1/endpoints/" + a.endpoint},
		{"PATCH", "/api/v1/endpoints/" + a.endpoint},
		{"DELETE", "/api/v1/endpoints/" + a.endpoint},
		{"POST", "/api/v1/endpoints/" + a.endpoint + "/enable"},
		{"POST", "/api/v1/endpoints/" + a.endpoint + "/disable"},
		{"POST", "/api/v1/endpoints/" + a.endpoint + "/secret/reveal"},
		{"POST", "/api/v1/endpoints/" + a.endpoint + "/secret/rotate"},
		{"GET", "/api/v1/events/" + a.event},
		{"POST", "/api/v1/events/" + a.event + "/redeliver"},
		{"GET", "/api/v1/deliveries/" + a.delivery},
		{"POST", "/api/v1/deliveries/" + a.delivery + "/redeliver"},
		{"POST", "/api/v1/sources/" + a.source + "/rotate-ingest-token"},
		{"POST", "/api/v1/endpoints/" + a.endpoint + "/recover"},
		{"POST", "/api/v1/endpoints/" + a.endpoint + "/pause"},
		{"POST", "/api/v1/endpoints/" + a.endpoint + "/resume"},
		{"POST", "/api/v1/endpoints/" + a.endpoint + "/replay"},
		{"GET", "/api/v1/bulk-jobs/" + str(job, "id")},
		{"POST", "/api/v1/bulk-jobs/" + str(job, "id") + "/cancel"},
		{"GET", "/api/v1/listen?source_id=" + a.source},
	}
	for _, m := range notFound {
		var body any
		if m.method == "PATCH" {
			body = obj{"name": "stolen"}
			if m.path == "/api/v1/endpoints/"+a.endpoint {
				body = obj{"description": "stolen"}
			}
		}
		wantError(t, e.do(m.method, m.path, tokB, body), 404, "not_found")
	}
	if n := e.auditCount(e.team); n != beforeA {
		t.Fatalf("team B's attempts wrote %d audit rows for team A", n-beforeA)
	}
	if e.deliveryStatus(a.delivery) != "pending" {
		t.Fatal("team B changed team A's delivery")
	}

	for _, p := range []string{"/api/v1/sources", "/api/v1/endpoints", "/api/v1/events",
		"/api/v1/events?source_id=" + a.source} {
		r := e.do("GET", p, tokB, nil)
		if r.Status != 200 {
			t.Fatalf("GET %s: %d %s", p, r.Status, r.Body)
		}
		if got := list(t, r); len(got) != 0 {
			t.Fatalf("team B sees %s: %v", p, ids(got))
		}
	}

	// Team B's audit log holds only its own token's creation.
	for _, row := range list(t, e.do("GET", "/api/v1/audit", tokB, nil)) {
		if row["action"] != "api_token.create" || row["team_id"] == e.team {
			t.Fatalf("team B sees audit row %v", row)
		}
	}

	// Team B cannot subscribe its endpoint to team A's source.
	r := e.do("POST", "/api/v1/endpoints", tokB, obj{"url": "http://127.0.0.1:9/", "source_ids": []string{a.source}})
	wantError(t, r, 422, "validation_failed")

	// Team A still sees its own objects.
	for _, p := range []string{"/api/v1/sources", "/api/v1/endpoints", "/api/v1/events"} {
		var got []string
		got = ids(list(t, e.call("GET", p, nil, 200, nil)))
		if !slices.ContainsFunc(got, func(id string) bool { return id == a.source || id == a.endpoint || id == a.event }) {
			t.Fatalf("team A lost its objects in %s: %v", p, got)
		}
	}
}

func TestHealthAndReadiness(t *testing.T) {
	var fail error
	e := newEnvWith(t, envOptions{guard: loopbackGuard(), ready: map[string]func(context.Context) error{
		"redis": func(context.Context) error { return fail }}})
	var h obj
	r := e.do("GET", "/healthz", "", nil)
	r.JSON(t, &h)
	if r.Status != 200 || h["status"] != "ok" {
		t.Fatalf("healthz %d %s", r.Status, r.Body)
	}
	r = e.do("GET", "/readyz", "", nil)
	r.JSON(t, &h)
	if r.Status != 200 || h["status"] != "ready" {
		t.Fatalf("readyz %d %s", r.Status, r.Body)
	}
	fail = errors.New("redis: connection refused")
	r = e.do("GET", "/readyz", "", nil)
	r.JSON(t, &h)
	if r.Status != 503 || h["status"] != "unavailable" || h["error"] != nil {
		t.Fatalf("readyz with a failing check: %d %s", r.Status, r.Body)
	}
}
