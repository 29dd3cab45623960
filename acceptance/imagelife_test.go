package acceptance

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/labnet-dev/labnet/image"
	"github.com/labnet-dev/labnet/internal/testutil"
)

// buildBusybox writes the lab's images/busybox.tar from the machine's
// busybox-static and returns its digest's hex.
func buildBusybox(t *testing.T, dir string) string {
	t.Helper()
	return buildBusyboxWith(t, dir, nil)
}

// buildBusyboxWith is buildBusybox with extra files in the image (an image
// of a digest of its own).
func buildBusyboxWith(t *testing.T, dir string, extra map[string]image.File) string {
	t.Helper()
	bb, err := exec.LookPath("busybox")
	if err != nil {
		t.Fatal(err)
	}
	files, err := image.BusyboxFiles(bb, func() ([]byte, error) { return exec.Command(bb, "--list").Output() })
	if err != nil {
		t.Fatal(err)
	}
	for p, f := range extra {
		files[p] = f
	}
	os.MkdirAll(filepath.Join(dir, "images"), 0o755)
	archive := filepath.Join(dir, "images", "busybox.tar")
	if err := image.Build(files, image.BusyboxConfig, image.DockerArchive, archive); err != nil {
		t.Fatal(err)
	}
	im, err := image.Open(image.DockerArchive, archive)
	if err != nil {
		t.Fatal(err)
	}
	defer im.Close()
	return strings.TrimPrefix(im.Digest, "sha256:")
}

// cgroupMounts are the machine's cgroup hierarchies: v1 controllers by
// name ("memory", "cpu"), and "" for the cgroup2 one.
func cgroupMounts(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		switch {
		case len(f) < 4:
		case f[2] == "cgroup2":
			if _, ok := m[""]; !ok {
				m[""] = f[1]
			}
		case f[2] == "cgroup":
			for _, o := range strings.Split(f[3], ",") {
				m[o] = f[1]
			}
		}
	}
	return m
}

// cgroupLimits reads a cgroup's memory limit and CPU quota as the kernel
// shows them, from cgroup v1 or v2 (whichever holds the controllers):
// memory in bytes ("max" when none) and the quota as "QUOTA PERIOD".
func cgroupLimits(t *testing.T, cgroup string) (memory, cpu string) {
	t.Helper()
	m := cgroupMounts(t)
	read := func(p string) string {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatalf("cgroup %s: %v", cgroup, err)
		}
		return strings.TrimSpace(string(b))
	}
	if mem, ok := m["memory"]; ok {
		memory = read(mem + cgroup + "/memory.limit_in_bytes")
		if n, _ := strconv.ParseInt(memory, 10, 64); n >= 1<<62 {
			memory = "max"
		}
		q := read(m["cpu"] + cgroup + "/cpu.cfs_quota_us")
		if q == "-1" {
			q = "max"
		}
		return memory, q + " " + read(m["cpu"]+cgroup+"/cpu.cfs_period_us")
	}
	return read(m[""] + cgroup + "/memory.max"), read(m[""] + cgroup + "/cpu.max")
}

// cpuUsage reads how much CPU time a cgroup's processes used, and how
// many periods the kernel throttled them in, from cgroup v1 or v2.
func cpuUsage(t *testing.T, cgroup string) (used time.Duration, throttled int) {
	t.Helper()
	m := cgroupMounts(t)
	stat := func(p string) map[string]int64 {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]int64{}
		for _, l := range strings.Split(string(b), "\n") {
			if f := strings.Fields(l); len(f) == 2 {
				out[f[0]], _ = strconv.ParseInt(f[1], 10, 64)
			}
		}
		return out
	}
	if cpu, ok := m["cpu"]; ok {
		b, err := os.ReadFile(m["cpuacct"] + cgroup + "/cpuacct.usage")
		if err != nil {
			t.Fatal(err)
		}
		ns, _ := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		return time.Duration(ns), int(stat(cpu + cgroup + "/cpu.stat")["nr_throttled"])
	}
	s := stat(m[""] + cgroup + "/cpu.stat")
	return time.Duration(s["usage_usec"]) * time.Microsecond, int(s["nr_throttled"])
}

