package dashboard

import (
	"encoding/json"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/hookrelay/hookrelay/internal/provider"
	"github.com/hookrelay/hookrelay/internal/relay"
)

func (d *Dashboard) sourcesList(c *fiber.Ctx) error {
	srcs, err := d.Relay.Store().ListSources(c.UserContext(), current(c).TeamID)
	if err != nil {
		return err
	}
	return d.render(c, "sources", fiber.Map{"Title": "Sources", "Nav": "sources", "Sources": srcs})
}

// sourceFormData is what the create and edit forms need.
func sourceFormData(title, kind string, values map[string]string) fiber.Map {
	return fiber.Map{"Title": title, "Nav": "sources", "Kinds": provider.Kinds(), "Fields": fieldsFor(kind),
		"Form": values, "None": provider.None}
}

func (d *Dashboard) newSourcePage(c *fiber.Ctx) error {
	return d.render(c, "sourcenew", sourceFormData("New source", "", map[string]string{"provider": provider.Stripe}))
}

// sourceFormValues reads the source form: name, provider, secret and the
// config fields.
func sourceFormValues(c *fiber.Ctx) map[string]string {
	m := form(c, "name", "provider", "secret")
	for _, f := range configFields {
		m[f.Name] = strings.TrimSpace(c.FormValue(f.Name))
	}
	return m
}

// sourceConfig keeps only the fields the kind uses: without JavaScript the
// form shows every field, and a value typed in another provider's field
// must not be refused as "not used".
func sourceConfig(kind string, m map[string]string) (*json.RawMessage, error) {
	used := map[string]string{}
	for _, f := range fieldsFor(kind) {
		used[f.Name] = m[f.Name]
	}
	cfg, err := configFromMap(used)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	raw := json.RawMessage(b)
	return &raw, nil
}

func (d *Dashboard) createSource(c *fiber.Ctx) error {
	m := sourceFormValues(c)
	data := sourceFormData("New source", "", m)
	name, kind, sec := m["name"], m["provider"], m["secret"]
	// Never echo a secret back into a page: the form says why it is empty.
	clearSecret := func() {
		if m["secret"] != "" {
			m["secret"], data["SecretCleared"] = "", true
		}
	}
	errs := FieldErrors{}
	if strings.TrimSpace(name) == "" {
		errs["name"] = "is required"
	}
	cfg, err := sourceConfig(kind, m)
	if fe := fieldError(err); fe != nil {
		errs[fe.Field] = fe.Msg
	} else if err != nil {
		return err
	}
	if len(errs) > 0 {
		clearSecret()
		return d.invalidAll(c, "sourcenew", data, errs)
	}
	src, err := d.Relay.CreateSource(c.UserContext(), actor(c), relay.SourceInput{Name: &name, Provider: &kind, Config: cfg, Secret: &sec})
	if err != nil {
		clearSecret()
		return d.invalid(c, "sourcenew", data, err)
	}
	if w := relay.SecretWarning(src.Provider, sec); w != "" {
		return d.redirectErr(c, "/sources/"+src.ID, "Source created, but check its secret. "+w)
	}
	return d.redirect(c, "/sources/"+src.ID, "Source created. Point "+providerName(src.Provider)+" at its ingest URL below.")
}
