package router

import (
	"bytes"
	"errors"
	"fmt"
	"mime"
	"strings"

	"github.com/hookgate/hookgate/configs"
	"github.com/hookgate/hookgate/gateway/bus"
	"github.com/hookgate/hookgate/parsers"
)

// unreadable is a task a route cannot read or render: not JSON where a step
// needs JSON, nested too deep, or an output too large. Its text names the
// step and the reason; such a task is a dead letter at once (SPEC §11),
// since no retry changes its body.
type unreadable struct {
	step   string // "filter", "transform", "format xml"
	reason string
}

func (e *unreadable) Error() string { return e.step + ": " + e.reason }

// bom is the UTF-8 byte order mark that CheckJSON accepts and gjson does not.
const bom = "\xef\xbb\xbf"

// readJSON checks that item is JSON a step can read: one value, nested at
// most parsers.MaxDepth deep, checked without recursion before gjson (whose
// validator and Value recurse per level) ever sees it. It returns the item
// without a leading BOM.
func readJSON(step string, item []byte) ([]byte, error) {
	if err := parsers.CheckJSON(item); err != nil {
		if errors.Is(err, parsers.ErrTooDeep) {
			return nil, &unreadable{step: step, reason: err.Error()}
		}
		return nil, &unreadable{step: step, reason: "the task body is not valid JSON (" + err.Error() + ")"}
	}
	return bytes.TrimPrefix(item, []byte(bom)), nil
}

// tooLarge is the reason of an output past the limit.
func tooLarge(limit int) string {
	return fmt.Sprintf("output larger than %s, the NATS max payload", configs.FormatSize(configs.Size(limit)))
}

// prepare runs a task through the pair's route: filter, transform, then the
// outgoing's format. keep is false when the filter drops the task. data is
// never modified. A task that needs no JSON step (no filter, no transform,
// format json) passes through unchanged, whatever it holds; a non-JSON task
// (the raw parser) keeps its own Content-Type then.
//
// h are the task's headers, which cel filters read; its content-type is
// the task's type.
func (p *pair) prepare(data []byte, h map[string][]string) (body []byte, contentType string, keep bool, err error) {
	rt := p.route
	var taskType string
	if vs := h[bus.HeaderContentType]; len(vs) > 0 {
		taskType = vs[0]
	}
	xml := p.dest.cfg.Format == "xml"
	item := data
	switch {
	case len(rt.filter) > 0:
		item, err = readJSON("filter", data)
	case len(rt.transform) > 0:
		item, err = readJSON("transform", data)
	}
	if err != nil {
		return nil, "", false, err
	}
	if ok, err := rt.filter.match(item, h); err != nil || !ok {
		return nil, "", false, err
	}
	if !xml && len(rt.transform) == 0 {
		if taskType != "" && !isJSON(taskType) {
			return data, taskType, true, nil
		}
		return data, "application/json", true, nil
	}
	body, err = rt.transform.apply(item, p.maxOutput)
	if err != nil {
		return nil, "", false, err
	}
	if xml {
		body, err = encodeXML(body, p.dest.cfg.RootElement, p.maxOutput)
		return body, "application/xml", err == nil, err
	}
	return body, "application/json", true, nil
}

func isJSON(contentType string) bool {
	if contentType == "application/json" { // what the gateway writes: no parse per task
		return true
	}
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}