// labCgroups lists the cgroup dirs of lab left in any hierarchy.
func labCgroups(t *testing.T, lab string) []string {
	var left []string
	for _, mnt := range cgroupMounts(t) {
		if _, err := os.Stat(mnt + "/labnet/" + lab); err == nil {
			left = append(left, mnt+"/labnet/"+lab)
		}
	}
	return left
}

// labMounts lists the mounts of lab's bundles (overlays) that any
// process's mount namespace still holds.
func labMounts(lab string) []string {
	var left []string
	seen := map[string]bool{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		b, err := os.ReadFile("/proc/" + e.Name() + "/mounts")
		if err != nil {
			continue
		}
		for _, l := range strings.Split(string(b), "\n") {
			if strings.Contains(l, "/run/labnet/"+lab+"/") && !seen[l] {
				seen[l] = true
				cmd, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
				stat, _ := os.ReadFile("/proc/" + e.Name() + "/stat")
				left = append(left, "pid "+e.Name()+" ("+strings.TrimSpace(string(bytes.ReplaceAll(cmd, []byte{0}, []byte{' '})))+"; stat "+
					strings.Join(strings.Fields(string(stat))[:min(5, len(strings.Fields(string(stat))))], " ")+"): "+l)
			}
		}
	}
	return left
}

