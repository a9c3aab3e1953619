package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// rssEvery is how often hookrelay's resident memory is sampled.
const rssEvery = 200 * time.Millisecond

// rssStats is hookrelay's resident memory over a run, in kB as
// /proc/PID/status reports it (kibibytes).
type rssStats struct {
	Valid   bool
	Samples int
	PeakKB  int64 // highest VmRSS sampled
	FinalKB int64 // the last sample, just before hookrelay was stopped
	HWMKB   int64 // VmHWM at the end: the kernel's own peak, between samples too (0: unknown)
}

// PeakMB is the peak in megabytes (10^6 bytes, the unit of the target):
// VmHWM when the kernel reported it, else the highest sample.
func (r rssStats) PeakMB() float64 { return kbToMB(max(r.HWMKB, r.PeakKB)) }

// kbToMB converts /proc's kB (1024 bytes) to megabytes of 10^6 bytes.
func kbToMB(kb int64) float64 { return float64(kb) * 1024 / 1e6 }

func (r rssStats) String() string {
	if !r.Valid {
		return "not measured (no /proc/PID/status)"
	}
	s := fmt.Sprintf("hookrelay RSS peak %.1f MB, final %.1f MB (VmRSS every %s, %d samples, highest %.1f MB",
		r.PeakMB(), kbToMB(r.FinalKB), rssEvery, r.Samples, kbToMB(r.PeakKB))
	if r.HWMKB > 0 {
		s += fmt.Sprintf("; VmHWM %.1f MB", kbToMB(r.HWMKB))
	}
	return s + ")"
}

// statusKB returns the value of a "Key:   1234 kB" line of a
// /proc/PID/status file.
func statusKB(status []byte, key string) (int64, bool) {
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || k != key {
			continue
		}
		f := strings.Fields(v)
		if len(f) != 2 || f[1] != "kB" {
			return 0, false
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		return n, err == nil
	}
	return 0, false
}

// rssSampler reads a process's VmRSS on a ticker until stop.
type rssSampler struct {
	pid  int
	quit chan struct{}
	done chan struct{}

	mu    sync.Mutex
	stats rssStats
}

// startRSS samples pid's memory every interval in the background.
func startRSS(pid int, interval time.Duration) *rssSampler {
	r := &rssSampler{pid: pid, quit: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(r.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			r.sample()
			select {
			case <-t.C:
			case <-r.quit:
				return
			}
		}
	}()
	return r
}

// sample records one VmRSS reading (and the VmHWM so far).
func (r *rssSampler) sample() {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", r.pid))
	if err != nil {
		return
	}
	kb, ok := statusKB(b, "VmRSS")
	if !ok {
		return
	}
	hwm, _ := statusKB(b, "VmHWM")
	r.mu.Lock()
	r.stats.Valid = true
	r.stats.Samples++
	r.stats.PeakKB = max(r.stats.PeakKB, kb)
	r.stats.FinalKB = kb
	r.stats.HWMKB = max(r.stats.HWMKB, hwm)
	r.mu.Unlock()
}

// stop takes a last sample, ends the sampling and returns what it saw.
// The process must still be running for the last sample to count.
func (r *rssSampler) stop() rssStats {
	close(r.quit)
	<-r.done
	r.sample()
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stats
}
