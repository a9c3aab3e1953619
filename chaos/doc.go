// Package chaos is hookrelay's fault-injection suite. Its tests run the
// real binary (`hookrelay serve` and `hookrelay worker` as separate
// processes) against a PostgreSQL cluster and a Redis server of their own,
// on loopback, send signed Stripe events under load, and break things on
// purpose: kill -9 the worker, restart Redis with its data wiped, stop
// Postgres for a few seconds. Afterwards they check the design's
// invariants: every acknowledged event was delivered at least once, no
// refused event was stored, duplicates are counted.
//
// `go test ./chaos/` runs the short version (a few hundred events per
// fault); `make chaos` (CHAOS_LONG=1) runs the long one. See README.md.
package chaos
