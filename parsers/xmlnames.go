package parsers

import (
	"encoding/binary"
	"math/bits"
	"strings"
	"unicode/utf8"
)

// Names: reading, checking and interning element and attribute names.

// nameUse says what a name is read for.
type nameUse uint8

const (
	nameCheck nameUse = iota // only checked and kept in nameBuf, for messages
	nameAttr                 // interned
	nameElem                 // interned, and pushed on the open stack
)

// scanName reads and checks a name as encoding/xml does (at most one colon,
// which separates the prefix from the local name). It returns the local
// name's id, or -1 for nameCheck.
func (s *xmlScanner) scanName(what string, use nameUse) (int32, error) {
	if local, ok := s.asciiName(use); ok {
		return local, nil
	}
	s.nameBuf = s.nameBuf[:0]
	for s.more() {
		start := s.pos
		for s.pos < len(s.buf) && (s.buf[s.pos] >= utf8.RuneSelf || isNameByte(s.buf[s.pos])) {
			s.pos++
		}
		s.nameBuf = append(s.nameBuf, s.buf[start:s.pos]...)
		if s.pos < len(s.buf) {
			break
		}
	}
	if len(s.nameBuf) == 0 {
		if !s.more() {
			return -1, s.eofErr()
		}
		return -1, s.fail("expected %s name, found %s", what, printable(s.buf[s.pos]))
	}
	if !isXMLName(s.nameBuf) {
		return -1, s.fail("invalid XML name: %s", appendJSONBody(nil, s.nameBuf))
	}
	colons := 0
	cut := -1
	for i, c := range s.nameBuf {
		if c == ':' {
			colons++
			cut = i
		}
	}
	if colons > 1 {
		return -1, s.fail("invalid XML name %s: more than one colon", appendJSONBody(nil, s.nameBuf))
	}
	if use == nameCheck {
		return -1, nil
	}
	if use == nameElem {
		s.push(s.nameBuf)
	}
	local := s.nameBuf
	if cut > 0 && cut < len(local)-1 {
		local = local[cut+1:]
	}
	head, tail := wordsAt(local, 0, len(local))
	return s.internWords(local, head, tail), nil
}

// asciiName is scanName's fast path: an ASCII name that ends inside the
// buffer is checked in one pass and interned in place, without the copy to
// nameBuf (which only an end tag needs, for its messages). Anything else,
// errors included, is left to scanName.
func (s *xmlScanner) asciiName(use nameUse) (int32, bool) {
	b, start, i := s.buf, s.pos, s.pos
	cut, colons := -1, 0
	for i < len(b) {
		c := b[i]
		if byteClass[c]&cName == 0 {
			break
		}
		if c == ':' {
			cut, colons = i-start, colons+1
		}
		i++
	}
	if i == start || i == len(b) || b[i] >= utf8.RuneSelf || colons > 1 {
		return -1, false
	}
	if c := b[start]; !(c == '_' || c == ':' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z') {
		return -1, false
	}
	s.pos = i
	switch use {
	case nameCheck:
		s.nameBuf = append(s.nameBuf[:0], b[start:i]...)
		return -1, true
	case nameElem:
		s.push(b[start:i])
	}
	if cut > 0 && cut < i-start-1 {
		start += cut + 1
	}
	head, tail := wordsAt(b, start, i)
	return s.internWords(b[start:i], head, tail), true
}

// push opens an element named name.
func (s *xmlScanner) push(name []byte) {
	s.opens = append(s.opens, len(s.open))
	s.open = append(s.open, name...)
}

// pop closes the innermost open element.
func (s *xmlScanner) pop() {
	n := len(s.opens) - 1
	s.open, s.opens = s.open[:s.opens[n]], s.opens[:n]
}

// top is the qualified name of the innermost open element.
func (s *xmlScanner) top() []byte { return s.open[s.opens[len(s.opens)-1]:] }

