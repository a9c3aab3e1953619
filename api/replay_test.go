package api_test

import (
	"testing"
	"time"
)

// Pause, resume and replay through the API, with the job read back where
// bulk jobs are; bad input is refused and changes nothing.
func TestEndpointPauseResumeReplay(t *testing.T) {
	e := newEnv(t)
	src := e.createSource("s")
	id := str(e.createEndpoint("http://127.0.0.1:9/a", []string{"invoice.*"}, str(src, "id")), "id")
	p := "/api/v1/endpoints/" + id
	var ep obj
	e.call("POST", p+"/pause", nil, 200, &ep)
	if ep["paused_at"] == nil || ep["enabled"] != true {
		t.Fatalf("paused %v", ep)
	}
	e.call("POST", p+"/pause", nil, 200, nil)
	e.ingestStripe(str(src, "ingest_url"), "evt_paused", "invoice.paid")
	var held int
	if err := e.db.NewRaw("SELECT count(*) FROM deliveries WHERE endpoint_id = ?", id).Scan(t.Context(), &held); err != nil || held != 1 {
		t.Fatalf("a paused endpoint got %d deliveries (%v), want 1", held, err)
	}
	var res obj
	e.call("POST", p+"/resume", nil, 200, &res)
	if res["endpoint"].(map[string]any)["paused_at"] != nil {
		t.Fatalf("resumed %v", res)
	}
	if len(e.auditRows("endpoint.pause", id)) != 1 || len(e.auditRows("endpoint.resume", id)) != 1 {
		t.Fatal("want one endpoint.pause and one endpoint.resume row")
	}

	e.call("POST", p+"/disable", nil, 200, nil)
	e.ingestStripe(str(src, "ingest_url"), "evt_missed_1", "invoice.paid")
	e.ingestStripe(str(src, "ingest_url"), "evt_missed_2", "invoice.created")
	e.ingestStripe(str(src, "ingest_url"), "evt_other", "charge.succeeded")

	var pre obj
	e.call("POST", p+"/replay", obj{"dry_run": true}, 200, &pre)
	if pre["events"] != 2.0 || pre["failed"] != 0.0 || pre["dry_run"] != true {
		t.Fatalf("dry run %v", pre)
	}
	wantError(t, e.do("POST", p+"/replay", e.token, obj{}), 422, "validation_failed")
	wantError(t, e.do("POST", p+"/replay", e.token, obj{"since": "yesterday"}), 422, "validation_failed")
	wantError(t, e.do("POST", p+"/replay", e.token, obj{"since": time.Now().Add(time.Hour)}), 422, "validation_failed")
	wantError(t, e.do("POST", p+"/replay", e.token, obj{"sinse": time.Now()}), 422, "validation_failed")
	wantError(t, e.do("POST", "/api/v1/endpoints/ep_missing/replay", e.token, obj{"dry_run": true}), 404, "not_found")
	var jobs int
	if err := e.db.NewRaw("SELECT count(*) FROM bulk_jobs").Scan(t.Context(), &jobs); err != nil || jobs != 0 {
		t.Fatalf("%d jobs after refused replays (%v)", jobs, err)
	}

	e.call("POST", p+"/enable", nil, 200, nil)
	var job obj
	e.call("POST", p+"/replay", obj{"since": time.Now().Add(-time.Hour), "include_failed": true}, 202, &job)
	if job["kind"] != "replay" || job["total"] != 2.0 || job["status"] != "running" {
		t.Fatalf("job %v", job)
	}
	var got obj
	e.call("GET", "/api/v1/bulk-jobs/"+str(job, "id"), nil, 200, &got)
	if got["id"] != job["id"] || got["filter"].(map[string]any)["endpoint_id"] != id {
		t.Fatalf("job read back %v", got)
	}
	if a := e.wantAudit("endpoint.replay", id); a.Details["events"] != 2.0 || a.Details["include_failed"] != true {
		t.Fatalf("replay audit %v", a.Details)
	}
	e.call("POST", "/api/v1/bulk-jobs/"+str(job, "id")+"/cancel", nil, 200, &got)
	if got["status"] != "cancelled" {
		t.Fatalf("cancelled %v", got)
	}
	wantError(t, e.do("GET", "/api/v1/bulk-jobs/bulk_missing", e.token, nil), 404, "not_found")
}
