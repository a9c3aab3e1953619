package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/store"
)

// decode reads a JSON request body strictly: malformed JSON is 400, an
// unknown field is 422 naming it.
func decode(c *fiber.Ctx, dst any) error {
	// BodyRaw: Body would inflate an encoded body (guardBody refuses those).
	dec := json.NewDecoder(bytes.NewReader(c.BodyRaw()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.Is(err, io.EOF), errors.As(err, &se), errors.Is(err, io.ErrUnexpectedEOF):
			return errorf(fiber.StatusBadRequest, "malformed_json", "request body is not valid JSON")
		case errors.As(err, &te):
			return &relay.ValidationError{Field: te.Field, Msg: "has the wrong type, want " + te.Type.String()}
		default:
			return &relay.ValidationError{Field: "body", Msg: err.Error()}
		}
	}
	return nil
}

type sourceView struct {
	ID        string               `json:"id"`
	Name      string               `json:"name"`
	Provider  string               `json:"provider"`
	IngestURL string               `json:"ingest_url"`
	Config    json.RawMessage      `json:"config"`
	Secrets   []relay.MaskedSecret `json:"secrets"`
	CreatedAt time.Time            `json:"created_at"`
	UpdatedAt time.Time            `json:"updated_at"`
	// HasAPIKey: a Stripe source holds a backfill key (never shown).
	HasAPIKey bool `json:"has_api_key"`
}

func (s *server) sourceView(src *store.Source) sourceView {
	return sourceView{ID: src.ID, Name: src.Name, Provider: src.Provider, IngestURL: s.Relay.IngestURL(s.PublicURL, src),
		Config: src.Config, Secrets: s.Relay.MaskSecrets(src.ID, src.Secrets), CreatedAt: src.CreatedAt, UpdatedAt: src.UpdatedAt,
		HasAPIKey: src.APIKeySealed != ""}
}

type endpointView struct {
	ID             string               `json:"id"`
	URL            string               `json:"url"`
	Description    string               `json:"description"`
	Enabled        bool                 `json:"enabled"`
	DisabledReason string               `json:"disabled_reason,omitempty"`
	EventTypes     []string             `json:"event_types"`
	SourceIDs      []string             `json:"source_ids"`
	SigningScheme  string               `json:"signing_scheme"`
	Headers        map[string]string    `json:"headers"`
	TimeoutMS      int                  `json:"timeout_ms"`
	RetrySchedule  string               `json:"retry_schedule"`
	RateLimit      int                  `json:"rate_limit"`
	MaxInFlight    int                  `json:"max_in_flight"`
	FailingSince   *time.Time           `json:"failing_since"`
	DisabledAt     *time.Time           `json:"disabled_at,omitempty"`
	PausedAt       *time.Time           `json:"paused_at,omitempty"` // paused: deliveries held until resume
	Secrets        []relay.MaskedSecret `json:"secrets"`
	Secret         string               `json:"secret,omitempty"`
	PublicKeys     []string             `json:"public_keys,omitempty"` // whpk_ keys verifying v1a; none for HMAC
	CreatedAt      time.Time            `json:"created_at"`
	UpdatedAt      time.Time            `json:"updated_at"`
}

func (s *server) endpointView(ep *store.Endpoint) endpointView {
	// Custom header values often hold credentials: names only.
	h := make(map[string]string, len(ep.Headers))
	for k := range ep.Headers {
		h[k] = "[redacted]"
	}
	ids := ep.SourceIDs
	if ids == nil {
		ids = []string{}
	}
	return endpointView{ID: ep.ID, URL: ep.URL, Description: ep.Description, Enabled: ep.Enabled,
		DisabledReason: ep.DisabledReason, EventTypes: ep.EventTypes, SourceIDs: ids, SigningScheme: ep.SigningScheme,
		Headers: h, TimeoutMS: ep.TimeoutMS, RetrySchedule: ep.RetrySchedule, RateLimit: ep.RateLimit,
		MaxInFlight: ep.MaxInFlight, FailingSince: ep.FailingSince, DisabledAt: ep.DisabledAt, PausedAt: ep.PausedAt,
		Secrets: s.Relay.MaskSecrets(ep.ID, ep.Secrets), PublicKeys: s.Relay.PublicKeys(ep.ID, ep.Secrets),
		CreatedAt: ep.CreatedAt, UpdatedAt: ep.UpdatedAt}
}

