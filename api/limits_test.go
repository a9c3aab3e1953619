package api_test

import (
	"fmt"
	"strings"
	"testing"
)

// headerCases are custom headers that would fail at delivery, or forge
// what hookrelay or the HTTP client sets: each is refused with a 422 that
// names the header.
var headerCases = []struct {
	name, key, value string
}{
	{"space in name", "X Bad", "v"},
	{"colon in name", "X-Bad:Name", "v"},
	{"CRLF in name", "X-Bad\r\nSet-Cookie", "v"},
	{"non-ASCII name", "X-Bäd", "v"},
	{"CRLF in value", "X-Inject", "a\r\nSet-Cookie: s=1"},
	{"LF in value", "X-Inject-Lf", "a\nb"},
	{"NUL in value", "X-Nul", "a\x00b"},
	{"DEL in value", "X-Del", "a\x7fb"},
	{"Host", "host", "evil.example"},
	{"Content-Length", "Content-Length", "0"},
	{"Transfer-Encoding", "transfer-encoding", "chunked"},
	{"Connection", "Connection", "close"},
	{"webhook signature", "webhook-signature", "v1,forged"},
	{"any webhook- header", "Webhook-Custom", "x"},
	{"hookrelay header", "x-hookrelay-delivery", "dlv_x"},
}

// Endpoint headers with invalid names or values, or reserved names, are
// refused at creation and at update with a 422 naming the header, and
// nothing changes.
func TestEndpointHeadersValidated(t *testing.T) {
	e := newEnv(t)
	ok := "https://hooks.example.com/in"
	var ep obj
	e.call("POST", "/api/v1/endpoints", obj{"url": ok, "headers": obj{"Authorization": "Bearer x y", "X-Tab": "a\tb"}}, 201, &ep)
	before := e.auditCount(e.team)
	for _, c := range headerCases {
		t.Run(c.name, func(t *testing.T) {
			body := obj{"url": ok, "headers": obj{c.key: c.value}}
			msg := wantError(t, e.do("POST", "/api/v1/endpoints", e.token, body), 422, "validation_failed")
			quoted := fmt.Sprintf("%q", c.key)
			if !strings.HasPrefix(msg, "headers: ") || !strings.Contains(msg, quoted) {
				t.Errorf("create: message %q does not name header %s", msg, quoted)
			}
			msg = wantError(t, e.do("PATCH", "/api/v1/endpoints/"+ep["id"].(string), e.token, obj{"headers": obj{c.key: c.value}}),
				422, "validation_failed")
			if !strings.Contains(msg, quoted) {
				t.Errorf("update: message %q does not name header %s", msg, quoted)
			}
		})
	}
	if n := e.auditCount(e.team); n != before {
		t.Fatalf("refused header changes wrote %d audit rows", n-before)
	}
	if got := list(t, e.call("GET", "/api/v1/endpoints", nil, 200, nil)); len(got) != 1 {
		t.Fatalf("refused creates stored endpoints: %v", ids(got))
	}
	var got obj
	e.call("GET", "/api/v1/endpoints/"+ep["id"].(string), nil, 200, &got)
	if hs := fmt.Sprint(got["headers"]); !strings.Contains(hs, "Authorization") || !strings.Contains(hs, "X-Tab") {
		t.Fatalf("refused updates changed the headers: %v", got["headers"])
	}
}

