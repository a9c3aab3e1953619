package api_test

import (
	"strings"
	"testing"
)

// A Stripe source takes api_key on create and update; answers say only
// has_api_key, never the key; a bad key or one on another provider's source
// is a 422 that changes nothing.
func TestSourceAPIKey(t *testing.T) {
	e := newEnv(t)
	const key = "rk_test_51ApiKeyForBackfill0000"
	var src obj
	r := e.call("POST", "/api/v1/sources", obj{"name": "S", "provider": "stripe", "secret": "whsec_apikeytestsecret00",
		"api_key": key}, 201, &src)
	if src["has_api_key"] != true || strings.Contains(string(r.Body), key) {
		t.Fatalf("create: %s", r.Body)
	}
	id := src["id"].(string)
	wantError(t, e.do("PATCH", "/api/v1/sources/"+id, e.token, obj{"api_key": "pk_test_publishable00000"}), 422, "validation_failed")
	e.call("POST", "/api/v1/sources", obj{"name": "G", "provider": "github", "secret": "github-secret-0123456789"}, 201, &src)
	wantError(t, e.do("PATCH", "/api/v1/sources/"+src["id"].(string), e.token, obj{"api_key": key}), 422, "validation_failed")
	r = e.call("GET", "/api/v1/sources/"+id, nil, 200, &src)
	if src["has_api_key"] != true || strings.Contains(string(r.Body), key) {
		t.Fatalf("after refusals: %s", r.Body)
	}
	e.call("PATCH", "/api/v1/sources/"+id, obj{"api_key": ""}, 200, &src)
	if src["has_api_key"] != false {
		t.Fatalf("removed: %v", src)
	}
}
