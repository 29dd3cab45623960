package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/labnet-dev/labnet/apply"
	"github.com/labnet-dev/labnet/plan"
)

// run runs labnet in dir the way a user would and restores the working
// directory afterwards (-chdir changes it for the whole process).
func run(t *testing.T, dir string, stdin string, args ...string) (string, string, int) {
	t.Helper()
	wd, _ := os.Getwd()
	defer os.Chdir(wd)
	var out, errOut bytes.Buffer
	code := Main(append([]string{"-chdir=" + dir}, args...), strings.NewReader(stdin), &out, &errOut)
	return out.String(), errOut.String(), code
}

func writeLab(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const goodLab = `lab { name = "clitest" }
network "lan" { cidr = "192.168.60.0/24" }
host "a" { network = network.lan }
bridge "br" {
  host = host.a
  cidr = "172.20.0.0/24"
}
container "c" {
  host   = host.a
  bridge = bridge.br
}
output "addr" { value = container.c.address }
output "hosts" { value = [host.a.address] }
`

func TestVersionAndHelp(t *testing.T) {
	out, _, code := run(t, ".", "", "version")
	if code != 0 || !strings.HasPrefix(out, "labnet ") {
		t.Fatalf("version: %d %q", code, out)
	}
	out, _, code = run(t, ".", "", "-help")
	if code != 0 || !strings.Contains(out, "Usage: labnet") || !strings.Contains(out, "Examples:") {
		t.Fatalf("help: %d %q", code, out)
	}
	_, errOut, code := run(t, ".", "", "frobnicate")
	if code != 1 || !strings.Contains(errOut, `unknown command "frobnicate"`) {
		t.Fatalf("unknown command: %d %q", code, errOut)
	}
	_, errOut, code = run(t, ".", "", "plan", "-nosuchflag")
	if code != 1 || !strings.Contains(errOut, "nosuchflag") {
		t.Fatalf("unknown flag: %d %q", code, errOut)
	}
}

// TestValidateCountsEveryKind: validate names every kind a lab declares,
// the containers inside pods and the guests of every model included.
func TestValidateCountsEveryKind(t *testing.T) {
	for lab, want := range map[string]string{
		"bare-metal":      "1 network, 3 hosts, 3 processes, 4 checks",
		"docker":          "1 network, 2 hosts, 2 bridges, 4 containers, 5 checks, 2 outputs",
		"kubernetes-flat": "1 network, 4 hosts, 1 pod network, 6 pods, 12 pod containers, 7 checks, 1 output",
		"sdn":             "1 network, 2 hosts, 5 containers, 1 vm, 3 segments, 6 checks",
		"vms":             "1 network, 2 hosts, 4 vms, 9 checks, 1 output",
	} {
		args := []string{"validate"}
		if lab == "docker" {
			// Its image is built by make images: a tiny one stands in.
			args = append(args, "-var", "image=docker-archive:../../config/testdata/valid/images/images/tiny.tar")
		}
		out, errOut, code := run(t, filepath.Join("..", "labs", lab), "", args...)
		if line := fmt.Sprintf("Success! Lab %q is valid: %s.\n", lab, want); code != 0 || out != line {
			t.Errorf("validate %s: exit %d\n got %q\nwant %q\n%s", lab, code, out, line, errOut)
		}
	}
}

// TestValidateWithin: a within shorter than the check's timeout, or not a
// duration, is an error at the attribute.
func TestValidateWithin(t *testing.T) {
	for within, want := range map[string]string{
		`"1s"`:   `main.hcl:5:12: error: Invalid within`,
		`"soon"`: `within "soon" is not a duration`,
	} {
		dir := writeLab(t, map[string]string{"main.hcl": "lab { name = \"w\" }\nnetwork \"lan\" { cidr = \"192.168.60.0/24\" }\nhost \"h\" { network = network.lan }\ncheck \"c\" {\n  within = " + within + "\n  from = host.h\n  exec = \"true\"\n}\n"})
		_, errOut, code := run(t, dir, "", "validate")
		if code != 1 || !strings.Contains(errOut, want) {
			t.Errorf("within = %s: exit %d, want %q in\n%s", within, code, want, errOut)
		}
	}
}

func TestValidate(t *testing.T) {
	dir := writeLab(t, map[string]string{"main.hcl": goodLab})
	out, errOut, code := run(t, dir, "", "validate")
	if code != 0 || !strings.Contains(out, `Lab "clitest" is valid: 1 network, 1 host, 1 bridge, 1 container, 2 outputs.`) {
		t.Fatalf("validate: %d %q %q", code, out, errOut)
	}
	bad := writeLab(t, map[string]string{"main.hcl": "lab { name = \"bad\" }\nnetwork \"lan\" {\n  cidr = \"192.168.60.0/33\"\n}\n"})
	_, errOut, code = run(t, bad, "", "validate")
	if code != 1 || !strings.Contains(errOut, "main.hcl:3:10: error: Invalid CIDR") || !strings.Contains(errOut, "192.168.60.0/33") {
		t.Fatalf("bad cidr: %d %q", code, errOut)
	}
}

// Bad input changes nothing: plan, apply and destroy stop at the
// diagnostics, before the state directory or any host is touched.
func TestBadLabTouchesNothing(t *testing.T) {
	bad := writeLab(t, map[string]string{"main.hcl": goodLab + "container \"d\" {\n  host = host.a\n  bridge = bridge.nope\n}\n"})
	for _, args := range [][]string{{"plan"}, {"apply", "-auto-approve"}, {"destroy", "-auto-approve"}, {"test"}} {
		_, errOut, code := run(t, bad, "", args...)
		if code != 1 || !strings.Contains(errOut, "main.hcl:16:12: error: Reference to undeclared resource") {
			t.Errorf("%v: exit %d, stderr %q", args, code, errOut)
		}
	}
	if _, err := os.Stat(filepath.Join(bad, ".labnet")); err == nil {
		t.Fatal("a failed validation created the state directory")
	}
}

func TestFmt(t *testing.T) {
	dir := writeLab(t, map[string]string{"main.hcl": "network \"lan\" {\ncidr=\"10.1.0.0/24\"\n}\n"})
	out, _, code := run(t, dir, "", "fmt", "-check")
	if code != 3 || !strings.Contains(out, "main.hcl") {
		t.Fatalf("fmt -check on unformatted: %d %q", code, out)
	}
	out, _, code = run(t, dir, "", "fmt", "-check", "-diff")
	if code != 3 || !strings.Contains(out, `  cidr = "10.1.0.0/24"`) {
		t.Fatalf("fmt -diff: %d %q", code, out)
	}
	if _, _, code = run(t, dir, "", "fmt"); code != 0 {
		t.Fatalf("fmt: %d", code)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "main.hcl"))
	if string(b) != "network \"lan\" {\n  cidr = \"10.1.0.0/24\"\n}\n" {
		t.Fatalf("formatted: %q", b)
	}
	if out, _, code = run(t, dir, "", "fmt", "-check"); code != 0 || out != "" {
		t.Fatalf("fmt -check on formatted: %d %q", code, out)
	}
}

