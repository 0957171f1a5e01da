package router

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/configs"
)

func TestEncodeXML(t *testing.T) {
	tests := []struct {
		name, item, root, want string
	}{
		{"object under the root element, keys in order, numbers as written", `{"id":"42","qty":1234567,"ok":true,"price":1.50}`, "Order", `<Order><id>42</id><qty>1234567</qty><ok>true</ok><price>1.50</price></Order>`},
		{"nested objects and arrays", `{"lines":{"line":[{"sku":"A"},{"sku":"B"}]}}`, "Order", `<Order><lines><line><sku>A</sku></line><line><sku>B</sku></line></lines></Order>`},
		{"attributes and text as mxj writes them", `{"-id":"7","#text":"x"}`, "item", `<item id="7">x</item>`},
		{"an array item becomes item children", `["a","b"]`, "list", `<list><item>a</item><item>b</item></list>`},
		{"characters are escaped", `{"note":"a<b & c","-q":"\"x\""}`, "item", `<item q="&#34;x&#34;"><note>a&lt;b &amp; c</note></item>`},
		{"a scalar item is the root's text", `"hi"`, "item", `<item>hi</item>`},
		{"null and empty objects are empty elements", `{"a":null,"b":{}}`, "item", `<item><a/><b/></item>`},
		{"attributes only", `{"x":{"-id":"1"}}`, "item", `<item><x id="1"/></item>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := encodeXML([]byte(tt.item), tt.root, 1<<30)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
	for _, bad := range []string{`{`, `{"a b":1}`, `{"1x":1}`, `{"-a b":1}`, strings.Repeat(`{"a":`, 600) + "1" + strings.Repeat("}", 600)} {
		if out, err := encodeXML([]byte(bad), "item", 1<<30); err == nil {
			t.Errorf("%.40s encoded without error: %s", bad, out)
		}
	}
}

func TestXMLFormatThroughNATS(t *testing.T) {
	js := startJS(t)
	rc := newReceiver(t, nil)
	out := testOutgoing("erp", rc.URL)
	out.Format, out.RootElement = "xml", "Order"
	startRouter(t, testConfig(configs.Route{Transform: []configs.Transform{{Remove: []string{"internal"}}}}, out), js)
	publishTask(t, js, "tasks.orders", "req-orders-0", `{"id":"42","internal":"x","lines":[{"sku":"A"}]}`)
	a := rc.wait(t, 1)[0]
	if ct := a.header.Get("Content-Type"); ct != "application/xml" {
		t.Errorf("Content-Type %q", ct)
	}
	if want := `<Order><id>42</id><lines><sku>A</sku></lines></Order>`; a.body != want {
		t.Errorf("body %s, want %s", a.body, want)
	}
}

// TestSigningVerifiedIndependently checks the outgoing signature the way a
// receiver would, computed here from standardwebhooks.com and GitHub's docs
// rather than with hookgate's validators.
func TestSigningVerifiedIndependently(t *testing.T) {
	key := []byte("test-signing-key-0123456789abcdef")
	tests := []struct {
		name    string
		signing configs.HMAC
		verify  func(t *testing.T, a arrival)
	}{
		{"standard_webhooks", configs.HMAC{Preset: "standard_webhooks", Secret: "whsec_" + base64.StdEncoding.EncodeToString(key)},
			func(t *testing.T, a arrival) {
				id, ts := a.header.Get("webhook-id"), a.header.Get("webhook-timestamp")
				if id != "req-orders-0" {
					t.Errorf("webhook-id %q, want the task's ce-id", id)
				}
				sec, err := strconv.ParseInt(ts, 10, 64)
				if err != nil || time.Since(time.Unix(sec, 0)).Abs() > time.Minute {
					t.Errorf("webhook-timestamp %q is not now", ts)
				}
				mac := hmac.New(sha256.New, key)
				mac.Write([]byte(id + "." + ts + "." + a.body))
				want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
				if !strings.Contains(" "+a.header.Get("webhook-signature")+" ", " "+want+" ") {
					t.Errorf("webhook-signature %q does not hold %q", a.header.Get("webhook-signature"), want)
				}
			}},
		{"github", configs.HMAC{Preset: "github", Secret: string(key)},
			func(t *testing.T, a arrival) {
				mac := hmac.New(sha256.New, key)
				mac.Write([]byte(a.body))
				if got, want := a.header.Get("X-Hub-Signature-256"), "sha256="+hex.EncodeToString(mac.Sum(nil)); got != want {
					t.Errorf("X-Hub-Signature-256 %q, want %q", got, want)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			js := startJS(t)
			rc := newReceiver(t, nil)
			out := testOutgoing("erp", rc.URL)
			out.Signing = &tt.signing
			// The signature covers the body as sent, after the transform.
			startRouter(t, testConfig(configs.Route{Transform: []configs.Transform{{Set: []configs.KeyJSON{{Key: "signed", JSON: []byte("true")}}}}}, out), js)
			publishTask(t, js, "tasks.orders", "req-orders-0", `{"a":1}`)
			a := rc.wait(t, 1)[0]
			if a.body != `{"a":1,"signed":true}` {
				t.Fatalf("body %s", a.body)
			}
			tt.verify(t, a)
		})
	}
}