// TestImageLifecycle: an image container's exit code, a kill, an OOM kill
// and a lost supervisor are drift with how it ended, which apply repairs
// by starting it again; inspect shows its image, digest and state; logs
// keep every run's output. memory and cpus are in its cgroup (read from
// the machine's cgroup files), change in place (the same process keeps
// running), are judged when set by hand, and go with it. Its namespaces
// are its own but the network one, which labnet made and wired before its
// entrypoint started; its capabilities are Docker's.
func TestImageLifecycle(t *testing.T) {
	testutil.NeedRoot(t)
	testutil.NeedTools(t, "runc", "busybox")
	l := newLab(t, "testdata/images-life")
	buildBusybox(t, l.dir)
	l.must(0, "apply", "-auto-approve")
	l.must(0, "test")
	l.must(0, "plan", "-detailed-exitcode")

	host := func(script string) string { return l.must(0, "exec", "host.node", "--", "sh", "-c", script) }
	id := func(name string) string { return "labnet." + l.name + "." + name }
	initPid := func(name string) string {
		var st struct {
			Pid    int    `json:"pid"`
			Status string `json:"status"`
		}
		if err := json.Unmarshal([]byte(host("runc state "+id(name))), &st); err != nil {
			t.Fatal(err)
		}
		return strconv.Itoa(st.Pid)
	}
	// waitStopped waits until runc sees the container stopped.
	waitStopped := func(name string) {
		t.Helper()
		for i := 0; ; i++ {
			out, _, _ := l.run("exec", "host.node", "--", "runc", "state", id(name))
			if strings.Contains(out, `"status": "stopped"`) {
				return
			}
			if i == 50 {
				t.Fatalf("%s does not stop:\n%s", name, out)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	planShows := func(want ...string) {
		t.Helper()
		out := l.must(2, "plan", "-detailed-exitcode")
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("plan does not show %q:\n%s", w, out)
			}
		}
	}
	cgroup := func(name string) string { return "/labnet/" + l.name + "/node/" + name }

	// Namespaces, hostname, pid 1, capabilities.
	if out := l.must(0, "exec", "container.web", "--", "sh", "-c", "hostname; cat /lab/boot-hostname; tr '\\0' ' ' </proc/1/cmdline; echo; grep -E '^Cap(Prm|Eff|Bnd)' /proc/1/status"); out != "web\nweb\nhttpd -f -p 80 -h /www \nCapPrm:\t00000000a80425fb\nCapEff:\t00000000a80425fb\nCapBnd:\t00000000a80425fb\n" {
		t.Errorf("inside web: %q (want hostname web, pid 1 httpd, Docker's capabilities)", out)
	}
	if boot := l.must(0, "exec", "container.web", "--", "cat", "/lab/boot-addr"); !strings.Contains(boot, "eth0") || !strings.Contains(boot, "inet 172.29.0.") {
		t.Errorf("the entrypoint did not start in the wired namespace: it saw %q", boot)
	}
	pid := initPid("web")
	ns := host("for n in net pid ipc uts mnt; do echo $n $(readlink /proc/" + pid + "/ns/$n) $(readlink /proc/self/ns/$n); done; echo netns $(stat -L -c %i /run/netns/ln." + l.name + ".web)")
	var netnsIno string
	for _, line := range strings.Split(strings.TrimSpace(ns), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 2 && f[0] == "netns":
			netnsIno = f[1]
		case len(f) != 3:
			t.Fatalf("namespaces: %q", ns)
		case f[0] != "net" && f[1] == f[2]:
			t.Errorf("web shares the host's %s namespace (%s)", f[0], f[1])
		}
	}
	if !strings.Contains(ns, "net net:["+netnsIno+"]") {
		t.Errorf("web is not in the network namespace labnet made (inode %s):\n%s", netnsIno, ns)
	}
	if out := host("ls /proc/" + pid + "/root/proc | grep -c '^[0-9]'"); strings.TrimSpace(out) != "1" {
		t.Errorf("web's pid namespace has %s processes, wants 1 (httpd)", out)
	}

	// Limits, as the kernel has them.
	if mem, cpu := cgroupLimits(t, cgroup("web")); mem != "67108864" || cpu != "50000 100000" {
		t.Errorf("web's cgroup: memory %s cpu %s, wants 67108864 and 50000 100000", mem, cpu)
	}
	if mem, cpu := cgroupLimits(t, cgroup("exiter")); mem != "max" || cpu != "max 100000" {
		t.Errorf("exiter's cgroup: memory %s cpu %s, wants no limits", mem, cpu)
	}
	// By effect: a second of busy loop in client (a tenth of a CPU) uses
	// about a tenth of a second, and is throttled.
	usage0, _ := cpuUsage(t, cgroup("client"))
	l.must(0, "exec", "container.client", "--", "sh", "-c", "timeout 1 sh -c 'while :; do :; done'; true")
	usage1, throttled := cpuUsage(t, cgroup("client"))
	if used := usage1 - usage0; used > 300*time.Millisecond || throttled == 0 {
		t.Errorf("a second of busy loop at cpus = 0.1 used %v of CPU, throttled %d times", used, throttled)
	} else {
		t.Logf("a second of busy loop at cpus = 0.1 used %v of CPU, throttled %d times", used, throttled)
	}
	// A change of both is an update in place.
	vars := []string{"-var", "memory=128MiB", "-var", "cpus=1.5"}
	out := l.must(2, append([]string{"plan", "-detailed-exitcode"}, vars...)...)
	if add, change, destroy := planCounts(t, out); add != 0 || change != 1 || destroy != 0 || !strings.Contains(out, `~ memory               = "64MiB" -> "128MiB"`) {
		t.Errorf("a change of limits is not one update in place:\n%s", out)
	}
	l.must(0, append([]string{"apply", "-auto-approve"}, vars...)...)
	if mem, cpu := cgroupLimits(t, cgroup("web")); mem != "134217728" || cpu != "150000 100000" {
		t.Errorf("after the update web's cgroup has memory %s cpu %s", mem, cpu)
	}
	if p := initPid("web"); p != pid {
		t.Errorf("the update restarted web (pid %s, was %s)", p, pid)
	}
	l.must(0, append([]string{"plan", "-detailed-exitcode"}, vars...)...)
	// Set by hand: drift, repaired in place.
	m := cgroupMounts(t)
	memFile, cpuFile, cpuVal := m[""]+cgroup("web")+"/memory.max", m[""]+cgroup("web")+"/cpu.max", "max 100000"
	if mem, ok := m["memory"]; ok {
		memFile, cpuFile, cpuVal = mem+cgroup("web")+"/memory.limit_in_bytes", m["cpu"]+cgroup("web")+"/cpu.cfs_quota_us", "-1"
	}
	if err := os.WriteFile(memFile, []byte("300000000"), 0); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cpuFile, []byte(cpuVal), 0); err != nil {
		t.Fatal(err)
	}
	out = l.must(2, "plan", "-detailed-exitcode", "-var", "memory=128MiB", "-var", "cpus=1.5")
	for _, w := range []string{"memory limit is 292968KiB, wants 128MiB", "cpus is unlimited, wants 1.5"} {
		if !strings.Contains(out, w) {
			t.Errorf("plan does not show %q:\n%s", w, out)
		}
	}
	l.must(0, append([]string{"apply", "-auto-approve"}, vars...)...)
	if mem, cpu := cgroupLimits(t, cgroup("web")); mem != "134217728" || cpu != "150000 100000" || initPid("web") != pid {
		t.Errorf("after the repair web's cgroup has memory %s cpu %s (pid %s, was %s)", mem, cpu, initPid("web"), pid)
	}
	l.must(0, "apply", "-auto-approve") // back to the defaults

	// An exit code, recorded after labnet exited, in plan and inspect.
	l.must(0, "exec", "container.exiter", "--", "touch", "/dev/shm/stop")
	waitStopped("exiter")
	planShows("runc container " + id("exiter") + " stopped, exit code 3")
	var rows []struct {
		Node      string   `json:"node"`
		Addresses []string `json:"addresses"`
		State     string   `json:"state"`
		Detail    []string `json:"detail"`
	}
	if err := json.Unmarshal([]byte(l.must(0, "inspect", "-json")), &rows); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range rows {
		if r.Node == "container.exiter" {
			found = true
			if r.State != "drifted" || !strings.Contains(strings.Join(r.Detail, "\n"), "stopped, exit code 3") ||
				!strings.Contains(strings.Join(r.Addresses, " "), "image docker-archive:images/busybox.tar (sha256:") {
				t.Errorf("inspect shows exiter as %+v", r)
			}
		}
	}
	if !found {
		t.Errorf("inspect does not list container.exiter: %+v", rows)
	}
	if out := l.must(0, "inspect"); !strings.Contains(out, "container.exiter: runc container "+id("exiter")+" stopped, exit code 3") {
		t.Errorf("inspect's table:\n%s", out)
	}
	// The OOM kill of a child: the shell's exit code 137, and the kernel's count.
	l.must(0, "exec", "container.hog", "--", "touch", "/dev/shm/go")
	waitStopped("hog")
	planShows("runc container "+id("hog")+" stopped, exit code 137, out of memory (1 OOM kill(s) in its cgroup)",
		"runc container "+id("exiter")+" stopped, exit code 3")
	// A kill from outside.
	host("kill -9 " + initPid("client"))
	waitStopped("client")
	planShows("runc container " + id("client") + " stopped, killed by signal 9 (SIGKILL)")
	// apply restarts all three; the logs keep both runs.
	l.must(0, "apply", "-auto-approve")
	l.must(0, "plan", "-detailed-exitcode")
	if out := l.must(0, "logs", "container.exiter"); strings.Count(out, "waiting") != 2 || strings.Count(out, "exiting") != 1 {
		t.Errorf("exiter's log after a restart:\n%s", out)
	}

	// The supervisor gone, the container running: its end would go
	// unrecorded, so it is drift, repaired by a restart under a new one.
	sup := strings.TrimSpace(host("pgrep -f '[s]upervise.py /run/labnet/" + l.name + "/runc/client '"))
	if f := strings.Fields(host("cat /run/labnet/" + l.name + "/runc/client/supervisor")); len(f) != 2 || f[0] != sup {
		t.Fatalf("client's supervisor: %q, its pid file %q", sup, f)
	}
	host("kill -9 " + sup)
	planShows("runc container " + id("client") + " runs without its supervisor")
	l.must(0, "apply", "-auto-approve")
	l.must(0, "plan", "-detailed-exitcode")
	l.must(0, "test")

	// A file changed in the lab is written into web's layer, and web
	// restarts to serve it.
	out = l.must(2, "plan", "-detailed-exitcode", "-var", "greeting=hello again")
	if add, change, destroy := planCounts(t, out); add != 0 || change != 1 || destroy != 0 {
		t.Errorf("a changed file is not one update:\n%s", out)
	}
	l.must(0, "apply", "-auto-approve", "-var", "greeting=hello again")
	if out := l.must(0, "test", "-var", "greeting=hello again"); !strings.Contains(out, "1 passed, 0 failed") {
		t.Errorf("web does not serve its new file:\n%s", out)
	}
	l.must(0, "plan", "-detailed-exitcode", "-var", "greeting=hello again")

	// Removing the containers removes their cgroups (the host's dir too).
	os.WriteFile(filepath.Join(l.dir, "main.hcl"), []byte(strings.SplitN(mustRead(t, filepath.Join(l.dir, "main.hcl")), "# Notes what", 2)[0]), 0o644)
	l.must(0, "apply", "-auto-approve")
	for _, mnt := range cgroupMounts(t) {
		if _, err := os.Stat(mnt + "/labnet/" + l.name + "/node"); err == nil {
			t.Errorf("%s/labnet/%s/node is left after the containers went", mnt, l.name)
		}
	}
	if out := host("runc list -q; pgrep -af '[s]upervise.py'; true"); strings.Contains(out, l.name) {
		t.Errorf("left after the containers went:\n%s", out)
	}
	// destroy leaves no cgroup, mount or process of the lab.
	l.must(0, "apply", "-auto-approve")
	l.must(0, "destroy", "-auto-approve")
	if left := append(append(labCgroups(t, l.name), labMounts(l.name)...), leftovers(l.name)...); len(left) > 0 {
		t.Errorf("destroy left:\n%s", strings.Join(left, "\n"))
	}
}

