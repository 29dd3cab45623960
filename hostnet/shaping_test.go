package hostnet

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/labnet-dev/labnet/internal/testutil"
)

func TestShapingQdisc(t *testing.T) {
	tests := []struct {
		s           Shaping
		kind, qdisc string
		str         string
		burst       uint64
	}{
		{Shaping{}, "", "", "no shaping", minBurst},
		// 10mbit = 1.25 MB/s: 5000 bytes per 4 ms tick, below the 16 KiB floor.
		{Shaping{Rate: "10mbit", RateBits: 10e6}, "tbf", "tbf rate 10mbit burst 16384 latency 50ms", "tbf rate 10mbit", 16384},
		// 100mbit = 12.5 MB/s: 50000 bytes per tick.
		{Shaping{Rate: "100mbit", RateBits: 100e6}, "tbf", "tbf rate 100mbit burst 50000 latency 50ms", "tbf rate 100mbit", 50000},
		{Shaping{Rate: "1gbps", RateBits: 8e9}, "tbf", "tbf rate 1gbps burst 4000000 latency 50ms", "tbf rate 1gbps", 4000000},
		{Shaping{Delay: 20 * time.Millisecond}, "netem", "netem delay 20ms", "netem delay 20ms", minBurst},
		{Shaping{Loss: 0.5}, "netem", "netem loss 0.5%", "netem loss 0.5%", minBurst},
		{Shaping{Rate: "10mbit", RateBits: 10e6, Delay: 1500 * time.Millisecond, Loss: 1}, "netem",
			"netem delay 1500ms loss 1% rate 10mbit", "netem delay 1.5s loss 1% rate 10mbit", 16384},
		{Shaping{Delay: 250 * time.Microsecond}, "netem", "netem delay 250us", "netem delay 250µs", minBurst},
		{Shaping{Delay: 2 * time.Second}, "netem", "netem delay 2s", "netem delay 2s", minBurst},
		{Shaping{Delay: 1001}, "netem", "netem delay 1001ns", "netem delay 1.001µs", minBurst},
	}
	for _, tt := range tests {
		if got := tt.s.Kind(); got != tt.kind {
			t.Errorf("%+v Kind = %q, want %q", tt.s, got, tt.kind)
		}
		if got := tt.s.Qdisc(); got != tt.qdisc {
			t.Errorf("%+v Qdisc = %q, want %q", tt.s, got, tt.qdisc)
		}
		if got := tt.s.String(); got != tt.str {
			t.Errorf("%+v String = %q, want %q", tt.s, got, tt.str)
		}
		if got := tt.s.Burst(); got != tt.burst {
			t.Errorf("%+v Burst = %d, want %d", tt.s, got, tt.burst)
		}
	}
}

func TestFormatRate(t *testing.T) {
	for bits, want := range map[float64]string{100e6: "100mbit", 1.5e9: "1.5gbit", 8: "8bit", 1000: "1kbit", 187500 * 8: "1.5mbit", 999: "999bit"} {
		if got := FormatRate(bits); got != want {
			t.Errorf("FormatRate(%v) = %q, want %q", bits, got, want)
		}
	}
}

// shapedWeb0 is web0 with a rate, a delay and a loss, on host.node[0].
func shaped(s Shaping) Container {
	c := web0
	c.Host, c.Shape = "host.node[0]", s
	return c
}

func TestShapeShellGolden(t *testing.T) {
	var b strings.Builder
	for _, s := range []Shaping{
		{},
		{Rate: "100mbit", RateBits: 100e6},
		{Delay: 20 * time.Millisecond, Loss: 1},
		{Rate: "10mbit", RateBits: 10e6, Delay: 20 * time.Millisecond},
	} {
		c := shaped(s)
		fmt.Fprintf(&b, "# %s\n%s\n\n", s, c.ShapeShell())
		checkSyntax(t, c.ShapeShell())
	}
	// A create step: the inside configuration, then the shaping.
	c := shaped(Shaping{Rate: "100mbit", RateBits: 100e6})
	golden(t, "shape_shells.golden", []byte(b.String()))
	script := Script{Steps: []Step{{ID: 1, Batch: c.CreateBatch(names), Inside: c.Inside(names), Shell: c.ShapeShell()}}}.Render()
	checkSyntax(t, script)
}

