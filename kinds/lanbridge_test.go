package kinds

import (
	"net/netip"
	"slices"
	"testing"

	"github.com/labnet-dev/labnet/hostnet"
)

func TestJudgeLanBridge(t *testing.T) {
	a := map[string]string{"host": "host.h", "ifname": "lanbr", "address": "192.168.70.11/24"}
	addr := netip.MustParsePrefix("192.168.70.11/24")
	bridge := hostnet.Link{Name: "lanbr", Kind: "bridge", Alias: "labnet:vms:lan_bridge.h", Up: true, Addrs: []netip.Prefix{addr}}
	uplink := hostnet.Link{Name: "enp3s0", Master: "lanbr"}
	vmPort := hostnet.Link{Name: "ln0123456789", Kind: "veth", Master: "lanbr", Alias: "labnet:vms:vm.bridged"}
	down := bridge
	down.Up = false
	bare := bridge
	bare.Addrs = nil
	stillOn := hostnet.Link{Name: "enp3s0", Addrs: []netip.Prefix{addr}}
	for _, c := range []struct {
		name  string
		links []hostnet.Link
		drift []string
	}{
		{"moved", []hostnet.Link{bridge, uplink, vmPort}, nil},
		{"missing", []hostnet.Link{uplink}, []string{"bridge lanbr is missing"}},
		{"only the VM's port", []hostnet.Link{bridge, vmPort}, []string{"no LAN interface is on lanbr"}},
		{"address not moved", []hostnet.Link{bare, stillOn}, []string{"lanbr lacks the host address 192.168.70.11/24", "no LAN interface is on lanbr", "the host address is still on enp3s0"}},
		{"down", []hostnet.Link{down, uplink}, []string{"lanbr is down"}},
	} {
		k := &hostnet.Observed{Links: map[string]hostnet.Link{}}
		for _, l := range c.links {
			k.Links[l.Name] = l
		}
		v, err := lanBridge{}.Judge(hostnet.Names{Lab: "vms"}, "lan_bridge.h", a, k, false)
		if err != nil || !slices.Equal(v.Drift, c.drift) || v.Exists != (c.name != "missing") {
			t.Errorf("%s: %+v %v, want drift %q", c.name, v, err, c.drift)
		}
	}
}
