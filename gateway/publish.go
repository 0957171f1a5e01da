package gateway

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/hookgate/hookgate/configs"
	"github.com/hookgate/hookgate/gateway/bus"
	"github.com/hookgate/hookgate/parsers"
)

// publication turns one validated request into tasks (SPEC §7) and stores
// them: full targets are parsed whole before anything is published;
// incremental ones publish while they read.
type publication struct {
	w         *webhook
	requestID string
	ceTime    string
	dedup     string
	forwarded []string // values in the order of w.forward; "" = absent
	// envelope is what every task carries besides the item and the fixed
	// headers: the forwarded headers. It counts toward max_items_bytes and
	// the max payload, so that one large header cannot be stored once per item.
	envelope   int64
	itemsBytes []int64 // per target: the items and their envelopes so far
	body       *body
	bus        *bus.Bus
	maxPayload int64
	started    bool
	added      []int         // tasks handed to the batch, per target
	tmpl       *taskTemplate // the message of the target being published
	trace      requestTrace  // ce-traceparent, ce-tracestate and the spans

	// Kept across requests by publicationPool, so that a request parsed in
	// full allocates neither its item lists nor the function collecting them.
	full    [][]parsers.Item // per target: its items; nil for incremental ones
	items   []parsers.Item   // what full's entries slice
	collect func(parsers.Item) error
	// collecting is the target being collected, and where its items start.
	collecting, collectStart int
}

// publicationPool keeps publications with their item lists between requests.
var publicationPool = sync.Pool{New: func() any {
	p := new(publication)
	p.collect = p.collectItem // bound once: a method value per request would be an allocation
	return p
}}

// maxPooledItems bounds the item list a pooled publication keeps.
const maxPooledItems = 4096

func (s *Server) newPublication(w *webhook, id string, received time.Time, req *http.Request, b *body, fwd forwarding) *publication {
	p := publicationPool.Get().(*publication)
	*p = publication{
		w:          w,
		requestID:  id,
		ceTime:     received.UTC().Format(time.RFC3339Nano),
		body:       b,
		bus:        s.bus,
		maxPayload: s.bus.MaxPayload(),
		forwarded:  fwd.values,
		envelope:   int64(fwd.size),
		full:       p.full[:0],
		items:      p.items[:0],
		collect:    p.collect,
	}
	p.dedup = w.dedup.value(req.Header, b)
	if p.dedup == "" {
		p.dedup = id
	}
	if p.envelope > 0 {
		p.itemsBytes = make([]int64, len(w.targets))
	}
	return p
}

// maxForwarded bounds the forwarded headers of one request, names and
// values together: they are copied onto every task.
const maxForwarded = 8 << 10

// forwarding is what a request's forward_headers put on each of its tasks.
type forwarding struct {
	values []string // in the order of w.forward; "" = absent
	size   int      // names and values, in bytes
}

// forwardedHeaders reads the forward_headers of w from h; past
// maxForwarded it is a 431 (SPEC §11: one request's headers must not be
// stored once per item without a bound).
func (w *webhook) forwardedHeaders(h http.Header) (forwarding, error) {
	if len(w.forward) == 0 {
		return forwarding{}, nil
	}
	f := forwarding{values: make([]string, len(w.forward))}
	for i, fh := range w.forward {
		if vs := h[fh.canonical]; len(vs) > 0 {
			f.values[i] = vs[0]
			f.size += len(fh.name) + len(vs[0])
		}
	}
	if f.size > maxForwarded {
		return forwarding{}, reject(http.StatusRequestHeaderFieldsTooLarge,
			"forwarded headers exceed "+configs.FormatSize(maxForwarded)+"; they are copied onto every task")
	}
	return f, nil
}

