package lima

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labnet-dev/labnet/internal/testutil"
	"github.com/labnet-dev/labnet/provider"
	"github.com/labnet-dev/labnet/remote"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

func host(name string) provider.Host {
	return provider.Host{Addr: "host." + name, Name: name, Address: netip.MustParseAddr("10.0.0.1")}
}

func TestRenderYAMLGolden(t *testing.T) {
	abs, _ := filepath.Abs("testdata")
	for _, c := range []struct {
		golden string
		s      Settings
	}{
		{"image.golden", Settings{CPUs: 2, Memory: "2GiB", Disk: "8GiB", Image: "/var/lib/labnet-lima/debian12.qcow2"}},
		{"template.golden", Settings{Memory: "1GiB", Template: "debian-12"}},
		{"provision.golden", Settings{Template: "debian-12", Provision: "command -v etcd >/dev/null || apt-get install -y etcd-server\n"}},
		{"template-file.golden", Settings{CPUs: 1, Template: "testdata/template-offline.yaml"}},
		{"template-network.golden", Settings{Template: "template://_images/ubuntu-lts", Image: "https://example.org/x.img", Network: "shared"}},
	} {
		got, err := renderYAML("lab1", host("node-0"), c.s, "amd64")
		if err != nil {
			t.Fatalf("%s: %v", c.golden, err)
		}
		got = bytes.ReplaceAll(got, []byte(abs), []byte("TESTDATA"))
		path := filepath.Join("testdata", c.golden)
		if *update {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -update)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs (go test -update rewrites it):\n%s", c.golden, got)
		}
	}
	if _, err := RenderYAML("lab1", host("a"), Settings{}); err == nil {
		t.Error("a VM without image or template rendered")
	}
	if _, err := RenderYAML("lab1", host("a"), Settings{Image: "/x", Memory: "2\nGiB"}); err == nil {
		t.Error("a size with a newline rendered")
	}
	// The configuration's default network, already in the template file,
	// is not added twice; another network is added.
	for network, want := range map[string]int{"user-v2": 0, "shared": 1} {
		b, err := RenderYAML("lab1", host("a"), Settings{Template: "testdata/template-offline.yaml", Network: network})
		if err != nil || strings.Count(string(b), "- lima: ") != want {
			t.Errorf("template with network %s: %v\n%s", network, err, b)
		}
	}
}

func TestRenderYAMLArch(t *testing.T) {
	for goarch, want := range map[string]string{"amd64": "arch: x86_64", "arm64": "arch: aarch64"} {
		b, err := renderYAML("l", host("a"), Settings{Image: "/i.qcow2"}, goarch)
		if err != nil || !strings.Contains(string(b), want) {
			t.Errorf("%s: %v\n%s", goarch, err, b)
		}
	}
}

