package dashboard_test

import (
	"encoding/csv"
	"regexp"
	"strings"
	"testing"

	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/testenv"
)

var auditID = regexp.MustCompile(`aud_[0-9a-z]{26}`)

var auditRowID = regexp.MustCompile(`<tr id="(aud_[0-9a-z]{26})">`)

func TestAuditPage(t *testing.T) {
	h := newHarness(t)
	w := h.seedWorld(h.team) // source.create and endpoint.create rows, by the system
	_, dlv := h.event(w, "invoice.paid", store.StatusFailed, `{}`)
	owner := h.signIn("owner") // member.add and user.login rows
	viewer := h.signIn("viewer")
	_, err := h.relay.Login(h.ctx(), viewer.user.Email, "wrong password!", "198.51.100.7", "test")
	if err == nil {
		t.Fatal("wrong password accepted")
	}
	testenv.Must(t, h.relay.SetRole(h.ctx(), h.currentOf(owner), "203.0.113.9", viewer.user.ID, "member"))
	wantStatus(t, owner.post("/deliveries/"+dlv+"/redeliver", nil), 303)

	r := viewer.get("/audit")
	wantStatus(t, r, 200)
	wantBody(t, r, "<h1>Audit log</h1>", "user.login_failed", "member.role_change", ">delivery.redeliver<", `href="/deliveries/`+dlv+`"`, ">source.create<", ">endpoint.create<")
	// Before and after of a change, side by side.
	if !regexp.MustCompile(`<th scope="row">role</th><td class="mono">viewer</td><td class="mono">member</td>`).MatchString(r.body) {
		t.Fatalf("role change before/after not shown:\n%s", r.body)
	}

	// A redelivery records only what was before: no empty "After" column.
	r = viewer.get("/audit?action=delivery.redeliver")
	wantBody(t, r, `<th scope="col">Before</th></tr>`, `<th scope="row">status</th><td class="mono">failed</td></tr>`)
	if strings.Contains(r.body, ">After<") {
		t.Fatalf("redelivery shows an After column:\n%s", r.body)
	}

	r = viewer.get("/audit?action=user.login_failed")
	if len(auditRowID.FindAllString(r.body, -1)) != 1 {
		t.Fatalf("action filter:\n%s", r.body)
	}
	// Client addresses are for admins (issue 11 item 14).
	if strings.Contains(r.body, "198.51.100.7") || strings.Contains(viewer.get("/audit").body, "203.0.113.9") {
		t.Fatal("a member sees client IP addresses in the audit log")
	}
	wantBody(t, owner.get("/audit?action=user.login_failed"), "198.51.100.7")
	r = viewer.get("/audit?actor=" + owner.user.Email)
	wantBody(t, r, ">member.role_change<", ">delivery.redeliver<")
	if strings.Contains(r.body, ">source.create<") {
		t.Fatal("actor filter lets the system's rows through")
	}
	wantBody(t, viewer.get("/audit?target="+dlv), "delivery.redeliver")
	if r := viewer.get("/audit?until=2000-01-01T00:00"); strings.Contains(r.body, "aud_") || !strings.Contains(r.body, "Nothing matches") {
		t.Fatal("time filter")
	}
	wantStatus(t, viewer.get("/audit?since=soon"), 422)

	// Pages of 2 cover every row exactly once.
	total := h.count("audit_log", "team_id = ?", h.team)
	seen := map[string]bool{}
	for path, n := "/audit?limit=2", 0; path != ""; n++ {
		if n > 50 {
			t.Fatal("pagination does not end")
		}
		r := viewer.get(path)
		for _, m := range auditRowID.FindAllStringSubmatch(r.body, -1) {
			id := m[1]
			if seen[id] {
				t.Fatalf("%s on two pages", id)
			}
			seen[id] = true
		}
		path = ""
		if m := regexp.MustCompile(`<a href="([^"]+)" rel="next">`).FindStringSubmatch(r.body); m != nil {
			path = strings.ReplaceAll(m[1], "&amp;", "&")
		}
	}
	if len(seen) != total {
		t.Fatalf("pages showed %d rows of %d", len(seen), total)
	}
}

