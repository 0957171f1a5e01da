package router

import "github.com/tidwall/gjson"

// jsonEvent is one token of a JSON document: '{', '}', '[', ']', 'k' (an
// object key, with its quotes) or 's' (a scalar value); doc[start:end] is
// its text.
type jsonEvent struct {
	kind       byte
	start, end int
}

// scanJSON yields the tokens of doc in order, in one pass and without
// recursion, until yield returns an error. doc must have passed
// parsers.CheckJSON: scanJSON trusts the grammar (it never reads out of
// bounds on other input, but its events then mean nothing).
func scanJSON(doc []byte, yield func(jsonEvent) error) error {
	var open []byte // the kinds of the containers around i
	wantKey := false
	for i := 0; i < len(doc); {
		c := doc[i]
		switch c {
		case ' ', '\t', '\r', '\n', ':':
			i++
			continue
		case ',':
			wantKey = len(open) > 0 && open[len(open)-1] == '{'
			i++
			continue
		case '{', '[':
			open = append(open, c)
			wantKey = c == '{'
			if err := yield(jsonEvent{kind: c, start: i, end: i + 1}); err != nil {
				return err
			}
			i++
			continue
		case '}', ']':
			if len(open) > 0 {
				open = open[:len(open)-1]
			}
			wantKey = false
			if err := yield(jsonEvent{kind: c, start: i, end: i + 1}); err != nil {
				return err
			}
			i++
			continue
		}
		j := i + 1
		kind := byte('s')
		if c == '"' {
			j = stringEnd(doc, i)
			if wantKey {
				kind, wantKey = 'k', false
			}
		} else {
			for j < len(doc) && !delimiter(doc[j]) {
				j++
			}
		}
		if err := yield(jsonEvent{kind: kind, start: i, end: j}); err != nil {
			return err
		}
		i = j
	}
	return nil
}

// stringEnd is the index after the closing quote of the string opening at i.
func stringEnd(doc []byte, i int) int {
	for j := i + 1; j < len(doc); j++ {
		switch doc[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(doc)
}

func delimiter(c byte) bool {
	switch c {
	case ',', ']', '}', ' ', '\t', '\r', '\n', ':':
		return true
	}
	return false
}

// unquote is the value of a JSON string token, quotes included.
func unquote(tok []byte) string {
	if len(tok) < 2 {
		return ""
	}
	inner := tok[1 : len(tok)-1]
	for _, c := range inner {
		if c == '\\' {
			return gjson.ParseBytes(tok).Str
		}
	}
	return string(inner)
}
