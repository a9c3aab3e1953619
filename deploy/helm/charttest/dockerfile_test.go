package charttest

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

const dockerfile = "../../Dockerfile"

// dockerStages splits the Dockerfile into instructions (continuation
// lines joined) per stage.
func dockerInstructions(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(dockerfile)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	var cur strings.Builder
	for _, l := range strings.Split(string(b), "\n") {
		s := strings.TrimSpace(l)
		if cur.Len() == 0 && (s == "" || strings.HasPrefix(s, "#")) {
			continue
		}
		if strings.HasSuffix(s, "\\") {
			cur.WriteString(strings.TrimSuffix(s, "\\") + " ")
			continue
		}
		cur.WriteString(s)
		out = append(out, cur.String())
		cur.Reset()
	}
	return out
}

// TestDockerBuildCommand runs the build stage's `go build` exactly as the
// Dockerfile writes it (with VERSION set as the build arg would) and checks
// the binary is static and reports the stamped version.
func TestDockerBuildCommand(t *testing.T) {
	var build string
	var final []string // instructions of the last stage
	for _, in := range dockerInstructions(t) {
		if strings.HasPrefix(in, "FROM ") {
			final = nil
		}
		final = append(final, in)
		if strings.HasPrefix(in, "RUN ") && strings.Contains(in, "go build") {
			build = strings.TrimPrefix(in, "RUN ")
		}
	}
	if build == "" {
		t.Fatal("no RUN … go build in the Dockerfile")
	}
	if !strings.Contains(build, "CGO_ENABLED=0") {
		t.Errorf("build is not static: %s", build)
	}
	out := regexp.MustCompile(`-o\s+(\S+)`).FindStringSubmatch(build)
	if out == nil {
		t.Fatalf("no -o in %q", build)
	}
	bin := filepath.Join(t.TempDir(), "hookrelay")
	cmdline := strings.Replace(build, out[0], "-o "+bin, 1)
	cmd := exec.Command("/bin/sh", "-c", cmdline)
	cmd.Dir = "../../.." // the build context is the repository root
	cmd.Env = append(os.Environ(), "VERSION=v9.8.7-test")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", cmdline, err, b)
	}
	v, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil || strings.TrimSpace(string(v)) != "hookrelay v9.8.7-test" {
		t.Fatalf("version: %q %v", v, err)
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("binary is dynamically linked (has an ELF interpreter)")
		}
	}

	last := strings.Join(final, "\n")
	if !regexp.MustCompile(`(?m)^USER\s+(nonroot|[1-9][0-9]*)`).MatchString(last) {
		t.Errorf("runtime stage does not run as non-root:\n%s", last)
	}
	if !strings.Contains(last, "COPY --from=") || strings.Contains(last, "golang:") {
		t.Errorf("runtime stage is not a slim copy of the binary:\n%s", last)
	}
}
