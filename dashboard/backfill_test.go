package dashboard_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/testenv"
)

// A Stripe source takes an API key (sealed, never shown again) from an
// admin; a member starts a backfill job from the source page, watches its
// progress page and cancels it. Refusals change nothing.
func TestSourceBackfillPages(t *testing.T) {
	h := newHarness(t)
	src := h.source(h.team, "Stripe")
	admin, member, viewer := h.signIn("admin"), h.signIn("member"), h.signIn("viewer")
	const key = "rk_test_51DashboardBackfill0000"

	wantStatus(t, member.post("/sources/"+src.ID+"/api-key", url.Values{"api_key": {key}}), 403)
	r := admin.post("/sources/"+src.ID+"/backfill", url.Values{"since": {"3d"}})
	wantStatus(t, r, 422)
	wantBody(t, r, `id="err-api_key"`, "has no API key")
	r = admin.post("/sources/"+src.ID+"/api-key", url.Values{"api_key": {"pk_test_publishable000"}})
	wantStatus(t, r, 422)
	wantBody(t, r, `id="err-api_key"`)
	if h.count("sources", "api_key_sealed IS NOT NULL")+h.count("backfill_jobs", "") != 0 {
		t.Fatal("refused posts changed something")
	}
	wantStatus(t, admin.post("/sources/"+src.ID+"/api-key", url.Values{"api_key": {key}}), 303)
	r = viewer.get("/sources/" + src.ID)
	wantBody(t, r, "Backfill from Stripe", `badge-ok">set`)
	if strings.Contains(r.body, key) || strings.Contains(admin.get("/sources/"+src.ID).body, key) {
		t.Fatal("API key shown")
	}
	if n := h.count("audit_log", "action = 'source.update' AND details->'after'->>'api_key' = 'set'"); n != 1 {
		t.Fatalf("%d audit rows for the key", n)
	}

	wantStatus(t, viewer.post("/sources/"+src.ID+"/backfill", url.Values{"since": {"3d"}}), 403)
	r = member.post("/sources/"+src.ID+"/backfill", url.Values{"since": {"40d"}})
	wantStatus(t, r, 422)
	wantBody(t, r, `id="err-since"`, "30 days")
	r = member.post("/sources/"+src.ID+"/backfill", url.Values{"since": {"3d"}})
	wantStatus(t, r, 303)
	loc := r.header.Get("Location")
	var job store.BackfillJob
	testenv.Must(t, h.db.NewSelect().Model(&job).Scan(h.ctx()))
	if loc != "/backfills/"+job.ID || job.Status != store.BackfillRunning || job.SourceID != src.ID {
		t.Fatalf("job %+v at %s", job, loc)
	}
	r = viewer.get(loc)
	wantStatus(t, r, 200)
	wantBody(t, r, `<progress id="progress" max="100" value="0">`, "running")
	wantBody(t, viewer.get(loc+"?fragment=1"), "0 pages read")
	wantStatus(t, viewer.post(loc+"/cancel", nil), 403)
	wantStatus(t, member.post(loc+"/cancel", nil), 303)
	wantBody(t, viewer.get(loc), "cancelled", `value="100"`)
	if n := h.count("audit_log", "action IN ('source.backfill.start', 'source.backfill.cancel') AND target_id = ?", src.ID); n != 2 {
		t.Fatalf("%d backfill audit rows", n)
	}
	other := h.signIn("owner", h.newTeam("B"))
	wantStatus(t, other.get(loc), 404)
	// Another team can neither cancel the job nor start one on the source.
	wantStatus(t, other.post(loc+"/cancel", nil), 404)
	wantStatus(t, other.post("/sources/"+src.ID+"/backfill", url.Values{"since": {"3d"}}), 404)
	if n := h.count("audit_log", "action LIKE 'source.backfill.%'"); n != 2 {
		t.Fatalf("%d backfill audit rows after another team's attempts, want 2", n)
	}
}
