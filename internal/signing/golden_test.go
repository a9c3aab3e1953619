package signing

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "regenerate testdata/vectors.json from goldenCases")

const goldenPath = "testdata/vectors.json"

// Fixed test secrets. The ed25519 one is the 32-byte seed 0x00..0x1f; its
// public key is recorded in the vectors so consumers can check v1a entries.
const (
	goldenSecretB  = "whsec_c2Vjb25kLXNlY3JldC1mb3Itcm90YXRpb24tdGVzdHM="
	goldenEd25519  = "whsk_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
	goldenGitHubSK = "It's a Secret to Everybody"
)

// goldenCase is one vector: inputs and the headers Sign must produce.
type goldenCase struct {
	Name      string            `json:"name"`
	Scheme    Scheme            `json:"scheme"`
	Secrets   []string          `json:"secrets"`
	PublicKey string            `json:"public_key,omitempty"` // for cases with a whsk_ secret
	ID        string            `json:"id"`
	Timestamp int64             `json:"timestamp"`
	Body      string            `json:"body"`
	Headers   map[string]string `json:"headers"`
}

// goldenCases are the inputs; -update fills in their headers.
func goldenCases() []goldenCase {
	stripeBody := `{"id":"evt_1","object":"event","api_version":"2023-10-16","type":"charge.succeeded"}`
	return []goldenCase{
		{Name: "standard-webhooks spec vector", Scheme: StandardWebhooks, Secrets: []string{specSecret}, ID: specID, Timestamp: specTS, Body: specBody},
		{Name: "standard-webhooks two-secret rotation", Scheme: StandardWebhooks, Secrets: []string{goldenSecretB, specSecret}, ID: specID, Timestamp: specTS, Body: specBody},
		{Name: "standard-webhooks ed25519", Scheme: StandardWebhooks, Secrets: []string{goldenEd25519}, ID: "evt_01JD8Y7G4B1F0T5Q2Z9X3K6M8N", Timestamp: 1732600000, Body: `{"type":"order.paid","amount":4200}`},
		{Name: "standard-webhooks ed25519 plus hmac", Scheme: StandardWebhooks, Secrets: []string{goldenEd25519, specSecret}, ID: "evt_01JD8Y7G4B1F0T5Q2Z9X3K6M8N", Timestamp: 1732600000, Body: `{"type":"order.paid","amount":4200}`},
		{Name: "standard-webhooks empty body", Scheme: StandardWebhooks, Secrets: []string{specSecret}, ID: "evt_empty", Timestamp: 1732600001, Body: ""},
		{Name: "standard-webhooks non-json body", Scheme: StandardWebhooks, Secrets: []string{specSecret}, ID: "evt_form", Timestamp: 1732600002, Body: "a=1&b=%C3%A9\r\n\x00end ü"},
		{Name: "stripe single secret", Scheme: Stripe, Secrets: []string{specSecret}, ID: "evt_1", Timestamp: 1732600000, Body: stripeBody},
		{Name: "stripe two-secret rotation", Scheme: Stripe, Secrets: []string{goldenSecretB, specSecret}, ID: "evt_1", Timestamp: 1732600000, Body: stripeBody},
		// GitHub's documented example: secret and body from docs.github.com "Validating webhook deliveries".
		{Name: "github docs example", Scheme: GitHub, Secrets: []string{goldenGitHubSK}, ID: "evt_gh", Timestamp: 1732600000, Body: "Hello, World!"},
		{Name: "github rotation signs with newest only", Scheme: GitHub, Secrets: []string{specSecret, goldenGitHubSK}, ID: "evt_gh", Timestamp: 1732600000, Body: `{"action":"opened"}`},
		{Name: "none", Scheme: None, Secrets: nil, ID: "evt_none", Timestamp: 1732600000, Body: `{}`},
	}
}

// signGolden runs Sign on a case's inputs and flattens the headers.
func signGolden(t *testing.T, c goldenCase) map[string]string {
	t.Helper()
	h := http.Header{}
	msg := Message{ID: c.ID, Timestamp: time.Unix(c.Timestamp, 0), Body: []byte(c.Body)}
	if err := Sign(c.Scheme, c.Secrets, msg, h); err != nil {
		t.Fatalf("%s: %v", c.Name, err)
	}
	out := make(map[string]string, len(h))
	for k, v := range h {
		if len(v) != 1 {
			t.Fatalf("%s: header %s has %d values", c.Name, k, len(v))
		}
		out[k] = v[0]
	}
	return out
}

func TestGolden(t *testing.T) {
	if *update {
		cases := goldenCases()
		for i := range cases {
			cases[i].Headers = signGolden(t, cases[i])
			for _, s := range cases[i].Secrets {
				if pub, err := PublicKey(s); err == nil {
					cases[i].PublicKey = pub
				}
			}
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(cases); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.FromSlash(goldenPath), buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %d vectors to %s", len(cases), goldenPath)
	}

	raw, err := os.ReadFile(filepath.FromSlash(goldenPath))
	if err != nil {
		t.Fatalf("%v (run: go test ./internal/signing -run Golden -update)", err)
	}
	var stored []goldenCase
	if err := json.Unmarshal(raw, &stored); err != nil {
		t.Fatal(err)
	}
	// The stored inputs must be exactly the cases in code, so a case added,
	// removed or edited in either place without -update is caught.
	want := goldenCases()
	if len(stored) != len(want) {
		t.Fatalf("%s has %d cases, code has %d: run with -update", goldenPath, len(stored), len(want))
	}
	for i, c := range stored {
		in := c
		in.Headers, in.PublicKey = nil, ""
		if !reflect.DeepEqual(in, want[i]) {
			t.Errorf("case %d %q: inputs differ from goldenCases(): run with -update", i, c.Name)
			continue
		}
		if got := signGolden(t, c); !reflect.DeepEqual(got, c.Headers) {
			t.Errorf("%s: signature drift\n got  %v\n want %v", c.Name, got, c.Headers)
		}
		if c.PublicKey != "" {
			if pub, err := PublicKey(goldenEd25519); err != nil || pub != c.PublicKey {
				t.Errorf("%s: public key drift: %q, %v", c.Name, pub, err)
			}
		}
	}
}
