package dashboard

import (
	"bytes"
	"errors"

	"github.com/gofiber/fiber/v2"
)

// fragmentHeader marks a live-refresh fragment: the script swaps in only
// responses that carry it, never a login page after the session ended.
const fragmentHeader = "X-Hookrelay-Fragment"

// isFragment reports whether the live-refresh script asks for the part of
// the page that changes (?fragment=1) rather than the whole page.
func isFragment(c *fiber.Ctx) bool { return c.Query("fragment") == "1" }

// fragment renders the template name defined in page's file, without the
// layout: the live part of a page that events-live.js polls.
func (d *Dashboard) fragment(c *fiber.Ctx, page, name string, data fiber.Map) error {
	t, ok := d.pages[page]
	if !ok {
		return errors.New("dashboard: no template " + page)
	}
	data["Current"] = current(c)
	data["CSRF"] = d.csrfToken(c)
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, name, data); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fragmentHeader, "1")
	return c.Send(buf.Bytes())
}
