package gateway

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
	"go.uber.org/zap"

	"github.com/hookgate/hookgate/parsers"
	"github.com/hookgate/hookgate/validators"
)

// requestError is a request's failure as the sender sees it (SPEC §3.1).
// Handlers return it; errorHandler renders it, so no handler writes an
// error body itself.
type requestError struct {
	Status    int
	Message   string
	Header    http.Header
	Published int  // tasks stored before the failure
	Partial   bool // Published is reported ("published":N)
	cause     error
}

func (e *requestError) Error() string { return e.Message }
func (e *requestError) Unwrap() error { return e.cause }

func reject(status int, msg string) *requestError {
	return &requestError{Status: status, Message: msg}
}

// asRequestError maps the typed errors of validators, parsers and echo to
// the §3.1 responses; anything else is a 500 that does not leak its text.
func asRequestError(err error) *requestError {
	var re *requestError
	if errors.As(err, &re) {
		return re
	}
	var rej *validators.Rejection
	if errors.As(err, &rej) {
		return &requestError{Status: rej.Status, Message: rej.Message, Header: rej.Header, cause: err}
	}
	var pe *parsers.Error
	if errors.As(err, &pe) {
		return &requestError{Status: pe.Status, Message: pe.Message, cause: err}
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		msg := http.StatusText(he.Code)
		if he.Code == http.StatusNotFound {
			msg = "not found"
		}
		return &requestError{Status: he.Code, Message: msg, cause: err}
	}
	return &requestError{Status: http.StatusInternalServerError, Message: "internal error", cause: err}
}

// errorBody is the JSON of every error response.
type errorBody struct {
	Error     string `json:"error"`
	RequestID string `json:"request_id,omitempty"`
	Published *int   `json:"published,omitempty"`
}

func (s *Server) errorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	re := asRequestError(err)
	if requestID(c) == "" { // not a webhook request: still one id per response
		c.Response().Header()[echo.HeaderXRequestID] = []string{newRequestID()}
	}
	if re.Status >= 500 && re.cause != nil {
		s.log.Warn("request failed", zap.String("request_id", requestID(c)), zap.Error(re.cause))
	}
	h := c.Response().Header()
	for k, vs := range re.Header {
		h[k] = vs
	}
	if re.Status == http.StatusServiceUnavailable && h.Get("Retry-After") == "" {
		h.Set("Retry-After", strconv.Itoa(retryAfterUnavailable))
	}
	out := errorBody{Error: re.Message, RequestID: requestID(c)}
	if re.Partial {
		out.Published = &re.Published
	}
	if err := c.JSON(re.Status, out); err != nil {
		s.log.Debug("write error response", zap.Error(err))
	}
}

// retryAfterUnavailable is the Retry-After (seconds) sent with a 503.
const retryAfterUnavailable = 5

// requestID is the id the handler put on the response; kept there rather
// than in echo's per-request store, which costs a map per request.
func requestID(c echo.Context) string {
	if vs := c.Response().Header()[echo.HeaderXRequestID]; len(vs) > 0 {
		return vs[0]
	}
	return ""
}
