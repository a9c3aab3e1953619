package config

import (
	"strings"
	"testing"
)

func TestInsecureCookies(t *testing.T) {
	for v, want := range map[string]bool{"": false, "false": false, "true": true, "1": true} {
		c, err := Load(env(map[string]string{"HOOKRELAY_INSECURE_COOKIES": v}))
		if err != nil || c.InsecureCookies != want {
			t.Fatalf("HOOKRELAY_INSECURE_COOKIES=%q: %v %v, want %v", v, c, err, want)
		}
	}
	if _, err := Load(env(map[string]string{"HOOKRELAY_INSECURE_COOKIES": "sometimes"})); err == nil ||
		!strings.Contains(err.Error(), "HOOKRELAY_INSECURE_COOKIES") {
		t.Fatalf("bad value: %v", err)
	}
}
