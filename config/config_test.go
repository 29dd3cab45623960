package config

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/valid")

// dumpLab renders lab deterministically for golden files. Ranges are shown
// relative to dir.
func dumpLab(t *testing.T, lab *Lab, dir string) []byte {
	t.Helper()
	rng := func(r hcl.Range) string {
		fn := r.Filename
		if rel, err := filepath.Rel(dir, fn); err == nil {
			fn = filepath.ToSlash(rel)
		}
		return fmt.Sprintf("%s:%d:%d", fn, r.Start.Line, r.Start.Column)
	}
	res := func(r Resource) map[string]any {
		return map[string]any{"addr": r.Addr, "name": r.Name, "range": rng(r.Range)}
	}
	type obj = map[string]any
	var out struct {
		Name       string `json:"name"`
		Networks   []obj  `json:"networks"`
		Hosts      []obj  `json:"hosts"`
		Bridges    []obj  `json:"bridges"`
		Containers []obj  `json:"containers"`
		Processes  []obj  `json:"processes"`
		Checks     []obj  `json:"checks"`
		Outputs    []obj  `json:"outputs"`

		VMs         []obj `json:"vms,omitempty"`
		PodNetworks []obj `json:"pod_networks,omitempty"`
		Pods        []obj `json:"pods,omitempty"`
		Segments    []obj `json:"segments,omitempty"`

		Deps map[string][]string `json:"deps"`
	}
	portList := func(ps []Port) []string {
		var out []string
		for _, p := range ps {
			out = append(out, fmt.Sprintf("%d->%d/%s @ %s", p.HostPort, p.Port, p.Protocol, rng(p.Range)))
		}
		return out
	}
	out.Name = lab.Name
	out.Deps = lab.Deps
	for _, n := range lab.Networks() {
		o := res(n.Resource)
		o["cidr"] = n.CIDR.String()
		o["gateway"] = NetworkGateway(n.CIDR).String()
		out.Networks = append(out.Networks, o)
	}
	for _, h := range lab.Hosts() {
		o := res(h.Resource)
		o["network"], o["address"], o["provider"] = h.Network, h.Address.String(), h.Provider
		o["nat_network"] = h.NatCIDR.String()
		set := h.Settings
		num := func(k string) int { n, _ := strconv.Atoi(set[k]); return n }
		switch h.Provider {
		case "ssh":
			pk := set["private_key_file"]
			absDir, _ := filepath.Abs(dir)
			if rel, err := filepath.Rel(absDir, pk); err == nil && filepath.IsAbs(pk) && !strings.HasPrefix(rel, "..") {
				pk = "<lab>/" + filepath.ToSlash(rel)
			}
			o["ssh"] = obj{"user": set["user"], "private_key_file": pk, "port": num("port"), "host_key": set["host_key"], "known_hosts": set["known_hosts"]}
		case "lima":
			o["lima"] = obj{"cpus": num("cpus"), "memory": set["memory"], "disk": set["disk"],
				"template": set["template"], "image": set["image"], "network": set["network"]}
			if set["provision"] != "" {
				o["lima"].(obj)["provision"] = set["provision"]
			}
		}
		out.Hosts = append(out.Hosts, o)
	}
	for _, b := range lab.Bridges() {
		o := res(b.Resource)
		o["host"], o["ifname"], o["cidr"], o["gateway"], o["masquerade"] = b.Host, b.Ifname, b.CIDR.String(), b.Gateway.String(), b.Masquerade
		out.Bridges = append(out.Bridges, o)
	}
	for _, c := range lab.Containers() {
		o := res(c.Resource)
		o["host"], o["bridge"], o["address"] = c.Host, c.Bridge, c.Address.String()
		if c.Segment != "" {
			o["segment"] = c.Segment
		}
		o["ports"] = portList(c.Ports)
		addShaping(o, c.Shaping)
		if len(c.PrivateDirs) > 0 {
			o["private_dirs"] = c.PrivateDirs
		}
		if len(c.Files) > 0 {
			var files []string
			for _, f := range c.Files {
				files = append(files, fmt.Sprintf("%s %04o %q @ %s", f.Path, f.Mode, f.Content, rng(f.Range)))
			}
			o["files"] = files
		}
		out.Containers = append(out.Containers, o)
	}
	for _, v := range lab.VMs() {
		o := res(v.Resource)
		o["host"], o["mode"], o["address"], o["ports"] = v.Host, v.Mode, v.Address.String(), portList(v.Ports)
		addShaping(o, v.Shaping)
		out.VMs = append(out.VMs, o)
	}
	for _, pn := range lab.PodNetworks() {
		o := res(pn.Resource)
		o["cidr"], o["subnet_bits"], o["backend"], o["vni"], o["port"] = pn.CIDR.String(), pn.SubnetBits, pn.Backend, pn.VNI, pn.Port
		subnets := map[string]string{}
		for h, p := range pn.Subnets {
			subnets[h] = p.String()
		}
		o["hosts"], o["subnets"] = pn.Hosts, subnets
		out.PodNetworks = append(out.PodNetworks, o)
	}
	for _, p := range lab.Pods() {
		o := res(p.Resource)
		o["host"], o["network"], o["address"] = p.Host, p.Network, p.Address.String()
		var cs []obj
		for _, c := range p.Containers {
			co := obj{"name": c.Name, "command": c.Command, "range": rng(c.Range)}
			if c.Image != nil {
				co["image"], co["env"], co["workdir"], co["cap_add"] = c.Image.Ref, c.Image.Env, c.Image.Cwd, c.Image.CapAdd
			}
			if len(c.PrivateDirs) > 0 {
				co["private_dirs"] = c.PrivateDirs
			}
			var files []string
			for _, f := range c.Files {
				files = append(files, fmt.Sprintf("%s %04o %q @ %s", f.Path, f.Mode, f.Content, rng(f.Range)))
			}
			if files != nil {
				co["files"] = files
			}
			cs = append(cs, co)
		}
		o["containers"] = cs
		addShaping(o, p.Shaping)
		out.Pods = append(out.Pods, o)
	}
	for _, s := range lab.Segments() {
		o := res(s.Resource)
		o["vni"], o["cidr"], o["hosts"], o["port"] = s.VNI, s.CIDR.String(), s.Hosts, s.Port
		out.Segments = append(out.Segments, o)
	}
	for _, p := range lab.Processes() {
		o := res(p.Resource)
		o["on"], o["command"] = p.On, p.Command
		out.Processes = append(out.Processes, o)
	}
	for _, c := range lab.Checks() {
		o := res(c.Resource)
		o["from"], o["to"], o["kind"], o["port"], o["exec"] = c.From, c.To, c.Kind, c.Port, c.Exec
		o["dial"], o["expect"], o["timeout"] = "", c.Expect, c.Timeout.String()
		if c.Dial.IsValid() {
			o["dial"] = c.Dial.String()
		}
		o["source"] = ""
		if c.Source.IsValid() {
			o["source"] = c.Source.String()
		}
		out.Checks = append(out.Checks, o)
	}
	for _, op := range lab.Outputs {
		b, err := ctyjson.Marshal(op.Value, op.Value.Type())
		if err != nil {
			t.Fatalf("output %s: %v", op.Name, err)
		}
		out.Outputs = append(out.Outputs, obj{
			"name": op.Name, "value": json.RawMessage(b), "description": op.Description, "sensitive": op.Sensitive,
		})
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// addShaping adds a guest's shaping to its dump when it has any, so the
// golden files of labs without shaping stay as they were.
func addShaping(o map[string]any, s Shaping) {
	if s.IsZero() {
		return
	}
	o["shaping"] = map[string]any{"rate": s.Rate, "delay": s.Delay.String(), "loss": s.Loss}
}

// caseOptions is testdata/valid/<case>/options.json.
type caseOptions struct {
	Vars     map[string]string `json:"vars"`
	VarFiles []string          `json:"var_files"` // relative to the case directory
	Env      []string          `json:"env"`
}

func loadOK(t *testing.T, dir string, opts Options) *Lab {
	t.Helper()
	lab, files, diags := Load(dir, opts)
	if diags.HasErrors() || lab == nil {
		var buf bytes.Buffer
		_ = WriteDiagnostics(&buf, files, diags, false)
		t.Fatalf("Load(%s) failed:\n%s", dir, buf.String())
	}
	for _, d := range diags {
		t.Logf("warning: %s: %s", d.Summary, d.Detail)
	}
	return lab
}

func TestValid(t *testing.T) {
	cases, err := filepath.Glob("testdata/valid/*")
	if err != nil || len(cases) == 0 {
		t.Fatalf("no valid cases: %v", err)
	}
	for _, dir := range cases {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			var opts Options
			if b, err := os.ReadFile(filepath.Join(dir, "options.json")); err == nil {
				var co caseOptions
				if err := json.Unmarshal(b, &co); err != nil {
					t.Fatalf("options.json: %v", err)
				}
				opts.Vars, opts.Env = co.Vars, co.Env
				for _, f := range co.VarFiles {
					opts.VarFiles = append(opts.VarFiles, filepath.Join(dir, f))
				}
			}
			lab := loadOK(t, dir, opts)
			got := dumpLab(t, lab, dir)
			golden := filepath.Join(dir, "golden.json")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("lab dump differs from %s (run go test -update if intended)\n--- got:\n%s", golden, got)
			}
		})
	}
}

