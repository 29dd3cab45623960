package hostnet

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestNames(t *testing.T) {
	n := Names{Lab: "my-lab"}
	tests := []struct{ got, want string }{
		{n.NetnsPrefix(), "ln.my-lab."},
		{n.Netns("web-0"), "ln.my-lab.web-0"},
		{n.Alias("container.web[0]"), "labnet:my-lab:container.web[0]"},
		{n.AliasPrefix(), "labnet:my-lab:"},
		{n.Table(), "labnet_my_lab"},
		{n.RunDir(), "/run/labnet/my-lab"},
		{n.Owner("node-0", "process.web[0]"), "my-lab/node-0/process.web[0]"},
		{n.Owner("node-0", ""), "my-lab/node-0/"},
		{n.LogFile("web-0"), "/run/labnet/my-lab/web-0.log"},
		{n.IsoDir(), "/run/labnet/my-lab/ns"},
		{n.MountNS("web-0"), "/run/labnet/my-lab/ns/web-0.mnt"},
		{n.UTSNS("web-0"), "/run/labnet/my-lab/ns/web-0.uts"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
	seen := map[string]string{}
	for _, lab := range []string{"a", "b", "docker", "docker2"} {
		for _, addr := range []string{"container.web[0]", "container.web[1]", `container.app["one"]`, "container.a-very-long-name-that-would-not-fit-ifnamsiz[12]"} {
			v := Names{Lab: lab}.HostVeth(addr)
			if len(v) != 12 || !strings.HasPrefix(v, "ln") || strings.Trim(v[2:], "0123456789abcdef") != "" {
				t.Errorf("HostVeth(%s, %s) = %q, want ln + 10 hex digits", lab, addr, v)
			}
			if other, dup := seen[v]; dup {
				t.Errorf("HostVeth collision: %s and %s/%s", other, lab, addr)
			}
			seen[v] = lab + "/" + addr
			if v != (Names{Lab: lab}).HostVeth(addr) {
				t.Errorf("HostVeth is not stable")
			}
		}
	}
}

func TestObjectBatches(t *testing.T) {
	n := Names{Lab: "docker"}
	b := Bridge{Addr: "bridge.br[0]", Ifname: "br0", CIDR: netip.MustParsePrefix("10.5.0.0/24"), Gateway: netip.MustParseAddr("10.5.0.1")}
	c := Container{Addr: "container.c[0]", Netns: "ln.docker.c-0", HostVeth: "ln0123456789", Bridge: "br0",
		Address: netip.MustParseAddr("10.5.0.7"), Bits: 24, Gateway: netip.MustParseAddr("10.5.0.1")}
	tests := []struct {
		name string
		got  []string
		want []string
	}{
		{"bridge create", b.CreateBatch(n), []string{"link add name br0 address " + n.MAC("bridge.br[0]") + " mtu 1500 type bridge", "link set dev br0 alias labnet:docker:bridge.br[0]", "addr add 10.5.0.1/24 dev br0", "link set dev br0 up"}},
		{"bridge repair", b.RepairBatch(n), []string{"link set dev br0 address " + n.MAC("bridge.br[0]") + " mtu 1500 alias labnet:docker:bridge.br[0]", "addr replace 10.5.0.1/24 dev br0", "link set dev br0 up"}},
		{"bridge delete", b.DeleteBatch(), []string{"link del dev br0"}},
		{"container create", c.CreateBatch(n), []string{"netns add ln.docker.c-0", "link add name ln0123456789 type veth peer name eth0 address " + n.MAC("container.c[0]") + " netns ln.docker.c-0",
			"link set dev ln0123456789 alias labnet:docker:container.c[0]", "link set dev ln0123456789 master br0 up"}},
		{"container repair", c.RepairBatch(n), []string{"link set dev ln0123456789 alias labnet:docker:container.c[0] mtu 1500", "link set dev ln0123456789 master br0 up"}},
		{"container delete all", c.DeleteBatch(true, true), []string{"link del dev ln0123456789", "netns del ln.docker.c-0"}},
		{"container delete veth only", c.DeleteBatch(true, false), []string{"link del dev ln0123456789"}},
		{"container delete netns only", c.DeleteBatch(false, true), []string{"netns del ln.docker.c-0"}},
		{"container delete nothing", c.DeleteBatch(false, false), nil},
	}
	for _, tt := range tests {
		if !reflect.DeepEqual(tt.got, tt.want) {
			t.Errorf("%s:\n got %q\nwant %q", tt.name, tt.got, tt.want)
		}
	}
	wantInside := &Inside{Netns: "ln.docker.c-0", Lo: true, Links: []InsideLink{{Name: "eth0", Addr: "10.5.0.7/24", MTU: 1500, MAC: names.MAC(c.Addr), Bridge: "br0"}}, Gateway: "10.5.0.1", GatewayDev: "eth0"}
	if got := c.Inside(names); !reflect.DeepEqual(got, wantInside) {
		t.Errorf("Inside = %+v, want %+v", got, wantInside)
	}
	if got, want := HostPrep(Names{Lab: "x"}), "mkdir -p /run/labnet/x && chmod 700 /run/labnet/x && sysctl -qw net.ipv4.ip_forward=1"; got != want {
		t.Errorf("HostPrep = %q", got)
	}
	if got, want := NftDeleteShell(Names{Lab: "a-b"}), "if nft list table inet labnet_a_b >/dev/null 2>&1; then nft delete table inet labnet_a_b; fi"; got != want {
		t.Errorf("NftDeleteShell = %q", got)
	}
}

func TestNatRuleStringAndSort(t *testing.T) {
	rs := []NatRule{
		{Owner: "container.b", Kind: "dnat", Proto: "udp", DstAddr: ip("10.0.0.1"), DstPort: 53, ToAddr: ip("172.16.0.2"), ToPort: 5353},
		{Owner: "bridge.x", Kind: "masquerade", Source: pfx("172.16.0.0/24"), NotDest: pfx("172.16.0.0/24")},
		{Owner: "container.a", Kind: "dnat", Proto: "tcp", DstAddr: ip("10.0.0.1"), DstPort: 80, ToAddr: ip("172.16.0.3"), ToPort: 8080},
	}
	SortRules(rs)
	var got []string
	for _, r := range rs {
		got = append(got, r.String())
	}
	want := []string{
		"dnat tcp 10.0.0.1:80 -> 172.16.0.3:8080 (container.a)",
		"dnat udp 10.0.0.1:53 -> 172.16.0.2:5353 (container.b)",
		"masquerade 172.16.0.0/24 -> !172.16.0.0/24 (bridge.x)",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("sorted rules:\n%q\nwant\n%q", got, want)
	}
}

// hostileSuffixes end owner marks; none may escape its shell word, and
// regular-expression characters must match only themselves.
var hostileSuffixes = []string{
	"process.web[0]",
	`process.app["one"]`,
	"x;touch PWNED1",
	"$(touch PWNED2)",
	"`touch PWNED3`",
	`it's "quoted"`,
	"a b  c\ttab",
	"&& touch PWNED4 &",
	".*",
	`^[0-9]$\1`,
	"|sed -e q",
	"%s%d%%",
	"-e",
}

// spawn starts `sleep 30` marked with owner; it is killed at cleanup.
func spawn(t *testing.T, owner string) int {
	t.Helper()
	cmd := exec.Command("sleep", "30")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), OwnerEnvName + "=" + owner}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }() // reap at once: zombies keep no environ
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
	})
	return cmd.Process.Pid
}

