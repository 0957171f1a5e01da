package test

import (
	"bytes"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// SPEC §13: the container image is a multi-stage build of a static binary
// that runs as a non-root user with its state on a /data volume and
// exposes 8080, 8081 and 4222. There is no Docker daemon here: the test
// reads the Dockerfile, sends its build stage the context .dockerignore
// leaves, runs the stage's go build line exactly as written there, and
// checks that the binary is static and stripped and that it runs.
func TestDockerfileBuildsAStaticNonRootImage(t *testing.T) {
	t.Parallel()
	ins := parseDockerfile(t, filepath.Join(repoRoot, "Dockerfile"))
	var froms []instruction
	for _, in := range ins {
		if in.Cmd == "FROM" {
			froms = append(froms, in)
		}
	}
	if len(froms) < 2 {
		t.Fatalf("Dockerfile has %d stages, want a builder and a final stage", len(froms))
	}
	final := len(froms) - 1
	if !strings.HasPrefix(froms[0].Args, "golang:") {
		t.Errorf("Dockerfile:%d: FROM %s, want a golang builder first", froms[0].Line, froms[0].Args)
	}
	base := strings.Fields(froms[final].Args)[0]
	if !strings.HasPrefix(base, "gcr.io/distroless/static") && base != "scratch" {
		t.Errorf("Dockerfile:%d: final stage FROM %s, want distroless/static or scratch", froms[final].Line, base)
	}

	// The final stage: who it runs as, what it keeps and exposes, what it runs.
	var (
		user, volumes, ports []string
		entrypoint, cmd      []string
		copiedTo             []string
	)
	for _, in := range ins {
		if in.Stage != final {
			continue
		}
		switch in.Cmd {
		case "USER":
			user = append(user, in.Args)
		case "VOLUME":
			volumes = append(volumes, strings.Fields(strings.Trim(in.Args, `[]`))...)
		case "EXPOSE":
			ports = append(ports, strings.Fields(in.Args)...)
		case "ENTRYPOINT":
			entrypoint = execForm(t, in)
		case "CMD":
			cmd = execForm(t, in)
		case "COPY":
			f := strings.Fields(in.Args)
			copiedTo = append(copiedTo, f[len(f)-1])
		}
	}
	if len(user) == 0 {
		t.Error("the final stage sets no USER: the image would run as root")
	} else if u, _, _ := strings.Cut(user[len(user)-1], ":"); u == "root" || u == "0" {
		t.Errorf("the final stage runs as USER %s, want a non-root user", user[len(user)-1])
	}
	for i, v := range volumes {
		volumes[i] = strings.Trim(v, `",`)
	}
	if !slices.Contains(volumes, "/data") {
		t.Errorf("VOLUME %v, want /data", volumes)
	}
	for _, p := range []string{"8080", "8081", "4222"} {
		if !slices.Contains(ports, p) {
			t.Errorf("EXPOSE %v lacks %s", ports, p)
		}
	}
	if len(entrypoint) != 2 || filepath.Base(entrypoint[0]) != "hookgate" || entrypoint[1] != "serve" {
		t.Errorf("ENTRYPOINT %q, want [\".../hookgate\", \"serve\"]", entrypoint)
	}
	// The default config the CMD names is one the image holds.
	if len(cmd) != 2 || cmd[0] != "-c" {
		t.Fatalf("CMD %q, want [\"-c\", CONFIG]", cmd)
	}
	if !slices.ContainsFunc(copiedTo, func(dst string) bool { return strings.HasPrefix(dst, cmd[1]) }) {
		t.Errorf("CMD -c %s, but the final stage copies nothing there (COPY targets %v)", cmd[1], copiedTo)
	}

	// The build stage: its ARG defaults and ENV, and the go build line.
	vars := map[string]string{}
	env := []string{}
	var build []string
	for _, in := range ins {
		if in.Stage != 0 {
			continue
		}
		switch in.Cmd {
		case "ARG":
			k, v, _ := strings.Cut(in.Args, "=")
			vars[k] = v
		case "ENV":
			k, v, ok := strings.Cut(in.Args, "=")
			if !ok {
				k, v, _ = strings.Cut(in.Args, " ")
			}
			vars[k] = strings.TrimSpace(v)
			env = append(env, k+"="+strings.TrimSpace(v))
		case "RUN":
			if w := shellWords(in.Args, vars); len(w) > 2 && w[0] == "go" && w[1] == "build" {
				build = w
			}
		}
	}
	if build == nil {
		t.Fatal("the build stage has no RUN go build …")
	}
	if vars["CGO_ENABLED"] != "0" {
		t.Errorf("the build stage sets CGO_ENABLED=%q, want ENV CGO_ENABLED=0 (a static binary)", vars["CGO_ENABLED"])
	}
	if !slices.Contains(build, "-trimpath") {
		t.Errorf("%q lacks -trimpath", build)
	}

	// Build in a copy of exactly the context docker would send.
	buildCtx := t.TempDir()
	copyContext(t, repoRoot, buildCtx, readDockerignore(t, filepath.Join(repoRoot, ".dockerignore")))
	for _, in := range ins {
		if in.Cmd != "COPY" || strings.Contains(in.Args, "--from=") {
			continue
		}
		f := strings.Fields(in.Args)
		for _, src := range f[:len(f)-1] {
			if _, err := os.Stat(filepath.Join(buildCtx, src)); err != nil && src != "." {
				t.Errorf("Dockerfile:%d: COPY %s: not in the build context .dockerignore leaves", in.Line, src)
			}
		}
	}
	out := filepath.Join(t.TempDir(), "hookgate")
	for i, w := range build {
		if w == "-o" && i+1 < len(build) {
			build[i+1] = out
		}
	}
	run := exec.Command(build[0], build[1:]...)
	run.Dir = buildCtx
	run.Env = append(os.Environ(), env...)
	if msg, err := run.CombinedOutput(); err != nil {
		t.Fatalf("%s in the build context: %v\n%s", strings.Join(build, " "), err, msg)
	}

	f, err := elf.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the binary has a PT_INTERP header: it needs a dynamic loader the final stage does not have")
		}
	}
	if libs, err := f.ImportedLibraries(); err != nil || len(libs) > 0 {
		t.Errorf("the binary needs shared libraries %v (%v), want none", libs, err)
	}
	if f.Section(".symtab") != nil {
		t.Error("the binary keeps its symbol table: -ldflags -s is not applied")
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(data, []byte(buildCtx)) {
		t.Errorf("the binary holds the build directory %s: -trimpath is not applied", buildCtx)
	}
	if got, err := exec.Command(out, "version").Output(); err != nil || string(got) != "hookgate dev\n" {
		t.Errorf("hookgate version: %q, %v; want \"hookgate dev\" (ARG VERSION's default)", got, err)
	}
}

