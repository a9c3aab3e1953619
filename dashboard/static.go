package dashboard

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"path"
	"strings"

	"github.com/gofiber/fiber/v2"
)

//go:embed static
var staticFS embed.FS

// assets are the static files, served at fingerprinted URLs
// (/static/app.3f2a9c1b.css) so browsers may cache them for a year.
type assets struct {
	byURL  map[string][]byte // "app.3f2a9c1b.css" → content
	byName map[string]string // "app.css" → "/static/app.3f2a9c1b.css"
}

func loadAssets() *assets {
	a := &assets{byURL: map[string][]byte{}, byName: map[string]string{}}
	err := fs.WalkDir(staticFS, "static", func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		name := path.Base(p)
		ext := path.Ext(name)
		fp := strings.TrimSuffix(name, ext) + "." + hex.EncodeToString(sum[:4]) + ext
		a.byURL[fp] = b
		a.byName[name] = "/static/" + fp
		return nil
	})
	if err != nil {
		panic(err)
	}
	return a
}

// url is the fingerprinted URL of a static file, for templates.
func (a *assets) url(name string) string { return a.byName[name] }

// static serves a fingerprinted asset with long cache headers.
func (d *Dashboard) static(c *fiber.Ctx) error {
	b, ok := d.assets.byURL[c.Params("file")]
	if !ok {
		return c.SendStatus(fiber.StatusNotFound)
	}
	c.Set(fiber.HeaderContentType, mime.TypeByExtension(path.Ext(c.Params("file"))))
	c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
	return c.Send(b)
}
