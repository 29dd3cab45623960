package apply

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/labnet-dev/labnet/config"
	"github.com/labnet-dev/labnet/hostnet"
	"github.com/labnet-dev/labnet/kinds"
	"github.com/labnet-dev/labnet/plan"
	"github.com/labnet-dev/labnet/state"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	got = []byte(hostnet.ElidePrograms(string(got)))
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run go test -update after checking):\n--- got ---\n%s\n--- want ---\n%s", path, got, want)
	}
}

// ch is a shorthand for a change: deps are used as both Deps (create
// order) and OldDeps (delete order).
func ch(id int, addr string, a plan.Action, deps ...string) *plan.Change {
	c := &plan.Change{ID: id, Addr: addr, Kind: strings.SplitN(addr, ".", 2)[0], Action: a}
	if a != plan.Create {
		c.OldDeps = deps
	}
	if a != plan.Delete {
		c.Deps = deps
	}
	return c
}

// layout renders stages as "del:x mk:y | ..." for comparison.
func layout(st [][]*node) string {
	var parts []string
	for _, s := range st {
		var l []string
		for _, n := range s {
			p := "mk:"
			if n.delete {
				p = "del:"
			}
			l = append(l, p+n.change.Addr)
		}
		parts = append(parts, strings.Join(l, " "))
	}
	return strings.Join(parts, " | ")
}

func TestStages(t *testing.T) {
	tests := []struct {
		name    string
		changes []*plan.Change
		want    string
	}{
		{"empty", nil, ""},
		{"deletes before creates",
			[]*plan.Change{ch(0, "container.a", plan.Create), ch(1, "container.b", plan.Delete)},
			"del:container.b | mk:container.a"},
		{"dependants deleted before dependencies",
			[]*plan.Change{ch(0, "host.h", plan.Delete), ch(1, "bridge.b", plan.Delete, "host.h"),
				ch(2, "container.c", plan.Delete, "bridge.b", "host.h"), ch(3, "process.p", plan.Delete, "container.c")},
			"del:process.p | del:container.c | del:bridge.b | del:host.h"},
		{"creates after their dependencies",
			[]*plan.Change{ch(0, "network.n", plan.Create), ch(1, "host.h", plan.Create, "network.n"), ch(2, "bridge.b", plan.Create, "host.h"),
				ch(3, "container.c", plan.Create, "bridge.b", "host.h"), ch(4, "process.p", plan.Create, "container.c")},
			"mk:network.n | mk:host.h | mk:bridge.b | mk:container.c | mk:process.p"},
		{"dependencies that do not change are no constraint",
			[]*plan.Change{ch(3, "container.c", plan.Create, "bridge.b", "host.h"), ch(4, "process.p", plan.Update, "container.c")},
			"mk:container.c | mk:process.p"},
		{"replace is a delete node and a create node",
			[]*plan.Change{ch(0, "container.c", plan.Replace, "bridge.b")},
			"del:container.c | mk:container.c"},
		{"replaced host with what is on it",
			[]*plan.Change{ch(0, "host.h", plan.Replace), ch(1, "bridge.b", plan.Replace, "host.h"), ch(2, "container.c", plan.Replace, "bridge.b", "host.h"),
				ch(3, "container.other", plan.Update, "bridge.x")},
			"del:container.c | del:bridge.b | del:host.h | mk:host.h mk:container.other | mk:bridge.b | mk:container.c"},
		{"independent resources share a stage, in ID order",
			[]*plan.Change{ch(5, "container.e", plan.Create, "bridge.b"), ch(1, "container.a", plan.Create, "bridge.b"), ch(3, "container.c", plan.Update),
				ch(2, "container.x", plan.Delete, "bridge.b"), ch(4, "container.y", plan.Delete)},
			"del:container.x del:container.y | mk:container.a mk:container.c mk:container.e"},
		{"a delete waits for its dependants only",
			[]*plan.Change{ch(0, "bridge.b", plan.Delete, "host.h"), ch(1, "container.c", plan.Delete, "bridge.b"), ch(2, "container.d", plan.Delete)},
			"del:container.c del:container.d | del:bridge.b"},
		{"a cycle does not hang",
			[]*plan.Change{ch(0, "container.a", plan.Create, "container.b"), ch(1, "container.b", plan.Create, "container.a")},
			""}, // only that it ends; checked below
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := stages(&plan.Plan{Changes: tt.changes})
			if tt.name == "a cycle does not hang" {
				n := 0
				for _, s := range st {
					n += len(s)
				}
				if n != 2 {
					t.Errorf("cycle: %d nodes in %s", n, layout(st))
				}
				return
			}
			if got := layout(st); got != tt.want {
				t.Errorf("stages:\n got %s\nwant %s", got, tt.want)
			}
			checkOrder(t, st)
		})
	}
}

