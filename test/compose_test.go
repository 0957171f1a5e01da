package test

import (
	"fmt"
	"maps"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
	"go.yaml.in/yaml/v3"

	"github.com/hookgate/hookgate/configs"
)

// composeFile is the part of a compose file the test reads.
type composeFile struct {
	Services map[string]composeService
	Volumes  map[string]any
}

type composeService struct {
	Image       string
	Build       map[string]string
	Command     []string
	Environment map[string]string
	Volumes     []string
	Ports       []string
	DependsOn   map[string]map[string]string `yaml:"depends_on"`
	Healthcheck map[string]any
}

// mount is one "source:target[:mode]" volume entry.
type mount struct{ Source, Target string }

func (s composeService) mounts() []mount {
	var out []mount
	for _, v := range s.Volumes {
		f := strings.Split(v, ":")
		out = append(out, mount{f[0], f[1]})
	}
	return out
}

// arg returns the value after flag in the service's command.
func (s composeService) arg(flag string) string {
	if i := slices.Index(s.Command, flag); i >= 0 && i+1 < len(s.Command) {
		return s.Command[i+1]
	}
	return ""
}

// requiredVar matches ${NAME:?message}: compose refuses to start without NAME.
var requiredVar = regexp.MustCompile(`^\$\{([A-Z_][A-Z0-9_]*):\?[^}]+\}$`)

