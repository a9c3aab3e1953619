// Package migrations holds hookrelay's SQL schema as embedded files for
// bun's migrator. Each file explains why its tables look the way they do.
package migrations

import (
	"embed"
	"io/fs"

	"github.com/uptrace/bun/migrate"
)

//go:embed *.sql
var files embed.FS

// Files returns the embedded migration files, e.g. for tests to recognise
// a database migrated by exactly this set.
func Files() fs.FS { return files }

// New returns the migration set.
func New() (*migrate.Migrations, error) {
	m := migrate.NewMigrations()
	if err := m.Discover(files); err != nil {
		return nil, err
	}
	return m, nil
}
