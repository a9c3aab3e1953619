package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/internal/testenv"
)

func TestSourceCreateRefusesBadInput(t *testing.T) {
	e := newEnv(t)
	before := e.auditCount(e.team)
	cases := []struct {
		name   string
		body   any
		status int
		code   string
		field  string // the message starts with it
	}{
		{"missing name", obj{"provider": "stripe", "secret": stripeSecret}, 422, "validation_failed", "name"},
		{"blank name", obj{"name": "  ", "provider": "stripe", "secret": stripeSecret}, 422, "validation_failed", "name"},
		{"no provider", obj{"name": "s", "secret": stripeSecret}, 422, "validation_failed", "provider"},
		{"unknown provider", obj{"name": "s", "provider": "paypal", "secret": "x"}, 422, "validation_failed", "provider"},
		{"missing secret", obj{"name": "s", "provider": "stripe"}, 422, "validation_failed", "secret"},
		{"empty secret", obj{"name": "s", "provider": "github", "secret": ""}, 422, "validation_failed", "secret"},
		{"bad hmac algorithm", obj{"name": "s", "provider": "hmac", "secret": "k", "config": obj{"algorithm": "md5"}}, 422, "validation_failed", "config.algorithm"},
		{"unknown config key", obj{"name": "s", "provider": "hmac", "secret": "k", "config": obj{"colour": "red"}}, 422, "validation_failed", "config"},
		{"bad tolerance", obj{"name": "s", "provider": "stripe", "secret": stripeSecret, "config": obj{"tolerance": "forever"}}, 422, "validation_failed", "config"},
		{"wrong type", obj{"name": 5, "provider": "stripe", "secret": stripeSecret}, 422, "validation_failed", "name"},
		{"unknown field", obj{"name": "s", "provider": "stripe", "secret": stripeSecret, "colour": "red"}, 422, "validation_failed", "body"},
		{"malformed JSON", `{"name": "s",`, 400, "malformed_json", "request body"},
		{"empty body", ``, 400, "malformed_json", "request body"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			msg := wantError(t, e.do("POST", "/api/v1/sources", e.token, c.body), c.status, c.code)
			if !strings.HasPrefix(msg, c.field) {
				t.Fatalf("message %q does not start with %q", msg, c.field)
			}
			if strings.Contains(msg, stripeSecret) {
				t.Fatalf("message %q holds the secret", msg)
			}
		})
	}
	if n := e.auditCount(e.team); n != before {
		t.Fatalf("refused creates wrote %d audit rows", n-before)
	}
	if got := list(t, e.call("GET", "/api/v1/sources", nil, 200, nil)); len(got) != 0 {
		t.Fatalf("refused creates stored %v", ids(got))
	}
}

func TestSourceCreateKinds(t *testing.T) {
	e := newEnv(t)
	st := e.createSource("Stripe live")
	if str(st, "provider") != "stripe" || str(st, "name") != "Stripe live" ||
		!strings.HasPrefix(str(st, "ingest_url"), "http://relay.test/in/in_") {
		t.Fatalf("stripe source %v", st)
	}
	a := e.wantAudit("source.create", str(st, "id"))
	if a.TargetKind != "source" || a.Details["after"].(map[string]any)["provider"] != "stripe" {
		t.Fatalf("audit %+v", a)
	}

	cfg := obj{"header": "X-Sig", "algorithm": "sha512", "encoding": "base64", "id_header": "X-Id"}
	var hm obj
	e.call("POST", "/api/v1/sources", obj{"name": "Acme", "provider": "hmac", "secret": "acme-shared-key-1234", "config": cfg}, 201, &hm)
	if !reflect.DeepEqual(hm["config"], cfg) || len(hm["secrets"].([]any)) != 1 {
		t.Fatalf("hmac source %v", hm)
	}
	e.wantAudit("source.create", str(hm, "id"))

	var none obj
	e.call("POST", "/api/v1/sources", obj{"name": "Open", "provider": "none"}, 201, &none)
	if s := none["secrets"].([]any); len(s) != 0 {
		t.Fatalf("none source has secrets %v", s)
	}
	e.wantAudit("source.create", str(none, "id"))

	got := ids(list(t, e.call("GET", "/api/v1/sources", nil, 200, nil)))
	if want := []string{str(st, "id"), str(hm, "id"), str(none, "id")}; !reflect.DeepEqual(got, want) {
		t.Fatalf("list %v, want %v (oldest first)", got, want)
	}
}

