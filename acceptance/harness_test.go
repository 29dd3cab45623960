// Package acceptance applies the labs in labs/ on real kernels with the
// real labnet binary, runs their checks by traffic, and proves that
// destroy leaves nothing behind. It needs root; without it every test skips.
package acceptance

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/labnet-dev/labnet/internal/testutil"
)

var labnetBin string

// TestMain builds labnet for the tests, unless LABNET_BIN names a built one
// or no test here can run (not root, and no Lima tests either).
func TestMain(m *testing.M) {
	flag.Parse()
	code := func() int {
		if b := os.Getenv("LABNET_BIN"); b != "" {
			labnetBin = b
			return m.Run()
		}
		if os.Geteuid() != 0 && (limaSkip() != "" || testing.Short()) {
			return m.Run() // tests skip themselves
		}
		dir, err := os.MkdirTemp("", "labnet-acc-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		labnetBin = filepath.Join(dir, "labnet")
		build := exec.Command("go", "build", "-o", labnetBin, ".")
		build.Dir = repoDir()
		build.Env = append(os.Environ(), "CGO_ENABLED=0") // as `make build`
		build.Stdout, build.Stderr = os.Stdout, os.Stderr
		if err := build.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "build labnet:", err)
			return 1
		}
		return m.Run()
	}()
	os.Exit(code)
}

// lab is a copy of one of labs/ under a unique name, so tests never
// collide with each other or with a lab a user has applied.
type lab struct {
	t    *testing.T
	dir  string
	name string
	vars []string // what the cleanup's destroy needs (required variables)
}

var labName = regexp.MustCompile(`(?m)^(\s*name\s*=\s*)"[a-z0-9-]+"`)

