package api_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/testenv"
)

// dump is what a database dump shows of the tables holding credentials:
// every row as text.
func (e *env) dump() string {
	e.t.Helper()
	var rows []string
	for _, table := range []string{"sources", "endpoints", "audit_log"} {
		var part []string
		testenv.Must(e.t, e.db.NewRaw("SELECT t::text FROM "+table+" t").Scan(context.Background(), &part))
		rows = append(rows, part...)
	}
	return strings.Join(rows, "\n")
}

// Custom header values and ingest tokens are credentials: the database
// holds neither in plaintext, yet the ingest URL still works, the team
// still sees it, and the API shows header names only.
func TestIngestTokensAndHeaderValuesSealedAtRest(t *testing.T) {
	e := newEnv(t)
	src := e.createSource("s")
	ingestURL := str(src, "ingest_url")
	token := strings.TrimPrefix(ingestURL, "http://relay.test/in/")
	if !strings.HasPrefix(token, "in_") {
		t.Fatalf("ingest url %q", ingestURL)
	}
	const auth, key = "Bearer hdr-credential-0123456789", "api-key-credential-abcdef"
	var ep obj
	e.call("POST", "/api/v1/endpoints", obj{"url": "https://example.com/hook", "source_ids": []string{str(src, "id")},
		"headers": map[string]string{"Authorization": auth, "X-Api-Key": key}}, 201, &ep)

	d := e.dump()
	for what, v := range map[string]string{"ingest token": token, "Authorization value": auth,
		"X-Api-Key value": key, "credential": "credential"} {
		if strings.Contains(d, v) {
			t.Fatalf("the database dump holds the %s in plaintext:\n%s", what, d)
		}
	}
	if !strings.Contains(d, "X-Api-Key") {
		t.Fatalf("header names should stay readable:\n%s", d)
	}

	// The URL shown later is the same, and it ingests.
	var again obj
	e.call("GET", "/api/v1/sources/"+str(src, "id"), nil, 200, &again)
	if str(again, "ingest_url") != ingestURL {
		t.Fatalf("ingest url now %q, was %q", str(again, "ingest_url"), ingestURL)
	}
	e.ingestStripe(ingestURL, "evt_sealed_1", "invoice.paid")

	// An edit that keeps the headers keeps their values sealed as they were.
	var before, after string
	testenv.Must(t, e.db.NewRaw("SELECT headers::text FROM endpoints WHERE id = ?", str(ep, "id")).Scan(context.Background(), &before))
	e.call("PATCH", "/api/v1/endpoints/"+str(ep, "id"), obj{"description": "renamed"}, 200, nil)
	testenv.Must(t, e.db.NewRaw("SELECT headers::text FROM endpoints WHERE id = ?", str(ep, "id")).Scan(context.Background(), &after))
	if before != after {
		t.Fatalf("headers changed by an unrelated edit: %s → %s", before, after)
	}
	// "(unchanged)" keeps a stored value; it cannot invent one.
	headers := func() map[string]string {
		var raw string
		testenv.Must(t, e.db.NewRaw("SELECT headers::text FROM endpoints WHERE id = ?", str(ep, "id")).Scan(context.Background(), &raw))
		var h map[string]string
		testenv.Must(t, json.Unmarshal([]byte(raw), &h))
		return h
	}
	was := headers()
	e.call("PATCH", "/api/v1/endpoints/"+str(ep, "id"), obj{"headers": map[string]string{
		"Authorization": relay.KeepHeaderValue, "X-Api-Key": "api-key-credential-new"}}, 200, nil)
	now := headers()
	if now["Authorization"] != was["Authorization"] || now["X-Api-Key"] == was["X-Api-Key"] || strings.Contains(e.dump(), "credential-new") {
		t.Fatalf("headers %v → %v", was, now)
	}
	msg := wantError(t, e.do("PATCH", "/api/v1/endpoints/"+str(ep, "id"), e.token,
		obj{"headers": map[string]string{"X-Other": relay.KeepHeaderValue}}), 422, "validation_failed")
	if !strings.HasPrefix(msg, "headers: X-Other has no stored value") {
		t.Fatalf("message %q", msg)
	}
}

