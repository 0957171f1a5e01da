package parsers

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/hookgate/hookgate/configs"
)

// Item is one piece of a body, published as one task.
type Item struct {
	Data        []byte // JSON; for parser raw the body as received
	ContentType string // application/json, or the request's Content-Type for raw
}

// Error is a rejection of the body, rendered by the gateway as SPEC §3.1 says.
type Error struct {
	Status  int
	Message string
}

// Error returns the message.
func (e *Error) Error() string { return e.Message }

func reject(status int, format string, args ...any) *Error {
	return &Error{Status: status, Message: fmt.Sprintf(format, args...)}
}

// errDepth is the SPEC's message for both JSON and XML.
func errDepth() *Error { return reject(http.StatusBadRequest, "nesting deeper than %d", maxDepth) }

// maxDepth is the deepest nesting of containers (JSON) or elements (XML) accepted.
const maxDepth = 512

const jsonType = "application/json"

// Splitter splits bodies for one incoming configuration. Its configuration
// never changes after New and it is safe for concurrent use.
type Splitter struct {
	parser      string
	incremental bool
	pat         pattern
	acceptEmpty bool
	maxItems    int
	maxBytes    int64 // max_items_bytes: what the items of one body may total
	xmlCast     bool
	formField   string
	csvComma    rune
	jsonPool    sync.Pool // *jsonWalker, reused across requests (never shared with items)
	xmlPool     sync.Pool // *xmlWalker, likewise; it keeps buffers and interned names
}

// New builds the splitter of one incoming configuration for a webhook whose
// max_body is maxBody: the items of one body may total at most
// in.ItemsBytesLimit(maxBody) (SPEC §11). Empty fields take the SPEC defaults
// (parser auto, read_method full, on_empty reject, max_items 100000, csv
// delimiter ",").
func New(in configs.Incoming, maxBody configs.Size) (*Splitter, error) {
	s := &Splitter{parser: in.Parser, maxItems: in.MaxItems, xmlCast: in.XML.Cast, formField: in.Form.JSONField, csvComma: ','}
	s.maxBytes = int64(in.ItemsBytesLimit(maxBody))
	if s.maxBytes <= 0 {
		return nil, fmt.Errorf("incoming %q: max_items_bytes is %d bytes with a max_body of %d; both must be more than 0", in.Name, s.maxBytes, maxBody)
	}
	if s.parser == "" {
		s.parser = "auto"
	}
	switch s.parser {
	case "auto", "json", "xml", "form", "csv", "raw":
	default:
		return nil, fmt.Errorf("incoming %q: parser %q is unknown; use auto, json, xml, form, csv or raw", in.Name, in.Parser)
	}
	switch in.ReadMethod {
	case "", "full":
	case "incremental":
		s.incremental = true
	default:
		return nil, fmt.Errorf("incoming %q: read_method %q is unknown; use full or incremental", in.Name, in.ReadMethod)
	}
	switch in.OnEmpty {
	case "", "reject":
	case "accept":
		s.acceptEmpty = true
	default:
		return nil, fmt.Errorf("incoming %q: on_empty %q is unknown; use reject or accept", in.Name, in.OnEmpty)
	}
	if s.maxItems < 0 {
		return nil, fmt.Errorf("incoming %q: max_items %d is negative; use a positive number (default 100000)", in.Name, in.MaxItems)
	}
	if s.maxItems == 0 {
		s.maxItems = 100000
	}
	pat, err := parsePattern(in.PatternToItems)
	if err != nil {
		return nil, fmt.Errorf("incoming %q: %w", in.Name, err)
	}
	s.pat = pat
	if s.parser == "raw" && len(pat.segs) > 0 {
		return nil, fmt.Errorf("incoming %q: pattern_to_items is not allowed with parser raw; remove it or choose another parser", in.Name)
	}
	if d := in.CSV.Delimiter; d != "" {
		r, size := utf8.DecodeRuneInString(d)
		if size != len(d) || r == utf8.RuneError || r == '"' || r == '\r' || r == '\n' || r == 0xFEFF {
			return nil, fmt.Errorf("incoming %q: csv.delimiter %q must be one character other than a quote or a line break", in.Name, d)
		}
		s.csvComma = r
	}
	s.jsonPool.New = func() any { return new(jsonWalker) }
	s.xmlPool.New = func() any { return new(xmlWalker) }
	return s, nil
}

// Incremental reports whether items are handed out as they are read.
func (s *Splitter) Incremental() bool { return s.incremental }

// Split reads body and calls yield once per item, in document order. Item.Data
// is never modified or reused by the splitter after yield returns. An error
// from yield stops the split and is returned as-is; rejections of the body are
// *Error values; errors reading body are returned wrapped.
func (s *Splitter) Split(ctx context.Context, contentType string, body io.Reader, yield func(Item) error) error {
	return s.split(ctx, contentType, body, false, yield)
}

