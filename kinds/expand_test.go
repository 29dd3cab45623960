package kinds_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/labnet-dev/labnet/config"
	"github.com/labnet-dev/labnet/hostnet"
	"github.com/labnet-dev/labnet/kinds"
	"github.com/labnet-dev/labnet/provider"
)

func load(t *testing.T, dir string, vars map[string]string) *config.Lab {
	t.Helper()
	lab, _, diags := config.Load(dir, config.Options{Vars: vars})
	if diags.HasErrors() || lab == nil {
		t.Fatalf("load %s: %v", dir, diags)
	}
	return lab
}

func byAddr(rs []*kinds.Resource) map[string]*kinds.Resource {
	m := map[string]*kinds.Resource{}
	for _, r := range rs {
		m[r.Addr] = r
	}
	return m
}

func TestDockerLabKinds(t *testing.T) {
	for _, n := range []int{2, 3, 5} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			rs := kinds.Expand(load(t, "../config/testdata/valid/docker", map[string]string{"hosts": fmt.Sprint(n)}))
			count := map[string]int{}
			for _, r := range rs {
				count[r.Kind]++
			}
			want := map[string]int{kinds.Network: 1, kinds.Host: n, kinds.Bridge: n, kinds.Container: 2 * n, kinds.Process: n, kinds.NatTable: n}
			if !reflect.DeepEqual(count, want) {
				t.Errorf("kinds = %v, want %v", count, want)
			}
			if len(byAddr(rs)) != len(rs) {
				t.Errorf("duplicate addresses")
			}
		})
	}
}

func TestDockerLabAttrs(t *testing.T) {
	rs := byAddr(kinds.Expand(load(t, "../config/testdata/valid/docker", nil)))
	n := hostnet.Names{Lab: "docker"}
	tests := []struct {
		addr, kind, host string
		attrs            map[string]string
		deps             []string
	}{
		{"network.lan", kinds.Network, "", map[string]string{"name": "lan", "cidr": "192.168.50.0/24", "gateway": "192.168.50.254", "provider": "netns"}, nil},
		{"host.node[1]", kinds.Host, "host.node[1]", map[string]string{"name": "node-1", "network": "network.lan", "address": "192.168.50.12",
			"provider": "netns", "network_name": "lan", "network_cidr": "192.168.50.0/24", "network_gateway": "192.168.50.254"}, []string{"network.lan"}},
		{"bridge.docker0[0]", kinds.Bridge, "host.node[0]", map[string]string{"host": "host.node[0]", "ifname": "docker0", "cidr": "172.17.0.0/16",
			"gateway": "172.17.0.1", "masquerade": "true"}, []string{"host.node[0]"}},
		{"container.web[0]", kinds.Container, "host.node[0]", map[string]string{"host": "host.node[0]", "bridge": "bridge.docker0[0]",
			"bridge_ifname": "docker0", "address": "172.17.0.2", "bits": "16", "gateway": "172.17.0.1",
			"netns": "ln.docker.web-0", "veth": "lnae9f3ff2af", "ports": "8080/tcp->80",
			"mount_ns": "/run/labnet/docker/ns/web-0.mnt", "uts_ns": "/run/labnet/docker/ns/web-0.uts", "hostname": "web-0"}, []string{"bridge.docker0[0]", "host.node[0]"}},
		{"container.client[1]", kinds.Container, "host.node[1]", map[string]string{"host": "host.node[1]", "bridge": "bridge.docker0[1]",
			"bridge_ifname": "docker0", "address": "172.17.0.3", "bits": "16", "gateway": "172.17.0.1",
			"netns": "ln.docker.client-1", "veth": n.HostVeth("container.client[1]"),
			"mount_ns": n.MountNS("client-1"), "uts_ns": n.UTSNS("client-1"), "hostname": "client-1"}, []string{"bridge.docker0[1]", "host.node[1]"}},
		{"process.web[1]", kinds.Process, "host.node[1]", map[string]string{"on": "container.web[1]", "host": "host.node[1]", "host_name": "node-1",
			"netns": "ln.docker.web-1", "command": `["python3","-m","http.server","8000"]`, "owner": "docker/node-1/process.web[1]",
			"log": "/run/labnet/docker/web-1.log", "mount_ns": n.MountNS("web-1"), "uts_ns": n.UTSNS("web-1")}, []string{"container.web[1]"}},
	}
	for _, tt := range tests {
		r := rs[tt.addr]
		if r == nil {
			t.Errorf("%s is missing", tt.addr)
			continue
		}
		if r.Kind != tt.kind || r.Host != tt.host {
			t.Errorf("%s: kind %q host %q, want %q %q", tt.addr, r.Kind, r.Host, tt.kind, tt.host)
		}
		for k, v := range r.Attrs {
			if v == "" {
				t.Errorf("%s: empty attribute %s is kept (empty ones are left out)", tt.addr, k)
			}
		}
		if !reflect.DeepEqual(r.Attrs, tt.attrs) {
			t.Errorf("%s attrs:\n got %v\nwant %v", tt.addr, r.Attrs, tt.attrs)
		}
		if !reflect.DeepEqual(r.Deps, tt.deps) {
			t.Errorf("%s deps = %q, want %q", tt.addr, r.Deps, tt.deps)
		}
	}
	v := rs["container.web[0]"].Attrs["veth"]
	if len(v) != 12 || !strings.HasPrefix(v, "ln") || strings.Trim(v[2:], "0123456789abcdef") != "" {
		t.Errorf("veth %q is not ln + 10 hex digits", v)
	}
	if rs["container.web[0]"].Attrs["veth"] == rs["container.web[1]"].Attrs["veth"] {
		t.Errorf("two containers share a veth name")
	}
}

