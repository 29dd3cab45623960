package hostnet

import (
	"net/netip"
	"strings"
	"testing"
)

// TestLanBridgeOnRealKernel moves a LAN interface that is not eth0 (with a
// second address, a default route and a static route) onto the bridge,
// repairs a detached uplink, gives everything back, and does the same
// through the sweep of a lab whose state is lost, in a throwaway network
// namespace.
func TestLanBridgeOnRealKernel(t *testing.T) {
	sb := newSandbox(t, "python3", "tcpdump")
	n := Names{Lab: "lanbrtest"}
	b := LanBridge{Addr: "lan_bridge.h", Ifname: "lanbr", Address: netip.MustParsePrefix("10.77.0.11/24")}
	scripts := map[string]Script{
		"create.sh":  {Steps: []Step{{ID: 1, Batch: b.CreateBatch(n), Shell: b.MoveShell(n)}}},
		"repair.sh":  {Steps: []Step{{ID: 2, Shell: b.MoveShell(n)}}},
		"restore.sh": {Steps: []Step{{ID: 3, Shell: b.RestoreShell(n)}}},
		"nohost.sh": {Steps: []Step{{ID: 4, Batch: b.CreateBatch(n),
			Shell: LanBridge{Addr: b.Addr, Ifname: b.Ifname, Address: netip.MustParsePrefix("10.99.0.1/24")}.MoveShell(n)}}},
	}
	sweep := SweepScript(n, "h", &Observed{Links: map[string]Link{"lanbr": {Name: "lanbr", Kind: "bridge", Alias: n.Alias(b.Addr)}}})
	for name, s := range scripts {
		sb.write(name, s.Render())
	}
	sb.write("sweep.sh", sweep)
	sb.run(strings.Join([]string{
		`view() { echo "addrs:"; ip -o -4 addr show scope global | awk '{print $2, $4}'; echo "routes:"; ip -4 route show | grep -v 'proto kernel' || true; echo "ports:"; ip -br link show master lanbr 2>/dev/null | awk '{sub(/@.*/, "", $1); print $1}'; echo "mac:"; ip -br link show dev lanbr 2>/dev/null | awk '{print $3}'; }`,
		"ip link add name ln0123456789 type veth peer name lnpeer", // listed before the uplink on lanbr
		"ip link add name enp9s0 address 52:55:00:00:00:11 type veth peer name enp9s0p && ip link set dev enp9s0 up && ip link set dev enp9s0p up",
		"ip addr add 10.77.0.11/24 dev enp9s0 && ip addr add 10.77.0.99/24 dev enp9s0",
		"ip route add default via 10.77.0.1 && ip route add 10.88.0.0/16 via 10.77.0.254 metric 50",
		"view >before.txt",
		"tcpdump -l -n -e -i enp9s0p arp >lan.arp 2>lan.err & td=$!",
		"i=0; until grep -q listening lan.err || [ $i -ge 200 ]; do sleep 0.05; i=$((i+1)); done",
		"sh create.sh >create.out; view >moved.txt; cat /run/labnet/lanbrtest/lanbr.uplink >uplink.txt",
		"sleep 0.3; kill $td; wait $td || true",
		"sh repair.sh >repair1.out; view >repaired1.txt",
		"ip link set dev enp9s0 nomaster",
		"sh repair.sh >repair2.out; view >repaired2.txt",
		"sh restore.sh >restore.out; view >restored.txt; ls /run/labnet/lanbrtest >left.txt",
		"sh create.sh >create2.out; sh sweep.sh >sweep.out 2>&1; view >swept.txt",
		// A bridge made before the uplink's name was kept: restore finds it.
		"sh create.sh >create3.out; rm /run/labnet/lanbrtest/lanbr.uplink",
		"ip link set dev ln0123456789 master lanbr",
		"sh restore.sh >restore2.out; view >restored2.txt",
		"ip addr flush dev enp9s0; sh nohost.sh >nohost.out",
	}, "\n"))
	read := func(name string) string { return string(sb.read(name)) }
	for _, c := range []struct{ out, script string }{{"create.out", "create.sh"}, {"repair1.out", "repair.sh"}, {"repair2.out", "repair.sh"}, {"restore.out", "restore.sh"}, {"create2.out", "create.sh"}, {"create3.out", "create.sh"}, {"restore2.out", "restore.sh"}} {
		for id, err := range scripts[c.script].ParseOutcome([]byte(read(c.out))) {
			if err != nil {
				t.Errorf("%s step %d: %v\n%s", c.out, id, err, read(c.out))
			}
		}
	}
	before := "addrs:\nenp9s0 10.77.0.11/24\nenp9s0 10.77.0.99/24\nroutes:\ndefault via 10.77.0.1 dev enp9s0 \n10.88.0.0/16 via 10.77.0.254 dev enp9s0 metric 50 \nports:\nmac:\n"
	moved := "addrs:\nlanbr 10.77.0.11/24\nlanbr 10.77.0.99/24\nroutes:\ndefault via 10.77.0.1 dev lanbr \n10.88.0.0/16 via 10.77.0.254 dev lanbr metric 50 \nports:\nenp9s0\nmac:\n52:55:00:00:00:11\n"
	for _, c := range []struct{ file, want string }{
		{"before.txt", before},
		{"moved.txt", moved},
		{"uplink.txt", "enp9s0\n"},
		{"repaired1.txt", moved},
		{"repaired2.txt", moved},
		{"restored.txt", before},
		{"left.txt", ""},
		{"swept.txt", before},
		{"restored2.txt", before},
	} {
		if got := read(c.file); got != c.want {
			t.Errorf("%s:\n%s\nwant:\n%s", c.file, got, c.want)
		}
	}
	// The LAN heard the address announced from the bridge (with the
	// uplink's MAC, which the bridge took).
	if arp := read("lan.arp"); !strings.Contains(arp, "52:55:00:00:00:11 > ff:ff:ff:ff:ff:ff") || !strings.Contains(arp, "Request who-has 10.77.0.11 tell 10.77.0.11") {
		t.Errorf("no gratuitous ARP on the LAN when the bridge took the address:\n%s", arp)
	}
	out := scripts["nohost.sh"].ParseOutcome([]byte(read("nohost.out")))
	if out[4] == nil || !strings.Contains(out[4].Error(), "no interface on the host holds its address 10.99.0.1") {
		t.Errorf("a host without its address: %v", out[4])
	}
}