// SPEC §13: deploy/compose.yaml is three NATS servers in one JetStream
// cluster and two hookgate processes on it with replicas 3, the admin
// port, a volume each. Without Docker here, the test reads the file and
// everything it mounts: each NATS config parses with nats-server's own
// parser and names the cluster and routes of the file's services, and the
// hookgate config loads with exactly the variables compose passes.
func TestComposeRunsTwoHookgatesOnAThreeNodeJetStreamCluster(t *testing.T) {
	deploy := filepath.Join(repoRoot, "deploy")
	data, err := os.ReadFile(filepath.Join(deploy, "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var c composeFile
	if err := yaml.Unmarshal(data, &c); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	var natsNames, hookgates []string
	for name, s := range c.Services {
		switch {
		case strings.HasPrefix(s.Image, "nats:"):
			natsNames = append(natsNames, name)
		case s.Build != nil:
			hookgates = append(hookgates, name)
		default:
			t.Errorf("service %s is neither nats-server nor a hookgate build", name)
		}
	}
	slices.Sort(natsNames)
	slices.Sort(hookgates)
	if len(natsNames) != 3 || len(hookgates) != 2 {
		t.Fatalf("services: nats %v, hookgate %v; want 3 and 2", natsNames, hookgates)
	}

	// Every named volume belongs to one service and is declared.
	owner := map[string]string{}
	namedVolume := func(service, target string) {
		t.Helper()
		for _, m := range c.Services[service].mounts() {
			if m.Target != target {
				continue
			}
			if _, ok := c.Volumes[m.Source]; !ok {
				t.Errorf("%s: %s on %s is not a named volume of the file", service, m.Source, target)
			}
			if o, taken := owner[m.Source]; taken {
				t.Errorf("volume %s is used by %s and %s, want one each", m.Source, o, service)
			}
			owner[m.Source] = service
			return
		}
		t.Errorf("%s: no volume on %s", service, target)
	}

	// The NATS servers: each one's config, parsed as nats-server parses it.
	t.Setenv("NATS_TOKEN", "compose-test-token")
	clientURLs := map[string]bool{}
	cluster := ""
	for _, name := range natsNames {
		s := c.Services[name]
		config := s.arg("--config")
		var file string
		for _, m := range s.mounts() {
			if m.Target == config {
				file = filepath.Join(deploy, m.Source)
			}
		}
		if file == "" {
			t.Errorf("%s: --config %s is not a file the service mounts", name, config)
			continue
		}
		namedVolume(name, s.arg("--store_dir"))
		if s.Environment["NATS_TOKEN"] == "" || s.Healthcheck == nil {
			t.Errorf("%s: environment %v, healthcheck %v; want NATS_TOKEN and a healthcheck", name, s.Environment, s.Healthcheck)
		}
		opts, err := server.ProcessConfigFile(file)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if opts.ServerName != name || !opts.JetStream || opts.Authorization != "compose-test-token" {
			t.Errorf("%s: server_name %q, jetstream %v, token from NATS_TOKEN %v; want %s, true, true",
				file, opts.ServerName, opts.JetStream, opts.Authorization == "compose-test-token", name)
		}
		if cluster == "" {
			cluster = opts.Cluster.Name
		}
		if opts.Cluster.Name == "" || opts.Cluster.Name != cluster {
			t.Errorf("%s: cluster name %q, want one name for all three (%q)", file, opts.Cluster.Name, cluster)
		}
		var routes []string
		for _, r := range opts.Routes {
			routes = append(routes, r.Host)
		}
		var want []string
		for _, n := range natsNames {
			want = append(want, net.JoinHostPort(n, fmt.Sprint(opts.Cluster.Port)))
		}
		slices.Sort(routes)
		if !slices.Equal(routes, want) {
			t.Errorf("%s: routes %v, want %v", file, routes, want)
		}
		clientURLs[fmt.Sprintf("nats://%s:%d", name, opts.Port)] = true
	}

	// The hookgate processes: same image, a config directory each loads,
	// replicas 3 on the three servers, public and admin ports published.
	published := map[string]string{}
	for _, name := range hookgates {
		s := c.Services[name]
		if s.Build["context"] != ".." {
			t.Errorf("%s: build context %q, want the repository (..)", name, s.Build["context"])
		}
		if _, err := os.Stat(filepath.Join(deploy, s.Build["context"], s.Build["dockerfile"])); err != nil {
			t.Errorf("%s: build dockerfile: %v", name, err)
		}
		for _, n := range natsNames {
			if s.DependsOn[n]["condition"] != "service_healthy" {
				t.Errorf("%s: depends_on %s %v, want condition service_healthy", name, n, s.DependsOn[n])
			}
		}
		namedVolume(name, "/data")
		config := s.arg("-c")
		var dir string
		for _, m := range s.mounts() {
			if strings.TrimSuffix(m.Target, "/") == strings.TrimSuffix(config, "/") {
				dir = filepath.Join(deploy, m.Source)
			}
		}
		if dir == "" {
			t.Fatalf("%s: -c %s is not a directory the service mounts", name, config)
		}
		cfg := loadWithOnly(t, dir, s.Environment)
		var urls []string
		for _, u := range strings.Split(cfg.NATS.URL, ",") {
			urls = append(urls, strings.TrimSpace(u))
			if !clientURLs[strings.TrimSpace(u)] {
				t.Errorf("%s: nats.url %s is not a client URL of the NATS services %v", name, u, clientURLs)
			}
		}
		if len(urls) != len(natsNames) || cfg.NATS.Token == "" || cfg.NATS.Stream.Replicas != 3 {
			t.Errorf("%s: nats.url %v, token set %v, stream.replicas %d; want all three servers, a token, 3",
				name, urls, cfg.NATS.Token != "", cfg.NATS.Stream.Replicas)
		}
		for _, listen := range []string{cfg.Server.Listen, cfg.Admin.Listen} {
			_, port, _ := net.SplitHostPort(listen)
			found := false
			for _, p := range s.Ports {
				// "8080:8080" or "127.0.0.1:8081:8081": the host side, then the container port.
				i := strings.LastIndex(p, ":")
				if host, inner := p[:i], p[i+1:]; inner == port {
					found = true
					if other, ok := published[host]; ok {
						t.Errorf("%s and %s both publish host port %s", other, name, host)
					}
					published[host] = name
				}
			}
			if !found {
				t.Errorf("%s: listens on %s, but publishes %v", name, listen, s.Ports)
			}
		}
		_, adminPort, _ := net.SplitHostPort(cfg.Admin.Listen)
		for _, p := range s.Ports {
			if strings.HasSuffix(p, ":"+adminPort) && !strings.HasPrefix(p, "127.0.0.1:") {
				t.Errorf("%s: admin port published as %s, want on 127.0.0.1 only", name, p)
			}
		}
	}
	if len(owner) != len(c.Volumes) {
		t.Errorf("volumes %v declared, %v used", c.Volumes, owner)
	}
}

// loadWithOnly loads the config at dir with the variables of env set, each
// a compose ${NAME:?…}: a variable the config needs and compose does not
// pass fails the load.
func loadWithOnly(t *testing.T, dir string, env map[string]string) *configs.Config {
	t.Helper()
	for k, v := range env {
		if m := requiredVar.FindStringSubmatch(v); m == nil || m[1] != k {
			t.Errorf("environment %s: %q, want ${%s:?…} so compose refuses to start without it", k, v, k)
		}
		t.Setenv(k, "compose-test-"+strings.ToLower(k))
	}
	cfg, err := configs.Load(dir)
	if err != nil {
		t.Fatalf("%s with only %v set: %v", dir, slices.Sorted(maps.Keys(env)), err)
	}
	return cfg
}
