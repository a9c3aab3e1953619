package api_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/internal/task"
	"github.com/hookrelay/hookrelay/internal/testenv"
)

// page is one answer of GET /api/v1/events.
type page struct {
	Data       []obj  `json:"data"`
	NextCursor string `json:"next_cursor"`
}

func (e *env) events(query string) page {
	e.t.Helper()
	var p page
	e.call("GET", "/api/v1/events?"+query, nil, 200, &p)
	return p
}

func TestEventListFiltersAndPagination(t *testing.T) {
	e := newEnv(t)
	a, b := e.createSource("a"), e.createSource("b")
	e.createEndpoint("http://127.0.0.1:9/", []string{"invoice.*"}, str(a, "id"))
	ing := func(src obj, id, typ string) string { return e.ingestStripe(str(src, "ingest_url"), id, typ) }

	e1 := ing(a, "evt_1", "invoice.paid")
	e2 := ing(a, "evt_2", "charge.succeeded")
	time.Sleep(5 * time.Millisecond) // event ids carry millisecond times
	mid := time.Now().UTC()
	time.Sleep(5 * time.Millisecond)
	e3 := ing(a, "evt_3", "invoice.created")
	e4 := ing(a, "evt_4", "charge.refunded")
	e5 := ing(b, "evt_1", "invoice.paid") // same provider id, other source: not a duplicate
	if dup := ing(a, "evt_1", "invoice.paid"); dup != e1 {
		t.Fatalf("a provider retry became event %s, want %s", dup, e1)
	}

	all := ids(e.events("").Data)
	if len(all) != 5 || !slices.IsSortedFunc(all, func(x, y string) int { return -cmpStr(x, y) }) {
		t.Fatalf("list %v: want 5 events, newest first", all)
	}
	for _, id := range []string{e1, e2, e3, e4, e5} {
		if !slices.Contains(all, id) {
			t.Fatalf("list %v lacks %s", all, id)
		}
	}

	var seen []string
	cursor, pages := "", 0
	for {
		p := e.events("limit=2&cursor=" + cursor)
		pages++
		seen = append(seen, ids(p.Data)...)
		if p.NextCursor == "" {
			break
		}
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
		cursor = p.NextCursor
	}
	if pages != 3 || !slices.Equal(seen, all) {
		t.Fatalf("%d pages %v, want 3 pages covering %v once", pages, seen, all)
	}

	aID := url.QueryEscape(str(a, "id"))
	filters := map[string][]string{
		"source_id=" + aID:                                 {e1, e2, e3, e4},
		"source_id=" + url.QueryEscape(str(b, "id")):       {e5},
		"event_type=invoice.paid":                          {e1, e5},
		"event_type=invoice.paid&source_id=" + aID:         {e1},
		"status=pending":                                   {e1, e3},
		"status=succeeded":                                 {},
		"since=" + mid.Format(time.RFC3339Nano):            {e3, e4, e5},
		"until=" + mid.Format(time.RFC3339Nano):            {e1, e2},
		"since=" + mid.Add(time.Hour).Format(time.RFC3339): {},
		"event_type=nothing.here":                          {},
	}
	for q, want := range filters {
		got := ids(e.events(q).Data)
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: got %v, want %v", q, got, want)
		}
	}

	var d struct {
		Deliveries []obj `json:"deliveries"`
	}
	e.call("GET", "/api/v1/events/"+e3, nil, 200, &d)
	_, err := e.db.NewRaw("UPDATE deliveries SET status = 'succeeded' WHERE id = ?", str(d.Deliveries[0], "id")).
		Exec(context.Background())
	testenv.Must(t, err)
	if got := ids(e.events("status=succeeded").Data); !slices.Equal(got, []string{e3}) {
		t.Fatalf("status=succeeded: %v", got)
	}

	for _, q := range []string{"status=done", "since=yesterday", "until=2026-13-01T00:00:00Z"} {
		wantError(t, e.do("GET", "/api/v1/events?"+q, e.token, nil), 422, "validation_failed")
	}
}

func cmpStr(x, y string) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// sink is an endpoint that answers 200 "ok" and counts requests.
func sink(t *testing.T) (*httptest.Server, *atomic.Int32) {
	n := new(atomic.Int32)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		_, _ = w.Write([]byte("ok"))
	}))
	t.Cleanup(srv.Close)
	return srv, n
}

