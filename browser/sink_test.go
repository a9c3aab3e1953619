package browser_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// sink is the customer's endpoint: a loopback HTTP server that records
// every body it receives and answers with a status the test can switch.
type sink struct {
	srv *httptest.Server

	mu     sync.Mutex
	status int
	bodies [][]byte
}

func newSink(t *testing.T) *sink {
	t.Helper()
	s := &sink{status: http.StatusOK}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *sink) serve(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.bodies = append(s.bodies, b)
	status := s.status
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(status)
	if status >= 300 {
		_, _ = io.WriteString(w, "sink is down for the test")
		return
	}
	_, _ = io.WriteString(w, "ok")
}

// url is where the endpoint points.
func (s *sink) url() string { return s.srv.URL + "/hooks/stripe" }

func (s *sink) setStatus(code int) {
	s.mu.Lock()
	s.status = code
	s.mu.Unlock()
}

// count says how many requests carried exactly body.
func (s *sink) count(body []byte) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, b := range s.bodies {
		if bytes.Equal(b, body) {
			n++
		}
	}
	return n
}