func (p *publication) run(ctx context.Context, contentType string) (_ bus.BatchResult, err error) {
	defer p.releaseTemplate()
	endParse := p.trace.step(bus.SpanParse)
	full := append(p.full[:0], make([][]parsers.Item, len(p.w.targets))...)
	p.full = full
	for i := range p.w.targets {
		t := &p.w.targets[i]
		if t.splitter.Incremental() {
			continue
		}
		p.collecting, p.collectStart = i, len(p.items)
		if err := p.split(ctx, t, contentType, p.collect); err != nil {
			endParse(err)
			return bus.BatchResult{}, err
		}
		// Capped, so that the next target's items cannot append over these.
		full[i] = p.items[p.collectStart:len(p.items):len(p.items)]
	}
	endParse(nil)
	// Incremental targets are parsed while they are published: their
	// parsing is inside this span.
	endPublish := p.trace.step(bus.SpanPublish)
	defer func() { endPublish(err) }()

	batch := p.bus.NewBatch()
	defer batch.Release()
	p.started = true
	if len(p.w.targets) > 1 {
		p.added = make([]int, len(p.w.targets))
	}
	for i := range p.w.targets {
		t := &p.w.targets[i]
		for idx, it := range full[i] {
			if err := batch.Add(ctx, p.task(t, idx, len(full[i]), it)); err != nil {
				return p.fail(ctx, batch, &itemError{index: idx, err: err})
			}
			p.count(i)
		}
	}
	for i := range p.w.targets {
		t := &p.w.targets[i]
		if !t.splitter.Incremental() {
			continue
		}
		idx := 0
		err := p.split(ctx, t, contentType, func(it parsers.Item) error {
			if err := p.checkSize(i, idx, it); err != nil {
				return err
			}
			if err := batch.Add(ctx, p.task(t, idx, -1, it)); err != nil {
				return &itemError{index: idx, err: err}
			}
			p.count(i)
			idx++
			return nil
		})
		if err != nil {
			return p.fail(ctx, batch, err)
		}
	}
	res, err := batch.Wait(ctx)
	if err != nil {
		return res, unavailable(err)
	}
	return res, nil
}

// collectItem adds an item of the target being collected in full.
func (p *publication) collectItem(it parsers.Item) error {
	if err := p.checkSize(p.collecting, len(p.items)-p.collectStart, it); err != nil {
		return err
	}
	p.items = append(p.items, it)
	return nil
}

// release returns p to publicationPool once the request is answered;
// p must not be used afterwards. Its lists are cleared, so that the pool
// keeps no request's body alive.
func (p *publication) release() {
	clear(p.items)
	clear(p.full)
	items, full := p.items[:0], p.full[:0]
	if cap(items) > maxPooledItems {
		items = nil
	}
	*p = publication{full: full, items: items, collect: p.collect}
	publicationPool.Put(p)
}

func (p *publication) split(ctx context.Context, t *target, contentType string, yield func(parsers.Item) error) error {
	// A body in memory is split in place: full-mode items are slices of it.
	if raw := p.body.Bytes(); raw != nil && !t.splitter.Incremental() {
		return t.splitter.SplitBytes(ctx, contentType, raw, yield)
	}
	// Incremental items go into Batch.Add, which copies them before it
	// returns: the splitter may write the next item over the last.
	return t.splitter.SplitTransient(ctx, contentType, p.body.Open(), yield)
}

// fail waits for what was already sent, so the error can say how many
// tasks were stored, then returns the first cause.
func (p *publication) fail(ctx context.Context, batch *bus.Batch, cause error) (bus.BatchResult, error) {
	res, _ := batch.Wait(ctx)
	var tooLarge *itemError
	if errors.As(cause, &tooLarge) && errors.Is(cause, nats.ErrMaxPayload) {
		return res, itemTooLarge(tooLarge.index, p.maxPayload)
	}
	if errors.Is(cause, bus.ErrUnavailable) {
		return res, unavailable(cause)
	}
	return res, cause
}

func unavailable(err error) error {
	return &requestError{Status: http.StatusServiceUnavailable, Message: "NATS unavailable: tasks not stored, retry later", cause: err}
}

// headerReserve bounds the bytes a task's headers take inside NATS's max
// payload, which counts headers and body together.
const headerReserve = 2048

// checkSize refuses item idx of target ti when NATS would refuse its task,
// or when it takes the request's items past max_items_bytes counting the
// envelope (the splitter counts the items alone).
func (p *publication) checkSize(ti, idx int, it parsers.Item) error {
	if int64(len(it.Data))+headerReserve+p.envelope > p.maxPayload {
		return itemTooLarge(idx, p.maxPayload)
	}
	if p.envelope > 0 {
		sp := p.w.targets[ti].splitter
		p.itemsBytes[ti] += int64(len(it.Data)) + p.envelope
		if p.itemsBytes[ti] > sp.MaxItemsBytes() {
			return sp.ItemsTooBig()
		}
	}
	return nil
}

// taskTemplate is the one message a publication reuses for every task of a
// target: Batch.Add encodes a message before it returns, so per item only
// the values that differ are rewritten, and a task costs one allocation
// (the string holding its ids). Templates go back to their target's pool
// after the request, so a request does not build a header map either.
type taskTemplate struct {
	target *target
	msg    nats.Msg
	vals   []string // the header values; msg.Header's entries are one-element slices of it
	ids    []byte   // scratch for the per-item ids
}

// Slots of taskTemplate.vals that change per item or per request; the
// forwarded headers follow slotForwarded.
const (
	slotID = iota
	slotIndex
	slotMsgID
	slotContentType
	slotTime
	slotRequestID
	slotTraceParent
	slotTraceState // removed when the request has none
	slotCount
	slotForwarded = slotCount + 6 // after the five that never change
)

