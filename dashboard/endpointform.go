package dashboard

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/signing"
	"github.com/hookrelay/hookrelay/internal/store"
)

// endpointForm is the endpoint form as typed, re-rendered on errors.
type endpointForm struct {
	URL, Description, EventTypes, SigningScheme, KeyType, Headers, TimeoutMS, RetrySchedule string
	RateLimit, MaxInFlight                                                                  string
	SourceIDs                                                                               []string
}

// Has reports whether a source is ticked, for the checkboxes.
func (f endpointForm) Has(id string) bool { return slices.Contains(f.SourceIDs, id) }

func endpointFormOf(ep *store.Endpoint) endpointForm {
	f := endpointForm{URL: ep.URL, Description: ep.Description, EventTypes: strings.Join(ep.EventTypes, ", "),
		SigningScheme: ep.SigningScheme, RetrySchedule: ep.RetrySchedule, SourceIDs: ep.SourceIDs}
	if ep.TimeoutMS > 0 {
		f.TimeoutMS = strconv.Itoa(ep.TimeoutMS)
	}
	if ep.RateLimit > 0 {
		f.RateLimit = strconv.Itoa(ep.RateLimit)
	}
	if ep.MaxInFlight > 0 {
		f.MaxInFlight = strconv.Itoa(ep.MaxInFlight)
	}
	// Header values often hold credentials: the form shows a placeholder,
	// and the relay keeps the stored value for it.
	for _, k := range slices.Sorted(maps.Keys(ep.Headers)) {
		f.Headers += k + ": " + keptValue + "\n"
	}
	return f
}

func readEndpointForm(c *fiber.Ctx) endpointForm {
	f := endpointForm{URL: c.FormValue("url"), Description: c.FormValue("description"),
		EventTypes: c.FormValue("event_types"), SigningScheme: c.FormValue("signing_scheme"),
		KeyType: c.FormValue("signing_key_type"), Headers: c.FormValue("headers"),
		TimeoutMS: strings.TrimSpace(c.FormValue("timeout_ms")), RetrySchedule: c.FormValue("retry_schedule"),
		RateLimit: strings.TrimSpace(c.FormValue("rate_limit")), MaxInFlight: strings.TrimSpace(c.FormValue("max_in_flight"))}
	for _, v := range c.Request().PostArgs().PeekMulti("source_ids") {
		f.SourceIDs = append(f.SourceIDs, string(v))
	}
	return f
}

// input turns the form into a relay.EndpointInput, checking what only the
// form knows (header lines, the timeout as a number); the error is the
// first of inputAll's.
func (f endpointForm) input() (relay.EndpointInput, error) {
	in, errs := f.inputAll()
	if len(errs) > 0 {
		return in, errs[0]
	}
	return in, nil
}

// inputAll is input with every error of the form's own checks.
func (f endpointForm) inputAll() (relay.EndpointInput, []*relay.ValidationError) {
	var errs []*relay.ValidationError
	in, err := f.parse(&errs)
	if err != nil {
		errs = append(errs, fieldError(err))
	}
	return in, errs
}

// parse does input's work, adding the errors of the number fields to errs
// so that one bad field does not hide the next.
func (f endpointForm) parse(errs *[]*relay.ValidationError) (relay.EndpointInput, error) {
	in := relay.EndpointInput{URL: &f.URL, Description: &f.Description, SigningScheme: &f.SigningScheme,
		RetrySchedule: &f.RetrySchedule}
	types := strings.Split(f.EventTypes, ",")
	in.EventTypes = &types
	ids := append([]string{}, f.SourceIDs...)
	in.SourceIDs = &ids
	headers := map[string]string{}
	for i, line := range strings.Split(strings.ReplaceAll(f.Headers, "\r\n", "\n"), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok || strings.TrimSpace(k) == "" || strings.ContainsAny(strings.TrimSpace(k), " \t") {
			*errs = append(*errs, &relay.ValidationError{Field: "headers", Msg: fmt.Sprintf("line %d is not \"Name: value\"", i+1)})
			headers = nil
			break
		}
		headers[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	if headers != nil {
		in.Headers = &headers
	}
	var err error
	if in.TimeoutMS, err = wholeNumber("timeout_ms", f.TimeoutMS, "must be a whole number of milliseconds"); err != nil {
		*errs = append(*errs, fieldError(err))
	}
	if in.RateLimit, err = wholeNumber("rate_limit", f.RateLimit, "must be a whole number of requests per second (0: no limit)"); err != nil {
		*errs = append(*errs, fieldError(err))
	}
	if in.MaxInFlight, err = wholeNumber("max_in_flight", f.MaxInFlight, "must be a whole number of requests (0: no cap)"); err != nil {
		*errs = append(*errs, fieldError(err))
	}
	if f.KeyType != "" {
		in.SigningKeyType = &f.KeyType
	}
	return in, nil
}

// wholeNumber reads an optional number field; empty is 0. The relay
// checks the range.
func wholeNumber(field, v, msg string) (*int, error) {
	n := 0
	if v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			return nil, &relay.ValidationError{Field: field, Msg: msg}
		}
	}
	return &n, nil
}

// keptValue stands for a custom header's stored value in the edit form;
// the relay keeps the stored (encrypted) value for it.
const keptValue = relay.KeepHeaderValue

// keepHeaderValues checks that every placeholder names a header the
// endpoint has: one it did not have is an error.
func keepHeaderValues(in *relay.EndpointInput, stored map[string]string) error {
	if in.Headers == nil {
		return nil
	}
	for k, v := range *in.Headers {
		if _, ok := stored[k]; v == keptValue && !ok {
			return &relay.ValidationError{Field: "headers", Msg: fmt.Sprintf("%s has no stored value to keep: type one", k)}
		}
	}
	return nil
}

// endpointFormData is what the create and edit forms need.
func (d *Dashboard) endpointFormData(c *fiber.Ctx, title string, f endpointForm) (fiber.Map, error) {
	srcs, err := d.Relay.Store().ListSources(c.UserContext(), current(c).TeamID)
	if err != nil {
		return nil, err
	}
	return fiber.Map{"Title": title, "Nav": "endpoints", "F": f, "Sources": srcs, "Schemes": signing.Schemes()}, nil
}

// checkEndpointForm validates the whole form at once: its own checks, then
// the relay's per-field checks of the fields that parsed (base is the
// endpoint being edited, nil for a new one). The errors map has one entry
// per bad field.
func (d *Dashboard) checkEndpointForm(c *fiber.Ctx, f endpointForm, base *store.Endpoint) (relay.EndpointInput, FieldErrors) {
	in, own := f.inputAll()
	errs := FieldErrors{}
	for _, e := range own {
		errs[e.Field] = e.Msg
	}
	if base != nil {
		if err := keepHeaderValues(&in, base.Headers); err != nil {
			errs["headers"] = fieldError(err).Msg
		}
	}
	if in.URL == nil || strings.TrimSpace(*in.URL) == "" {
		errs["url"] = "is required"
	}
	for _, e := range d.Relay.CheckEndpointInput(c.UserContext(), base, in) {
		if _, ok := errs[e.Field]; !ok {
			errs[e.Field] = e.Msg
		}
	}
	return in, errs
}

// invalidAll re-renders a form with 422 and every field's error.
func (d *Dashboard) invalidAll(c *fiber.Ctx, name string, data fiber.Map, errs FieldErrors) error {
	data["Errors"] = errs
	c.Status(fiber.StatusUnprocessableEntity)
	return d.render(c, name, data)
}
