package api_test

import (
	"bytes"
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/internal/testenv"
)

func TestEndpointCreateRefusesBadInput(t *testing.T) {
	e := newEnv(t)
	before := e.auditCount(e.team)
	ok := "https://hooks.example.com/in"
	cases := []struct {
		name  string
		body  any
		code  string
		field string
	}{
		{"missing url", obj{"description": "x"}, "validation_failed", "url"},
		{"ftp scheme", obj{"url": "ftp://example.com/x"}, "validation_failed", "url"},
		{"no host", obj{"url": "http:///path"}, "validation_failed", "url"},
		{"relative", obj{"url": "/hook"}, "validation_failed", "url"},
		{"userinfo", obj{"url": "https://user:pw@example.com/"}, "validation_failed", "url"},
		{"bad port", obj{"url": "https://example.com:99999/"}, "validation_failed", "url"},
		{"bad retry schedule", obj{"url": ok, "retry_schedule": "5s,soon"}, "validation_failed", "retry_schedule"},
		{"zero retry delay", obj{"url": ok, "retry_schedule": "0s"}, "validation_failed", "retry_schedule"},
		{"reserved header", obj{"url": ok, "headers": obj{"Stripe-Signature": "x"}}, "validation_failed", "headers"},
		{"reserved header lower case", obj{"url": ok, "headers": obj{"host": "evil"}}, "validation_failed", "headers"},
		{"hookrelay header", obj{"url": ok, "headers": obj{"X-Hookrelay-Attempt": "9"}}, "validation_failed", "headers"},
		{"unknown source", obj{"url": ok, "source_ids": []string{"src_missing"}}, "validation_failed", "source_ids"},
		{"negative timeout", obj{"url": ok, "timeout_ms": -1}, "validation_failed", "timeout_ms"},
		{"timeout too long", obj{"url": ok, "timeout_ms": 120001}, "validation_failed", "timeout_ms"},
		{"unknown scheme", obj{"url": ok, "signing_scheme": "md5"}, "validation_failed", "signing_scheme"},
		{"unknown field", obj{"url": ok, "secret": "mine"}, "validation_failed", "body"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			msg := wantError(t, e.do("POST", "/api/v1/endpoints", e.token, c.body), 422, c.code)
			if !strings.HasPrefix(msg, c.field) {
				t.Fatalf("message %q does not start with %q", msg, c.field)
			}
		})
	}
	wantError(t, e.do("POST", "/api/v1/endpoints", e.token, `{"url":`), 400, "malformed_json")
	if n := e.auditCount(e.team); n != before {
		t.Fatalf("refused creates wrote %d audit rows", n-before)
	}
	if got := list(t, e.call("GET", "/api/v1/endpoints", nil, 200, nil)); len(got) != 0 {
		t.Fatalf("refused creates stored %v", ids(got))
	}
	// The bounds themselves are accepted.
	e.call("POST", "/api/v1/endpoints", obj{"url": ok, "timeout_ms": 120000}, 201, nil)
}

func TestEndpointGuardRefusesPrivateAddresses(t *testing.T) {
	e := newEnvWith(t, envOptions{}) // no allowed ranges, as in production
	for _, u := range []string{"http://127.0.0.1:8080/hook", "http://[::1]/", "http://10.0.0.5/", "http://169.254.169.254/latest"} {
		msg := wantError(t, e.do("POST", "/api/v1/endpoints", e.token, obj{"url": u}), 422, "validation_failed")
		if !strings.HasPrefix(msg, "url: ssrf guard: refused") {
			t.Fatalf("%s: message %q", u, msg)
		}
	}
	var ep obj
	e.call("POST", "/api/v1/endpoints", obj{"url": "https://hooks.example.com/in"}, 201, &ep)
	wantError(t, e.do("PATCH", "/api/v1/endpoints/"+str(ep, "id"), e.token, obj{"url": "http://127.0.0.1/"}), 422, "validation_failed")
	e.call("GET", "/api/v1/endpoints/"+str(ep, "id"), nil, 200, &ep)
	if str(ep, "url") != "https://hooks.example.com/in" {
		t.Fatalf("refused update changed the url: %v", ep)
	}
}

