package dashboard

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hookrelay/hookrelay/internal/store"
)

// csvPage is how many rows the export reads per query.
const csvPage = 500

// csvCell keeps a spreadsheet from running a cell as a formula (CSV
// injection): values from users, such as names and URLs, could start with
// one of these.
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// auditCSV streams the audit log with the page's filters as CSV, newest
// first, reading it in pages so a long log never sits in memory.
func (d *Dashboard) auditCSV(c *fiber.Ctx) error {
	f, _, err := auditSearch(c)
	if err != nil {
		return err
	}
	// The values outlive the handler: copy them out of Fiber's buffers.
	f.TeamID, f.Action, f.Actor = strings.Clone(f.TeamID), strings.Clone(f.Action), strings.Clone(f.Actor)
	f.TargetID, f.Before, f.Limit = strings.Clone(f.TargetID), strings.Clone(f.Before), csvPage
	st, log, ips := d.Relay.Store(), d.Logger, showIPs(c)
	name := "hookrelay-audit-" + time.Now().UTC().Format("20060102-150405") + ".csv"
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+name+`"`)
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Context().SetBodyStreamWriter(func(bw *bufio.Writer) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		w := csv.NewWriter(bw)
		_ = w.Write([]string{"time", "actor", "action", "target_kind", "target_id", "ip", "details", "id"})
		for {
			rows, err := st.SearchAudit(ctx, f)
			if err != nil {
				log.Error("audit_export_failed", "team_id", f.TeamID, "error", err.Error())
				_ = w.Write([]string{"error: the export stopped early; try again"})
				break
			}
			for _, a := range rows {
				if !ips {
					a.IP = "" // client addresses are for admins (showIPs)
				}
				_ = w.Write(auditRecord(a))
			}
			w.Flush()
			if w.Error() != nil || bw.Flush() != nil || len(rows) < f.Limit {
				return
			}
			f.Before = rows[len(rows)-1].ID
		}
		w.Flush()
	})
	return nil
}

func auditRecord(a store.AuditEntry) []string {
	details, _ := json.Marshal(a.Details)
	return []string{auditTime(a.At), csvCell(a.Actor), a.Action, a.TargetKind, csvCell(a.TargetID), a.IP,
		csvCell(string(details)), a.ID}
}
