package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// userHZ is the kernel's clock tick for /proc times (100 on Linux).
const userHZ = 100

// cpuSample is a snapshot of /proc: CPU ticks per process, each process
// labelled with the group it is reported under, and the machine's busy and
// total ticks. Outside Linux it is empty and the report omits CPU.
type cpuSample struct {
	at         time.Time
	procs      map[int]procTicks
	busy, all  uint64
	hasMachine bool
}

type procTicks struct {
	group string
	ticks uint64
}

// Groups in the report, in print order.
var cpuGroups = []string{"hookrelay", "postgres " + benchDB, "postgres other", "redis-server", "bench (load + sink)"}

// takeCPUSample reads /proc/*/stat for hookrelay (pid), Postgres, Redis
// and this process. Postgres backends serving hookrelay_bench are told
// apart from the rest (other databases, WAL writer, checkpointer…) by the
// process title in /proc/PID/cmdline.
func takeCPUSample(pid int) cpuSample {
	s := cpuSample{at: time.Now(), procs: map[int]procTicks{}}
	if b, err := os.ReadFile("/proc/stat"); err == nil {
		line, _, _ := bytes.Cut(b, []byte("\n"))
		f := strings.Fields(string(line))
		for i := 1; i < len(f); i++ {
			v, _ := strconv.ParseUint(f[i], 10, 64)
			s.all += v
			if i != 4 && i != 5 { // idle, iowait
				s.busy += v
			}
		}
		s.hasMachine = s.all > 0
	}
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	self := os.Getpid()
	for _, d := range dirs {
		p, err := strconv.Atoi(filepath.Base(d))
		if err != nil {
			continue
		}
		comm, ticks, ok := readStat(d)
		if !ok {
			continue
		}
		var group string
		switch {
		case p == pid:
			group = cpuGroups[0]
		case p == self:
			group = cpuGroups[4]
		case comm == "postgres":
			group = cpuGroups[2]
			if cl, err := os.ReadFile(d + "/cmdline"); err == nil && bytes.Contains(cl, []byte(" "+benchDB+" ")) {
				group = cpuGroups[1]
			}
		case comm == "redis-server":
			group = cpuGroups[3]
		default:
			continue
		}
		s.procs[p] = procTicks{group, ticks}
	}
	return s
}

// readStat returns a process's command name and utime+stime in ticks.
func readStat(dir string) (string, uint64, bool) {
	b, err := os.ReadFile(dir + "/stat")
	if err != nil {
		return "", 0, false
	}
	open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if open < 0 || end < open {
		return "", 0, false
	}
	f := strings.Fields(string(b[end+1:]))
	if len(f) < 13 {
		return "", 0, false
	}
	ut, _ := strconv.ParseUint(f[11], 10, 64)
	st, _ := strconv.ParseUint(f[12], 10, 64)
	return string(b[open+1 : end]), ut + st, true
}

// cpuUse is the CPU spent between two samples, as a fraction of one core
// per group and of the whole machine.
type cpuUse struct {
	Window  time.Duration
	Cores   map[string]float64 // group → cores busy on average (1.0 = one full core)
	Machine float64            // fraction of all cores busy, 0..1
	Valid   bool
}

// sub returns the CPU used from prev to s. A process that appeared in
// between counts from zero; one that exited is lost (backends here live
// in hookrelay's connection pool, so few do).
func (s cpuSample) sub(prev cpuSample) cpuUse {
	u := cpuUse{Window: s.at.Sub(prev.at), Cores: map[string]float64{}}
	if len(s.procs) == 0 || u.Window <= 0 {
		return u
	}
	secs := u.Window.Seconds()
	for p, t := range s.procs {
		d := t.ticks
		if old, ok := prev.procs[p]; ok && old.ticks <= t.ticks {
			d -= old.ticks
		}
		u.Cores[t.group] += float64(d) / userHZ / secs
	}
	if s.hasMachine && prev.hasMachine && s.all > prev.all {
		u.Machine = float64(s.busy-prev.busy) / float64(s.all-prev.all)
	}
	u.Valid = true
	return u
}