// TestImageLimitWithoutController: on a host whose kernel shows no memory
// controller (labnet and its netns host run in a mount namespace where
// the memory hierarchy is unmounted, or on cgroup v2 where no hierarchy
// is mounted at all), a container with a memory limit fails its apply
// with a message that says so, before runc runs.
func TestImageLimitWithoutController(t *testing.T) {
	testutil.NeedRoot(t)
	testutil.NeedTools(t, "runc", "busybox", "unshare")
	l := newLab(t, "testdata/images-limit")
	buildBusybox(t, l.dir)
	hide := "mount -t tmpfs labnet-test /sys/fs/cgroup" // cgroup v2: one hierarchy, hidden whole
	if mem, ok := cgroupMounts(t)["memory"]; ok {
		hide = "umount -l " + mem
	}
	cmd := exec.Command("unshare", "-m", "--propagation", "private", "sh", "-c", hide+` && exec "$0" "$@"`,
		labnetBin, "-chdir="+l.dir, "apply", "-auto-approve")
	out, err := cmd.CombinedOutput()
	t.Logf("$ unshare -m ... %s labnet apply\n%s", hide, out)
	if err == nil || !strings.Contains(string(out), "container.worker") ||
		!strings.Contains(string(out), "this host has no memory cgroup controller: the container's memory limit cannot be set") {
		t.Errorf("apply without a memory controller: %v", err)
	}
}