// TestSourceSecretStaysHidden: the plaintext never appears in answers, in
// the sources.secrets column or in the audit log; only hints do.
func TestSourceSecretStaysHidden(t *testing.T) {
	e := newEnv(t)
	r := e.call("POST", "/api/v1/sources", obj{"name": "s", "provider": "stripe", "secret": stripeSecret}, 201, nil)
	var src obj
	r.JSON(t, &src)
	id := str(src, "id")
	for _, b := range [][]byte{r.Body, e.call("GET", "/api/v1/sources/"+id, nil, 200, &src).Body,
		e.call("GET", "/api/v1/sources", nil, 200, nil).Body} {
		if bytes.Contains(b, []byte(stripeSecret)) || bytes.Contains(b, []byte(stripeSecret[6:])) {
			t.Fatalf("answer holds the secret: %s", b)
		}
	}
	secs := src["secrets"].([]any)
	if len(secs) != 1 {
		t.Fatalf("secrets %v", secs)
	}
	s0 := secs[0].(map[string]any)
	if s0["hint"] != "whsec_…" || str(s0, "id") == "" || str(s0, "created_at") == "" || s0["expires_at"] != nil {
		t.Fatalf("masked secret %v", s0)
	}

	var raw, audit string
	ctx := context.Background()
	testenv.Must(t, e.db.NewRaw("SELECT secrets::text FROM sources WHERE id = ?", id).Scan(ctx, &raw))
	testenv.Must(t, e.db.NewRaw("SELECT coalesce(string_agg(details::text, ' '), '') FROM audit_log").Scan(ctx, &audit))
	for what, v := range map[string]string{"sources.secrets": raw, "audit_log": audit} {
		if strings.Contains(v, stripeSecret) || strings.Contains(v, stripeSecret[6:]) {
			t.Fatalf("%s holds the plaintext: %s", what, v)
		}
	}
	if !strings.Contains(raw, `"kid": "k1"`) {
		t.Fatalf("sources.secrets %s: want sealed entries with kid k1", raw)
	}
}

