package router

import (
	"context"
	"os"
	"testing"

	"github.com/hookgate/hookgate/configs"
	"github.com/hookgate/hookgate/parsers"
)

// The expression routes of configs/examples/ do what docs/expressions.md
// says on the example ERP export: the released orders over 100 pass the
// cel filter and jq reshapes them into the shop's order.
func TestExampleExpressionRouteReshapesTheERPExport(t *testing.T) {
	cfg, err := configs.Load("../configs/examples")
	if err != nil {
		t.Fatal(err)
	}
	var rt configs.Route
	for _, r := range cfg.Routes {
		if r.Name == "released-orders-to-shop" {
			rt = r
		}
	}
	in, _ := cfg.IncomingByName(rt.Incoming)
	sp, err := parsers.New(*in, cfg.Server.MaxBody)
	if err != nil {
		t.Fatal(err)
	}
	export, err := os.ReadFile("../configs/examples/orders.xml")
	if err != nil {
		t.Fatal(err)
	}
	p := testPair(t, rt, "json", 1<<20)
	var out []string
	err = sp.SplitBytes(context.Background(), "application/xml", export, func(it parsers.Item) error {
		body, _, keep, err := p.prepare(it.Data, taskHeaders("application/json"))
		if err != nil {
			t.Fatalf("prepare %s: %v", it.Data, err)
		}
		if keep {
			out = append(out, string(body))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// SO-10001, SO-10003 and SO-10005 are released and over 100.
	if len(out) != 3 || out[0] != `{"currency":"EUR","customer":{"country":"DE","email":"juergen.mueller@example.de","id":"C-2001","name":"Jürgen Müller"},"lines":[{"quantity":2,"sku":"007-BLU-M","unit_price":59.95},{"quantity":1,"sku":"112-GRY-42","unit_price":129}],"reference":"SO-10001","total":248.9,"source":"erp"}` {
		t.Errorf("first order delivered as %v", out)
	}
}
