package relay_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
)

// eventsProxy stands in front of stripe-mock for GET /v1/events.
// stripe-mock checks each request (key, created[gte], types[], limit,
// starting_after) and answers with its one fixture event, stateless and
// without pages; the proxy turns that fixture into the pages of a fixed
// list of events (newest first, pageSize each, honouring
// starting_after), so pagination and "some already stored" can be tested.
type eventsProxy struct {
	srv      *httptest.Server
	mu       sync.Mutex
	queries  []string
	events   []proxyEvent
	pageSize int
}

type proxyEvent struct {
	ID, Type string
	Created  int64
}

func newEventsProxy(t *testing.T, mock string, events []proxyEvent, pageSize int) *eventsProxy {
	p := &eventsProxy{events: events, pageSize: pageSize}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, _ := http.NewRequest(r.Method, mock+r.URL.RequestURI(), nil)
		req.Header = r.Header.Clone()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(w, err.Error(), 502)
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		p.mu.Lock()
		p.queries = append(p.queries, r.URL.RawQuery)
		p.mu.Unlock()
		if resp.StatusCode != 200 || r.URL.Path != "/v1/events" {
			w.WriteHeader(resp.StatusCode)
			_, _ = w.Write(body)
			return
		}
		var list struct {
			Data []map[string]any `json:"data"`
		}
		if err := json.Unmarshal(body, &list); err != nil || len(list.Data) != 1 {
			http.Error(w, "unexpected stripe-mock list", 502)
			return
		}
		start := 0
		if after := r.URL.Query().Get("starting_after"); after != "" {
			start = slices.IndexFunc(p.events, func(e proxyEvent) bool { return e.ID == after }) + 1
		}
		end := min(start+p.pageSize, len(p.events))
		page := map[string]any{"object": "list", "url": "/v1/events", "has_more": end < len(p.events)}
		data := []map[string]any{}
		for _, e := range p.events[start:end] {
			ev := map[string]any{}
			for k, v := range list.Data[0] { // stripe-mock's fixture, renamed
				ev[k] = v
			}
			ev["id"], ev["type"], ev["created"], ev["api_version"] = e.ID, e.Type, e.Created, "2023-10-16"
			data = append(data, ev)
		}
		page["data"] = data
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(page)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *eventsProxy) seen() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.queries)
}