func TestDockerLabNatTables(t *testing.T) {
	rs := byAddr(kinds.Expand(load(t, "../config/testdata/valid/docker", nil)))
	for i, addr := range []string{"192.168.50.11", "192.168.50.12"} {
		r := rs[kinds.NatTableAddr(fmt.Sprintf("node-%d", i))]
		if r == nil {
			t.Fatalf("no nat table for node-%d", i)
		}
		host := fmt.Sprintf("host.node[%d]", i)
		if r.Kind != kinds.NatTable || r.Host != host || r.Attrs["host"] != host || r.Attrs["table"] != "labnet_docker" || !reflect.DeepEqual(r.Deps, []string{host}) {
			t.Errorf("nat table %s = %+v", r.Addr, r)
		}
		want := []hostnet.NatRule{
			{Owner: fmt.Sprintf("container.web[%d]", i), Kind: "dnat", Proto: "tcp", DstAddr: netip.MustParseAddr(addr), DstPort: 8080,
				ToAddr: netip.MustParseAddr("172.17.0.2"), ToPort: 80},
			{Owner: fmt.Sprintf("bridge.docker0[%d]", i), Kind: "masquerade", Source: netip.MustParsePrefix("172.17.0.0/16"), NotDest: netip.MustParsePrefix("172.17.0.0/16")},
		}
		var got []hostnet.NatRule
		if err := json.Unmarshal([]byte(r.Attrs["rules"]), &got); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s rules:\n got %v\nwant %v", r.Addr, got, want)
		}
	}
	if got := kinds.NatTableAddr("node-0"); got != "nat_table.node-0" {
		t.Errorf("NatTableAddr = %q", got)
	}
}

func TestNoNatTableWithoutRules(t *testing.T) {
	// count_foreach: bridges without masquerade; only edge hosts have
	// containers with ports, workers have none.
	rs := kinds.Expand(load(t, "../config/testdata/valid/count_foreach", nil))
	var tables []string
	for _, r := range rs {
		if r.Kind == kinds.NatTable {
			tables = append(tables, r.Addr)
			if r.Attrs["rules"] == "" || r.Attrs["rules"] == "null" || r.Attrs["rules"] == "[]" {
				t.Errorf("%s has no rules", r.Addr)
			}
		}
	}
	if !reflect.DeepEqual(tables, []string{"nat_table.edge-a", "nat_table.edge-b-2"}) {
		t.Errorf("nat tables = %v", tables)
	}
	// for_each containers: netns by name, owner/veth by address
	m := byAddr(rs)
	c := m[`container.app["one"]`]
	if c == nil {
		t.Fatalf("no container.app[\"one\"]; have %v", func() (l []string) {
			for _, r := range rs {
				l = append(l, r.Addr)
			}
			return
		}())
	}
	if c.Attrs["netns"] != "ln.fleet.app-one" || c.Attrs["ports"] != "9000/udp->9000" || c.Attrs["veth"] != (hostnet.Names{Lab: "fleet"}).HostVeth(`container.app["one"]`) {
		t.Errorf("container.app[\"one\"] attrs = %v", c.Attrs)
	}
	// a process on a host: no netns, host is its own
	p := m["process.agent[1]"]
	if p == nil || p.Host != "host.worker[1]" || p.Attrs["netns"] != "" || p.Attrs["on"] != "host.worker[1]" || p.Attrs["owner"] != "fleet/worker-1/process.agent[1]" {
		t.Errorf("process.agent[1] = %+v", p)
	}
}

