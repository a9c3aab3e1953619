package dashboard_test

import (
	"net/url"
	"strings"
	"testing"
)

// The dashboard's forms refuse over-long text and invalid custom headers
// with a 422 that marks the field, and store nothing; over-long list
// filters are field errors too.
func TestFormsRefuseLongTextAndBadHeaders(t *testing.T) {
	h := newHarness(t)
	owner := h.signIn("owner")
	long := func(n int) string { return strings.Repeat("a", n) }
	ok := "http://127.0.0.1:9/a"
	cases := []struct {
		path  string
		form  url.Values
		field string
		msg   string
	}{
		{"/endpoints", url.Values{"url": {ok}, "description": {long(1001)}}, "description", "at most 1000 characters"},
		{"/endpoints", url.Values{"url": {ok + "/" + long(2048)}}, "url", "at most 2048 characters"},
		{"/endpoints", url.Values{"url": {ok}, "event_types": {long(201)}}, "event_types", "at most 200 characters"},
		{"/endpoints", url.Values{"url": {ok}, "headers": {"X-Token: a\x01b"}}, "headers", "X-Token"},
		{"/endpoints", url.Values{"url": {ok}, "headers": {"Content-Length: 5"}}, "headers", "Content-Length"},
		{"/endpoints", url.Values{"url": {ok}, "headers": {"X-Big: " + long(4097)}}, "headers", "longer than 4096 bytes"},
		{"/sources", url.Values{"name": {long(201)}, "provider": {"stripe"}, "secret": {"whsec_" + long(40)}}, "name", "at most 200 characters"},
		{"/tokens", url.Values{"name": {long(201)}, "read": {"on"}}, "name", "at most 200 characters"},
		{"/team/invites", url.Values{"role": {"member"}, "email": {long(250) + "@example.test"}}, "email", "at most 254 characters"},
	}
	for _, c := range cases {
		t.Run(c.path+" "+c.field, func(t *testing.T) {
			r := owner.post(c.path, c.form)
			wantStatus(t, r, 422)
			wantBody(t, r, `id="err-`+c.field+`"`, c.msg)
		})
	}
	for _, table := range []string{"endpoints", "sources", "invites"} {
		if n := h.count(table, ""); n != 0 {
			t.Errorf("%d %s stored by refused forms", n, table)
		}
	}
	if n := h.count("api_tokens", "name = ?", long(201)); n != 0 {
		t.Errorf("a refused token was stored")
	}
	r := owner.post("/teams", url.Values{"name": {long(201)}})
	wantStatus(t, r, 422)
	wantBody(t, r, "at most 200 characters")

	for _, p := range []string{"/events?type=" + long(201), "/audit?action=" + long(201), "/bulk?preview=1&type=" + long(201)} {
		r := owner.get(p)
		wantStatus(t, r, 422)
		wantBody(t, r, "at most 200 characters")
	}
}
