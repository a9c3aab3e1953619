package config

import (
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaultsAreLocal(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Env != EnvLocal || c.Listen != "127.0.0.1:8080" || c.PublicURL != "http://127.0.0.1:8080" ||
		c.MaxBodyBytes != 1<<20 || c.StripeTolerance != 5*time.Minute || c.PollInterval != 10*time.Millisecond {
		t.Fatalf("defaults: %+v", c)
	}
	if len(c.AllowCIDRs) != 2 || c.AllowCIDRs[0].String() != "127.0.0.0/8" {
		t.Fatalf("local mode should allow loopback, got %v", c.AllowCIDRs)
	}
}

func TestProductionNeedsKeyAndRefusesLoopback(t *testing.T) {
	if _, err := Load(env(map[string]string{"HOOKRELAY_ENV": "production"})); err == nil ||
		!strings.Contains(err.Error(), "HOOKRELAY_ENCRYPTION_KEYS") {
		t.Fatalf("want a missing-key error, got %v", err)
	}
	c, err := Load(env(map[string]string{"HOOKRELAY_ENV": "production", "HOOKRELAY_ENCRYPTION_KEYS": "k1:x",
		"HOOKRELAY_METRICS_TOKEN": "t"}))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.AllowCIDRs) != 0 {
		t.Fatalf("production allows %v by default", c.AllowCIDRs)
	}
}

func TestBadValuesNamed(t *testing.T) {
	_, err := Load(env(map[string]string{"HOOKRELAY_MAX_BODY_BYTES": "-1", "HOOKRELAY_POLL_INTERVAL": "soon",
		"HOOKRELAY_ALLOW_CIDRS": "10.0.0.0/33", "HOOKRELAY_ENV": "staging", "HOOKRELAY_RETRY_JITTER": "2"}))
	for _, want := range []string{"HOOKRELAY_MAX_BODY_BYTES", "HOOKRELAY_POLL_INTERVAL", "HOOKRELAY_ALLOW_CIDRS", "HOOKRELAY_ENV", "HOOKRELAY_RETRY_JITTER"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not name %s", err, want)
		}
	}
}

func TestRedactedHidesSecrets(t *testing.T) {
	c, err := Load(env(map[string]string{"HOOKRELAY_ENCRYPTION_KEYS": "k1:c2VjcmV0", "HOOKRELAY_REDIS_PASSWORD": "hunter2",
		"HOOKRELAY_DATABASE_URL": "postgres://u:pw123@db:5432/x?sslmode=disable"}))
	if err != nil {
		t.Fatal(err)
	}
	var all strings.Builder
	for _, kv := range c.Redacted() {
		all.WriteString(kv[0] + "=" + kv[1] + "\n")
	}
	for _, secret := range []string{"c2VjcmV0", "hunter2", "pw123"} {
		if strings.Contains(all.String(), secret) {
			t.Fatalf("redacted config shows %q:\n%s", secret, all.String())
		}
	}
	if !strings.Contains(all.String(), "postgres://u:xxxxx@db:5432/x") {
		t.Fatalf("database URL not shown redacted:\n%s", all.String())
	}
}

func TestTeamCreation(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil || c.TeamCreation != "owners" {
		t.Fatalf("default team creation %q, %v", c.TeamCreation, err)
	}
	if c, err = Load(env(map[string]string{"HOOKRELAY_TEAM_CREATION": "Anyone"})); err != nil || c.TeamCreation != "anyone" {
		t.Fatalf("anyone: %v", err)
	}
	if _, err = Load(env(map[string]string{"HOOKRELAY_TEAM_CREATION": "admins"})); err == nil ||
		!strings.Contains(err.Error(), "HOOKRELAY_TEAM_CREATION") {
		t.Fatalf("a bad value is accepted: %v", err)
	}
}

// TestTrustedProxies: addresses and CIDRs are kept as given; anything
// else is refused, naming the variable and the value.
func TestTrustedProxies(t *testing.T) {
	c, err := Load(env(map[string]string{"HOOKRELAY_TRUSTED_PROXIES": " 10.0.0.0/8, 192.0.2.1 ,"}))
	if err != nil || strings.Join(c.TrustedProxies, "|") != "10.0.0.0/8|192.0.2.1" {
		t.Fatalf("trusted proxies %q, %v", c.TrustedProxies, err)
	}
	if c, err = Load(env(nil)); err != nil || len(c.TrustedProxies) != 0 {
		t.Fatalf("default trusts %q, %v", c.TrustedProxies, err)
	}
	_, err = Load(env(map[string]string{"HOOKRELAY_TRUSTED_PROXIES": "10.0.0.0/8,lb.internal"}))
	if err == nil || !strings.Contains(err.Error(), "HOOKRELAY_TRUSTED_PROXIES") || !strings.Contains(err.Error(), "lb.internal") {
		t.Fatalf("bad proxy accepted or not named: %v", err)
	}
}
