package dashboard_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/testenv"
)

// Issue 11 item 10: an endpoint's delivery log pages through every
// delivery by cursor, filters by status, and charts its attempts' success
// rate and p50/p95 latency.
func TestEndpointDeliveryLog(t *testing.T) {
	h := newHarness(t)
	w := h.seedWorld(h.team)
	h.events(w, "invoice.paid", store.StatusFailed, 5)
	_, ok := h.event(w, "invoice.paid", store.StatusSucceeded, `{}`) // the delivery's id
	// Durations 10..50 ms for the failed ones (500s), 1000 ms for the 2xx.
	// All at one instant, so they share a bucket whatever the clock says.
	_, err := h.db.NewRaw(`UPDATE delivery_attempts SET started_at = (SELECT min(started_at) FROM delivery_attempts)`).Exec(h.ctx())
	testenv.Must(t, err)
	_, err = h.db.NewRaw(`UPDATE delivery_attempts a SET duration_ms = 10 * (1 + (SELECT count(*) FROM deliveries x
		WHERE x.endpoint_id = d.endpoint_id AND x.id < d.id)) FROM deliveries d WHERE d.id = a.delivery_id`).Exec(h.ctx())
	testenv.Must(t, err)
	_, err = h.db.NewRaw(`UPDATE delivery_attempts SET response_status = 200, error = '', duration_ms = 1000
		WHERE delivery_id = ?`, ok).Exec(h.ctx())
	testenv.Must(t, err)
	v := h.signIn("viewer")
	base := "/endpoints/" + w.ep.ID + "/deliveries"

	wantBody(t, v.get("/endpoints/"+w.ep.ID), `href="`+base+`"`)
	seen := map[string]bool{}
	next := regexp.MustCompile(`<a href="([^"]+)" rel="next">`)
	for path, n := base+"?limit=2", 0; path != ""; n++ {
		if n > 10 {
			t.Fatal("pagination does not end")
		}
		r := v.get(path)
		wantStatus(t, r, 200)
		for _, m := range regexp.MustCompile(`href="/deliveries/(dlv_[0-9a-z]+)"`).FindAllStringSubmatch(r.body, -1) {
			if seen[m[1]] {
				t.Fatalf("%s on two pages", m[1])
			}
			seen[m[1]] = true
		}
		path = ""
		if m := next.FindStringSubmatch(r.body); m != nil {
			path = strings.ReplaceAll(m[1], "&amp;", "&")
		}
	}
	if len(seen) != 6 {
		t.Fatalf("the pages showed %d deliveries of 6", len(seen))
	}
	r := v.get(base + "?status=succeeded")
	if n := len(regexp.MustCompile(`href="/deliveries/dlv_`).FindAllString(r.body, -1)); n != 1 {
		t.Fatalf("status=succeeded shows %d deliveries", n)
	}
	wantStatus(t, v.get(base+"?status=lost"), 422)

	// One hour holds the 6 attempts, 1 succeeded (17%), durations 10..50
	// and 1000 ms (which hour is the clock's business: found by its count).
	r = v.get(base)
	wantBody(t, r, `<svg class="chart"`, "Success rate", "Latency")
	row := regexp.MustCompile(`<tr><td>\d\d:00</td><td>([1-9]\d*)</td><td>([^<]+)</td><td>([^<]+)</td><td>([^<]+)</td></tr>`).FindStringSubmatch(r.body)
	if row == nil {
		t.Fatalf("no table row with attempts:\n%s", r.body)
	}
	// p50 of {10,20,30,40,50,1000} is 35; p95 is 762.5 (linear interpolation).
	if row[1] != "6" || row[2] != "17%" || row[3] != "35 ms" || row[4] != "762 ms" && row[4] != "763 ms" {
		t.Fatalf("this hour's stats %q", row[1:])
	}
	wantStatus(t, v.get(base+"?range=7d"), 200)
	wantStatus(t, v.get(base+"?range=1y"), 422)
}

// Issue 11 item 5: a test event's delivery carries the test badge in the
// endpoint's recent deliveries and in its delivery log, and a real one
// does not; also when the test event is stored away from its id's time
// (the lookup then reads every partition rather than call it real).
func TestEndpointDeliveriesBadgeTestEvents(t *testing.T) {
	h := newHarness(t)
	w := h.seedWorld(h.team)
	_, real := h.event(w, "invoice.paid", store.StatusFailed, `{}`)
	_, test, err := h.relay.SendTestEvent(h.ctx(), relay.SystemActor(h.team), w.ep.ID, "invoice.paid")
	testenv.Must(t, err)
	_, old, err := h.relay.SendTestEvent(h.ctx(), relay.SystemActor(h.team), w.ep.ID, "invoice.paid")
	testenv.Must(t, err)
	_, err = h.db.NewRaw(`UPDATE events SET received_at = received_at - interval '3 days' WHERE id = (SELECT event_id FROM deliveries WHERE id = ?)`, old.ID).Exec(h.ctx())
	testenv.Must(t, err)
	v := h.signIn("viewer")
	for _, path := range []string{"/endpoints/" + w.ep.ID, "/endpoints/" + w.ep.ID + "/deliveries"} {
		r := v.get(path)
		wantStatus(t, r, 200)
		for _, id := range []string{test.ID, old.ID} {
			if row := deliveryRow(t, r.body, id); !strings.Contains(row, `class="badge badge-test"`) {
				t.Fatalf("%s: delivery %s of a test event has no test badge: %s", path, id, row)
			}
		}
		if row := deliveryRow(t, r.body, real); strings.Contains(row, "badge-test") {
			t.Fatalf("%s: a real event's delivery is badged as a test: %s", path, row)
		}
	}
}

// deliveryRow is the table row of body that links to delivery id.
func deliveryRow(t *testing.T, body, id string) string {
	t.Helper()
	i := strings.Index(body, `href="/deliveries/`+id+`"`)
	if i < 0 {
		t.Fatalf("no row for %s", id)
	}
	start := strings.LastIndex(body[:i], "<tr")
	end := strings.Index(body[i:], "</tr>")
	return body[start : i+end]
}
