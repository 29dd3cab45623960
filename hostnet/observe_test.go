package hostnet

import (
	"bytes"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func pfx(s string) netip.Prefix { return netip.MustParsePrefix(s) }
func ip(s string) netip.Addr    { return netip.MustParseAddr(s) }

// The host namespace of node-0 as captured in testdata/addr_host.json.
var wantHostLinks = map[string]Link{
	"lo":   {Name: "lo", Index: 1, Up: true, Addrs: []netip.Prefix{pfx("127.0.0.1/8")}, Qdisc: "noqueue", MTU: 65536, MAC: "00:00:00:00:00:00"},
	"eth0": {Name: "eth0", Kind: "veth", Index: 2, Peer: 3, Up: true, Addrs: []netip.Prefix{pfx("192.168.50.11/24")}, Qdisc: "noqueue", MTU: 1500, MAC: "4a:1f:0c:9e:22:01"},
	"docker0": {Name: "docker0", Kind: "bridge", Index: 4, Up: true, Alias: "labnet:docker:bridge.docker0[0]",
		Addrs: []netip.Prefix{pfx("172.17.0.1/16")}, Qdisc: "noqueue", MTU: 1500, MAC: "b2:6e:4d:0a:7c:11"},
	// enslaved veth: master and alias read, its IPv6 link-local ignored
	"lnae9f3ff2af": {Name: "lnae9f3ff2af", Kind: "veth", Index: 5, Peer: 2, Master: "docker0", Up: true, Alias: "labnet:docker:container.web[0]", Qdisc: "noqueue", MTU: 1500, MAC: "9e:3c:51:77:0b:a2"},
	// down veth (no UP flag), no addresses at all
	"lnd0c7b1b369": {Name: "lnd0c7b1b369", Kind: "veth", Index: 7, Peer: 2, Alias: "labnet:docker:container.client[0]", Qdisc: "noop", MTU: 1500, MAC: "6a:01:9f:3d:e4:5c"},
}

func TestParseAddrJSON(t *testing.T) {
	got, err := ParseAddrJSON(readTestdata(t, "addr_host.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, wantHostLinks) {
		t.Errorf("ParseAddrJSON:\n got %#v\nwant %#v", got, wantHostLinks)
	}
}

func TestParseAddrJSONEdgeCases(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    map[string]Link
		wantErr bool
	}{
		{name: "empty list", in: `[]`, want: map[string]Link{}},
		{name: "vxlan device: VNI, port, local address, learning, MTU, MAC",
			in: `[{"ifname":"flannel.1","mtu":1450,"address":"0A:58:0A:F4:01:00","linkinfo":{"info_kind":"vxlan","info_data":{"id":1,"local":"192.168.50.11","port":8472,"learning":false}}}]`,
			want: map[string]Link{"flannel.1": {Name: "flannel.1", Kind: "vxlan", MTU: 1450, MAC: "0a:58:0a:f4:01:00",
				Vxlan: &VxlanInfo{VNI: 1, Port: 8472, Local: ip("192.168.50.11"), Learning: false}}}},
		{name: "vxlan device without a local address, learning",
			in:   `[{"ifname":"v","linkinfo":{"info_kind":"vxlan","info_data":{"id":7,"port":4789,"learning":true}}}]`,
			want: map[string]Link{"v": {Name: "v", Kind: "vxlan", Vxlan: &VxlanInfo{VNI: 7, Port: 4789, Learning: true}}}},
		{name: "no output (no named link exists)", in: ``, want: map[string]Link{}},
		{name: "one list per named link", in: "[{\"ifname\":\"a\"}]\n[{\"ifname\":\"b\",\"flags\":[\"UP\"]}]\n", want: map[string]Link{"a": {Name: "a"}, "b": {Name: "b", Up: true}}},
		{name: "garbage after a list", in: `[{"ifname":"a"}] Device "x" does not exist.`, wantErr: true},
		{name: "not json", in: `Cannot open network namespace "x": No such file or directory`, wantErr: true},
		{name: "object instead of list", in: `{"ifname":"lo"}`, wantErr: true},
		{name: "truncated", in: `[{"ifname":"lo","flags":["UP"]`, wantErr: true},
		{
			name: "only IPv6 addresses",
			in:   `[{"ifname":"x0","flags":["UP"],"addr_info":[{"family":"inet6","local":"2001:db8::1","prefixlen":64}]}]`,
			want: map[string]Link{"x0": {Name: "x0", Up: true}},
		},
		{
			name: "bad IPv4 entries are skipped, good ones kept",
			in: `[{"ifname":"x0","flags":["LOWER_UP"],"addr_info":[
				{"family":"inet","local":"nonsense","prefixlen":24},
				{"family":"inet","local":"10.0.0.1","prefixlen":33},
				{"family":"inet","local":"10.0.0.2","prefixlen":24},
				{"family":"inet","local":"10.0.0.3","prefixlen":32}]}]`,
			want: map[string]Link{"x0": {Name: "x0", Addrs: []netip.Prefix{pfx("10.0.0.2/24"), pfx("10.0.0.3/32")}}},
		},
		{
			// LOWER_UP alone is carrier, not administrative state
			name: "LOWER_UP is not UP",
			in:   `[{"ifname":"x0","flags":["BROADCAST","LOWER_UP"]}]`,
			want: map[string]Link{"x0": {Name: "x0"}},
		},
		{
			name: "slave kind without kind",
			in:   `[{"ifname":"enp1s0","master":"br0","flags":["UP"],"linkinfo":{"info_slave_kind":"bridge"}}]`,
			want: map[string]Link{"enp1s0": {Name: "enp1s0", Master: "br0", Up: true}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseAddrJSON([]byte(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if !tt.wantErr && !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

// The rules that NftFile is given for node-0 of the docker lab; loaded by
// nft and listed with `nft -j list table`, they are testdata/nft_table.json
// (which also holds a dnat only in prerouting and rules labnet never makes).
var node0Rules = []NatRule{
	{Owner: "bridge.docker0[0]", Kind: "masquerade", Source: pfx("172.17.0.0/16"), NotDest: pfx("172.17.0.0/16")},
	{Owner: "container.web[0]", Kind: "dnat", Proto: "tcp", DstAddr: ip("192.168.50.11"), DstPort: 8080, ToAddr: ip("172.17.0.2"), ToPort: 80},
}

func TestParseNftJSONRoundTrip(t *testing.T) {
	got, err := ParseNftJSON(readTestdata(t, "nft_table.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := append([]NatRule{}, node0Rules...)
	SortRules(want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseNftJSON:\n got %v\nwant %v", got, want)
	}
	for _, r := range got {
		if r.Owner == "container.dns[0]" {
			t.Errorf("a dnat rule only in prerouting (not in output) was reported: %v", r)
		}
	}
	// The rules parsed are the very rules NftFile writes, statement by statement.
	file := NftFile(Names{Lab: "docker"}, node0Rules)
	for _, want := range []string{
		"\t\tip daddr 192.168.50.11 tcp dport 8080 dnat ip to 172.17.0.2:80 comment \"container.web[0]\"\n",
		"\t\tip saddr 172.17.0.0/16 ip daddr != 172.17.0.0/16 masquerade comment \"bridge.docker0[0]\"\n",
	} {
		if !strings.Contains(file, want) {
			t.Errorf("NftFile lacks %q:\n%s", want, file)
		}
	}
}

func TestNftFileGolden(t *testing.T) {
	golden(t, "nft_docker.golden", []byte(NftFile(Names{Lab: "docker"}, node0Rules)))
	// The dnat goes in both prerouting and output, once each.
	f := NftFile(Names{Lab: "my-lab"}, node0Rules)
	if n := strings.Count(f, "dnat ip to 172.17.0.2:80"); n != 2 {
		t.Errorf("dnat rule appears %d times, want 2 (prerouting and output)", n)
	}
	if !strings.HasPrefix(f, "table inet labnet_my_lab\ndelete table inet labnet_my_lab\ntable inet labnet_my_lab {\n") {
		t.Errorf("NftFile does not replace the table atomically:\n%s", f)
	}
	sh := NftApplyShell(Names{Lab: "my-lab"}, nil)
	if !strings.HasSuffix(sh, "}\nLABNET_NFT") || !strings.HasPrefix(sh, "nft -f - <<'LABNET_NFT'\n") {
		t.Errorf("NftApplyShell here-document is malformed:\n%s", sh)
	}
}

// nft strings have no escapes (scanner.l: quotedstring \"[^"]*\"), so a
// comment holding a double quote does not load. Owners of for_each
// instances, e.g. container.app["one"], contain double quotes.
func TestNftFileCommentWithQuotes(t *testing.T) {
	rules := []NatRule{{Owner: `container.app["one"]`, Kind: "dnat", Proto: "udp", DstAddr: ip("10.1.0.1"), DstPort: 9000, ToAddr: ip("172.30.0.2"), ToPort: 9000}}
	for _, line := range strings.Split(NftFile(Names{Lab: "fleet"}, rules), "\n") {
		_, c, ok := strings.Cut(line, " comment ")
		if !ok {
			continue
		}
		if len(c) < 2 || c[0] != '"' || c[len(c)-1] != '"' || strings.Contains(c[1:len(c)-1], `"`) {
			t.Errorf("comment %s is not one nft quoted string", c)
		}
	}
}

func TestParseNftJSONSelection(t *testing.T) {
	dnatExpr := `[{"match":{"op":"==","left":{"payload":{"protocol":"ip","field":"daddr"}},"right":"192.168.50.11"}},{"match":{"op":"==","left":{"payload":{"protocol":"udp","field":"dport"}},"right":53}},{"dnat":{"family":"ip","addr":"172.17.0.9","port":5353}}]`
	masqExpr := `[{"match":{"op":"==","left":{"payload":{"protocol":"ip","field":"saddr"}},"right":{"prefix":{"addr":"10.9.0.0","len":24}}}},{"match":{"op":"!=","left":{"payload":{"protocol":"ip","field":"daddr"}},"right":{"prefix":{"addr":"10.9.0.0","len":24}}}},{"masquerade":null}]`
	rule := func(chain, comment, expr string) string {
		return `{"rule":{"family":"inet","table":"labnet_x","chain":"` + chain + `","handle":3,"comment":"` + comment + `","expr":` + expr + `}}`
	}
	doc := func(rules ...string) string {
		return `{"nftables":[{"metainfo":{"version":"1.0.6","json_schema_version":1}},{"table":{"family":"inet","name":"labnet_x","handle":1}}` +
			func() string {
				s := ""
				for _, r := range rules {
					s += "," + r
				}
				return s
			}() + `]}`
	}
	dnat := NatRule{Owner: "c", Kind: "dnat", Proto: "udp", DstAddr: ip("192.168.50.11"), DstPort: 53, ToAddr: ip("172.17.0.9"), ToPort: 5353}
	masq := NatRule{Owner: "b", Kind: "masquerade", Source: pfx("10.9.0.0/24"), NotDest: pfx("10.9.0.0/24")}
	tests := []struct {
		name    string
		in      string
		want    []NatRule
		wantErr bool
	}{
		{name: "empty table", in: doc(), want: nil},
		{name: "dnat in prerouting and output", in: doc(rule("prerouting", "c", dnatExpr), rule("output", "c", dnatExpr)), want: []NatRule{dnat}},
		{name: "dnat only in prerouting", in: doc(rule("prerouting", "c", dnatExpr)), want: nil},
		{name: "dnat only in output", in: doc(rule("output", "c", dnatExpr)), want: nil},
		{name: "dnat in both chains with different owners", in: doc(rule("prerouting", "c", dnatExpr), rule("output", "other", dnatExpr)), want: nil},
		{name: "dnat in postrouting", in: doc(rule("postrouting", "c", dnatExpr)), want: nil},
		{name: "masquerade in postrouting", in: doc(rule("postrouting", "b", masqExpr)), want: []NatRule{masq}},
		{name: "masquerade in prerouting", in: doc(rule("prerouting", "b", masqExpr)), want: nil},
		{name: "masquerade with == daddr is not ours", in: doc(rule("postrouting", "b", strings.Replace(masqExpr, `"!="`, `"=="`, 1))), want: nil},
		{name: "dnat to a name is not ours", in: doc(rule("prerouting", "c", strings.Replace(dnatExpr, `"172.17.0.9"`, `"web"`, 1)), rule("output", "c", strings.Replace(dnatExpr, `"172.17.0.9"`, `"web"`, 1))), want: nil},
		{name: "match on a set is ignored", in: doc(rule("postrouting", "b", strings.Replace(masqExpr, `{"prefix":{"addr":"10.9.0.0","len":24}}`, `{"set":["10.9.0.1","10.9.0.2"]}`, 1))), want: nil},
		{name: "counter makes it unknown", in: doc(rule("postrouting", "b", strings.Replace(masqExpr, `{"masquerade":null}`, `{"counter":{"packets":1,"bytes":60}},{"masquerade":null}`, 1))), want: nil},
		{name: "rule with no verdict", in: doc(rule("postrouting", "b", `[{"match":{"op":"!=","left":{"payload":{"protocol":"ip","field":"daddr"}},"right":{"prefix":{"addr":"10.9.0.0","len":24}}}}]`)), want: nil},
		{name: "duplicate rules reported once", in: doc(rule("postrouting", "b", masqExpr), rule("postrouting", "b", masqExpr)), want: []NatRule{masq}},
		{name: "both kinds sorted", in: doc(rule("postrouting", "b", masqExpr), rule("output", "c", dnatExpr), rule("prerouting", "c", dnatExpr)), want: []NatRule{dnat, masq}},
		{name: "malformed json", in: `{"nftables":[{"rule":`, wantErr: true},
		{name: "not json at all", in: "Error: No such file or directory\nlist table inet labnet_x\n", wantErr: true},
		{name: "rule of the wrong shape", in: `{"nftables":[{"rule":{"chain":7}}]}`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseNftJSON([]byte(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v\nwant %v", got, tt.want)
			}
		})
	}
}

func TestParseObserved(t *testing.T) {
	o, err := ParseObserved(readTestdata(t, "observe_node0.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(o.Links, wantHostLinks) {
		t.Errorf("Links:\n got %#v\nwant %#v", o.Links, wantHostLinks)
	}
	wantNetns := map[string]*Netns{
		"ln.docker.web-0": {DefaultGw: ip("172.17.0.1"), Links: map[string]Link{
			"lo":   {Name: "lo", Index: 1, Up: true, Addrs: []netip.Prefix{pfx("127.0.0.1/8")}, Qdisc: "noqueue", MTU: 65536, MAC: "00:00:00:00:00:00"},
			"eth0": {Name: "eth0", Kind: "veth", Index: 2, Peer: 5, Up: true, Addrs: []netip.Prefix{pfx("172.17.0.2/16")}, Qdisc: "noqueue", MTU: 1500, MAC: "1e:52:a8:04:3f:90"},
		}},
		"ln.docker.client-0": {Links: map[string]Link{
			"lo":   {Name: "lo", Index: 1, Qdisc: "noop", MTU: 65536, MAC: "00:00:00:00:00:00"},
			"eth0": {Name: "eth0", Kind: "veth", Index: 2, Peer: 7, Qdisc: "noop", MTU: 1500, MAC: "0a:58:ac:11:00:03"},
		}},
	}
	if !reflect.DeepEqual(o.Netns, wantNetns) {
		t.Errorf("Netns:\n got %#v\nwant %#v", o.Netns, wantNetns)
	}
	if o.Netns["ln.docker.client-0"].DefaultGw.IsValid() {
		t.Errorf("a namespace without default route has gateway %v", o.Netns["ln.docker.client-0"].DefaultGw)
	}
	if !o.NftPresent {
		t.Error("NftPresent = false")
	}
	want := append([]NatRule{}, node0Rules...)
	SortRules(want)
	if !reflect.DeepEqual(o.Nft, want) {
		t.Errorf("Nft:\n got %v\nwant %v", o.Nft, want)
	}
	wantProcs := map[string][]int{"docker/node-0/process.web[0]": {4242, 4250}, "docker/node-0/process.api[0]": {4301}}
	if !reflect.DeepEqual(o.Procs, wantProcs) {
		t.Errorf("Procs = %v, want %v", o.Procs, wantProcs)
	}
	if got := o.OwnedNetns(); !reflect.DeepEqual(got, []string{"ln.docker.client-0", "ln.docker.web-0"}) {
		t.Errorf("OwnedNetns = %v", got)
	}
	var owned []string
	for _, l := range o.OwnedLinks(Names{Lab: "docker"}) {
		owned = append(owned, l.Name)
	}
	if !reflect.DeepEqual(owned, []string{"docker0", "lnae9f3ff2af", "lnd0c7b1b369"}) {
		t.Errorf("OwnedLinks(docker) = %v", owned)
	}
	// another lab whose name is a prefix owns nothing here
	if l := o.OwnedLinks(Names{Lab: "dock"}); len(l) != 0 {
		t.Errorf("OwnedLinks(dock) = %v, want none", l)
	}
}

func TestParseObservedSections(t *testing.T) {
	full := readTestdata(t, "observe_node0.txt")
	minimal := "@@links\n[]\n@@nft\n@@procs\n@@end\n"
	tests := []struct {
		name    string
		in      string
		wantErr string
		check   func(t *testing.T, o *Observed)
	}{
		{name: "no table", in: minimal, check: func(t *testing.T, o *Observed) {
			if o.NftPresent || o.Nft != nil || len(o.Netns) != 0 || len(o.Procs) != 0 || len(o.Links) != 0 {
				t.Errorf("got %+v", o)
			}
		}},
		{name: "table with no rules", in: "@@links\n[]\n@@nft\n" + `{"nftables":[{"metainfo":{"json_schema_version":1}},{"table":{"family":"inet","name":"labnet_docker","handle":1}}]}` + "\n@@procs\n@@end\n",
			check: func(t *testing.T, o *Observed) {
				if !o.NftPresent || len(o.Nft) != 0 {
					t.Errorf("NftPresent=%v Nft=%v, want present and empty", o.NftPresent, o.Nft)
				}
			}},
		{name: "procs noise is skipped", in: "@@links\n[]\n@@nft\n@@procs\nnot-a-pid owner\n12\n  77 a/b/c  \n@@end\n",
			check: func(t *testing.T, o *Observed) {
				if !reflect.DeepEqual(o.Procs, map[string][]int{"a/b/c": {77}}) {
					t.Errorf("Procs = %v", o.Procs)
				}
			}},
		{name: "spec marks", in: "@@links\n[]\n@@nft\n@@procs\n77 a/b/c\n77 =0123abcd\n78 a/b/c\n90 =ffff\n@@end\n",
			check: func(t *testing.T, o *Observed) {
				if !reflect.DeepEqual(o.Procs, map[string][]int{"a/b/c": {77, 78}}) || !reflect.DeepEqual(o.ProcSpecs, map[int]string{77: "0123abcd", 90: "ffff"}) {
					t.Errorf("Procs = %v, ProcSpecs = %v", o.Procs, o.ProcSpecs)
				}
			}},
		{name: "netns without route output", in: "@@links\n[]\n@@ns ln.x.a\n[{\"ifname\":\"lo\",\"flags\":[\"UP\"]}]\n\n@@nft\n@@procs\n@@end\n",
			check: func(t *testing.T, o *Observed) {
				ns := o.Netns["ln.x.a"]
				if ns == nil || !ns.Links["lo"].Up || ns.DefaultGw.IsValid() {
					t.Errorf("netns = %+v", ns)
				}
			}},
		{name: "non-default routes do not count", in: "@@links\n[]\n@@ns ln.x.a\n[]\n[{\"dst\":\"10.0.0.0/8\",\"gateway\":\"10.0.0.1\",\"dev\":\"eth0\"},{\"dst\":\"default\",\"dev\":\"eth0\"}]\n@@nft\n@@procs\n@@end\n",
			check: func(t *testing.T, o *Observed) {
				if gw := o.Netns["ln.x.a"].DefaultGw; gw.IsValid() {
					t.Errorf("DefaultGw = %v, want none", gw)
				}
			}},
		{name: "cut before procs", in: string(full[:bytes.Index(full, []byte("@@procs"))]), wantErr: "incomplete"},
		{name: "no end marker", in: strings.Replace(string(full), "@@end\n", "", 1), wantErr: "incomplete"},
		{name: "empty", in: "", wantErr: "incomplete"},
		{name: "broken links json", in: "@@links\n[{\n@@nft\n@@procs\n@@end\n", wantErr: "links"},
		{name: "broken nft json", in: "@@links\n[]\n@@nft\n{\"nftables\":\n@@procs\n@@end\n", wantErr: "nft"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := ParseObserved([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one mentioning %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, o)
		})
	}
}

// A namespace file left by a crash between `ip netns add`'s create and
// bind mount makes `ip -n` print nothing. That one broken namespace should
// be seen as a broken guest (to be replaced), not make refresh fail.
func TestParseObservedUnreadableNetns(t *testing.T) {
	o, err := ParseObserved([]byte("@@links\n[]\n@@ns ln.x.a\n\n@@nft\n@@procs\n@@end\n"))
	if err != nil {
		t.Fatal(err)
	}
	if o.Netns["ln.x.a"] == nil {
		t.Error("the unreadable namespace is not reported at all")
	}
}

func TestObserveScript(t *testing.T) {
	s := ObserveScript(Names{Lab: "docker"}, "node-0", Reads{AllLinks: true, Inside: []string{"ln.docker.web-0"}, Nft: true, Procs: true})
	for _, want := range []string{
		"echo @@links\nip -d -j addr show\n",
		"/run/netns/ln.docker.*",
		"nft -j list table inet labnet_docker",
		readOwned("docker/node-0/"),
		"echo @@end\n",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("ObserveScript lacks %q:\n%s", want, s)
		}
	}
	// Every section the parser needs is announced in order.
	idx := -1
	for _, sec := range []string{"@@links", "@@ns", "@@nft", "@@procs", "@@end"} {
		i := strings.Index(s, sec)
		if i < idx {
			t.Errorf("section %s out of order", sec)
		}
		idx = i
	}
	checkSyntax(t, s)
}

func TestSweepScript(t *testing.T) {
	o, err := ParseObserved(readTestdata(t, "observe_node0.txt"))
	if err != nil {
		t.Fatal(err)
	}
	s := SweepScript(Names{Lab: "docker"}, "node-0", o)
	for _, want := range []string{
		KillOwned("docker/node-0/") + " || true\n",
		"ip netns del ln.docker.client-0\n",
		"ip netns del ln.docker.web-0\n",
		"ip link del dev docker0 2>/dev/null || true\n",
		"ip link del dev lnae9f3ff2af 2>/dev/null || true\n",
		"ip link del dev lnd0c7b1b369 2>/dev/null || true\n",
		NftDeleteShell(Names{Lab: "docker"}) + "\n",
		// Containers' namespace files are bound under the isolation dir.
		"umount -l /run/labnet/docker/ns 2>/dev/null; rm -rf /run/labnet/docker\n",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("SweepScript lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "link del dev eth0") || strings.Contains(s, "link del dev lo") {
		t.Errorf("SweepScript deletes links that are not the lab's:\n%s", s)
	}
	checkSyntax(t, s)
}

// TestObserveScriptGolden: what a refresh sends for what a lab has on a
// host. "removal": a bridge kept, two guests going, nothing read inside
// (shell only). "pods": a kept pod read inside (python3, ip without it), a
// vxlan pod network's routes, neighbours and fdb, NAT and processes.
func TestObserveScriptGolden(t *testing.T) {
	n := Names{Lab: "docker"}
	removal := ObserveScript(n, "node-0", Reads{Links: []string{"docker0"}, Gone: map[string]string{"lnaa": "ln.docker.web-0", "lnbb": "ln.docker.web-1"}})
	pods := ObserveScript(n, "node-0", Reads{Links: []string{"cni0", "flannel.1", "lnpp"}, Inside: []string{"ln.docker.web-0"},
		Routes: true, Neigh: true, Fdb: []string{"flannel.1"}, Nft: true, Procs: true})
	checkSyntax(t, removal)
	checkSyntax(t, pods)
	golden(t, "observe_removal.golden", []byte(removal))
	golden(t, "observe_pods.golden", []byte(ElidePrograms(pods)))
	// "isolation": a kept container read inside, its mount and UTS
	// namespaces too (the list on python3's stdin), and the namespace
	// files of the lab listed (a going container's are only listed).
	iso := ObserveScript(n, "node-0", Reads{Links: []string{"lnaa"}, Inside: []string{"ln.docker.web-0"}, IsoList: true,
		Iso: []IsoRead{{MountNS: n.MountNS("web-0"), UTSNS: n.UTSNS("web-0"), Hostname: "web-0", Dirs: []string{"/etc/frr"}, Files: []string{"/etc/frr/frr.conf"}}}, Procs: true})
	checkSyntax(t, iso)
	golden(t, "observe_isolation.golden", []byte(ElidePrograms(iso)))
}

// TestObserveToolsMissing runs the script's tool probe in a real shell
// whose PATH holds a directory with one of two programs.
func TestObserveToolsMissing(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "labnet-have"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	script := ObserveScript(Names{Lab: "toolprobe"}, "h", Reads{Tools: []string{"labnet-have", "labnet-lack"}})
	cmd := exec.Command("/bin/sh", "-c", script)
	cmd.Env = []string{"PATH=" + dir}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	o, err := ParseObserved(out)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(o.Missing, []string{"labnet-lack"}) {
		t.Errorf("Missing = %q, want [labnet-lack]\n%s", o.Missing, out)
	}
}
