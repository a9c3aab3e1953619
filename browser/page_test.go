package browser_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

const chromiumPath = "/usr/bin/chromium"

// tab is one headless Chromium tab on the dashboard, with the helpers a
// test needs to use it like a person: open a page, type, click and wait
// for what the page shows.
type tab struct {
	t     *testing.T
	ctx   context.Context
	base  string // the dashboard's URL, no trailing slash
	shots string // directory for screenshots
	n     int    // screenshots taken, for their order in the file names
}

// newTab starts Chromium with a fresh profile; everything it does must end
// within limit.
func newTab(t *testing.T, base string, limit time.Duration) *tab {
	t.Helper()
	return newTabShots(t, base, limit, true)
}

// newTabShots is newTab; clean false keeps the screenshots earlier tests
// left (a short test adds its own, numbered after theirs).
func newTabShots(t *testing.T, base string, limit time.Duration, clean bool) *tab {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("%s missing (%v): run `make test` or deploy/test-deps.sh, which install Debian's chromium", chromiumPath, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	t.Cleanup(cancel)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	for _, f := range []string{"headless", "no-sandbox", "disable-gpu", "disable-background-networking",
		"disable-component-update", "disable-sync", "no-first-run"} {
		opts = append(opts, chromedp.Flag(f, true))
	}
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(acancel)
	bctx, bcancel := chromedp.NewContext(actx)
	t.Cleanup(bcancel)
	shots := filepath.Join("..", "screenshots")
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	// Only this run's pictures: a failure shot of an earlier run misleads.
	old, _ := filepath.Glob(filepath.Join(shots, "browser-*.png"))
	for _, f := range old {
		if clean {
			_ = os.Remove(f)
		}
	}
	return &tab{t: t, ctx: bctx, base: base, shots: shots}
}

// do runs actions and fails the test, with a screenshot, on an error.
func (b *tab) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.fail("%s: %v", what, err)
	}
}

// fail saves a screenshot of the page as it is and stops the test.
func (b *tab) fail(format string, args ...any) {
	b.t.Helper()
	b.shot("failure")
	url, _ := chromedp.Run(b.ctx, chromedp.Location())
	b.t.Fatalf("%s (page %s)", fmt.Sprintf(format, args...), url)
}

// open loads a dashboard path and checks it answered 2xx.
func (b *tab) open(path string) {
	b.t.Helper()
	resp, err := chromedp.Run(b.ctx, chromedp.NavigateResponse(b.base+path))
	if err != nil {
		b.fail("open %s: %v", path, err)
	}
	if resp.Status/100 != 2 {
		b.fail("open %s: HTTP %d", path, resp.Status)
	}
}

// submit clicks a button (or link) that loads a new page, waits for the
// page and checks it answered 2xx.
func (b *tab) submit(sel string) {
	b.t.Helper()
	resp, err := chromedp.RunResponse(b.ctx, chromedp.Click(chromedp.CSS(sel)))
	if err != nil {
		b.fail("click %s: %v", sel, err)
	}
	// Forms answer 303 to a page; chromedp reports the page it lands on.
	if resp.Status/100 != 2 {
		b.fail("click %s: the next page answered HTTP %d", sel, resp.Status)
	}
}

// typeInto focuses a field and types text into it, key by key.
func (b *tab) typeInto(sel, text string) {
	b.t.Helper()
	b.do("type into "+sel, chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.SendKeys(chromedp.CSS(sel), text))
}

// text is the rendered text of the first element sel matches.
func (b *tab) text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.fail("text of %s: %v", sel, err)
	}
	return s
}

// value is the value of the form field sel.
func (b *tab) value(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Value(chromedp.CSS(sel)))
	if err != nil {
		b.fail("value of %s: %v", sel, err)
	}
	return s
}

// path is the path of the page shown now.
func (b *tab) path() string {
	b.t.Helper()
	u, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		b.fail("location: %v", err)
	}
	return strings.TrimPrefix(u, b.base)
}

// waitText waits until the text of the element sel contains every one of
// want. Pages with live refresh change under it; others need a reload,
// which reload asks for.
func (b *tab) waitText(sel string, limit time.Duration, reload bool, want ...string) {
	b.t.Helper()
	js := fmt.Sprintf(`(() => { const el = document.querySelector(%s); if (!el) return false;
		const t = el.innerText; return %s.every(w => t.includes(w)); })()`, jsString(sel), jsArray(want))
	deadline := time.Now().Add(limit)
	for {
		_, err := chromedp.Run(b.ctx, chromedp.Poll[chromedp.Void](js,
			chromedp.WithPollingInterval(200*time.Millisecond), chromedp.WithPollingTimeout(min(limit, 5*time.Second))))
		if err == nil {
			return
		}
		if time.Now().After(deadline) || b.ctx.Err() != nil {
			b.fail("%s never showed %q within %s: %v", sel, want, limit, err)
		}
		if reload {
			b.do("reload", chromedp.Reload())
		}
	}
}

// shot saves a full-page PNG as screenshots/browser-NN-name.png.
func (b *tab) shot(name string) {
	b.t.Helper()
	b.n++
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	file := filepath.Join(b.shots, fmt.Sprintf("browser-%02d-%s.png", b.n, name))
	if err := os.WriteFile(file, png, 0o644); err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
	}
}

func jsString(s string) string { b, _ := json.Marshal(s); return string(b) }

func jsArray(s []string) string { b, _ := json.Marshal(s); return string(b) }
