package gateway

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/hookgate/hookgate/gateway/bus"
	"github.com/hookgate/hookgate/parsers"
)

// publication turns one validated request into tasks (SPEC §7) and stores
// them: full targets are parsed whole before anything is published;
// incremental ones publish while they read.
type publication struct {
	w          *webhook
	requestID  string
	ceTime     string
	dedup      string
	forwarded  []string // values in the order of w.forward; "" = absent
	body       *body
	bus        *bus.Bus
	maxPayload int64
	started    bool
	added      []int // tasks handed to the batch, per target
}

func (s *Server) newPublication(w *webhook, id string, received time.Time, req *http.Request, b *body) *publication {
	p := &publication{
		w:          w,
		requestID:  id,
		ceTime:     received.UTC().Format(time.RFC3339Nano),
		body:       b,
		bus:        s.bus,
		maxPayload: s.bus.MaxPayload(),
	}
	p.dedup = w.dedup.value(req.Header, b)
	if p.dedup == "" {
		p.dedup = id
	}
	if len(w.forward) > 0 {
		p.forwarded = make([]string, len(w.forward))
		for i, f := range w.forward {
			if vs := req.Header[f.canonical]; len(vs) > 0 {
				p.forwarded[i] = vs[0]
			}
		}
	}
	return p
}

func (p *publication) run(ctx context.Context, contentType string) (bus.BatchResult, error) {
	full := make([][]parsers.Item, len(p.w.targets))
	for i := range p.w.targets {
		t := &p.w.targets[i]
		if t.splitter.Incremental() {
			continue
		}
		var items []parsers.Item
		err := p.split(ctx, t, contentType, func(it parsers.Item) error {
			if err := p.checkSize(t, len(items), it); err != nil {
				return err
			}
			items = append(items, it)
			return nil
		})
		if err != nil {
			return bus.BatchResult{}, err
		}
		full[i] = items
	}

	batch := p.bus.NewBatch()
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
			if err := p.checkSize(t, idx, it); err != nil {
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

func (p *publication) split(ctx context.Context, t *target, contentType string, yield func(parsers.Item) error) error {
	// A body in memory is split in place: full-mode items are slices of it.
	if raw := p.body.Bytes(); raw != nil && !t.splitter.Incremental() {
		return t.splitter.SplitBytes(ctx, contentType, raw, yield)
	}
	return t.splitter.Split(ctx, contentType, p.body.Open(), yield)
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

func (p *publication) checkSize(t *target, idx int, it parsers.Item) error {
	if int64(len(it.Data))+headerReserve > p.maxPayload {
		return itemTooLarge(idx, p.maxPayload)
	}
	return nil
}

// task builds one CloudEvents binary-mode message (SPEC §7). count < 0
// means unknown (incremental): ce-itemcount is left out.
func (p *publication) task(t *target, idx, count int, it parsers.Item) *nats.Msg {
	index := strconv.Itoa(idx)
	n := 12 + len(p.forwarded)
	// One backing array for every header value keeps this to a few allocations.
	vals := make([]string, 0, n)
	h := make(nats.Header, n)
	set := func(k, v string) {
		vals = append(vals, v)
		h[k] = vals[len(vals)-1 : len(vals) : len(vals)]
	}
	set("ce-specversion", "1.0")
	set("ce-id", p.requestID+"-"+t.name+"-"+index)
	set("ce-source", p.w.source)
	set("ce-type", t.ceType)
	set("ce-time", p.ceTime)
	ct := it.ContentType
	if ct == "" {
		ct = "application/json"
	}
	set("content-type", ct)
	set("ce-webhook", p.w.cfg.Identifier)
	set("ce-incoming", t.name)
	set("ce-requestid", p.requestID)
	set("ce-itemindex", index)
	if count >= 0 {
		set("ce-itemcount", strconv.Itoa(count))
	}
	set(nats.MsgIdHdr, p.w.cfg.Identifier+"/"+t.name+"/"+p.dedup+"/"+index)
	for i, f := range p.w.forward {
		if v := p.forwarded[i]; v != "" {
			set(f.name, v)
		}
	}
	return &nats.Msg{Subject: t.subject, Header: h, Data: it.Data}
}

// itemError is a publish failure of one item, so that a payload the server
// refuses despite checkSize still names its item in the 413.
type itemError struct {
	index int
	err   error
}

func (e *itemError) Error() string { return "item " + strconv.Itoa(e.index) + ": " + e.err.Error() }
func (e *itemError) Unwrap() error { return e.err }
