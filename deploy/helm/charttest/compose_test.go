package charttest

import (
	"context"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
)

const composeFile = "../../../docker-compose.yml"

// loadCompose parses and interpolates the compose file the way
// `docker compose` does, with env as the shell environment.
func loadCompose(t *testing.T, env map[string]string) (*types.Project, error) {
	t.Helper()
	return loader.LoadWithContext(context.Background(), types.ConfigDetails{
		WorkingDir:  "../../..",
		ConfigFiles: []types.ConfigFile{{Filename: composeFile}},
		Environment: env,
	}, func(o *loader.Options) { o.SetProjectName("hookrelay", true) })
}

// requiredVars are the variables the compose file marks ${VAR:?…}, each
// with a plausible value.
func requiredVars(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(composeFile)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, m := range regexp.MustCompile(`\$\{([A-Z0-9_]+):\?`).FindAllStringSubmatch(string(b), -1) {
		env[m[1]] = "x-" + strings.ToLower(m[1])
	}
	if _, ok := env["HOOKRELAY_ENCRYPTION_KEYS"]; ok {
		env["HOOKRELAY_ENCRYPTION_KEYS"] = "k1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
	}
	return env
}

func TestComposeFile(t *testing.T) {
	p, err := loadCompose(t, requiredVars(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"postgres", "redis", "migrate", "serve", "worker"} {
		if _, ok := p.Services[name]; !ok {
			t.Fatalf("service %s missing (have %v)", name, p.ServiceNames())
		}
	}
	for _, name := range []string{"postgres", "redis"} {
		hc := p.Services[name].HealthCheck
		if hc == nil || hc.Disable || len(hc.Test) == 0 {
			t.Errorf("%s: no healthcheck", name)
		}
	}
	redis := p.Services["redis"]
	if cmd := strings.Join(redis.Command, " "); !strings.Contains(cmd, "--appendonly yes") {
		t.Errorf("redis runs without AOF: %q", cmd)
	}
	if !slices.ContainsFunc(redis.Volumes, func(v types.ServiceVolumeConfig) bool { return v.Target == "/data" }) {
		t.Error("redis: the AOF is not on a volume")
	}
	if c := strings.Join(p.Services["migrate"].Command, " "); c != "migrate up" {
		t.Errorf("migrate command %q", c)
	}
	if dep, ok := p.Services["migrate"].DependsOn["postgres"]; !ok || dep.Condition != types.ServiceConditionHealthy {
		t.Errorf("migrate must wait for a healthy postgres: %+v", p.Services["migrate"].DependsOn)
	}
	for _, name := range []string{"serve", "worker"} {
		s := p.Services[name]
		if c := strings.Join(s.Command, " "); c != name {
			t.Errorf("%s command %q", name, c)
		}
		// Schema first: serve and worker refuse a schema that is behind.
		if dep, ok := s.DependsOn["migrate"]; !ok || dep.Condition != types.ServiceConditionCompletedSuccessfully {
			t.Errorf("%s must wait for migrate to complete: %+v", name, s.DependsOn)
		}
		if dep, ok := s.DependsOn["redis"]; !ok || dep.Condition != types.ServiceConditionHealthy {
			t.Errorf("%s must wait for a healthy redis: %+v", name, s.DependsOn)
		}
	}
	checkAppHealthchecks(t, p)
	for _, name := range []string{"migrate", "serve", "worker"} {
		s := p.Services[name]
		if v := s.Environment["HOOKRELAY_ENV"]; v == nil || *v != "production" {
			t.Errorf("%s: HOOKRELAY_ENV=%v", name, v)
		}
		if v := s.Environment["HOOKRELAY_ENCRYPTION_KEYS"]; v == nil || !strings.HasPrefix(*v, "k1:") {
			t.Errorf("%s: encryption keys not passed through", name)
		}
		if s.Build == nil || s.Build.Dockerfile != "deploy/Dockerfile" {
			t.Errorf("%s: not built from deploy/Dockerfile: %+v", name, s.Build)
		}
	}
}

// TestComposeRequiresVars: without any one required variable (the
// encryption key among them) compose refuses to start, naming it.
func TestComposeRequiresVars(t *testing.T) {
	all := requiredVars(t)
	if _, ok := all["HOOKRELAY_ENCRYPTION_KEYS"]; !ok {
		t.Fatalf("HOOKRELAY_ENCRYPTION_KEYS is not a required variable: %v", all)
	}
	for k := range all {
		env := maps.Clone(all)
		delete(env, k)
		_, err := loadCompose(t, env)
		if err == nil || !strings.Contains(err.Error(), "required variable "+k) {
			t.Errorf("compose without %s: %v", k, err)
		}
	}
}

// checkAppHealthchecks: serve and worker have healthchecks in exec form
// running the image's own binary (distroless: no shell, no curl), and the
// worker's probes the metrics listener it is given.
func checkAppHealthchecks(t *testing.T, p *types.Project) {
	t.Helper()
	df, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^COPY --from=build \S+ (\S+)$`).FindSubmatch(df)
	if m == nil {
		t.Fatal("Dockerfile: no COPY of the binary into the runtime image")
	}
	bin := string(m[1])
	want := map[string][]string{
		"serve":  {"CMD", bin, "healthcheck"},
		"worker": {"CMD", bin, "healthcheck", "--metrics"},
	}
	for name, test := range want {
		hc := p.Services[name].HealthCheck
		if hc == nil || hc.Disable || !slices.Equal(hc.Test, test) {
			t.Errorf("%s: healthcheck %+v, want test %q", name, hc, test)
		}
	}
	if v := p.Services["worker"].Environment["HOOKRELAY_METRICS_LISTEN"]; v == nil || !strings.HasPrefix(*v, "0.0.0.0:") {
		t.Errorf("worker: HOOKRELAY_METRICS_LISTEN=%v, its healthcheck has nothing to probe", v)
	}
	if v := p.Services["worker"].Environment["HOOKRELAY_ENCRYPTION_KEYS"]; v == nil {
		t.Error("worker: its own environment dropped the shared variables")
	}
}