func TestGateway(t *testing.T) {
	tests := []struct{ in, want string }{
		{"192.168.50.0/24", "192.168.50.254"},
		{"172.17.0.0/16", "172.17.255.254"},
		{"10.0.0.0/30", "10.0.0.2"},
		{"10.0.0.4/30", "10.0.0.6"},
		{"10.0.0.0/8", "10.255.255.254"},
		{"192.168.50.77/24", "192.168.50.254"}, // not masked
		{"0.0.0.0/0", "255.255.255.254"},
		{"10.1.2.0/29", "10.1.2.6"},
	}
	for _, tt := range tests {
		p := netip.MustParsePrefix(tt.in)
		if got := kinds.Gateway(p); got.String() != tt.want {
			t.Errorf("Gateway(%s) = %s, want %s", tt.in, got, tt.want)
		}
		if got, cfg := kinds.Gateway(p), config.NetworkGateway(p.Masked()); got != cfg {
			t.Errorf("Gateway(%s) = %s, config says %s", tt.in, got, cfg)
		}
	}
}

func TestObjectsFromAttrs(t *testing.T) {
	rs := byAddr(kinds.Expand(load(t, "../config/testdata/valid/docker", nil)))
	n := hostnet.Names{Lab: "docker"}
	c := rs["container.web[0]"]
	if got, want := mustGuest(t, c.Addr, c.Attrs), (hostnet.Container{Addr: "container.web[0]", Netns: n.Netns("web-0"),
		HostVeth: n.HostVeth("container.web[0]"), Bridge: "docker0", Address: netip.MustParseAddr("172.17.0.2"), Bits: 16,
		Gateway: netip.MustParseAddr("172.17.0.1"), Host: "host.node[0]",
		Iso: &hostnet.Isolation{MountNS: n.MountNS("web-0"), UTSNS: n.UTSNS("web-0"), Hostname: "web-0"}}); !reflect.DeepEqual(got, want) {
		t.Errorf("ContainerOf:\n got %+v %+v\nwant %+v %+v", got, got.Iso, want, want.Iso)
	}
	// Every resource's attributes parse into its kind's spec.
	for _, r := range rs {
		if err := kinds.Check(r.Kind, r.Addr, r.Attrs); err != nil {
			t.Errorf("%s: %v", r.Addr, err)
		}
	}
	nw := rs["network.lan"]
	wantNet := provider.Network{Addr: "network.lan", Name: "lan", CIDR: netip.MustParsePrefix("192.168.50.0/24"), Gateway: netip.MustParseAddr("192.168.50.254")}
	if got, err := kinds.NetworkOf(nw.Addr, nw.Attrs); err != nil || got != wantNet {
		t.Errorf("NetworkOf = %+v, %v", got, err)
	}
	h := rs["host.node[0]"]
	if got, err := kinds.HostOf(h.Addr, h.Attrs); err != nil || got != (provider.Host{Addr: "host.node[0]", Name: "node-0", Address: netip.MustParseAddr("192.168.50.11"), Network: wantNet}) {
		t.Errorf("HostOf = %+v, %v", got, err)
	}
	// Attributes survive a JSON round trip (the state) unchanged.
	for _, r := range rs {
		b, _ := json.Marshal(r.Attrs)
		var back map[string]string
		if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, r.Attrs) {
			t.Errorf("%s attrs do not round-trip", r.Addr)
		}
	}
}

