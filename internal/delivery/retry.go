package delivery

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

const (
	// MaxRetryAfter caps how long an endpoint's Retry-After header can
	// push back the next attempt, so a misconfigured endpoint asking for
	// days cannot park deliveries far past their schedule.
	MaxRetryAfter = time.Hour
	// MaxScheduleDelay is the longest single delay ParseSchedule accepts.
	MaxScheduleDelay = 7 * 24 * time.Hour
	// MaxScheduleEntries is the most retries ParseSchedule accepts.
	MaxScheduleEntries = 50
)

// Schedule is the delays between attempts. Attempt 1 is immediate; after
// failed attempt n the next one waits Schedule[n-1]; when n > len(Schedule)
// the delivery is exhausted. An empty Schedule means no retries.
type Schedule []time.Duration

// DefaultSchedule retries after 5s, 5m, 30m, 2h, 5h, 10h and 10h: eight
// attempts over about 27 hours, long enough to ride out a day's outage.
var DefaultSchedule = Schedule{
	5 * time.Second,
	5 * time.Minute,
	30 * time.Minute,
	2 * time.Hour,
	5 * time.Hour,
	10 * time.Hour,
	10 * time.Hour,
}

// ParseSchedule parses comma-separated Go durations such as "5s,5m,30m,2h".
// Each must be > 0 and ≤ MaxScheduleDelay, with at most MaxScheduleEntries
// of them; errors name the bad entry.
func ParseSchedule(s string) (Schedule, error) {
	if strings.TrimSpace(s) == "" {
		return nil, errors.New("delivery: retry schedule is empty")
	}
	parts := strings.Split(s, ",")
	if len(parts) > MaxScheduleEntries {
		return nil, fmt.Errorf("delivery: retry schedule has %d entries, at most %d allowed", len(parts), MaxScheduleEntries)
	}
	out := make(Schedule, 0, len(parts))
	for i, p := range parts {
		p = strings.TrimSpace(p)
		d, err := time.ParseDuration(p)
		switch {
		case p == "":
			err = errors.New("empty")
		case err != nil:
			// time's message repeats the input; keep just the reason.
			err = errors.New(strings.TrimPrefix(strings.Split(err.Error(), " \"")[0], "time: "))
		case d <= 0:
			err = errors.New("must be greater than 0")
		case d > MaxScheduleDelay:
			err = fmt.Errorf("must be at most %s", formatDelay(MaxScheduleDelay))
		}
		if err != nil {
			return nil, fmt.Errorf("delivery: retry schedule entry %d %q: %w", i+1, p, err)
		}
		out = append(out, d)
	}
	return out, nil
}

// String formats s the way ParseSchedule reads it, e.g. "5s,5m,30m,2h".
func (s Schedule) String() string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = formatDelay(d)
	}
	return strings.Join(parts, ",")
}

// formatDelay is Duration.String without trailing zero units: "5m", not
// "5m0s".
func formatDelay(d time.Duration) string {
	out := d.String()
	if strings.HasSuffix(out, "m0s") {
		out = out[:len(out)-2]
	}
	if strings.HasSuffix(out, "h0m") {
		out = out[:len(out)-2]
	}
	return out
}

// Next returns the delay before the attempt that follows failed attempt n
// (1-based), and false when the schedule is exhausted. For n < 1 it returns
// 0 and true: the first attempt is immediate.
//
// jitter spreads retries so that endpoints recovering from an outage are
// not hit by every delivery at once: the scheduled delay is scaled by a
// factor in [1-jitter, 1+jitter), drawn from rnd, which returns values in
// [0, 1) (nil means math/rand/v2). jitter is clamped to [0, 1].
//
// retryAfter, when > 0, is the endpoint's Retry-After: the delay becomes
// max(scheduled, min(retryAfter, MaxRetryAfter)). It can lengthen a wait,
// never shorten one, and never beyond MaxRetryAfter.
func (s Schedule) Next(n int, jitter float64, retryAfter time.Duration, rnd func() float64) (time.Duration, bool) {
	if n < 1 {
		return 0, true
	}
	if n > len(s) {
		return 0, false
	}
	d := s[n-1]
	if jitter > 0 {
		jitter = min(jitter, 1)
		if rnd == nil {
			rnd = rand.Float64
		}
		d = time.Duration(float64(d) * (1 + jitter*(2*rnd()-1)))
	}
	if retryAfter > 0 {
		d = max(d, min(retryAfter, MaxRetryAfter))
	}
	return d, true
}
