package hostnet

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"
)

// The parsers read what a host prints. A host is not trusted to print
// what labnet expects (another ip or nft version, a broken or hostile
// host), so no input may make them panic. Seeds are the samples in
// testdata/ (real `ip -j` / `nft -j` output) plus the corpora in
// testdata/fuzz/, which hold more real output (a vxlan host with routes,
// neighbours and fdb entries) and any input that once failed.

func addFiles(f *testing.F, pattern string) {
	f.Helper()
	files, err := filepath.Glob(pattern)
	if err != nil {
		f.Fatal(err)
	}
	for _, fn := range files {
		b, err := os.ReadFile(fn)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

func FuzzParseObserved(f *testing.F) {
	addFiles(f, "testdata/observe_*.txt")
	for _, s := range []string{
		"",
		"@@end\n",
		"@@links\n[]\n@@end\n",
		"@@links\n[]\n@@ns ln.docker.web-0\n[]\n[]\n\n@@routes\n[]\n@@neigh\n[]\n@@nft\n\n@@procs\n12 docker/node-0/holder\n@@end\n",
		"@@fdb vx0\n\n@@fdb vx0\n[{\"mac\":\"00:00:00:00:00:00\",\"dst\":\"192.168.50.12\"}]\n@@end\n",
		"@@ns ln.x.a\n[{\"ifname\":\"eth0\",\"addr_info\":[{\"family\":\"inet\",\"local\":\"10.0.0.2\",\"prefixlen\":24}]}]\n[{\"dst\":\"default\",\"gateway\":\"10.0.0.1\"}]\n@@end\n",
		"@@routes\n[{\"dst\":\"10.244.2.0/24\",\"gateway\":\"10.244.2.0\",\"dev\":\"flannel.1\",\"flags\":[\"onlink\"]},{\"dst\":\"192.168.50.1\"},{\"dst\":\"default\"}]\n@@end\n",
		"@@nft\n{\"nftables\":[{\"rule\":{\"chain\":\"postrouting\",\"expr\":[{\"masquerade\":null}]}}]}\n@@end\n",
		"@@procs\nnot-a-pid x\n 42 \n42 a b c\n@@end\n",
		"@@isofile c.mnt\n@@iso /run/labnet/l/ns/c.mnt\n{\"mnt\": true, \"uts\": true, \"hostname\": \"c\", \"tmpfs\": [\"/etc/demo\"], \"sysmac\": \"02:aa:bb:cc:dd:ee\", \"files\": {\"/etc/demo/a\": {\"sha256\": \"ab\", \"mode\": 416}}}\n@@end\n",
	} {
		f.Add([]byte(s))
	}
	n := Names{Lab: "docker"}
	f.Fuzz(func(t *testing.T, data []byte) {
		o, err := ParseObserved(data)
		if err != nil {
			if o != nil {
				t.Fatalf("error %v with a result", err)
			}
			return
		}
		if o == nil || o.Links == nil || o.Netns == nil || o.Procs == nil || o.Fdb == nil {
			t.Fatalf("no error and an incomplete result: %+v", o)
		}
		// What refresh and destroy do with an observation must not panic either.
		_ = o.OwnedNetns()
		_ = o.OwnedLinks(n)
		_ = SweepScript(n, "node-0", o)
		_ = o.HasRoute(netip.MustParsePrefix("10.244.2.0/24"), netip.Addr{}, "")
		_ = o.HasNeigh(netip.MustParseAddr("10.244.2.0"), "00:00:00:00:00:00", "flannel.1")
		_ = o.HasFdb("flannel.1", "00:00:00:00:00:00", netip.MustParseAddr("192.168.50.12"))
		for _, ns := range o.Netns {
			if ns == nil {
				t.Fatalf("nil namespace in %+v", o.Netns)
			}
		}
	})
}

func FuzzParseAddrJSON(f *testing.F) {
	addFiles(f, "testdata/addr_*.json")
	addFiles(f, "testdata/netns_*.json")
	for _, s := range []string{
		"[]",
		"null",
		"[{}]",
		`[{"ifname":"docker0","flags":["BROADCAST","UP"],"master":"","ifalias":"labnet:docker:bridge.docker0[0]","linkinfo":{"info_kind":"bridge"},"addr_info":[{"family":"inet","local":"172.17.0.1","prefixlen":16},{"family":"inet6","local":"fe80::1","prefixlen":64}]}]`,
		`[{"ifname":"x","linkinfo":null,"addr_info":[{"family":"inet","local":"10.0.0.1","prefixlen":-1},{"family":"inet","local":"10.0.0.1","prefixlen":33},{"family":"inet","local":"::1","prefixlen":8},{"family":"inet","local":"bad","prefixlen":8}]}]`,
		"[{\"ifname\":\"a\"}][{\"dst\":\"default\",\"gateway\":\"192.168.1.1\"}]",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		links, err := ParseAddrJSON(data)
		if err == nil {
			for name, l := range links {
				if l.Name != name {
					t.Fatalf("link %q filed under %q", l.Name, name)
				}
				// (Family "inet" decides what is IPv4: an "inet" entry
				// whose local address is IPv6 is kept as it is.)
				for _, p := range l.Addrs {
					if !p.IsValid() {
						t.Fatalf("link %q has the invalid prefix %v", name, p)
					}
				}
			}
		}
		// A namespace's output is the same JSON followed by its routes.
		if ns, err := parseNetnsJSON(data); err == nil && (ns == nil || ns.Links == nil) {
			t.Fatalf("parseNetnsJSON: no error and no result")
		}
	})
}

func FuzzParseNftJSON(f *testing.F) {
	addFiles(f, "testdata/nft_*.json")
	for _, s := range []string{
		`{"nftables":[]}`,
		`{"nftables":null}`,
		`{"nftables":[{"rule":null}]}`,
		`{"nftables":[{"rule":{"chain":"prerouting","comment":"container.web[0]","expr":[{"match":{"op":"==","left":{"payload":{"protocol":"ip","field":"daddr"}},"right":"192.168.50.11"}},{"match":{"op":"==","left":{"payload":{"protocol":"tcp","field":"dport"}},"right":8080}},{"dnat":{"family":"ip","addr":"172.17.0.2","port":80}}]}},{"rule":{"chain":"output","comment":"container.web[0]","expr":[{"match":{"op":"==","left":{"payload":{"protocol":"ip","field":"daddr"}},"right":"192.168.50.11"}},{"match":{"op":"==","left":{"payload":{"protocol":"tcp","field":"dport"}},"right":8080}},{"dnat":{"family":"ip","addr":"172.17.0.2","port":80}}]}}]}`,
		`{"nftables":[{"rule":{"chain":"postrouting","comment":"bridge.docker0[0]","expr":[{"match":{"op":"==","left":{"payload":{"protocol":"ip","field":"saddr"}},"right":{"prefix":{"addr":"172.17.0.0","len":16}}}},{"match":{"op":"!=","left":{"meta":{"key":"oifname"}},"right":"docker0"}},{"masquerade":null}]}}]}`,
		`{"nftables":[{"rule":{"chain":"postrouting","comment":"pod_network.pods","expr":[{"match":{"op":"==","left":{"payload":{"protocol":"ip","field":"saddr"}},"right":{"prefix":{"addr":"10.244.0.0","len":16}}}},{"match":{"op":"==","left":{"payload":{"protocol":"ip","field":"daddr"}},"right":{"prefix":{"addr":"10.244.0.0","len":99}}}},{"accept":null}]}}]}`,
		`{"nftables":[{"rule":{"chain":"postrouting","expr":[{"match":{"op":"==","left":{"payload":{"protocol":"ip","field":"daddr"}},"right":"10.0.0.1"}},{"accept":null}]}}]}`,
		`{"nftables":[{"rule":{"chain":"postrouting","expr":[{"match":null},{"dnat":null},{}]}}]}`,
	} {
		f.Add([]byte(s))
	}
	n := Names{Lab: "docker"}
	f.Fuzz(func(t *testing.T, data []byte) {
		rules, err := ParseNftJSON(data)
		if err != nil {
			return
		}
		for _, r := range rules {
			switch r.Kind {
			case "masquerade", "accept", "dnat":
			default:
				t.Fatalf("rule of kind %q returned: %+v", r.Kind, r)
			}
			_ = r.String()
		}
		// What labnet renders from rules it read must not panic.
		_ = NftFile(n, rules)
	})
}