func TestOutput(t *testing.T) {
	dir := writeLab(t, map[string]string{"main.hcl": goodLab})
	out, _, code := run(t, dir, "", "output", "addr")
	if code != 0 || out != "172.20.0.2\n" {
		t.Fatalf("output addr: %d %q", code, out)
	}
	out, _, code = run(t, dir, "", "output", "-json")
	var v map[string]struct {
		Value any `json:"value"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &v) != nil || v["hosts"].Value.([]any)[0] != "192.168.60.11" {
		t.Fatalf("output -json: %d %q", code, out)
	}
	_, errOut, code := run(t, dir, "", "output", "nope")
	if code != 1 || !strings.Contains(errOut, `no output named "nope"`) {
		t.Fatalf("missing output: %d %q", code, errOut)
	}
}

func TestStateAndLock(t *testing.T) {
	dir := writeLab(t, map[string]string{"main.hcl": goodLab})
	if out, _, code := run(t, dir, "", "state", "list"); code != 0 || out != "" {
		t.Fatalf("state list without state: %d %q", code, out)
	}
	if out, _, code := run(t, dir, "", "show"); code != 0 || !strings.Contains(out, "empty") {
		t.Fatalf("show without state: %d %q", code, out)
	}
	if out, _, code := run(t, dir, "", "test"); code != 1 {
		t.Fatalf("test on an unapplied lab: %d %q", code, out)
	}
	// A lock held by a live process (this test) is refused and named.
	os.MkdirAll(filepath.Join(dir, ".labnet"), 0o700)
	host, _ := os.Hostname()
	lock := `{"pid":` + itoa(os.Getpid()) + `,"hostname":"` + host + `","op":"apply","created":"2026-01-01T00:00:00Z"}`
	os.WriteFile(filepath.Join(dir, ".labnet", "lock"), []byte(lock), 0o600)
	_, errOut, code := run(t, dir, "", "apply", "-auto-approve")
	if code != 1 || !strings.Contains(errOut, "locked by `labnet apply` (pid "+itoa(os.Getpid())) || strings.Contains(errOut, "stale") {
		t.Fatalf("locked apply: %d %q", code, errOut)
	}
	// A lock of a dead process is stale and can be broken.
	os.WriteFile(filepath.Join(dir, ".labnet", "lock"), []byte(strings.Replace(lock, itoa(os.Getpid()), "999999999", 1)), 0o600)
	_, errOut, _ = run(t, dir, "", "plan")
	if !strings.Contains(errOut, "stale") || !strings.Contains(errOut, "force-unlock") {
		t.Fatalf("stale lock not reported: %q", errOut)
	}
	out, _, code := run(t, dir, "", "force-unlock")
	if code != 0 || !strings.Contains(out, "Removed the lock") {
		t.Fatalf("force-unlock: %d %q", code, out)
	}
	if _, err := os.Stat(filepath.Join(dir, ".labnet", "lock")); err == nil {
		t.Fatal("lock still there")
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func TestGraph(t *testing.T) {
	dir := writeLab(t, map[string]string{"main.hcl": goodLab})
	out, _, code := run(t, dir, "", "graph")
	if code != 0 || !strings.HasPrefix(out, `graph "clitest" {`) || !strings.Contains(out, "n_container_c") || !strings.Contains(out, "172.20.0.2") {
		t.Fatalf("graph dot: %d\n%s", code, out)
	}
	out, _, code = run(t, dir, "", "graph", "-format=mermaid")
	if code != 0 || !strings.HasPrefix(out, "flowchart LR") || !strings.Contains(out, "subgraph") {
		t.Fatalf("graph mermaid: %d\n%s", code, out)
	}
	_, errOut, code := run(t, dir, "", "graph", "-format=png")
	if code != 1 || !strings.Contains(errOut, "dot, mermaid or svg") {
		t.Fatalf("bad format: %d %q", code, errOut)
	}
}

func TestValidateJSON(t *testing.T) {
	bad := writeLab(t, map[string]string{"main.hcl": "lab { name = \"bad\" }\nnetwork \"lan\" {\n  cidr = \"10.0.0.0/40\"\n}\n"})
	out, _, code := run(t, bad, "", "validate", "-json")
	var v struct {
		Valid       bool `json:"valid"`
		ErrorCount  int  `json:"error_count"`
		Diagnostics []struct {
			Range struct {
				Filename string `json:"filename"`
				Start    struct{ Line, Column int }
			} `json:"range"`
		} `json:"diagnostics"`
	}
	if code != 1 || json.Unmarshal([]byte(out), &v) != nil || v.Valid || v.ErrorCount != 1 || v.Diagnostics[0].Range.Start.Line != 3 {
		t.Fatalf("validate -json: %d %+v\n%s", code, v, out)
	}
}

func TestInitAndCompletion(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "mylab")
	os.Mkdir(dir, 0o755)
	out, _, code := run(t, dir, "", "init", "-list")
	for _, l := range []string{"bare-metal", "docker", "kubernetes-flat", "routing", "sdn", "vms"} {
		if code != 0 || !strings.Contains(out, l+"\n") {
			t.Fatalf("init -list lacks %s: %q", l, out)
		}
	}
	if _, _, code := run(t, dir, "", "init", "sdn"); code != 0 {
		t.Fatal("init sdn failed")
	}
	out, errOut, code := run(t, dir, "", "validate")
	if code != 0 || !strings.Contains(out, `Lab "mylab" is valid`) {
		t.Fatalf("a lab made by init does not validate under its directory's name: %q %q", out, errOut)
	}
	if _, errOut, code := run(t, dir, "", "init", "sdn"); code != 1 || !strings.Contains(errOut, "exists already") {
		t.Fatalf("init over an existing lab: %d %q", code, errOut)
	}
	// A template's files in subdirectories come along (routing's FRR
	// configuration templates, which its lab file renders).
	rdir := filepath.Join(t.TempDir(), "myrouting")
	os.Mkdir(rdir, 0o755)
	if out, errOut, code := run(t, rdir, "", "init", "routing"); code != 0 || !strings.Contains(out, "wrote frr/ospfd.conf.tftpl") {
		t.Fatalf("init routing: %d %q %q", code, out, errOut)
	}
	if out, errOut, code := run(t, rdir, "", "validate"); code != 0 || !strings.Contains(out, `Lab "myrouting" is valid`) {
		t.Fatalf("the routing lab made by init does not validate: %q %q", out, errOut)
	}
	if _, errOut, code := run(t, dir, "", "init", "nope"); code != 1 || !strings.Contains(errOut, "templates: bare-metal") {
		t.Fatalf("unknown template: %d %q", code, errOut)
	}
	for _, sh := range []string{"bash", "zsh", "fish"} {
		out, _, code := run(t, ".", "", "completion", sh)
		if code != 0 || !strings.Contains(out, "labnet") || !strings.Contains(out, "inspect") {
			t.Fatalf("completion %s: %d %q", sh, code, out)
		}
	}
}

func TestTestRunRegexp(t *testing.T) {
	dir := writeLab(t, map[string]string{"main.hcl": goodLab})
	os.MkdirAll(filepath.Join(dir, ".labnet"), 0o700)
	os.WriteFile(filepath.Join(dir, ".labnet", "state.json"), []byte(`{"version":2,"serial":1,"lineage":"x","lab":"clitest","resources":[{"addr":"network.lan","kind":"network","spec":{"name":"lan","cidr":"192.168.60.0/24","gateway":"192.168.60.254"}}]}`), 0o600)
	_, errOut, code := run(t, dir, "", "test", "-run", "([")
	if code != 1 || !strings.Contains(errOut, "-run") {
		t.Fatalf("bad -run: %d %q", code, errOut)
	}
	out, _, code := run(t, dir, "", "test", "-run", "nothing-matches")
	if code != 0 || !strings.Contains(out, "No check to run") {
		t.Fatalf("-run with no match: %d %q", code, out)
	}
}

// Every command explains itself with examples.
func TestHelpOnEveryCommand(t *testing.T) {
	for _, c := range commands {
		if c == "help" || c == "version" {
			continue
		}
		args := []string{c, "-h"}
		if c == "state" {
			args = []string{"state", "list", "-h"}
		}
		_, errOut, _ := run(t, ".", "", args...)
		if !strings.Contains(errOut, "Usage: labnet "+c) || !strings.Contains(errOut, "Example") {
			t.Errorf("labnet %s -h lacks usage or examples:\n%s", c, errOut)
		}
	}
}

// Each command takes the shared flags it uses and no others: a flag a
// command ignored would be accepted without a word.
func TestFlagsPerCommand(t *testing.T) {
	cases := []struct {
		cmd   []string
		takes []string // in its help
		not   []string // refused as undefined
	}{
		{[]string{"plan"}, []string{"-target", "-replace", "-parallelism int\n    \thosts worked on at once (default 10)"}, nil},
		{[]string{"apply"}, []string{"-target", "-replace", "-parallelism"}, nil},
		{[]string{"destroy"}, []string{"-target", "-parallelism"}, nil},
		{[]string{"test"}, []string{"-parallelism int\n    \tchecks run at once (default 50)", "-var"}, []string{"-target=x", "-replace=x"}},
		{[]string{"inspect"}, []string{"-parallelism int\n    \thosts read at once (default 10)"}, []string{"-target=x"}},
		{[]string{"graph"}, []string{"-var"}, []string{"-target=x", "-parallelism=2"}},
		{[]string{"output"}, []string{"-state"}, []string{"-replace=x", "-parallelism=2"}},
		{[]string{"exec"}, []string{"-state", "-var", "-var-file"}, []string{"-target=x", "-parallelism=2"}},
		{[]string{"ssh"}, []string{"-state", "-var"}, []string{"-target=x"}},
		{[]string{"capture"}, []string{"-state", "-var"}, []string{"-target=x"}},
	}
	for _, tc := range cases {
		_, help, _ := run(t, ".", "", append(tc.cmd, "-h")...)
		for _, f := range tc.takes {
			if !strings.Contains(help, f) {
				t.Errorf("labnet %s -h lacks %q:\n%s", tc.cmd[0], f, help)
			}
		}
		for _, f := range tc.not {
			_, errOut, code := run(t, ".", "", append(tc.cmd, f)...)
			if code != 1 || !strings.Contains(errOut, "flag provided but not defined") {
				t.Errorf("labnet %s %s: exit %d, %q; want it refused", tc.cmd[0], f, code, errOut)
			}
		}
	}
}

// Variables from the environment, and no colour when not on a terminal.
func TestEnvVarsAndNoColor(t *testing.T) {
	dir := writeLab(t, map[string]string{"main.hcl": goodLab + "variable \"n\" {\n  type = number\n  default = 1\n}\noutput \"n\" { value = var.n }\n"})
	t.Setenv("LABNET_VAR_n", "7")
	out, _, code := run(t, dir, "", "output", "n")
	if code != 0 || out != "7\n" {
		t.Fatalf("LABNET_VAR_n: %d %q", code, out)
	}
	if out, _, _ = run(t, dir, "", "output", "-var", "n=8", "n"); out != "8\n" {
		t.Fatalf("-var beats LABNET_VAR_: %q", out)
	}
	_, errOut, _ := run(t, dir, "", "validate", "-var", "nope=1")
	if strings.Contains(errOut, "\x1b[") || strings.Contains(out, "\x1b[") {
		t.Fatalf("colour codes off a terminal: %q", errOut)
	}
}

// *.auto.vars files set variables; -var-file and -var win over them.
func TestAutoVarFiles(t *testing.T) {
	dir := writeLab(t, map[string]string{
		"main.hcl":      goodLab + "variable \"n\" {\n  type = number\n  default = 1\n}\noutput \"n\" { value = var.n }\n",
		"lab.auto.vars": "n = 5\n",
		"other.vars":    "n = 6\n",
	})
	if out, _, code := run(t, dir, "", "output", "n"); code != 0 || out != "5\n" {
		t.Fatalf("auto vars: %d %q", code, out)
	}
	if out, _, _ := run(t, dir, "", "output", "-var-file=other.vars", "n"); out != "6\n" {
		t.Fatalf("-var-file over auto vars: %q", out)
	}
}

type countingWriter struct {
	bytes.Buffer
	writes int
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.writes++
	return w.Buffer.Write(p)
}

// TestProgressOneWritePerBatch: the events of one host's script are
// printed with one write (2,000 lines for 1,000 containers were 2,000
// unbuffered writes), in Terraform's words.
func TestProgressOneWritePerBatch(t *testing.T) {
	var w countingWriter
	u := &ui{stdout: &w}
	u.progress(
		apply.Event{Addr: "container.c[0]", Action: plan.Delete, Phase: "start"},
		apply.Event{Addr: "container.c[1]", Action: plan.Create, Phase: "done", Elapsed: 1500 * time.Microsecond},
		apply.Event{Addr: "container.c[2]", Action: plan.Update, Phase: "failed", Elapsed: 2 * time.Second},
		apply.Event{Addr: "container.c[3]", Action: plan.Replace, Phase: "skipped", Err: errors.New("host.h failed")},
	)
	want := "container.c[0]: Destroying...\n" +
		"container.c[1]: Creation complete after 2ms\n" +
		"container.c[2]: Modifications failed after 2s\n" +
		"container.c[3]: skipped (host.h failed)\n"
	if w.String() != want || w.writes != 1 {
		t.Errorf("%d writes of\n%s\nwant 1 of\n%s", w.writes, w.String(), want)
	}
}

// TestBrokenStateStopsFirst: a state value broken by hand, in a version 2
// state or in a version 1 state being upgraded, stops plan, apply,
// destroy and exec with the resource and attribute named, before any host
// is read (the lab's netns host does not even exist here).
func TestBrokenStateStopsFirst(t *testing.T) {
	for _, tt := range []struct{ state, want string }{
		{`{"version":2,"serial":3,"lineage":"x","lab":"clitest","resources":[` +
			`{"addr":"bridge.br","kind":"bridge","host":"host.a","spec":{"host":"host.a","ifname":"br","cidr":"172.20.0.0/24","gateway":"172.20.0.300","masquerade":false}}]}`,
			`.labnet/state.json: bridge.br: attribute "gateway": ParseAddr("172.20.0.300"): IPv4 field has value >255 (fix the value in .labnet/state.json;`},
		{`{"version":1,"serial":3,"lineage":"x","lab":"clitest","resources":[` +
			`{"addr":"bridge.br","kind":"bridge","host":"host.a","attrs":{"host":"host.a","ifname":"br","cidr":"172.20.0.0/24","gateway":"172.20.0.300","masquerade":"false"}}]}`,
			`.labnet/state.json: upgrading from version 1: bridge.br: attribute "gateway" ("172.20.0.300")`},
	} {
		dir := writeLab(t, map[string]string{"main.hcl": goodLab})
		if err := os.MkdirAll(filepath.Join(dir, ".labnet"), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, ".labnet", "state.json"), []byte(tt.state), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, args := range [][]string{{"plan"}, {"apply", "-auto-approve"}, {"destroy", "-auto-approve"}, {"exec", "host.a", "true"}} {
			_, errOut, code := run(t, dir, "", args...)
			if code != 1 || !strings.Contains(errOut, tt.want) {
				t.Errorf("%v: exit %d\n%s", args, code, errOut)
			}
		}
	}
}

// TestPlanFromAVersion1State: the docker lab's state as the labnet before
// version 2 wrote it (kinds/testdata/v1) plans nothing to do, and show
// prints its attributes, without a host (plan -refresh=false).
func TestPlanFromAVersion1State(t *testing.T) {
	src := filepath.Join("..", "kinds", "testdata", "v1", "docker")
	hcl, err := os.ReadFile(filepath.Join(src, "main.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	v1, err := os.ReadFile(filepath.Join(src, "state.json"))
	if err != nil {
		t.Fatal(err)
	}
	dir := writeLab(t, map[string]string{"main.hcl": string(hcl)})
	if err := os.MkdirAll(filepath.Join(dir, ".labnet"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".labnet", "state.json"), v1, 0o600); err != nil {
		t.Fatal(err)
	}
	// Containers gained their own mount and UTS namespaces after version
	// 1: plan remakes them and their processes for that, and nothing else.
	out, errOut, code := run(t, dir, "", "plan", "-refresh=false")
	if code != 0 || !strings.Contains(out, "Plan: 6 to add, 0 to change, 6 to destroy.") || !strings.Contains(out, `+ mount_ns      = "/run/labnet/tsdock/ns/web-1.mnt"`) {
		t.Errorf("plan: exit %d\n%s%s", code, out, errOut)
	}
	if out, errOut, code := run(t, dir, "", "show"); code != 0 || !strings.Contains(out, "# container.web[0]") || !strings.Contains(out, `ports            = "8080/tcp->80"`) {
		t.Errorf("show: exit %d\n%s%s", code, out, errOut)
	}
}

// TestValidateExpectOutput: expect_output must be a regular expression,
// on an exec check.
func TestValidateCheckProbes(t *testing.T) {
	for probe, want := range map[string]string{
		`exec = "true"` + "\n  expect_output = \"(\"":           `expect_output is not a regular expression`,
		`tcp = 80` + "\n  to = host.h\n  expect_output = \"x\"": `expect_output is for exec checks, not tcp checks`,
		`route = "10.0.4.1/24"`:                                 `10.0.4.1/24 is not a network address; use 10.0.4.0/24`,
		`route = "fe80::/64"`:                                   `is not an IPv4 destination`,
		`route = "default"` + "\n  nexthops = 0":                `nexthops must be a whole number from 1 to 64`,
		`route = "default"` + "\n  via = [\"x\"]":               `"x" in via is not an IPv4 address`,
		`exec = "true"` + "\n  nexthops = 2":                    `nexthops is for route checks, not exec checks`,
	} {
		dir := writeLab(t, map[string]string{"main.hcl": "lab { name = \"w\" }\nnetwork \"lan\" { cidr = \"192.168.60.0/24\" }\nhost \"h\" { network = network.lan }\ncheck \"c\" {\n  from = host.h\n  " + probe + "\n}\n"})
		_, errOut, code := run(t, dir, "", "validate")
		if code != 1 || !strings.Contains(errOut, want) || !strings.Contains(errOut, "main.hcl:") {
			t.Errorf("%s: exit %d, want %q in\n%s", probe, code, want, errOut)
		}
	}
}
