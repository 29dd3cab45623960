package hostnet

import (
	"net/netip"
	"strings"
	"testing"
)

// TestGuestsAnnounceThemselves: a guest interface labnet brings up (a
// guest's eth0, a NIC) is announced by a gratuitous ARP in its name,
// captured on its bridge; and
// when a guest's address comes back on another MAC (a guest remade), a
// neighbour that knew the old MAC has the new one at once, before it asks
// (on Lima's user-v2 a recreated bridged VM stayed unreachable until the
// peer's stale entry expired).
func TestGuestsAnnounceThemselves(t *testing.T) {
	sb := newSandbox(t, "python3", "tcpdump")
	n := Names{Lab: "garp"}
	addr := netip.MustParseAddr("10.5.0.7")
	guest := func(res string) Container {
		return Container{Addr: res, Netns: n.Netns(strings.TrimPrefix(res, "container.")), HostVeth: n.HostVeth(res), Bridge: "br0",
			Address: addr, Bits: 24, Gateway: netip.MustParseAddr("10.5.0.1")}
	}
	first, second := guest("container.first"), guest("container.second")
	nic := NIC{Addr: "container.first/nic[0]", Netns: first.Netns, Ifname: "eth1", HostVeth: n.HostVeth("container.first/nic[0]"),
		Bridge: "br1", Address: netip.MustParsePrefix("10.6.0.9/24"), MTU: 1500}
	script := func(steps ...Step) string {
		for i := range steps {
			steps[i].ID = i
		}
		return Script{Steps: steps}.Render()
	}
	sb.write("first.sh", script(Step{Batch: first.CreateBatch(n), Inside: first.Inside(n)}, Step{Batch: nic.CreateBatch(n), Inside: nic.Inside(n)}))
	sb.write("second.sh", script(Step{Batch: append(first.DeleteBatch(false, true), second.CreateBatch(n)...), Inside: second.Inside(n)}))
	sb.run(strings.Join([]string{
		"ip link add br0 address 02:00:00:00:0b:00 type bridge && ip link add br1 address 02:00:00:00:0b:01 type bridge", // fixed MACs, as labnet's bridges have
		"ip link set br0 up && ip link set br1 up",
		// A peer on the bridge: another guest, or a host across the LAN.
		"ip netns add lnt-peer && ip link add lnt-peer type veth peer name eth0 netns lnt-peer",
		"ip link set lnt-peer master br0 up && ip -n lnt-peer addr add 10.5.0.2/24 dev eth0 && ip -n lnt-peer link set eth0 up",
		// br1 has a port already, as a segment's bridge has its VXLAN device:
		// a bridge without carrier drops what it sends (no one would hear it).
		"ip link add lnt-seg type veth peer name lnt-segp && ip link set lnt-seg master br1 up && ip link set lnt-segp up",
		"tcpdump -l -n -e -i br0 arp >br0.arp 2>br0.err & a=$!",
		"tcpdump -l -n -e -i br1 arp >br1.arp 2>br1.err & b=$!",
		// Until both listen (a first start on a new machine takes a while).
		"i=0; until grep -q listening br0.err && grep -q listening br1.err || [ $i -ge 200 ]; do sleep 0.05; i=$((i+1)); done",
		"sh first.sh >first.out",
		"ip netns exec lnt-peer ping -c 1 -W 2 10.5.0.7 >/dev/null", // the peer learns the first MAC
		"ip -n lnt-peer neigh show 10.5.0.7 >neigh.before",
		"sh second.sh >second.out",
		"ip -n lnt-peer neigh show 10.5.0.7 >neigh.after", // at once: no ping
		"sleep 0.3; kill $a $b; wait",
	}, "\n"))
	for _, f := range []string{"first.out", "second.out"} {
		if out := string(sb.read(f)); strings.Contains(out, "@@fail") {
			t.Fatalf("%s:\n%s", f, out)
		}
	}
	br0, br1 := string(sb.read("br0.arp")), string(sb.read("br1.arp"))
	for _, want := range []struct{ capture, mac, line string }{
		{br0, n.MAC(first.Addr), "Request who-has 10.5.0.7 tell 10.5.0.7"},
		{br0, n.MAC(second.Addr), "Request who-has 10.5.0.7 tell 10.5.0.7"},
		{br1, n.MAC(nic.Addr), "Request who-has 10.6.0.9 tell 10.6.0.9"},
	} {
		found := false
		for _, l := range strings.Split(want.capture, "\n") {
			found = found || strings.Contains(l, want.mac+" > ff:ff:ff:ff:ff:ff") && strings.Contains(l, want.line)
		}
		if !found {
			t.Errorf("no gratuitous ARP from %s (%s) captured:\n%s", want.mac, want.line, want.capture)
		}
	}
	if before := string(sb.read("neigh.before")); !strings.Contains(before, n.MAC(first.Addr)) {
		t.Fatalf("the peer did not learn the first guest's MAC: %q", before)
	}
	if after := string(sb.read("neigh.after")); !strings.Contains(after, n.MAC(second.Addr)) {
		t.Errorf("the peer's entry for 10.5.0.7 after the guest was remade: %q, want %s", after, n.MAC(second.Addr))
	}
}
