package kinds_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/labnet-dev/labnet/config"
	"github.com/labnet-dev/labnet/kinds"
	"github.com/labnet-dev/labnet/plan"
	"github.com/labnet-dev/labnet/state"
)

var update = flag.Bool("update", false, "rewrite testdata/v2 from the upgraded testdata/v1 states")

// v1Labs are the labs whose version 1 state, written by labnet before
// version 2 (applied on netns hosts, then destroyed), is in testdata/v1
// with the lab file it was applied from (the lab renamed so as not to
// meet the acceptance tests' labs on the machine).
var v1Labs = []string{"docker", "kubernetes-flat", "sdn", "vms"}

// stateDir is a state directory holding file as state.json.
func stateDir(t *testing.T, file []byte) state.Dir {
	t.Helper()
	d := state.Dir{Path: t.TempDir()}
	if err := os.WriteFile(filepath.Join(d.Path, "state.json"), file, 0o600); err != nil {
		t.Fatal(err)
	}
	return d
}

// TestUpgradeV1 loads each version 1 state of testdata/v1: it upgrades
// to exactly what expanding its lab gives (kinds, hosts, attributes,
// dependencies; records kept), so a plan from it is empty; saved, it is
// version 2 (as testdata/v2 holds it), and it loads back to the same
// attributes and saves again to the same bytes.
func TestUpgradeV1(t *testing.T) {
	for _, name := range v1Labs {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join("testdata", "v1", name)
			v1, err := os.ReadFile(filepath.Join(dir, "state.json"))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(v1, []byte(`"version": 1,`)) || !bytes.Contains(v1, []byte(`"attrs": {`)) {
				t.Fatal("not a version 1 state")
			}
			d := stateDir(t, v1)
			st, err := d.Load(kinds.StateCodec)
			if err != nil {
				t.Fatal(err)
			}
			lab, _, diags := config.Load(dir, config.Options{})
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			want := kinds.Expand(lab)
			// What containers gained after version 1 (their own mount and
			// UTS namespaces): a version 1 state has none of it, and plan
			// remakes them and their processes for it.
			isolation := func(k string) bool {
				return k == "mount_ns" || k == "uts_ns" || k == "hostname" || k == "private_dirs" || k == "node_files" || strings.HasPrefix(k, kinds.FilePrefix)
			}
			lab1 := make([]*kinds.Resource, len(want))
			for i, w := range want {
				c := *w
				c.Attrs = maps.Clone(w.Attrs)
				maps.DeleteFunc(c.Attrs, func(k, _ string) bool { return isolation(k) })
				lab1[i] = &c
			}
			if st.Lab != lab.Name || len(st.Resources) != len(want) {
				t.Fatalf("state of %q with %d resources, lab %q expands to %d", st.Lab, len(st.Resources), lab.Name, len(want))
			}
			records := 0
			for _, w := range lab1 {
				r := st.Get(w.Addr)
				switch {
				case r == nil:
					t.Errorf("%s: not in the upgraded state", w.Addr)
				case r.Kind != w.Kind || r.Host != w.Host || !slices.Equal(r.Deps, w.Deps) || r.Tainted:
					t.Errorf("%s: upgraded to %s on %s after %v (tainted %v), lab: %s on %s after %v", w.Addr, r.Kind, r.Host, r.Deps, r.Tainted, w.Kind, w.Host, w.Deps)
				case !maps.Equal(r.Attrs, w.Attrs):
					t.Errorf("%s: upgraded attributes\n%v\nlab's\n%v", w.Addr, r.Attrs, w.Attrs)
				}
				if r != nil && len(r.Record) > 0 {
					records++
				}
			}
			if hosts := len(lab.Hosts()); records != hosts {
				t.Errorf("%d records kept, want one per host (%d)", records, hosts)
			}
			// What -refresh=false plans: nothing to do but give containers
			// (and their processes) their own namespaces.
			p := plan.Make(lab.Name, want, st, plan.Observations{}, plan.Options{})
			for _, c := range p.Changes {
				cascaded := len(c.Reasons) > 0 && !slices.ContainsFunc(c.Reasons, func(r string) bool { return !strings.HasSuffix(r, " is made anew") })
				if cascaded {
					continue // made again with its container
				}
				if c.Action != plan.Replace || len(c.Forced) == 0 || slices.ContainsFunc(c.Forced, func(k string) bool { return !isolation(k) }) {
					t.Errorf("plan after the upgrade: %s %s %v %v", c.Action, c.Addr, c.Forced, c.Reasons)
				}
			}

			if err := d.Save(st, kinds.StateCodec); err != nil {
				t.Fatal(err)
			}
			v2, err := os.ReadFile(filepath.Join(d.Path, "state.json"))
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "v2", name+".state.json")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, v2, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if g, err := os.ReadFile(golden); err != nil || !bytes.Equal(g, v2) {
				t.Errorf("the upgraded state saved differs from %s (go test ./kinds -run TestUpgradeV1 -update rewrites it): %v\n%s", golden, err, v2)
			}
			var file struct {
				Version   int
				Resources []map[string]json.RawMessage
			}
			if err := json.Unmarshal(v2, &file); err != nil || file.Version != state.Version {
				t.Fatalf("saved version %d, %v", file.Version, err)
			}
			for _, r := range file.Resources {
				if _, ok := r["spec"]; !ok || r["attrs"] != nil {
					t.Errorf("saved resource %s: members %v, want a spec and no attrs", r["addr"], slices.Sorted(maps.Keys(r)))
				}
			}
			if backup, _ := os.ReadFile(filepath.Join(d.Path, "state.json.backup")); !bytes.Equal(backup, v1) {
				t.Errorf("the backup is not the version 1 file")
			}

			back, err := d.Load(kinds.StateCodec)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range st.Resources {
				if b := back.Get(r.Addr); b == nil || !maps.Equal(b.Attrs, r.Attrs) || string(b.Record) != string(r.Record) {
					t.Errorf("%s: version 2 loads as %+v, was saved as %+v", r.Addr, b, r)
				}
			}
			if err := d.Save(back, kinds.StateCodec); err != nil {
				t.Fatal(err)
			}
			again, _ := os.ReadFile(filepath.Join(d.Path, "state.json"))
			serial := func(n int64) []byte { return []byte(fmt.Sprintf(`"serial": %d,`, n)) }
			if !bytes.Equal(again, bytes.Replace(v2, serial(st.Serial), serial(back.Serial), 1)) {
				t.Errorf("version 2 loaded and saved again is not byte-stable:\n%s\nwas\n%s", again, v2)
			}
		})
	}
}

