package hostnet

import (
	"encoding/json"
	"net/netip"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestInsideOnRealKernel runs rendered stage scripts with the real ip and
// inside.py in a throwaway network and mount namespace (its own /run, so
// the namespaces it makes are invisible to the machine and die with it):
// a guest is created and configured (IPv4 only: no IPv6 link-local
// address), then drifts (an extra address, eth0
// down, the default route gone) and is configured again; a guest whose
// interface is missing fails with a message naming it.
func TestInsideOnRealKernel(t *testing.T) {
	sb := newSandbox(t, "python3")
	n := Names{Lab: "insidetest"}
	c := Container{Addr: "container.c[0]", Netns: n.Netns("c-0"), HostVeth: n.HostVeth("container.c[0]"), Bridge: "br0",
		Address: netip.MustParseAddr("10.66.0.2"), Bits: 24, Gateway: netip.MustParseAddr("10.66.0.1"), MTU: 1400}
	create := Script{Steps: []Step{{ID: 1, Batch: c.CreateBatch(n), Inside: c.Inside(n)}}}
	repair := Script{Steps: []Step{{ID: 2, Inside: c.Inside(n)}}}
	broken := c
	broken.Netns = n.Netns("c-1")
	missing := Script{Steps: []Step{
		{ID: 3, Batch: []string{"netns add " + broken.Netns}, Inside: &Inside{Netns: broken.Netns, Links: []InsideLink{{Name: "eth7", Addr: "10.66.0.3/24"}}}},
		{ID: 4, Inside: &Inside{Netns: n.Netns("never-made"), Lo: true}},
	}}
	for name, s := range map[string]Script{"create.sh": create, "repair.sh": repair, "missing.sh": missing} {
		sb.write(name, s.Render())
	}
	ns := c.Netns
	sb.run(strings.Join([]string{
		"ip link add name br0 type bridge && ip link set dev br0 up",
		"sh create.sh >create.out",
		"ip -n " + ns + " addr add 10.9.9.9/8 dev eth0",
		"ip -n " + ns + " route del default",
		"ip -n " + ns + " link set dev eth0 down",
		"sh repair.sh >repair.out",
		"ip -n " + ns + " -j addr show >addr.json",
		"ip -n " + ns + " -j route show >route.json",
		"sh missing.sh >missing.out",
	}, "\n"))
	read := sb.read
	if out := create.ParseOutcome(read("create.out")); out[1] != nil {
		t.Fatalf("create: %v\n%s", out[1], read("create.out"))
	}
	if out := repair.ParseOutcome(read("repair.out")); out[2] != nil {
		t.Fatalf("repair: %v\n%s", out[2], read("repair.out"))
	}
	var links []struct {
		Ifname   string   `json:"ifname"`
		Flags    []string `json:"flags"`
		MTU      int      `json:"mtu"`
		AddrInfo []struct {
			Family    string `json:"family"`
			Local     string `json:"local"`
			Prefixlen int    `json:"prefixlen"`
		} `json:"addr_info"`
	}
	if err := json.Unmarshal(read("addr.json"), &links); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, l := range links {
		seen[l.Ifname] = true
		var v4 []string
		for _, a := range l.AddrInfo {
			if a.Family == "inet" {
				v4 = append(v4, a.Local+"/"+strconv.Itoa(a.Prefixlen))
			}
		}
		switch l.Ifname {
		case "lo":
			if !slices.Contains(l.Flags, "UP") {
				t.Errorf("lo is not up: %v", l.Flags)
			}
		case "eth0":
			if !slices.Contains(l.Flags, "UP") || l.MTU != 1400 {
				t.Errorf("eth0 flags %v mtu %d, want UP and 1400", l.Flags, l.MTU)
			}
			if strings.Join(v4, " ") != "10.66.0.2/24" {
				t.Errorf("eth0 IPv4 addresses %v, want only 10.66.0.2/24 (the drifted 10.9.9.9/8 removed)", v4)
			}
			// No IPv6 autoconfiguration: no link-local address, so no
			// router solicitations flooding the bridge.
			if len(l.AddrInfo) != len(v4) {
				t.Errorf("eth0 has IPv6 addresses: %+v", l.AddrInfo)
			}
		}
	}
	if !seen["eth0"] || !seen["lo"] {
		t.Errorf("links in the guest: %v", seen)
	}
	var routes []struct {
		Dst     string `json:"dst"`
		Gateway string `json:"gateway"`
		Dev     string `json:"dev"`
	}
	if err := json.Unmarshal(read("route.json"), &routes); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range routes {
		found = found || (r.Dst == "default" && r.Gateway == "10.66.0.1" && r.Dev == "eth0")
	}
	if !found {
		t.Errorf("no default route via 10.66.0.1 dev eth0 after repair: %+v", routes)
	}
	out := missing.ParseOutcome(read("missing.out"))
	if err := out[3]; err == nil || !strings.Contains(err.Error(), "eth7") || !strings.Contains(err.Error(), broken.Netns) {
		t.Errorf("guest without eth7: %v, want an error naming eth7 and %s\n%s", err, broken.Netns, read("missing.out"))
	}
	if err := out[4]; err == nil || !strings.Contains(err.Error(), "never-made") {
		t.Errorf("guest without a namespace: %v\n%s", err, read("missing.out"))
	}
}

// TestObserveScriptReadsOnlyKeptNamespaces runs ObserveScript on a real
// kernel (throwaway network and mount namespaces): the namespace the lab
// keeps is read inside, the other one (to be deleted) is only listed; only
// the named host links are read; a going guest's veth is a stray to read
// in a second script only when its namespace is not there. python3's
// netlink reader (a namespace read inside) and the shell's ip (none read
// inside) see the same.
func TestObserveScriptReadsOnlyKeptNamespaces(t *testing.T) {
	sb := newSandbox(t, "python3")
	n := Names{Lab: "obstest"}
	kept, gone := n.Netns("kept"), n.Netns("gone")
	goneVeths := map[string]string{"lngone": gone, "lnorphan": n.Netns("never")}
	sb.write("observe.sh", ObserveScript(n, "h", Reads{Links: []string{"br0", "lnkept", "lnvx", "nosuch"}, Inside: []string{kept}, Gone: goneVeths}))
	sb.write("shell.sh", ObserveScript(n, "h", Reads{Links: []string{"br0", "lnkept", "lnvx", "nosuch"}, Gone: goneVeths}))
	sb.write("all.sh", ObserveScript(n, "h", ReadAll))
	sb.write("none.sh", ObserveScript(n, "h", Reads{}))
	sb.write("strays.sh", ObserveScript(n, "h", Reads{Links: []string{"lnorphan"}}))
	sb.run(strings.Join([]string{
		"for ns in " + kept + " " + gone + "; do ip netns add $ns; ip -n $ns link set dev lo up; done",
		"ip link add name br0 type bridge && ip link set dev br0 alias labnet:obstest:bridge.b && ip addr add 10.5.0.1/24 dev br0 && ip link set dev br0 up",
		"ip link add name lnkept type veth peer name eth0 netns " + kept + " && ip link set dev lnkept master br0 up",
		"ip link add name lngone type veth peer name eth0 netns " + gone,
		"ip link add name lnorphan type veth peer name lnorphanp",
		"ip link add name lnvx type vxlan id 42 local 10.5.0.1 dstport 4789 nolearning && ip link set dev lnvx mtu 1400 address 0a:58:0a:05:00:01",
		"for s in observe shell all none strays; do sh $s.sh >$s.out || exit 1; done",
	}, "\n"))
	parse := func(name string) *Observed {
		t.Helper()
		out := sb.read(name)
		o, err := ParseObserved(out)
		if err != nil {
			t.Fatalf("%s: %v\n%s", name, err, out)
		}
		return o
	}
	o, sh, all, none := parse("observe.out"), parse("shell.out"), parse("all.out"), parse("none.out")
	r := Reads{Links: []string{"br0", "lnkept", "lnvx", "nosuch"}, Gone: goneVeths}
	for name, x := range map[string]*Observed{"python3": o, "shell": sh} {
		if got := r.Strays(x); !reflect.DeepEqual(got, []string{"lnorphan"}) {
			t.Errorf("%s: strays %q, want [lnorphan] (lngone's namespace is there)", name, got)
		}
	}
	if got := (Reads{AllLinks: true, Gone: goneVeths}).Strays(all); got != nil {
		t.Errorf("strays after reading every link: %q", got)
	}
	if l, ok := parse("strays.out").Links["lnorphan"]; !ok || l.Kind != "veth" {
		t.Errorf("stray veth read: %+v (%v)", l, ok)
	}
	if ns := o.Netns[kept]; ns == nil || !ns.Links["lo"].Up {
		t.Errorf("kept namespace: %+v, want lo up read from inside", ns)
	}
	for _, x := range []*Observed{o, sh, none} {
		if ns, ok := x.Netns[gone]; !ok || len(ns.Links) != 0 {
			t.Errorf("namespace not kept: %+v (listed %v), want listed with nothing read", ns, ok)
		}
	}
	if len(sh.Netns) != 2 || len(none.Netns) != 2 || len(none.Links) != 0 {
		t.Errorf("shell listing: %v / %v, want both lab namespaces; links read with nothing asked: %v", sh.Netns, none.Netns, none.Links)
	}
	for _, name := range []string{"lo", "br0", "lnkept", "lnorphan", "lnorphanp", "lngone"} {
		if _, ok := all.Links[name]; !ok {
			t.Errorf("ip did not show %s", name)
		}
	}
	want := map[string]Link{}
	for _, name := range []string{"br0", "lnkept", "lnvx"} {
		want[name] = all.Links[name]
	}
	if vx := all.Links["lnvx"]; vx.MTU != 1400 || vx.MAC != "0a:58:0a:05:00:01" || vx.Vxlan == nil ||
		*vx.Vxlan != (VxlanInfo{VNI: 42, Port: 4789, Local: netip.MustParseAddr("10.5.0.1")}) {
		t.Errorf("vxlan device as ip shows it: %+v %+v", vx, vx.Vxlan)
	}
	if !reflect.DeepEqual(o.Links, want) {
		t.Errorf("host links from python3:\n%+v\nwant (as ip shows them):\n%+v", o.Links, want)
	}
	if !reflect.DeepEqual(sh.Links, want) {
		t.Errorf("host links read by name:\n%+v\nwant:\n%+v", sh.Links, want)
	}
}
