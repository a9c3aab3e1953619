// Package dashboard serves hookrelay's web pages. Until the dashboard issue
// lands it serves one page that points at the API and the health checks.
package dashboard

import (
	"github.com/gofiber/fiber/v2"
)

const page = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>hookrelay</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#1a1a1a}
code{background:#f2f2f2;padding:.1rem .3rem;border-radius:3px}</style></head>
<body><h1>hookrelay</h1>
<p>The relay is running. The dashboard is not built yet; manage sources, endpoints and events with the
REST API under <code>/api/v1</code> (bearer token from <code>make run</code> or
<code>hookrelay admin token create</code>). See the README for examples.</p>
<ul><li><a href="/healthz">/healthz</a></li><li><a href="/readyz">/readyz</a></li></ul>
</body></html>`

// Mount adds the dashboard's routes to the app.
func Mount(app *fiber.App) {
	app.Get("/", func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
		return c.SendString(page)
	})
}
