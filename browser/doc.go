// Package browser holds the real-browser end-to-end test of the dashboard:
// it builds the hookrelay binary, runs `hookrelay all` as a subprocess on a
// fresh database, and drives Debian's headless Chromium through chromedp the
// way a person would (sign in, create a source and an endpoint, watch a
// delivery fail and redeliver it, read the audit log). Screenshots of every
// step land in screenshots/ at the repository root (git-ignored).
//
// The test fails, never skips, when /usr/bin/chromium is missing:
// `make test` installs it through deploy/test-deps.sh.
package browser
