package configs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Load reads a configuration from a YAML file or a directory. In a directory
// every *.yaml and *.yml file (not dotfiles, not subdirectories) is read in name order and the lists (webhooks,
// incoming, outgoing, routes, auth_profiles) are concatenated; the sections
// server, admin, log, nats and tracing may each be set in one file only, and a second
// file setting one is a problem naming both (merging them key by key would
// make the effective value depend on file names). The error, if any, is
// Problems with every problem found.
func Load(path string) (*Config, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, Problems{{File: path, Msg: fmt.Sprintf("cannot read config: %v; pass a YAML file or a directory of them", unwrapPath(err))}}
	}
	if !st.IsDir() {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, Problems{{File: path, Msg: fmt.Sprintf("cannot read: %v", unwrapPath(err))}}
		}
		return load([]source{{path, data}}, os.LookupEnv)
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return nil, Problems{{File: path, Msg: fmt.Sprintf("cannot read directory: %v", unwrapPath(err))}}
	}
	var srcs []source
	var ps Problems
	for _, e := range entries { // ReadDir sorts by name
		ext := filepath.Ext(e.Name())
		// Dotfiles are editor locks and backups (.#erp.yaml), not config.
		if e.IsDir() || strings.HasPrefix(e.Name(), ".") || (ext != ".yaml" && ext != ".yml") {
			continue
		}
		file := filepath.Join(path, e.Name())
		data, err := os.ReadFile(file)
		if err != nil {
			ps = append(ps, Problem{File: file, Msg: fmt.Sprintf("cannot read: %v", unwrapPath(err))})
			continue
		}
		srcs = append(srcs, source{file, data})
	}
	if len(ps) > 0 {
		return nil, ps
	}
	if len(srcs) == 0 {
		return nil, Problems{{File: path, Msg: "no *.yaml or *.yml files in this directory"}}
	}
	return load(srcs, os.LookupEnv)
}

// Parse reads one YAML document; file names it in problems.
func Parse(file string, data []byte) (*Config, error) {
	return load([]source{{file, data}}, os.LookupEnv)
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

type source struct {
	file string
	data []byte
}

// parsed is one decoded file, before merging.
type parsed struct {
	file     string
	cfg      *Config
	sections map[string]int  // top-level section -> line
	lines    map[string]int  // key path -> line
	bad      map[string]bool // paths with a decoding problem, not to be reported twice
	secrets  []string        // values of secret keys and URL credentials, to mask in problems
}

// load decodes every source, merges them, fills derived defaults and validates.
func load(srcs []source, lookup lookupFunc) (*Config, error) {
	var ps Problems
	files := make([]*parsed, 0, len(srcs))
	for _, s := range srcs {
		p, probs := decodeFile(s.file, s.data, lookup)
		ps = append(ps, probs...)
		files = append(files, p)
	}
	cfg, refs, probs := merge(files)
	ps = append(ps, probs...)
	applyDerivedDefaults(cfg)
	defaultMemoryLimit(cfg, refs.sections["server"].written("server.memory_limit"))
	ps = append(ps, validate(cfg, refs)...)
	if len(ps) > 0 {
		sortProblems(ps)
		maskProblems(ps, files, cfg)
		return nil, ps
	}
	return cfg, nil
}

// maskProblems replaces every secret in the messages with *** (SPEC §11):
// the values of secret keys in every file (a file whose section lost the
// merge included) and of the merged config, and the credentials of URLs.
// Problems about a secret key do not quote it to begin with; this catches a
// secret quoted where it was not expected (the same ${VAR} used for a name).
func maskProblems(ps Problems, files []*parsed, cfg *Config) {
	secrets := cfg.Secrets()
	for _, f := range files {
		secrets = append(secrets, f.secrets...)
	}
	m := newMasker(secrets)
	for i := range ps {
		ps[i].Msg = m.mask(ps[i].Msg)
	}
}

var yamlLineRe = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func decodeFile(file string, data []byte, lookup lookupFunc) (*parsed, Problems) {
	p := &parsed{file: file, cfg: Default(), sections: map[string]int{}}
	d := newDecoder(file, lookup)
	p.lines = d.lines
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return p, nil // an empty file sets nothing
		}
		return p, Problems{yamlProblem(file, err)}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		line := extra.Line
		if err != nil {
			line = yamlProblem(file, err).Line
		}
		d.errorf(line, "", "more than one YAML document; put one document in each file")
	}
	if len(doc.Content) == 1 {
		root := d.resolve(doc.Content[0])
		if root.Kind != yaml.MappingNode && !isNull(root) {
			d.errorf(root.Line, "", "the top level must be a map of sections; allowed: %s", d.topFields(p.cfg, p.sections).keys())
		} else {
			d.object(root, "", d.topFields(p.cfg, p.sections))
		}
	}
	p.bad = map[string]bool{}
	for _, pr := range d.problems {
		p.bad[pr.Path] = true
	}
	p.secrets = d.secrets
	return p, d.problems
}

