// Package parsers turns a request body into JSON items (SPEC §4): the json,
// xml, form, csv and raw parsers, auto (chosen by Content-Type), and
// pattern_to_items.
//
// Each format has one walker, shared by both read methods. With
// read_method full the walker runs over the whole body before the first
// item is handed out, so a malformed body yields nothing; with incremental
// it reads through a small window and hands items out as they complete, so
// memory follows the largest item, not the body (form bodies are the one
// document and are read whole). XML items are always written apart from the
// body, so an XML body read from a reader goes through the window in both
// modes and is never held whole.
//
// Items:
//   - json: the exact bytes of each selected value, never re-encoded (the
//     root value when there is no pattern, a leading UTF-8 BOM and outer
//     whitespace left out); in full mode they are sub-slices of the body.
//   - xml: each selected element converted as mxj does (see xmltree.go),
//     keys in document order; the document is {root: value}.
//   - form: an object of strings (repeated keys as arrays) or the JSON of
//     form.json_field; csv: one object of strings per row.
//   - raw: the body with the request's Content-Type.
//
// How pattern segments meet arrays and XML repetition is described in
// pattern.go. Rejections are *Error values whose Status and Message follow
// SPEC §3.1; a body that cannot be read is returned as a wrapped error.
// Positions in messages are 1-based lines and byte columns.
package parsers
