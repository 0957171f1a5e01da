package parsers

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"unicode/utf8"
)

// csvReader reads CSV exactly as encoding/csv does with FieldsPerRecord -1
// and no comments, lazy quotes or trimming (RFC 4180; its records, errors
// and positions, which FuzzCSVReaderMatchesEncodingCSV checks), but hands
// each field to a callback instead of returning a record. encoding/csv keeps
// about 40 bytes of bookkeeping per field of a record: a 1 MB line of commas
// cost 100 MB before hookgate saw its first field. Here a field costs
// nothing beyond the line it is on.
type csvReader struct {
	r        *bufio.Reader
	comma    rune
	commaLen int
	raw      []byte // a line longer than r's buffer
	quoted   []byte // the content of the quoted field being read
	numLine  int
}

// errCSVDelim is encoding/csv's refusal of a delimiter it cannot use.
var errCSVDelim = errors.New("csv: invalid field or comment delimiter")

func newCSVReader(r io.Reader, comma rune) *csvReader {
	return &csvReader{r: bufio.NewReader(r), comma: comma, commaLen: utf8.RuneLen(comma)}
}

// readLine reads one line, "\r\n" normalized to "\n", as encoding/csv does.
func (c *csvReader) readLine() ([]byte, error) {
	line, err := c.r.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		c.raw = append(c.raw[:0], line...)
		for err == bufio.ErrBufferFull {
			line, err = c.r.ReadSlice('\n')
			c.raw = append(c.raw, line...)
		}
		line = c.raw
	}
	if len(line) > 0 && err == io.EOF {
		err = nil
		// encoding/csv drops a trailing \r before EOF.
		if line[len(line)-1] == '\r' {
			line = line[:len(line)-1]
		}
	}
	c.numLine++
	if n := len(line); n >= 2 && line[n-2] == '\r' && line[n-1] == '\n' {
		line[n-2] = '\n'
		line = line[:n-1]
	}
	return line, err
}

// next reads one record, skipping empty lines, and calls field with each
// of its fields in order; the slice is only valid during the call. It
// returns the line the record starts on and its number of fields, or
// io.EOF after the last record. A malformed record is a *csv.ParseError;
// an error from field is returned as it is.
func (c *csvReader) next(field func([]byte) error) (recLine, fields int, err error) {
	if !validCSVDelim(c.comma) {
		return 0, 0, errCSVDelim
	}
	var line []byte
	var errRead error
	for errRead == nil {
		line, errRead = c.readLine()
		if errRead == nil && len(line) == lengthNL(line) {
			continue // an empty line
		}
		break
	}
	if errRead == io.EOF {
		return 0, 0, io.EOF
	}
	const quoteLen = len(`"`)
	recLine = c.numLine
	posLine, col := c.numLine, 1
	emit := func(v []byte) error {
		fields++
		return field(v)
	}
parseField:
	for {
		if len(line) == 0 || line[0] != '"' {
			i := bytes.IndexRune(line, c.comma)
			v := line
			if i >= 0 {
				v = v[:i]
			} else {
				v = v[:len(v)-lengthNL(v)]
			}
			if j := bytes.IndexByte(v, '"'); j >= 0 {
				err = &csv.ParseError{StartLine: recLine, Line: c.numLine, Column: col + j, Err: csv.ErrBareQuote}
				break parseField
			}
			if err = emit(v); err != nil {
				return recLine, fields, err
			}
			if i >= 0 {
				line = line[i+c.commaLen:]
				col += i + c.commaLen
				continue parseField
			}
			break parseField
		}
		// A quoted field.
		c.quoted = c.quoted[:0]
		line = line[quoteLen:]
		col += quoteLen
		for {
			i := bytes.IndexByte(line, '"')
			switch {
			case i >= 0:
				c.quoted = append(c.quoted, line[:i]...)
				line = line[i+quoteLen:]
				col += i + quoteLen
				switch rn, _ := utf8.DecodeRune(line); {
				case rn == '"': // "" is a quote
					c.quoted = append(c.quoted, '"')
					line = line[quoteLen:]
					col += quoteLen
				case rn == c.comma: // ", ends the field
					line = line[c.commaLen:]
					col += c.commaLen
					if err = emit(c.quoted); err != nil {
						return recLine, fields, err
					}
					continue parseField
				case lengthNL(line) == len(line): // "\n ends the record
					if err = emit(c.quoted); err != nil {
						return recLine, fields, err
					}
					break parseField
				default:
					err = &csv.ParseError{StartLine: recLine, Line: c.numLine, Column: col - quoteLen, Err: csv.ErrQuote}
					break parseField
				}
			case len(line) > 0: // the field goes on on the next line
				c.quoted = append(c.quoted, line...)
				if errRead != nil {
					break parseField
				}
				col += len(line)
				line, errRead = c.readLine()
				if len(line) > 0 {
					posLine++
					col = 1
				}
				if errRead == io.EOF {
					errRead = nil
				}
			default: // the body ended inside the quotes
				if errRead == nil {
					err = &csv.ParseError{StartLine: recLine, Line: posLine, Column: col, Err: csv.ErrQuote}
					break parseField
				}
				if err = emit(c.quoted); err != nil {
					return recLine, fields, err
				}
				break parseField
			}
		}
	}
	if err == nil {
		err = errRead
	}
	return recLine, fields, err
}

func validCSVDelim(r rune) bool {
	return r != 0 && r != '"' && r != '\r' && r != '\n' && utf8.ValidRune(r) && r != utf8.RuneError
}

func lengthNL(b []byte) int {
	if len(b) > 0 && b[len(b)-1] == '\n' {
		return 1
	}
	return 0
}