// sh runs a command line with sh in dir and returns its stdout.
func sh(t *testing.T, dir, script string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-c", script)
	cmd.Dir = dir
	out, err := cmd.Output()
	return string(out), err
}

// found parses FindOwned's output into owner -> sorted pids.
func found(out string) map[string][]int {
	m := map[string][]int{}
	for _, line := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		pid, owner, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		n, err := strconv.Atoi(pid)
		if err != nil {
			continue
		}
		m[owner] = append(m[owner], n)
		sort.Ints(m[owner])
	}
	return m
}

func TestFindOwnedKillOwnedHostileNames(t *testing.T) {
	if _, err := os.Stat("/proc/self/environ"); err != nil {
		t.Skip("needs /proc")
	}
	dir := t.TempDir()
	base := fmt.Sprintf("labnettest-%d-%d/node-0/", os.Getpid(), time.Now().UnixNano())
	pids := map[string]int{}
	decoys := map[string]int{}
	for _, s := range hostileSuffixes {
		pids[base+s] = spawn(t, base+s)
		decoys[base+s+"tail"] = spawn(t, base+s+"tail") // must not match s exactly
	}
	for owner, pid := range pids {
		out, err := sh(t, dir, FindOwned(owner))
		if err != nil {
			t.Errorf("FindOwned(%q): %v", owner, err)
			continue
		}
		if got, want := found(out), map[string][]int{owner: {pid}}; !reflect.DeepEqual(got, want) {
			t.Errorf("FindOwned(%q) = %v, want %v\noutput: %q", owner, got, want, out)
		}
	}
	// With a trailing slash it is a prefix: every process of the host.
	out, err := sh(t, dir, FindOwned(base))
	if err != nil {
		t.Fatal(err)
	}
	all := found(out)
	if len(all) != len(pids)+len(decoys) {
		t.Errorf("FindOwned(prefix) found %d owners, want %d: %v", len(all), len(pids)+len(decoys), all)
	}
	// A prefix is not a prefix of another lab's host: "…/node-0/" does not
	// match "…/node-01/".
	other := strings.TrimSuffix(base, "/") + "1/process.web[0]"
	spawn(t, other)
	if out, _ := sh(t, dir, FindOwned(base)); strings.Contains(out, other) {
		t.Errorf("FindOwned(%q) matched %q", base, other)
	}
	// Nothing found: FindOwned fails (grep .), so Verify can use it.
	if _, err := sh(t, dir, FindOwned(base+"nobody")); err == nil {
		t.Errorf("FindOwned of no process succeeded")
	}
	// KillOwned kills exactly one owner's processes.
	victim := base + hostileSuffixes[2]
	if _, err := sh(t, dir, KillOwned(victim)); err != nil {
		t.Errorf("KillOwned(%q): %v", victim, err)
	}
	out, _ = sh(t, dir, FindOwned(base))
	left := found(out)
	if _, ok := left[victim]; ok {
		t.Errorf("KillOwned(%q) left it running", victim)
	}
	if len(left) != len(pids)+len(decoys)-1 {
		t.Errorf("KillOwned(%q) killed others: %d owners left, want %d", victim, len(left), len(pids)+len(decoys)-1)
	}
	// Killing what is not there succeeds.
	if _, err := sh(t, dir, KillOwned(victim)); err != nil {
		t.Errorf("second KillOwned: %v", err)
	}
	// The prefix kills the rest.
	if _, err := sh(t, dir, KillOwned(base)); err != nil {
		t.Errorf("KillOwned(prefix): %v", err)
	}
	if out, err := sh(t, dir, FindOwned(base)); err == nil || out != "" {
		t.Errorf("after KillOwned(prefix) still found: %q", out)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		t.Errorf("a name escaped its quoting: %s was created", e.Name())
	}
}

