package charttest

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// registeredMetrics are the metric names internal/metrics defines (its
// non-test sources, read as text: that package is in the relay's module).
func registeredMetrics(t *testing.T) map[string]bool {
	t.Helper()
	files, err := filepath.Glob("../../../internal/metrics/*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("internal/metrics sources: %v", err)
	}
	names := map[string]bool{}
	re := regexp.MustCompile(`"(hookrelay_[a-z0-9_]+)"`)
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			names[m[1]] = true
		}
	}
	return names
}

// TestAlertRules: deploy/prometheus/alerts.yml parses, every rule has an
// expression, a severity and a summary, the alerts the README describes
// exist, and every hookrelay_* series they read is one internal/metrics
// registers (redis_* series come from redis_exporter, named in the file).
func TestAlertRules(t *testing.T) {
	b, err := os.ReadFile("../../prometheus/alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Groups []struct {
			Name  string `json:"name"`
			Rules []struct {
				Alert       string            `json:"alert"`
				Expr        string            `json:"expr"`
				For         string            `json:"for"`
				Labels      map[string]string `json:"labels"`
				Annotations map[string]string `json:"annotations"`
			} `json:"rules"`
		} `json:"groups"`
	}
	if err := yaml.UnmarshalStrict(b, &f); err != nil {
		t.Fatal(err)
	}
	known := registeredMetrics(t)
	if !known["hookrelay_queue_latency_seconds"] {
		t.Fatalf("metric scan found %d names, not the queue latency", len(known))
	}
	// Alerts that must read hookrelay's own gauges, not a proxy for them
	// (the 410 counter) or another exporter.
	mustRead := map[string]string{"HookrelayEndpointDisabled": `hookrelay_endpoints{state="disabled"}`,
		"HookrelayRedisWithoutPersistence": "hookrelay_redis_persistence"}
	series := regexp.MustCompile(`\b((?:hookrelay|redis)_[a-z0-9_]+)\b`)
	alerts := map[string]bool{}
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			alerts[r.Alert] = true
			if want, ok := mustRead[r.Alert]; ok && !strings.Contains(r.Expr, want) {
				t.Errorf("%s: expression %q does not read %s", r.Alert, r.Expr, want)
			}
			if r.Alert == "" || strings.TrimSpace(r.Expr) == "" || r.Labels["severity"] == "" || r.Annotations["summary"] == "" {
				t.Errorf("%s/%q: needs alert, expr, severity and summary", g.Name, r.Alert)
			}
			used := series.FindAllString(r.Expr, -1)
			if len(used) == 0 {
				t.Errorf("%s: reads no metric", r.Alert)
			}
			for _, m := range used {
				if strings.HasPrefix(m, "redis_") {
					continue
				}
				base := m
				for _, suf := range []string{"_bucket", "_sum", "_count"} {
					if known[strings.TrimSuffix(m, suf)] {
						base = strings.TrimSuffix(m, suf)
					}
				}
				if !known[base] {
					t.Errorf("%s: %s is not a metric internal/metrics registers", r.Alert, m)
				}
			}
		}
	}
	for _, a := range []string{"HookrelayDeliveryBacklog", "HookrelayEndpointFailing", "HookrelayEndpointDisabled",
		"HookrelayIngest5xx", "HookrelayRedisWithoutPersistence"} {
		if !alerts[a] {
			t.Errorf("alert %s missing", a)
		}
	}
}