// Every text field has a length limit; over it the API answers 422 naming
// the field and stores nothing. The limits themselves are accepted.
func TestTextFieldLimits(t *testing.T) {
	e := newEnv(t)
	long := func(n int) string { return strings.Repeat("a", n) }
	ok := "https://hooks.example.com/in"
	longURL := func(n int) string { return ok + "/" + long(n-len(ok)-1) }
	types := func(n, size int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("%0*d", size, i)
		}
		return out
	}
	headers := func(n int) obj {
		out := obj{}
		for i := range n {
			out[fmt.Sprintf("X-H%d", i)] = "v"
		}
		return out
	}
	secret := func(n int) string { return "whsec_" + long(n-6) }
	endpointCases := []struct {
		field string
		over  obj
		at    obj
	}{
		{"url", obj{"url": longURL(2049)}, obj{"url": longURL(2048)}},
		{"description", obj{"url": ok, "description": long(1001)}, obj{"url": ok, "description": long(1000)}},
		{"event_types", obj{"url": ok, "event_types": types(101, 3)}, obj{"url": ok, "event_types": types(100, 3)}},
		{"event_types", obj{"url": ok, "event_types": types(1, 201)}, obj{"url": ok, "event_types": types(1, 200)}},
		{"headers", obj{"url": ok, "headers": headers(21)}, obj{"url": ok, "headers": headers(20)}},
		{"headers", obj{"url": ok, "headers": obj{"X-" + long(255): "v"}}, obj{"url": ok, "headers": obj{"X-" + long(254): "v"}}},
		{"headers", obj{"url": ok, "headers": obj{"X-V": long(4097)}}, obj{"url": ok, "headers": obj{"X-V": long(4096)}}},
		{"retry_schedule", obj{"url": ok, "retry_schedule": "5s" + strings.Repeat(",5s", 66) + ",5m"}, obj{"url": ok, "retry_schedule": "5s,5m"}},
		{"source_ids", obj{"url": ok, "source_ids": types(101, 5)}, nil},
	}
	for _, c := range endpointCases {
		t.Run("endpoint "+c.field, func(t *testing.T) {
			msg := wantError(t, e.do("POST", "/api/v1/endpoints", e.token, c.over), 422, "validation_failed")
			if !strings.HasPrefix(msg, c.field+": ") {
				t.Fatalf("message %q does not name %s", msg, c.field)
			}
			if c.at != nil {
				e.call("POST", "/api/v1/endpoints", c.at, 201, nil)
			}
		})
	}
	n := len(list(t, e.call("GET", "/api/v1/endpoints", nil, 200, nil)))
	if n != 8 { // one per case at its limit
		t.Fatalf("%d endpoints stored, want 8", n)
	}
	var ep obj
	e.call("POST", "/api/v1/endpoints", obj{"url": ok}, 201, &ep)
	msg := wantError(t, e.do("PATCH", "/api/v1/endpoints/"+ep["id"].(string), e.token, obj{"description": long(1001)}), 422, "validation_failed")
	if !strings.HasPrefix(msg, "description: ") {
		t.Fatalf("update: %q", msg)
	}

	sourceCases := []struct {
		field string
		over  obj
		at    obj
	}{
		{"name", obj{"name": long(201), "provider": "stripe", "secret": secret(40)}, obj{"name": long(200), "provider": "stripe", "secret": secret(40)}},
		{"secret", obj{"name": "s", "provider": "stripe", "secret": secret(1025)}, obj{"name": "s", "provider": "stripe", "secret": secret(1024)}},
		{"config", obj{"name": "s", "provider": "hmac", "secret": long(40), "config": obj{"header": "X-" + long(5000)}}, nil},
	}
	for _, c := range sourceCases {
		t.Run("source "+c.field, func(t *testing.T) {
			msg := wantError(t, e.do("POST", "/api/v1/sources", e.token, c.over), 422, "validation_failed")
			if !strings.HasPrefix(msg, c.field+": ") {
				t.Fatalf("message %q does not name %s", msg, c.field)
			}
			if c.at != nil {
				e.call("POST", "/api/v1/sources", c.at, 201, nil)
			}
		})
	}
	var src obj
	e.call("POST", "/api/v1/sources", obj{"name": "kept", "provider": "stripe", "secret": secret(40)}, 201, &src)
	msg = wantError(t, e.do("PATCH", "/api/v1/sources/"+src["id"].(string), e.token, obj{"name": long(201)}), 422, "validation_failed")
	e.call("GET", "/api/v1/sources/"+src["id"].(string), nil, 200, &src)
	if !strings.HasPrefix(msg, "name: ") || src["name"] != "kept" {
		t.Fatalf("source rename over the limit: %q, name now %v", msg, src["name"])
	}

	for _, q := range []string{"/api/v1/events?event_type=" + long(201), "/api/v1/events?source_id=" + long(201),
		"/api/v1/events?cursor=" + long(201), "/api/v1/audit?action=" + long(201), "/api/v1/audit?target_id=" + long(201)} {
		msg := wantError(t, e.do("GET", q, e.token, nil), 422, "validation_failed")
		name := q[strings.Index(q, "?")+1 : strings.Index(q, "=")]
		if !strings.HasPrefix(msg, name+": ") {
			t.Errorf("%.40s: message %q", q, msg)
		}
	}
	e.call("GET", "/api/v1/events?event_type="+long(200), nil, 200, nil)
}
