package dashboard

import (
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/hookrelay/hookrelay/internal/provider"
	"github.com/hookrelay/hookrelay/internal/relay"
)

// configField is one optional verification setting of a source.
type configField struct {
	Name, Label, Help, Example string
	// Providers lists the kinds that use the field.
	Providers []string
}

// configFields are the provider.Config fields, in form order.
var configFields = []configField{
	{Name: "header", Label: "Signature or token header", Help: "Header carrying the signature (hmac) or the token (token-header).", Example: "X-Signature"},
	{Name: "algorithm", Label: "HMAC algorithm", Help: "sha1, sha256 (default) or sha512.", Example: "sha256"},
	{Name: "encoding", Label: "Signature encoding", Help: "hex (default) or base64.", Example: "hex"},
	{Name: "prefix", Label: "Signature or token prefix", Help: `Text before the signature or token, e.g. "sha256=" or "Bearer ".`, Example: "sha256="},
	{Name: "timestamp_header", Label: "Timestamp header", Help: "Header with the Unix time included in the signed content.", Example: "X-Timestamp"},
	{Name: "signed_content", Label: "Signed content", Help: "Template over {timestamp} and {body}; default {body}.", Example: "{body}"},
	{Name: "tolerance", Label: "Timestamp tolerance", Help: `How far a signed timestamp may be from now, e.g. "5m" (default).`, Example: "5m"},
	{Name: "id_header", Label: "Event id header", Help: "Header whose value deduplicates retries; empty means no dedup.", Example: "X-Event-Id"},
	{Name: "type_header", Label: "Event type header", Help: `Header with the event type; default: the JSON body's "type".`, Example: "X-Event-Type"},
	{Name: "username", Label: "Basic auth user name", Help: "The expected user name; the password is the secret.", Example: "hooks"},
}

// init learns which kinds use each field by asking provider.New, so the
// form cannot drift from the verifiers: a field a kind does not use is
// refused with "not used by provider".
func init() {
	for i, f := range configFields {
		for _, kind := range provider.Kinds() {
			cfg, err := configFromMap(map[string]string{f.Name: f.Example})
			if err != nil {
				panic(err)
			}
			_, err = provider.New(kind, cfg)
			var ce *provider.ConfigError
			if errors.As(err, &ce) && ce.Field == f.Name && strings.HasPrefix(ce.Msg, "not used") {
				continue
			}
			configFields[i].Providers = append(configFields[i].Providers, kind)
		}
	}
}

// fieldsFor lists the config fields a kind uses ("" means all).
func fieldsFor(kind string) []configField {
	var out []configField
	for _, f := range configFields {
		for _, p := range f.Providers {
			if kind == "" || p == kind {
				out = append(out, f)
				break
			}
		}
	}
	return out
}

// configFromMap builds a provider.Config from form values by field name.
func configFromMap(m map[string]string) (provider.Config, error) {
	c := provider.Config{Header: m["header"], Algorithm: m["algorithm"], Encoding: m["encoding"], Prefix: m["prefix"],
		TimestampHeader: m["timestamp_header"], SignedContent: m["signed_content"], IDHeader: m["id_header"],
		TypeHeader: m["type_header"], Username: m["username"]}
	if t := strings.TrimSpace(m["tolerance"]); t != "" {
		b, _ := json.Marshal(t)
		if err := c.Tolerance.UnmarshalJSON(b); err != nil {
			return c, &relay.ValidationError{Field: "config.tolerance", Msg: "must be a duration like 5m or a number of seconds"}
		}
	}
	return c, nil
}

// configToMap is the reverse, to fill the edit form.
func configToMap(raw []byte) map[string]string {
	var c provider.Config
	_ = json.Unmarshal(raw, &c)
	m := map[string]string{"header": c.Header, "algorithm": c.Algorithm, "encoding": c.Encoding, "prefix": c.Prefix,
		"timestamp_header": c.TimestampHeader, "signed_content": c.SignedContent, "id_header": c.IDHeader,
		"type_header": c.TypeHeader, "username": c.Username}
	if c.Tolerance != 0 {
		m["tolerance"] = time.Duration(c.Tolerance).String()
	}
	return m
}