// fakeTC puts a `tc` on PATH that logs its arguments to $dir/log and
// behaves as body says, and returns the environment to run a shell in.
func fakeTC(t *testing.T, body string) (env []string, log string) {
	t.Helper()
	dir := t.TempDir()
	log = filepath.Join(dir, "log")
	src := "#!/bin/sh\necho \"$*\" >>" + log + "\n" + body + "\n"
	if err := os.WriteFile(filepath.Join(dir, "tc"), []byte(src), 0o755); err != nil {
		t.Fatal(err)
	}
	return append(os.Environ(), "PATH="+dir+":"+os.Getenv("PATH")), log
}

func runShell(t *testing.T, sh []string, env []string, script string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(sh[0], append(sh[1:], "-c", script)...)
	cmd.Env = env
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), code
}

// TestShapeShellOutcomes runs ShapeShell against a fake tc in every shell:
// success, a kernel without the qdisc (the message names the module and
// the host), another tc error (passed through), and the conditional
// removal of labnet's qdisc.
func TestShapeShellOutcomes(t *testing.T) {
	netem := shaped(Shaping{Delay: 20 * time.Millisecond})
	tbf := shaped(Shaping{Rate: "10mbit", RateBits: 10e6})
	none := shaped(Shaping{})
	tests := []struct {
		name      string
		c         Container
		tc        string
		code      int
		stderr    string
		wantCalls []string
	}{
		{"netem applied", netem, "exit 0", 0, "", []string{"-n ln.docker.web-0 qdisc replace dev eth0 root netem delay 20ms"}},
		{"netem missing", netem, "echo 'Error: Specified qdisc kind is unknown.' >&2; exit 2", 1,
			"delay/loss need the kernel's netem qdisc (sch_netem), which host.node[0] does not have\n", nil},
		{"tbf missing", tbf, "echo 'Error: Specified qdisc kind is unknown.' >&2; exit 2", 1,
			"rate needs the kernel's tbf qdisc (sch_tbf), which host.node[0] does not have\n", nil},
		{"other tc error", tbf, "echo 'Cannot find device \"eth0\"' >&2; exit 1", 1, "Cannot find device \"eth0\"\n", nil},
		{"tc fails silently", tbf, "exit 127", 1, "\n", nil},
		{"remove tbf", none, `case "$*" in *show*) echo 'qdisc tbf 8001: root refcnt 2 rate 10Mbit burst 16Kb lat 50ms';; esac`, 0, "",
			[]string{"-n ln.docker.web-0 qdisc show dev eth0 root", "-n ln.docker.web-0 qdisc del dev eth0 root"}},
		{"remove netem", none, `case "$*" in *show*) echo 'qdisc netem 8002: root refcnt 2 limit 1000 delay 20ms';; esac`, 0, "",
			[]string{"-n ln.docker.web-0 qdisc show dev eth0 root", "-n ln.docker.web-0 qdisc del dev eth0 root"}},
		{"leave another qdisc", none, `case "$*" in *show*) echo 'qdisc fq_codel 8003: root refcnt 2 limit 10240p';; esac`, 0, "",
			[]string{"-n ln.docker.web-0 qdisc show dev eth0 root"}},
		{"nothing to remove", none, "exit 0", 0, "", []string{"-n ln.docker.web-0 qdisc show dev eth0 root"}},
	}
	for _, sh := range shells(t) {
		for _, tt := range tests {
			t.Run(sh[0]+"/"+tt.name, func(t *testing.T) {
				env, log := fakeTC(t, tt.tc)
				_, stderr, code := runShell(t, sh, env, tt.c.ShapeShell())
				if (code == 0) != (tt.code == 0) || stderr != tt.stderr {
					t.Errorf("exit %d stderr %q, want exit %d stderr %q", code, stderr, tt.code, tt.stderr)
				}
				if tt.wantCalls != nil {
					b, _ := os.ReadFile(log)
					if got := strings.Split(strings.TrimSpace(string(b)), "\n"); !reflect.DeepEqual(got, tt.wantCalls) {
						t.Errorf("tc calls %q, want %q", got, tt.wantCalls)
					}
				}
			})
		}
	}
}