// Every hookgate config under deploy/ (the image's default, the compose
// fleet's) passes `hookgate validate` with the variables it documents
// set; the image's refuses to start without an admin token.
func TestDeployConfigsValidate(t *testing.T) {
	t.Parallel()
	env := []string{"HOOKGATE_ADMIN_TOKEN=admin-secret", "NATS_TOKEN=nats-secret", "ORDERS_SECRET=orders-secret"}
	var checked []string
	err := filepath.WalkDir(filepath.Join(repoRoot, "deploy"), func(path string, e os.DirEntry, err error) error {
		if err != nil || !e.IsDir() {
			return err
		}
		yamls, _ := filepath.Glob(filepath.Join(path, "*.y*ml"))
		yamls = slices.DeleteFunc(yamls, func(p string) bool { return filepath.Base(p) == "compose.yaml" })
		if len(yamls) == 0 {
			return nil
		}
		checked = append(checked, path)
		out, err := validate(path, env...)
		if err != nil || !strings.HasPrefix(out, "ok: ") {
			t.Errorf("hookgate validate -c %s: %v\n%s", path, err, out)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(checked) < 2 {
		t.Errorf("validated %v, want the image's and the compose fleet's configs", checked)
	}

	out, err := validate(filepath.Join(repoRoot, "deploy", "image"), "HOOKGATE_ADMIN_TOKEN=")
	if err == nil || !strings.Contains(out, "admin.token: required") || !strings.Contains(out, "HOOKGATE_ADMIN_TOKEN") {
		t.Errorf("the image's config without HOOKGATE_ADMIN_TOKEN: %v\n%s\nwant refused, naming the variable", err, out)
	}
}

// validate runs `hookgate validate -c path` with env added.
func validate(path string, env ...string) (string, error) {
	cmd := exec.Command(binary, "validate", "-c", path)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}
