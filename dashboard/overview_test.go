package dashboard_test

import (
	"strings"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/internal/provider"
	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/testenv"
)

// ingest stores an event on src with deliveries to its endpoints.
func (h *harness) ingest(src *store.Source, verified bool) string {
	h.t.Helper()
	res, err := h.relay.Ingest(h.ctx(), []relay.Inbound{{Source: src, Body: []byte(`{"type":"x"}`), ReceivedAt: time.Now(),
		Result: providerResult("x", verified)}})
	testenv.Must(h.t, err)
	return res[0].EventID
}

func TestOverview(t *testing.T) {
	h := newHarness(t)
	src := h.source(h.team, "Stripe")
	ok := h.endpoint(h.team, "http://127.0.0.1:9/fine", src)
	bad := h.endpoint(h.team, "http://127.0.0.1:9/broken", src)
	for range 3 {
		h.ingest(src, true)
	}
	_, err := h.db.NewRaw(`UPDATE deliveries SET status = 'succeeded', attempts = 1, last_status = 200 WHERE endpoint_id = ?`, ok.ID).Exec(h.ctx())
	testenv.Must(t, err)
	_, err = h.db.NewRaw(`UPDATE deliveries SET status = 'failed', attempts = 3, last_status = 503, last_error = 'boom' WHERE endpoint_id = ?`, bad.ID).Exec(h.ctx())
	testenv.Must(t, err)
	// "Last attempt" comes from the attempts themselves, not the deliveries.
	_, err = h.db.NewRaw(`INSERT INTO delivery_attempts (delivery_id, n, started_at, duration_ms, url, response_status, error)
		SELECT id, 3, now(), 12, 'http://127.0.0.1:9/broken', 503, 'boom' FROM deliveries WHERE endpoint_id = ?`, bad.ID).Exec(h.ctx())
	testenv.Must(t, err)
	kind, name := "none", "Open"
	open, err := h.relay.CreateSource(h.ctx(), relay.SystemActor(h.team), relay.SourceInput{Name: &name, Provider: &kind})
	testenv.Must(t, err)
	unv := h.ingest(open, false)
	teamB := h.newTeam("B")
	srcB := h.source(teamB, "B")
	h.endpoint(teamB, "http://127.0.0.1:9/b-endpoint", srcB)
	evB := h.ingest(srcB, true)

	viewer := h.signIn("viewer")
	r := viewer.get("/")
	wantStatus(t, r, 200)
	wantBody(t, r, "<svg", `role="img"`, "Last 24 hours", "Last 7 days",
		"<strong>4</strong> events · <strong>3</strong> delivered · <strong>3</strong> failed",
		"http://127.0.0.1:9/broken", "HTTP 503", "boom", "0% of 3 deliveries succeeded")
	if strings.Contains(r.body, "http://127.0.0.1:9/fine</a>") {
		t.Fatal("healthy endpoint listed as needing attention")
	}
	i := strings.Index(r.body, unv)
	if i < 0 || !strings.Contains(r.body[i:i+200], "unverified") {
		t.Fatal("unverified event not marked")
	}
	if strings.Contains(r.body, evB) || strings.Contains(r.body, "b-endpoint") {
		t.Fatal("team B's data on team A's overview")
	}
	r = viewer.get("/endpoints")
	if a, b := strings.Index(r.body, "/broken"), strings.Index(r.body, "/fine"); a < 0 || b < 0 || a > b {
		t.Fatal("failing endpoint not listed first")
	}
	wantBody(t, r, "100%")
}

func providerResult(typ string, verified bool) provider.Result {
	return provider.Result{EventType: typ, Verified: verified}
}

func TestOverviewEmpty(t *testing.T) {
	h := newHarness(t)
	member := h.signIn("member")
	r := member.get("/")
	wantStatus(t, r, 200)
	wantBody(t, r, "No traffic in this period", `<a href="/sources/new">Create a source</a>`)
	if strings.Contains(r.body, `fill="#57606a">1</text>`) {
		t.Fatal("an empty chart shows a scale of 1")
	}
	h.source(h.team, "Stripe")
	r = member.get("/")
	wantBody(t, r, `<a href="/endpoints/new">Create an endpoint</a>`)
	if strings.Contains(r.body, "Create a source") {
		t.Fatal("asks for a source although one exists")
	}
}
