package config

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestPodSubnets(t *testing.T) {
	lab := func(hosts int, extra string) string {
		return fmt.Sprintf(lanHCL+`host "n" {
  count   = %d
  network = network.lan
}
pod_network "cluster" {
  cidr = "10.244.0.0/16"
%s}
`, hosts, extra)
	}
	tests := []struct {
		name    string
		src     string
		want    []string // subnets in Hosts order
		wantErr string
	}{
		{
			name: "default: every host, subnet i+1 for the i-th host",
			src:  lab(3, ""),
			want: []string{"10.244.1.0/24", "10.244.2.0/24", "10.244.3.0/24"},
		},
		{
			name: "a 4th host leaves the first three subnets alone",
			src:  lab(4, ""),
			want: []string{"10.244.1.0/24", "10.244.2.0/24", "10.244.3.0/24", "10.244.4.0/24"},
		},
		{
			name: "explicit hosts: list order, appending keeps the others",
			src:  lab(4, "  hosts = [host.n[2], host.n[0], host.n[3]]\n"),
			want: []string{"10.244.1.0/24", "10.244.2.0/24", "10.244.3.0/24"},
		},
		{
			name: "subnet_bits",
			src:  lab(2, "  subnet_bits = 4\n"),
			want: []string{"10.244.16.0/20", "10.244.32.0/20"},
		},
		{
			name: "exactly as many hosts as usable subnets",
			src:  lab(3, "  subnet_bits = 2\n"),
			want: []string{"10.244.64.0/18", "10.244.128.0/18", "10.244.192.0/18"},
		},
		{
			name:    "one host too many",
			src:     lab(4, "  subnet_bits = 2\n"),
			wantErr: "has room for only 3",
		},
		{
			name:    "subnets smaller than /30",
			src:     lab(1, "  subnet_bits = 15\n"),
			wantErr: "gives /31 subnets",
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
			pn := lab.PodNetworks()[0]
			var got []string
			for _, h := range pn.Hosts {
				got = append(got, pn.Subnets[h].String())
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("subnets = %v (hosts %v), want %v", got, pn.Hosts, tt.want)
			}
		})
	}
}

