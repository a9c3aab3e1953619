package charttest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/common/util"
	"helm.sh/helm/v4/pkg/chart/loader"
	"helm.sh/helm/v4/pkg/engine"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/yaml"
)

const chartDir = "../hookrelay"

// secretValues are the least an install without existingSecret needs.
func secretValues() map[string]any {
	return map[string]any{"secrets": map[string]any{
		"databaseURL":    "postgres://hookrelay:pw@db.internal:5432/hookrelay?sslmode=verify-full",
		"encryptionKeys": "k1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
	}}
}

// valueSets are the configurations the chart must render: defaults (plus
// the two required secrets), everything optional switched on, and a
// fixed-size install.
var valueSets = map[string]func() map[string]any{
	"defaults": secretValues,
	"ingress+servicemonitor+existingSecret": func() map[string]any {
		return map[string]any{
			"existingSecret": "hookrelay-prod",
			"ingress": map[string]any{"enabled": true, "className": "nginx", "host": "hooks.example.org",
				"annotations": map[string]any{"cert-manager.io/cluster-issuer": "letsencrypt"},
				"tls":         []any{map[string]any{"secretName": "hooks-tls", "hosts": []any{"hooks.example.org"}}}},
			"serviceMonitor": map[string]any{"enabled": true, "labels": map[string]any{"release": "prom"}},
			"config": map[string]any{"notifyURL": "https://ops.example.org/hook", "trustedProxies": "10.244.0.0/16",
				"extraEnv": map[string]any{"HOOKRELAY_ALLOW_CIDRS": "10.0.0.0/8"}},
		}
	},
	"fixed-size+custom-resources": func() map[string]any {
		v := secretValues()
		v["serve"] = map[string]any{"replicas": 3, "autoscaling": map[string]any{"enabled": false},
			"resources": map[string]any{"requests": map[string]any{"cpu": "1", "memory": "256Mi"}, "limits": map[string]any{"cpu": "2", "memory": "1Gi"}}}
		v["worker"] = map[string]any{"replicas": 5, "concurrency": 200, "pdb": map[string]any{"enabled": false}}
		v["migration"] = map[string]any{"enabled": false}
		return v
	},
}

// object is one rendered document, decoded.
type object struct {
	file string
	kind string
	name string
	obj  any
	hook string
}

// render renders the chart with vals the way `helm template` does.
func render(t *testing.T, vals map[string]any) ([]object, error) {
	t.Helper()
	ch, err := loader.Load(chartDir)
	if err != nil {
		t.Fatalf("load chart: %v", err)
	}
	rv, err := util.ToRenderValues(ch, vals, common.ReleaseOptions{Name: "hr", Namespace: "relay", IsInstall: true},
		common.DefaultCapabilities)
	if err != nil {
		return nil, err
	}
	out, err := engine.Render(ch, rv)
	if err != nil {
		return nil, err
	}
	files := make([]string, 0, len(out))
	for f := range out {
		files = append(files, f)
	}
	sort.Strings(files)
	var objs []object
	for _, f := range files {
		if !strings.HasSuffix(f, ".yaml") {
			continue
		}
		for _, doc := range strings.Split(out[f], "\n---") {
			if strings.TrimSpace(stripComments(doc)) == "" {
				continue
			}
			o, err := decodeStrict(doc)
			if err != nil {
				t.Fatalf("%s: %v\n%s", f, err, doc)
			}
			o.file = filepath.Base(f)
			objs = append(objs, o)
		}
	}
	return objs, nil
}

