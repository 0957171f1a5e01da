package parsers

import (
	"bytes"
	"net/http"
	"strings"

	"golang.org/x/net/html/charset"
)

// xmlCharset finds the encoding from, in this order, a byte order mark (UTF-8
// or UTF-16), UTF-16 without one, the Content-Type charset (RFC 7303 ranks
// it above the document) and the XML declaration. It returns how many bytes
// to skip (the mark) and the label to decode, "" for UTF-8.
func xmlCharset(head []byte, contentType string) (skip int, label string, err error) {
	switch {
	case bytes.HasPrefix(head, []byte{0xEF, 0xBB, 0xBF}):
		return 3, "", nil
	case bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		return 2, "utf-16be", nil
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}):
		return 2, "utf-16le", nil
	case bytes.HasPrefix(head, []byte{0, '<', 0, '?'}):
		return 0, "utf-16be", nil
	case bytes.HasPrefix(head, []byte{'<', 0, '?', 0}):
		return 0, "utf-16le", nil
	}
	if cs := mediaParam(contentType, "charset"); cs != "" {
		if isUTF8Label(cs) {
			return 0, "", nil
		}
		if _, err := charset.NewReaderLabel(cs, bytes.NewReader(nil)); err != nil {
			return 0, "", reject(http.StatusUnsupportedMediaType, "unsupported charset %q in Content-Type; send UTF-8, UTF-16, ISO-8859-1, windows-1252 or another WHATWG encoding", cs)
		}
		return 0, cs, nil
	}
	enc := declaredEncoding(head)
	// The bytes are ASCII-compatible here, so a UTF-16 declaration is wrong; read UTF-8.
	if enc == "" || isUTF8Label(enc) || strings.HasPrefix(strings.ToLower(enc), "utf-16") {
		return 0, "", nil
	}
	if _, err := charset.NewReaderLabel(enc, bytes.NewReader(nil)); err != nil {
		return 0, "", reject(http.StatusBadRequest, "invalid XML at line 1, column 1: unsupported encoding %q; use UTF-8, UTF-16, ISO-8859-1, windows-1252 or another WHATWG encoding", enc)
	}
	return 0, enc, nil
}

// declaredEncoding reads encoding="…" from an XML declaration at the start.
func declaredEncoding(head []byte) string {
	if !bytes.HasPrefix(head, []byte("<?xml")) {
		return ""
	}
	end := bytes.Index(head, []byte("?>"))
	if end < 0 {
		return ""
	}
	decl := head[:end]
	i := bytes.Index(decl, []byte("encoding"))
	if i < 0 {
		return ""
	}
	rest := bytes.TrimLeft(decl[i+len("encoding"):], " \t\r\n")
	if len(rest) == 0 || rest[0] != '=' {
		return ""
	}
	rest = bytes.TrimLeft(rest[1:], " \t\r\n")
	if len(rest) == 0 || (rest[0] != '"' && rest[0] != '\'') {
		return ""
	}
	j := bytes.IndexByte(rest[1:], rest[0])
	if j < 0 {
		return ""
	}
	return string(rest[1 : 1+j])
}

func isUTF8Label(l string) bool { return strings.EqualFold(l, "utf-8") || strings.EqualFold(l, "utf8") }