// edit decodes a state file, lets change edit it and encodes it again.
func edit(t *testing.T, file []byte, change func(st map[string]any)) []byte {
	t.Helper()
	var st map[string]any
	if err := json.Unmarshal(file, &st); err != nil {
		t.Fatal(err)
	}
	change(st)
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// resource is the resource at addr of a decoded state file.
func resource(t *testing.T, st map[string]any, addr string) map[string]any {
	for _, r := range st["resources"].([]any) {
		if r := r.(map[string]any); r["addr"] == addr {
			return r
		}
	}
	t.Fatalf("%s not in the state", addr)
	return nil
}

// TestBrokenStateNamesResourceAndAttribute: a value broken by hand in a
// version 1 or version 2 state stops Load with a message naming the
// resource and the attribute (or the kind, or the version).
func TestBrokenStateNamesResourceAndAttribute(t *testing.T) {
	v1, err := os.ReadFile(filepath.Join("testdata", "v1", "docker", "state.json"))
	if err != nil {
		t.Fatal(err)
	}
	v2, err := os.ReadFile(filepath.Join("testdata", "v2", "docker.state.json"))
	if err != nil {
		t.Fatal(err)
	}
	const web = "container.web[0]"
	in := func(addr, member string, change func(m map[string]any)) func(st map[string]any) {
		return func(st map[string]any) { change(resource(t, st, addr)[member].(map[string]any)) }
	}
	set := func(k string, v any) func(m map[string]any) { return func(m map[string]any) { m[k] = v } }
	tests := []struct {
		name   string
		file   []byte
		change func(st map[string]any)
		want   string
	}{
		{"v1 bad address", v1, in(web, "attrs", set("address", "172.17.0.300")),
			`state.json: upgrading from version 1: container.web[0]: attribute "address" ("172.17.0.300"): ParseAddr("172.17.0.300"): IPv4 field has value >255 (fix the value in `},
		{"v2 bad address", v2, in(web, "spec", set("address", "172.17.0.300")),
			`state.json: container.web[0]: attribute "address": ParseAddr("172.17.0.300"): IPv4 field has value >255 (fix the value in `},
		{"v1 not a number", v1, in(web, "attrs", set("bits", "sixteen")),
			`container.web[0]: attribute "bits" ("sixteen"): strconv.Atoi: parsing "sixteen": invalid syntax`},
		{"v2 a string where a number is", v2, in(web, "spec", set("bits", "16")),
			`state.json: container.web[0]: attribute "bits": JSON string where a whole number belongs`},
		{"v2 a fraction where a whole number is", v2, in(web, "spec", set("bits", 16.5)),
			`container.web[0]: attribute "bits": JSON number 16.5 where a whole number belongs`},
		{"v2 out of range", v2, in(web, "spec", set("bits", 33)),
			`container.web[0]: attribute "bits" ("33"): out of range 1..32`},
		{"v2 missing", v2, in(web, "spec", func(m map[string]any) { delete(m, "address") }),
			`container.web[0]: attribute "address" (""): missing`},
		{"v2 not a name", v2, in(web, "spec", set("netns", "ln x")),
			`container.web[0]: attribute "netns" ("ln x"): not a name`},
		{"v2 a string where a boolean is", v2, in("bridge.docker0[0]", "spec", set("masquerade", "yes")),
			`bridge.docker0[0]: attribute "masquerade": JSON string where true or false belongs`},
		{"v2 a string where a list is", v2, in("process.web[0]", "spec", set("command", "python3 -m http.server 80")),
			`process.web[0]: attribute "command": JSON string where a list belongs`},
		{"v2 inside an object", v2, in(web, "spec", set("ports", []any{map[string]any{"host_port": 8080, "protocol": "tcp", "port": "80"}})),
			`container.web[0]: attribute "ports": /ports/0/port: JSON string where a whole number belongs`},
		{"v1 unknown attribute", v1, in(web, "attrs", set("colour", "red")),
			`container.web[0]: attribute "colour" ("red"): not an attribute of this kind`},
		{"v2 unknown attribute", v2, in(web, "spec", set("colour", "red")),
			`state.json: container.web[0]: attribute "colour": not an attribute of a container`},
		{"v2 another kind's attribute", v2, in(web, "spec", set("mode", "nat")),
			`container.web[0]: attribute "mode" ("nat"): not an attribute of this kind`},
		{"v2 unknown member inside", v2, in("nat_table.node-0", "spec", func(m map[string]any) {
			m["rules"].([]any)[0].(map[string]any)["colour"] = "red"
		}), `nat_table.node-0: attribute "rules": /rules/0/colour: unknown member`},
		{"v2 a provider setting out of range", v2, in("host.node[0]", "spec", set("ssh_port", 70000)),
			`host.node[0]: attribute "ssh_port" ("70000"): must be a whole number from 1 to 65535`},
		{"v2 a provider setting its provider refuses", v2, in("host.node[0]", "spec", set("ssh_user", "no body")),
			`host.node[0]: attribute "ssh_user" ("no body"): The ssh user "no body" must match`},
		{"v2 a provider setting of another type", v2, in("host.node[0]", "spec", set("ssh_user", true)),
			`host.node[0]: attribute "ssh_user" ("JSON true"): The ssh user "JSON true" must match`},
		{"v2 no provider's setting", v2, in("host.node[0]", "spec", set("vbox_cpus", 2)),
			`host.node[0]: attribute "vbox_cpus" ("2"): not an attribute of this kind`},
		{"v1 unknown kind", v1, func(st map[string]any) { resource(t, st, web)["kind"] = "widget" },
			`state.json: upgrading from version 1: container.web[0]: unknown kind "widget"`},
		{"v2 unknown kind", v2, func(st map[string]any) { resource(t, st, web)["kind"] = "widget" },
			`state.json: container.web[0]: unknown kind "widget"`},
		{"v2 future version", v2, func(st map[string]any) { st["version"] = 3 },
			`state.json: state version 3 is newer than this labnet reads (up to 2)`},
		{"v1 future version", v1, func(st map[string]any) { st["version"] = 3 },
			`state.json: state version 3 is newer than this labnet reads (up to 2)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := stateDir(t, edit(t, tt.file, tt.change))
			st, err := d.Load(kinds.StateCodec)
			if err == nil || !strings.Contains(err.Error(), tt.want) || st != nil {
				t.Errorf("Load = %v\nwant an error with %s", err, tt.want)
			}
		})
	}
	// Unbroken, both load.
	for _, f := range [][]byte{v1, v2} {
		if _, err := stateDir(t, f).Load(kinds.StateCodec); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSpecRefusesOthersAttributes: the guest kinds share one spec type,
// but each parses only its own attributes.
func TestSpecRefusesOthersAttributes(t *testing.T) {
	base := map[string]string{"host": "host.h", "bridge": "bridge.b", "bridge_ifname": "br0", "address": "10.0.0.2", "bits": "24", "netns": "ln.l.g", "veth": "ln0123456789"}
	with := func(k, v string) map[string]string { a := maps.Clone(base); a[k] = v; return a }
	podWithPorts := with("network", "pod_network.p")
	podWithPorts["ports"] = "8080/tcp->80"
	for _, tt := range []struct {
		kind string
		a    map[string]string
		bad  string
	}{
		{kinds.Container, with("mode", "nat"), "mode"},
		{kinds.Container, with("network", "pod_network.p"), "network"},
		{kinds.Pod, podWithPorts, "ports"},
		{kinds.VM, with("network", "pod_network.p"), "mode"}, // missing its own first
	} {
		err := kinds.Check(tt.kind, "g", tt.a)
		if err == nil || !strings.Contains(err.Error(), `attribute "`+tt.bad+`"`) {
			t.Errorf("%s with %v: %v", tt.kind, tt.a, err)
		}
	}
}
