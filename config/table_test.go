package config

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

const lanHCL = `network "lan" { cidr = "192.168.50.0/24" }
`

func TestAddressAllocation(t *testing.T) {
	tests := []struct {
		name    string
		src     string
		want    map[string]string // instance address -> address
		wantErr string
	}{
		{
			name: "hosts from the 11th address",
			src:  lanHCL + "host \"a\" {\n count = 3\n network = network.lan\n}\n",
			want: map[string]string{"host.a[0]": "192.168.50.11", "host.a[1]": "192.168.50.12", "host.a[2]": "192.168.50.13"},
		},
		{
			name: "allocation skips earlier explicit addresses",
			src: lanHCL + `host "x" {
  network = network.lan
  address = "192.168.50.12"
}
host "a" {
  count   = 2
  network = network.lan
}
`,
			want: map[string]string{"host.x": "192.168.50.12", "host.a[0]": "192.168.50.11", "host.a[1]": "192.168.50.13"},
		},
		{
			name: "explicit addresses below the allocation range",
			src: lanHCL + `host "a" {
  network = network.lan
  address = "192.168.50.1"
}
host "b" { network = network.lan }
`,
			want: map[string]string{"host.a": "192.168.50.1", "host.b": "192.168.50.11"},
		},
		{
			name: "networks allocate independently",
			src: lanHCL + `network "wan" { cidr = "10.0.0.0/8" }
host "a" { network = network.lan }
host "b" { network = network.wan }
`,
			want: map[string]string{"host.a": "192.168.50.11", "host.b": "10.0.0.11"},
		},
		{
			name: "small network skips the gateway",
			src: `network "n" { cidr = "10.0.0.0/28" }
host "a" {
  count   = 3
  network = network.n
}
`,
			want: map[string]string{"host.a[0]": "10.0.0.11", "host.a[1]": "10.0.0.12", "host.a[2]": "10.0.0.13"},
		},
		{
			name: "small network runs out",
			src: `network "n" { cidr = "10.0.0.0/28" }
host "a" {
  count   = 4
  network = network.n
}
`,
			wantErr: "network.n (10.0.0.0/28) has no free address for host.a[3]",
		},
		{
			name: "containers from .2, skipping taken addresses, per bridge",
			src: lanHCL + `host "h" {
  count   = 2
  network = network.lan
}
bridge "br" {
  count = 2
  host  = host.h[count.index]
  cidr  = "172.17.0.0/16"
}
container "fixed" {
  host    = host.h[0]
  bridge  = bridge.br[0]
  address = "172.17.0.3"
}
container "c" {
  count  = 2
  host   = host.h[0]
  bridge = bridge.br[0]
}
container "other" {
  host   = host.h[1]
  bridge = bridge.br[1]
}
`,
			want: map[string]string{
				"host.h[0]": "192.168.50.11", "host.h[1]": "192.168.50.12",
				"container.fixed": "172.17.0.3", "container.c[0]": "172.17.0.2", "container.c[1]": "172.17.0.4",
				"container.other": "172.17.0.2",
			},
		},
		{
			name: "tiny bridge runs out",
			src: lanHCL + `host "h" { network = network.lan }
bridge "br" {
  host = host.h
  cidr = "10.1.0.0/30"
}
container "c" {
  count  = 2
  host   = host.h
  bridge = bridge.br
}
`,
			wantErr: "bridge.br (10.1.0.0/30) has no free address for container.c[1]",
		},
		{
			name: "explicit address colliding with an allocated one",
			src: lanHCL + `host "a" { network = network.lan }
host "b" {
  network = network.lan
  address = host.a.address
}
`,
			wantErr: "address 192.168.50.11 of host.b is already used by host.a",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeLab(t, map[string]string{"main.hcl": tt.src})
			lab, _, diags := Load(dir, Options{})
			if tt.wantErr != "" {
				if !diags.HasErrors() || !strings.Contains(diags.Error(), tt.wantErr) {
					t.Fatalf("want error %q, got %v", tt.wantErr, diags)
				}
				return
			}
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			got := map[string]string{}
			for _, h := range lab.Hosts() {
				got[h.Addr] = h.Address.String()
			}
			for _, c := range lab.Containers() {
				got[c.Addr] = c.Address.String()
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("addresses = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDeps(t *testing.T) {
	base := lanHCL + `host "h" {
  count   = 3
  network = network.lan
}
`
	tests := []struct {
		name string
		src  string
		want map[string][]string // checked entries of Lab.Deps
	}{
		{
			name: "no references",
			src:  lanHCL,
			want: map[string][]string{"network.lan": {}},
		},
		{
			name: "static index",
			src:  base + "process \"p\" {\n  on = host.h[1]\n  command = [\"true\"]\n}\n",
			want: map[string][]string{"process.p": {"host.h[1]"}, "host.h[2]": {"network.lan"}},
		},
		{
			name: "count.index resolves per instance",
			src:  base + "process \"p\" {\n  count = 2\n  on = host.h[count.index + 1]\n  command = [\"true\"]\n}\n",
			want: map[string][]string{"process.p[0]": {"host.h[1]"}, "process.p[1]": {"host.h[2]"}},
		},
		{
			name: "whole resource means every instance",
			src:  base + "process \"p\" {\n  on = host.h[0]\n  command = [for h in host.h : h.name]\n}\n",
			want: map[string][]string{"process.p": {"host.h[0]", "host.h[1]", "host.h[2]"}},
		},
		{
			name: "splat means every instance",
			src:  base + "process \"p\" {\n  on = host.h[0]\n  command = host.h[*].address\n}\n",
			want: map[string][]string{"process.p": {"host.h[0]", "host.h[1]", "host.h[2]"}},
		},
		{
			name: "count expression references",
			src:  base + "network \"x\" {\n  count = length(host.h) - 2\n  cidr = \"10.0.0.0/24\"\n}\n",
			want: map[string][]string{"network.x[0]": {"host.h[0]", "host.h[1]", "host.h[2]"}},
		},
		{
			name: "locals pass their references on",
			src: base + `locals {
  first = host.h[0]
  addrs = concat([local.first.address], [host.h[2].address])
  plain = "x"
}
process "p" {
  on      = local.first
  command = concat(local.addrs, [local.plain])
}
`,
			want: map[string][]string{"process.p": {"host.h[0]", "host.h[2]"}},
		},
		{
			name: "for_each keys",
			src: lanHCL + `host "h" {
  for_each = toset(["a", "b"])
  network  = network.lan
}
process "p" {
  for_each = toset(["a", "b"])
  on       = host.h[each.key]
  command  = ["echo", host.h["a"].name]
}
`,
			want: map[string][]string{
				`process.p["a"]`: {`host.h["a"]`},
				`process.p["b"]`: {`host.h["a"]`, `host.h["b"]`},
			},
		},
		{
			name: "nested port blocks and outputs",
			src: base + `bridge "br" {
  host = host.h[0]
  cidr = "172.17.0.0/16"
}
container "c" {
  host   = host.h[0]
  bridge = bridge.br
  port {
    host_port = 8000 + length(host.h[*].name)
    port      = 80
  }
}
output "o" { value = container.c.address }
`,
			want: map[string][]string{"container.c": {"bridge.br", "host.h[0]", "host.h[1]", "host.h[2]"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lab := loadOK(t, writeLab(t, map[string]string{"main.hcl": tt.src}), Options{})
			for addr, want := range tt.want {
				got, ok := lab.Deps[addr]
				if !ok {
					t.Errorf("Deps has no entry for %s; deps: %v", addr, lab.Deps)
					continue
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("Deps[%s] = %q, want %q", addr, got, want)
				}
			}
			for _, k := range []string{"output.o", "local.first"} {
				if _, ok := lab.Deps[k]; ok {
					t.Errorf("Deps has an entry for non-resource %s", k)
				}
			}
		})
	}
}

func TestVariables(t *testing.T) {
	src := `variable "n" {
  type    = number
  default = 1
}
variable "s" {
  type    = string
  default = "d"
}
variable "l" {
  type    = list(number)
  default = [1]
}
variable "req" {}
output "v" { value = [var.n, var.s, var.l, var.req] }
`
	tests := []struct {
		name     string
		opts     Options
		varFile  string
		want     string // the output, as a Go-syntax cty value
		wantErr  string
		wantWarn string
	}{
		{
			name: "defaults and env for the required one",
			opts: Options{Env: []string{"LABNET_VAR_req=r", "HOME=/root"}},
			want: `[1,"d",[1],"r"]`,
		},
		{
			name: "env below -var",
			opts: Options{Vars: map[string]string{"n": "3", "req": "x"}, Env: []string{"LABNET_VAR_n=2"}},
			want: `[3,"d",[1],"x"]`,
		},
		{
			name:    "var-file above env, below -var",
			opts:    Options{Vars: map[string]string{"s": "cli"}, Env: []string{"LABNET_VAR_n=2", "LABNET_VAR_s=env"}},
			varFile: "n = 5\ns = \"file\"\nl = [7, 8]\nreq = \"f\"\n",
			want:    `[5,"cli",[7,8],"f"]`,
		},
		{
			name: "string variables take raw text",
			opts: Options{Vars: map[string]string{"s": `"quoted" [x]`, "req": "1 + 1"}},
			want: `[1,"\"quoted\" [x]",[1],"1 + 1"]`,
		},
		{
			name: "typed variables parse HCL",
			opts: Options{Vars: map[string]string{"l": "[1 + 1, 3]", "req": "r"}},
			want: `[1,"d",[2,3],"r"]`,
		},
		{
			name:    "missing value",
			wantErr: `The variable "req" has no default`,
		},
		{
			name:    "unknown -var",
			opts:    Options{Vars: map[string]string{"req": "r", "nope": "1"}},
			wantErr: `no variable "nope" is declared`,
		},
		{
			name:    "bad -var value",
			opts:    Options{Vars: map[string]string{"n": "many", "req": "r"}},
			wantErr: `variable "n" from -var n is not valid`,
		},
		{
			name:    "bad env value",
			opts:    Options{Env: []string{"LABNET_VAR_l=[a b]", "LABNET_VAR_req=r"}},
			wantErr: `LABNET_VAR_l`,
		},
		{
			name:    "bad var-file value",
			opts:    Options{Vars: map[string]string{"req": "r"}},
			varFile: "n = \"x\"\n",
			wantErr: `a number is required`,
		},
		{
			name:     "unknown var-file name warns",
			opts:     Options{Vars: map[string]string{"req": "r"}},
			varFile:  "other = 1\n",
			want:     `[1,"d",[1],"r"]`,
			wantWarn: `no variable "other" is declared`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeLab(t, map[string]string{"main.hcl": src})
			opts := tt.opts
			if tt.varFile != "" {
				fn := filepath.Join(t.TempDir(), "x.vars")
				if err := os.WriteFile(fn, []byte(tt.varFile), 0o644); err != nil {
					t.Fatal(err)
				}
				opts.VarFiles = []string{fn}
			}
			lab, files, diags := Load(dir, opts)
			if tt.wantErr != "" {
				if !diags.HasErrors() || !strings.Contains(diagList(diags), tt.wantErr) {
					t.Fatalf("want error %q, got:\n%s", tt.wantErr, diagList(diags))
				}
				return
			}
			if diags.HasErrors() {
				t.Fatal(diagList(diags))
			}
			if tt.wantWarn != "" && !strings.Contains(diagList(diags), tt.wantWarn) {
				t.Errorf("want warning %q, got:\n%s", tt.wantWarn, diagList(diags))
			}
			if tt.varFile != "" && files[opts.VarFiles[0]] == nil {
				t.Errorf("files lacks the var-file %s", opts.VarFiles[0])
			}
			got := string(mustJSON(t, lab.Outputs[0].Value))
			if got != tt.want {
				t.Errorf("output = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestLabNameAndFiles(t *testing.T) {
	t.Run("name from directory, files sorted and keyed by path", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "my-lab")
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, src := range map[string]string{
			"b.hcl":      "host \"b\" { network = network.lan }\n",
			"a.hcl":      lanHCL + "host \"a\" { network = network.lan }\n",
			"ignore.txt": "not hcl",
		} {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		lab, files, diags := Load(dir, Options{})
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		if lab.Name != "my-lab" {
			t.Errorf("Name = %q, want my-lab", lab.Name)
		}
		if len(files) != 2 || files[filepath.Join(dir, "a.hcl")] == nil || files[filepath.Join(dir, "b.hcl")] == nil {
			t.Errorf("files = %v", files)
		}
		if len(lab.Hosts()) != 2 || lab.Hosts()[0].Addr != "host.a" || lab.Hosts()[1].Address.String() != "192.168.50.12" {
			t.Errorf("hosts not in declaration order: %v %v", lab.Hosts()[0], lab.Hosts()[1])
		}
	})
	t.Run("relative dir", func(t *testing.T) {
		dir := writeLab(t, map[string]string{"main.hcl": lanHCL})
		t.Chdir(dir)
		lab, files, diags := Load(".", Options{})
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		if files["main.hcl"] == nil || lab.Name != "lab" || lab.Networks()[0].Range.Filename != "main.hcl" {
			t.Errorf("files = %v, name %q, range %v", files, lab.Name, lab.Networks()[0].Range)
		}
	})
	t.Run("invalid directory name needs a lab block", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "My_Lab")
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(lanHCL), 0o644); err != nil {
			t.Fatal(err)
		}
		_, _, diags := Load(dir, Options{})
		if !diags.HasErrors() || !strings.Contains(diags.Error(), "lab { name") {
			t.Fatalf("want an error asking for a lab block, got %v", diags)
		}
		if err := os.WriteFile(filepath.Join(dir, "lab.hcl"), []byte(`lab { name = "ok" }`), 0o644); err != nil {
			t.Fatal(err)
		}
		lab, _, diags := Load(dir, Options{})
		if diags.HasErrors() || lab.Name != "ok" {
			t.Fatalf("lab block did not name the lab: %v", diags)
		}
	})
	t.Run("no files", func(t *testing.T) {
		_, _, diags := Load(t.TempDir(), Options{})
		if !diags.HasErrors() {
			t.Fatal("want an error for an empty directory")
		}
	})
}

func TestWriteDiagnostics(t *testing.T) {
	dir := writeLab(t, map[string]string{"main.hcl": "network \"lan\" {\n  cidr = \"192.168.50.1/24\"\n}\n"})
	_, files, diags := Load(dir, Options{})
	var buf bytes.Buffer
	if err := WriteDiagnostics(&buf, files, diags, false); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"main.hcl:2:10: error: Invalid CIDR", `cidr = "192.168.50.1/24"`, "^^^^^^^^^^^^^^^^^", "use 192.168.50.0/24"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b[") {
		t.Errorf("color codes without color:\n%s", out)
	}
	buf.Reset()
	_ = WriteDiagnostics(&buf, files, diags, true)
	if !strings.Contains(buf.String(), "\x1b[") {
		t.Errorf("no color codes with color")
	}
}

func TestResourceValues(t *testing.T) {
	// Every argument is readable from the instance value, plus id and name.
	src := lanHCL + `host "h" { network = network.lan }
bridge "br" {
  host       = host.h
  cidr       = "172.17.0.0/16"
  masquerade = true
  name       = "docker0"
}
container "c" {
  host   = host.h
  bridge = bridge.br
  port {
    host_port = 8080
    port      = 80
  }
}
process "p" {
  on      = container.c
  command = ["sleep", "1"]
}
check "k" {
  from = host.h
  to   = container.c
  tcp  = container.c.port[0].port
}
output "o" {
  value = [
    network.lan.id, network.lan.name, network.lan.gateway,
    host.h.id, host.h.network.cidr, host.h.provider,
    bridge.br.name, bridge.br.gateway, bridge.br.host.address, tostring(bridge.br.masquerade),
    container.c.address, container.c.bridge.id, tostring(container.c.port[0].host_port), container.c.port[0].protocol,
    process.p.on.id, process.p.command[0], process.p.name,
    check.k.id, check.k.to.address, tostring(check.k.tcp), check.k.expect, check.k.timeout,
  ]
}
`
	lab := loadOK(t, writeLab(t, map[string]string{"main.hcl": src}), Options{})
	got := string(mustJSON(t, lab.Outputs[0].Value))
	want := `["network.lan","lan","192.168.50.254","host.h","192.168.50.0/24","netns",` +
		`"docker0","172.17.0.1","192.168.50.11","true",` +
		`"172.17.0.2","bridge.br","8080","tcp",` +
		`"container.c","sleep","p",` +
		`"check.k","172.17.0.2","80","reach","3s"]`
	if got != want {
		t.Errorf("values:\n got %s\nwant %s", got, want)
	}
	if c := lab.Checks()[0]; c.Port != 80 || c.Dial.String() != "172.17.0.2:80" || c.Kind != "tcp" {
		t.Errorf("check = %+v", c)
	}
}

func mustJSON(t *testing.T, v cty.Value) []byte {
	t.Helper()
	b, err := ctyjson.Marshal(v, v.Type())
	if err != nil {
		t.Fatal(err)
	}
	return b
}