// A newline in an owner would split grep's pattern in two, so FindOwned's
// anchors would no longer hold: such an owner finds nothing at all (names
// from config cannot hold a newline).
func TestFindOwnedNewline(t *testing.T) {
	dir := t.TempDir()
	base := fmt.Sprintf("labnettest-%d-%d/node-0/", os.Getpid(), time.Now().UnixNano())
	owner := base + "line1\nline2"
	spawn(t, owner)
	spawn(t, base+"line1-other")
	out, _ := sh(t, dir, FindOwned(owner))
	if strings.Contains(out, "other") || len(found(out)) != 0 {
		t.Errorf("FindOwned(%q) = %q", owner, out)
	}
}

// StartShell runs argv as given, whatever it holds, with the owner mark.
func TestStartShellQuoting(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "it's a log")
	args := []string{"$(touch PWNED)", "`touch PWNED`", "a;b", `"q"`, "it's", "two words", ""}
	p := Process{Owner: "labnettest-quoting", Command: append([]string{"printf", "[%s]\\n"}, args...), Log: log}
	if _, err := sh(t, dir, p.StartShell()+"\nwait"); err != nil {
		t.Fatal(err)
	}
	var got []byte
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		got, _ = os.ReadFile(log)
		if strings.Count(string(got), "\n") == len(args) {
			break
		}
	}
	want := ""
	for _, a := range args {
		want += "[" + a + "]\n"
	}
	if string(got) != want {
		t.Errorf("log = %q, want %q", got, want)
	}
	if _, err := os.Stat(filepath.Join("/", "PWNED")); err == nil {
		t.Errorf("/PWNED exists")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("dir holds %d entries, want only the log", len(entries))
	}
	if strings.Contains(p.StartShell(), "ip netns exec") {
		t.Errorf("StartShell enters a netns for a host process: %q", p.StartShell())
	}
	q := p
	q.Netns = "ln.x.a"
	if s := q.StartShell(); !strings.Contains(s, " setsid ip netns exec ln.x.a printf ") {
		t.Errorf("StartShell in a netns = %q", s)
	}
}