func TestAuditCSV(t *testing.T) {
	h := newHarness(t)
	h.seedWorld(h.team)
	owner := h.signIn("owner")
	for range 3 {
		_, _ = h.relay.Login(h.ctx(), owner.user.Email, "wrong password!", "198.51.100.7", "test")
	}
	r := owner.get("/audit.csv")
	wantStatus(t, r, 200)
	if ct := r.header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Fatalf("content type %q", ct)
	}
	if cd := r.header.Get("Content-Disposition"); !regexp.MustCompile(`^attachment; filename="hookrelay-audit-\d{8}-\d{6}\.csv"$`).MatchString(cd) {
		t.Fatalf("content disposition %q", cd)
	}
	recs, err := csv.NewReader(strings.NewReader(r.body)).ReadAll()
	testenv.Must(t, err)
	if strings.Join(recs[0], ",") != "time,actor,action,target_kind,target_id,ip,details,id" {
		t.Fatalf("header %v", recs[0])
	}
	if len(recs)-1 != h.count("audit_log", "team_id = ?", h.team) {
		t.Fatalf("%d rows exported", len(recs)-1)
	}
	// A viewer's export has the rows without client addresses (issue 11 item 14).
	r = h.signIn("viewer").get("/audit.csv?action=user.login_failed")
	wantStatus(t, r, 200)
	if strings.Contains(r.body, "198.51.100.7") || !strings.Contains(r.body, "user.login_failed") {
		t.Fatalf("a viewer's export:\n%s", r.body)
	}

	r = owner.get("/audit.csv?action=user.login_failed&limit=1")
	recs, err = csv.NewReader(strings.NewReader(r.body)).ReadAll()
	testenv.Must(t, err)
	if len(recs) != 4 {
		t.Fatalf("filtered export has %d lines:\n%s", len(recs), r.body)
	}
	for _, rec := range recs[1:] {
		if rec[1] != "user:"+owner.user.Email || rec[2] != "user.login_failed" || rec[5] != "198.51.100.7" ||
			!auditID.MatchString(rec[7]) {
			t.Fatalf("row %v", rec)
		}
	}
}

// currentOf resolves a client's session like the middleware does.
func (h *harness) currentOf(c *client) *relay.Current {
	h.t.Helper()
	cur, err := h.relay.SessionFromToken(h.ctx(), c.cookie)
	testenv.Must(h.t, err)
	return cur
}

// Issue 11 items 9 and 15: the action and actor filters take patterns and
// suggest the known values; times show seconds with a machine-readable
// datetime for the local-time tooltip.
func TestAuditFilterPatternsAndTimes(t *testing.T) {
	h := newHarness(t)
	h.seedWorld(h.team) // source.create, endpoint.create by system:hookrelay
	owner := h.signIn("owner")
	r := owner.get("/audit?action=endpoint.*")
	wantStatus(t, r, 200)
	if !strings.Contains(r.body, ">endpoint.create<") || strings.Contains(r.body, ">source.create<") {
		t.Fatalf("action endpoint.* does not keep exactly the endpoint rows:\n%s", r.body)
	}
	wantBody(t, r, `<option value="endpoint.pause">`, `<option value="endpoint.*">`, `<option value="`+owner.user.Email+`">`)
	r = owner.get("/audit?actor=system:*")
	if !strings.Contains(r.body, ">source.create<") || strings.Contains(r.body, ">member.add<") && strings.Contains(r.body, owner.user.Email+" <span") {
		t.Fatalf("actor system:* does not keep the system's rows:\n%s", r.body)
	}
	if strings.Contains(r.body, ">user.login<") {
		t.Fatal("actor system:* lets a user's login through")
	}
	if !regexp.MustCompile(`<time datetime="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ" title="[^"]+" data-local>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC</time>`).MatchString(r.body) {
		t.Fatal("audit times lack seconds or the datetime for the local tooltip")
	}
}
