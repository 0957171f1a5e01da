package admin

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/hookgate/hookgate/gateway/bus"
)

// requestAnswer and taskAnswer are GET /api/v1/requests/{id} and
// /api/v1/tasks/{id}, decoded.
type requestAnswer struct {
	Request  *bus.RequestLogEntry
	Attempts []bus.AttemptLogEntry
	Complete bool
}

type taskAnswer struct {
	Task *struct {
		Seq     uint64
		Subject string
		Headers map[string]string
		Body    string
	}
	RequestID   string `json:"request_id"`
	Attempts    []bus.AttemptLogEntry
	DeadLetters []struct {
		TaskID string `json:"task_id"`
	} `json:"dead_letters"`
	Complete bool
}

func TestARequestAndATaskAreFoundByIDWithTheirAttemptsAndDeadLetters(t *testing.T) {
	t.Parallel()
	s, ok, strict := trafficStack(t)
	postItems(t, s, "orders", 1) // an older request, not to be mixed in
	id := postItems(t, s, "orders", 2)
	quiet := postItems(t, s, "quiet", 1)
	eventually(t, "the deliveries", func() bool { return ok.total() == 4 && strict.total() == 4 })

	var req requestAnswer
	eventually(t, "the request and its four attempts", func() bool {
		r := s.api("GET", "/api/v1/requests/"+id)
		req = requestAnswer{}
		r.json(t, &req)
		return r.Status == http.StatusOK && len(req.Attempts) == 4
	})
	if req.Request == nil || req.Request.RequestID != id || req.Request.Webhook != "orders" || req.Request.Tasks != 2 || !req.Complete {
		t.Errorf("request entry %+v complete %v, want request %s of orders with 2 tasks", req.Request, req.Complete, id)
	}
	for _, a := range req.Attempts {
		if a.RequestID != id || !strings.HasPrefix(a.TaskID, id+"-orders-") {
			t.Errorf("attempt %+v is not one of request %s", a, id)
		}
	}

	// A webhook without logging has no request entry, but its tasks'
	// attempts still find it.
	var q requestAnswer
	eventually(t, "the unlogged request's attempts", func() bool {
		r := s.api("GET", "/api/v1/requests/"+quiet)
		q = requestAnswer{}
		r.json(t, &q)
		return r.Status == http.StatusOK && len(q.Attempts) == 2
	})
	if q.Request != nil {
		t.Errorf("the unlogged request has an entry: %+v", q.Request)
	}

	taskID := id + "-orders-1"
	var task taskAnswer
	eventually(t, "the task, its two attempts and its dead letter", func() bool {
		r := s.api("GET", "/api/v1/tasks/"+taskID)
		task = taskAnswer{}
		r.json(t, &task)
		return r.Status == http.StatusOK && len(task.Attempts) == 2 && len(task.DeadLetters) == 1
	})
	if task.Task == nil || task.Task.Headers["ce-id"] != taskID || task.Task.Body != `{"n":1}` || task.RequestID != id || !task.Complete {
		t.Errorf("task %+v request %s complete %v, want %s with body {\"n\":1}", task.Task, task.RequestID, task.Complete, taskID)
	}
	if task.DeadLetters[0].TaskID != taskID {
		t.Errorf("dead letter of %s, want %s", task.DeadLetters[0].TaskID, taskID)
	}

	unknown := uuid.Must(uuid.NewV7()).String()
	auth := "Authorization: Bearer " + testToken
	for _, c := range []apiCase{
		{name: "not a uuid", method: "GET", path: "/api/v1/requests/abc", status: 400,
			errMsg: "request id: use the X-Request-Id of a request, a UUIDv7 such as 0190b6a4-3c1e-7b2a-9f00-2a1c3e4d5f60"},
		{name: "a uuid v4", method: "GET", path: "/api/v1/requests/" + uuid.NewString(), status: 400,
			errMsg: "request id: use the X-Request-Id of a request, a UUIDv7 such as 0190b6a4-3c1e-7b2a-9f00-2a1c3e4d5f60"},
		{name: "a request id as a task id", method: "GET", path: "/api/v1/tasks/" + id, status: 400,
			errMsg: "task id: use a task's ce-id, <request id>-<incoming>-<item index>, such as 0190b6a4-3c1e-7b2a-9f00-2a1c3e4d5f60-orders-0"},
		{name: "an unknown request", method: "GET", path: "/api/v1/requests/" + unknown, status: 404,
			errMsg: "request " + unknown + " is neither in the request log nor in the delivery log (unknown id, logging off for its webhook and no route took its tasks, or older than the log keeps)"},
		{name: "an unknown task", method: "GET", path: "/api/v1/tasks/" + id + "-orders-7", status: 404,
			errMsg: "task " + id + "-orders-7 is in neither the task stream, the delivery log nor the dead letters (unknown id, or older than they keep)"},
		{name: "a write", method: "POST", path: "/api/v1/tasks/" + taskID, status: 405, errMsg: "method not allowed; use GET"},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.header = []string{auth}
			c.check(t, s.admin.URL)
		})
	}
	apiCase{method: "GET", path: "/api/v1/requests/" + id, status: 401,
		errMsg: "missing admin token; send Authorization: Bearer <admin.token>"}.check(t, s.admin.URL)
}
