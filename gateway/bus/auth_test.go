package bus

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nkeys"

	"github.com/hookgate/hookgate/configs"
	"github.com/hookgate/hookgate/test/natstest"
)

func TestOpenExternalWithNKeyAndTLS(t *testing.T) {
	dir := t.TempDir()
	user, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	seed, _ := user.Seed()
	pub, _ := user.PublicKey()
	seedFile := writeFile(t, dir, "user.nk", seed)
	pki := newPKI(t, dir)

	tests := []struct {
		name    string
		opts    server.Options
		cfg     configs.NATS
		wantErr string
	}{
		{
			name: "nkey seed file",
			opts: server.Options{Nkeys: []*server.NkeyUser{{Nkey: pub}}},
			cfg:  configs.NATS{NKeyFile: seedFile},
		},
		{
			name:    "nkey server refuses a client without the seed",
			opts:    server.Options{Nkeys: []*server.NkeyUser{{Nkey: pub}}},
			cfg:     configs.NATS{},
			wantErr: "Authorization Violation",
		},
		{
			name: "tls with a private ca and a client certificate",
			opts: server.Options{TLSConfig: pki.serverTLS, TLSVerify: true, TLSTimeout: 2},
			cfg:  configs.NATS{TLS: configs.TLS{CAFile: pki.caFile, CertFile: pki.clientCert, KeyFile: pki.clientKey}},
		},
		{
			name:    "tls server refuses a client without a certificate",
			opts:    server.Options{TLSConfig: pki.serverTLS, TLSVerify: true, TLSTimeout: 2},
			cfg:     configs.NATS{TLS: configs.TLS{CAFile: pki.caFile}},
			wantErr: "nats unavailable",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := natstest.Run(t, tt.opts)
			tt.cfg.URL = s.ClientURL()
			b, err := Open(testContext(t), tt.cfg, testLogger(t))
			if tt.wantErr != "" {
				if err == nil {
					closeBus(t, b)
					t.Fatal("Open succeeded, want an error")
				}
				if !strings.Contains(err.Error(), tt.wantErr) || strings.Contains(err.Error(), string(seed)) {
					t.Fatalf("error %q: want it to mention %q and not the seed", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			t.Cleanup(func() { closeBus(t, b) })
			if res, err := publish(t, b, task("tasks.auth", "", 0, []byte(`{}`))); err != nil || res.Published != 1 {
				t.Fatalf("publish = %+v, %v; want 1 published", res, err)
			}
		})
	}
}

// pki is a throwaway CA with a server certificate for 127.0.0.1 and a
// client certificate, as files where the config names files.
type pki struct {
	serverTLS                     *tls.Config
	caFile, clientCert, clientKey string
}

func newPKI(t *testing.T, dir string) pki {
	t.Helper()
	caKey, caDER := makeCert(t, &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "hookgate test ca"},
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}, nil, nil)
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	srvKey, srvDER := makeCert(t, &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}, ca, caKey)
	cliKey, cliDER := makeCert(t, &x509.Certificate{
		SerialNumber: big.NewInt(3), Subject: pkix.Name{CommonName: "hookgate"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}, ca, caKey)

	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return pki{
		serverTLS: &tls.Config{
			Certificates: []tls.Certificate{{Certificate: [][]byte{srvDER}, PrivateKey: srvKey}},
			ClientCAs:    pool,
			ClientAuth:   tls.RequireAndVerifyClientCert,
			MinVersion:   tls.VersionTLS12,
		},
		caFile:     writeFile(t, dir, "ca.pem", pemBlock("CERTIFICATE", caDER)),
		clientCert: writeFile(t, dir, "client.pem", pemBlock("CERTIFICATE", cliDER)),
		clientKey:  writeFile(t, dir, "client-key.pem", pemKey(t, cliKey)),
	}
}

func makeCert(t *testing.T, tmpl, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*ecdsa.PrivateKey, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	return key, der
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func pemKey(t *testing.T, key *ecdsa.PrivateKey) []byte {
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pemBlock("EC PRIVATE KEY", der)
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
