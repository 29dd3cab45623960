package plan

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/labnet-dev/labnet/config"
	"github.com/labnet-dev/labnet/hostnet"
	"github.com/labnet-dev/labnet/kinds"
	"github.com/labnet-dev/labnet/provider"
	"github.com/labnet-dev/labnet/state"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
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

// dockerLab is the expanded docker lab of the config tests (2 hosts).
func dockerLab(t *testing.T) []*kinds.Resource {
	t.Helper()
	lab, _, diags := config.Load("../config/testdata/valid/docker", config.Options{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return kinds.Expand(lab)
}

func copyAttrs(a map[string]string) map[string]string {
	m := make(map[string]string, len(a))
	for k, v := range a {
		m[k] = v
	}
	return m
}

// applied is the state after a complete apply of want.
func applied(want []*kinds.Resource) *state.State {
	s := &state.State{Version: state.Version, Serial: 7, Lineage: "lin", Lab: "docker"}
	for _, w := range want {
		s.Put(&state.Resource{Addr: w.Addr, Kind: w.Kind, Host: w.Host, Attrs: copyAttrs(w.Attrs), Deps: append([]string{}, w.Deps...)})
	}
	return s
}

// observed is what refresh reads from hosts carrying exactly want (of
// the docker lab).
func observed(want []*kinds.Resource) Observations { return observedLab("docker", want) }

func observedLab(lab string, want []*kinds.Resource) Observations {
	o := Observations{Networks: map[string]Status{}, Hosts: map[string]provider.Status{}, Kernel: map[string]*hostnet.Observed{}}
	names := hostnet.Names{Lab: lab}
	k := func(host string) *hostnet.Observed {
		if o.Kernel[host] == nil {
			o.Kernel[host] = &hostnet.Observed{Links: map[string]hostnet.Link{}, Netns: map[string]*hostnet.Netns{}, Procs: map[string][]int{}}
		}
		return o.Kernel[host]
	}
	pid := 1000
	for _, w := range want {
		a := w.Attrs
		switch w.Kind {
		case kinds.Network:
			o.Networks[w.Addr] = Status{Exists: true, Complete: true, Repairable: true}
		case kinds.Host:
			o.Hosts[w.Addr] = provider.Status{Exists: true, SSHUp: true}
			k(w.Addr)
		case kinds.Bridge:
			gw := netip.PrefixFrom(netip.MustParseAddr(a["gateway"]), netip.MustParsePrefix(a["cidr"]).Bits())
			k(w.Host).Links[a["ifname"]] = hostnet.Link{Name: a["ifname"], Kind: "bridge", Alias: names.Alias(w.Addr), Up: true,
				Addrs: []netip.Prefix{gw}, MTU: 1500, MAC: names.MAC(w.Addr)}
		case kinds.Container:
			c, err := kinds.GuestOf(w.Addr, a)
			if err != nil {
				panic(err)
			}
			k(w.Host).Links[c.HostVeth] = hostnet.Link{Name: c.HostVeth, Kind: "veth", Master: c.Bridge, Alias: names.Alias(w.Addr), Up: true, MTU: 1500}
			k(w.Host).Netns[c.Netns] = &hostnet.Netns{DefaultGw: c.Gateway, Links: map[string]hostnet.Link{
				"lo":   {Name: "lo", Up: true, Addrs: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/8")}},
				"eth0": {Name: "eth0", Kind: "veth", Up: true, Addrs: []netip.Prefix{netip.PrefixFrom(c.Address, c.Bits)}, MTU: 1500, MAC: names.MAC(w.Addr)},
			}}
			if i := c.Iso; i != nil {
				if k(w.Host).Iso == nil {
					k(w.Host).Iso, k(w.Host).IsoFiles = map[string]*hostnet.IsoSeen{}, map[string]bool{}
				}
				seen := &hostnet.IsoSeen{Mount: true, UTS: true, Hostname: i.Hostname, Hosts: true, SysMAC: names.MAC(w.Addr), Tmpfs: i.Dirs, Files: map[string]hostnet.FileSeen{}}
				for _, f := range i.Files {
					seen.Files[f.Path] = hostnet.FileSeen{SHA256: f.Digest(), Mode: f.Mode}
				}
				k(w.Host).Iso[i.MountNS] = seen
				k(w.Host).IsoFiles[path.Base(i.MountNS)], k(w.Host).IsoFiles[path.Base(i.UTSNS)] = true, true
			}
		case kinds.Process:
			pid++
			k(w.Host).Procs[a["owner"]] = []int{pid}
		case kinds.NatTable:
			k(w.Host).NftPresent = true
			if err := json.Unmarshal([]byte(a["rules"]), &k(w.Host).Nft); err != nil {
				panic(err)
			}
		}
	}
	return o
}

func setEth0(o Observations, host, netns, addr string) {
	ns := o.Kernel[host].Netns[netns]
	eth0 := ns.Links["eth0"]
	eth0.Addrs = []netip.Prefix{netip.MustParsePrefix(addr)}
	ns.Links["eth0"] = eth0
}

func actions(p *Plan) map[string]Action {
	m := map[string]Action{}
	for _, c := range p.Changes {
		m[c.Addr] = c.Action
	}
	return m
}

func change(p *Plan, addr string) *Change {
	for _, c := range append(append([]*Change{}, p.Changes...), p.NoOps...) {
		if c.Addr == addr {
			return c
		}
	}
	return nil
}

func find(want []*kinds.Resource, addr string) *kinds.Resource {
	for _, w := range want {
		if w.Addr == addr {
			return w
		}
	}
	return nil
}

// make runs Make, failing the test instead of hanging when it does not end.
func mk(t *testing.T, want []*kinds.Resource, prior *state.State, obs Observations, opt Options) *Plan {
	t.Helper()
	done := make(chan *Plan, 1)
	go func() { done <- Make("docker", want, prior, obs, opt) }()
	select {
	case p := <-done:
		return p
	case <-time.After(5 * time.Second):
		t.Fatalf("Make did not return")
		return nil
	}
}

func TestMakeEmptyStateCreatesAll(t *testing.T) {
	want := dockerLab(t)
	for _, obs := range []Observations{{}, observed(nil)} {
		p := mk(t, want, nil, obs, Options{})
		if len(p.Changes) != len(want) || len(p.NoOps) != 0 {
			t.Fatalf("%d changes, %d no-ops; want %d creates", len(p.Changes), len(p.NoOps), len(want))
		}
		for i, c := range p.Changes {
			if c.Action != Create || c.Before != nil || c.ID != i || len(c.Reasons) != 0 {
				t.Errorf("%s: %+v", c.Addr, c)
			}
			if w := find(want, c.Addr); !reflect.DeepEqual(c.After, w.Attrs) || !reflect.DeepEqual(c.Deps, w.Deps) || c.Host != w.Host {
				t.Errorf("%s does not carry the wanted resource", c.Addr)
			}
		}
		if add, ch, del := p.Counts(); add != len(want) || ch != 0 || del != 0 {
			t.Errorf("Counts = %d %d %d", add, ch, del)
		}
		if p.Serial != 0 || p.Lineage != "" {
			t.Errorf("serial/lineage from no state: %d %q", p.Serial, p.Lineage)
		}
	}
}

func TestMakeNoChanges(t *testing.T) {
	want := dockerLab(t)
	p := mk(t, want, applied(want), observed(want), Options{})
	for _, c := range p.Changes {
		t.Errorf("unexpected change %s %s %v", c.Action, c.Addr, c.Reasons)
	}
	if len(p.NoOps) != len(want) {
		t.Errorf("%d no-ops, want %d", len(p.NoOps), len(want))
	}
	if p.Serial != 7 || p.Lineage != "lin" || p.Lab != "docker" {
		t.Errorf("plan header %d %q %q", p.Serial, p.Lineage, p.Lab)
	}
	if d := p.Drifted(); len(d) != 0 {
		t.Errorf("Drifted = %v", d)
	}
	var b strings.Builder
	Render(&b, p, false)
	if b.String() != "No changes. The lab matches the configuration.\n" {
		t.Errorf("Render = %q", b.String())
	}
}

// Unreachable hosts: kernel resources are unknown, which is no reason to
// change them.
func TestMakeUnknownIsNoChange(t *testing.T) {
	want := dockerLab(t)
	obs := observed(want)
	delete(obs.Kernel, "host.node[1]")
	obs.Hosts["host.node[1]"] = provider.Status{Exists: true, SSHUp: false, Reason: "sshd is not answering"}
	p := mk(t, want, applied(want), obs, Options{})
	got := actions(p)
	if !reflect.DeepEqual(got, map[string]Action{"host.node[1]": Update}) {
		t.Errorf("actions = %v, want only host.node[1] updated (repaired)", got)
	}
	if c := change(p, "container.web[1]"); c == nil || !c.Status.Unknown || c.Action != NoOp {
		t.Errorf("container.web[1] = %+v", c)
	}
	for _, c := range p.Drifted() {
		if c.Status.Unknown {
			t.Errorf("unknown %s listed as drifted", c.Addr)
		}
	}
}

func TestMakeCases(t *testing.T) {
	base := dockerLab(t)
	tests := []struct {
		name   string
		edit   func(want []*kinds.Resource, st *state.State, obs Observations) []*kinds.Resource
		opt    Options
		want   map[string]Action // every change of the plan
		check  func(t *testing.T, p *Plan)
		counts [3]int
	}{
		{
			name: "tainted is replaced, with what lives in it",
			edit: func(w []*kinds.Resource, st *state.State, o Observations) []*kinds.Resource {
				st.Get("container.web[0]").Tainted = true
				return w
			},
			want:   map[string]Action{"container.web[0]": Replace, "process.web[0]": Replace},
			counts: [3]int{2, 0, 2},
			check: func(t *testing.T, p *Plan) {
				c := change(p, "container.web[0]")
				if !slices.Contains(c.Reasons, "tainted: an earlier apply did not finish it") || len(c.Forced) != 0 {
					t.Errorf("reasons %q forced %q", c.Reasons, c.Forced)
				}
				if r := change(p, "process.web[0]").Reasons; !reflect.DeepEqual(r, []string{"container.web[0] is made anew"}) {
					t.Errorf("process reasons %q", r)
				}
			},
		},
		{
			name: "forced attribute replaces",
			edit: func(w []*kinds.Resource, st *state.State, o Observations) []*kinds.Resource {
				st.Get("container.client[0]").Attrs["bridge"] = "bridge.docker0[1]"
				return w
			},
			want:   map[string]Action{"container.client[0]": Replace},
			counts: [3]int{1, 0, 1},
			check: func(t *testing.T, p *Plan) {
				c := change(p, "container.client[0]")
				if !reflect.DeepEqual(c.Forced, []string{"bridge"}) {
					t.Errorf("Forced = %q", c.Forced)
				}
				if c.Before["bridge"] != "bridge.docker0[1]" || c.After["bridge"] != "bridge.docker0[0]" {
					t.Errorf("before/after not kept")
				}
			},
		},
		{
			name: "other attribute updates in place",
			edit: func(w []*kinds.Resource, st *state.State, o Observations) []*kinds.Resource {
				// what was applied (and is seen) had another address
				st.Get("container.client[1]").Attrs["address"] = "172.17.0.9"
				setEth0(o, "host.node[1]", "ln.docker.client-1", "172.17.0.9/16")
				return w
			},
			want:   map[string]Action{"container.client[1]": Update},
			counts: [3]int{0, 1, 0},
			check: func(t *testing.T, p *Plan) {
				if c := change(p, "container.client[1]"); len(c.Forced) != 0 || len(c.Reasons) != 0 {
					t.Errorf("Forced %q Reasons %q", c.Forced, c.Reasons)
				}
			},
		},
		{
			name: "process not running is created again",
			edit: func(w []*kinds.Resource, st *state.State, o Observations) []*kinds.Resource {
				delete(o.Kernel["host.node[1]"].Procs, "docker/node-1/process.web[1]")
				return w
			},
			want:   map[string]Action{"process.web[1]": Create},
			counts: [3]int{1, 0, 0},
			check: func(t *testing.T, p *Plan) {
				c := change(p, "process.web[1]")
				if !reflect.DeepEqual(c.Reasons, []string{"missing: process is not running"}) || c.Before == nil {
					t.Errorf("reasons %q before %v", c.Reasons, c.Before)
				}
				if d := p.Drifted(); len(d) != 1 || d[0].Addr != "process.web[1]" {
					t.Errorf("Drifted = %v", d)
				}
			},
		},
		{
			name: "missing bridge is made again, its guests replaced",
			edit: func(w []*kinds.Resource, st *state.State, o Observations) []*kinds.Resource {
				delete(o.Kernel["host.node[0]"].Links, "docker0")
				return w
			},
			want: map[string]Action{"bridge.docker0[0]": Create, "container.web[0]": Replace, "container.client[0]": Replace,
				"process.web[0]": Replace},
			counts: [3]int{4, 0, 3},
			check: func(t *testing.T, p *Plan) {
				if r := change(p, "bridge.docker0[0]").Reasons; !reflect.DeepEqual(r, []string{"missing: bridge docker0 is missing"}) {
					t.Errorf("bridge reasons %q", r)
				}
				if r := change(p, "container.web[0]").Reasons; !reflect.DeepEqual(r, []string{"bridge.docker0[0] is made anew"}) {
					t.Errorf("container reasons %q", r)
				}
			},
		},
		{
			name: "partial container (netns, no veth) is replaced",
			edit: func(w []*kinds.Resource, st *state.State, o Observations) []*kinds.Resource {
				delete(o.Kernel["host.node[0]"].Links, st.Get("container.client[0]").Attrs["veth"])
				return w
			},
			want:   map[string]Action{"container.client[0]": Replace},
			counts: [3]int{1, 0, 1},
			check: func(t *testing.T, p *Plan) {
				c := change(p, "container.client[0]")
				if !c.Status.Exists || c.Status.Complete || c.Status.Repairable {
					t.Errorf("status %+v", c.Status)
				}
				if !slices.Contains(c.Reasons, "drift: veth "+c.Before["veth"]+" is missing") {
					t.Errorf("reasons %q", c.Reasons)
				}
			},
		},
		{
			name: "repairable drift is an update",
			edit: func(w []*kinds.Resource, st *state.State, o Observations) []*kinds.Resource {
				k := o.Kernel["host.node[1]"]
				v := st.Get("container.web[1]").Attrs["veth"]
				l := k.Links[v]
				l.Up, l.Master = false, ""
				k.Links[v] = l
				return w
			},
			want:   map[string]Action{"container.web[1]": Update},
			counts: [3]int{0, 1, 0},
			check: func(t *testing.T, p *Plan) {
				c := change(p, "container.web[1]")
				want := []string{"drift: veth " + c.Before["veth"] + " is not on bridge docker0", "drift: veth " + c.Before["veth"] + " is down"}
				if !reflect.DeepEqual(c.Reasons, want) {
					t.Errorf("reasons %q, want %q", c.Reasons, want)
				}
			},
		},
		{
			name: "nat rule drift is an update",
			edit: func(w []*kinds.Resource, st *state.State, o Observations) []*kinds.Resource {
				o.Kernel["host.node[0]"].Nft = o.Kernel["host.node[0]"].Nft[1:]
				return w
			},
			want:   map[string]Action{"nat_table.node-0": Update},
			counts: [3]int{0, 1, 0},
		},
		{
			name: "not wanted any more is deleted",
			edit: func(w []*kinds.Resource, st *state.State, o Observations) []*kinds.Resource {
				st.Put(&state.Resource{Addr: "container.old[0]", Kind: kinds.Container, Host: "host.node[0]",
					Attrs: map[string]string{"netns": "ln.docker.old-0", "veth": "ln0000000000", "bridge": "bridge.docker0[0]", "host": "host.node[0]"},
					Deps:  []string{"bridge.docker0[0]", "host.node[0]"}})
				return w
			},
			want:   map[string]Action{"container.old[0]": Delete},
			counts: [3]int{0, 0, 1},
			check: func(t *testing.T, p *Plan) {
				c := change(p, "container.old[0]")
				if !reflect.DeepEqual(c.Reasons, []string{"not in the lab any more", "already gone from the host"}) {
					t.Errorf("reasons %q", c.Reasons)
				}
				if c.After != nil || !reflect.DeepEqual(c.OldDeps, []string{"bridge.docker0[0]", "host.node[0]"}) {
					t.Errorf("after %v olddeps %v", c.After, c.OldDeps)
				}
			},
		},
		{
			name: "destroy deletes everything",
			opt:  Options{Destroy: true},
			edit: func(w []*kinds.Resource, st *state.State, o Observations) []*kinds.Resource { return w },
			want: func() map[string]Action {
				m := map[string]Action{}
				for _, r := range base {
					m[r.Addr] = Delete
				}
				return m
			}(),
			counts: [3]int{0, 0, len(base)},
			check: func(t *testing.T, p *Plan) {
				for _, c := range p.Changes {
					if len(c.Reasons) != 0 {
						t.Errorf("%s reasons %q", c.Addr, c.Reasons)
					}
				}
			},
		},
		{
			name: "refresh only plans nothing but reports drift",
			opt:  Options{RefreshOnly: true},
			edit: func(w []*kinds.Resource, st *state.State, o Observations) []*kinds.Resource {
				ns := o.Kernel["host.node[0]"].Netns["ln.docker.web-0"]
				eth0 := ns.Links["eth0"]
				eth0.Up = false
				ns.Links["eth0"] = eth0
				st.Get("container.client[1]").Tainted = true
				return w
			},
			want: map[string]Action{},
			check: func(t *testing.T, p *Plan) {
				d := p.Drifted()
				if len(d) != 1 || d[0].Addr != "container.web[0]" || !reflect.DeepEqual(d[0].Status.Drift, []string{"eth0 is down"}) {
					t.Errorf("Drifted = %v", d)
				}
				if len(p.NoOps) != len(base) {
					t.Errorf("%d no-ops", len(p.NoOps))
				}
			},
		},
		{
			name: "host replaced takes everything on it along",
			edit: func(w []*kinds.Resource, st *state.State, o Observations) []*kinds.Resource {
				st.Get("host.node[0]").Attrs["address"] = "192.168.50.99"
				return w
			},
			want: map[string]Action{"host.node[0]": Replace, "bridge.docker0[0]": Replace, "container.web[0]": Replace,
				"container.client[0]": Replace, "process.web[0]": Replace, "nat_table.node-0": Replace},
			counts: [3]int{6, 0, 6},
			check: func(t *testing.T, p *Plan) {
				if f := change(p, "host.node[0]").Forced; !reflect.DeepEqual(f, []string{"address"}) {
					t.Errorf("host forced %q", f)
				}
				for _, a := range []string{"bridge.docker0[0]", "nat_table.node-0"} {
					if r := change(p, a).Reasons; !reflect.DeepEqual(r, []string{"host.node[0] is made anew"}) {
						t.Errorf("%s reasons %q", a, r)
					}
				}
			},
		},
		{
			name: "network replaced replaces its hosts and all on them",
			edit: func(w []*kinds.Resource, st *state.State, o Observations) []*kinds.Resource {
				st.Get("network.lan").Attrs["name"] = "old-lan"
				return w
			},
			want: func() map[string]Action {
				m := map[string]Action{}
				for _, r := range base {
					m[r.Addr] = Replace
				}
				return m
			}(),
			counts: [3]int{len(base), 0, len(base)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := dockerLab(t)
			st := applied(want)
			obs := observed(want)
			want = tt.edit(want, st, obs)
			p := mk(t, want, st, obs, tt.opt)
			if got := actions(p); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("actions:\n got %v\nwant %v", got, tt.want)
			}
			if add, ch, del := p.Counts(); [3]int{add, ch, del} != tt.counts {
				t.Errorf("Counts = %d %d %d, want %v", add, ch, del, tt.counts)
			}
			// IDs follow the stable order over changes and no-ops.
			all := append(append([]*Change{}, p.Changes...), p.NoOps...)
			ids := map[int]bool{}
			for _, c := range all {
				if ids[c.ID] || c.ID < 0 || c.ID >= len(all) {
					t.Errorf("bad or duplicate ID %d (%s)", c.ID, c.Addr)
				}
				ids[c.ID] = true
			}
			for i := 1; i < len(p.Changes); i++ {
				if p.Changes[i-1].ID >= p.Changes[i].ID {
					t.Errorf("changes out of ID order")
				}
			}
			if tt.check != nil {
				tt.check(t, p)
			}
		})
	}
}

// A host that is gone (its holder died, the machine rebooted) takes
// everything on it: the host is created again, and so is all that lived
// on it, none of which exists any more.
func TestMakeHostGone(t *testing.T) {
	want := dockerLab(t)
	st := applied(want)
	obs := observed(want)
	obs.Hosts["host.node[0]"] = provider.Status{Exists: false, Reason: "holder process 4242 is gone"}
	delete(obs.Kernel, "host.node[0]")
	p := mk(t, want, st, obs, Options{})
	wantActions := map[string]Action{"host.node[0]": Create, "bridge.docker0[0]": Create, "container.web[0]": Create,
		"container.client[0]": Create, "process.web[0]": Create, "nat_table.node-0": Create}
	if got := actions(p); !reflect.DeepEqual(got, wantActions) {
		t.Errorf("actions:\n got %v\nwant %v", got, wantActions)
	}
	if r := change(p, "host.node[0]").Reasons; !reflect.DeepEqual(r, []string{"missing: holder process 4242 is gone"}) {
		t.Errorf("host reasons %q", r)
	}
	c := change(p, "container.web[0]")
	if !slices.Contains(c.Reasons, "missing: host.node[0] is gone") || len(c.Reasons) > 3 {
		t.Errorf("container reasons %q", c.Reasons)
	}
}

// The same loop with no host involved: a bridge that is gone together with
// a guest on it (e.g. deleted by hand with `ip link del` and `ip netns del`).
func TestMakeBridgeAndGuestGone(t *testing.T) {
	want := dockerLab(t)
	obs := observed(want)
	k := obs.Kernel["host.node[0]"]
	st := applied(want)
	delete(k.Links, "docker0")
	delete(k.Links, st.Get("container.client[0]").Attrs["veth"])
	delete(k.Netns, st.Get("container.client[0]").Attrs["netns"])
	// Its mount and UTS namespace files are still there: they must go
	// before it is made again.
	p := mk(t, want, st, obs, Options{})
	if got := actions(p); got["bridge.docker0[0]"] != Create || got["container.client[0]"] != Replace || got["container.web[0]"] != Replace {
		t.Errorf("actions = %v", got)
	}
	for _, f := range []string{"mount_ns", "uts_ns"} {
		delete(k.IsoFiles, path.Base(st.Get("container.client[0]").Attrs[f]))
	}
	p = mk(t, want, st, obs, Options{})
	if got := actions(p); got["bridge.docker0[0]"] != Create || got["container.client[0]"] != Create || got["container.web[0]"] != Replace {
		t.Errorf("actions = %v", got)
	}
}

func TestMakeFoundButNotInState(t *testing.T) {
	want := dockerLab(t)
	st := applied(want)
	st.Remove("container.web[1]")
	p := mk(t, want, st, observed(want), Options{})
	c := change(p, "container.web[1]")
	if c.Action != Replace || !reflect.DeepEqual(c.Reasons, []string{"found on the host but not in the state: it is remade"}) {
		t.Errorf("container.web[1] = %s %q", c.Action, c.Reasons)
	}
	// A create has no Before, so it takes nothing along.
	if got := actions(p); len(got) != 1 {
		t.Errorf("actions = %v", got)
	}
}

func TestRenderGolden(t *testing.T) {
	want := dockerLab(t)
	st := applied(want)
	obs := observed(want)
	// create: a container the state does not know and the host lacks
	extra := &kinds.Resource{Addr: "container.extra[0]", Kind: kinds.Container, Host: "host.node[1]",
		Attrs: copyAttrs(find(want, "container.client[1]").Attrs), Deps: []string{"bridge.docker0[1]", "host.node[1]"}}
	extra.Attrs["address"], extra.Attrs["netns"], extra.Attrs["veth"] = "172.17.0.4", "ln.docker.extra-0", "ln1111111111"
	n := hostnet.Names{Lab: "docker"}
	extra.Attrs["mount_ns"], extra.Attrs["uts_ns"], extra.Attrs["hostname"] = n.MountNS("extra-0"), n.UTSNS("extra-0"), "extra-0"
	want = append(want, extra)
	// update: an address changed
	st.Get("container.client[1]").Attrs["address"] = "172.17.0.99"
	setEth0(obs, "host.node[1]", "ln.docker.client-1", "172.17.0.99/16")
	// replace, forced: a container moved to another bridge
	st.Get("container.client[0]").Attrs["bridge"] = "bridge.docker0[1]"
	// replace, tainted, with its process along
	st.Get("container.web[1]").Tainted = true
	// delete
	st.Put(&state.Resource{Addr: "process.old[0]", Kind: kinds.Process, Host: "host.node[0]",
		Attrs: map[string]string{"on": "host.node[0]", "owner": "docker/node-0/process.old[0]", "command": `["sleep","1d"]`}})
	obs.Kernel["host.node[0]"].Procs["docker/node-0/process.old[0]"] = []int{77}
	// drift: lo down in web-0 (repairable: update)
	ns := obs.Kernel["host.node[0]"].Netns["ln.docker.web-0"]
	lo := ns.Links["lo"]
	lo.Up = false
	ns.Links["lo"] = lo
	p := mk(t, want, st, obs, Options{})
	var b bytes.Buffer
	Render(&b, p, false)
	golden(t, "render_mixed.golden", b.Bytes())
	if bytes.Contains(b.Bytes(), []byte("\033[")) {
		t.Errorf("color escapes with color off")
	}
	var colored bytes.Buffer
	Render(&colored, p, true)
	if !bytes.Contains(colored.Bytes(), []byte("\033[32m")) || !bytes.Contains(colored.Bytes(), []byte("\033[31m")) {
		t.Errorf("no colors with color on")
	}
	add, ch, del := p.Counts()
	if last := fmt.Sprintf("Plan: %d to add, %d to change, %d to destroy.\n", add, ch, del); !strings.HasSuffix(b.String(), last) {
		t.Errorf("render does not end with %q", last)
	}
}

func TestCounts(t *testing.T) {
	p := &Plan{Changes: []*Change{{Action: Create}, {Action: Create}, {Action: Update}, {Action: Replace}, {Action: Delete}, {Action: Delete}, {Action: Delete}}}
	if a, c, d := p.Counts(); a != 3 || c != 1 || d != 4 {
		t.Errorf("Counts = %d %d %d, want 3 1 4", a, c, d)
	}
	if a, c, d := (&Plan{}).Counts(); a+c+d != 0 {
		t.Errorf("empty Counts = %d %d %d", a, c, d)
	}
	for a, s := range map[Action]string{Create: "+", Update: "~", Replace: "-/+", Delete: "-", NoOp: " "} {
		if a.Symbol() != s {
			t.Errorf("%s.Symbol() = %q", a, a.Symbol())
		}
	}
}

// A network that is there whether or not the lab made it (the LAN of ssh
// or Lima hosts) is created, not replaced, when the state lacks it: a first
// apply on Lima destroyed nothing.
func TestMakeSharedNetworkNotInState(t *testing.T) {
	want := dockerLab(t)
	st := applied(want)
	st.Remove("network.lan")
	obs := observed(want)
	s := obs.Networks["network.lan"]
	s.Shared = true
	obs.Networks["network.lan"] = s
	p := mk(t, want, st, obs, Options{})
	if c := change(p, "network.lan"); c.Action != Create || len(c.Reasons) != 0 {
		t.Errorf("network.lan = %s %q", c.Action, c.Reasons)
	}
	if got := actions(p); len(got) != 1 {
		t.Errorf("actions = %v", got)
	}
	// Without Shared it is a leftover, remade.
	s.Shared = false
	obs.Networks["network.lan"] = s
	if c := change(mk(t, want, st, obs, Options{}), "network.lan"); c.Action != Replace {
		t.Errorf("a netns network found without state: %s", c.Action)
	}
}

// A state written before empty attributes were left out still holds them:
// "" and absent are the same, so no `- delay = ""` line appears.
func TestRenderEmptyIsAbsent(t *testing.T) {
	p := &Plan{Changes: []*Change{{Addr: "container.c", Kind: kinds.Container, Host: "host.h", Action: Update,
		Before: map[string]string{"address": "10.0.0.2", "delay": "", "rate": ""},
		After:  map[string]string{"address": "10.0.0.3", "rate": "1mbit"}}}}
	var b bytes.Buffer
	Render(&b, p, false)
	out := b.String()
	if strings.Contains(out, "delay") || !strings.Contains(out, `+ rate    = "1mbit"`) || !strings.Contains(out, `~ address = "10.0.0.2" -> "10.0.0.3"`) {
		t.Errorf("render:\n%s", out)
	}
}

// Refresh only lists the namespaces of guests that go and leaves their
// veths out: their removal must not read as drift; one deleted by hand
// is (and is said to be gone already).
func TestMakeRemovalIsNotDrift(t *testing.T) {
	all := dockerLab(t)
	st := applied(all)
	obs := observed(all)
	k := obs.Kernel["host.node[0]"]
	var want []*kinds.Resource
	for _, w := range all {
		if !strings.HasPrefix(w.Addr, "container.client[") {
			want = append(want, w)
		}
	}
	c0, c1 := st.Get("container.client[0]").Attrs, st.Get("container.client[1]").Attrs
	k.Netns[c0["netns"]] = &hostnet.Netns{Links: map[string]hostnet.Link{}} // listed, not read
	delete(k.Links, c0["veth"])
	delete(obs.Kernel["host.node[1]"].Netns, c1["netns"]) // gone already
	delete(obs.Kernel["host.node[1]"].Links, c1["veth"])
	delete(obs.Kernel["host.node[1]"].IsoFiles, path.Base(c1["mount_ns"]))
	delete(obs.Kernel["host.node[1]"].IsoFiles, path.Base(c1["uts_ns"]))
	p := mk(t, want, st, obs, Options{})
	// Only the one deleted by hand changed outside labnet.
	if d := p.Drifted(); len(d) != 1 || d[0].Addr != "container.client[1]" {
		for _, c := range d {
			t.Errorf("drift reported for %s: %v", c.Addr, c.Status.Drift)
		}
	}
	if c := change(p, "container.client[0]"); c.Action != Delete || !reflect.DeepEqual(c.Reasons, []string{"not in the lab any more"}) {
		t.Errorf("client[0]: %s %q", c.Action, c.Reasons)
	}
	if c := change(p, "container.client[1]"); c.Action != Delete || !slices.Contains(c.Reasons, "already gone from the host") {
		t.Errorf("client[1]: %s %q", c.Action, c.Reasons)
	}
}
