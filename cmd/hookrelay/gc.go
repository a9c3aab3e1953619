package main

import "runtime/debug"

// Go's garbage collector defaults (GOGC=100, no memory limit) collect
// whenever the heap doubles, and hookrelay's live heap is small (tens of
// MB), so under load the collector ran many times a second: 16% of the
// process's CPU in make bench. hookrelay raises GOGC to 400 and bounds
// the heap with a soft limit instead, so it collects a quarter as often
// and still stays well inside a 256 MB container. GOGC and GOMEMLIMIT,
// when set, win (set GOMEMLIMIT to about 80% of a container's memory).
const (
	defaultGCPercent   = 400
	defaultMemoryLimit = 200 << 20
)

// tuneGC applies the defaults above for whatever the environment leaves unset.
func tuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
}
