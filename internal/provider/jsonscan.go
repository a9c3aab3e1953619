package provider

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// jsonFields returns the top-level string fields of a JSON object; ok is
// false when the body is not a JSON object (or not valid JSON). Values of
// other kinds are skipped, so a numeric "id" does not fail the whole body;
// a repeated key keeps its last value, as encoding/json does.
//
// It is on the ingest hot path for every JSON provider, so it does not
// decode the body: json.Valid checks it without allocating, then a scan
// of the (now known valid) top level copies out only the string values,
// and only a string with escapes or invalid UTF-8 goes through
// encoding/json. Same answers as decoding into map[string]json.RawMessage
// (a test compares them); several times less CPU on a typical event.
func jsonFields(body []byte) (map[string]string, bool) {
	if !json.Valid(body) {
		return nil, false
	}
	i := skipSpace(body, 0)
	if body[i] != '{' {
		return nil, false
	}
	out := make(map[string]string, 8)
	i++
	for {
		i = skipSpace(body, i)
		if body[i] == '}' {
			return out, true
		}
		end := stringEnd(body, i)
		key := jsonString(body[i:end])
		i = skipSpace(body, end) + 1 // the ':'
		i = skipSpace(body, i)
		start := i
		i = valueEnd(body, i)
		switch body[start] {
		case '"':
			out[key] = jsonString(body[start:i])
		case 'n': // null decodes into a string as ""
			out[key] = ""
		default:
			delete(out, key)
		}
		i = skipSpace(body, i)
		if body[i] == '}' {
			return out, true
		}
		i++ // the ','
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the index just past the string that starts at b[i].
func stringEnd(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(b)
}

// valueEnd returns the index just past the value that starts at b[i].
func valueEnd(b []byte, i int) int {
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				j = stringEnd(b, j) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return j + 1
				}
			}
		}
		return len(b)
	}
	for j := i; j < len(b); j++ { // number, true, false, null
		switch b[j] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return j
		}
	}
	return len(b)
}

// jsonString decodes a quoted JSON string token.
func jsonString(tok []byte) string {
	inner := tok[1 : len(tok)-1]
	if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		return string(inner)
	}
	var s string
	_ = json.Unmarshal(tok, &s) // valid JSON: cannot fail
	return s
}