// Every attribute named in ForceNew and Parent is one the kind has: a typo
// there would silently never force a replacement.
func TestForceNewAndParentNameRealAttrs(t *testing.T) {
	attrs := map[string]map[string]bool{}
	for _, dir := range []string{"docker", "count_foreach", "kubernetes-flat", "kubernetes-flat-host-gw", "sdn", "vms", "providers", "isolation", "images"} {
		for _, r := range kinds.Expand(load(t, "../config/testdata/valid/"+dir, nil)) {
			if attrs[r.Kind] == nil {
				attrs[r.Kind] = map[string]bool{}
			}
			for k := range r.Attrs {
				attrs[r.Kind][k] = true
			}
		}
	}
	for _, k := range kinds.All() {
		kind, keys := k.Info().Name, k.Info().ForceNew
		if attrs[kind] == nil {
			t.Logf("no %s resource in the sample labs", kind)
			continue
		}
		for _, k := range keys {
			if !attrs[kind][k] {
				t.Errorf("ForceNew[%s] names %q, which %s resources do not have", kind, k, kind)
			}
		}
	}
	for _, kk := range kinds.All() {
		kind := kk.Info().Name
		for _, k := range kk.Info().Parents {
			if attrs[kind] != nil && !attrs[kind][k] {
				t.Errorf("Parents[%s] has %q, which %s resources do not have", kind, k, kind)
			}
			if !slices.Contains(kk.Info().ForceNew, k) {
				t.Errorf("Parents[%s] has %q, which does not force replacement", kind, k)
			}
		}
	}
}

func TestSortOrder(t *testing.T) {
	rs := kinds.Expand(load(t, "../config/testdata/valid/docker", nil))
	var got []string
	for _, r := range rs {
		got = append(got, r.Addr)
	}
	want := []string{"network.lan", "host.node[0]", "host.node[1]", "bridge.docker0[0]", "bridge.docker0[1]",
		"container.client[0]", "container.client[1]", "container.web[0]", "container.web[1]",
		"nat_table.node-0", "nat_table.node-1", "process.web[0]", "process.web[1]"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("order:\n got %q\nwant %q", got, want)
	}
	// Sort is deterministic whatever the input order.
	rev := append([]*kinds.Resource{}, rs...)
	slices.Reverse(rev)
	kinds.Sort(rev)
	for i := range rev {
		if rev[i] != rs[i] {
			t.Fatalf("Sort of reversed list differs at %d", i)
		}
	}
}

// TestShapingAttrs: rate, delay and loss of containers, VMs and pods are
// canonical strings ("" when unset or zero), change in place, and
// ContainerOf rebuilds the shaping from them.
func TestShapingAttrs(t *testing.T) {
	for _, kind := range []string{kinds.Container, kinds.VM, kinds.Pod} {
		if fn := kinds.Of(kind).ForceNew; slices.ContainsFunc(fn, func(a string) bool { return a == "rate" || a == "delay" || a == "loss" }) {
			t.Errorf("ForceNew[%s] = %v: shaping must change in place", kind, fn)
		}
	}
	vms := byAddr(kinds.Expand(load(t, "../config/testdata/valid/vms", nil)))
	pods := byAddr(kinds.Expand(load(t, "../config/testdata/valid/kubernetes-flat", nil)))
	tests := []struct {
		r                 *kinds.Resource
		rate, delay, loss string
		shape             hostnet.Shaping
	}{
		{vms["vm.web"], "100mbit", "", "", hostnet.Shaping{Rate: "100mbit", RateBits: 100e6}},
		{vms["vm.app[1]"], "1.5gbit", "20ms", "0.5%", hostnet.Shaping{Rate: "1.5gbit", RateBits: 1.5e9, Delay: 20 * time.Millisecond, Loss: 0.5}},
		{vms["container.c"], "125kbps", "", "", hostnet.Shaping{Rate: "125kbps", RateBits: 1e6}}, // delay "0s", loss "0%": unset
		{vms["vm.worker"], "", "", "", hostnet.Shaping{}},
		{pods["pod.client"], "10mbit", "1.5s", "100%", hostnet.Shaping{Rate: "10mbit", RateBits: 10e6, Delay: 1500 * time.Millisecond, Loss: 100}},
		{pods["pod.empty"], "", "", "", hostnet.Shaping{}},
	}
	for _, tt := range tests {
		a := tt.r.Attrs
		if a["rate"] != tt.rate || a["delay"] != tt.delay || a["loss"] != tt.loss {
			t.Errorf("%s: rate %q delay %q loss %q, want %q %q %q", tt.r.Addr, a["rate"], a["delay"], a["loss"], tt.rate, tt.delay, tt.loss)
		}
		if got := mustGuest(t, tt.r.Addr, a).Shape; got != tt.shape {
			t.Errorf("%s: ContainerOf shape = %+v, want %+v", tt.r.Addr, got, tt.shape)
		}
	}
	// A state written before shaping existed has no such attributes.
	old := maps.Clone(vms["vm.worker"].Attrs)
	delete(old, "rate")
	delete(old, "delay")
	delete(old, "loss")
	if got := mustGuest(t, "vm.worker", old).Shape; !got.IsZero() {
		t.Errorf("shape from attributes without shaping = %+v", got)
	}
}

