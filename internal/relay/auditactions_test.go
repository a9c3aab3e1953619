package relay

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestAuditActionsListed fails when a use case writes an action that
// AuditActions (the dashboard's filter suggestions) does not list.
func TestAuditActionsListed(t *testing.T) {
	// Quoted kind.verb literals; notification types (notify) are not audit rows.
	lit := regexp.MustCompile(`"((?:user|member|invite|team|api_token|source|endpoint|delivery|event|bulk|secrets)\.[a-z_.]+)"`)
	notifications := []string{"delivery.exhausted", "endpoint.disabled", "endpoint.recovered"}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") || f == "auditactions.go" {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range lit.FindAllStringSubmatch(string(b), -1) {
			if !slices.Contains(AuditActions, m[1]) && !slices.Contains(notifications, m[1]) {
				t.Errorf("%s writes %s, which AuditActions does not list", f, m[1])
			}
		}
	}
}
