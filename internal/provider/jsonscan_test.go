package provider

import (
	"encoding/json"
	"maps"
	"testing"
)

// decodeFields is the straightforward definition jsonFields must match.
func decodeFields(body []byte) (map[string]string, bool) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil || raw == nil {
		return nil, false
	}
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		var s string
		if json.Unmarshal(v, &s) == nil {
			out[k] = s
		}
	}
	return out, true
}

var jsonFieldCases = []string{
	`{"id":"evt_1","type":"invoice.paid","data":{"object":{"id":"in_1","type":"nested"}},"n":1}`,
	` { "id" : "a" , "type":"b" } `,
	`{"id":1,"type":null,"x":true,"y":false,"z":[1,"a",{"b":"c"}],"w":-1.5e3}`,
	`{"id":"a","id":"b"}`, `{"id":"a","id":2}`, `{"id":2,"id":"a"}`,
	`{"id":"esc \"q\" \\ \/ \u00e9 \ud83d\ude00","t\u0079pe":"key escaped"}`,
	"{\"id\":\"bad utf8 \xff\xfe\",\"type\":\"ok\"}",
	`{"a":"}","b":"{[","c":"\\","d":{"e":"]}"}}`,
	`{}`, `[]`, `null`, `"str"`, `12`, ``, `{`, `{"id":"a"`, `{"id":"a"}x`, `{"id":'a'}`,
	"{\"id\":\"a\"}\n", `{"":""}`,
}

// jsonFields answers exactly as decoding the whole body would.
func TestJSONFieldsMatchesDecoding(t *testing.T) {
	for _, c := range jsonFieldCases {
		got, gotOK := jsonFields([]byte(c))
		want, wantOK := decodeFields([]byte(c))
		if gotOK != wantOK || !maps.Equal(got, want) {
			t.Errorf("%q: got %v %v, want %v %v", c, got, gotOK, want, wantOK)
		}
	}
}

func FuzzJSONFields(f *testing.F) {
	for _, c := range jsonFieldCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, gotOK := jsonFields(b)
		want, wantOK := decodeFields(b)
		if gotOK != wantOK || !maps.Equal(got, want) {
			t.Fatalf("%q: got %v %v, want %v %v", b, got, gotOK, want, wantOK)
		}
	})
}