func TestEndpointSecretShownOnceOnly(t *testing.T) {
	e := newEnv(t)
	src := str(e.createSource("s"), "id")
	body := obj{"url": "http://127.0.0.1:9/hook", "description": "billing", "event_types": []string{"invoice.*"},
		"source_ids": []string{src}, "headers": obj{"Authorization": "Bearer endpoint-credential"}, "timeout_ms": 5000,
		"retry_schedule": "1s,1m"}
	var ep obj
	r := e.call("POST", "/api/v1/endpoints", body, 201, &ep)
	id, sec := str(ep, "id"), str(ep, "secret")
	if !strings.HasPrefix(sec, "whsec_") || str(ep, "signing_scheme") != "standard-webhooks" || ep["enabled"] != true ||
		!reflect.DeepEqual(ep["source_ids"], []any{src}) || !reflect.DeepEqual(ep["event_types"], []any{"invoice.*"}) {
		t.Fatalf("created %s", r.Body)
	}
	if ep["headers"].(map[string]any)["Authorization"] != "[redacted]" || bytes.Contains(r.Body, []byte("endpoint-credential")) {
		t.Fatalf("custom header value shown: %s", r.Body)
	}
	a := e.wantAudit("endpoint.create", id)
	if ad := a.Details["after"].(map[string]any); ad["url"] != "http://127.0.0.1:9/hook" {
		t.Fatalf("audit details %v", a.Details)
	}

	for _, b := range [][]byte{e.call("GET", "/api/v1/endpoints/"+id, nil, 200, &ep).Body,
		e.call("GET", "/api/v1/endpoints", nil, 200, nil).Body} {
		if bytes.Contains(b, []byte(sec)) || bytes.Contains(b, []byte(sec[len(sec)-12:])) || bytes.Contains(b, []byte(`"secret":`)) {
			t.Fatalf("later answer shows the secret: %s", b)
		}
	}
	secs := ep["secrets"].([]any)
	if len(secs) != 1 || secs[0].(map[string]any)["hint"] != "whsec_…" {
		t.Fatalf("masked secrets %v", secs)
	}
	var raw, audit string
	ctx := context.Background()
	testenv.Must(t, e.db.NewRaw("SELECT secrets::text FROM endpoints WHERE id = ?", id).Scan(ctx, &raw))
	testenv.Must(t, e.db.NewRaw("SELECT string_agg(details::text, ' ') FROM audit_log").Scan(ctx, &audit))
	if strings.Contains(raw, sec[6:]) || strings.Contains(audit, sec[6:]) || strings.Contains(audit, "endpoint-credential") {
		t.Fatalf("plaintext stored: secrets %s audit %s", raw, audit)
	}
}

func TestEndpointUpdateEnableDisable(t *testing.T) {
	e := newEnv(t)
	id := str(e.createEndpoint("http://127.0.0.1:9/a", nil), "id")
	p := "/api/v1/endpoints/" + id
	var ep obj
	e.call("PATCH", p, obj{"url": "http://127.0.0.1:9/b", "description": "moved", "event_types": []string{"charge.*", " "},
		"timeout_ms": 3000, "retry_schedule": "5s,5m"}, 200, &ep)
	if str(ep, "url") != "http://127.0.0.1:9/b" || str(ep, "description") != "moved" || ep["timeout_ms"] != 3000.0 ||
		str(ep, "retry_schedule") != "5s,5m" || !reflect.DeepEqual(ep["event_types"], []any{"charge.*"}) {
		t.Fatalf("updated %v", ep)
	}
	a := e.wantAudit("endpoint.update", id)
	if a.Details["before"].(map[string]any)["url"] != "http://127.0.0.1:9/a" || a.Details["after"].(map[string]any)["url"] != "http://127.0.0.1:9/b" {
		t.Fatalf("audit %v", a.Details)
	}
	wantError(t, e.do("PATCH", p, e.token, obj{"timeout_ms": 999999}), 422, "validation_failed")
	wantError(t, e.do("PATCH", "/api/v1/endpoints/ep_missing", e.token, obj{"description": "x"}), 404, "not_found")

	e.call("POST", p+"/disable", nil, 200, &ep)
	if ep["enabled"] != false || str(ep, "disabled_reason") != "disabled by a user" {
		t.Fatalf("disabled %v", ep)
	}
	e.call("GET", p, nil, 200, &ep)
	if ep["enabled"] != false || str(ep, "disabled_reason") == "" {
		t.Fatalf("disable not stored: %v", ep)
	}
	e.call("POST", p+"/enable", nil, 200, &ep)
	if _, has := ep["disabled_reason"]; ep["enabled"] != true || has {
		t.Fatalf("enabled %v", ep)
	}
	e.call("GET", p, nil, 200, &ep)
	if _, has := ep["disabled_reason"]; ep["enabled"] != true || has {
		t.Fatalf("enable not stored: %v", ep)
	}
	// Disable and enable are audited as what they are, once per change,
	// however they are asked for: a PATCH with "enabled" too, and a
	// repeat that changes nothing writes nothing.
	e.call("PATCH", p, obj{"enabled": false, "description": "off"}, 200, &ep)
	e.call("PATCH", p, obj{"enabled": false}, 200, &ep)
	e.call("POST", p+"/disable", nil, 200, &ep)
	if ep["enabled"] != false || str(ep, "description") != "off" {
		t.Fatalf("patched %v", ep)
	}
	if rows := e.auditRows("endpoint.update", id); len(rows) != 2 || rows[1].Details["after"].(map[string]any)["description"] != "off" {
		t.Fatalf("update audit rows %+v, want the first PATCH and the description", rows)
	}
	dis, en := e.auditRows("endpoint.disable", id), e.auditRows("endpoint.enable", id)
	if len(dis) != 2 || len(en) != 1 || dis[0].Actor != "token:"+e.tokenID || dis[0].Details["reason"] != "disabled by a user" {
		t.Fatalf("disable rows %+v, enable rows %+v", dis, en)
	}
	wantError(t, e.do("POST", "/api/v1/endpoints/ep_missing/enable", e.token, nil), 404, "not_found")
}

