package dashboard_test

import (
	"net/url"
	"strings"
	"testing"
)

// Issue 11 item 7: a form marks every bad field in one answer, keeps what
// was typed, and says why a secret field is empty.
func TestFormsMarkEveryBadField(t *testing.T) {
	h := newHarness(t)
	w := h.seedWorld(h.team)
	owner := h.signIn("owner")
	form := url.Values{"url": {"ftp://nope.example/x"}, "description": {"kept description"}, "source_ids": {w.src.ID},
		"headers": {"not a header line"}, "timeout_ms": {"soon"}, "rate_limit": {"-3"}, "max_in_flight": {"lots"},
		"retry_schedule": {"5s,later"}, "signing_scheme": {"rot13"}}
	for _, path := range []string{"/endpoints", "/endpoints/" + w.ep.ID} {
		r := owner.post(path, form)
		wantStatus(t, r, 422)
		for _, f := range []string{"url", "headers", "timeout_ms", "rate_limit", "max_in_flight", "retry_schedule", "signing_scheme"} {
			if !strings.Contains(r.body, `id="err-`+f+`"`) {
				t.Errorf("%s: %s is not marked", path, f)
			}
		}
		wantBody(t, r, `value="kept description"`, `value="5s,later"`, `value="soon"`, ">not a header line</textarea>")
	}
	if h.count("endpoints", "") != 1 {
		t.Fatal("an invalid form created an endpoint")
	}

	r := owner.post("/sources", url.Values{"name": {" "}, "provider": {"stripe"}, "secret": {"whsec_typed_secret_value"},
		"tolerance": {"soon"}})
	wantStatus(t, r, 422)
	wantBody(t, r, `id="err-name"`, `id="err-config.tolerance"`, `id="secret-cleared"`, "was not sent back to your browser")
	if strings.Contains(r.body, "whsec_typed_secret_value") {
		t.Fatal("the typed secret is sent back")
	}
}
