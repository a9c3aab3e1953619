package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

const listenUsage = "usage: hookrelay listen --server URL --token API_TOKEN --forward-to URL [--source SOURCE_ID] [--replay SINCE]"

// listenOptions are the flags of `hookrelay listen`.
type listenOptions struct {
	server, token, source, forwardTo string
	since                            time.Time
}

// listenedEvent is the data of one `webhook` server-sent event (api/listen.go).
type listenedEvent struct {
	ID          string              `json:"id"`
	SourceID    string              `json:"source_id"`
	EventType   string              `json:"event_type"`
	ContentType string              `json:"content_type"`
	Headers     map[string][]string `json:"headers"`
	Body        []byte              `json:"body"`
}

// runListen streams the team's events from a relay (GET /api/v1/listen,
// server-sent events) and forwards each to a local URL, signed with
// Standard Webhooks under a secret made for this session and printed once:
// `stripe listen --forward-to` for every provider. It needs no database:
// it runs on a developer's machine. On a broken stream it reconnects with
// Last-Event-ID, so no event is missed; an event seen twice (a resumed
// stream may repeat the last ones) is forwarded once.
func runListen(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("listen", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var o listenOptions
	fs.StringVar(&o.server, "server", "http://localhost:8080", "the relay's base URL")
	fs.StringVar(&o.token, "token", "", "an API token of the team (read scope is enough)")
	fs.StringVar(&o.source, "source", "", "only this source's events")
	fs.StringVar(&o.forwardTo, "forward-to", "", "local URL each event is POSTed to")
	replay := fs.String("replay", "", "first send the stored events since this time (RFC 3339, a date, or an age such as 1h)")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w\n%s", err, listenUsage)
	}
	if o.token == "" || o.forwardTo == "" {
		return errors.New(listenUsage)
	}
	for _, u := range []string{o.server, o.forwardTo} {
		if p, err := url.Parse(u); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return fmt.Errorf("listen: %q is not an http(s) URL", u)
		}
	}
	if *replay != "" {
		t, err := parseSince(*replay, time.Now())
		if err != nil {
			return err
		}
		o.since = t
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	secret := "whsec_" + base64.StdEncoding.EncodeToString(key)
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Forwarding events to %s, signed with Standard Webhooks.\nSigning secret for this session (shown once): %s\n", o.forwardTo, secret)
	l := &listener{opt: o, wh: wh, out: stdout, seen: map[string]bool{},
		stream:  &http.Client{Transport: &http.Transport{Proxy: http.ProxyFromEnvironment}},
		forward: &http.Client{Timeout: 30 * time.Second}}
	return l.run(ctx)
}

// listener is one `hookrelay listen` session.
type listener struct {
	opt             listenOptions
	wh              *standardwebhooks.Webhook
	out             io.Writer
	stream, forward *http.Client
	lastID          string
	seen            map[string]bool
	seenOrder       []string
}

// run reconnects until ctx ends; only a refused token or source stops it.
func (l *listener) run(ctx context.Context) error {
	backoff := 250 * time.Millisecond
	for ctx.Err() == nil {
		got, err := l.connect(ctx)
		var fatal *fatalListenError
		if errors.As(err, &fatal) {
			return err
		}
		if got {
			backoff = 250 * time.Millisecond
		}
		if err != nil && ctx.Err() == nil {
			fmt.Fprintf(l.out, "listen: %v; reconnecting\n", err)
			backoff = min(backoff*2, 5*time.Second)
		}
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
	}
	return nil
}

type fatalListenError struct{ msg string }

func (e *fatalListenError) Error() string { return e.msg }

// connect reads one stream to its end. got says whether it connected.
func (l *listener) connect(ctx context.Context) (got bool, err error) {
	q := url.Values{}
	if l.opt.source != "" {
		q.Set("source_id", l.opt.source)
	}
	if !l.opt.since.IsZero() && l.lastID == "" { // once resuming, Last-Event-ID is the position
		q.Set("since", l.opt.since.UTC().Format(time.RFC3339Nano))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(l.opt.server, "/")+"/api/v1/listen?"+q.Encode(), nil)
	if err != nil {
		return false, err
	}
	req.Header.Set("Authorization", "Bearer "+l.opt.token)
	req.Header.Set("Accept", "text/event-stream")
	if l.lastID != "" {
		req.Header.Set("Last-Event-ID", l.lastID)
	}
	resp, err := l.stream.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 2048))
		err := fmt.Errorf("listen: %s answered %d: %s", l.opt.server, resp.StatusCode, strings.TrimSpace(string(msg)))
		if resp.StatusCode < 500 && resp.StatusCode != http.StatusTooManyRequests {
			return false, &fatalListenError{err.Error()}
		}
		return false, err
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64*1024), 64<<20) // a line holds a whole event
	var id, kind string
	var data bytes.Buffer
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if kind == "webhook" && data.Len() > 0 {
				l.deliver(ctx, data.Bytes())
				l.lastID = id // only after the event was handled
			}
			id, kind = "", ""
			data.Reset()
		case strings.HasPrefix(line, "id:"):
			id = strings.TrimSpace(line[3:])
		case strings.HasPrefix(line, "event:"):
			kind = strings.TrimSpace(line[6:])
		case strings.HasPrefix(line, "data:"):
			data.WriteString(strings.TrimPrefix(line[5:], " "))
		}
	}
	return true, sc.Err()
}

// deliver forwards one event to the local URL and prints one line.
func (l *listener) deliver(ctx context.Context, data []byte) {
	var ev listenedEvent
	if err := json.Unmarshal(data, &ev); err != nil || ev.ID == "" {
		fmt.Fprintf(l.out, "listen: an event the client cannot read: %v\n", err)
		return
	}
	if l.seen[ev.ID] {
		return
	}
	l.seen[ev.ID] = true
	if l.seenOrder = append(l.seenOrder, ev.ID); len(l.seenOrder) > 10000 {
		delete(l.seen, l.seenOrder[0])
		l.seenOrder = l.seenOrder[1:]
	}
	start := time.Now()
	sig, err := l.wh.Sign(ev.ID, start, ev.Body)
	if err != nil {
		fmt.Fprintf(l.out, "%s  %-40s %s  sign: %v\n", start.Format("15:04:05"), ev.EventType, ev.ID, err)
		return
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.opt.forwardTo, bytes.NewReader(ev.Body))
	if err != nil {
		return
	}
	req.Header.Set("Content-Type", cmpOr(ev.ContentType, "application/json"))
	req.Header.Set("User-Agent", "hookrelay-listen/"+version)
	req.Header.Set("Webhook-Id", ev.ID)
	req.Header.Set("Webhook-Timestamp", fmt.Sprint(start.Unix()))
	req.Header.Set("Webhook-Signature", sig)
	resp, err := l.forward.Do(req)
	took := time.Since(start).Round(time.Millisecond)
	if err != nil {
		fmt.Fprintf(l.out, "%s  %-40s %s  → error %v (%s)\n", start.Format("15:04:05"), ev.EventType, ev.ID, err, took)
		return
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	fmt.Fprintf(l.out, "%s  %-40s %s  → %d (%s)\n", start.Format("15:04:05"), ev.EventType, ev.ID, resp.StatusCode, took)
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