func TestNodeAddressAllocation(t *testing.T) {
	twoHosts := lanHCL + `host "h" {
  count   = 2
  network = network.lan
}
`
	tests := []struct {
		name    string
		src     string
		want    map[string]string // instance address -> address (vms and pods)
		wantErr string
	}{
		{
			name: "bridged VMs share the hosts' pool",
			src: twoHosts + `vm "b" {
  count = 2
  host  = host.h[count.index]
  mode  = "bridged"
}
host "late" { network = network.lan }
`,
			want: map[string]string{"vm.b[0]": "192.168.50.13", "vm.b[1]": "192.168.50.14"},
		},
		{
			name: "bridged allocation skips explicit host and VM addresses",
			src: twoHosts + `vm "fixed" {
  host    = host.h[0]
  mode    = "bridged"
  address = "192.168.50.13"
}
host "x" {
  network = network.lan
  address = "192.168.50.14"
}
vm "b" {
  host = host.h[1]
  mode = "bridged"
}
`,
			want: map[string]string{"vm.fixed": "192.168.50.13", "vm.b": "192.168.50.15"},
		},
		{
			name: "nat VMs from .2, per host",
			src: twoHosts + `vm "n" {
  count = 3
  host  = host.h[0]
  mode  = "nat"
}
vm "m" {
  host = host.h[1]
  mode = "nat"
}
vm "fixed" {
  host    = host.h[1]
  mode    = "nat"
  address = "192.168.122.3"
}
vm "after" {
  host = host.h[1]
  mode = "nat"
}
`,
			want: map[string]string{
				"vm.n[0]": "192.168.122.2", "vm.n[1]": "192.168.122.3", "vm.n[2]": "192.168.122.4",
				"vm.m": "192.168.122.2", "vm.fixed": "192.168.122.3", "vm.after": "192.168.122.4",
			},
		},
		{
			name: "nat VMs in a custom nat_network",
			src: lanHCL + `host "h" {
  network     = network.lan
  nat_network = "10.50.0.0/29"
}
vm "n" {
  count = 5
  host  = host.h
  mode  = "nat"
}
`,
			want: map[string]string{"vm.n[0]": "10.50.0.2", "vm.n[1]": "10.50.0.3", "vm.n[2]": "10.50.0.4", "vm.n[3]": "10.50.0.5", "vm.n[4]": "10.50.0.6"},
		},
		{
			name: "nat_network runs out",
			src: lanHCL + `host "h" {
  network     = network.lan
  nat_network = "10.50.0.0/30"
}
vm "n" {
  count = 2
  host  = host.h
  mode  = "nat"
}
`,
			wantErr: "has no free address for vm.n[1]",
		},
		{
			name: "nat address taken twice on one host",
			src: twoHosts + `vm "a" {
  host = host.h[0]
  mode = "nat"
}
vm "b" {
  host    = host.h[0]
  mode    = "nat"
  address = vm.a.address
}
`,
			wantErr: "address 192.168.122.2 of vm.b is already used by vm.a",
		},
		{
			name: "nat VM on the NAT bridge's address",
			src: twoHosts + `vm "a" {
  host    = host.h[0]
  mode    = "nat"
  address = "192.168.122.1"
}
`,
			wantErr: "reserved as the NAT bridge's address",
		},
		{
			name: "pods from .2 per host subnet, skipping explicit ones",
			src: twoHosts + `pod_network "k" { cidr = "10.244.0.0/16" }
pod "fixed" {
  host    = host.h[0]
  network = pod_network.k
  address = "10.244.1.3"
}
pod "p" {
  count   = 2
  host    = host.h[0]
  network = pod_network.k
}
pod "q" {
  host    = host.h[1]
  network = pod_network.k
}
`,
			want: map[string]string{"pod.fixed": "10.244.1.3", "pod.p[0]": "10.244.1.2", "pod.p[1]": "10.244.1.4", "pod.q": "10.244.2.2"},
		},
		{
			name: "pod on the cni bridge address",
			src: twoHosts + `pod_network "k" { cidr = "10.244.0.0/16" }
pod "p" {
  host    = host.h[0]
  network = pod_network.k
  address = "10.244.1.1"
}
`,
			wantErr: "reserved as the host's cni bridge address",
		},
		{
			name: "pod subnet runs out",
			src: twoHosts + `pod_network "k" {
  cidr        = "10.244.0.0/24"
  subnet_bits = 6
}
pod "p" {
  count   = 2
  host    = host.h[0]
  network = pod_network.k
}
`,
			wantErr: "has no free address for pod.p[1]",
		},
		{
			name: "segment containers from .1, unique across hosts",
			src: twoHosts + `segment "s" {
  vni   = 7
  cidr  = "10.7.0.0/24"
  hosts = host.h
}
segment "t" {
  vni   = 8
  cidr  = "10.7.0.0/24"
  hosts = host.h
}
container "a" {
  count   = 2
  host    = host.h[count.index]
  segment = segment.s
}
container "b" {
  host    = host.h[1]
  segment = segment.t
}
`,
			want: map[string]string{"container.a[0]": "10.7.0.1", "container.a[1]": "10.7.0.2", "container.b": "10.7.0.1"},
		},
		{
			name: "segment address used on another host",
			src: twoHosts + `segment "s" {
  vni   = 7
  cidr  = "10.7.0.0/24"
  hosts = host.h
}
container "a" {
  host    = host.h[0]
  segment = segment.s
}
container "b" {
  host    = host.h[1]
  segment = segment.s
  address = "10.7.0.1"
}
`,
			wantErr: "address 10.7.0.1 of container.b is already used by container.a on segment.s",
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
			for _, v := range lab.VMs() {
				got[v.Addr] = v.Address.String()
			}
			for _, p := range lab.Pods() {
				got[p.Addr] = p.Address.String()
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

func TestNodeDeps(t *testing.T) {
	src := lanHCL + `host "h" {
  for_each = toset(["a", "b", "c"])
  network  = network.lan
}
pod_network "all" { cidr = "10.244.0.0/16" }
segment "s" {
  for_each = toset(["x", "y"])
  vni      = each.key == "x" ? 10 : 20
  cidr     = "10.10.0.0/24"
  hosts    = [host.h["a"], host.h["b"]]
}
vm "v" {
  host = host.h["c"]
  mode = "nat"
}
pod "p" {
  host    = host.h["b"]
  network = pod_network.all
}
container "c" {
  host    = host.h["a"]
  segment = segment.s["y"]
}
process "on-pod" {
  on      = pod.p
  command = ["true"]
}
check "vm-to-pod" {
  from = vm.v
  to   = pod.p
  ping = true
}
`
	lab := loadOK(t, writeLab(t, map[string]string{"main.hcl": src}), Options{})
	want := map[string][]string{
		"pod_network.all": {`host.h["a"]`, `host.h["b"]`, `host.h["c"]`},
		`segment.s["x"]`:  {`host.h["a"]`, `host.h["b"]`},
		"vm.v":            {`host.h["c"]`},
		"pod.p":           {`host.h["b"]`, "pod_network.all"},
		"container.c":     {`host.h["a"]`, `segment.s["y"]`},
		"process.on-pod":  {"pod.p"},
		"check.vm-to-pod": {"pod.p", "vm.v"},
	}
	for addr, w := range want {
		if got := lab.Deps[addr]; !reflect.DeepEqual(got, w) {
			t.Errorf("Deps[%s] = %q, want %q", addr, got, w)
		}
	}
	if c := lab.Checks()[0]; c.Dial.Addr() != lab.Pods()[0].Address {
		t.Errorf("check dials %v, want the pod's address %v", c.Dial, lab.Pods()[0].Address)
	}
}

func TestPodNetworkDeclaredFirst(t *testing.T) {
	// A pod_network without hosts takes every host, wherever they are declared.
	src := `pod_network "k" { cidr = "10.244.0.0/16" }
` + lanHCL + `host "a" { network = network.lan }
host "b" { network = network.lan }
`
	lab := loadOK(t, writeLab(t, map[string]string{"main.hcl": src}), Options{})
	if got := lab.PodNetworks()[0].Hosts; !reflect.DeepEqual(got, []string{"host.a", "host.b"}) {
		t.Errorf("hosts = %v", got)
	}
}

func TestNodeErrors(t *testing.T) {
	base := lanHCL + `host "h" { network = network.lan }
bridge "br" {
  host = host.h
  cidr = "172.17.0.0/16"
}
`
	tests := []struct {
		name string
		src  string
		want []string // exactly these errors, as substrings, in order
	}{
		{
			name: "null bridge",
			src:  base + "container \"c\" {\n  host   = host.h\n  bridge = null\n}\n",
			want: []string{`The argument "bridge" is required and must not be null`},
		},
		{
			name: "bridge that fails to evaluate is not also missing",
			src:  base + "container \"c\" {\n  host   = host.h\n  bridge = [bridge.br][3]\n}\n",
			want: []string{"Invalid index"},
		},
		{
			name: "duplicate pod container labels are reported once per block",
			src: base + `pod_network "k" { cidr = "10.244.0.0/16" }
pod "p" {
  count   = 3
  host    = host.h
  network = pod_network.k
  container "a" { command = ["x"] }
  container "a" { command = ["y"] }
}
`,
			want: []string{`A container "a" was already declared in pod.p`},
		},
		{
			name: "ports on a bridged VM: one error per port block",
			src: base + `vm "v" {
  host = host.h
  mode = "bridged"
  port {
    host_port = 1
    port      = 1
  }
  port {
    host_port = 2
    port      = 2
  }
}
`,
			want: []string{"ports are for nat VMs", "ports are for nat VMs"},
		},
		{
			name: "host_key and known_hosts together",
			src: lanHCL + `host "h" {
  network  = network.lan
  provider = "ssh"
  address  = "192.168.50.2"
  ssh {
    host_key    = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBfgbPGyuRMZjfXV94KKOyZh+ZyigcMD1h/dNntwQunh"
    known_hosts = "kh"
  }
}
`,
			want: []string{"not both"},
		},
		{
			name: "bad lima sizes",
			src: lanHCL + `host "h" {
  network  = network.lan
  provider = "lima"
  lima {
    memory = "lots"
    cpus   = 0
  }
}
`,
			want: []string{"cpus must be a whole number from 1 to 1024, got 0", `The memory "lots" is not a size`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := errorsOf(t, tt.src, Options{})
			if len(got) != len(tt.want) {
				t.Fatalf("got %d errors, want %d:\n%s", len(got), len(tt.want), strings.Join(got, "\n"))
			}
			for i, w := range tt.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("error %d = %q, want it to contain %q", i, got[i], w)
				}
			}
		})
	}
}