// SplitTransient is Split for a caller that is done with each item when
// yield returns (the gateway copies it into NATS's buffer): in read_method
// incremental, Item.Data is valid only until yield returns and the
// splitter writes the next item over it, so a long body costs no
// allocation per item. In read_method full it is Split.
func (s *Splitter) SplitTransient(ctx context.Context, contentType string, body io.Reader, yield func(Item) error) error {
	return s.split(ctx, contentType, body, true, yield)
}

func (s *Splitter) split(ctx context.Context, contentType string, body io.Reader, transient bool, yield func(Item) error) error {
	kind, rej := s.kindFor(contentType)
	if rej != nil {
		return rej
	}
	if s.incremental {
		return s.splitStream(ctx, kind, contentType, body, transient, yield)
	}
	if kind == "xml" {
		// XML items are written apart from the body, so full mode needs all
		// of them before the first yield, but never the whole body at once.
		return s.collect(ctx, yield, func(emit func([]byte) error) error {
			return s.walkXML(nil, body, contentType, false, emit)
		})
	}
	buf, err := readAll(body)
	if err != nil {
		return err
	}
	return s.splitFull(ctx, kind, contentType, buf, yield)
}

// SplitBytes is Split for a body already in memory, in read_method full
// whatever the configuration says. Items may be sub-slices of body, so the
// caller must not modify body while it holds items.
func (s *Splitter) SplitBytes(ctx context.Context, contentType string, body []byte, yield func(Item) error) error {
	kind, rej := s.kindFor(contentType)
	if rej != nil {
		return rej
	}
	return s.splitFull(ctx, kind, contentType, body, yield)
}

// splitFull parses all of body, then yields; a malformed body yields nothing.
func (s *Splitter) splitFull(ctx context.Context, kind, contentType string, body []byte, yield func(Item) error) error {
	if body == nil {
		body = []byte{} // the walkers read from a reader when body is nil
	}
	switch kind {
	case "raw":
		if int64(len(body)) > s.maxBytes {
			return s.tooBig()
		}
		return yield(Item{Data: body, ContentType: contentType})
	case "json":
		return s.yieldJSON(ctx, body, yield)
	}
	return s.collect(ctx, yield, func(emit func([]byte) error) error {
		switch kind {
		case "xml":
			return s.walkXML(body, nil, contentType, false, emit)
		case "form":
			return s.walkForm(body, emit)
		}
		return s.walkCSV(bytes.NewReader(body), true, emit)
	})
}

// collect runs walk to the end, keeping its items, and yields them only
// when the whole body parsed. The limits stop the walker at the first item
// past them, so a body that expands never makes it hold more.
func (s *Splitter) collect(ctx context.Context, yield func(Item) error, walk func(emit func([]byte) error) error) error {
	var items [][]byte
	var total int64
	err := walk(func(b []byte) error {
		if len(items) == s.maxItems {
			return s.tooMany()
		}
		if total += int64(len(b)); total > s.maxBytes {
			return s.tooBig()
		}
		items = append(items, b)
		return nil
	})
	if err != nil {
		return err
	}
	if len(items) == 0 {
		return s.empty()
	}
	return yieldAll(ctx, items, yield)
}

// yieldAll hands collected items to yield, checking ctx now and then so a
// huge body's items stop when the request is abandoned.
func yieldAll(ctx context.Context, items [][]byte, yield func(Item) error) error {
	for i, b := range items {
		if i&255 == 255 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if err := yield(Item{Data: b, ContentType: jsonType}); err != nil {
			return err
		}
	}
	return nil
}

// yieldJSON is the full-mode JSON path: it allocates nothing per request
// beyond what the pooled walker already holds.
func (s *Splitter) yieldJSON(ctx context.Context, body []byte, yield func(Item) error) error {
	if len(s.pat.segs) == 0 {
		// The whole body is the item: validated by the fast path, unless it
		// is malformed or over a limit, which the walker words.
		if item, ok := wholeJSON(body); ok && s.maxItems >= 1 && int64(len(item)) <= s.maxBytes {
			return yield(Item{Data: item, ContentType: jsonType})
		}
	}
	w := s.jsonPool.Get().(*jsonWalker)
	defer s.jsonPool.Put(w)
	items, err := w.collect(body, s.pat, s.maxItems, s.maxBytes)
	defer clear(items) // the pool must not keep the body alive
	switch {
	case err == errTooMany:
		return s.tooMany()
	case err == errTooBig:
		return s.tooBig()
	case err != nil:
		return err
	case len(items) == 0:
		return s.empty()
	}
	return yieldAll(ctx, items, yield)
}

