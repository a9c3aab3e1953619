package provider

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestKindsAllConstruct(t *testing.T) {
	for _, k := range Kinds() {
		cfg := Config{}
		switch k {
		case BasicAuth:
			cfg.Username = "u"
		case TokenHeader:
			cfg.Header = "X-Token"
		}
		if _, err := New(k, cfg); err != nil {
			t.Errorf("New(%q): %v", k, err)
		}
	}
	if len(Kinds()) != len(constructors) {
		t.Errorf("Kinds() lists %d kinds, New accepts %d", len(Kinds()), len(constructors))
	}
	if _, err := New("bogus", Config{}); !errors.Is(err, ErrUnknownKind) {
		t.Errorf("unknown kind: %v", err)
	}
}

func TestNewNamesBadField(t *testing.T) {
	for _, tc := range []struct {
		kind  string
		cfg   Config
		field string
	}{
		{HMAC, Config{Algorithm: "md5"}, "algorithm"},
		{HMAC, Config{Encoding: "base32"}, "encoding"},
		{HMAC, Config{Header: "Bad Header"}, "header"},
		{HMAC, Config{SignedContent: "{timestamp}"}, "signed_content"},
		{HMAC, Config{SignedContent: "{timestamp}.{body}"}, "signed_content"},
		{HMAC, Config{TimestampHeader: "X-Ts", SignedContent: "{body}"}, "signed_content"},
		{HMAC, Config{Tolerance: Duration(time.Minute)}, "tolerance"},
		{HMAC, Config{IDHeader: "a:b"}, "id_header"},
		{Stripe, Config{Tolerance: Duration(-time.Second)}, "tolerance"},
		{Stripe, Config{Tolerance: Duration(48 * time.Hour)}, "tolerance"},
		{GitHub, Config{Tolerance: Duration(time.Minute)}, "tolerance"},
		{Stripe, Config{Header: "X"}, "header"},
		{BasicAuth, Config{}, "username"},
		{TokenHeader, Config{}, "header"},
		{None, Config{Username: "x"}, "username"},
	} {
		_, err := New(tc.kind, tc.cfg)
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Field != tc.field || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("New(%s, %+v) = %v, want error on %s", tc.kind, tc.cfg, err, tc.field)
		}
	}
}

func TestConfigJSON(t *testing.T) {
	for in, want := range map[string]time.Duration{
		`{"tolerance":"90s"}`: 90 * time.Second,
		`{"tolerance":300}`:   5 * time.Minute,
		`{"tolerance":"120"}`: 2 * time.Minute,
		`{}`:                  0,
	} {
		var c Config
		if err := json.Unmarshal([]byte(in), &c); err != nil || time.Duration(c.Tolerance) != want {
			t.Errorf("%s: got %v, %v", in, time.Duration(c.Tolerance), err)
		}
	}
	for _, in := range []string{`{"tolerance":"soon"}`, `{"tolerance":-1}`, `{"tolerance":true}`} {
		var c Config
		if err := json.Unmarshal([]byte(in), &c); err == nil || !strings.Contains(err.Error(), "tolerance") {
			t.Errorf("%s: want an error naming tolerance, got %v", in, err)
		}
	}
	b, _ := json.Marshal(Config{Header: "X-Sig", Tolerance: Duration(time.Minute)})
	if string(b) != `{"header":"X-Sig","tolerance":"1m0s"}` {
		t.Errorf("marshal: %s", b)
	}
}

func TestCheckSecret(t *testing.T) {
	if err := CheckSecret(StandardWebhooks, "whsec_!!!"); err == nil || strings.Contains(err.Error(), "!!!") {
		t.Errorf("bad whsec: %v", err)
	}
	if err := CheckSecret(StandardWebhooks, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"); err != nil {
		t.Error(err)
	}
	if err := CheckSecret(Stripe, ""); err == nil {
		t.Error("empty secret accepted")
	}
	if err := CheckSecret(None, ""); err != nil {
		t.Error(err)
	}
}

// TestReasonsNeverLeakSecrets runs every vector and checks no reason or
// error text contains a secret.
func TestReasonsNeverLeakSecrets(t *testing.T) {
	for name, set := range allVectors() {
		for _, v := range set.vs {
			ver, _ := New(set.kind, v.Config)
			_, err := ver.Verify(v.request(), v.Secrets)
			for _, s := range v.Secrets {
				if err != nil && s != "" && strings.Contains(err.Error(), s) {
					t.Errorf("%s/%s: error %q contains a secret", name, v.Name, err)
				}
			}
		}
	}
}
