package main

import (
	"os"
	"testing"
	"time"
)

// status is an excerpt of a real /proc/PID/status.
const status = `Name:	hookrelay
Umask:	0022
State:	S (sleeping)
VmPeak:	 1262416 kB
VmSize:	 1262416 kB
VmHWM:	   52212 kB
VmRSS:	   48964 kB
RssAnon:	   30516 kB
Threads:	12
`

// TestStatusKB reads the kB fields hookrelay's memory is reported from,
// and refuses a missing key or a line in another unit.
func TestStatusKB(t *testing.T) {
	cases := []struct {
		key  string
		want int64
		ok   bool
	}{
		{"VmRSS", 48964, true},
		{"VmHWM", 52212, true},
		{"RssAnon", 30516, true}, // not confused with VmRSS
		{"VmSwap", 0, false},
		{"Threads", 0, false}, // no unit
	}
	for _, c := range cases {
		got, ok := statusKB([]byte(status), c.key)
		if got != c.want || ok != c.ok {
			t.Errorf("statusKB(%s) = %d, %v, want %d, %v", c.key, got, ok, c.want, c.ok)
		}
	}
}

// TestRSSPeakMB: the peak is the kernel's high-water mark when it is
// higher than any sample, and is in megabytes of 10^6 bytes (the
// target's unit; kB in /proc are 1024 bytes).
func TestRSSPeakMB(t *testing.T) {
	r := rssStats{Valid: true, PeakKB: 100_000, HWMKB: 200_000, FinalKB: 90_000}
	if got := r.PeakMB(); got != 204.8 {
		t.Errorf("PeakMB = %v, want 204.8 (VmHWM 200000 kB)", got)
	}
	r.HWMKB = 0
	if got := r.PeakMB(); got != 102.4 {
		t.Errorf("PeakMB without VmHWM = %v, want 102.4 (highest sample)", got)
	}
}

// TestRSSSamplerOwnProcess samples this test's own process and sees its
// memory grow when it allocates, in the sample taken at stop.
func TestRSSSamplerOwnProcess(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("no /proc: the bench samples RSS from /proc/PID/status (Linux)")
		}
		t.Skip("no /proc")
	}
	// One sample at start, the next only at stop: the final reading
	// must be the one stop takes.
	r := startRSS(os.Getpid(), time.Hour)
	before := waitSample(t, r)
	buf := make([]byte, 64<<20)
	for i := range buf { // touch every page so it is resident
		buf[i] = 1
	}
	st := r.stop()
	if !st.Valid || st.Samples != 2 || st.FinalKB < before+60_000 || st.PeakKB < st.FinalKB || st.HWMKB < st.PeakKB {
		t.Errorf("stats %+v after allocating 64 MiB from %d kB", st, before)
	}
	_ = buf[len(buf)-1]
}

// waitSample waits (bounded) for the sampler's first reading.
func waitSample(t *testing.T, r *rssSampler) int64 {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		r.mu.Lock()
		st := r.stats
		r.mu.Unlock()
		if st.Valid {
			return st.FinalKB
		}
	}
	t.Fatal("no sample within 5s")
	return 0
}
