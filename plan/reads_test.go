package plan

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/labnet-dev/labnet/hostnet"
	"github.com/labnet-dev/labnet/kinds"
	"github.com/labnet-dev/labnet/state"
)

func TestHostReads(t *testing.T) {
	res := func(kind, host string, kv ...string) *kinds.Resource {
		a := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			a[kv[i]] = kv[i+1]
		}
		return &kinds.Resource{Addr: kind + ".x", Kind: kind, Host: host, Attrs: a}
	}
	stateOf := func(rs ...*kinds.Resource) *state.State {
		s := &state.State{}
		for i, r := range rs {
			s.Put(&state.Resource{Addr: r.Addr + string(rune('a'+i)), Kind: r.Kind, Host: r.Host, Attrs: r.Attrs})
		}
		return s
	}
	host := res(kinds.Host, "host.h")
	bridge := res(kinds.Bridge, "host.h", "ifname", "br0")
	web := res(kinds.Container, "host.h", "netns", "ln.l.web", "veth", "lnweb")
	old := res(kinds.Container, "host.h", "netns", "ln.l.old", "veth", "lnold")
	vm := res(kinds.VM, "host.h", "netns", "ln.l.vm", "veth", "lnvm")
	nic := res(kinds.NIC, "host.h", "netns", "ln.l.vm", "veth", "lnnic", "ifname", "eth1")
	tests := []struct {
		name  string
		want  []*kinds.Resource
		prior *state.State
		reads map[string]*hostnet.Reads
	}{
		{"nothing", nil, nil, map[string]*hostnet.Reads{}},
		{"a host alone reads nothing on it", []*kinds.Resource{host}, nil, map[string]*hostnet.Reads{}},
		{"kept guest: its veth, its bridge, inside its namespace",
			[]*kinds.Resource{host, bridge, web}, stateOf(bridge, web),
			map[string]*hostnet.Reads{"host.h": {Links: []string{"br0", "lnweb"}, Inside: []string{"ln.l.web"}, Tools: []string{"ip", "python3"}}}},
		{"guest that goes: its veth only if its namespace is gone",
			[]*kinds.Resource{host, bridge, web}, stateOf(bridge, web, old),
			map[string]*hostnet.Reads{"host.h": {Links: []string{"br0", "lnweb"}, Inside: []string{"ln.l.web"}, Gone: map[string]string{"lnold": "ln.l.old"}, Tools: []string{"ip", "python3"}}}},
		{"everything goes (destroy): bridges by name, guests only listed",
			nil, stateOf(bridge, web, old),
			map[string]*hostnet.Reads{"host.h": {Links: []string{"br0"}, Gone: map[string]string{"lnweb": "ln.l.web", "lnold": "ln.l.old"}}}},
		{"a NIC is read on the host and inside its VM",
			[]*kinds.Resource{vm, nic}, stateOf(vm, nic),
			map[string]*hostnet.Reads{"host.h": {Links: []string{"lnnic", "lnvm"}, Inside: []string{"ln.l.vm"}, Tools: []string{"ip", "python3"}}}},
		{"a LAN bridge reads every link (its uplink is found by address)",
			[]*kinds.Resource{res(kinds.LanBridge, "host.h", "ifname", "lanbr")}, nil,
			map[string]*hostnet.Reads{"host.h": {Links: []string{"lanbr"}, AllLinks: true}}},
		{"vxlan pod network: bridge, device, routes, neighbours, fdb",
			[]*kinds.Resource{res(kinds.PodNet, "host.n", "backend", "vxlan", "bridge", "cni0", "vxlan", "flannel.1")}, nil,
			map[string]*hostnet.Reads{"host.n": {Links: []string{"cni0", "flannel.1"}, Routes: true, Neigh: true, Fdb: []string{"flannel.1"}}}},
		{"host-gw pod network: bridge and routes",
			[]*kinds.Resource{res(kinds.PodNet, "host.n", "backend", "host-gw", "bridge", "cni0")}, nil,
			map[string]*hostnet.Reads{"host.n": {Links: []string{"cni0"}, Routes: true}}},
		{"segment link: bridge, vxlan, fdb",
			[]*kinds.Resource{res(kinds.SegmentLink, "host.h", "bridge", "lnsg", "vxlan", "lnsgvx")}, nil,
			map[string]*hostnet.Reads{"host.h": {Links: []string{"lnsg", "lnsgvx"}, Fdb: []string{"lnsgvx"}}}},
		{"process and nat table (kept or going)",
			[]*kinds.Resource{res(kinds.Process, "host.a")}, stateOf(res(kinds.NatTable, "host.b")),
			map[string]*hostnet.Reads{"host.a": {Procs: true}, "host.b": {Nft: true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := HostReads(tt.want, tt.prior)
			if !reflect.DeepEqual(got, tt.reads) {
				t.Errorf("HostReads:\n got %s\nwant %s", show(got), show(tt.reads))
			}
		})
	}
}

func show(m map[string]*hostnet.Reads) string {
	s := ""
	for h, r := range m {
		s += fmt.Sprintf("%s: %+v; ", h, *r)
	}
	return s
}