func TestParseList(t *testing.T) {
	b, err := os.ReadFile("testdata/list.json")
	if err != nil {
		t.Fatal(err)
	}
	list, err := ParseList(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 {
		t.Fatalf("got %d instances", len(list))
	}
	want := Instance{
		Name: "lm1", Status: "Running", Dir: "/home/lab/.lima/lm1", SSHLocalPort: 42907, SSHAddress: "127.0.0.1",
		SSHConfigFile: "/home/lab/.lima/lm1/ssh.config", IdentityFile: "/home/lab/.lima/_config/user", LimaHome: "/home/lab/.lima",
		LimaVersion: "v2.2.0-153-g183a60d7",
		Networks:    []InstanceNetwork{{Lima: "user-v2", MACAddress: "52:55:55:ec:8f:e9", Interface: "lima0"}},
	}
	if !reflect.DeepEqual(list[0], want) {
		t.Errorf("got  %+v\nwant %+v", list[0], want)
	}
	if ap, err := list[0].SSHAddrPort(); err != nil || ap.String() != "127.0.0.1:42907" {
		t.Errorf("SSHAddrPort = %v, %v", ap, err)
	}
	if list[1].Name != "lm2" || list[1].Status != "Stopped" || list[1].SSHLocalPort != 0 {
		t.Errorf("second: %+v", list[1])
	}
	if _, err := list[1].SSHAddrPort(); err == nil {
		t.Error("a stopped VM has an SSH address")
	}
	// An array, nothing, and garbage.
	if l, err := ParseList([]byte(`[{"name":"a","status":"Running"}]`)); err != nil || len(l) != 1 {
		t.Errorf("array: %v %v", l, err)
	}
	if l, err := ParseList([]byte("\n")); err != nil || l != nil {
		t.Errorf("empty: %v %v", l, err)
	}
	if _, err := ParseList([]byte(`{"name":"a"}` + "\n{oops")); err == nil {
		t.Error("garbage parsed")
	}
}

func TestPickLAN(t *testing.T) {
	nets := []InstanceNetwork{{Lima: "user-v2", MACAddress: "52:55:55:12:34:56"}}
	none := func(string) (netip.Prefix, bool) { return netip.Prefix{}, false }
	p := New()
	p.Home = t.TempDir()
	for _, c := range []struct {
		name   string
		json   string
		nets   []InstanceNetwork
		subnet func(string) (netip.Prefix, bool)
		want   string
	}{
		{"by MAC", guestIPJSON, nets, none, "192.168.104.7"},
		{"by MAC, named eth0", `[{"ifname":"eth0","address":"52:55:55:12:34:56","addr_info":[{"family":"inet","local":"192.168.104.9","scope":"global"}]}]`, nets, none, "192.168.104.9"},
		{"by user-v2 subnet", strings.ReplaceAll(guestIPJSON, "52:55:55:12:34:56", "52:55:55:00:00:00"), nets, p.subnetOf, "192.168.104.7"},
		{"no Lima network: not the user-mode one", guestIPJSON, nil, none, "192.168.104.7"},
		{"only user-mode", `[{"ifname":"eth0","addr_info":[{"family":"inet","local":"192.168.5.15","scope":"global"}]}]`, nil, none, ""},
		{"subnet without address", `[{"ifname":"eth0","addr_info":[{"family":"inet","local":"192.168.5.15","scope":"global"}]}]`, nets, p.subnetOf, ""},
	} {
		got, err := PickLAN([]byte(c.json), c.nets, c.subnet)
		if c.want == "" {
			if err == nil {
				t.Errorf("%s: got %s, want an error", c.name, got)
			}
			continue
		}
		if err != nil || got.String() != c.want {
			t.Errorf("%s: got %v %v, want %s", c.name, got, err, c.want)
		}
	}
	// networks.yaml overrides the default subnet.
	os.MkdirAll(filepath.Join(p.Home, "_config"), 0o755)
	os.WriteFile(filepath.Join(p.Home, "_config", "networks.yaml"), []byte("networks:\n  user-v2:\n    mode: user-v2\n    gateway: 10.99.0.1\n    netmask: 255.255.0.0\n"), 0o644)
	if pfx, ok := p.subnetOf("user-v2"); !ok || pfx.String() != "10.99.0.0/16" {
		t.Errorf("subnet from networks.yaml: %v %v", pfx, ok)
	}
	if pfx, ok := p.subnetOf("shared"); !ok || pfx.String() != "192.168.105.0/24" {
		t.Errorf("builtin shared subnet: %v %v", pfx, ok)
	}
}

func TestVMName(t *testing.T) {
	p := New()
	p.Home = "/home/u/.lima"
	if n, err := p.VMName("lab1", host("node-0")); err != nil || n != "lab1-node-0" {
		t.Fatalf("%q %v", n, err)
	}
	for _, bad := range []string{"Node", "a_b", "a--b", "a.b", strings.Repeat("x", 60)} {
		if _, err := p.VMName("lab1", host(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	p.Home = "/" + strings.Repeat("d", 70)
	if _, err := p.VMName("lab1", host(strings.Repeat("x", 20))); err == nil || !strings.Contains(err.Error(), "socket") {
		t.Errorf("long socket path: %v", err)
	}
}

func TestVersion(t *testing.T) {
	for out, want := range map[string]string{"limactl version 1.0.3\n": "1.0.3", "limactl version v2.2.0-153-g183a60d7": "2.2.0-153-g183a60d7", "limactl version 0.23.2": "0.23.2"} {
		if v, ok := parseVersion(out); !ok || v != want {
			t.Errorf("%q: %q %v", out, v, ok)
		}
	}
	if !versionLess("0.23.2", [2]int{1, 0}) || versionLess("1.0.0", [2]int{1, 0}) || !versionLess("1.0.3", [2]int{1, 1}) || versionLess("2.2.0-1-g", [2]int{1, 1}) {
		t.Error("versionLess")
	}
}

func TestErrorsSayWhatToDo(t *testing.T) {
	ctx := context.Background()
	h := host("a")

	p := New()
	p.Limactl = "labnet-no-such-limactl"
	p.geteuid = func() int { return 1000 }
	if _, err := p.CreateHost(ctx, "lab1", h, provider.Keys{}); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), `use provider = "netns"`) {
		t.Errorf("missing limactl: %v", err)
	}

	p, f := newFakeLima(t)
	p.geteuid = func() int { return 0 }
	if _, err := p.List(ctx); !errors.Is(err, ErrRoot) {
		t.Errorf("root: %v", err)
	}
	if len(f.argv(t)) != 0 {
		t.Errorf("limactl ran as root: %v", f.argv(t))
	}

	p, _ = newFakeLima(t)
	t.Setenv("FAKE_LIMACTL_VERSION", "0.23.2")
	if _, err := p.List(ctx); err == nil || !strings.Contains(err.Error(), "limactl version 0.23.2 is too old") {
		t.Errorf("old version: %v", err)
	}
	p, _ = newFakeLima(t)
	t.Setenv("FAKE_LIMACTL_VERSION", "1.0.3")
	p.Configure(h.Addr, Settings{Template: "debian-12"})
	if _, err := p.CreateHost(ctx, "lab1", h, provider.Keys{}); err == nil || !strings.Contains(err.Error(), "needs Lima 1.1") {
		t.Errorf("template on 1.0: %v", err)
	}
}

// TestLifecycleWithFakes drives create, observe, stop, repair, destroy and
// sweep against the fake limactl and the fake guest.
func TestLifecycleWithFakes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, f := newFakeLima(t)
	var mu sync.Mutex
	var progress []string
	p.Progress = func(h, msg string) { mu.Lock(); progress = append(progress, h+": "+msg); mu.Unlock() }
	h := host("node-0")
	p.Configure(h.Addr, Settings{CPUs: 1, Memory: "1GiB", Image: "/img.qcow2"})

	rec, err := p.CreateHost(ctx, "lab1", h, provider.Keys{})
	if err != nil {
		t.Fatal(err)
	}
	argv := f.argv(t)
	if len(argv) != 4 || argv[0] != "list --json" || !strings.HasPrefix(argv[1], "create --name=lab1-node-0 --tty=false ") || argv[2] != "start --tty=false lab1-node-0" || argv[3] != "list --json" {
		t.Fatalf("argv: %q", argv)
	}
	yamlFile := strings.Fields(argv[1])[3]
	if _, err := os.Stat(yamlFile); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temporary YAML %s left behind", yamlFile)
	}
	written, _ := os.ReadFile(filepath.Join(f.home, "lab1-node-0", "lima.yaml"))
	if !strings.Contains(string(written), "# labnet: lab=lab1 host=host.node-0") || !strings.Contains(string(written), "location: /img.qcow2") {
		t.Errorf("lima.yaml given to create:\n%s", written)
	}
	if rec.User != "fakeuser" || rec.SSHAddr != netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(f.port)).String() || !strings.HasPrefix(rec.HostKey, "ssh-ed25519 ") {
		t.Fatalf("record: %+v", rec)
	}
	sudo, _ := os.ReadFile(f.sudoLog)
	if !strings.HasPrefix(string(sudo), "-n env -i PATH=") {
		t.Errorf("shell not run through sudo -n: %q", sudo)
	}
	// The LAN address is read, then the lab's own address of the host is
	// added beside it on the same interface.
	if ipArgs, _ := os.ReadFile(f.ipLog); strings.TrimSpace(string(ipArgs)) != "-j -4 addr show\n-j -4 addr show\naddr replace 10.0.0.1/32 dev lima0" {
		t.Errorf("ip called with %q", ipArgs)
	}
	if a, err := p.LANAddress(ctx, "lab1", h, rec); err != nil || a.String() != "192.168.104.7" {
		t.Fatalf("LAN address %v %v", a, err)
	}
	// Read again over SSH by a new process (no cache).
	p2 := New()
	p2.Home, p2.Limactl, p2.geteuid = p.Home, p.Limactl, p.geteuid
	if a, err := p2.LANAddress(ctx, "lab1", h, rec); err != nil || a.String() != "192.168.104.7" {
		t.Fatalf("LAN address, uncached: %v %v", a, err)
	}

	tg, err := p.Target("lab1", h, rec, provider.Keys{})
	if err != nil || !tg.Sudo || tg.User != "fakeuser" || tg.Addr.String() != rec.SSHAddr || tg.HostKey == nil {
		t.Fatalf("target %+v %v", tg, err)
	}
	c, err := remote.Dial(ctx, tg)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()

	if st, err := p.ObserveHost(ctx, "lab1", h, rec); err != nil || !st.Exists || !st.SSHUp {
		t.Fatalf("observe running: %+v %v", st, err)
	}
	wrong := rec
	wrong.HostKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
	if st, _ := p.ObserveHost(ctx, "lab1", h, wrong); !st.Exists || st.SSHUp || !strings.Contains(st.Reason, "host key changed") {
		t.Fatalf("observe with wrong key: %+v", st)
	}
	moved := rec
	moved.SSHAddr = "127.0.0.1:1"
	if st, _ := p.ObserveHost(ctx, "lab1", h, moved); st.SSHUp || !strings.Contains(st.Reason, "SSH moved") {
		t.Fatalf("observe with moved port: %+v", st)
	}
	if r, err := p.RepairHost(ctx, "lab1", h, moved, provider.Keys{}); err != nil || r.SSHAddr != rec.SSHAddr || r.HostKey != rec.HostKey {
		t.Fatalf("repair of moved port: %+v %v", r, err)
	}

	// Stopped, then repaired by limactl start.
	os.WriteFile(filepath.Join(f.home, "lab1-node-0", "status"), []byte("Stopped\n"), 0o644)
	if st, _ := p.ObserveHost(ctx, "lab1", h, rec); !st.Exists || st.SSHUp || st.Reason != "stopped" {
		t.Fatalf("observe stopped: %+v", st)
	}
	f.reset(t)
	if r, err := p.RepairHost(ctx, "lab1", h, rec, provider.Keys{}); err != nil || r.HostKey != rec.HostKey {
		t.Fatalf("repair: %+v %v", r, err)
	}
	if argv := f.argv(t); !reflect.DeepEqual(argv, []string{"list --json", "start --tty=false lab1-node-0", "list --json"}) {
		t.Errorf("repair argv: %q", argv)
	}

	// A second create of the same host replaces the VM an earlier attempt left.
	f.reset(t)
	if _, err := p.CreateHost(ctx, "lab1", h, provider.Keys{}); err != nil {
		t.Fatal(err)
	}
	if argv := f.argv(t); len(argv) < 2 || argv[1] != "delete --force lab1-node-0" {
		t.Errorf("re-create argv: %q", argv)
	}

	// Destroy, twice: absent is fine.
	f.reset(t)
	if err := p.DestroyHost(ctx, "lab1", h, rec); err != nil {
		t.Fatal(err)
	}
	if err := p.DestroyHost(ctx, "lab1", h, rec); err != nil {
		t.Fatalf("destroy of an absent VM: %v", err)
	}
	if argv := f.argv(t); !reflect.DeepEqual(argv, []string{"delete --force lab1-node-0", "delete --force lab1-node-0", "list --json"}) {
		t.Errorf("destroy argv: %q", argv)
	}
	if st, _ := p.ObserveHost(ctx, "lab1", h, rec); st.Exists {
		t.Fatalf("observe destroyed: %+v", st)
	}
	if _, err := p.RepairHost(ctx, "lab1", h, rec, provider.Keys{}); err == nil || !strings.Contains(err.Error(), "replaced") {
		t.Fatalf("repair of a gone VM: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(progress) != 0 {
		t.Errorf("progress for a quick boot: %q", progress)
	}
}

