package metrics

import (
	"sync/atomic"
	"testing"
	"time"
)

// A read that has answered frees its slot: back-to-back scrapes (the
// second one right after the first returned) both run, rather than the
// second reporting the collector down because the first still looked busy.
func TestRunBoundedFreesSlotBeforeAnswering(t *testing.T) {
	var busy atomic.Bool
	for i := range 20000 {
		if _, ok := runBounded(&busy, time.Minute, func() (int, error) { return i, nil }); !ok {
			t.Fatalf("read %d refused right after the previous one answered", i)
		}
	}
}