// splitStream yields items as the walker finds them.
func (s *Splitter) splitStream(ctx context.Context, kind, contentType string, body io.Reader, transient bool, yield func(Item) error) error {
	n, total := 0, int64(0)
	// The walkers' slices are valid during the call only; a caller that
	// may keep items gets copies.
	own := bytes.Clone
	if transient {
		own = func(b []byte) []byte { return b }
	}
	emit := func(b []byte) error {
		if n == s.maxItems {
			return s.tooMany()
		}
		if total += int64(len(b)); total > s.maxBytes {
			return s.tooBig()
		}
		n++
		if err := ctx.Err(); err != nil {
			return err
		}
		return yield(Item{Data: b, ContentType: jsonType})
	}
	var err error
	switch kind {
	case "raw":
		buf, err := readAll(body)
		if err != nil {
			return err
		}
		if int64(len(buf)) > s.maxBytes {
			return s.tooBig()
		}
		return yield(Item{Data: buf, ContentType: contentType})
	case "json":
		w := s.jsonPool.Get().(*jsonWalker)
		err = w.run(nil, body, s.pat, 0, func(b []byte) error { return emit(own(b)) })
		s.jsonPool.Put(w)
	case "xml":
		err = s.walkXML(nil, body, contentType, transient, emit)
	case "form":
		// Form bodies are one document (its fields may come in any order), so
		// they are read whole in both modes.
		buf, rerr := readAll(body)
		if rerr != nil {
			return rerr
		}
		err = s.walkForm(buf, func(b []byte) error { return emit(own(b)) })
	case "csv":
		err = s.walkCSV(body, false, func(b []byte) error { return emit(own(b)) })
	}
	if err != nil {
		return err
	}
	if n == 0 {
		return s.empty()
	}
	return nil
}

func (s *Splitter) tooMany() *Error {
	return reject(http.StatusRequestEntityTooLarge, "more than %d items", s.maxItems)
}

// MaxItemsBytes is the most the items of one request may total (SPEC §11
// max_items_bytes), in bytes.
func (s *Splitter) MaxItemsBytes() int64 { return s.maxBytes }

// ItemsTooBig is the 413 for a request whose items pass MaxItemsBytes, for
// a caller that counts more than the items themselves.
func (s *Splitter) ItemsTooBig() *Error { return s.tooBig() }

// tooBig is the 413 for items past max_items_bytes (SPEC §11).
func (s *Splitter) tooBig() *Error {
	return reject(http.StatusRequestEntityTooLarge, "items exceed %d bytes", s.maxBytes)
}

func (s *Splitter) empty() error {
	if s.acceptEmpty {
		return nil
	}
	if len(s.pat.segs) == 0 {
		return reject(http.StatusUnprocessableEntity, "the body has no items")
	}
	return reject(http.StatusUnprocessableEntity, "pattern_to_items %q matched nothing", s.pat.text)
}

// kindFor resolves parser auto from the Content-Type.
func (s *Splitter) kindFor(contentType string) (string, *Error) {
	if s.parser != "auto" {
		return s.parser, nil
	}
	mt := mediaType(contentType)
	switch {
	case strings.EqualFold(mt, "application/json") || hasSuffixFold(mt, "+json"):
		return "json", nil
	case strings.EqualFold(mt, "application/xml") || strings.EqualFold(mt, "text/xml") || hasSuffixFold(mt, "+xml"):
		return "xml", nil
	case strings.EqualFold(mt, "application/x-www-form-urlencoded"):
		return "form", nil
	case strings.EqualFold(mt, "text/csv"):
		return "csv", nil
	}
	if mt == "" {
		return "", reject(http.StatusUnsupportedMediaType, "missing Content-Type; parser auto accepts JSON, XML, form-urlencoded and text/csv bodies")
	}
	return "", reject(http.StatusUnsupportedMediaType, "unsupported Content-Type %q; parser auto accepts JSON, XML, form-urlencoded and text/csv bodies", mt)
}

// mediaType is the type/subtype of a Content-Type, without parameters; it
// does not allocate, unlike mime.ParseMediaType.
func mediaType(ct string) string {
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return strings.TrimSpace(ct)
}

// mediaParam returns the value of parameter name in a Content-Type, or "".
func mediaParam(ct, name string) string {
	for {
		i := strings.IndexByte(ct, ';')
		if i < 0 {
			return ""
		}
		ct = ct[i+1:]
		part := ct
		if j := strings.IndexByte(part, ';'); j >= 0 {
			part = part[:j]
		}
		k, v, ok := strings.Cut(part, "=")
		if ok && strings.EqualFold(strings.TrimSpace(k), name) {
			return strings.Trim(strings.TrimSpace(v), `"`)
		}
	}
}

func hasSuffixFold(s, suffix string) bool {
	return len(s) >= len(suffix) && strings.EqualFold(s[len(s)-len(suffix):], suffix)
}

// readAll reads the whole body, sizing the buffer once when the reader knows
// its length.
func readAll(r io.Reader) ([]byte, error) {
	size := 512
	switch l := r.(type) {
	case interface{ Len() int }:
		size = l.Len() + 1 // +1 so the final Read sees EOF without growing
	case interface{ Size() int64 }: // a spooled body, read from its start
		size = int(l.Size()) + 1
	}
	buf := make([]byte, 0, size)
	for {
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read body: %w", err)
		}
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
	}
}