type eventView struct {
	ID              string              `json:"id"`
	SourceID        string              `json:"source_id"`
	ReceivedAt      time.Time           `json:"received_at"`
	ProviderEventID *string             `json:"provider_event_id"`
	EventType       string              `json:"event_type"`
	Verified        bool                `json:"verified"`
	Test            bool                `json:"test,omitempty"` // a test event hookrelay made (events.test)
	PayloadExpired  bool                `json:"payload_expired,omitempty"`
	ContentType     string              `json:"content_type"`
	Headers         map[string][]string `json:"headers,omitempty"`
	Body            json.RawMessage     `json:"body,omitempty"`
	BodyText        *string             `json:"body_text,omitempty"`
	BodyBase64      []byte              `json:"body_base64,omitempty"`
	Deliveries      []deliveryView      `json:"deliveries,omitempty"`
}

func eventViewOf(e *store.Event, withBody bool) eventView {
	v := eventView{ID: e.ID, SourceID: e.SourceID, ReceivedAt: e.ReceivedAt, ProviderEventID: e.ProviderEventID,
		EventType: e.EventType, Verified: e.Verified, Test: e.Test, ContentType: e.ContentType, PayloadExpired: e.BodyDropped}
	if !withBody || e.BodyDropped {
		return v
	}
	v.Headers = e.Headers
	// JSON bodies inline as JSON (re-encoded by the JSON encoder: compact,
	// <>& escaped), other text as a string; body_base64 always carries the
	// exact bytes received, e.g. to re-check a signature.
	switch {
	case json.Valid(e.Body):
		v.Body = e.Body
	case utf8.Valid(e.Body):
		t := string(e.Body)
		v.BodyText = &t
	}
	v.BodyBase64 = e.Body
	return v
}

type attemptView struct {
	N               int                 `json:"n"`
	StartedAt       time.Time           `json:"started_at"`
	DurationMS      int                 `json:"duration_ms"`
	URL             string              `json:"url"`
	RequestHeaders  map[string][]string `json:"request_headers"`
	ResponseStatus  int                 `json:"response_status"`
	ResponseHeaders map[string][]string `json:"response_headers"`
	ResponseBody    string              `json:"response_body"`
	Error           string              `json:"error,omitempty"`
	Manual          bool                `json:"manual"`
}

type deliveryView struct {
	ID            string        `json:"id"`
	EventID       string        `json:"event_id"`
	EndpointID    string        `json:"endpoint_id"`
	Status        string        `json:"status"`
	Attempts      int           `json:"attempts"`
	NextAttemptAt *time.Time    `json:"next_attempt_at"`
	LastStatus    int           `json:"last_status"`
	LastError     string        `json:"last_error,omitempty"`
	CreatedAt     time.Time     `json:"created_at"`
	UpdatedAt     time.Time     `json:"updated_at"`
	AttemptLog    []attemptView `json:"attempt_log,omitempty"`
}

func deliveryViewOf(d *store.Delivery, atts []store.Attempt) deliveryView {
	v := deliveryView{ID: d.ID, EventID: d.EventID, EndpointID: d.EndpointID, Status: d.Status, Attempts: d.Attempts,
		LastStatus: d.LastStatus, LastError: d.LastError, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt}
	if d.Status == store.StatusPending {
		v.NextAttemptAt = d.NextAttemptAt
	}
	for _, a := range atts {
		v.AttemptLog = append(v.AttemptLog, attemptView{N: a.N, StartedAt: a.StartedAt, DurationMS: a.DurationMS, URL: a.URL,
			RequestHeaders: a.RequestHeaders, ResponseStatus: a.ResponseStatus, ResponseHeaders: a.ResponseHeaders,
			ResponseBody: string(a.ResponseBody), Error: a.Error, Manual: a.Manual})
	}
	return v
}
