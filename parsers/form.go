package parsers

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
)

// walkForm splits an application/x-www-form-urlencoded body. The document is
// an object of strings (a repeated key becomes an array, keys in order of
// first appearance) or, with form.json_field, that field's JSON; the JSON
// walker then applies the pattern, so forms select exactly as JSON does.
func (s *Splitter) walkForm(body []byte, emit func([]byte) error) error {
	type field struct {
		key    string
		values []string
	}
	var fields []field
	index := map[string]int{}
	for off := 0; off < len(body); {
		end := bytes.IndexByte(body[off:], '&')
		if end < 0 {
			end = len(body)
		} else {
			end += off
		}
		pair := body[off:end]
		at := off
		off = end + 1
		if len(pair) == 0 {
			continue
		}
		k, v, _ := bytes.Cut(pair, []byte{'='})
		key, err := url.QueryUnescape(string(k))
		if err != nil {
			return reject(http.StatusBadRequest, "invalid form at byte %d: %s", at+1, unescapeMsg(err))
		}
		val, err := url.QueryUnescape(string(v))
		if err != nil {
			return reject(http.StatusBadRequest, "invalid form at byte %d: %s", at+len(k)+2, unescapeMsg(err))
		}
		if s.formField != "" {
			if key == s.formField {
				return s.walkFormJSON([]byte(val), emit)
			}
			continue
		}
		i, ok := index[key]
		if !ok {
			i = len(fields)
			index[key] = i
			fields = append(fields, field{key: key})
		}
		fields[i].values = append(fields[i].values, val)
	}
	if s.formField != "" {
		return reject(http.StatusBadRequest, "form field %q is missing; the sender must post the document in it", s.formField)
	}
	doc := []byte{'{'}
	for i, f := range fields {
		if i > 0 {
			doc = append(doc, ',')
		}
		doc = appendJSONString(doc, f.key)
		doc = append(doc, ':')
		if len(f.values) == 1 {
			doc = appendJSONString(doc, f.values[0])
			continue
		}
		doc = append(doc, '[')
		for j, v := range f.values {
			if j > 0 {
				doc = append(doc, ',')
			}
			doc = appendJSONString(doc, v)
		}
		doc = append(doc, ']')
	}
	doc = append(doc, '}')
	return s.walkJSONBytes(doc, "JSON", emit)
}

func (s *Splitter) walkFormJSON(doc []byte, emit func([]byte) error) error {
	return s.walkJSONBytes(doc, fmt.Sprintf("JSON in form field %q", s.formField), emit)
}

// walkJSONBytes runs the JSON walker over a document the splitter owns.
func (s *Splitter) walkJSONBytes(doc []byte, what string, emit func([]byte) error) error {
	w := s.jsonPool.Get().(*jsonWalker)
	defer s.jsonPool.Put(w)
	return w.runAs(doc, what, s.pat, 0, emit)
}

func unescapeMsg(err error) string {
	if e, ok := err.(url.EscapeError); ok {
		return fmt.Sprintf("invalid percent escape %q", string(e))
	}
	return err.Error()
}