func TestEndpointRotateAndReveal(t *testing.T) {
	e := newEnv(t)
	var ep obj
	e.call("POST", "/api/v1/endpoints", obj{"url": "http://127.0.0.1:9/"}, 201, &ep)
	id, first := str(ep, "id"), str(ep, "secret")
	p := "/api/v1/endpoints/" + id

	var rot struct {
		Secret string `json:"secret"`
	}
	e.call("POST", p+"/secret/rotate", nil, 200, &rot)
	if !strings.HasPrefix(rot.Secret, "whsec_") || rot.Secret == first {
		t.Fatalf("rotated secret %q", rot.Secret)
	}
	if a := e.wantAudit("endpoint.secret.rotate", id); a.Details["grace"] != "24h0m0s" {
		t.Fatalf("audit %v", a.Details)
	}
	e.call("GET", p, nil, 200, &ep)
	secs := ep["secrets"].([]any)
	if len(secs) != 2 || str(secs[0].(map[string]any), "expires_at") == "" || secs[1].(map[string]any)["expires_at"] != nil {
		t.Fatalf("after rotation %v", secs)
	}

	var rev struct {
		Secrets []string `json:"secrets"`
	}
	e.call("POST", p+"/secret/reveal", nil, 200, &rev)
	if !reflect.DeepEqual(rev.Secrets, []string{rot.Secret, first}) {
		t.Fatalf("revealed %v", rev.Secrets)
	}
	e.wantAudit("endpoint.secret.reveal", id)

	// A shorter grace pulls the expiry of every older secret in.
	e.call("POST", p+"/secret/rotate", obj{"grace": "1h"}, 200, &rot)
	e.call("GET", p, nil, 200, &ep)
	secs = ep["secrets"].([]any)
	if len(secs) != 3 {
		t.Fatalf("after second rotation %v", secs)
	}
	for _, s := range secs[:2] {
		exp, err := time.Parse(time.RFC3339, str(s.(map[string]any), "expires_at"))
		if err != nil || time.Until(exp) > time.Hour+time.Minute {
			t.Fatalf("old secret %v: want expiry within 1h", s)
		}
	}
	for _, g := range []string{`{"grace":"soon"}`, `{"grace":"-1h"}`, `{"grace":"721h"}`, `{"graze":"1h"}`} {
		wantError(t, e.do("POST", p+"/secret/rotate", e.token, g), 422, "validation_failed")
	}
	if n := len(e.auditRows("endpoint.secret.rotate", id)); n != 2 {
		t.Fatalf("%d rotate audit rows, want 2", n)
	}
	var none obj
	e.call("POST", "/api/v1/endpoints", obj{"url": "http://127.0.0.1:9/", "signing_scheme": "none"}, 201, &none)
	if _, has := none["secret"]; has {
		t.Fatalf("scheme none got a secret: %v", none)
	}
	wantError(t, e.do("POST", "/api/v1/endpoints/"+str(none, "id")+"/secret/rotate", e.token, nil), 422, "validation_failed")
	wantError(t, e.do("POST", "/api/v1/endpoints/ep_missing/secret/rotate", e.token, nil), 404, "not_found")
}

func TestEndpointDeleteCancelsPendingDeliveries(t *testing.T) {
	e := newEnv(t)
	s := e.seed()
	var other obj
	other = e.createEndpoint("http://127.0.0.1:9/other", nil, s.source)
	evt2 := e.ingestStripe(s.ingestURL, "evt_after", "invoice.created")

	e.call("DELETE", "/api/v1/endpoints/"+s.endpoint, nil, 204, nil)
	e.wantAudit("endpoint.delete", s.endpoint)
	wantError(t, e.do("GET", "/api/v1/endpoints/"+s.endpoint, e.token, nil), 404, "not_found")
	wantError(t, e.do("DELETE", "/api/v1/endpoints/"+s.endpoint, e.token, nil), 404, "not_found")

	var d obj
	e.call("GET", "/api/v1/deliveries/"+s.delivery, nil, 200, &d)
	if str(d, "status") != "cancelled" || str(d, "last_error") != "endpoint deleted" || d["next_attempt_at"] != nil {
		t.Fatalf("delivery of the deleted endpoint: %v", d)
	}
	// The other endpoint's delivery of a later event is untouched.
	var ev struct {
		Deliveries []obj `json:"deliveries"`
	}
	e.call("GET", "/api/v1/events/"+evt2, nil, 200, &ev)
	for _, x := range ev.Deliveries {
		want := "cancelled"
		if str(x, "endpoint_id") == str(other, "id") {
			want = "pending"
		}
		if str(x, "status") != want {
			t.Fatalf("delivery %v, want %s", x, want)
		}
	}
}