func TestEventAndDeliveryDetail(t *testing.T) {
	e := newEnv(t)
	srv, hits := sink(t)
	src := e.createSource("s")
	ep := e.createEndpoint(srv.URL+"/hook", nil, str(src, "id"))
	id := e.ingestStripe(str(src, "ingest_url"), "evt_detail", "invoice.paid")

	var ev obj
	e.call("GET", "/api/v1/events/"+id, nil, 200, &ev)
	body, _ := json.Marshal(ev["body"])
	h := ev["headers"].(map[string]any)
	if str(ev, "provider_event_id") != "evt_detail" || str(ev, "event_type") != "invoice.paid" || ev["verified"] != true ||
		str(ev, "source_id") != str(src, "id") || h["Stripe-Signature"] == nil ||
		string(body) != `{"data":{"object":{"amount":1200}},"id":"evt_detail","object":"event","type":"invoice.paid"}` {
		t.Fatalf("event %v", ev)
	}
	// body_base64 is the exact bytes stored, whatever the JSON view does.
	var stored []byte
	testenv.Must(t, e.db.NewSelect().Table("events").Column("body").Where("id = ?", id).Scan(context.Background(), &stored))
	if raw, err := base64.StdEncoding.DecodeString(str(ev, "body_base64")); err != nil || !bytes.Equal(raw, stored) {
		t.Fatalf("body_base64 = %q (%v), stored %q", raw, err, stored)
	}
	dl := ev["deliveries"].([]any)
	if len(dl) != 1 || str(dl[0].(map[string]any), "endpoint_id") != str(ep, "id") || str(dl[0].(map[string]any), "status") != "pending" {
		t.Fatalf("deliveries %v", dl)
	}
	did := str(dl[0].(map[string]any), "id")
	if lst := e.events("").Data; len(lst) != 1 || lst[0]["body"] != nil || lst[0]["headers"] != nil {
		t.Fatalf("list shows bodies or headers: %v", lst)
	}

	// One attempt, as the worker would make it.
	testenv.Must(t, e.relay.Deliver(context.Background(), task.Deliver{DeliveryID: did, Attempt: 1}))
	var d obj
	e.call("GET", "/api/v1/deliveries/"+did, nil, 200, &d)
	log, _ := d["attempt_log"].([]any)
	if hits.Load() != 1 || str(d, "status") != "succeeded" || d["attempts"] != 1.0 || d["last_status"] != 200.0 || len(log) != 1 {
		t.Fatalf("delivery %v (hits %d)", d, hits.Load())
	}
	at := log[0].(map[string]any)
	rh := at["request_headers"].(map[string]any)
	if at["n"] != 1.0 || at["response_status"] != 200.0 || at["response_body"] != "ok" || at["url"] != srv.URL+"/hook" ||
		at["manual"] != false || rh["Webhook-Signature"] == nil {
		t.Fatalf("attempt %v", at)
	}

	for _, p := range []string{"/api/v1/events/evt_missing", "/api/v1/deliveries/dlv_missing"} {
		wantError(t, e.do("GET", p, e.token, nil), 404, "not_found")
		wantError(t, e.do("POST", p+"/redeliver", e.token, nil), 404, "not_found")
	}
}

func TestRedeliver(t *testing.T) {
	e := newEnv(t)
	srv, _ := sink(t)
	src := e.createSource("s")
	e.createEndpoint(srv.URL, nil, str(src, "id"))
	e.createEndpoint(srv.URL+"/second", nil, str(src, "id"))
	id := e.ingestStripe(str(src, "ingest_url"), "evt_again", "invoice.paid")
	var ev struct {
		Deliveries []obj `json:"deliveries"`
	}
	e.call("GET", "/api/v1/events/"+id, nil, 200, &ev)
	if len(ev.Deliveries) != 2 {
		t.Fatalf("deliveries %v", ev.Deliveries)
	}
	did := str(ev.Deliveries[0], "id")
	testenv.Must(t, e.relay.Deliver(context.Background(), task.Deliver{DeliveryID: did, Attempt: 1}))
	if s := e.deliveryStatus(did); s != "succeeded" {
		t.Fatalf("status %s after the first attempt", s)
	}

	var d obj
	e.call("POST", "/api/v1/deliveries/"+did+"/redeliver", nil, 202, &d)
	if str(d, "status") != "pending" || d["attempts"] != 1.0 || d["next_attempt_at"] == nil || e.deliveryStatus(did) != "pending" {
		t.Fatalf("redelivered %v", d)
	}
	a := e.wantAudit("delivery.redeliver", did)
	if a.TargetKind != "delivery" || a.Details["event_id"] != id || a.Details["before"].(map[string]any)["status"] != "succeeded" {
		t.Fatalf("audit %+v", a)
	}
	if n := e.manualTasks(did); n != 1 {
		t.Fatalf("%d manual tasks queued for %s, want 1", n, did)
	}

	var out struct {
		Data []obj `json:"data"`
	}
	e.call("POST", "/api/v1/events/"+id+"/redeliver", nil, 202, &out)
	if len(out.Data) != 2 || str(out.Data[0], "status") != "pending" || str(out.Data[1], "status") != "pending" {
		t.Fatalf("event redelivery %v", out.Data)
	}
	if a := e.wantAudit("event.redeliver", id); a.TargetKind != "event" || a.Details["deliveries"] != 2.0 {
		t.Fatalf("audit %+v", a)
	}
	for i, x := range ev.Deliveries {
		if n := e.manualTasks(str(x, "id")); n != 2-i {
			t.Fatalf("delivery %s: %d manual tasks, want %d", str(x, "id"), n, 2-i)
		}
	}
	// The event redelivery wrote no per-delivery rows.
	if n := len(e.auditRows("delivery.redeliver", "")); n != 1 {
		t.Fatalf("%d delivery.redeliver rows, want 1", n)
	}
}
