package hostnet

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/labnet-dev/labnet/internal/testutil"
)

// shells are the POSIX shells found here; scripts run under /bin/sh on
// hosts, which is dash on Debian and bash on others.
func shells(t *testing.T) [][]string {
	t.Helper()
	l := [][]string{{"sh"}}
	if _, err := exec.LookPath("dash"); err == nil {
		l = append(l, []string{"dash"})
	}
	if _, err := exec.LookPath("bash"); err == nil {
		l = append(l, []string{"bash", "--posix"})
	}
	return l
}

// checkSyntax fails the test when a shell cannot parse script.
func checkSyntax(t *testing.T, script string) {
	t.Helper()
	f := filepath.Join(t.TempDir(), "script.sh")
	if err := os.WriteFile(f, []byte(script), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, sh := range shells(t) {
		out, err := exec.Command(sh[0], append(sh[1:], "-n", f)...).CombinedOutput()
		if err != nil || len(out) > 0 {
			t.Errorf("%s -n: %v\n%s\nscript:\n%s", strings.Join(sh, " "), err, out, numbered(script))
		}
	}
}

func numbered(s string) string {
	var b strings.Builder
	for i, l := range strings.Split(s, "\n") {
		fmt.Fprintf(&b, "%4d  %s\n", i+1, l)
	}
	return b.String()
}

var (
	names   = Names{Lab: "docker"}
	bridge0 = Bridge{Addr: "bridge.docker0[0]", Ifname: "docker0", CIDR: netip.MustParsePrefix("172.17.0.0/16"), Gateway: netip.MustParseAddr("172.17.0.1")}
	web0    = Container{Addr: "container.web[0]", Netns: names.Netns("web-0"), HostVeth: names.HostVeth("container.web[0]"), Bridge: "docker0",
		Address: netip.MustParseAddr("172.17.0.2"), Bits: 16, Gateway: netip.MustParseAddr("172.17.0.1")}
	proc0 = Process{Addr: "process.web[0]", Owner: names.Owner("node-0", "process.web[0]"), Netns: names.Netns("web-0"),
		Command: []string{"python3", "-m", "http.server", "8000"}, Log: names.LogFile("web-0")}
)

// mixedScript is what one host does in one stage of a docker lab apply.
func mixedScript() Script {
	return Script{
		Header: HostPrep(names),
		Steps: []Step{
			{ID: 3, Batch: bridge0.CreateBatch(names)},
			{ID: 5, Batch: web0.CreateBatch(names), Inside: web0.Inside(names)},
			{ID: 6, Batch: web0.RepairBatch(names)},
			{ID: 8, Shell: NftApplyShell(names, node0Rules)},
			{ID: 9, Shell: proc0.StartShell(), Verify: proc0.Verify()},
			{ID: 11, Shell: "true", Verify: "test -e /run/labnet/docker"},
			{ID: 12}, // a deletion with nothing left to delete
		},
	}
}

func TestRenderGolden(t *testing.T) {
	golden(t, "render_mixed.golden", []byte(mixedScript().Render()))
	golden(t, "render_batch_only.golden", []byte(Script{Steps: []Step{
		{ID: 0, Batch: []string{"link del dev lnae9f3ff2af", "netns del ln.docker.web-0"}},
		{ID: 1, Batch: bridge0.DeleteBatch()},
	}}.Render()))
}

func TestRenderSyntax(t *testing.T) {
	scripts := map[string]Script{
		"mixed":         mixedScript(),
		"empty":         {},
		"header only":   {Header: HostPrep(names)},
		"shell only":    {Steps: []Step{{ID: 0, Shell: proc0.StopShell()}}},
		"here-docs":     {Header: "cat <<'EOF'\nx\nEOF", Steps: []Step{{ID: 0, Inside: web0.Inside(names)}, {ID: 1, Shell: NftApplyShell(names, nil)}, {ID: 2, Shell: "true", Verify: "cat <<'V'\ny\nV\n\n"}}},
		"trailing amp":  {Steps: []Step{{ID: 0, Shell: "sleep 0 &"}}},
		"comment last":  {Steps: []Step{{ID: 0, Shell: "true # done"}, {ID: 1, Shell: "true", Verify: "true # done"}}},
		"nothing to do": {Steps: []Step{{ID: 0}, {ID: 1}}},
	}
	for name, s := range scripts {
		t.Run(name, func(t *testing.T) { checkSyntax(t, s.Render()) })
	}
}

// The syntax check itself must be able to fail, in particular on a
// here-document whose terminator was indented.
func TestCheckSyntaxCatchesBrokenHereDoc(t *testing.T) {
	bad := "out=$( {\n  cat <<'X'\n  a\n  X\n} 2>&1 ); rc=$?\n"
	f := filepath.Join(t.TempDir(), "bad.sh")
	if err := os.WriteFile(f, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, sh := range shells(t) {
		if err := exec.Command(sh[0], append(sh[1:], "-n", f)...).Run(); err == nil {
			t.Errorf("%s -n accepts an unterminated here-document", sh[0])
		}
	}
	// Render keeps here-document terminators at the start of their line.
	r := mixedScript().Render()
	for _, term := range []string{"\nLABNET_BATCH\n", "\nLABNET_INSIDE\n", "\nLABNET_NFT\n"} {
		if !strings.Contains(r, term) {
			t.Errorf("rendered script lacks terminator line %q", strings.TrimSpace(term))
		}
	}
}

// fakeIP stands in for iproute2's ip: it logs its argv and every batch
// line, and fails lines mentioning missing0, exists0 or multi0 the way
// `ip -force -batch -` does: message line(s), then "Command failed -:N"
// on stderr, going on with the next line only under -force.
const fakeIP = `#!/bin/sh
log=${FAKE_IP_LOG:-/dev/null}
echo "argv: $*" >>"$log"
case " $* " in *" -batch "*) ;; *) exit 0;; esac
if [ -n "${FAKE_IP_EXIT:-}" ]; then
  echo "${FAKE_IP_MSG:-}" >&2
  exit "$FAKE_IP_EXIT"
fi
n=0; rc=0
while IFS= read -r line; do
  n=$((n+1))
  echo "line $n: $line" >>"$log"
  case "$line" in
  *missing0*) echo 'Cannot find device "missing0"' >&2 ;;
  *exists0*) echo 'RTNETLINK answers: File exists' >&2 ;;
  *multi0*) printf 'Error: first problem.\nError: second problem.\n' >&2 ;;
  *) continue ;;
  esac
  echo "Command failed -:$n" >&2
  rc=1
  case " $* " in *" -force "*) ;; *) break ;; esac
done
exit $rc
`

type run struct {
	dir    string // holds marks/ and the ip log
	stdout []byte
	out    Outcome
}

func (r run) ipLog(t *testing.T) string {
	b, err := os.ReadFile(filepath.Join(r.dir, "ip.log"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return string(b)
}

func (r run) file(t *testing.T, name string) string {
	b, err := os.ReadFile(filepath.Join(r.dir, name))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return string(b)
}

// runScript renders s and runs it with sh and the fake ip first on PATH,
// in a temporary directory (the working directory of the script).
func runScript(t *testing.T, s Script, env ...string) run {
	t.Helper()
	dir, out := runText(t, s.Render(), env...)
	return run{dir: dir, stdout: out, out: s.ParseOutcome(out)}
}

// runText runs a script's text as runScript does; it returns the directory
// and the script's stdout.
func runText(t *testing.T, text string, env ...string) (string, []byte) {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bin, "ip"), []byte(fakeIP), 0o755); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(dir, "script.sh")
	if err := os.WriteFile(script, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "FAKE_IP_LOG="+filepath.Join(dir, "ip.log"))
	cmd.Env = append(cmd.Env, env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("script failed: %v\nstderr: %s\nstdout: %s", err, stderr.String(), out)
	}
	return dir, out
}

// Then runs a script and a stage's steps after it in one script;
// SplitThen gives each its own output.
func TestThen(t *testing.T) {
	first := "echo @@links\necho first ran\necho @@end\n"
	s := Script{Steps: []Step{
		{ID: 0, Batch: []string{"netns del a"}},
		{ID: 1, Batch: []string{"link set dev missing0 up"}},
		{ID: 2, Batch: []string{"netns del b"}},
	}}
	_, out := runText(t, Then(first, s.Render()))
	mine, rest := SplitThen(out)
	if string(mine) != "@@links\nfirst ran\n@@end\n" {
		t.Errorf("first's output %q\nwhole output:\n%s", mine, out)
	}
	got := s.ParseOutcome(rest)
	if len(got) != 3 || got[0] != nil || got[2] != nil || !strings.Contains(errText(got[1]), `Cannot find device "missing0"`) {
		t.Errorf("outcome %v\nthe steps' output:\n%s", got, rest)
	}
	// first printed nothing.
	if mine, rest := SplitThen([]byte("@@then\n@@batch\n")); mine != nil || string(rest) != "@@batch\n" {
		t.Errorf("split of an empty first: %q, %q", mine, rest)
	}
	// first ended the shell: everything is its own, and no step reports.
	mine, rest = SplitThen([]byte("@@links\n"))
	if string(mine) != "@@links\n" || rest != nil {
		t.Errorf("split without @@then: %q, %q", mine, rest)
	}
	for id, err := range s.ParseOutcome(rest) {
		if err == nil {
			t.Errorf("step %d succeeded without a report", id)
		}
	}
}

func errText(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

func TestOutcomeAllSucceed(t *testing.T) {
	s := Script{
		Header: "echo prepared >>marks",
		Steps: []Step{
			{ID: 0, Batch: []string{"link add name a0 type bridge", "link set dev a0 up"}, Shell: "echo shell0 >>marks"},
			{ID: 1, Batch: []string{"link add name b0 type bridge"}},
			{ID: 2, Shell: "echo shell2 >>marks"},
			{ID: 3},
			{ID: 4, Shell: "cat <<'EOF' >>marks\nshell4\nEOF"},
		},
	}
	r := runScript(t, s)
	want := Outcome{0: nil, 1: nil, 2: nil, 3: nil, 4: nil}
	if !reflect.DeepEqual(r.out, want) {
		t.Fatalf("outcome = %v, want all nil\nstdout:\n%s", r.out, r.stdout)
	}
	if got := r.file(t, "marks"); got != "prepared\nshell0\nshell2\nshell4\n" {
		t.Errorf("marks = %q", got)
	}
	// One ip process for every batch line of the stage, in step order;
	// the here-document of step 4 reaches its command intact.
	wantLog := "argv: -force -batch -\n" +
		"line 1: link add name a0 type bridge\nline 2: link set dev a0 up\nline 3: link add name b0 type bridge\n"
	if got := r.ipLog(t); got != wantLog {
		t.Errorf("ip log:\n%s\nwant:\n%s", got, wantLog)
	}
}

func TestOutcomeBatchFailures(t *testing.T) {
	s := Script{Steps: []Step{
		{ID: 10, Batch: []string{"link add name a0 type bridge", "link set dev a0 up"}, Shell: "echo shell10 >>marks"},
		{ID: 11, Batch: []string{"link add name b0 type bridge", "link set dev missing0 master b0", "link set dev b0 up"}, Shell: "echo shell11 >>marks"},
		{ID: 12, Batch: []string{"link add name multi0 type veth"}, Shell: "echo shell12 >>marks", Verify: "echo verify12 >>marks"},
		{ID: 13, Batch: []string{"link add name exists0 type bridge", "addr add 10.0.0.1/24 dev missing0"}},
		{ID: 14, Batch: []string{"link add name c0 type bridge"}, Shell: "echo shell14 >>marks", Verify: "echo verify14 >>marks"},
	}}
	r := runScript(t, s)
	wantErr := map[int]string{
		10: "<nil>",
		11: `ip link set dev missing0 master b0: Cannot find device "missing0"`,
		12: "ip link add name multi0 type veth: Error: first problem. Error: second problem.",
		13: `ip link add name exists0 type bridge: RTNETLINK answers: File exists; ip addr add 10.0.0.1/24 dev missing0: Cannot find device "missing0"`,
		14: "<nil>",
	}
	if len(r.out) != len(wantErr) {
		t.Errorf("outcome has %d steps, want %d: %v", len(r.out), len(wantErr), r.out)
	}
	for id, want := range wantErr {
		if got := errText(r.out[id]); got != want {
			t.Errorf("step %d: error %q, want %q", id, got, want)
		}
	}
	// Shells (and verifies) of steps whose batch failed do not run.
	if got := r.file(t, "marks"); got != "shell10\nshell14\nverify14\n" {
		t.Errorf("marks = %q, want only steps 10 and 14", got)
	}
	// -force: lines after a failure still run, in one ip process.
	log := r.ipLog(t)
	if strings.Count(log, "argv:") != 1 || !strings.Contains(log, "line 8: addr add 10.0.0.1/24 dev missing0\n") {
		t.Errorf("ip log:\n%s", log)
	}
}

func TestOutcomeShellFailure(t *testing.T) {
	s := Script{Steps: []Step{
		{ID: 0, Batch: []string{"link add name a0 type bridge"}, Shell: "echo partial; echo 'bad thing happened' >&2; exit 3"},
		{ID: 1, Shell: "echo shell1 >>marks"},
		{ID: 2, Shell: "false"},
		{ID: 3, Shell: "printf 'first\\n\\nthird\\n' >&2; false"},
	}}
	r := runScript(t, s)
	if se, ok := r.out[0].(*StepError); !ok || !reflect.DeepEqual(se.Lines, []string{"partial", "bad thing happened"}) {
		t.Errorf("step 0: %#v, want lines [partial, bad thing happened]\nstdout:\n%s", r.out[0], r.stdout)
	}
	if !strings.Contains(string(r.stdout), "@@fail 0\n") {
		t.Errorf("no @@fail 0 in\n%s", r.stdout)
	}
	if r.out[1] != nil {
		t.Errorf("step 1: %v", r.out[1])
	}
	if got := errText(r.out[2]); got != "failed without a message" {
		t.Errorf("step 2: %q", got)
	}
	if got := errText(r.out[3]); got != "first; third" {
		t.Errorf("step 3: %q", got)
	}
	if got := r.file(t, "marks"); got != "shell1\n" {
		t.Errorf("marks = %q", got)
	}
}

func TestOutcomeVerifyRunsAfterAllShells(t *testing.T) {
	s := Script{Steps: []Step{
		{ID: 0, Shell: "echo shell0 >>order", Verify: "echo verify0 >>order"},
		{ID: 1, Shell: "echo shell1 >>order"},
		{ID: 2, Shell: "echo shell2 >>order", Verify: "echo verify2 >>order; echo 'not running' ; exit 1"},
		{ID: 3, Shell: "echo shell3 >>order; false", Verify: "echo verify3 >>order"},
		{ID: 4, Shell: ":", Verify: "echo verify4 >>order"},
		{ID: 5, Batch: []string{"link del dev missing0"}, Shell: "echo shell5 >>order", Verify: "echo verify5 >>order"},
		{ID: 6, Shell: "echo shell6 >>order"},
	}}
	r := runScript(t, s)
	if got, want := r.file(t, "order"), "shell0\nshell1\nshell2\nshell3\nshell6\nverify0\nverify2\nverify4\n"; got != want {
		t.Errorf("order:\n%s\nwant:\n%s", got, want)
	}
	want := map[int]string{0: "<nil>", 1: "<nil>", 2: "not running", 3: "failed without a message", 4: "<nil>",
		5: `ip link del dev missing0: Cannot find device "missing0"`, 6: "<nil>"}
	for id, w := range want {
		if got := errText(r.out[id]); got != w {
			t.Errorf("step %d: %q, want %q", id, got, w)
		}
	}
	// Each step is reported exactly once.
	for id := range want {
		ok := strings.Count(string(r.stdout), "@@ok "+strconv.Itoa(id)+"\n")
		fail := strings.Count(string(r.stdout), "@@fail "+strconv.Itoa(id)+"\n")
		if ok+fail > 1 {
			t.Errorf("step %d reported %d times:\n%s", id, ok+fail, r.stdout)
		}
	}
}

// Step documents Verify as running after every step's Shell; a step may
// have a Verify and no Shell.
func TestRenderVerifyWithoutShell(t *testing.T) {
	s := Script{Steps: []Step{
		{ID: 0, Shell: "echo shell0 >>order"},
		{ID: 1, Verify: "echo verify1 >>order"},
		{ID: 2, Batch: []string{"link add name a0 type bridge"}, Verify: "echo verify2 >>order; false"},
	}}
	checkSyntax(t, s.Render())
	r := runScript(t, s)
	if got := r.file(t, "order"); got != "shell0\nverify1\nverify2\n" {
		t.Errorf("order = %q", got)
	}
	if r.out[0] != nil || r.out[1] != nil || r.out[2] == nil {
		t.Errorf("outcome = %v, want only step 2 failed", r.out)
	}
}

func TestOutcomeHeaderFailureFailsEveryStep(t *testing.T) {
	s := Script{
		Header: "echo 'mkdir: cannot create directory: Read-only file system' >&2\necho second line\nfalse",
		Steps: []Step{
			{ID: 2, Batch: []string{"link add name a0 type bridge"}, Shell: "echo shell2 >>marks"},
			{ID: 4, Shell: "echo shell4 >>marks", Verify: "echo verify4 >>marks"},
			{ID: 7},
		},
	}
	r := runScript(t, s)
	for _, id := range []int{2, 4, 7} {
		if got, want := errText(r.out[id]), "mkdir: cannot create directory: Read-only file system; second line"; got != want {
			t.Errorf("step %d: %q, want %q", id, got, want)
		}
	}
	if log := r.ipLog(t); log != "" {
		t.Errorf("ip ran after the header failed:\n%s", log)
	}
	if m := r.file(t, "marks"); m != "" {
		t.Errorf("steps ran after the header failed: %q", m)
	}
}

// If ip itself cannot run (not installed, killed), no "Command failed"
// line is printed: steps with batch lines must not be reported done.
func TestOutcomeIPDoesNotRun(t *testing.T) {
	s := Script{Steps: []Step{
		{ID: 0, Batch: []string{"link add name a0 type bridge"}, Shell: "echo shell0 >>marks"},
		{ID: 1, Shell: "true"},
	}}
	r := runScript(t, s, "FAKE_IP_EXIT=127", "FAKE_IP_MSG=sh: 1: ip: not found")
	if r.out[0] == nil {
		t.Errorf("step 0 reported done though ip did not run; stdout:\n%s", r.stdout)
	} else if !strings.Contains(r.out[0].Error(), "ip: not found") {
		t.Errorf("step 0 error %q does not say why", r.out[0])
	}
	if r.out[1] != nil {
		t.Errorf("step 1 (no batch) failed: %v", r.out[1])
	}
	if m := r.file(t, "marks"); m != "" {
		t.Errorf("shell of step 0 ran: %q", m)
	}
}

func TestParseOutcomeWithoutRunning(t *testing.T) {
	s := Script{Steps: []Step{
		{ID: 0, Batch: []string{"link add name a type bridge", "link set dev a up"}},
		{ID: 1, Batch: []string{"link add name b type bridge"}},
		{ID: 2, Shell: "x"},
		{ID: 3, Shell: "y"},
	}}
	tests := []struct {
		name   string
		stdout string
		want   map[int]string
	}{
		{"script ended early", "@@batch\n", map[int]string{0: "<nil>", 1: "<nil>",
			2: "no report from host (script ended early)", 3: "no report from host (script ended early)"}},
		{"no output", "", map[int]string{0: "no report from host (script ended early)", 1: "no report from host (script ended early)",
			2: "no report from host (script ended early)", 3: "no report from host (script ended early)"}},
		{"ip failure wins over a later ok", "@@ip oops\n@@ip Command failed -:2\n@@batch\n@@ok 0\n@@ok 1\n@@ok 2\n@@ok 3\n",
			map[int]string{0: "ip link set dev a up: oops", 1: "<nil>", 2: "<nil>", 3: "<nil>"}},
		{"messages belong to the next failed line only", "@@ip first\n@@ip Command failed -:1\n@@ip \n@@ip second\n@@ip Command failed -:3\n@@ok 2\n@@ok 3\n",
			map[int]string{0: "ip link add name a type bridge: first", 1: "ip link add name b type bridge: second", 2: "<nil>", 3: "<nil>"}},
		{"err lines collect", "@@ok 0\n@@ok 1\n@@ok 2\n@@fail 3\n@@err 3 one\n@@err 3 \n@@err 3 two words\n",
			map[int]string{0: "<nil>", 1: "<nil>", 2: "<nil>", 3: "one; two words"}},
		{"batch-only steps are judged by the batch's failed lines", "@@ip oops\n@@ip Command failed -:3\n@@batch\n@@ok 2\n",
			map[int]string{0: "<nil>", 1: "ip link add name b type bridge: oops", 2: "<nil>", 3: "no report from host (script ended early)"}},
		{"the batch did not finish: batch-only steps have no report", "@@ok 2\n@@ok 3\n",
			map[int]string{0: "no report from host (script ended early)", 1: "no report from host (script ended early)", 2: "<nil>", 3: "<nil>"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := s.ParseOutcome([]byte(tt.stdout))
			if len(out) != len(tt.want) {
				t.Errorf("%d results, want %d: %v", len(out), len(tt.want), out)
			}
			for id, w := range tt.want {
				if got := errText(out[id]); got != w {
					t.Errorf("step %d: %q, want %q", id, got, w)
				}
			}
		})
	}
}

func TestIDs(t *testing.T) {
	if got := (Script{Steps: []Step{{ID: 9}, {ID: 2}, {ID: 5}}}).IDs(); !reflect.DeepEqual(got, []int{2, 5, 9}) {
		t.Errorf("IDs = %v", got)
	}
}

// TestRenderUnbind: one python3 unbinds every step's namespace files
// (here plain files: nothing is mounted, which is no error), removes the
// isolation dir its last file leaves empty (not one with a file left or
// only a dot file), and fails only the step whose file cannot go; without
// python3 every unbinding step fails and says why.
func TestRenderUnbind(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("umount2 needs root (it is refused, not found not mounted, otherwise)")
	}
	testutil.NeedTools(t, "python3")
	dir := t.TempDir()
	mk := func(name string) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	a, b := mk("ns1/a.mnt"), mk("ns1/a.uts")
	c, keep := mk("ns2/c.mnt"), mk("ns2/other.mnt")
	bad := filepath.Join(dir, "ns3", "d.mnt")
	if err := os.MkdirAll(filepath.Join(bad, "x"), 0o755); err != nil { // a directory: unlink refuses it
		t.Fatal(err)
	}
	s := Script{Steps: []Step{
		{ID: 0, Batch: []string{"netns del ln.x.a"}, Unbind: &Unbind{Files: []string{a, b}, Dir: filepath.Dir(a)}},
		{ID: 1, Unbind: &Unbind{Files: []string{c, filepath.Join(dir, "ns2", "gone.uts")}, Dir: filepath.Dir(c)}},
		{ID: 2, Unbind: &Unbind{Files: []string{bad}, Dir: filepath.Dir(bad)}},
		{ID: 3, Batch: []string{"netns del ln.x.b"}},
	}}
	checkSyntax(t, s.Render())
	r := runScript(t, s)
	if r.out[0] != nil || r.out[1] != nil || r.out[3] != nil {
		t.Errorf("outcome %v\n%s", r.out, r.stdout)
	}
	if r.out[2] == nil || !strings.Contains(r.out[2].Error(), "Is a directory") {
		t.Errorf("step 2: %v", r.out[2])
	}
	for _, p := range []string{a, b, c, filepath.Dir(a)} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s is still there", p)
		}
	}
	if _, err := os.Stat(keep); err != nil {
		t.Errorf("another container's file went: %v", err)
	}
	// Without python3.
	fake := filepath.Join(t.TempDir(), "python3")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\necho 'python3: not found' >&2\nexit 127\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	r = runScript(t, Script{Steps: []Step{{ID: 5, Unbind: &Unbind{Files: []string{mk("ns4/e.mnt")}}}, {ID: 6, Shell: "true"}}},
		"PATH="+filepath.Dir(fake)+":"+os.Getenv("PATH"))
	if r.out[5] == nil || !strings.Contains(r.out[5].Error(), "namespace files (python3): python3: not found") || r.out[6] != nil {
		t.Errorf("without python3: %v", r.out)
	}
}