// checkOrder asserts the invariants of stages: every delete before every
// create; a delete after its dependants' deletes; a create after its
// dependencies' creates; each node once.
func checkOrder(t *testing.T, st [][]*node) {
	t.Helper()
	del, mk := map[string]int{}, map[string]int{}
	lastDel, firstMk := -1, len(st)
	for i, s := range st {
		if len(s) == 0 {
			t.Errorf("stage %d is empty", i)
		}
		for _, n := range s {
			m := mk
			if n.delete {
				m = del
				lastDel = max(lastDel, i)
			} else {
				firstMk = min(firstMk, i)
			}
			if _, dup := m[n.change.Addr]; dup {
				t.Errorf("%s appears twice", n.change.Addr)
			}
			m[n.change.Addr] = i
		}
	}
	if lastDel >= firstMk {
		t.Errorf("a delete (stage %d) runs with or after a create (stage %d)", lastDel, firstMk)
	}
	for _, s := range st {
		for _, n := range s {
			if n.delete {
				for _, d := range n.change.OldDeps {
					if l, ok := del[d]; ok && l <= del[n.change.Addr] {
						t.Errorf("%s is deleted (stage %d) before its dependant %s (stage %d)", d, l, n.change.Addr, del[n.change.Addr])
					}
				}
			} else {
				for _, d := range n.change.Deps {
					if l, ok := mk[d]; ok && l >= mk[n.change.Addr] {
						t.Errorf("%s is made (stage %d) before its dependency %s (stage %d)", n.change.Addr, mk[n.change.Addr], d, l)
					}
				}
			}
		}
	}
}

// scaleLab writes and loads a lab of n containers, each running a process.
func scaleLab(t testing.TB, n int) []*kinds.Resource {
	t.Helper()
	dir := t.TempDir()
	hcl := fmt.Sprintf(`lab { name = "scale" }
network "lan" { cidr = "192.168.60.0/24" }
host "node" {
  count   = 2
  network = network.lan
}
bridge "br0" {
  count      = 2
  host       = host.node[count.index]
  cidr       = "10.10.0.0/16"
  masquerade = true
}
container "c" {
  count  = %d
  host   = host.node[count.index %% 2]
  bridge = bridge.br0[count.index %% 2]
  port {
    host_port = 10000 + count.index
    port      = 80
  }
}
process "p" {
  count   = %d
  on      = container.c[count.index]
  command = ["sleep", "1d"]
}
`, n, n)
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(hcl), 0o644); err != nil {
		t.Fatal(err)
	}
	lab, files, diags := config.Load(dir, config.Options{})
	if diags.HasErrors() {
		var b strings.Builder
		_ = config.WriteDiagnostics(&b, files, diags, false)
		t.Fatal(b.String())
	}
	return kinds.Expand(lab)
}

func TestStagesDoNotGrowWithContainers(t *testing.T) {
	count := func(n int) (create, destroy, nodes int) {
		want := scaleLab(t, n)
		p := plan.Make("scale", want, nil, plan.Observations{}, plan.Options{})
		st := stages(p)
		checkOrder(t, st)
		for _, s := range st {
			nodes += len(s)
		}
		prior := state.New("scale")
		for _, w := range want {
			prior.Put(&state.Resource{Addr: w.Addr, Kind: w.Kind, Host: w.Host, Attrs: w.Attrs, Deps: w.Deps})
		}
		d := stages(plan.Make("scale", want, prior, plan.Observations{}, plan.Options{Destroy: true}))
		checkOrder(t, d)
		return len(st), len(d), nodes
	}
	c10, d10, n10 := count(10)
	c100, d100, n100 := count(100)
	if c10 != c100 || d10 != d100 {
		t.Errorf("stages grow with containers: create %d vs %d, destroy %d vs %d", c10, c100, d10, d100)
	}
	// network, hosts, bridges and nat tables, containers, processes
	if c10 != 5 || d10 != 5 {
		t.Errorf("create %d stages, destroy %d; want 5 each", c10, d10)
	}
	// 1 network, 2 hosts, 2 bridges, 2 nat tables, n containers, n processes
	if n10 != 7+20 || n100 != 7+200 {
		t.Errorf("nodes %d and %d", n10, n100)
	}
}

