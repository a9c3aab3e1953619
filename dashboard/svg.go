package dashboard

import (
	"fmt"
	"html/template"
	"strings"

	"github.com/hookrelay/hookrelay/internal/store"
)

// Chart colours, the same as the legend swatches in app.css.
const (
	colEvents    = "#0b57d0"
	colSucceeded = "#1a7f37"
	colFailed    = "#cf222e"
	colPending   = "#9a6700"
)

// barChart draws traffic as inline SVG: per bucket, an events bar and a
// deliveries bar stacked by outcome. Rendered on the server, it needs no
// JavaScript; each bar has a <title> for a tooltip, and the page carries the
// same numbers as a table for screen readers.
func barChart(buckets []store.TrafficBucket, label func(store.TrafficBucket) string, summary string) template.HTML {
	const w, h, top, bottom = 720.0, 200.0, 8.0, 22.0
	maxV := 0
	for _, b := range buckets {
		maxV = max(maxV, b.Events, b.Succeeded+b.Failed+b.Pending)
	}
	empty := maxV == 0
	maxV = max(maxV, 1)
	n := max(len(buckets), 1)
	slot := w / float64(n)
	bar := slot * 0.38
	scale := (h - top - bottom) / float64(maxV)
	var sb strings.Builder
	fmt.Fprintf(&sb, `<svg class="chart" viewBox="0 0 %.0f %.0f" role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg">`,
		w, h, template.HTMLEscapeString(summary))
	base := h - bottom
	fmt.Fprintf(&sb, `<line x1="0" y1="%.1f" x2="%.0f" y2="%.1f" stroke="#8c959f" stroke-width="1"/>`, base, w, base)
	if empty {
		// A lone "1" on the axis of an empty chart reads like data.
		fmt.Fprintf(&sb, `<text x="%.0f" y="%.0f" font-size="14" fill="#57606a" text-anchor="middle">No traffic in this period</text>`, w/2, (h-bottom)/2)
	} else {
		fmt.Fprintf(&sb, `<text x="2" y="%.1f" font-size="11" fill="#57606a">%d</text>`, top+9, maxV)
	}
	rect := func(x, y, hh float64, fill, title string) {
		if hh <= 0 {
			return
		}
		fmt.Fprintf(&sb, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s</title></rect>`,
			x, y, bar, hh, fill, template.HTMLEscapeString(title))
	}
	every := max(1, n/8) // at most ~8 axis labels
	for i, b := range buckets {
		x := float64(i)*slot + slot*0.08
		l := label(b)
		rect(x, base-float64(b.Events)*scale, float64(b.Events)*scale, colEvents, fmt.Sprintf("%s: %d events", l, b.Events))
		y := base
		for _, part := range []struct {
			v    int
			col  string
			name string
		}{{b.Succeeded, colSucceeded, "succeeded"}, {b.Failed, colFailed, "failed"}, {b.Pending, colPending, "pending"}} {
			hh := float64(part.v) * scale
			y -= hh
			rect(x+bar, y, hh, part.col, fmt.Sprintf("%s: %d deliveries %s", l, part.v, part.name))
		}
		if i%every == 0 {
			fmt.Fprintf(&sb, `<text x="%.1f" y="%.1f" font-size="11" fill="#57606a">%s</text>`, x, h-6, template.HTMLEscapeString(l))
		}
	}
	sb.WriteString(`</svg>`)
	return template.HTML(sb.String()) // #nosec: only numbers and escaped text
}

// sparkline draws an endpoint's hourly success rate as small bars: tall
// and green when deliveries succeeded, short and red when they failed,
// a grey tick for hours without deliveries.
func sparkline(h *store.EndpointHealth) template.HTML {
	const w, ht = 96.0, 24.0
	if h == nil || len(h.HourlyOK) == 0 {
		return template.HTML(`<span class="muted">no deliveries</span>`)
	}
	n := len(h.HourlyOK)
	slot := w / float64(n)
	var sb strings.Builder
	label := "no deliveries in 24 h"
	if r := h.Rate(); r >= 0 {
		label = fmt.Sprintf("%.0f%% of %d deliveries succeeded in 24 h", r*100, h.OK+h.Bad)
	}
	fmt.Fprintf(&sb, `<svg class="spark" viewBox="0 0 %.0f %.0f" role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg">`, w, ht, label)
	for i := range n {
		ok, bad := h.HourlyOK[i], h.HourlyBad[i]
		x := float64(i)*slot + 0.5
		if ok+bad == 0 {
			fmt.Fprintf(&sb, `<rect x="%.1f" y="%.1f" width="%.1f" height="1.5" fill="#d0d7de"/>`, x, ht-1.5, slot-1)
			continue
		}
		rate := float64(ok) / float64(ok+bad)
		col := colSucceeded
		switch {
		case rate < 0.5:
			col = colFailed
		case rate < 0.95:
			col = colPending
		}
		hh := 3 + rate*(ht-3)
		fmt.Fprintf(&sb, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>`, x, ht-hh, slot-1, hh, col)
	}
	sb.WriteString(`</svg>`)
	return template.HTML(sb.String())
}
