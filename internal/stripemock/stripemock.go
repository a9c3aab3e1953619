// Package stripemock starts stripe-mock (github.com/stripe/stripe-mock,
// installed by deploy/test-deps.sh) for tests: Stripe's API on loopback,
// never Stripe itself.
package stripemock

import (
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Start runs stripe-mock on free loopback ports (both its HTTP and HTTPS
// listeners: by default it listens on every interface) until the test
// ends, and returns its HTTP base URL once it answers. Missing, it fails
// the test in CI (CI=true) and skips it elsewhere.
func Start(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("stripe-mock")
	if err != nil {
		gopath, _ := exec.Command("go", "env", "GOPATH").Output()
		bin = filepath.Join(strings.TrimSpace(string(gopath)), "bin", "stripe-mock")
		if _, err := os.Stat(bin); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatal("stripe-mock not installed (deploy/test-deps.sh installs it)")
			}
			t.Skip("stripe-mock not installed: go install github.com/stripe/stripe-mock@v0.203.0")
		}
	}
	httpAddr, httpsAddr := freeAddr(t), freeAddr(t)
	cmd := exec.Command(bin, "-http-addr", httpAddr, "-https-addr", httpsAddr)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	base := "http://" + httpAddr
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		req, _ := http.NewRequest(http.MethodGet, base+"/v1/events", nil)
		req.Header.Set("Authorization", "Bearer sk_test_ready")
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return base
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("stripe-mock never answered")
		}
	}
}

func freeAddr(t testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
