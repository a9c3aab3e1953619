package api_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/testenv"
)

// auditPage is one answer of GET /api/v1/audit.
type auditPage struct {
	Data       []store.AuditEntry `json:"data"`
	NextCursor string             `json:"next_cursor"`
}

func (e *env) audit(query string) auditPage {
	e.t.Helper()
	var p auditPage
	e.call("GET", "/api/v1/audit?"+query, nil, 200, &p)
	return p
}

func actions(rows []store.AuditEntry) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.Action
	}
	return out
}

func TestAuditListNewestFirstWithFilters(t *testing.T) {
	e := newEnv(t)
	// Ids are minted per millisecond: space the mutations so their order is certain.
	step := func() { time.Sleep(3 * time.Millisecond) }
	src := str(e.createSource("s"), "id")
	step()
	e.call("PATCH", "/api/v1/sources/"+src, obj{"name": "renamed"}, 200, nil)
	step()
	ep := str(e.createEndpoint("http://127.0.0.1:9/", nil, src), "id")
	step()
	e.call("POST", "/api/v1/endpoints/"+ep+"/secret/reveal", nil, 200, nil)
	step()
	e.call("POST", "/api/v1/endpoints/"+ep+"/disable", nil, 200, nil)

	p := e.audit("")
	want := []string{"endpoint.disable", "endpoint.secret.reveal", "endpoint.create", "source.update", "source.create", "api_token.create"}
	if got := actions(p.Data); !slices.Equal(got, want) || p.NextCursor != "" {
		t.Fatalf("audit %v (next %q), want %v", got, p.NextCursor, want)
	}
	for _, r := range p.Data[:5] {
		if r.Actor != "token:"+e.tokenID || r.IP != testIP || r.TeamID != e.team || r.At.IsZero() || r.TargetID == "" {
			t.Fatalf("row %+v", r)
		}
	}
	if r := p.Data[5]; r.Actor != "system:hookrelay" || r.TargetID != e.tokenID {
		t.Fatalf("token creation row %+v", r)
	}
	if r := p.Data[1]; r.TargetKind != "endpoint" || r.TargetID != ep {
		t.Fatalf("reveal row %+v", r)
	}

	if got := e.audit("action=source.update").Data; len(got) != 1 || got[0].TargetID != src || got[0].Details["after"] == nil {
		t.Fatalf("action filter: %+v", got)
	}
	if got := actions(e.audit("target_id=" + src).Data); !slices.Equal(got, []string{"source.update", "source.create"}) {
		t.Fatalf("target filter: %v", got)
	}
	if got := actions(e.audit("target_id=" + ep + "&action=endpoint.create").Data); !slices.Equal(got, []string{"endpoint.create"}) {
		t.Fatalf("both filters: %v", got)
	}
	if got := e.audit("action=nothing.happened").Data; len(got) != 0 {
		t.Fatalf("unknown action: %v", got)
	}

	var seen []string
	q := "limit=4"
	for range 3 {
		p := e.audit(q)
		seen = append(seen, actions(p.Data)...)
		if p.NextCursor == "" {
			break
		}
		q = "limit=4&cursor=" + p.NextCursor
	}
	if !slices.Equal(seen, want) {
		t.Fatalf("pages %v, want %v", seen, want)
	}
}

// TestAuditCursorWithOversizedLimit: a limit the store clamps must still
// yield a cursor when more rows exist.
func TestAuditCursorWithOversizedLimit(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for range 120 {
		testenv.Must(t, e.st.InsertAudit(ctx, &store.AuditEntry{TeamID: e.team, Actor: "system:test", Action: "test.row", At: time.Now()}))
	}
	for _, q := range []string{"limit=1000", "limit=0", "limit=many", ""} {
		p := e.audit(q + "&action=test.row")
		if len(p.Data) != 100 || p.NextCursor != p.Data[99].ID {
			t.Fatalf("%q: %d rows, next %q", q, len(p.Data), p.NextCursor)
		}
		if rest := e.audit("action=test.row&cursor=" + p.NextCursor); len(rest.Data) != 20 || rest.NextCursor != "" {
			t.Fatalf("%q: second page %d rows, next %q", q, len(rest.Data), rest.NextCursor)
		}
	}
}
