package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// adminClient talks to hookrelay's API and /readyz (not the load path).
var adminClient = &http.Client{Timeout: 10 * time.Second}

// get fails unless GET path answers 200.
func (h *harness) get(ctx context.Context, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.baseURL+path, nil)
	if err != nil {
		return err
	}
	resp, err := adminClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %d %s", path, resp.StatusCode, bytes.TrimSpace(b))
	}
	return nil
}

// api POSTs in as JSON with the bootstrap token and decodes a 2xx answer
// into out.
func (h *harness) api(ctx context.Context, path string, in, out any) error {
	return h.apiAs(ctx, h.token, path, in, out)
}

// apiAs is api with another team's token.
func (h *harness) apiAs(ctx context.Context, token, path string, in, out any) error {
	var body io.Reader = http.NoBody
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.baseURL+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := adminClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("POST %s: %d %s", path, resp.StatusCode, bytes.TrimSpace(b))
	}
	return json.Unmarshal(b, out)
}

// redisDo runs commands on Redis DB 14 over one connection, speaking raw
// RESP so the bench needs no Redis client library, and returns each reply
// as text (simple strings, integers and short bulk strings only).
func redisDo(ctx context.Context, cmds ...[]string) ([]string, error) {
	var d net.Dialer
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, err := d.DialContext(dctx, "tcp", redisAddr)
	if err != nil {
		return nil, fmt.Errorf("redis %s: %w", redisAddr, err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	var b strings.Builder
	for _, c := range append([][]string{{"SELECT", fmt.Sprint(redisDB)}}, cmds...) {
		fmt.Fprintf(&b, "*%d\r\n", len(c))
		for _, a := range c {
			fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
		}
	}
	if _, err := io.WriteString(conn, b.String()); err != nil {
		return nil, fmt.Errorf("redis: %w", err)
	}
	r := bufio.NewReader(conn)
	var out []string
	for i := 0; i <= len(cmds); i++ {
		line, err := r.ReadString('\n')
		if err != nil {
			return nil, fmt.Errorf("redis: %w", err)
		}
		line = strings.TrimRight(line, "\r\n")
		switch {
		case strings.HasPrefix(line, "-"):
			return nil, fmt.Errorf("redis: %s", line[1:])
		case line == "$-1":
			line = ""
		case strings.HasPrefix(line, "$"):
			n, err := strconv.Atoi(line[1:])
			if err != nil || n < 0 {
				return nil, fmt.Errorf("redis: bad bulk length %q", line)
			}
			buf := make([]byte, n+2) // the bulk string and its CRLF
			if _, err := io.ReadFull(r, buf); err != nil {
				return nil, fmt.Errorf("redis: %w", err)
			}
			line = string(buf[:n])
		default:
			line = line[1:]
		}
		if i > 0 { // skip SELECT's OK
			out = append(out, line)
		}
	}
	return out, nil
}

// markerKey is set in Redis DB 14 after the flush. If it disappears during
// the run, someone else flushed the DB (make test's testenv.Redis cycles
// through DBs 1–15 and flushes the one it takes), which drops queued
// deliveries: the report then warns that delivery numbers are distorted.
const markerKey = "hookrelay:bench:marker"

// redisFlush empties Redis DB 14 and sets the marker.
func redisFlush(ctx context.Context) error {
	_, err := redisDo(ctx, []string{"FLUSHDB"}, []string{"SET", markerKey, "1"})
	return err
}

// redisMarkerGone reports whether Redis DB 14 was flushed since redisFlush.
func redisMarkerGone(ctx context.Context) bool {
	out, err := redisDo(ctx, []string{"EXISTS", markerKey})
	return err == nil && len(out) == 1 && out[0] == "0"
}

// idRe matches hookrelay ids (dlv_01m8…) so log lines group by message.
var idRe = regexp.MustCompile(`\b[a-z]+_[0-9a-z]{26}\b`)

// logCounts counts hookrelay's log lines (warn and above, JSON) by level
// and message, e.g. "WARN dispatch_queue_full" → 12.
func (h *harness) logCounts() map[string]int {
	f, err := os.Open(h.logPath)
	if err != nil {
		return nil
	}
	defer f.Close()
	counts := map[string]int{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var l struct {
			Level string `json:"level"`
			Msg   string `json:"msg"`
		}
		if json.Unmarshal(sc.Bytes(), &l) != nil || l.Msg == "" {
			if line := strings.TrimSpace(sc.Text()); line != "" && !strings.HasPrefix(line, "hookrelay ") {
				counts["(text) "+line[:min(len(line), 60)]]++
			}
			continue
		}
		msg := idRe.ReplaceAllString(l.Msg, "…")
		counts[l.Level+" "+msg[:min(len(msg), 100)]]++
	}
	return counts
}

// printLogTail shows the end of hookrelay's output on stderr after a failure.
func (h *harness) printLogTail() {
	if h.logPath == "" {
		return
	}
	b, err := os.ReadFile(h.logPath)
	if err != nil || len(b) == 0 {
		return
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	lines = lines[max(0, len(lines)-20):]
	logf("last lines of hookrelay's output:\n  %s", strings.Join(lines, "\n  "))
}

// sortedKeys returns m's keys in order, for stable output.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
