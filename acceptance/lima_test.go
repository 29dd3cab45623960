package acceptance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/labnet-dev/labnet/internal/testutil"
)

// The Lima acceptance tests run labs of labs/ on real Lima VMs with
// -var provider=lima. They need limactl on PATH and a normal user (limactl
// refuses root), and take many minutes: every VM boots a real guest (about
// 3 minutes under TCG). Run them with -timeout 60m, e.g.
//
//	LABNET_LIMA_TEMPLATE=/path/template-offline.yaml \
//	    go test -count=1 -timeout 60m -run Lima -v ./acceptance
//
// LABNET_LIMA_TEMPLATE is passed as the labs' lima_template (an absolute
// path of a local template, such as shared/lima/template-offline.yaml, or a
// Lima template name); without it the labs use template://_images/debian-12, which
// downloads an image. A compiled test binary finds the repository through
// LABNET_REPO (else the source path it was built from) and labnet through
// LABNET_BIN (else it builds labnet from the repository).
//
// They use no machine snapshots (those read root-only state): a Lima lab
// touches nothing on this machine but its VMs, and what is asserted after
// destroy is that `limactl list` shows none of them.

// limaSkip says why the Lima tests cannot run here ("" when they can).
func limaSkip() string {
	if _, err := exec.LookPath("limactl"); err != nil {
		return "limactl is not on PATH (no package registry here serves Lima): run as a normal user on a machine with Lima (https://lima-vm.io)"
	}
	if os.Geteuid() == 0 {
		return "limactl refuses to run as root: run the Lima acceptance tests as a normal user"
	}
	return ""
}

// repoDir is the labnet repository: LABNET_REPO, else the working
// directory's parent when that is it (go test), else where this file was
// compiled from (a compiled test binary run elsewhere).
func repoDir() string {
	if d := os.Getenv("LABNET_REPO"); d != "" {
		return d
	}
	if _, err := os.Stat(filepath.Join("..", "labs", "docker", "main.hcl")); err == nil {
		return ".."
	}
	if _, file, _, ok := runtime.Caller(0); ok {
		d := filepath.Dir(filepath.Dir(file))
		if _, err := os.Stat(filepath.Join(d, "labs", "docker", "main.hcl")); err == nil {
			return d
		}
	}
	return ".."
}

// limaLab is a copy of a lab of labs/ under a unique name, run on Lima.
type limaLab struct {
	t    *testing.T
	dir  string
	name string
	vars []string // -var flags every command gets
}