var expectRe = regexp.MustCompile(`^# error: (.+) @ (\d+):(\d+)\s*$`)

// TestInvalid loads each testdata/invalid/*.hcl alone and expects an error
// whose subject starts at the line:col given in its first line.
func TestInvalid(t *testing.T) {
	cases, err := filepath.Glob("testdata/invalid/*.hcl")
	if err != nil || len(cases) < 30 {
		t.Fatalf("want at least 30 invalid cases, got %d (%v)", len(cases), err)
	}
	for _, fn := range cases {
		t.Run(strings.TrimSuffix(filepath.Base(fn), ".hcl"), func(t *testing.T) {
			src, err := os.ReadFile(fn)
			if err != nil {
				t.Fatal(err)
			}
			first, _, _ := strings.Cut(string(src), "\n")
			m := expectRe.FindStringSubmatch(first)
			if m == nil {
				t.Fatalf("first line %q is not `# error: <text> @ <line>:<col>`", first)
			}
			want, line, col := m[1], atoi(t, m[2]), atoi(t, m[3])
			dir := filepath.Join(t.TempDir(), "lab")
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "main.hcl"), src, 0o644); err != nil {
				t.Fatal(err)
			}
			lab, files, diags := Load(dir, Options{})
			if !diags.HasErrors() {
				t.Fatalf("no error, want %q @ %d:%d", want, line, col)
			}
			if lab != nil {
				t.Errorf("lab is not nil despite errors")
			}
			for _, d := range diags {
				if d.Severity == hcl.DiagError && d.Subject != nil &&
					d.Subject.Start.Line == line && d.Subject.Start.Column == col &&
					strings.Contains(d.Summary+": "+d.Detail, want) {
					return
				}
			}
			var buf bytes.Buffer
			_ = WriteDiagnostics(&buf, files, diags, false)
			t.Errorf("want an error containing %q @ %d:%d; got:\n%s", want, line, col, diagList(diags)+"\n"+buf.String())
		})
	}
}

func diagList(diags hcl.Diagnostics) string {
	var b strings.Builder
	for _, d := range diags {
		pos := "-"
		if d.Subject != nil {
			pos = fmt.Sprintf("%d:%d", d.Subject.Start.Line, d.Subject.Start.Column)
		}
		fmt.Fprintf(&b, "  %s %s: %s\n", pos, d.Summary, d.Detail)
	}
	return b.String()
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	i, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return i
}

// writeLab writes files into a new lab directory named "lab".
func writeLab(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "lab")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// errorsOf loads src and returns its error diagnostics, formatted.
func errorsOf(t *testing.T, src string, opts Options) []string {
	t.Helper()
	_, _, diags := Load(writeLab(t, map[string]string{"main.hcl": src}), opts)
	var out []string
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			out = append(out, d.Summary+": "+d.Detail)
		}
	}
	return out
}