func mustGuest(t *testing.T, addr string, a map[string]string) hostnet.Container {
	t.Helper()
	c, err := kinds.GuestOf(addr, a)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestIsolationAttrs: a container's own namespaces, hostname, private dirs
// and files are attributes (each file one, by path, its bytes in base64),
// they parse back into the same isolation, and the processes on it enter
// its namespaces and carry a digest of its files (a container without
// files: none), so that a changed file restarts exactly them.
func TestIsolationAttrs(t *testing.T) {
	rs := byAddr(kinds.Expand(load(t, "../config/testdata/valid/isolation", nil)))
	n := hostnet.Names{Lab: "iso"}
	r0, r1, plain := rs["container.r[0]"].Attrs, rs["container.r[1]"].Attrs, rs["container.plain"].Attrs
	want := map[string]string{
		"mount_ns": n.MountNS("r-0"), "uts_ns": n.UTSNS("r-0"), "hostname": "r-0",
		"private_dirs":           `["/etc/frr","/var/run/frr"]`,
		"file:/etc/frr/frr.conf": "0640:" + base64.StdEncoding.EncodeToString([]byte("hostname r0\n")),
		"file:/etc/frr/daemons":  "0644:" + base64.StdEncoding.EncodeToString([]byte("zebra=yes\nospfd=yes\n")),
	}
	for k, v := range want {
		if r0[k] != v {
			t.Errorf("container.r[0] %s = %q, want %q", k, r0[k], v)
		}
	}
	if plain["mount_ns"] != n.MountNS("plain") || plain["private_dirs"] != "" || len(filesOf(plain)) != 0 {
		t.Errorf("container.plain: %v", plain)
	}
	c := mustGuest(t, "container.r[0]", r0)
	wantIso := &hostnet.Isolation{MountNS: n.MountNS("r-0"), UTSNS: n.UTSNS("r-0"), Hostname: "r-0", Dirs: []string{"/etc/frr", "/var/run/frr"},
		Files: []hostnet.File{{Path: "/etc/frr/daemons", Mode: 0o644, Content: []byte("zebra=yes\nospfd=yes\n")},
			{Path: "/etc/frr/frr.conf", Mode: 0o640, Content: []byte("hostname r0\n")}}}
	if !reflect.DeepEqual(c.Iso, wantIso) {
		t.Errorf("isolation:\n got %+v\nwant %+v", c.Iso, wantIso)
	}
	z0, z1, zp := rs["process.zebra[0]"].Attrs, rs["process.zebra[1]"].Attrs, rs["process.plain"].Attrs
	if z0["mount_ns"] != r0["mount_ns"] || z0["uts_ns"] != r0["uts_ns"] || zp["mount_ns"] != plain["mount_ns"] {
		t.Errorf("processes do not enter their container's namespaces: %v %v", z0, zp)
	}
	if z0["node_files"] == "" || z0["node_files"] != kinds.FilesDigest(filesOf(r0)) || z0["node_files"] == z1["node_files"] || zp["node_files"] != "" {
		t.Errorf("node_files: zebra[0] %q, zebra[1] %q (r[1] differs), plain %q", z0["node_files"], z1["node_files"], zp["node_files"])
	}
	// One byte of one file of r[1] changes its processes' digest, and only theirs.
	changed := maps.Clone(r1)
	changed["file:/etc/frr/frr.conf"] = kinds.FileAttr(0o640, []byte("hostname r1!\n"))
	if kinds.FilesDigest(filesOf(changed)) == z1["node_files"] {
		t.Errorf("a changed file leaves the digest as it was")
	}
	changed = maps.Clone(r1)
	changed["file:/etc/frr/frr.conf"] = kinds.FileAttr(0o600, []byte("hostname r1\n"))
	if kinds.FilesDigest(filesOf(changed)) == z1["node_files"] {
		t.Errorf("a changed mode leaves the digest as it was")
	}
}

func filesOf(a map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range a {
		if strings.HasPrefix(k, kinds.FilePrefix) {
			out[k] = v
		}
	}
	return out
}