// TestAndThen: the second part runs only after the first succeeded, and
// the joined shell fails when either does.
func TestAndThen(t *testing.T) {
	for _, tt := range []struct {
		first, second string
		out           string
		fails         bool
	}{
		{"echo a", "echo b", "a\nb\n", false},
		{"echo a; false", "echo b", "a\n", true},
		{"echo a", "echo b; false", "a\nb\n", true},
		{"cat <<'X'\nheredoc\nX", "echo b", "heredoc\nb\n", false},
	} {
		out, _, code := runShell(t, []string{"sh"}, os.Environ(), AndThen(tt.first, tt.second))
		if out != tt.out || (code != 0) != tt.fails {
			t.Errorf("AndThen(%q, %q): out %q exit %d", tt.first, tt.second, out, code)
		}
	}
}

// tc -j output: tbf as captured on a 6.x kernel with iproute2 6.1; netem
// as iproute2's netem_print_opt writes it (delay in seconds, loss as a
// fraction, rate in bytes per second).
const (
	tcTbfJSON     = `[{"kind":"tbf","handle":"8002:","root":true,"refcnt":3,"options":{"rate":12500000,"burst":50000,"lat":50000}}]`
	tcNetemJSON   = `[{"kind":"netem","handle":"8001:","root":true,"refcnt":2,"options":{"limit":1000,"delay":{"delay":0.02,"jitter":0},"loss-random":{"loss":0.005},"rate":{"rate":1250000},"ecn":false,"gap":0}}]`
	tcNoqueueJSON = `[{"kind":"noqueue","handle":"0:","root":true,"refcnt":2,"options":{}}]`
)

