package api_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/hookrelay/hookrelay/api"
)

// spec is api/openapi.json, loaded and validated once per test binary.
var spec = sync.OnceValues(func() (*openapi3.T, routers.Router) {
	doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPI)
	if err != nil {
		panic("api/openapi.json: " + err.Error())
	}
	if err := doc.Validate(context.Background()); err != nil {
		panic("api/openapi.json is not a valid OpenAPI document: " + err.Error())
	}
	r, err := gorillamux.NewRouter(doc)
	if err != nil {
		panic("api/openapi.json: " + err.Error())
	}
	return doc, r
})

// checkOpenAPI validates one answer of the suite against api/openapi.json
// (send calls it for every /api/v1 request): status, content type and body
// schema. A request the description has no operation for is itself a
// failure unless the answer is a 404/405 for a path the API does not have.
func checkOpenAPI(t *testing.T, req *http.Request, status int, header http.Header, body []byte) {
	t.Helper()
	if !strings.HasPrefix(req.URL.Path, "/api/v1/") {
		return
	}
	_, router := spec()
	u := *req.URL
	if u.Host == "" {
		u.Scheme, u.Host = "http", "example.com"
	}
	r := req.Clone(context.Background())
	r.URL = &u
	r.Body = http.NoBody
	route, params, err := router.FindRoute(r)
	if err != nil {
		if status == http.StatusNotFound || status == http.StatusMethodNotAllowed {
			return
		}
		t.Errorf("openapi: %s %s answered %d but api/openapi.json has no such operation: %v", req.Method, req.URL.Path, status, err)
		return
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route,
			Options: &openapi3filter.Options{ExcludeRequestBody: true, AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}},
		Status:  status,
		Header:  header,
		Body:    io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		t.Errorf("openapi: %s %s → %d does not match api/openapi.json (update the description with the API): %v\nbody: %.500s",
			req.Method, req.URL.Path, status, err, body)
	}
}

var fiberParam = regexp.MustCompile(`:([A-Za-z_]+)`)

// TestOpenAPICoversEveryRoute: the description and the router list the
// same /api/v1 operations, both ways.
func TestOpenAPICoversEveryRoute(t *testing.T) {
	e := newEnv(t)
	routes := map[string]bool{}
	for _, r := range e.app.GetRoutes(true) {
		if !strings.HasPrefix(r.Path, "/api/v1/") || r.Method == http.MethodHead {
			continue
		}
		routes[r.Method+" "+fiberParam.ReplaceAllString(r.Path, "{$1}")] = true
	}
	doc, _ := spec()
	described := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			described[method+" "+path] = true
		}
	}
	var missing, extra []string
	for k := range routes {
		if !described[k] {
			missing = append(missing, k)
		}
	}
	for k := range described {
		if !routes[k] {
			extra = append(extra, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing) > 0 || len(extra) > 0 || len(routes) < 20 {
		t.Fatalf("api/openapi.json and api/routes.go disagree:\nrouted, not described: %v\ndescribed, not routed: %v\n(%d routes)",
			missing, extra, len(routes))
	}
}

// TestOpenAPIServed: the description is public, JSON, and validates.
func TestOpenAPIServed(t *testing.T) {
	e := newEnv(t)
	r := e.do(http.MethodGet, "/api/v1/openapi.json", "", nil)
	if r.Status != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("GET /api/v1/openapi.json: %d %s", r.Status, r.Header.Get("Content-Type"))
	}
	doc, err := openapi3.NewLoader().LoadFromData(r.Body)
	if err != nil || doc.OpenAPI != "3.1.0" || doc.Paths.Find("/api/v1/events/{id}") == nil {
		t.Fatalf("served description: %v", err)
	}
}