// Source secrets the user chose are shown by kind only, and short ones are
// refused where the provider does not fix a format.
func TestSourceSecretHintsAndMinimumLength(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		provider, secret string
		config           obj
		hint             string
	}{
		{"stripe", stripeSecret, nil, "whsec_…"},
		{"paddle", "pdl_ntfset_01hv8x2ac3w4y5z6_0123456789abcdef", nil, "pdl_ntfset_…"},
		{"github", "my-github-secret-0123456789", nil, "…"},
		{"hmac", "generic_hmac_secret_value", nil, "…"},
	}
	for _, c := range cases {
		var src obj
		body := obj{"name": c.provider, "provider": c.provider, "secret": c.secret}
		e.call("POST", "/api/v1/sources", body, 201, &src)
		secs := src["secrets"].([]any)
		if h := secs[0].(obj)["hint"]; h != c.hint {
			t.Fatalf("%s: hint %q, want %q", c.provider, h, c.hint)
		}
	}

	short := "only15chars-abc"
	refused := []obj{
		{"name": "s", "provider": "github", "secret": short},
		{"name": "s", "provider": "hmac", "secret": short},
		{"name": "s", "provider": "token-header", "secret": short, "config": obj{"header": "X-Token"}},
		{"name": "s", "provider": "basic-auth", "secret": short, "config": obj{"username": "hooks"}},
		{"name": "s", "provider": "shopify", "secret": short},
		{"name": "s", "provider": "slack", "secret": short},
		{"name": "s", "provider": "twilio", "secret": short},
		{"name": "s", "provider": "stripe", "secret": "whsec_short"},
		{"name": "s", "provider": "standard-webhooks", "secret": "whsec_c2hvcnQ="}, // 5 bytes
		{"name": "s", "provider": "standard-webhooks", "secret": "whsec_not base64!"},
	}
	n := e.auditCount(e.team)
	for _, body := range refused {
		msg := wantError(t, e.do("POST", "/api/v1/sources", e.token, body), 422, "validation_failed")
		if !strings.HasPrefix(msg, "secret: ") || strings.Contains(msg, str(body, "secret")) {
			t.Fatalf("%s: message %q: want it to name the field and not echo the secret", body["provider"], msg)
		}
	}
	var list struct{ Data []obj }
	e.call("GET", "/api/v1/sources", nil, 200, &list)
	if len(list.Data) != len(cases) || e.auditCount(e.team) != n {
		t.Fatalf("refused creates changed something: %d sources, audit %d → %d", len(list.Data), n, e.auditCount(e.team))
	}
	// A rotation is held to the same rule.
	id := str(list.Data[2], "id")
	msg := wantError(t, e.do("PATCH", "/api/v1/sources/"+id, e.token, obj{"secret": short}), 422, "validation_failed")
	if !strings.Contains(msg, "at least 16") {
		t.Fatalf("message %q", msg)
	}
	e.call("PATCH", "/api/v1/sources/"+id, obj{"secret": strings.Repeat("x", relay.MinSecretLength)}, 200, nil)
}

// A leaked ingest URL can be replaced: the new one works, the old one is
// unknown from then on, and the rotation is audited.
func TestRotateIngestToken(t *testing.T) {
	e := newEnv(t)
	src := e.createSource("s")
	old := str(src, "ingest_url")
	e.ingestStripe(old, "evt_before", "invoice.paid")

	var rotated obj
	e.call("POST", "/api/v1/sources/"+str(src, "id")+"/rotate-ingest-token", nil, 200, &rotated)
	fresh := str(rotated, "ingest_url")
	if fresh == old || !strings.HasPrefix(fresh, "http://relay.test/in/in_") {
		t.Fatalf("rotated url %q (was %q)", fresh, old)
	}
	e.ingestStripe(fresh, "evt_after", "invoice.paid")
	var again obj
	e.call("GET", "/api/v1/sources/"+str(src, "id"), nil, 200, &again)
	if str(again, "ingest_url") != fresh {
		t.Fatalf("source shows %q, want %q", str(again, "ingest_url"), fresh)
	}
	r := e.do("POST", strings.TrimPrefix(old, "http://relay.test"), "", `{"id":"evt_late"}`)
	if r.Status != 404 {
		t.Fatalf("old url after rotation: %d %s", r.Status, r.Body)
	}
	e.wantAudit("source.ingest_token.rotate", str(src, "id"))
	if d := e.dump(); strings.Contains(d, strings.TrimPrefix(fresh, "http://relay.test/in/")) {
		t.Fatal("the new token is stored in plaintext")
	}

	// A read-only token cannot rotate; another team's source is not found.
	_, ro, _ := e.newTeam("B", "read")
	wantError(t, e.do("POST", "/api/v1/sources/"+str(src, "id")+"/rotate-ingest-token", ro, nil), 403, "forbidden")
	_, other, _ := e.newTeam("C")
	wantError(t, e.do("POST", "/api/v1/sources/"+str(src, "id")+"/rotate-ingest-token", other, nil), 404, "not_found")
}