func newLab(t *testing.T, src string) *lab {
	t.Helper()
	testutil.NeedRoot(t)
	base := filepath.Base(src)
	name := testutil.LabName("t" + strings.ReplaceAll(base, "-", "")[:3])
	dir := t.TempDir()
	from := filepath.Join("..", "labs", src) // a lab of labs/, a test lab in testdata/, or bench/labs/
	switch {
	case strings.HasPrefix(src, "testdata/"):
		from = src
	case strings.HasPrefix(src, "bench/"):
		from = filepath.Join("..", src)
	}
	files, err := filepath.Glob(filepath.Join(from, "*.hcl"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no lab files in %s", from)
	}
	renamed := false
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if labName.Match(b) && bytes.Contains(b, []byte("lab {")) {
			b = labName.ReplaceAll(b, []byte(`${1}"`+name+`"`))
			renamed = true
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if !renamed {
		t.Fatalf("%s has no `lab { name = ... }` to rename", from)
	}
	// The files the lab reads from its subdirectories (templates).
	subs, _ := filepath.Glob(filepath.Join(from, "*", "*"))
	for _, f := range subs {
		if strings.Contains(f, ".labnet") {
			continue
		}
		rel, _ := filepath.Rel(from, f)
		b, err := os.ReadFile(f)
		if err != nil {
			continue // a directory one level deeper: no lab has one
		}
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(rel)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, rel), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A lab whose containers run images/busybox.tar (labs/docker) gets it
	// built as `make images` builds it, unless it came along.
	for _, f := range files {
		if b, _ := os.ReadFile(f); bytes.Contains(b, []byte("images/busybox.tar")) {
			if _, err := os.Stat(filepath.Join(dir, "images", "busybox.tar")); err != nil {
				busyboxImage(t, dir)
			}
			break
		}
	}
	l := &lab{t: t, dir: dir, name: name}
	before := snapshot(t, name)
	t.Cleanup(func() {
		// Destroy even when the test failed half-way, then prove the
		// machine is as it was.
		if _, _, code := l.run(append([]string{"destroy", "-auto-approve"}, l.vars...)...); code != 0 {
			t.Errorf("cleanup destroy failed")
		}
		after := snapshot(t, name)
		if d := before.diff(after); d != "" {
			t.Errorf("the machine is not as it was before the test:\n%s", d)
		}
	})
	return l
}

// run runs labnet in the lab directory.
func (l *lab) run(args ...string) (stdout, stderr string, code int) {
	l.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, labnetBin, append([]string{"-chdir=" + l.dir}, args...)...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	cmd.Stdin = strings.NewReader("")
	err := cmd.Run()
	code = 0
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else {
			l.t.Fatalf("labnet %v: %v", args, err)
		}
	}
	l.t.Logf("$ labnet %s (exit %d)\n%s%s", strings.Join(args, " "), code, o.String(), e.String())
	return o.String(), e.String(), code
}

// must runs labnet and fails the test unless it exits with want.
func (l *lab) must(want int, args ...string) string {
	l.t.Helper()
	out, errOut, code := l.run(args...)
	if code != want {
		l.t.Fatalf("labnet %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, want, out, errOut)
	}
	return out
}

// machine is what the machine's own namespace shows.
type machine struct {
	links, netns, nft, procs []string
}

func snapshot(t *testing.T, name string) machine {
	t.Helper()
	var m machine
	out, _ := exec.Command("ip", "-o", "link", "show").Output()
	for _, l := range strings.Split(string(out), "\n") {
		if f := strings.Fields(l); len(f) > 1 {
			m.links = append(m.links, strings.TrimSuffix(f[1], ":"))
		}
	}
	out, _ = exec.Command("ip", "netns", "list").Output()
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		// Only this lab's: other labs (other tests, a user's) may come and go.
		if l != "" && strings.Contains(l, name) {
			m.netns = append(m.netns, strings.Fields(l)[0])
		}
	}
	out, _ = exec.Command("nft", "list", "ruleset").Output()
	m.nft = strings.Split(strings.TrimSpace(string(out)), "\n")
	// Processes of this lab: marked ones, and sshd/holders living in the
	// lab's namespaces are found through the marks of their holders.
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		env, err := os.ReadFile("/proc/" + e.Name() + "/environ")
		if err != nil {
			continue
		}
		if bytes.Contains(env, []byte("LABNET_OWNER="+name+"/")) {
			stat, _ := os.ReadFile("/proc/" + e.Name() + "/stat")
			if !bytes.Contains(stat, []byte(") Z")) {
				cmd, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
				m.procs = append(m.procs, e.Name()+" "+string(bytes.ReplaceAll(cmd, []byte{0}, []byte{' '})))
			}
		}
	}
	sort.Strings(m.links)
	sort.Strings(m.netns)
	return m
}

// pidsWhoseEnv lists the processes whose environment (NUL-separated
// NAME=VALUE entries) match says yes to.
func pidsWhoseEnv(match func(env string) bool) []string {
	var pids []string
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		env, err := os.ReadFile("/proc/" + e.Name() + "/environ")
		if err == nil && match(string(env)) {
			pids = append(pids, e.Name())
		}
	}
	return pids
}

func (a machine) diff(b machine) string {
	var d []string
	cmp := func(what string, x, y []string) {
		if strings.Join(x, "\n") != strings.Join(y, "\n") {
			d = append(d, fmt.Sprintf("%s before: %v\n%s after:  %v", what, x, what, y))
		}
	}
	cmp("links", a.links, b.links)
	cmp("netns", a.netns, b.netns)
	cmp("nft ruleset", a.nft, b.nft)
	cmp("processes", a.procs, b.procs)
	return strings.Join(d, "\n")
}

var planLine = regexp.MustCompile(`Plan: (\d+) to add, (\d+) to change, (\d+) to destroy\.`)

// planCounts reads the summary line of a plan.
func planCounts(t *testing.T, out string) (add, change, destroy int) {
	t.Helper()
	m := planLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no plan summary in:\n%s", out)
	}
	fmt.Sscan(m[1], &add)
	fmt.Sscan(m[2], &change)
	fmt.Sscan(m[3], &destroy)
	return
}