func TestParseQdiscJSON(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    *Qdisc
		wantErr bool
	}{
		{"tbf", tcTbfJSON, &Qdisc{Kind: "tbf", Read: true, Rate: 12.5e6}, false},
		{"netem", tcNetemJSON, &Qdisc{Kind: "netem", Read: true, Rate: 1.25e6, Delay: 20 * time.Millisecond, Loss: 0.5}, false},
		{"netem delay only", `[{"kind":"netem","handle":"8001:","root":true,"options":{"limit":1000,"delay":{"delay":1.5,"jitter":0},"ecn":false,"gap":0}}]`,
			&Qdisc{Kind: "netem", Read: true, Delay: 1500 * time.Millisecond}, false},
		{"noqueue", tcNoqueueJSON, &Qdisc{Kind: "noqueue", Read: true}, false},
		{"root among children", `[{"kind":"bfifo","handle":"0:","parent":"8002:1","options":{}},` + tcTbfJSON[1:], &Qdisc{Kind: "tbf", Read: true, Rate: 12.5e6}, false},
		{"tbf without options", `[{"kind":"tbf","handle":"8002:","root":true}]`, &Qdisc{Kind: "tbf"}, false},
		{"netem from an old tc", `[{"kind":"netem","handle":"8001:","root":true,"options":{}}]`, &Qdisc{Kind: "netem"}, false},
		{"no root", `[]`, nil, false},
		{"not json", `Cannot find device "eth0"`, nil, true},
	}
	for _, tt := range tests {
		got, err := ParseQdiscJSON([]byte(tt.in))
		if (err != nil) != tt.wantErr || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: got %+v, %v; want %+v (error %v)", tt.name, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestParseObservedQdisc(t *testing.T) {
	eth0 := func(qdisc string) string {
		return `[{"ifname":"lo","flags":["UP"],"qdisc":"noqueue"},{"ifname":"eth0","flags":["UP"],"qdisc":"` + qdisc + `","linkinfo":{"info_kind":"veth"}}]` + "\n[]\n"
	}
	in := "@@links\n[]\n" +
		"@@ns ln.x.plain\n" + eth0("noqueue") +
		"@@ns ln.x.tbf\n" + eth0("tbf") + "@@tc ln.x.tbf\n" + tcTbfJSON + "\n\n" +
		"@@ns ln.x.netem\n" + eth0("netem") + "@@tc ln.x.netem\n" + tcNetemJSON + "\n\n" +
		"@@ns ln.x.broken\n" + eth0("tbf") + "@@tc ln.x.broken\nError: something\n\n" +
		"@@tc ln.x.gone\n" + tcTbfJSON + "\n" +
		"@@nft\n@@procs\n@@end\n"
	o, err := ParseObserved([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if ns := o.Netns["ln.x.plain"]; ns.Qdisc != nil || ns.Links["eth0"].Qdisc != "noqueue" {
		t.Errorf("plain: %+v", ns)
	}
	if q := o.Netns["ln.x.tbf"].Qdisc; !reflect.DeepEqual(q, &Qdisc{Kind: "tbf", Read: true, Rate: 12.5e6}) {
		t.Errorf("tbf: %+v", q)
	}
	if q := o.Netns["ln.x.netem"].Qdisc; q == nil || q.Kind != "netem" || q.Delay != 20*time.Millisecond || q.Loss != 0.5 || q.Rate != 1.25e6 {
		t.Errorf("netem: %+v", q)
	}
	if q := o.Netns["ln.x.broken"].Qdisc; !reflect.DeepEqual(q, &Qdisc{Kind: "tbf"}) {
		t.Errorf("unreadable tc output: %+v, want the kind from ip, unread", q)
	}
	if o.Netns["ln.x.gone"] != nil {
		t.Errorf("a tc section without its namespace made one")
	}
	// What plan judges from it.
	tbf := shaped(Shaping{Rate: "100mbit", RateBits: 100e6})
	for ns, want := range map[string][]string{
		"ln.x.plain":  {"eth0 has no tbf rate 100mbit (its root qdisc is noqueue)"},
		"ln.x.tbf":    nil,
		"ln.x.netem":  {"eth0 has no tbf rate 100mbit (its root qdisc is netem)"},
		"ln.x.broken": {"eth0's tbf qdisc could not be read, wants tbf rate 100mbit"},
	} {
		if got := tbf.ShapeDrift(o.Netns[ns]); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: drift %q, want %q", ns, got, want)
		}
	}
	netem := shaped(Shaping{Rate: "10mbit", RateBits: 10e6, Delay: 20 * time.Millisecond, Loss: 0.5})
	if got := netem.ShapeDrift(o.Netns["ln.x.netem"]); got != nil {
		t.Errorf("netem drift %q", got)
	}
	netem.Shape.Loss = 1
	if got, want := netem.ShapeDrift(o.Netns["ln.x.netem"]), []string{"eth0 has netem delay 20ms loss 0.5% rate 10mbit, wants netem delay 20ms loss 1% rate 10mbit"}; !reflect.DeepEqual(got, want) {
		t.Errorf("netem drift %q, want %q", got, want)
	}
	if got := shaped(Shaping{}).ShapeDrift(o.Netns["ln.x.tbf"]); !reflect.DeepEqual(got, []string{"eth0 has a tbf qdisc the lab does not ask for"}) {
		t.Errorf("unshaped guest with tbf: %q", got)
	}
	if got := shaped(Shaping{}).ShapeDrift(o.Netns["ln.x.plain"]); got != nil {
		t.Errorf("unshaped guest without qdisc: %q", got)
	}
}

func TestObserveScriptReadsQdiscs(t *testing.T) {
	s := ObserveScript(Names{Lab: "docker"}, "node-0", Reads{Inside: []string{"ln.docker.web-0"}})
	for _, want := range []string{`"qdisc":"tbf"`, `"qdisc":"netem"`, `echo "@@tc $ns"; tc -j -n "$ns" qdisc show dev eth0`} {
		if !strings.Contains(s, want) {
			t.Errorf("ObserveScript lacks %q:\n%s", want, s)
		}
	}
}

// TestShapingOnKernel applies, reads back and removes shaping in a real
// namespace: tbf must work; netem either works or fails with the message
// naming the host (this machine's kernel may lack sch_netem).
func TestShapingOnKernel(t *testing.T) {
	testutil.NeedRoot(t)
	testutil.NeedTools(t, "tc")
	n := Names{Lab: testutil.LabName("tshape")}
	ns := n.Netns("g")
	sh := func(script string) (string, int) {
		t.Helper()
		out, err := exec.Command("sh", "-c", script).CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return string(out), code
	}
	if out, code := sh(fmt.Sprintf("ip netns add %s && ip -n %s link add name eth0 type veth peer name peer0 && ip -n %s link set dev eth0 up", ns, ns, ns)); code != 0 {
		t.Fatalf("setup: %s", out)
	}
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
	observe := func() *Netns {
		t.Helper()
		out, code := sh(ObserveScript(n, "h", Reads{Inside: []string{ns}}))
		if code != 0 {
			t.Fatalf("observe: %s", out)
		}
		o, err := ParseObserved([]byte(out))
		if err != nil || o.Netns[ns] == nil {
			t.Fatalf("parse: %v\n%s", err, out)
		}
		return o.Netns[ns]
	}
	c := Container{Addr: "container.g", Netns: ns, Host: "host.h[0]", Shape: Shaping{Rate: "10mbit", RateBits: 10e6}}
	if d := c.ShapeDrift(observe()); len(d) != 1 {
		t.Errorf("before shaping: drift %q", d)
	}
	if out, code := sh(c.ShapeShell()); code != 0 {
		t.Fatalf("tbf: %s", out)
	}
	if got := observe(); got.Qdisc == nil || len(c.ShapeDrift(got)) != 0 {
		t.Errorf("after tbf: %+v drift %q", got.Qdisc, c.ShapeDrift(got))
	}
	c.Shape = Shaping{Rate: "2.5mbit", RateBits: 2.5e6}
	if out, code := sh(c.ShapeShell()); code != 0 {
		t.Fatalf("tbf change: %s", out)
	}
	if got := observe(); len(c.ShapeDrift(got)) != 0 || got.Qdisc.Rate != 312500 {
		t.Errorf("after the rate change: %+v drift %q", got.Qdisc, c.ShapeDrift(got))
	}
	c.Shape = Shaping{Delay: 5 * time.Millisecond, Loss: 1}
	out, code := sh(c.ShapeShell())
	switch {
	case code == 0:
		if got := observe(); len(c.ShapeDrift(got)) != 0 {
			t.Errorf("after netem: %+v drift %q", got.Qdisc, c.ShapeDrift(got))
		}
	case out != "delay/loss need the kernel's netem qdisc (sch_netem), which host.h[0] does not have\n":
		t.Errorf("netem failed with %q (exit %d)", out, code)
	default:
		t.Logf("this kernel has no netem: %s", out)
	}
	c.Shape = Shaping{}
	if out, code := sh(c.ShapeShell()); code != 0 {
		t.Fatalf("remove: %s", out)
	}
	if got := observe(); got.Qdisc != nil || len(c.ShapeDrift(got)) != 0 {
		t.Errorf("after removal: %+v drift %q", got.Qdisc, c.ShapeDrift(got))
	}
	// Removing again is a no-op, not an error.
	if out, code := sh(c.ShapeShell()); code != 0 {
		t.Fatalf("remove twice: %s", out)
	}
}