func TestStartFailureShowsLog(t *testing.T) {
	ctx := context.Background()
	p, _ := newFakeLima(t)
	h := host("a")
	p.Configure(h.Addr, Settings{Image: "/img"})
	t.Setenv("FAKE_LIMACTL_START", "fail")
	_, err := p.CreateHost(ctx, "lab1", h, provider.Keys{})
	if err == nil {
		t.Fatal("start failure not reported")
	}
	msg := err.Error()
	for _, want := range []string{"limactl start --tty=false lab1-a", `did not receive an event`, "ha.stderr.log", "boot line 3\n", "boot line 22"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "boot line 2\n") {
		t.Errorf("more than the last 20 lines:\n%s", msg)
	}
}

func TestStartTimeout(t *testing.T) {
	ctx := context.Background()
	p, _ := newFakeLima(t)
	p.Timeout = 400 * time.Millisecond
	p.progressEvery = 100 * time.Millisecond
	var mu sync.Mutex
	var progress []string
	p.Progress = func(h, msg string) { mu.Lock(); progress = append(progress, h+": "+msg); mu.Unlock() }
	h := host("a")
	p.Configure(h.Addr, Settings{Image: "/img"})
	t.Setenv("FAKE_LIMACTL_START", "hang")
	began := time.Now()
	_, err := p.CreateHost(ctx, "lab1", h, provider.Keys{})
	if err == nil || !strings.Contains(err.Error(), "did not boot within 400ms") || !strings.Contains(err.Error(), "still waiting") {
		t.Fatalf("timeout: %v", err)
	}
	if d := time.Since(began); d > 5*time.Second {
		t.Errorf("timeout took %s", d)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(progress) < 2 || !strings.HasPrefix(progress[0], "host.a: still booting Lima VM lab1-a") {
		t.Errorf("progress: %q", progress)
	}
}

func TestSweepOnlyTheLabs(t *testing.T) {
	ctx := context.Background()
	p, f := newFakeLima(t)
	mk := func(name, lab, hostAddr string) {
		d := filepath.Join(f.home, name)
		os.MkdirAll(d, 0o755)
		y := "images: []\n"
		if lab != "" {
			y = marker(lab, hostAddr) + "\n" + y
		}
		os.WriteFile(filepath.Join(d, "lima.yaml"), []byte(y), 0o644)
		os.WriteFile(filepath.Join(d, "status"), []byte("Stopped\n"), 0o644)
	}
	mk("lab1-a", "lab1", "host.a")
	mk("lab1-b", "lab1", "host.b")
	mk("lab1-x-c", "lab1-x", "host.c") // lab "lab1-x", host "c"
	mk("lab1-mine", "", "")            // not labnet's
	mk("lab2-a", "lab2", "host.a")
	var notes []string
	p.Log = func(h, msg string) { notes = append(notes, msg) }
	if err := p.Sweep(ctx, "lab1"); err != nil {
		t.Fatal(err)
	}
	if argv := f.argv(t); !reflect.DeepEqual(argv, []string{"list --json", "delete --force lab1-a", "delete --force lab1-b"}) {
		t.Errorf("sweep argv: %q", argv)
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "lab1-mine") {
		t.Errorf("notes: %q", notes)
	}
	// Destroying lab1's host "x-c" must not take lab1-x's VM.
	if err := p.DestroyHost(ctx, "lab1", host("x-c"), provider.Record{}); err == nil || !strings.Contains(err.Error(), `belongs to lab "lab1-x"`) {
		t.Errorf("destroy of another lab's VM: %v", err)
	}
	if _, err := os.Stat(filepath.Join(f.home, "lab1-x-c")); err != nil {
		t.Error("another lab's VM deleted")
	}
}

func TestNetworkIsLimas(t *testing.T) {
	p := New()
	ctx := context.Background()
	n := provider.Network{Name: "lan"}
	if p.Name() != "lima" || p.EnsureNetwork(ctx, "l", n) != nil || p.DestroyNetwork(ctx, "l", n) != nil {
		t.Fatal("network no-ops")
	}
	if ok, _, err := p.ObserveNetwork(ctx, "l", n); !ok || err != nil {
		t.Fatal("network not present")
	}
}

// Lima's network exists without labnet: a first plan creates it, never
// replaces it as a leftover.
var _ provider.AlwaysThere = (*Provider)(nil)

// TestProvisionMakesHostnameResolve: the provision script gives the VM's
// own name an /etc/hosts line once (sudo's "unable to resolve host"
// warning reached every labnet exec on Lima), and leaves a resolving name
// alone.
func TestProvisionMakesHostnameResolve(t *testing.T) {
	testutil.NeedRoot(t)
	dir := t.TempDir()
	hosts := filepath.Join(dir, "hosts")
	script := filepath.Join(dir, "provision.sh")
	if err := os.WriteFile(hosts, []byte("127.0.0.1 localhost\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(script, []byte(provisionScript), 0o755); err != nil {
		t.Fatal(err)
	}
	// Its own UTS and mount namespaces: a name of its own, and dir bound
	// over /etc (a minimal Debian has no /etc/hosts to bind a file over).
	run := "hostname lima-labtest && mount --bind " + dir + " /etc && sh " + script + " && sh " + script
	if out, err := exec.Command("unshare", "--uts", "--mount", "--propagation", "private", "sh", "-c", run).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	b, _ := os.ReadFile(hosts)
	if string(b) != "127.0.0.1 localhost\n127.0.1.1 lima-labtest\n" {
		t.Errorf("/etc/hosts after two runs:\n%s", b)
	}
}

// TestFirstCreatesOfANewLimaHome: on a Lima home that never ran, Lima
// makes the user's SSH key on the first create, checking for it before
// taking its lock, so two VMs created at once raced and one failed
// ("already exists. Overwrite (y/n)?"). labnet creates one at a time until
// the key exists; both VMs come up.
func TestFirstCreatesOfANewLimaHome(t *testing.T) {
	ctx := context.Background()
	p, f := newFakeLima(t)
	f.newKey(t)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, name := range []string{"a", "b"} {
		h := host(name)
		p.Configure(h.Addr, Settings{Image: "/img"})
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = p.CreateHost(ctx, "lab1", h, provider.Keys{})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("host %d: %v", i, err)
		}
	}
	creates := 0
	for _, l := range f.argv(t) {
		if strings.HasPrefix(l, "create ") {
			creates++
		}
	}
	if creates != 2 {
		t.Errorf("%d creates, want 2:\n%q", creates, f.argv(t))
	}
}