// closes reads the name of an end tag when it is the innermost open
// element's (checked when it was opened) followed by a byte that cannot
// continue a name: the common case, with no second check and no copy.
func (s *xmlScanner) closes() bool {
	if len(s.opens) == 0 {
		return false
	}
	e := s.top()
	end := s.pos + len(e)
	if end >= len(s.buf) || string(s.buf[s.pos:end]) != string(e) {
		return false
	}
	if c := s.buf[end]; c >= utf8.RuneSelf || byteClass[c]&cName != 0 {
		return false
	}
	s.pos = end
	return true
}

// nameSlot is a cached interned name with its first and last eight bytes,
// so that a hit costs word compares rather than a byte comparison.
type nameSlot struct {
	head, tail uint64
	n          int
	id         int32
}

// wordsAt returns the first and last eight bytes of buf[start:end] as
// little-endian words, zero-padded when it is shorter; bytes past end are
// loaded and masked off when buf has them, as it usually does.
func wordsAt(buf []byte, start, end int) (head, tail uint64) {
	n := end - start
	switch {
	case n >= 8:
		return binary.LittleEndian.Uint64(buf[start:]), binary.LittleEndian.Uint64(buf[end-8:])
	case start+8 <= len(buf):
		head = binary.LittleEndian.Uint64(buf[start:]) & (1<<(8*uint(n)) - 1)
		return head, head
	}
	for i := end - 1; i >= start; i-- {
		head = head<<8 | uint64(buf[i])
	}
	return head, head
}

// maxNames bounds the intern map; hostile bodies with endless names get no
// more of it.
const maxNames = 4096

// internWords returns the id of name b, whose words wordsAt gave. The slot
// is the top bits of a Fibonacci hash of both words and the length, so a
// document's few names rarely share one and fall through to the map.
func (s *xmlScanner) internWords(b []byte, head, tail uint64) int32 {
	h := (head ^ bits.RotateLeft64(tail, 31) ^ uint64(len(b))) * 0x9E3779B97F4A7C15
	slot := &s.cache[h>>56]
	// The words cover a name of up to 16 bytes; only longer ones compare the middle.
	if slot.n == len(b) && slot.head == head && slot.tail == tail && (len(b) <= 16 || s.names[slot.id].name[8:len(b)-8] == string(b[8:len(b)-8])) {
		return slot.id
	}
	id, ok := s.intern[string(b)]
	if !ok {
		id = int32(len(s.names))
		s.names = append(s.names, newXName(b))
		s.nameBytes += len(b)
		if s.intern == nil {
			s.intern = make(map[string]int32)
		}
		if len(s.intern) < maxNames {
			s.intern[s.names[id].name] = id
		}
	}
	*slot = nameSlot{head: head, tail: tail, n: len(b), id: id}
	return id
}

// forgetNames drops the interned names once there are many, when the
// walker holds no id: then memory follows the largest item, not the body
// (nor, for a pooled walker, the bodies before).
func (s *xmlScanner) forgetNames() {
	if len(s.names) <= maxNames && s.nameBytes <= 64<<10 {
		return
	}
	clear(s.names)
	s.names, s.nameBytes = s.names[:0], 0
	clear(s.intern)
	s.cache = [256]nameSlot{}
}

// xname is an interned name with the JSON keys an item writes for it, so
// that writing a key is one copy. All three are substrings of one string,
// "-name":"name":, made once per distinct name; only ids travel through the
// scanner, the table of xnames is read where keys are written. Names need no
// JSON escaping: isXMLName admits no quote, backslash, control character,
// U+2028/9 or invalid UTF-8.
type xname struct {
	name string // the name itself
	key  string // as an element's key, "name":
	attr string // as an attribute's key, "-name":
}

func newXName(b []byte) xname {
	var sb strings.Builder
	sb.Grow(2*len(b) + 7)
	sb.WriteString(`"-`)
	sb.Write(b)
	sb.WriteString(`":"`)
	sb.Write(b)
	sb.WriteString(`":`)
	all := sb.String()
	attr, key := all[:len(b)+4], all[len(b)+4:]
	return xname{name: key[1 : len(key)-2], key: key, attr: attr}
}