func newLimaLab(t *testing.T, src string, vars ...string) *limaLab {
	t.Helper()
	if why := limaSkip(); why != "" {
		t.Skip(why)
	}
	if testing.Short() {
		t.Skip("boots real Lima VMs (minutes each)")
	}
	if labnetBin == "" {
		t.Fatal("no labnet binary (TestMain did not build one): set LABNET_BIN")
	}
	// "l" + 3 letters + 6 hex digits, like newLab's names: short enough for
	// the VM names ("<lab>-<host>") and the interface names in the guests.
	name := testutil.LabName("l" + strings.ReplaceAll(src, "-", "")[:3])
	dir := t.TempDir()
	from := filepath.Join(repoDir(), "labs", src)
	files, err := filepath.Glob(filepath.Join(from, "*.hcl"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no lab files in %s (set LABNET_REPO to the labnet repository)", from)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte("lab {")) {
			b = labName.ReplaceAll(b, []byte(`${1}"`+name+`"`))
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// labs/docker's image: the one `make images` built, or built here.
	if b, err := os.ReadFile(filepath.Join(from, "images", "busybox.tar")); err == nil {
		os.MkdirAll(filepath.Join(dir, "images"), 0o755)
		if err := os.WriteFile(filepath.Join(dir, "images", "busybox.tar"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	} else if src == "docker" {
		busyboxImage(t, dir)
	}
	l := &limaLab{t: t, dir: dir, name: name, vars: append([]string{"-var", "provider=lima"}, vars...)}
	if tpl := os.Getenv("LABNET_LIMA_TEMPLATE"); tpl != "" {
		l.vars = append(l.vars, "-var", "lima_template="+tpl)
	}
	t.Cleanup(func() {
		// Destroy even when the test failed half-way; then no VM of the
		// lab may be left, and any that is gets deleted here.
		if _, code := l.run(10*time.Minute, append([]string{"destroy", "-auto-approve"}, l.vars...)...); code != 0 {
			t.Errorf("cleanup destroy failed (exit %d)", code)
		}
		left, err := l.vms()
		if err != nil {
			t.Error(err)
		}
		for _, vm := range left {
			t.Errorf("Lima VM %s (%s) is left after destroy; deleting it", vm.Name, vm.Status)
			if out, err := exec.Command("limactl", "delete", "--force", vm.Name).CombinedOutput(); err != nil {
				t.Errorf("limactl delete --force %s: %v\n%s", vm.Name, err, out)
			}
		}
	})
	return l
}

// progressLine is labnet's "Still creating..." line, left out of the log.
var progressLine = regexp.MustCompile(`(?m)^.*Still (creating|modifying|destroying)\.\.\. \[.*\n`)

// run runs labnet in the lab directory within timeout.
func (l *limaLab) run(timeout time.Duration, args ...string) (out string, code int) {
	l.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	l.t.Logf("%s $ labnet %s", time.Now().Format("15:04:05"), strings.Join(args, " "))
	began := time.Now()
	cmd := exec.CommandContext(ctx, labnetBin, append([]string{"-chdir=" + l.dir}, args...)...)
	var o bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &o
	cmd.Stdin = strings.NewReader("")
	cmd.WaitDelay = 10 * time.Second
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.ExitCode()
	default:
		l.t.Errorf("labnet %v: %v", args, err)
		code = -1
	}
	out = o.String()
	l.t.Logf("exit %d after %s\n%s", code, time.Since(began).Round(time.Second), progressLine.ReplaceAllString(out, ""))
	return out, code
}

// must runs labnet and fails the test unless it exits with want.
func (l *limaLab) must(timeout time.Duration, want int, args ...string) string {
	l.t.Helper()
	out, code := l.run(timeout, args...)
	if code != want {
		l.t.Fatalf("labnet %s: exit %d, want %d", strings.Join(args, " "), code, want)
	}
	return out
}

// with appends the lab's variables to a command.
func (l *limaLab) with(args ...string) []string { return append(args, l.vars...) }

type limaVM struct {
	Name   string `json:"name"`
	Status string `json:"status"`
}

// vms lists the lab's VMs ("<lab>-...") with `limactl list --json`.
func (l *limaLab) vms() ([]limaVM, error) {
	out, err := exec.Command("limactl", "list", "--json").Output()
	if err != nil {
		return nil, err
	}
	var vms []limaVM
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var vm limaVM
		if err := dec.Decode(&vm); err == io.EOF {
			break
		} else if err != nil {
			return nil, err
		}
		if strings.HasPrefix(vm.Name, l.name+"-") {
			vms = append(vms, vm)
		}
	}
	return vms, nil
}

// wantVMs fails the test unless the lab's VMs are exactly names, running.
func (l *limaLab) wantVMs(names ...string) {
	l.t.Helper()
	vms, err := l.vms()
	if err != nil {
		l.t.Fatal(err)
	}
	var got []string
	for _, vm := range vms {
		got = append(got, strings.TrimPrefix(vm.Name, l.name+"-")+"="+vm.Status)
	}
	sort.Strings(got)
	var want []string
	for _, n := range names {
		want = append(want, n+"=Running")
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		l.t.Fatalf("Lima VMs of the lab: %v, want %v", got, want)
	}
}

// checksPass runs `labnet test` and wants n checks, all passed.
func (l *limaLab) checksPass(n int) {
	l.t.Helper()
	out := l.must(5*time.Minute, 0, l.with("test")...)
	if want := regexp.MustCompile(`\b` + strconv.Itoa(n) + ` passed, 0 failed`); !want.MatchString(out) {
		l.t.Fatalf("labnet test: want %d passed, 0 failed:\n%s", n, out)
	}
}

// TestLimaDocker runs labs/docker on two Lima VMs: apply, checks, a
// no-change plan; then one VM is stopped behind labnet's back and a single
// apply restarts it (its SSH host key kept) and remakes what it lost, so
// the checks pass again; destroy, with a VM stopped, leaves no VM.
func TestLimaDocker(t *testing.T) {
	l := newLimaLab(t, "docker", "-var", "hosts=2")
	l.must(30*time.Minute, 0, l.with("apply", "-auto-approve")...)
	l.wantVMs("node-0", "node-1")
	l.checksPass(5)
	l.must(5*time.Minute, 0, l.with("plan", "-detailed-exitcode")...)

	// A restart outside labnet loses the VM's kernel state (namespaces,
	// bridge, nft tables) and moves its SSH port.
	if out, err := exec.Command("limactl", "stop", l.name+"-node-1").CombinedOutput(); err != nil {
		t.Fatalf("limactl stop: %v\n%s", err, out)
	}
	out := l.must(5*time.Minute, 2, l.with("plan", "-detailed-exitcode")...)
	if !strings.Contains(out, "stopped") {
		t.Errorf("the plan does not say the VM is stopped:\n%s", out)
	}
	l.must(30*time.Minute, 0, l.with("apply", "-auto-approve")...)
	l.wantVMs("node-0", "node-1")
	l.checksPass(5)
	l.must(5*time.Minute, 0, l.with("plan", "-detailed-exitcode")...)

	// A stopped VM cannot be reached, and destroy deletes it all the same.
	if out, err := exec.Command("limactl", "stop", l.name+"-node-0").CombinedOutput(); err != nil {
		t.Fatalf("limactl stop: %v\n%s", err, out)
	}
	l.must(10*time.Minute, 0, l.with("destroy", "-auto-approve")...)
	l.wantVMs()
}

// TestLimaKubernetesFlat runs labs/kubernetes-flat with two nodes (VXLAN
// between the VMs) and its outside host: three Lima VMs.
func TestLimaKubernetesFlat(t *testing.T) {
	l := newLimaLab(t, "kubernetes-flat", "-var", "nodes=2")
	l.must(40*time.Minute, 0, l.with("apply", "-auto-approve")...)
	l.wantVMs("node-0", "node-1", "outside")
	l.checksPass(7)
	l.must(5*time.Minute, 0, l.with("plan", "-detailed-exitcode")...)
	l.must(10*time.Minute, 0, l.with("destroy", "-auto-approve")...)
	l.wantVMs()
}

// TestLimaOtherLabs runs the remaining labs of labs/ on Lima VMs, one after
// another: labs/vms (a bridged VM on lanbr, which takes the Lima network's
// interface, not eth0, Lima's own user-mode NIC that carries SSH), labs/sdn
// (VXLAN segments between the VMs) and labs/bare-metal (three VMs, etcd
// installed by the lab's Lima provision script; when this machine has
// etcd, the VMs fetch its binaries from a server on this machine's
// loopback, which Lima shows them as host.lima.internal, so
// an offline image works too).
func TestLimaOtherLabs(t *testing.T) {
	for _, c := range []struct {
		lab    string
		vms    []string
		checks int
	}{
		{"vms", []string{"node-0", "node-1"}, 9},
		{"sdn", []string{"node-0", "node-1"}, 6},
		{"bare-metal", []string{"node-0", "node-1", "node-2"}, 4},
	} {
		t.Run(c.lab, func(t *testing.T) {
			var vars []string
			if c.lab == "bare-metal" {
				vars = etcdFromHere(t)
			}
			l := newLimaLab(t, c.lab, vars...)
			l.must(40*time.Minute, 0, l.with("apply", "-auto-approve")...)
			l.wantVMs(c.vms...)
			l.checksPass(c.checks)
			l.must(5*time.Minute, 0, l.with("plan", "-detailed-exitcode")...)
			l.must(10*time.Minute, 0, l.with("destroy", "-auto-approve")...)
			l.wantVMs()
		})
	}
}

// etcdFromHere serves this machine's etcd and etcdctl on loopback and
// returns the -var that makes labs/bare-metal's VMs fetch them at boot;
// none when this machine has no etcd (the lab's default script installs
// it with apt then).
func etcdFromHere(t *testing.T) []string {
	dir := t.TempDir()
	for _, name := range []string{"etcd", "etcdctl"} {
		p, err := exec.LookPath(name)
		if err != nil {
			t.Logf("no %s here: the VMs install etcd with apt", name)
			return nil
		}
		if err := os.Symlink(p, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.FileServer(http.Dir(dir))}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	url := fmt.Sprintf("http://host.lima.internal:%d/", ln.Addr().(*net.TCPAddr).Port)
	script := "command -v etcd >/dev/null || python3 -c 'import urllib.request as u\nfor n in (\"etcd\", \"etcdctl\"): u.urlretrieve(\"" + url + "\" + n, \"/usr/local/bin/\" + n)' && chmod 755 /usr/local/bin/etcd /usr/local/bin/etcdctl"
	return []string{"-var", "lima_provision=" + script}
}

// TestLimaFirstRunAndBridgedRepair runs labs/vms as a user who never ran
// Lima would: a new Lima home without a user key, where two first creates
// at once raced over making it. Then the host carrying the bridged VM is
// stopped behind labnet's back and repaired by one apply, and every check
// passes at once: the remade bridged VM announces itself, so its peers and
// Lima's switch need not wait for stale entries to expire.
func TestLimaFirstRunAndBridgedRepair(t *testing.T) {
	if why := limaSkip(); why != "" {
		t.Skip(why)
	}
	// Short: Lima's sockets live under it (a Unix socket path has ~104 bytes).
	home, err := os.MkdirTemp("/tmp", "lh")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(home) })
	t.Setenv("LIMA_HOME", home)
	l := newLimaLab(t, "vms")
	out := l.must(40*time.Minute, 0, l.with("apply", "-auto-approve")...)
	if strings.Contains(out, "Overwrite") {
		t.Errorf("the first apply met Lima's key race:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(home, "_config", "user")); err != nil {
		t.Errorf("the new Lima home has no user key after the first apply: %v", err)
	}
	l.wantVMs("node-0", "node-1")
	l.checksPass(9)
	// Commands run through sudo without its "unable to resolve host" noise.
	if out := l.must(time.Minute, 0, "exec", "host.node[1]", "--", "echo", "hi"); strings.Contains(out, "unable to resolve") || !strings.Contains(out, "hi") {
		t.Errorf("labnet exec on a Lima VM:\n%s", out)
	}

	if out, err := exec.Command("limactl", "stop", l.name+"-node-0").CombinedOutput(); err != nil {
		t.Fatalf("limactl stop: %v\n%s", err, out)
	}
	l.must(5*time.Minute, 2, l.with("plan", "-detailed-exitcode")...)
	l.must(30*time.Minute, 0, l.with("apply", "-auto-approve")...)
	l.checksPass(9) // at once: no retry, no wait
	l.must(5*time.Minute, 0, l.with("plan", "-detailed-exitcode")...)
	l.must(10*time.Minute, 0, l.with("destroy", "-auto-approve")...)
	l.wantVMs()
}
