package provider

import (
	"bytes"
	"encoding/json"
	"flag"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.json from the test vectors")

// goldenFile is one provider's recorded vectors: inputs and the outcome
// the verifier gave when the file was written.
type goldenFile struct {
	Kind  string   `json:"kind"`
	Cases []vector `json:"cases"`
}

// TestGolden replays testdata/<provider>.json and fails when a verifier's
// output drifts from the recorded one. With -update it records the current
// output of the vectors built in the tests instead.
func TestGolden(t *testing.T) {
	sets := allVectors()
	for _, name := range slices.Sorted(maps.Keys(sets)) {
		path := filepath.Join("testdata", name+".json")
		t.Run(name, func(t *testing.T) {
			if *update {
				set := sets[name]
				f := goldenFile{Kind: set.kind}
				for _, v := range set.vs {
					v.Outcome = run(t, set.kind, v)
					f.Cases = append(f.Cases, v)
				}
				var buf bytes.Buffer
				enc := json.NewEncoder(&buf)
				enc.SetIndent("", "  ")
				enc.SetEscapeHTML(false)
				if err := enc.Encode(f); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./internal/provider -run Golden -update)", err)
			}
			var f goldenFile
			if err := json.Unmarshal(raw, &f); err != nil {
				t.Fatal(err)
			}
			if len(f.Cases) == 0 {
				t.Fatal("no cases")
			}
			// The stored inputs must be exactly the vectors in code, so a
			// case added, removed or edited in either place without
			// -update is caught, as in internal/signing's golden test.
			want := sets[name]
			if f.Kind != want.kind || len(f.Cases) != len(want.vs) {
				t.Fatalf("%s: kind %q with %d cases, code has %q with %d: run with -update",
					path, f.Kind, len(f.Cases), want.kind, len(want.vs))
			}
			for i, v := range f.Cases {
				if inputsOf(t, v) != inputsOf(t, want.vs[i]) {
					t.Errorf("case %d %q: stored inputs differ from the vectors in code: run with -update", i, v.Name)
				}
			}
			for _, v := range f.Cases {
				if got := run(t, f.Kind, v); !equalOutcome(got, v.Outcome) {
					t.Errorf("%s: got %s, recorded %s", v.Name, show(got), show(v.Outcome))
				}
			}
		})
	}
}

// inputsOf is a vector without its outcome, as JSON: what the golden file
// and the code must agree on.
func inputsOf(t *testing.T, v vector) string {
	t.Helper()
	v.Outcome = Outcome{}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