func stripComments(doc string) string {
	var b strings.Builder
	for _, l := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// decodeStrict turns one YAML document into its Go type; a field the type
// does not have (a misspelling, a wrong nesting) is an error.
func decodeStrict(doc string) (object, error) {
	js, err := yaml.YAMLToJSON([]byte(doc))
	if err != nil {
		return object{}, err
	}
	var meta struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Metadata   struct {
			Name        string            `json:"name"`
			Annotations map[string]string `json:"annotations"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(js, &meta); err != nil {
		return object{}, err
	}
	var obj any
	switch meta.APIVersion + "/" + meta.Kind {
	case "apps/v1/Deployment":
		obj = &appsv1.Deployment{}
	case "v1/Service":
		obj = &corev1.Service{}
	case "v1/Secret":
		obj = &corev1.Secret{}
	case "v1/ServiceAccount":
		obj = &corev1.ServiceAccount{}
	case "batch/v1/Job":
		obj = &batchv1.Job{}
	case "autoscaling/v2/HorizontalPodAutoscaler":
		obj = &autoscalingv2.HorizontalPodAutoscaler{}
	case "policy/v1/PodDisruptionBudget":
		obj = &policyv1.PodDisruptionBudget{}
	case "networking.k8s.io/v1/Ingress":
		obj = &networkingv1.Ingress{}
	case "monitoring.coreos.com/v1/ServiceMonitor":
		obj = &monitoringv1.ServiceMonitor{}
	default:
		return object{}, fmt.Errorf("no Go type known for %s %s", meta.APIVersion, meta.Kind)
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(obj); err != nil {
		return object{}, fmt.Errorf("%s %s: %w", meta.Kind, meta.Metadata.Name, err)
	}
	return object{kind: meta.Kind, name: meta.Metadata.Name, obj: obj, hook: meta.Metadata.Annotations["helm.sh/hook"]}, nil
}

func find[T any](objs []object, kind, name string) T {
	for _, o := range objs {
		if o.kind == kind && o.name == name {
			return o.obj.(T)
		}
	}
	var zero T
	return zero
}

func kinds(objs []object) []string {
	var ks []string
	for _, o := range objs {
		ks = append(ks, o.kind+"/"+o.name)
	}
	return ks
}

func TestChartRendersStrictly(t *testing.T) {
	for name, vals := range valueSets {
		t.Run(name, func(t *testing.T) {
			objs, err := render(t, vals())
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("rendered %v", kinds(objs))
			serve := find[*appsv1.Deployment](objs, "Deployment", "hr-hookrelay-serve")
			worker := find[*appsv1.Deployment](objs, "Deployment", "hr-hookrelay-worker")
			if serve == nil || worker == nil {
				t.Fatalf("serve or worker Deployment missing: %v", kinds(objs))
			}
			for _, d := range []*appsv1.Deployment{serve, worker} {
				checkPod(t, d.Name, d.Spec.Template.Spec)
			}
			c := serve.Spec.Template.Spec.Containers[0]
			if c.LivenessProbe == nil || c.LivenessProbe.HTTPGet.Path != "/healthz" ||
				c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet.Path != "/readyz" {
				t.Errorf("serve probes: liveness %+v readiness %+v", c.LivenessProbe, c.ReadinessProbe)
			}
			if got := strings.Join(c.Args, " "); got != "serve" {
				t.Errorf("serve args %q", got)
			}
			if want := map[bool]string{true: "10.244.0.0/16"}[name == "ingress+servicemonitor+existingSecret"]; env(c, "HOOKRELAY_TRUSTED_PROXIES") != want {
				t.Errorf("serve HOOKRELAY_TRUSTED_PROXIES %q, want %q", env(c, "HOOKRELAY_TRUSTED_PROXIES"), want)
			}
			w := worker.Spec.Template.Spec.Containers[0]
			if w.LivenessProbe == nil || w.LivenessProbe.HTTPGet.Path != "/healthz" || env(w, "HOOKRELAY_METRICS_LISTEN") == "" {
				t.Errorf("worker probe %+v, metrics listen %q", w.LivenessProbe, env(w, "HOOKRELAY_METRICS_LISTEN"))
			}
			hpa := find[*autoscalingv2.HorizontalPodAutoscaler](objs, "HorizontalPodAutoscaler", "hr-hookrelay-serve")
			job := find[*batchv1.Job](objs, "Job", "hr-hookrelay-migrate")
			switch name {
			case "fixed-size+custom-resources":
				if hpa != nil || serve.Spec.Replicas == nil || *serve.Spec.Replicas != 3 {
					t.Errorf("autoscaling off: hpa %v, replicas %v", hpa != nil, serve.Spec.Replicas)
				}
				if got := c.Resources.Limits.Cpu().String(); got != "2" {
					t.Errorf("serve cpu limit %s", got)
				}
				if env(w, "HOOKRELAY_WORKER_CONCURRENCY") != "200" || *worker.Spec.Replicas != 5 {
					t.Errorf("worker concurrency %q replicas %d", env(w, "HOOKRELAY_WORKER_CONCURRENCY"), *worker.Spec.Replicas)
				}
				if job != nil || find[*policyv1.PodDisruptionBudget](objs, "PodDisruptionBudget", "hr-hookrelay-worker") != nil {
					t.Error("migration or worker PDB rendered while disabled")
				}
			default:
				if hpa == nil || hpa.Spec.ScaleTargetRef.Name != serve.Name || serve.Spec.Replicas != nil {
					t.Errorf("HPA must own serve's replica count: hpa %v, replicas %v", hpa, serve.Spec.Replicas)
				}
				if find[*policyv1.PodDisruptionBudget](objs, "PodDisruptionBudget", "hr-hookrelay-serve") == nil {
					t.Error("no serve PDB")
				}
				if job == nil {
					t.Fatal("no migration Job")
				}
				checkPod(t, job.Name, job.Spec.Template.Spec)
				if got := strings.Join(job.Spec.Template.Spec.Containers[0].Args, " "); got != "migrate up" {
					t.Errorf("migration args %q", got)
				}
				if h := hookOf(objs, "Job", job.Name); h != "pre-install,pre-upgrade" {
					t.Errorf("migration Job hook %q", h)
				}
			}
			sec := find[*corev1.Secret](objs, "Secret", "hr-hookrelay-secrets")
			if name == "ingress+servicemonitor+existingSecret" {
				if sec != nil {
					t.Error("chart made a Secret although existingSecret is set")
				}
				if ref := secretRef(c, "HOOKRELAY_DATABASE_URL"); ref != "hookrelay-prod" {
					t.Errorf("database URL from secret %q", ref)
				}
				ing := find[*networkingv1.Ingress](objs, "Ingress", "hr-hookrelay")
				if ing == nil || ing.Spec.Rules[0].Host != "hooks.example.org" || len(ing.Spec.TLS) != 1 {
					t.Errorf("ingress %+v", ing)
				}
				sm := find[*monitoringv1.ServiceMonitor](objs, "ServiceMonitor", "hr-hookrelay")
				if sm == nil || len(sm.Spec.Endpoints) != 2 || sm.Spec.Endpoints[0].BearerTokenSecret == nil {
					t.Errorf("service monitor %+v", sm)
				}
			} else {
				if sec == nil || hookOf(objs, "Secret", sec.Name) == "" {
					t.Fatalf("no chart Secret, or not created before the migration hook: %v", kinds(objs))
				}
				if ref := secretRef(c, "HOOKRELAY_ENCRYPTION_KEYS"); ref != sec.Name {
					t.Errorf("encryption keys from secret %q", ref)
				}
			}
		})
	}
}

// checkPod asserts what every hookrelay pod needs: production mode,
// secrets from a Secret (never inline), a non-root locked-down container.
func checkPod(t *testing.T, name string, p corev1.PodSpec) {
	t.Helper()
	if p.SecurityContext == nil || p.SecurityContext.RunAsNonRoot == nil || !*p.SecurityContext.RunAsNonRoot {
		t.Errorf("%s: pod not runAsNonRoot", name)
	}
	for _, c := range p.Containers {
		sc := c.SecurityContext
		if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
			sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
			sc.Capabilities == nil || len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL" {
			t.Errorf("%s/%s: security context %+v", name, c.Name, sc)
		}
		if env(c, "HOOKRELAY_ENV") != "production" {
			t.Errorf("%s/%s: HOOKRELAY_ENV=%q", name, c.Name, env(c, "HOOKRELAY_ENV"))
		}
		for _, k := range []string{"HOOKRELAY_DATABASE_URL", "HOOKRELAY_ENCRYPTION_KEYS", "HOOKRELAY_REDIS_PASSWORD", "HOOKRELAY_METRICS_TOKEN"} {
			if secretRef(c, k) == "" {
				t.Errorf("%s/%s: %s not from a Secret", name, c.Name, k)
			}
		}
		if c.Resources.Requests.Memory().IsZero() {
			t.Errorf("%s/%s: no memory request", name, c.Name)
		}
	}
}

func env(c corev1.Container, k string) string {
	for _, e := range c.Env {
		if e.Name == k {
			return e.Value
		}
	}
	return ""
}

func secretRef(c corev1.Container, k string) string {
	for _, e := range c.Env {
		if e.Name == k && e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			return e.ValueFrom.SecretKeyRef.Name
		}
	}
	return ""
}

func hookOf(objs []object, kind, name string) string {
	for _, o := range objs {
		if o.kind == kind && o.name == name {
			return o.hook
		}
	}
	return ""
}

// TestChartRequiresSecrets: without existingSecret and without the two
// required secrets the chart refuses to render, naming the value.
func TestChartRequiresSecrets(t *testing.T) {
	_, err := render(t, nil)
	if err == nil || !strings.Contains(err.Error(), "secrets.databaseURL is required") {
		t.Fatalf("render without secrets: %v", err)
	}
	_, err = render(t, map[string]any{"secrets": map[string]any{"databaseURL": "postgres://x/y"}})
	if err == nil || !strings.Contains(err.Error(), "secrets.encryptionKeys is required") {
		t.Fatalf("render without encryption keys: %v", err)
	}
}

func TestChartLint(t *testing.T) {
	for name, vals := range valueSets {
		l := action.NewLint()
		l.Strict = true
		l.Namespace = "relay"
		res := l.Run([]string{chartDir}, vals())
		for _, m := range res.Messages {
			t.Logf("%s: %s", name, m)
		}
		if len(res.Errors) > 0 || res.TotalChartsLinted != 1 {
			t.Errorf("%s: helm lint: %v", name, res.Errors)
		}
	}
}