// shapedChange is container.web[0] with a rate, delay and loss.
func shapedChange(t *testing.T, a plan.Action, rate, delay, loss string) *plan.Change {
	t.Helper()
	c := dockerChange(t, "container.web[0]", a)
	for _, m := range []*map[string]string{&c.Before, &c.After} {
		if *m != nil {
			*m = maps.Clone(*m)
			(*m)["rate"], (*m)["delay"], (*m)["loss"] = rate, delay, loss
		}
	}
	return c
}

// dockerChange is container.web[0] (or another resource) of the docker lab
// as a change with the given action.
func dockerChange(t *testing.T, addr string, a plan.Action) *plan.Change {
	t.Helper()
	return labChange(t, "docker", addr, a)
}

// isoChange is a resource of the isolation lab (containers with private
// dirs and files) as a change with the given action.
func isoChange(t *testing.T, addr string, a plan.Action) *plan.Change {
	t.Helper()
	return labChange(t, "isolation", addr, a)
}

func labChange(t *testing.T, dir, addr string, a plan.Action) *plan.Change {
	t.Helper()
	lab, _, diags := config.Load("../config/testdata/valid/"+dir, config.Options{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	for _, r := range kinds.Expand(lab) {
		if r.Addr == addr {
			c := &plan.Change{Addr: r.Addr, Kind: r.Kind, Host: r.Host, Action: a, Deps: r.Deps}
			if a != plan.Create {
				c.Before, c.OldDeps = r.Attrs, r.Deps
			}
			if a != plan.Delete {
				c.After = r.Attrs
			}
			return c
		}
	}
	t.Fatalf("no %s", addr)
	return nil
}

func TestStepGolden(t *testing.T) {
	n := hostnet.Names{Lab: "docker"}
	web := dockerChange(t, "container.web[0]", plan.Create)
	veth, netns := web.After["veth"], web.After["netns"]
	// web-0's mount and UTS namespaces as its create makes them.
	webIso := map[string]*hostnet.IsoSeen{n.MountNS("web-0"): {Mount: true, UTS: true, Hostname: "web-0", Hosts: true, SysMAC: n.MAC("container.web[0]")}}
	webIsoFiles := map[string]bool{"web-0.mnt": true, "web-0.uts": true}
	obsAll := &hostnet.Observed{Links: map[string]hostnet.Link{veth: {Name: veth}, "docker0": {Name: "docker0"}}, Netns: map[string]*hostnet.Netns{netns: {}},
		Iso: webIso, IsoFiles: webIsoFiles}
	obsVeth := &hostnet.Observed{Links: map[string]hostnet.Link{veth: {Name: veth}}, Netns: map[string]*hostnet.Netns{}}
	obsNetns := &hostnet.Observed{Links: map[string]hostnet.Link{}, Netns: map[string]*hostnet.Netns{netns: {}}}
	obsNone := &hostnet.Observed{Links: map[string]hostnet.Link{}, Netns: map[string]*hostnet.Netns{}}
	obsTbf := &hostnet.Observed{Links: obsAll.Links, Netns: map[string]*hostnet.Netns{netns: {
		Links: map[string]hostnet.Link{"eth0": {Name: "eth0", Qdisc: "tbf"}}, Qdisc: &hostnet.Qdisc{Kind: "tbf", Read: true, Rate: 12.5e6}}},
		Iso: webIso, IsoFiles: webIsoFiles}
	// A router of the isolation lab: its files and private dirs as made,
	// then with drift (a file changed by hand, a private dir unmounted,
	// another hostname).
	in := hostnet.Names{Lab: "iso"}
	r0 := isoChange(t, "container.r[0]", plan.Create).After
	r0Seen := func() *hostnet.IsoSeen {
		c, err := kinds.GuestOf("container.r[0]", r0)
		if err != nil {
			t.Fatal(err)
		}
		s := &hostnet.IsoSeen{Mount: true, UTS: true, Hostname: "r-0", Hosts: true, SysMAC: in.MAC("container.r[0]"), Tmpfs: c.Iso.Dirs, Files: map[string]hostnet.FileSeen{}}
		for _, f := range c.Iso.Files {
			s.Files[f.Path] = hostnet.FileSeen{SHA256: f.Digest(), Mode: f.Mode}
		}
		return s
	}
	r0Obs := func(tamper func(*hostnet.IsoSeen)) *hostnet.Observed {
		s := r0Seen()
		tamper(s)
		return &hostnet.Observed{Links: map[string]hostnet.Link{r0["veth"]: {Name: r0["veth"]}}, Netns: map[string]*hostnet.Netns{r0["netns"]: {}},
			Iso: map[string]*hostnet.IsoSeen{r0["mount_ns"]: s}, IsoFiles: map[string]bool{"r-0.mnt": true, "r-0.uts": true}}
	}
	r0Drift := r0Obs(func(s *hostnet.IsoSeen) {
		s.Hostname = "other"
		s.Files["/etc/frr/daemons"] = hostnet.FileSeen{SHA256: "00", Mode: 0o644}
		s.Tmpfs = []string{"/etc/frr"}
	})
	r0FileGone := isoChange(t, "container.r[0]", plan.Update)
	r0FileGone.Before = maps.Clone(r0FileGone.Before)
	r0FileGone.Before["file:/etc/frr/old.conf"] = kinds.FileAttr(0o600, []byte("x"))
	cases := []struct {
		name string
		c    *plan.Change
		del  bool
		obs  *hostnet.Observed
	}{
		{"container create", web, false, nil},
		{"container create (replace, create half)", dockerChange(t, "container.web[0]", plan.Replace), false, obsNone},
		{"container update", dockerChange(t, "container.web[0]", plan.Update), false, obsAll},
		{"container delete, not observed", dockerChange(t, "container.web[0]", plan.Delete), true, nil},
		{"container delete, all there", dockerChange(t, "container.web[0]", plan.Delete), true, obsAll},
		{"container delete, veth only", dockerChange(t, "container.web[0]", plan.Delete), true, obsVeth},
		{"container delete, netns only", dockerChange(t, "container.web[0]", plan.Delete), true, obsNetns},
		{"container delete, nothing left", dockerChange(t, "container.web[0]", plan.Delete), true, obsNone},
		{"container delete (replace, delete half)", dockerChange(t, "container.web[0]", plan.Replace), true, obsAll},
		{"bridge create", dockerChange(t, "bridge.docker0[0]", plan.Create), false, nil},
		{"bridge update", dockerChange(t, "bridge.docker0[0]", plan.Update), false, obsAll},
		{"bridge update, bridge gone", dockerChange(t, "bridge.docker0[0]", plan.Update), false, obsNone},
		{"bridge delete", dockerChange(t, "bridge.docker0[0]", plan.Delete), true, obsAll},
		{"bridge delete, bridge gone", dockerChange(t, "bridge.docker0[0]", plan.Delete), true, obsNone},
		{"process create", dockerChange(t, "process.web[0]", plan.Create), false, nil},
		{"process delete", dockerChange(t, "process.web[0]", plan.Delete), true, nil},
		{"nat table create", dockerChange(t, "nat_table.node-0", plan.Create), false, nil},
		{"nat table delete", dockerChange(t, "nat_table.node-0", plan.Delete), true, nil},
		// Shaping: after the inside configuration, only when it can matter.
		{"shaped container create (rate)", shapedChange(t, plan.Create, "100mbit", "", ""), false, nil},
		{"shaped container update (delay, loss, rate)", shapedChange(t, plan.Update, "10mbit", "20ms", "0.5%"), false, obsAll},
		{"container update, tbf seen and none wanted", dockerChange(t, "container.web[0]", plan.Update), false, obsTbf},
		{"container update, not observed", dockerChange(t, "container.web[0]", plan.Update), false, nil},
		{"shaped container delete", shapedChange(t, plan.Delete, "100mbit", "", ""), true, obsTbf},
		// Containers' own namespaces, private dirs and files.
		{"isolated container create (private dirs, files)", isoChange(t, "container.r[0]", plan.Create), false, nil},
		{"isolated container update, all as made", isoChange(t, "container.r[0]", plan.Update), false, r0Obs(func(*hostnet.IsoSeen) {})},
		{"isolated container update, hostname, a file and a private dir drifted", isoChange(t, "container.r[0]", plan.Update), false, r0Drift},
		{"isolated container update, not observed", isoChange(t, "container.r[0]", plan.Update), false, nil},
		{"isolated container update, a file no longer in the lab", r0FileGone, false, r0Obs(func(*hostnet.IsoSeen) {})},
		{"isolated container delete, namespace files listed", isoChange(t, "container.r[0]", plan.Delete), true, r0Obs(func(*hostnet.IsoSeen) {})},
		{"isolated container delete, namespace files gone", isoChange(t, "container.r[0]", plan.Delete), true,
			&hostnet.Observed{Links: map[string]hostnet.Link{}, Netns: map[string]*hostnet.Netns{r0["netns"]: {}}}},
		{"process create on an isolated container", isoChange(t, "process.zebra[0]", plan.Create), false, nil},
	}
	var b strings.Builder
	var script hostnet.Script
	for i, tc := range cases {
		names := n
		if strings.HasPrefix(tc.name, "isolated") || strings.HasSuffix(tc.name, "isolated container") {
			names = in
		}
		s := mustStep(t, names, tc.c, tc.del, tc.obs)
		fmt.Fprintf(&b, "== %s ==\n", tc.name)
		if len(s.Batch) > 0 {
			fmt.Fprintf(&b, "batch:\n  %s\n", strings.Join(s.Batch, "\n  "))
		}
		if s.Inside != nil && s.Inside.Iso != nil {
			j, err := json.MarshalIndent(s.Inside.Iso, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "iso (inside.py):\n%s\n", j)
		}
		if s.Shell != "" {
			fmt.Fprintf(&b, "shell:\n%s\n", s.Shell)
		}
		if s.Verify != "" {
			fmt.Fprintf(&b, "verify:\n%s\n", s.Verify)
		}
		if s.Unbind != nil {
			fmt.Fprintf(&b, "unbind: %s (dir %s)\n", strings.Join(s.Unbind.Files, " "), s.Unbind.Dir)
		}
		if len(s.Batch) == 0 && s.Shell == "" && s.Verify == "" && s.Unbind == nil && (s.Inside == nil || s.Inside.Iso == nil) {
			b.WriteString("(nothing)\n")
		}
		b.WriteString("\n")
		s.ID = i
		script.Steps = append(script.Steps, s)
	}
	golden(t, "steps.golden", []byte(b.String()))
	// All of them in one script still parse.
	f := filepath.Join(t.TempDir(), "s.sh")
	if err := os.WriteFile(f, []byte(script.Render()), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("sh", "-n", f).CombinedOutput(); err != nil {
		t.Errorf("sh -n: %v\n%s", err, out)
	}
}

// Deletions touch only what refresh saw; creations do not depend on it.
func TestStepUsesObservations(t *testing.T) {
	n := hostnet.Names{Lab: "docker"}
	del := dockerChange(t, "container.client[1]", plan.Delete)
	veth, netns := del.Before["veth"], del.Before["netns"]
	tests := []struct {
		obs  *hostnet.Observed
		want []string
	}{
		// A deleted namespace takes its veth along: no `link del` then.
		{nil, []string{"netns del " + netns}},
		{&hostnet.Observed{Links: map[string]hostnet.Link{veth: {}}, Netns: map[string]*hostnet.Netns{netns: {}}}, []string{"netns del " + netns}},
		{&hostnet.Observed{Links: map[string]hostnet.Link{veth: {}}}, []string{"link del dev " + veth}},
		{&hostnet.Observed{Netns: map[string]*hostnet.Netns{netns: {}}}, []string{"netns del " + netns}},
		{&hostnet.Observed{}, nil},
	}
	for i, tt := range tests {
		if got := mustStep(t, n, del, true, tt.obs).Batch; !reflect.DeepEqual(got, tt.want) {
			t.Errorf("case %d: batch %q, want %q", i, got, tt.want)
		}
	}
	// A replacement removes the veth itself: its name is reused at once.
	rep := dockerChange(t, "container.client[1]", plan.Replace)
	if got := mustStep(t, n, rep, true, nil).Batch; !reflect.DeepEqual(got, []string{"link del dev " + veth, "netns del " + netns}) {
		t.Errorf("replace: batch %q", got)
	}
	cr := dockerChange(t, "container.client[1]", plan.Create)
	if a, b := mustStep(t, n, cr, false, nil), mustStep(t, n, cr, false, &hostnet.Observed{}); !reflect.DeepEqual(a, b) {
		t.Errorf("create depends on observations:\n%+v\n%+v", a, b)
	}
	// A process's delete kills by its owner mark, its create verifies it.
	p := mustStep(t, n, dockerChange(t, "process.web[1]", plan.Create), false, nil)
	if !strings.Contains(p.Shell, "LABNET_OWNER=docker/node-1/process.web[1]") || !strings.Contains(p.Verify, hostnet.FindOwned("docker/node-1/process.web[1]")) {
		t.Errorf("process step %+v", p)
	}
	if d := mustStep(t, n, dockerChange(t, "process.web[1]", plan.Delete), true, nil); d.Shell != hostnet.KillOwned("docker/node-1/process.web[1]") || len(d.Batch) != 0 {
		t.Errorf("process delete %+v", d)
	}
}

func mustStep(t testing.TB, n hostnet.Names, c *plan.Change, del bool, obs *hostnet.Observed) hostnet.Step {
	t.Helper()
	s, err := Step(n, c, del, obs)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