func yamlProblem(file string, err error) Problem {
	msg := err.Error()
	if m := yamlLineRe.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return Problem{File: file, Line: line, Msg: "invalid YAML: " + m[2]}
	}
	return Problem{File: file, Msg: "invalid YAML: " + strings.TrimPrefix(msg, "yaml: ")}
}

// ref says where a value was written: in which file and under which path.
type ref struct {
	src  *parsed
	path string
}

// refs records where every merged list element and section came from, so
// that validation can report FILE:LINE with the file-local path.
type refs struct {
	sections     map[string]ref
	webhooks     []ref
	incoming     []ref
	outgoing     []ref
	routes       []ref
	authProfiles []ref
}

var singleSections = []string{"server", "admin", "log", "nats", "tracing"}

func merge(files []*parsed) (*Config, *refs, Problems) {
	cfg := Default()
	r := &refs{sections: map[string]ref{}}
	var ps Problems
	var first *parsed
	if len(files) > 0 {
		first = files[0]
	}
	for _, name := range singleSections {
		r.sections[name] = ref{first, name}
	}
	setBy := map[string]*parsed{}
	for _, f := range files {
		for _, name := range singleSections {
			line, ok := f.sections[name]
			if !ok {
				continue
			}
			if prev := setBy[name]; prev != nil {
				ps = append(ps, Problem{File: f.file, Line: line, Path: name,
					Msg: fmt.Sprintf("also set in %s:%d; set %s in one file only", prev.file, prev.sections[name], name)})
				continue
			}
			setBy[name] = f
			r.sections[name] = ref{f, name}
			switch name {
			case "server":
				cfg.Server = f.cfg.Server
			case "admin":
				cfg.Admin = f.cfg.Admin
			case "log":
				cfg.Log = f.cfg.Log
			case "nats":
				cfg.NATS = f.cfg.NATS
			case "tracing":
				cfg.Tracing = f.cfg.Tracing
			}
		}
		cfg.Webhooks = appendRefs(cfg.Webhooks, f.cfg.Webhooks, &r.webhooks, f, "webhooks")
		cfg.Incoming = appendRefs(cfg.Incoming, f.cfg.Incoming, &r.incoming, f, "incoming")
		cfg.Outgoing = appendRefs(cfg.Outgoing, f.cfg.Outgoing, &r.outgoing, f, "outgoing")
		cfg.Routes = appendRefs(cfg.Routes, f.cfg.Routes, &r.routes, f, "routes")
		cfg.AuthProfiles = appendRefs(cfg.AuthProfiles, f.cfg.AuthProfiles, &r.authProfiles, f, "auth_profiles")
	}
	return cfg, r, ps
}

func appendRefs[T any](dst, src []T, rs *[]ref, f *parsed, list string) []T {
	for i := range src {
		*rs = append(*rs, ref{f, index(list, i)})
	}
	return append(dst, src...)
}

// line finds the line of path in the file, or of its nearest recorded
// ancestor: a missing key is reported on the line of the map that lacks it.
// written reports whether the file of r wrote the key at path.
func (r ref) written(path string) bool {
	if r.src == nil {
		return false
	}
	_, ok := r.src.lines[path]
	return ok
}

func (r ref) line(path string) int {
	if r.src == nil {
		return 0
	}
	for path != "" {
		if l, ok := r.src.lines[path]; ok {
			return l
		}
		i := max(strings.LastIndexByte(path, '.'), strings.LastIndexByte(path, '['))
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return 0
}

// has reports whether the file wrote the key at path (sub is relative to r).
func (r ref) has(sub string) bool {
	if r.src == nil {
		return false
	}
	_, ok := r.src.lines[r.path+sub]
	return ok
}

func (r ref) file() string {
	if r.src == nil {
		return ""
	}
	return r.src.file
}
