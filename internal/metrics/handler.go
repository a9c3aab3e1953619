package metrics

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Handler serves the registry in the Prometheus exposition format. With a
// token, a scrape must send "Authorization: Bearer <token>" (401 otherwise).
func (m *Metrics) Handler(token string, log *slog.Logger) http.Handler {
	h := promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog:      slogPrinter{log},
		ErrorHandling: promhttp.ContinueOnError,
		// No Timeout: its http.TimeoutHandler derives a context from the
		// request's, which under Fiber's adaptor is fasthttp's RequestCtx
		// (racy at shutdown). The slow parts time out on their own (Watch).
	})
	if token == "" {
		return h
	}
	want := []byte("Bearer " + token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := []byte(r.Header.Get("Authorization"))
		if subtle.ConstantTimeCompare(got, want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			http.Error(w, "metrics need a bearer token", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

type slogPrinter struct{ l *slog.Logger }

func (p slogPrinter) Println(v ...any) {
	if p.l != nil {
		p.l.Warn("metrics_scrape_error", "error", strings.TrimSpace(fmt.Sprintln(v...)))
	}
}

// Server is a small HTTP listener for processes without the API (the
// worker): /metrics, and /healthz for probes.
type Server struct {
	srv *http.Server
	ln  net.Listener
}

// Listen binds addr now (so a taken port fails the start) and serves h at
// /metrics in the background.
func Listen(addr string, h http.Handler, log *slog.Logger) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: listen %s: %w (set HOOKRELAY_METRICS_LISTEN)", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", h)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ok"}`))
	})
	s := &Server{ln: ln, srv: &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute}}
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics_server_failed", "error", err.Error())
		}
	}()
	log.Info("metrics_listening", "addr", ln.Addr().String())
	return s, nil
}

// Addr is the bound address (useful with port 0).
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops the listener; a scrape in progress is cut off.
func (s *Server) Close() error { return s.srv.Close() }
