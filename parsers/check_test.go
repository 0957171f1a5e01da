package parsers

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckJSON(t *testing.T) {
	for _, tc := range []struct {
		name, doc string
		deep      bool   // want ErrTooDeep
		msg       string // want an *Error containing this; "" means valid
	}{
		{name: "an object is valid", doc: `{"a":[1,2.5e3,"x\u00e9",true,null,{}]}`},
		{name: "a scalar with whitespace and a BOM is valid", doc: "\xef\xbb\xbf \"s\"\n"},
		{name: "nesting of exactly 512 is valid", doc: strings.Repeat("[", 512) + strings.Repeat("]", 512)},
		{name: "nesting of 513 is too deep", doc: strings.Repeat("[", 513) + strings.Repeat("]", 513), deep: true},
		{name: "8MB of [ is too deep, not a stack overflow", doc: strings.Repeat("[", 8<<20), deep: true},
		{name: "deep objects are too deep", doc: strings.Repeat(`{"a":`, 600), deep: true},
		{name: "an unclosed array is invalid", doc: `[1,2`, msg: "unexpected end of input"},
		{name: "text is invalid", doc: `hello`, msg: "invalid JSON at line 1, column 1"},
		{name: "two values are invalid", doc: `{} {}`, msg: "after the top-level value"},
		{name: "invalid UTF-8 in a string is invalid", doc: "\"\xff\"", msg: "invalid UTF-8"},
		{name: "empty is invalid", doc: ``, msg: "expecting a value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckJSON([]byte(tc.doc))
			switch {
			case tc.deep:
				if !errors.Is(err, ErrTooDeep) || err.Error() != "nesting deeper than 512" {
					t.Errorf("CheckJSON = %v, want ErrTooDeep", err)
				}
			case tc.msg == "":
				if err != nil {
					t.Errorf("CheckJSON = %v, want nil", err)
				}
			default:
				var e *Error
				if !errors.As(err, &e) || errors.Is(err, ErrTooDeep) || !strings.Contains(e.Message, tc.msg) {
					t.Errorf("CheckJSON = %v, want an *Error containing %q", err, tc.msg)
				}
			}
		})
	}
}
