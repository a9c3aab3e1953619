package dashboard

import (
	"fmt"
	"html/template"
	"math"
	"strings"
)

// series is one line of a lineChart: a value per bucket, NaN where the
// bucket has no data (the line breaks there).
type series struct {
	Name   string
	Colour string
	Values []float64
}

// lineChart draws series over the same buckets as inline SVG, like
// barChart: server-rendered, a <title> per point for a tooltip, and the
// page carries the numbers as a table too. unit follows every value
// ("%", " ms"); maxV is the top of the scale (0: the largest value).
func lineChart(labels []string, lines []series, unit string, maxV float64, summary string) template.HTML {
	const w, h, top, bottom = 720.0, 160.0, 8.0, 22.0
	if maxV <= 0 {
		for _, s := range lines {
			for _, v := range s.Values {
				if !math.IsNaN(v) {
					maxV = math.Max(maxV, v)
				}
			}
		}
	}
	empty := maxV <= 0
	maxV = math.Max(maxV, 1)
	n := max(len(labels), 1)
	slot := w / float64(n)
	base := h - bottom
	y := func(v float64) float64 { return base - v/maxV*(h-top-bottom) }
	var sb strings.Builder
	fmt.Fprintf(&sb, `<svg class="chart" viewBox="0 0 %.0f %.0f" role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg">`,
		w, h, template.HTMLEscapeString(summary))
	fmt.Fprintf(&sb, `<line x1="0" y1="%.1f" x2="%.0f" y2="%.1f" stroke="#8c959f" stroke-width="1"/>`, base, w, base)
	if empty {
		fmt.Fprintf(&sb, `<text x="%.0f" y="%.0f" font-size="14" fill="#57606a" text-anchor="middle">No attempts in this period</text>`, w/2, base/2)
	} else {
		fmt.Fprintf(&sb, `<text x="2" y="%.1f" font-size="11" fill="#57606a">%.0f%s</text>`, top+9, maxV, unit)
	}
	for _, s := range lines {
		var path strings.Builder
		pen := "M"
		for i, v := range s.Values {
			if math.IsNaN(v) {
				pen = "M"
				continue
			}
			x := float64(i)*slot + slot/2
			fmt.Fprintf(&path, "%s%.1f %.1f ", pen, x, y(v))
			pen = "L"
			fmt.Fprintf(&sb, `<circle cx="%.1f" cy="%.1f" r="2.5" fill="%s"><title>%s: %s %.0f%s</title></circle>`,
				x, y(v), s.Colour, template.HTMLEscapeString(labels[i]), template.HTMLEscapeString(s.Name), v, unit)
		}
		if path.Len() > 0 {
			fmt.Fprintf(&sb, `<path d="%s" fill="none" stroke="%s" stroke-width="2"/>`, strings.TrimSpace(path.String()), s.Colour)
		}
	}
	every := max(1, n/8)
	for i, l := range labels {
		if i%every == 0 {
			fmt.Fprintf(&sb, `<text x="%.1f" y="%.1f" font-size="11" fill="#57606a">%s</text>`, float64(i)*slot+2, h-6, template.HTMLEscapeString(l))
		}
	}
	sb.WriteString(`</svg>`)
	return template.HTML(sb.String()) // #nosec: only numbers and escaped text
}
