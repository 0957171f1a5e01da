package admin

import (
	"math"
	"net/http"
	"strconv"
)

// page is one page of a newest-first listing (the request log, the
// delivery log, the dead letters): at most limit entries, all older than
// the cursor before.
//
// The cursor is a stream sequence number: an answer's next_before is the
// sequence of its oldest entry, so that entries written meanwhile neither
// shift the pages nor show twice. Clients treat it as opaque.
type page struct {
	limit  int
	before uint64 // 0: from the newest
}

// parsePage reads ?limit= (default def, 1 to most) and ?before= (empty, or
// a next_before of an earlier answer).
func parsePage(r *http.Request, def, most int) (page, error) {
	q := r.URL.Query()
	pg := page{limit: def}
	if raw := q.Get("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > most {
			return page{}, &apiError{status: http.StatusBadRequest, msg: "limit: use a whole number from 1 to " + strconv.Itoa(most)}
		}
		pg.limit = n
	}
	if raw := q.Get("before"); raw != "" {
		n, err := strconv.ParseUint(raw, 10, 64)
		if err != nil || n < 1 || n > math.MaxInt64 {
			return page{}, &apiError{status: http.StatusBadRequest,
				msg: "before: use the next_before of an earlier answer (a whole number from 1), or leave it out for the newest entries"}
		}
		pg.before = n
	}
	return pg, nil
}

// pageOf is a listing's answer: the entries under name and, when older
// entries may follow, next_before, the before that asks for them.
func pageOf(name string, entries any, next uint64) map[string]any {
	out := map[string]any{name: entries}
	if next > 0 {
		out["next_before"] = next
	}
	return out
}
