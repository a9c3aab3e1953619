package store

import (
	"database/sql/driver"
	"encoding/hex"
	"strings"
	"time"
)

// Array parameters for the batch statements. pgdriver sends parameters of
// a prepared statement as text, so a Go slice goes as one PostgreSQL array
// literal ("{…}") and the statement unnests it: one statement and one
// plan serve a batch of any size, where a VALUES list would need a new
// statement text (and a new plan) for every batch size.

// pgArray builds an array literal element by element.
type pgArray struct{ b strings.Builder }

func (a *pgArray) sep() {
	if a.b.Len() == 0 {
		a.b.WriteByte('{')
	} else {
		a.b.WriteByte(',')
	}
}

// quoted appends a double-quoted element, escaping `"` and `\`.
func (a *pgArray) quoted(s string) {
	a.sep()
	a.b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '"' || c == '\\' {
			a.b.WriteByte('\\')
		}
		a.b.WriteByte(s[i])
	}
	a.b.WriteByte('"')
}

func (a *pgArray) null() {
	a.sep()
	a.b.WriteString("NULL")
}

func (a *pgArray) done() string {
	if a.b.Len() == 0 {
		return "{}"
	}
	a.b.WriteByte('}')
	return a.b.String()
}

// textArray is a text[] parameter. Callers pass strings without NUL bytes
// (PostgreSQL text cannot hold them; ingest cleans provider values).
type textArray []string

// Value implements driver.Valuer.
func (v textArray) Value() (driver.Value, error) {
	var a pgArray
	for _, s := range v {
		a.quoted(s)
	}
	return a.done(), nil
}

// nullTextArray is a text[] parameter whose nil elements are NULL.
type nullTextArray []*string

// Value implements driver.Valuer.
func (v nullTextArray) Value() (driver.Value, error) {
	var a pgArray
	for _, s := range v {
		if s == nil {
			a.null()
		} else {
			a.quoted(*s)
		}
	}
	return a.done(), nil
}

// byteaArray is a bytea[] parameter, each element in hex form.
type byteaArray [][]byte

// Value implements driver.Valuer.
func (v byteaArray) Value() (driver.Value, error) {
	var a pgArray
	n := 2
	for _, b := range v {
		n += 2*len(b) + 6
	}
	a.b.Grow(n)
	for _, b := range v {
		// "\\x…": the array literal's backslash escape, then bytea's \x.
		a.sep()
		a.b.WriteString(`"\\x`)
		a.b.WriteString(hex.EncodeToString(b))
		a.b.WriteByte('"')
	}
	return a.done(), nil
}

// timeArray is a timestamptz[] parameter.
type timeArray []time.Time

// Value implements driver.Valuer.
func (v timeArray) Value() (driver.Value, error) {
	var a pgArray
	for _, t := range v {
		a.quoted(t.UTC().Truncate(time.Microsecond).Format(time.RFC3339Nano)) // the precision PostgreSQL keeps
	}
	return a.done(), nil
}

// boolArray is a boolean[] parameter.
type boolArray []bool

// Value implements driver.Valuer.
func (v boolArray) Value() (driver.Value, error) {
	var a pgArray
	for _, b := range v {
		a.sep()
		if b {
			a.b.WriteByte('t')
		} else {
			a.b.WriteByte('f')
		}
	}
	return a.done(), nil
}
