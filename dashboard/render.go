package dashboard

import (
	"bytes"
	"embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"html/template"
	"io/fs"
	"path"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/hookrelay/hookrelay/internal/relay"
)

//go:embed templates/*.html
var templateFS embed.FS

// FieldErrors maps a form field name to what is wrong with it.
type FieldErrors map[string]string

// fieldErr is one field's error, for the "field-error" partial.
type fieldErr struct{ Field, Msg string }

// parseTemplates parses layout.html and partials.html once, then each other
// file in templates/ as a page on a clone of them.
func (d *Dashboard) parseTemplates() map[string]*template.Template {
	base := template.Must(template.New("layout").Funcs(d.funcs()).
		ParseFS(templateFS, "templates/layout.html", "templates/partials.html"))
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	pages := map[string]*template.Template{}
	for _, f := range files {
		name := strings.TrimSuffix(path.Base(f), ".html")
		if name == "layout" || name == "partials" {
			continue
		}
		pages[name] = template.Must(template.Must(base.Clone()).ParseFS(templateFS, f))
	}
	return pages
}

// render executes templates/<name>.html inside the layout with c's status.
func (d *Dashboard) render(c *fiber.Ctx, name string, data fiber.Map) error {
	t, ok := d.pages[name]
	if !ok {
		return errors.New("dashboard: no template " + name)
	}
	if data == nil {
		data = fiber.Map{}
	}
	cur := current(c)
	data["Current"] = cur
	if cur != nil {
		for _, m := range cur.Teams {
			if m.TeamID == cur.TeamID {
				data["Team"] = m.TeamName
			}
		}
	}
	data["ShowQueues"] = d.queuesRole(c) != ""
	data["CSRF"] = d.csrfToken(c)
	data["Flash"] = d.takeFlash(c)
	if _, ok := data["Errors"].(FieldErrors); !ok {
		data["Errors"] = FieldErrors{}
	}
	if _, ok := data["Form"].(map[string]string); !ok {
		data["Form"] = map[string]string{}
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", data); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Send(buf.Bytes())
}

// invalid re-renders a form with 422 and the field errors of err; other
// errors are returned for the error page.
func (d *Dashboard) invalid(c *fiber.Ctx, name string, data fiber.Map, err error) error {
	var ve *relay.ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	if data == nil {
		data = fiber.Map{}
	}
	errs, _ := data["Errors"].(FieldErrors)
	if errs == nil {
		errs = FieldErrors{}
	}
	errs[ve.Field] = ve.Msg
	data["Errors"] = errs
	if actionFields[name][ve.Field] {
		data["Problem"] = sentence(ve.Msg)
	}
	c.Status(fiber.StatusUnprocessableEntity)
	return d.render(c, name, data)
}

// actionFields are, per page, the error fields that name no input the
// user can fix there: the refusal of a button (send a test event to an
// endpoint with no source), whose banner gives the reason rather than
// "fix the fields marked below".
var actionFields = map[string]map[string]bool{"endpoint": {"source_ids": true, "enabled": true}}

// actionFailed re-renders a page after a refused action (a button, no
// form fields) with 422 and the reason in the banner.
func (d *Dashboard) actionFailed(c *fiber.Ctx, name string, data fiber.Map, err error) error {
	ve := fieldError(err)
	if ve == nil {
		return err
	}
	data["Problem"] = sentence(ve.Msg)
	c.Status(fiber.StatusUnprocessableEntity)
	return d.render(c, name, data)
}

// sentence capitalises msg and ends it with a period.
func sentence(msg string) string {
	msg = strings.TrimSpace(msg)
	if msg == "" {
		return msg
	}
	msg = strings.ToUpper(msg[:1]) + msg[1:]
	if !strings.HasSuffix(msg, ".") {
		msg += "."
	}
	return msg
}

// flash is a one-shot message shown on the next page.
type flash struct {
	Kind string `json:"k"` // "ok" or "error"
	Msg  string `json:"m"`
}

// redirect answers 303 to url with a success message for the next page.
func (d *Dashboard) redirect(c *fiber.Ctx, url, msg string) error {
	return d.redirectFlash(c, url, flash{Kind: "ok", Msg: msg})
}

// redirectErr answers 303 to url with an error message for the next page.
func (d *Dashboard) redirectErr(c *fiber.Ctx, url, msg string) error {
	return d.redirectFlash(c, url, flash{Kind: "error", Msg: msg})
}

func (d *Dashboard) redirectFlash(c *fiber.Ctx, url string, f flash) error {
	if f.Msg != "" {
		b, _ := json.Marshal(f)
		d.setCookie(c, flashCookie, base64.RawURLEncoding.EncodeToString(b), 0)
	}
	// Targets are local paths, some with ids from the request: safeNext
	// keeps anything else (a CR/LF, another host) out of Location.
	return c.Redirect(safeNext(url), fiber.StatusSeeOther)
}

// takeFlash reads and clears the flash cookie.
func (d *Dashboard) takeFlash(c *fiber.Ctx) *flash {
	v := c.Cookies(flashCookie)
	if v == "" {
		return nil
	}
	d.clearCookie(c, flashCookie)
	b, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil {
		return nil
	}
	var f flash
	if json.Unmarshal(b, &f) != nil || f.Msg == "" {
		return nil
	}
	return &f
}

// form copies the named form fields, for re-rendering a form after an error.
func form(c *fiber.Ctx, names ...string) map[string]string {
	out := make(map[string]string, len(names))
	for _, n := range names {
		out[n] = c.FormValue(n)
	}
	return out
}
