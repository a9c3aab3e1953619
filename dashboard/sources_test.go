package dashboard_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/testenv"
)

const whsec = "whsec_dashboard_test_secret_0123456789"

// source creates a Stripe source in team directly.
func (h *harness) source(team, name string) *store.Source {
	h.t.Helper()
	kind, sec := "stripe", whsec
	src, err := h.relay.CreateSource(h.ctx(), relay.SystemActor(team), relay.SourceInput{Name: &name, Provider: &kind, Secret: &sec})
	testenv.Must(h.t, err)
	return src
}

func TestSourcesPages(t *testing.T) {
	h := newHarness(t)
	src := h.source(h.team, "Stripe live")
	viewer := h.signIn("viewer")
	r := viewer.get("/sources")
	wantStatus(t, r, 200)
	wantBody(t, r, "Stripe live", "/sources/"+src.ID)
	r = viewer.get("/sources/" + src.ID)
	wantStatus(t, r, 200)
	wantBody(t, r, "https://hooks.example.test/in/"+src.IngestToken, "whsec_…", "Admins and owners can reveal")
	if strings.Contains(r.body, whsec) {
		t.Fatal("secret shown to a viewer")
	}
	wantStatus(t, viewer.get("/sources/new"), 403)
	wantStatus(t, viewer.get("/sources/"+src.ID+"/edit"), 403)

	member := h.signIn("member")
	r = member.get("/sources/new")
	wantStatus(t, r, 200)
	wantBody(t, r, `data-providers="hmac"`, "used by hmac, token-header")
	wantStatus(t, member.get("/sources/"+src.ID+"/edit"), 200)
}

func TestSourceCreateEditDelete(t *testing.T) {
	h := newHarness(t)
	member, viewer := h.signIn("member"), h.signIn("viewer")
	form := url.Values{"name": {"GitHub"}, "provider": {"github"}, "secret": {"gh-secret-0123456789"},
		"tolerance": {"5m"}} // another provider's field, ignored without JS
	wantStatus(t, viewer.post("/sources", form), 403)
	bad := url.Values{"name": {"GitHub"}, "provider": {"github"}, "secret": {"gh-secret-0123456789"}, "_csrf": {"x"}}
	wantStatus(t, member.post("/sources", bad), 403)
	if n := h.count("sources", ""); n != 0 {
		t.Fatalf("%d sources after refused posts", n)
	}

	r := member.post("/sources", url.Values{"name": {""}, "provider": {"stripe"}, "secret": {"whsec_x"}})
	wantStatus(t, r, 422)
	wantBody(t, r, `id="err-name"`, "is required", "nothing was saved")
	r = member.post("/sources", url.Values{"name": {"H"}, "provider": {"hmac"}, "secret": {"s3cret-value"}, "tolerance": {"banana"}})
	wantStatus(t, r, 422)
	wantBody(t, r, `id="err-config.tolerance"`)
	if strings.Contains(r.body, "s3cret-value") {
		t.Fatal("secret echoed into the form")
	}
	if n := h.count("sources", "") + h.count("audit_log", "action LIKE 'source.%'"); n != 0 {
		t.Fatalf("%d rows after invalid posts", n)
	}

	r = member.post("/sources", form)
	wantStatus(t, r, 303)
	var src store.Source
	testenv.Must(t, h.db.NewSelect().Model(&src).Where("name = 'GitHub'").Scan(h.ctx()))
	if src.Provider != "github" || string(src.Config) != "{}" || r.header.Get("Location") != "/sources/"+src.ID {
		t.Fatalf("source %+v, location %s", src, r.header.Get("Location"))
	}

	r = member.post("/sources/"+src.ID, url.Values{"name": {"GitHub org"}})
	wantStatus(t, r, 303)
	wantStatus(t, member.post("/sources/"+src.ID, url.Values{"name": {" "}}), 422)
	got, err := h.relay.Store().GetSource(h.ctx(), h.team, src.ID)
	testenv.Must(t, err)
	if got.Name != "GitHub org" {
		t.Fatalf("name %q", got.Name)
	}

	wantStatus(t, viewer.post("/sources/"+src.ID+"/delete", nil), 403)
	wantStatus(t, member.post("/sources/"+src.ID+"/delete", nil), 303)
	if n := h.count("sources", ""); n != 0 {
		t.Fatal("not deleted")
	}
}

func TestSourceSecretRevealRotate(t *testing.T) {
	h := newHarness(t)
	src := h.source(h.team, "Stripe")
	member, admin := h.signIn("member"), h.signIn("admin")
	wantStatus(t, member.post("/sources/"+src.ID+"/reveal", nil), 403)
	wantStatus(t, member.post("/sources/"+src.ID+"/rotate", url.Values{"secret": {"whsec_new_one_0123456789"}}), 403)
	wantStatus(t, admin.post("/sources/"+src.ID+"/reveal", url.Values{"_csrf": {""}}), 403)
	if n := h.count("audit_log", "action = 'source.secret.reveal'"); n != 0 {
		t.Fatalf("%d reveal audit rows after refused reveals", n)
	}

	r := admin.post("/sources/"+src.ID+"/reveal", nil)
	wantStatus(t, r, 200)
	wantBody(t, r, whsec, "recorded in the audit log")
	if n := h.count("audit_log", "action = 'source.secret.reveal' AND target_id = ?", src.ID); n != 1 {
		t.Fatalf("%d reveal audit rows", n)
	}

	wantStatus(t, admin.post("/sources/"+src.ID+"/rotate", url.Values{"secret": {""}}), 422)
	r = admin.post("/sources/"+src.ID+"/rotate", url.Values{"secret": {"whsec_rotated_0123456789abcd"}})
	wantStatus(t, r, 303)
	got, err := h.relay.Store().GetSource(h.ctx(), h.team, src.ID)
	testenv.Must(t, err)
	if len(got.Secrets) != 2 || got.Secrets[0].ExpiresAt == nil {
		t.Fatalf("secrets after rotation: %+v", got.Secrets)
	}
}

func TestSourcesTeamIsolation(t *testing.T) {
	h := newHarness(t)
	teamB := h.newTeam("Team B")
	srcB := h.source(teamB, "B's secret source")
	admin := h.signIn("owner")
	r := admin.get("/sources")
	wantStatus(t, r, 200)
	if strings.Contains(r.body, "B&#39;s secret source") || strings.Contains(r.body, srcB.ID) {
		t.Fatal("team B's source listed to team A")
	}
	for _, p := range []string{"/sources/" + srcB.ID, "/sources/" + srcB.ID + "/edit"} {
		wantStatus(t, admin.get(p), 404)
	}
	for _, p := range []string{"", "/delete", "/reveal", "/rotate"} {
		wantStatus(t, admin.post("/sources/"+srcB.ID+p, url.Values{"name": {"x"}, "secret": {"whsec_zzzzzzzzzzzzzz"}}), 404)
	}
	if n := h.count("audit_log", "target_id = ? AND action <> 'source.create'", srcB.ID); n != 0 {
		t.Fatalf("%d audit rows on B's source", n)
	}
}