func TestSourceUpdateRotateAndReveal(t *testing.T) {
	e := newEnv(t)
	id := str(e.createSource("old name"), "id")
	p := "/api/v1/sources/" + id

	var src obj
	e.call("PATCH", p, obj{"name": "new name", "config": obj{"tolerance": "10m"}}, 200, &src)
	if str(src, "name") != "new name" || src["config"].(map[string]any)["tolerance"] != "10m" {
		t.Fatalf("updated %v", src)
	}
	a := e.wantAudit("source.update", id)
	if a.Details["before"].(map[string]any)["name"] != "old name" || a.Details["after"].(map[string]any)["name"] != "new name" {
		t.Fatalf("audit details %v", a.Details)
	}
	wantError(t, e.do("PATCH", p, e.token, obj{"provider": "github"}), 422, "validation_failed")
	wantError(t, e.do("PATCH", p, e.token, obj{"name": ""}), 422, "validation_failed")
	wantError(t, e.do("PATCH", p, e.token, obj{"config": obj{"algorithm": "sha1"}}), 422, "validation_failed")
	wantError(t, e.do("PATCH", p, e.token, obj{"secret": ""}), 422, "validation_failed")
	wantError(t, e.do("PATCH", p, e.token, `{"name":`), 400, "malformed_json")
	wantError(t, e.do("PATCH", "/api/v1/sources/src_missing", e.token, obj{"name": "x"}), 404, "not_found")
	if n := len(e.auditRows("source.update", id)); n != 1 {
		t.Fatalf("refused updates wrote audit rows: %d", n)
	}

	const next = "whsec_rotated9876543210zyxwvuts"
	r := e.call("PATCH", p, obj{"secret": next}, 200, &src)
	if bytes.Contains(r.Body, []byte(next)) {
		t.Fatalf("rotate answer holds the new secret: %s", r.Body)
	}
	secs := src["secrets"].([]any)
	if len(secs) != 2 {
		t.Fatalf("after rotation: %v", secs)
	}
	old, cur := secs[0].(map[string]any), secs[1].(map[string]any)
	exp, err := time.Parse(time.RFC3339, str(old, "expires_at"))
	if err != nil || time.Until(exp) < 23*time.Hour || time.Until(exp) > 25*time.Hour || cur["expires_at"] != nil {
		t.Fatalf("old %v, new %v: want the old one to expire after the 24h grace", old, cur)
	}
	if old["hint"] != "whsec_…" || cur["hint"] != "whsec_…" { // the kind only, no characters
		t.Fatalf("hints %v %v", old["hint"], cur["hint"])
	}
	if rows := e.auditRows("source.update", id); len(rows) != 2 || rows[1].Details["after"].(map[string]any)["secret"] != "rotated" {
		t.Fatalf("rotation audit %+v", rows)
	}

	var rev struct {
		Secrets []string `json:"secrets"`
	}
	e.call("POST", p+"/secret/reveal", nil, 200, &rev)
	if !reflect.DeepEqual(rev.Secrets, []string{next, stripeSecret}) {
		t.Fatalf("revealed %v, want newest first", rev.Secrets)
	}
	e.wantAudit("source.secret.reveal", id)
	wantError(t, e.do("POST", "/api/v1/sources/src_missing/secret/reveal", e.token, nil), 404, "not_found")
}

func TestSourceDelete(t *testing.T) {
	e := newEnv(t)
	id := str(e.createSource("doomed"), "id")
	r := e.call("DELETE", "/api/v1/sources/"+id, nil, 204, nil)
	if len(r.Body) != 0 {
		t.Fatalf("204 with a body: %s", r.Body)
	}
	a := e.wantAudit("source.delete", id)
	if a.Details["before"].(map[string]any)["name"] != "doomed" {
		t.Fatalf("audit %v", a.Details)
	}
	wantError(t, e.do("GET", "/api/v1/sources/"+id, e.token, nil), 404, "not_found")
	wantError(t, e.do("DELETE", "/api/v1/sources/"+id, e.token, nil), 404, "not_found")
	if n := len(e.auditRows("source.delete", id)); n != 1 {
		t.Fatalf("%d delete audit rows", n)
	}
}

func TestSourceRejectedRequests(t *testing.T) {
	e := newEnv(t)
	src := e.createSource("s")
	id := str(src, "id")
	body := []byte(`{"id":"evt_1","type":"invoice.paid"}`)
	req := httptest.NewRequest("POST", strings.TrimPrefix(str(src, "ingest_url"), "http://relay.test"), bytes.NewReader(body))
	req.Header.Set("Stripe-Signature", "t=1,v1=deadbeef")
	req.Header.Set("Authorization", "Bearer should-not-be-kept")
	wantError(t, e.send(req), 401, "signature_invalid")

	r := e.call("GET", "/api/v1/sources/"+id+"/rejected", nil, 200, nil)
	rej := list(t, r)
	if len(rej) != 1 || str(rej[0], "source_id") != id || str(rej[0], "reason") == "" {
		t.Fatalf("rejected %s", r.Body)
	}
	h, _ := json.Marshal(rej[0]["headers"])
	if !strings.Contains(string(h), "Stripe-Signature") || strings.Contains(string(r.Body), "should-not-be-kept") ||
		strings.Contains(string(r.Body), stripeSecret) {
		t.Fatalf("rejected row keeps the wrong headers: %s", r.Body)
	}
	if got := list(t, e.call("GET", "/api/v1/events", nil, 200, nil)); len(got) != 0 {
		t.Fatalf("a rejected request became an event: %v", got)
	}
	wantError(t, e.do("GET", "/api/v1/sources/src_missing/rejected", e.token, nil), 404, "not_found")
}
