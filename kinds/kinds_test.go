package kinds_test

import (
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/labnet-dev/labnet/config"
	"github.com/labnet-dev/labnet/hostnet"
	"github.com/labnet-dev/labnet/kinds"
)

// sample expands the sample labs: at least one resource of every kind.
func sample(t *testing.T) []*kinds.Resource {
	t.Helper()
	var out []*kinds.Resource
	for _, dir := range []string{"config/testdata/valid/docker", "config/testdata/valid/kubernetes-flat", "config/testdata/valid/kubernetes-flat-host-gw",
		"config/testdata/valid/sdn", "config/testdata/valid/vms", "config/testdata/valid/providers", "config/testdata/valid/isolation", "config/testdata/valid/images", "labs/sdn", "acceptance/testdata/links"} {
		lab, _, diags := config.Load(filepath.Join("..", dir), config.Options{})
		if diags.HasErrors() {
			t.Fatalf("%s: %v", dir, diags)
		}
		out = append(out, kinds.Expand(lab)...)
	}
	return out
}

// TestEveryKindRegistered: every kind expand makes has its place in the
// registry, and its attributes parse.
func TestEveryKindRegistered(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range sample(t) {
		seen[r.Kind] = true
		k, err := kinds.Get(r.Kind)
		if err != nil {
			t.Fatalf("%s: %v", r.Addr, err)
		}
		if _, err := k.Spec(r.Addr, r.Attrs); err != nil {
			t.Errorf("%s: %v", r.Addr, err)
		}
	}
	for _, k := range kinds.All() {
		if !seen[k.Info().Name] {
			t.Errorf("no %s in the sample labs: its parsing is untested", k.Info().Name)
		}
	}
}

// broken is a bad value for each typed attribute.
var broken = map[string]string{
	"address": "10.0.0.300", "cidr": "10.0.0.0/33", "gateway": "gw", "network_cidr": "x", "network_gateway": "x",
	"bits": "33", "mtu": "15000000", "vni": "0", "port": "70000", "local": "::x", "subnet": "10.244.1.0",
	"peers": "10.244.2.0/24=192.168.50.12=zz:zz", "command": `["sh",`, "rules": `[{"owner":`,
	"rate": "fast", "delay": "soon", "loss": "lots", "ssh_port": "0", "lima_cpus": "many",
	"name": "", "netns": "ns x", "veth": "v;x", "ifname": "", "vxlan": "a b", "bridge": "", "host": "", "guest": "", "on": "", "owner": "", "log": "", "bridge_ifname": "br'x", "backend": "wire",
	"mount_ns": "run/labnet/x.mnt", "uts_ns": "/run/labnet/../x.uts", "hostname": "r 0", "private_dirs": `["/etc/$(x)"]`,
	"file:/etc/frr/frr.conf": "0640:not base64!", "file:/etc/frr/daemons": "0999:eA==",
}

// TestCheckNamesTheAttribute: a hand-broken state value is refused with
// the resource and the attribute named, for every typed attribute of
// every kind.
func TestCheckNamesTheAttribute(t *testing.T) {
	tried := map[string]bool{}
	for _, r := range sample(t) {
		for attr, bad := range broken {
			if _, has := r.Attrs[attr]; !has {
				continue
			}
			a := maps.Clone(r.Attrs)
			a[attr] = bad
			err := kinds.Check(r.Kind, r.Addr, a)
			if err == nil || !strings.Contains(err.Error(), r.Addr) || !strings.Contains(err.Error(), `attribute "`+attr+`"`) {
				t.Errorf("%s with %s = %q: %v", r.Addr, attr, bad, err)
			}
			tried[r.Kind+"."+attr] = true
		}
	}
	if len(tried) < 50 {
		t.Errorf("only %d kind attributes tried", len(tried))
	}
	a := map[string]string{"host": "host.h", "ifname": "b", "cidr": "10.0.0.0/24", "gateway": "10.0.0.300", "masquerade": "true"}
	if _, err := kinds.StateCodec.Encode(kinds.Bridge, "bridge.b", a); err == nil || err.Error() != `bridge.b: attribute "gateway" ("10.0.0.300"): ParseAddr("10.0.0.300"): IPv4 field has value >255` {
		t.Errorf("Encode: %v", err)
	}
	if _, err := kinds.StateCodec.Encode("widget", "widget.w", a); err == nil || err.Error() != `widget.w: unknown kind "widget"` {
		t.Errorf("Encode of an unknown kind: %v", err)
	}
}

// TestInfo: every kind's traits hold together: its parent attribute
// forces a replacement, orders are distinct.
func TestInfo(t *testing.T) {
	orders := map[int]string{}
	for _, k := range kinds.All() {
		in := k.Info()
		if o, dup := orders[in.Order]; dup {
			t.Errorf("%s and %s share order %d", o, in.Name, in.Order)
		}
		orders[in.Order] = in.Name
		for _, pa := range in.Parents {
			if !slices.Contains(in.ForceNew, pa) {
				t.Errorf("%s: parent %q does not force replacement", in.Name, pa)
			}
		}
		if in.WithHost && !slices.Contains(in.ForceNew, "host") && in.Name != kinds.Process {
			t.Errorf("%s: remade with its host but its host does not force replacement", in.Name)
		}
	}
}

// TestProcessJudgesItsSpecMark: a process is the lab's when one of the
// processes with its owner mark carries its spec mark; one carrying
// another is drift (replaced); one with none was started before the mark
// existed and is taken as it is.
func TestProcessJudgesItsSpecMark(t *testing.T) {
	var proc *kinds.Resource
	for _, r := range sample(t) {
		if r.Kind == kinds.Process {
			proc = r
			break
		}
	}
	k, _ := kinds.Get(kinds.Process)
	st, err := k.Step(hostnet.Names{Lab: "x"}, kinds.Op{Addr: proc.Addr, After: proc.Attrs}, nil)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`LABNET_SPEC=([0-9a-f]{16})`).FindStringSubmatch(st.Shell)
	if m == nil {
		t.Fatalf("the start step sets no spec mark: %s", st.Shell)
	}
	owner := proc.Attrs["owner"]
	for _, tc := range []struct {
		name      string
		specs     map[int]string
		pids      []int
		exists    bool
		drift     string
		replaceIt bool
	}{
		{"its mark", map[int]string{7: m[1]}, []int{7}, true, "", false},
		{"its mark on one of two", map[int]string{7: "00", 8: m[1]}, []int{7, 8}, true, "", false},
		{"another mark", map[int]string{7: "00"}, []int{7}, true, "started from another command", true},
		{"no mark: an older labnet's", nil, []int{7}, true, "", false},
		{"not running", nil, nil, false, "not running", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obs := &hostnet.Observed{Procs: map[string][]int{owner: tc.pids}, ProcSpecs: tc.specs}
			v, err := k.Judge(hostnet.Names{Lab: "x"}, proc.Addr, proc.Attrs, obs, false)
			if err != nil {
				t.Fatal(err)
			}
			if v.Exists != tc.exists || v.Unrepairable != tc.replaceIt || (tc.drift == "") != (len(v.Drift) == 0) ||
				tc.drift != "" && !strings.Contains(strings.Join(v.Drift, "; "), tc.drift) {
				t.Errorf("verdict %+v", v)
			}
		})
	}
}
