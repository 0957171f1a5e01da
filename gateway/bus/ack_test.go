package bus

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/tidwall/gjson"
)

func TestParseAck(t *testing.T) {
	tests := []struct {
		name      string
		data      string
		status    string
		duplicate bool
		wantErr   error // nil: no error; errAny: some error
	}{
		{"stored", `{"stream":"HOOKGATE_TASKS","seq":42}`, "", false, nil},
		{"duplicate", `{"stream":"HOOKGATE_TASKS","seq":42,"duplicate":true}`, "", true, nil},
		{"duplicate false", `{"stream":"S","seq":1,"duplicate":false}`, "", false, nil},
		{"with a domain", `{"stream":"S","domain":"hub","seq":7}`, "", false, nil},
		{"no responders", ``, "503", false, jetstream.ErrNoStreamResponse},
		{"empty without status", ``, "", false, errAny},
		{"a stream error", `{"error":{"code":503,"err_code":10077,"description":"maximum messages exceeded"},"stream":"S","seq":0}`, "", false, &jetstream.APIError{}},
		{"a null error is no error", `{"error":null,"stream":"S","seq":3}`, "", false, nil},
		{"not an ack", `{"hello":"world"}`, "", false, errAny},
		{"seq not a number", `{"stream":"S","seq":"1"}`, "", false, errAny},
		{"not JSON", `+OK`, "", false, errAny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &nats.Msg{Data: []byte(tt.data)}
			if tt.status != "" {
				m.Header = nats.Header{"Status": {tt.status}}
			}
			dup, err := parseAck(m)
			switch want := tt.wantErr.(type) {
			case nil:
				if err != nil || dup != tt.duplicate {
					t.Fatalf("parseAck = %v, %v; want %v, nil", dup, err, tt.duplicate)
				}
			case *jetstream.APIError:
				var apiErr *jetstream.APIError
				if !errors.As(err, &apiErr) || apiErr.Description != "maximum messages exceeded" {
					t.Fatalf("parseAck error = %v, want the stream's APIError", err)
				}
			default:
				if err == nil || (want != errAny && !errors.Is(err, want)) {
					t.Fatalf("parseAck error = %v, want %v", err, want)
				}
			}
		})
	}
}

var errAny = errors.New("any error")

// FuzzParseAck checks parseAck against encoding/json: never a panic, an
// error object is always a failure, a numeric seq without one is stored,
// and duplicate is read as JSON reads it.
func FuzzParseAck(f *testing.F) {
	for _, seed := range []string{
		`{"stream":"HOOKGATE_TASKS","seq":42}`,
		`{"stream":"HOOKGATE_TASKS","seq":42,"duplicate":true}`,
		`{"error":{"code":400,"description":"x"}}`,
		`{"error":null,"seq":1}`,
		`{"seq":1,"seq":2,"duplicate":true,"duplicate":false}`,
		``, `[]`, `null`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		dup, err := parseAck(&nats.Msg{Data: data})
		var doc map[string]any
		if !json.Valid(data) || json.Unmarshal(data, &doc) != nil || doc == nil || bytes.ContainsRune(data, '\\') {
			return // no oracle; not crashing is the test
		}
		keys := 0
		gjson.ParseBytes(data).ForEach(func(_, _ gjson.Result) bool { keys++; return true })
		if keys != len(doc) {
			return // a repeated key: gjson reads the first, encoding/json the last
		}
		_, seqIsNumber := doc["seq"].(float64)
		switch {
		case doc["error"] != nil:
			if err == nil {
				t.Fatalf("%s: an error object was taken as stored", data)
			}
		case seqIsNumber:
			if err != nil || dup != (doc["duplicate"] == true) {
				t.Fatalf("%s: parseAck = %v, %v; want duplicate %v, nil", data, dup, err, doc["duplicate"] == true)
			}
		default:
			if err == nil {
				t.Fatalf("%s: no seq, yet taken as stored", data)
			}
		}
	})
}