func newTaskTemplate(w *webhook, t *target) *taskTemplate {
	n := slotForwarded + len(w.forward)
	tm := &taskTemplate{target: t, vals: make([]string, 0, n), ids: make([]byte, 0, 192)}
	h := make(nats.Header, n)
	set := func(k, v string) {
		// vals never grows past n, so every entry keeps pointing at its slot.
		tm.vals = append(tm.vals, v)
		h[k] = tm.vals[len(tm.vals)-1 : len(tm.vals) : len(tm.vals)]
	}
	set(bus.HeaderCEID, "")        // slotID
	set(bus.HeaderCEItemIndex, "") // slotIndex
	set(nats.MsgIdHdr, "")         // slotMsgID
	set(bus.HeaderContentType, "") // slotContentType
	set(bus.HeaderCETime, "")      // slotTime
	set(bus.HeaderCERequestID, "") // slotRequestID
	set(bus.HeaderCETraceParent, "")
	set(bus.HeaderCETraceState, "")
	set(bus.HeaderCEItemCount, "") // slotCount: removed in incremental mode
	set(bus.HeaderCESpecVersion, "1.0")
	set(bus.HeaderCESource, w.source)
	set(bus.HeaderCEType, t.ceType)
	set(bus.HeaderCEWebhook, w.cfg.Identifier)
	set(bus.HeaderCEIncoming, t.name)
	for _, f := range w.forward {
		set(f.name, "")
	}
	tm.msg = nats.Msg{Subject: t.subject, Header: h}
	return tm
}

// template returns the message of target t for this request. count < 0
// means unknown (incremental): ce-itemcount is left out.
func (p *publication) template(t *target, count int) *taskTemplate {
	if p.tmpl != nil && p.tmpl.target == t {
		return p.tmpl
	}
	p.releaseTemplate()
	tm, _ := t.templates.Get().(*taskTemplate)
	if tm == nil {
		tm = newTaskTemplate(p.w, t)
	}
	h := tm.msg.Header
	tm.vals[slotTime] = p.ceTime
	tm.vals[slotRequestID] = p.requestID
	p.setTrace(tm)
	if count >= 0 {
		tm.vals[slotCount] = strconv.Itoa(count)
		h[bus.HeaderCEItemCount] = tm.vals[slotCount : slotCount+1 : slotCount+1]
	} else {
		delete(h, bus.HeaderCEItemCount)
	}
	for i, f := range p.w.forward {
		if v := p.forwarded[i]; v != "" {
			k := slotForwarded + i
			tm.vals[k] = v
			h[f.name] = tm.vals[k : k+1 : k+1]
		} else {
			delete(h, f.name) // absent on the request: absent on the task
		}
	}
	p.tmpl = tm
	return tm
}

// releaseTemplate returns the current template to its target's pool; no
// message built from it may be used afterwards.
func (p *publication) releaseTemplate() {
	if tm := p.tmpl; tm != nil {
		p.tmpl = nil
		tm.msg.Data = nil // do not keep the request's body alive
		tm.target.templates.Put(tm)
	}
}

// task fills target t's message for item idx (SPEC §7). The message is
// valid until the next call: hand it to Batch.Add at once.
func (p *publication) task(t *target, idx, count int, it parsers.Item) *nats.Msg {
	tm := p.template(t, count)
	// ce-id, the index inside it, and Nats-Msg-Id, cut from one string.
	b := append(tm.ids[:0], p.requestID...)
	b = append(b, '-')
	b = append(b, t.name...)
	b = append(b, '-')
	indexStart := len(b)
	b = strconv.AppendInt(b, int64(idx), 10)
	idEnd := len(b)
	b = append(b, p.w.cfg.Identifier...)
	b = append(b, '/')
	b = append(b, t.name...)
	b = append(b, '/')
	b = append(b, p.dedup...)
	b = append(b, '/')
	b = append(b, b[indexStart:idEnd]...)
	tm.ids = b
	ids := string(b)
	tm.vals[slotID] = ids[:idEnd]
	tm.vals[slotIndex] = ids[indexStart:idEnd]
	tm.vals[slotMsgID] = ids[idEnd:]
	tm.vals[slotContentType] = it.ContentType
	if it.ContentType == "" {
		tm.vals[slotContentType] = "application/json"
	}
	tm.msg.Data = it.Data
	return &tm.msg
}

// itemError is a publish failure of one item, so that a payload the server
// refuses despite checkSize still names its item in the 413.
type itemError struct {
	index int
	err   error
}

func (e *itemError) Error() string { return "item " + strconv.Itoa(e.index) + ": " + e.err.Error() }
func (e *itemError) Unwrap() error { return e.err }