// A process step: StartShell returns at once (the process runs on with
// its mark), Verify passes while it runs and fails with the log's tail
// when it has died.
func TestProcessStepLifecycle(t *testing.T) {
	if _, err := os.Stat("/proc/self/environ"); err != nil {
		t.Skip("needs /proc")
	}
	for _, shell := range shells(t) {
		t.Run(shell[0], func(t *testing.T) {
			dir := t.TempDir()
			owner := fmt.Sprintf("labnettest-%d-%d/node-0/process.%s[0]", os.Getpid(), time.Now().UnixNano(), shell[0])
			t.Cleanup(func() { _, _ = sh(t, dir, KillOwned(owner)) })
			ok := Process{Owner: owner, Command: []string{"sleep", "20"}, Log: filepath.Join(dir, "ok.log")}
			dies := Process{Owner: owner + "-dies", Command: []string{"sh", "-c", "echo starting; echo 'fatal: port in use' >&2; exit 1"}, Log: filepath.Join(dir, "dies.log")}
			s := Script{Steps: []Step{
				{ID: 0, Shell: ok.StartShell(), Verify: ok.Verify()},
				{ID: 1, Shell: dies.StartShell(), Verify: dies.Verify()},
			}}
			f := filepath.Join(dir, "script.sh")
			if err := os.WriteFile(f, []byte(s.Render()), 0o600); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			start := time.Now()
			cmd := exec.CommandContext(ctx, shell[0], append(shell[1:], f)...)
			cmd.WaitDelay = time.Second
			out, err := cmd.Output()
			if err != nil || time.Since(start) > 3*time.Second {
				t.Fatalf("script took %v: %v\n%s", time.Since(start), err, out)
			}
			res := s.ParseOutcome(out)
			if res[0] != nil {
				t.Errorf("running process: %v", res[0])
			}
			if res[1] == nil || !strings.Contains(res[1].Error(), "fatal: port in use") || !strings.Contains(res[1].Error(), "process exited at once") {
				t.Errorf("dead process: %v", res[1])
			}
			if out, err := sh(t, dir, FindOwned(owner)); err != nil || len(found(out)[owner]) != 1 {
				t.Errorf("FindOwned after start = %q, %v", out, err)
			}
			if _, err := sh(t, dir, ok.StopShell()); err != nil {
				t.Errorf("StopShell: %v", err)
			}
			if out, _ := sh(t, dir, FindOwned(owner)); out != "" {
				t.Errorf("still running after StopShell: %q", out)
			}
		})
	}
}

// TestReadOwnedSpecMarks: refresh's read of the lab's processes gives each
// one's owner mark and, for those that have one, its spec mark, as
// ParseObserved reads them; processes of another prefix are not owned.
func TestReadOwnedSpecMarks(t *testing.T) {
	if _, err := os.Stat("/proc/self/environ"); err != nil {
		t.Skip("needs /proc")
	}
	base := fmt.Sprintf("labnettest-%d-%d/node-0/", os.Getpid(), time.Now().UnixNano())
	start := func(env ...string) int {
		cmd := exec.Command("sleep", "60")
		cmd.Env = env
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		t.Cleanup(func() { _ = cmd.Process.Kill(); <-done })
		return cmd.Process.Pid
	}
	marked := start(OwnerEnvName+"="+base+"process.a", SpecEnvName+"=00ff00ff00ff00ff")
	unmarked := start(OwnerEnvName + "=" + base + "process.b")
	other := start(OwnerEnvName+"="+strings.TrimSuffix(base, "/")+"1/process.c", SpecEnvName+"=abab")
	out, err := sh(t, t.TempDir(), readOwned(base))
	if err != nil {
		t.Fatal(err)
	}
	o, err := ParseObserved([]byte("@@links\n[]\n@@procs\n" + out + "@@end\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := o.Procs[base+"process.a"]; !reflect.DeepEqual(got, []int{marked}) {
		t.Errorf("process.a: %v, want [%d]\n%s", got, marked, out)
	}
	if got := o.Procs[base+"process.b"]; !reflect.DeepEqual(got, []int{unmarked}) {
		t.Errorf("process.b: %v, want [%d]\n%s", got, unmarked, out)
	}
	if o.ProcSpecs[marked] != "00ff00ff00ff00ff" || o.ProcSpecs[unmarked] != "" {
		t.Errorf("specs %v\n%s", o.ProcSpecs, out)
	}
	for owner := range o.Procs {
		if !strings.HasPrefix(owner, base) {
			t.Errorf("another host's process %s (pid %d) is read as owned", owner, other)
		}
	}
}
