package api

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/store"
)

// Listen stream pacing. The stream ends by itself before the server's
// 30-second write timeout (server.go): the client resumes with
// Last-Event-ID, which every stream must survive anyway (restarts,
// load balancers).
const (
	listenPoll     = 200 * time.Millisecond
	listenLifetime = 20 * time.Second
	listenPing     = 5 * time.Second
	listenBatch    = 100
	// listenOverlap is how far before its cursor each poll looks again:
	// another replica may commit an event received a little earlier than
	// one already sent.
	listenOverlap = 2 * time.Second
)

// listenEvent is the data of one `webhook` server-sent event.
type listenEvent struct {
	ID              string              `json:"id"`
	SourceID        string              `json:"source_id"`
	ProviderEventID *string             `json:"provider_event_id"`
	EventType       string              `json:"event_type"`
	ReceivedAt      time.Time           `json:"received_at"`
	ContentType     string              `json:"content_type"`
	Headers         map[string][]string `json:"headers"`
	// Body is the exact bytes received (base64 in JSON).
	Body []byte `json:"body"`
}

// listenCursor is a stream position: an event's (received_at, id), sent
// as the SSE id "<unix microseconds>.<event id>".
type listenCursor struct {
	at time.Time
	id string
}

func (l listenCursor) String() string { return strconv.FormatInt(l.at.UnixMicro(), 10) + "." + l.id }

func parseListenCursor(s string) (listenCursor, error) {
	us, id, ok := strings.Cut(s, ".")
	n, err := strconv.ParseInt(us, 10, 64)
	if !ok || err != nil || !strings.HasPrefix(id, "evt_") || len(id) > 64 {
		return listenCursor{}, &relay.ValidationError{Field: "Last-Event-ID", Msg: "is not an id this stream sent"}
	}
	return listenCursor{at: time.UnixMicro(n).UTC(), id: id}, nil
}

func (c listenCursor) before(e *store.Event) bool {
	return c.at.Before(e.ReceivedAt) || c.at.Equal(e.ReceivedAt) && c.id < e.ID
}

// listen streams the team's events as server-sent events, as they are
// stored: from Last-Event-ID when the client resumes, else from ?since
// (a replay), else from now. ?source_id narrows it to one source.
func (s *server) listen(c *fiber.Ctx) error {
	team := token(c).TeamID
	sourceID := strings.Clone(c.Query("source_id"))
	if sourceID != "" {
		if _, err := s.Relay.Store().GetSource(c.UserContext(), team, sourceID); err != nil {
			return err
		}
	}
	cur := listenCursor{at: s.Relay.Now()}
	if since := c.Query("since"); since != "" {
		t, err := time.Parse(time.RFC3339Nano, since)
		if err != nil {
			return &relay.ValidationError{Field: "since", Msg: "want an RFC 3339 time"}
		}
		cur = listenCursor{at: t.UTC()}
	}
	resumed := false
	if last := c.Get("Last-Event-ID"); last != "" {
		var err error
		if cur, err = parseListenCursor(last); err != nil {
			return err
		}
		resumed = true
	}
	c.Set(fiber.HeaderContentType, "text/event-stream")
	c.Set(fiber.HeaderCacheControl, "no-cache")
	c.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	done := c.Context().Done()
	st, now := s.Relay.Store(), s.Relay.Now
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() {
			select {
			case <-done: // the server is shutting down
			case <-ctx.Done():
			}
			cancel()
		}()
		streamEvents(ctx, w, st, now, team, sourceID, cur, resumed)
	})
	return nil
}

// streamEvents polls for the events after cur and writes them until its
// lifetime ends, ctx ends, or the client is gone. Each poll looks
// listenOverlap before the cursor again, skipping what this stream sent,
// but never before the stream's floor: a fresh stream starts at its
// since; a resumed one may repeat up to listenOverlap (the client
// dedupes by event id).
func streamEvents(ctx context.Context, w *bufio.Writer, st *store.Store, now func() time.Time,
	team, sourceID string, cur listenCursor, resumed bool) {
	fmt.Fprintf(w, "retry: 500\n: hookrelay listen\n\n")
	if w.Flush() != nil {
		return
	}
	floor := cur.at
	if resumed {
		floor = cur.at.Add(-listenOverlap)
	}
	sent := map[string]time.Time{}
	end, ping := now().Add(listenLifetime), now().Add(listenPing)
	for ctx.Err() == nil && now().Before(end) {
		from := cur.at.Add(-listenOverlap)
		if from.Before(floor) {
			from = floor
		}
		skip := make([]string, 0, len(sent))
		for id, at := range sent {
			if at.Before(from) {
				delete(sent, id) // the overlap no longer reaches it
			} else {
				skip = append(skip, id)
			}
		}
		evs, err := st.EventsReceivedFrom(ctx, team, sourceID, from, skip, listenBatch)
		if err != nil {
			if ctx.Err() == nil {
				fmt.Fprintf(w, "event: error\ndata: {\"message\":\"storage unavailable\"}\n\n")
				_ = w.Flush()
			}
			return
		}
		for i := range evs {
			e := &evs[i]
			data, _ := json.Marshal(listenEvent{ID: e.ID, SourceID: e.SourceID, ProviderEventID: e.ProviderEventID,
				EventType: e.EventType, ReceivedAt: e.ReceivedAt, ContentType: e.ContentType, Headers: e.Headers, Body: e.Body})
			pos := listenCursor{at: e.ReceivedAt, id: e.ID}
			fmt.Fprintf(w, "id: %s\nevent: webhook\ndata: %s\n\n", pos, data)
			sent[e.ID] = e.ReceivedAt
			if cur.before(e) {
				cur = pos
			}
		}
		if len(evs) > 0 || now().After(ping) {
			if len(evs) == 0 {
				fmt.Fprint(w, ": ping\n\n")
			}
			if w.Flush() != nil {
				return // the client is gone
			}
			ping = now().Add(listenPing)
		}
		if len(evs) == listenBatch {
			continue // more are waiting
		}
		select {
		case <-ctx.Done():
		case <-time.After(listenPoll):
		}
	}
}
