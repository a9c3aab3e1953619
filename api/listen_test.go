package api_test

import (
	"net/http/httptest"
	"testing"
)

// GET /api/v1/listen needs a token (read scope is enough) and refuses a
// source of another team, a bad since and a Last-Event-ID it never sent,
// before any stream starts. (The stream itself is tested end to end with
// `hookrelay listen` in cmd/hookrelay.)
func TestListenRefusals(t *testing.T) {
	e := newEnv(t)
	wantError(t, e.do("GET", "/api/v1/listen", "", nil), 401, "unauthorized")
	wantError(t, e.do("GET", "/api/v1/listen?source_id=src_nope", e.token, nil), 404, "not_found")
	wantError(t, e.do("GET", "/api/v1/listen?since=yesterday", e.token, nil), 422, "validation_failed")
	req := httptest.NewRequest("GET", "/api/v1/listen", nil)
	req.Header.Set("Authorization", "Bearer "+e.token)
	req.Header.Set("Last-Event-ID", "not-ours")
	wantError(t, e.send(req), 422, "validation_failed")
}
