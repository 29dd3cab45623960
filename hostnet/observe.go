package hostnet

import (
	"bufio"
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"github.com/labnet-dev/labnet/remote"
)

// Link as read from `ip -j -d addr show`.
type Link struct {
	Name   string
	Kind   string // linkinfo.info_kind: "bridge", "veth", "" for plain devices
	Master string
	Alias  string
	Up     bool // administratively up
	Addrs  []netip.Prefix
	Qdisc  string // kind of the root qdisc ("noqueue", "tbf", "netem", ...)
	MTU    int
	MAC    string     // lower case, as ip prints it
	Vxlan  *VxlanInfo // vxlan devices only
	// Index is its ifindex; Peer the ifindex of a veth's other end, in
	// the other end's namespace (0 when not a veth).
	Index int
	Peer  int
}

// VxlanInfo is what makes a VXLAN device reach its peers: a device of the
// right name with another VNI, port or local address carries nothing to
// them, so each is read back and judged.
type VxlanInfo struct {
	VNI      int
	Port     int
	Local    netip.Addr
	Remote   netip.Addr // invalid when unset (a device flooding by fdb entries)
	Learning bool
}

// Netns is what labnet reads inside one of its namespaces on a host.
type Netns struct {
	Links     map[string]Link
	DefaultGw netip.Addr // invalid when there is no default route
	// Qdisc is eth0's root qdisc as tc read it; nil when tc was not run
	// (its kind, from ip, is then Links["eth0"].Qdisc).
	Qdisc *Qdisc
	// Qdiscs: the same for its other interfaces with a tbf or netem root
	// (links' ends).
	Qdiscs map[string]*Qdisc
}

// Observed is one host as it really is, as far as the lab is concerned.
type Observed struct {
	Links      map[string]Link   // host namespace
	Netns      map[string]*Netns // the lab's namespaces on the host
	NftPresent bool
	Nft        []NatRule        // rules found in every chain they belong to
	Procs      map[string][]int // owner mark -> pids
	ProcSpecs  map[int]string   // pid -> spec mark (SpecEnvName), of the processes that have one
	Routes     []Route          // host namespace, main table
	Neigh      []Neigh          // permanent neighbour entries
	Fdb        map[string][]Fdb // vxlan device -> its fdb entries
	// IsoFiles: the names in the lab's isolation dir (Names.IsoDir), where
	// containers' mount and UTS namespaces are bound.
	IsoFiles map[string]bool
	// Missing: the programs of Reads.Tools the host does not have.
	Missing []string
	Iso     map[string]*IsoSeen // by mount namespace file: what was read inside
	// Image containers: runc's containers by id, the images unpacked
	// (by digest) and the overlay mount points under the lab's run dir.
	Runc     map[string]*RuncSeen
	Images   map[string]bool
	Overlays []string
}

// Route in the host namespace.
type Route struct {
	Dst     netip.Prefix // 0.0.0.0/0 for default
	Gateway netip.Addr
	Dev     string
	Onlink  bool
}

// Neigh is a permanent neighbour entry.
type Neigh struct {
	Dst    netip.Addr
	LLAddr string
	Dev    string
}

// Fdb is a forwarding entry of a vxlan device.
type Fdb struct {
	MAC string
	Dst netip.Addr
}

// HasRoute says whether a route to dst via gw (any gateway when invalid) exists.
func (o *Observed) HasRoute(dst netip.Prefix, gw netip.Addr, dev string) bool {
	for _, r := range o.Routes {
		if r.Dst == dst && (!gw.IsValid() || r.Gateway == gw) && (dev == "" || r.Dev == dev) {
			return true
		}
	}
	return false
}

// HasNeigh says whether a permanent neighbour entry exists.
func (o *Observed) HasNeigh(dst netip.Addr, lladdr, dev string) bool {
	for _, n := range o.Neigh {
		if n.Dst == dst && strings.EqualFold(n.LLAddr, lladdr) && n.Dev == dev {
			return true
		}
	}
	return false
}

// HasFdb says whether dev forwards mac to dst.
func (o *Observed) HasFdb(dev, mac string, dst netip.Addr) bool {
	for _, f := range o.Fdb[dev] {
		if strings.EqualFold(f.MAC, mac) && f.Dst == dst {
			return true
		}
	}
	return false
}

// Reads is what a refresh reads on one host: only what the lab's resources
// there are judged by (plan.HostReads says which). Removing 1,000 guests
// thus reads one bridge and lists the namespaces, instead of dumping 1,000
// veths, the routes, the nft table and every process's environment.
type Reads struct {
	Links    []string          // host links, read by name
	AllLinks bool              // every host link (a LAN bridge's uplink is found by its address; the sweep)
	Inside   []string          // lab namespaces read inside: the guests the lab keeps
	Gone     map[string]string // host veth -> namespace of a guest that goes: not read by ObserveScript; see Strays
	Routes   bool              // the host's main routing table
	Neigh    bool              // permanent neighbour entries
	Fdb      []string          // vxlan devices whose forwarding entries are read
	Nft      bool              // labnet's nft table
	Procs    bool              // the lab's processes on the host
	IsoList  bool              // list the lab's isolation dir
	Iso      []IsoRead         // containers' mount and UTS namespaces read inside
	Runc     []string          // runc containers read by id (runc state)
	Images   []string          // image digests whose unpacked rootfs is looked for
	Overlays bool              // the overlay mounts under the lab's run dir
	Tools    []string          // programs the lab's steps run there, looked for on PATH
}

// Strays lists, sorted, the host veths of going guests (r.Gone) whose
// namespace o did not list. Deleting a namespace takes its veth along, so
// only these are worth reading, in a second short exchange: a namespace
// unmounted by hand while a process still held it leaves its veth on the
// bridge. Reading them in the first exchange cost a shell test per going
// guest on every removal (~3 ms for 1,000), for what is almost never there.
func (r Reads) Strays(o *Observed) []string {
	if r.AllLinks {
		return nil // read already: every link is in o
	}
	var out []string
	for veth, ns := range r.Gone {
		if o.Netns[ns] == nil {
			if _, read := o.Links[veth]; !read {
				out = append(out, veth)
			}
		}
	}
	sort.Strings(out)
	return out
}

// ReadAll is what the lost-state sweep needs: every link (the marks say
// which are the lab's) and every lab namespace.
var ReadAll = Reads{AllLinks: true}

// ObserveScript reads what r asks for on a host in one exchange and a
// handful of processes: one `ip` for the host's links and addresses, the
// lab namespaces listed (and read inside where asked: one python3 over
// netlink, or one ip per namespace without python3), then one process per
// other kind of object asked for (routes, neighbours, fdb, nft, processes).
//
// Shaping: ip already names each link's root qdisc ("qdisc":"tbf"), so
// tc runs only in the namespaces whose eth0 may carry labnet's tbf or
// netem, to read its rate, delay and loss: an unshaped guest costs no
// process more than before, a shaped one a single short tc. Measured with
// BenchmarkObserveNetns (100 namespaces, 10 shaped, medians on a 2-CPU
// VM): ip only, as before shaping, 227 ms; this script 243-255 ms; `tc -n`
// in every namespace 400-433 ms (a process per guest); one `ip netns exec
// NS sh -c 'ip ...; tc ...'` per namespace, a single process tree but a
// mount namespace and a shell each time, 577-604 ms.
//
// Only the namespaces in r.Inside are read inside (those the lab keeps:
// their drift matters); every other lab namespace is only listed, which is
// all a deletion needs.
func ObserveScript(n Names, hostName string, r Reads) string {
	var b strings.Builder
	prefix := remote.Quote(n.NetnsPrefix())
	var links string
	switch {
	case r.AllLinks:
		links = "ip -d -j addr show\n"
	case len(r.Links) > 0:
		// One ip for the named links: a missing one is an error on stderr
		// that -force goes past. A here-document, not a pipe: no subshell
		// to fork (link names are validated: never a line "EOF").
		links = "ip -d -j -force -batch - 2>/dev/null <<'EOF'\n"
		for _, l := range r.Links {
			links += "addr show dev " + l + "\n"
		}
		links += "EOF\n"
	}
	keep := remote.Quote(" " + strings.Join(r.Inside, " ") + " ")
	if len(r.Inside) == 0 && len(r.Iso) == 0 {
		// Nothing read inside: the shell lists the namespaces, no python3
		// start (~15-40 ms) and no process per namespace.
		b.WriteString("echo @@links\n" + links +
			"cd /run/netns 2>/dev/null && set -- " + prefix + "* && [ -e \"$1\" ] && printf '@@ns %s\\n' \"$@\"; cd /\n")
	} else {
		// One python3 process reads the host's links and every lab
		// namespace over netlink (an ip per namespace costs ~5 ms, which
		// made a no-op plan of 500 guests take seconds); hosts without
		// python3 fall back to ip.
		plain := "echo @@links\n" + links +
			fmt.Sprintf("for f in /run/netns/%s*; do [ -e \"$f\" ] || continue; ns=${f##*/}; echo \"@@ns $ns\"; case %s in *\" $ns \"*) %s;; esac; done\n", prefix, keep, netnsObserve)
		names := "*"
		if !r.AllLinks {
			names = strings.Join(r.Links, " ")
		}
		// The containers whose mount and UTS namespaces it reads come on
		// stdin (an argument listing 1,000 would pass the kernel's 128 KiB
		// limit); without python3 no guest could have been made.
		then := "; else\n"
		if len(r.Iso) > 0 {
			var iso strings.Builder
			iso.WriteString(" iso <<'LABNET_ISO'\n")
			for _, ir := range r.Iso {
				j, _ := json.Marshal(ir)
				iso.Write(j)
				iso.WriteByte('\n')
			}
			then = iso.String() + "LABNET_ISO\nelse\n"
		}
		fmt.Fprintf(&b, "if command -v python3 >/dev/null 2>&1; then python3 -I -S -c %s %s %s %s%s%sfi\n",
			remote.Quote(nsReader), prefix, keep, remote.Quote(names), then, plain)
	}
	if r.IsoList {
		fmt.Fprintf(&b, "cd %s 2>/dev/null && set -- * && [ -e \"$1\" ] && printf '@@isofile %%s\\n' \"$@\"; cd /\n", remote.Quote(n.IsoDir()))
	}
	if r.Routes {
		b.WriteString("echo @@routes\nip -j route show\n")
	}
	if r.Neigh {
		b.WriteString("echo @@neigh\nip -j neigh show nud permanent\n")
	}
	for _, d := range r.Fdb {
		fmt.Fprintf(&b, "echo %s; bridge -j fdb show dev %s 2>/dev/null; echo\n", remote.Quote("@@fdb "+d), remote.Quote(d))
	}
	if r.Nft {
		fmt.Fprintf(&b, "echo @@nft\nnft -j list table inet %s 2>/dev/null || true\n", n.Table())
	}
	if r.Procs {
		fmt.Fprintf(&b, "echo @@procs\n%s || true\n", readOwned(n.Owner(hostName, "")))
	}
	if len(r.Runc) > 0 {
		// One `runc list` says which containers are there; `runc state`
		// (a process each) reads only those: a refresh before creating N
		// containers runs one runc, not N.
		b.WriteString("runcs=' '; for id in $(runc list -q 2>/dev/null); do runcs=\"$runcs$id \"; done\n")
		for _, id := range r.Runc {
			fmt.Fprintf(&b, "case $runcs in *%s*) echo %s; runc state %s 2>/dev/null; echo;; esac\n",
				remote.Quote(" "+id+" "), remote.Quote("@@runc "+id), remote.Quote(id))
		}
	}
	for _, d := range r.Images {
		fmt.Fprintf(&b, "[ -e %s ] && echo %s\n", remote.Quote(ImageDir(d)+"/"+imageComplete), remote.Quote("@@image "+d))
	}
	if r.Overlays {
		fmt.Fprintf(&b, "echo @@overlays\nawk -v d=%s '$3 == \"overlay\" && index($2, d) == 1 { print $2 }' /proc/self/mounts\n", remote.Quote(n.RunDir()+"/"))
	}
	if len(r.Tools) > 0 {
		// command -v is a shell builtin: no process per tool.
		fmt.Fprintf(&b, "for t in %s; do command -v \"$t\" >/dev/null 2>&1 || echo \"@@missing $t\"; done\n", remote.Join(r.Tools...))
	}
	b.WriteString("echo @@end\n")
	return b.String()
}

// netnsObserve reads one namespace $ns: links, addresses and the default
// route in one ip (its commands in a here-document: no printf process to
// feed it), then eth0's root qdisc when ip shows a tbf or netem.
const netnsObserve = `nsout=$(ip -d -j -n "$ns" -batch - <<'LABNET_OBS'
addr show
route show default
LABNET_OBS
)
printf '%s\n' "$nsout"; case $nsout in *'"qdisc":"tbf"'*|*'"qdisc":"netem"'*) echo "@@tc $ns"; tc -j -n "$ns" qdisc show dev eth0; echo;; esac`

// nsReader reads the host and the lab's namespaces: see observe.py's header.
var nsReader = netlinkPy + observeMain

//go:embed observe.py
var observeMain string

// ParseObserved reads ObserveScript's output.
func ParseObserved(out []byte) (*Observed, error) {
	o := &Observed{Links: map[string]Link{}, Netns: map[string]*Netns{}, Procs: map[string][]int{}, Fdb: map[string][]Fdb{},
		IsoFiles: map[string]bool{}, Iso: map[string]*IsoSeen{}, Runc: map[string]*RuncSeen{}, Images: map[string]bool{}}
	sections := splitSections(out)
	seenEnd := false
	for _, s := range sections {
		switch {
		case s.name == "links":
			links, err := ParseAddrJSON(s.body)
			if err != nil {
				return nil, fmt.Errorf("links: %w", err)
			}
			o.Links = links
		case strings.HasPrefix(s.name, "ns "):
			name := strings.TrimPrefix(s.name, "ns ")
			if len(s.body) == 0 {
				o.Netns[name] = &Netns{Links: map[string]Link{}} // listed only
				continue
			}
			ns, err := parseNetnsJSON(s.body)
			if err != nil {
				// A namespace that cannot be read (a file left by a crash
				// before its mount) is there but empty: the plan remakes it.
				ns = &Netns{Links: map[string]Link{}}
			}
			o.Netns[name] = ns
		case strings.HasPrefix(s.name, "tc "):
			// "tc NS" is eth0's root qdisc, "tc NS DEV" another's.
			name, dev, _ := strings.Cut(strings.TrimPrefix(s.name, "tc "), " ")
			ns := o.Netns[name]
			if ns == nil {
				continue
			}
			if dev == "" {
				dev = "eth0"
			}
			q, err := ParseQdiscJSON(s.body)
			if err != nil {
				// Unreadable output (an old tc without JSON for the
				// qdisc): the kind from ip stands, its options unknown.
				q = &Qdisc{Kind: ns.Links[dev].Qdisc}
			}
			switch {
			case q == nil:
			case dev == "eth0":
				ns.Qdisc = q
			default:
				if ns.Qdiscs == nil {
					ns.Qdiscs = map[string]*Qdisc{}
				}
				ns.Qdiscs[dev] = q
			}
		case s.name == "nft":
			if len(bytes.TrimSpace(s.body)) > 0 {
				rules, err := ParseNftJSON(s.body)
				if err != nil {
					return nil, fmt.Errorf("nft: %w", err)
				}
				o.NftPresent = true
				o.Nft = rules
			}
		case s.name == "procs":
			for _, line := range strings.Split(string(s.body), "\n") {
				f := strings.SplitN(strings.TrimSpace(line), " ", 2)
				if len(f) != 2 {
					continue
				}
				pid, err := strconv.Atoi(f[0])
				if err != nil {
					continue
				}
				if spec, ok := strings.CutPrefix(f[1], "="); ok {
					if o.ProcSpecs == nil {
						o.ProcSpecs = map[int]string{}
					}
					o.ProcSpecs[pid] = spec
					continue
				}
				o.Procs[f[1]] = append(o.Procs[f[1]], pid)
			}
		case s.name == "routes":
			rs, err := parseRoutes(s.body)
			if err != nil {
				return nil, fmt.Errorf("routes: %w", err)
			}
			o.Routes = rs
		case s.name == "neigh":
			var raw []struct {
				Dst    string `json:"dst"`
				Dev    string `json:"dev"`
				LLAddr string `json:"lladdr"`
			}
			if err := json.Unmarshal(s.body, &raw); err != nil {
				return nil, fmt.Errorf("neigh: %w", err)
			}
			for _, r := range raw {
				if a, err := netip.ParseAddr(r.Dst); err == nil {
					o.Neigh = append(o.Neigh, Neigh{Dst: a, LLAddr: r.LLAddr, Dev: r.Dev})
				}
			}
		case strings.HasPrefix(s.name, "fdb "):
			dev := strings.TrimPrefix(s.name, "fdb ")
			var raw []struct {
				MAC string `json:"mac"`
				Dst string `json:"dst"`
			}
			if len(bytes.TrimSpace(s.body)) > 0 {
				if err := json.Unmarshal(s.body, &raw); err != nil {
					return nil, fmt.Errorf("fdb %s: %w", dev, err)
				}
			}
			o.Fdb[dev] = []Fdb{}
			for _, r := range raw {
				a, _ := netip.ParseAddr(r.Dst)
				o.Fdb[dev] = append(o.Fdb[dev], Fdb{MAC: r.MAC, Dst: a})
			}
		case strings.HasPrefix(s.name, "isofile "):
			o.IsoFiles[strings.TrimPrefix(s.name, "isofile ")] = true
		case strings.HasPrefix(s.name, "iso "):
			seen, err := parseIsoJSON(s.body)
			if err != nil {
				return nil, fmt.Errorf("iso %s: %w", strings.TrimPrefix(s.name, "iso "), err)
			}
			o.Iso[strings.TrimPrefix(s.name, "iso ")] = seen
		case strings.HasPrefix(s.name, "runc "):
			if len(bytes.TrimSpace(s.body)) == 0 {
				continue // no such container
			}
			seen, err := parseRuncState(s.body)
			if err != nil {
				return nil, fmt.Errorf("runc %s: %w", strings.TrimPrefix(s.name, "runc "), err)
			}
			o.Runc[strings.TrimPrefix(s.name, "runc ")] = seen
		case strings.HasPrefix(s.name, "missing "):
			o.Missing = append(o.Missing, strings.TrimPrefix(s.name, "missing "))
		case strings.HasPrefix(s.name, "image "):
			o.Images[strings.TrimPrefix(s.name, "image ")] = true
		case s.name == "overlays":
			o.Overlays = strings.Fields(string(s.body))
		case s.name == "end":
			seenEnd = true
		}
	}
	if !seenEnd {
		return nil, fmt.Errorf("observation output is incomplete")
	}
	return o, nil
}

type section struct {
	name string
	body []byte
}

func splitSections(out []byte) []section {
	var res []section
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 64<<10), 1<<28)
	cur := -1
	for sc.Scan() {
		line := sc.Bytes()
		if name, ok := bytes.CutPrefix(line, []byte("@@")); ok {
			res = append(res, section{name: string(name)})
			cur = len(res) - 1
			continue
		}
		if cur >= 0 {
			res[cur].body = append(res[cur].body, line...)
			res[cur].body = append(res[cur].body, '\n')
		}
	}
	return res
}

type ipLink struct {
	Ifindex  int      `json:"ifindex"`
	LinkIdx  int      `json:"link_index"`
	Ifname   string   `json:"ifname"`
	Flags    []string `json:"flags"`
	Master   string   `json:"master"`
	Ifalias  string   `json:"ifalias"`
	Qdisc    string   `json:"qdisc"`
	MTU      int      `json:"mtu"`
	Address  string   `json:"address"`
	Linkinfo *struct {
		InfoKind string `json:"info_kind"`
		InfoData *struct {
			ID       int    `json:"id"`
			Local    string `json:"local"`
			Remote   string `json:"remote"`
			Port     int    `json:"port"`
			Learning bool   `json:"learning"`
		} `json:"info_data"`
	} `json:"linkinfo"`
	AddrInfo []struct {
		Family    string `json:"family"`
		Local     string `json:"local"`
		Prefixlen int    `json:"prefixlen"`
	} `json:"addr_info"`
}

type ipRoute struct {
	Dst     string `json:"dst"`
	Gateway string `json:"gateway"`
	Dev     string `json:"dev"`
}

// ParseAddrJSON parses `ip -d -j addr show` into links by name (IPv4 addresses only).
// The output of several `ip -j` commands (one per named link) is read as
// one list; no output is no link.
func ParseAddrJSON(data []byte) (map[string]Link, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	var all []ipLink
	for {
		var raw []ipLink
		err := dec.Decode(&raw)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		all = append(all, raw...)
	}
	return linksFrom(all), nil
}

func linksFrom(raw []ipLink) map[string]Link {
	links := map[string]Link{}
	for _, r := range raw {
		l := Link{Name: r.Ifname, Index: r.Ifindex, Master: r.Master, Alias: r.Ifalias, Qdisc: r.Qdisc, MTU: r.MTU, MAC: strings.ToLower(r.Address)}
		if r.Linkinfo != nil {
			l.Kind = r.Linkinfo.InfoKind
			if l.Kind == "veth" {
				l.Peer = r.LinkIdx
			}
			if d := r.Linkinfo.InfoData; d != nil && l.Kind == "vxlan" {
				local, _ := netip.ParseAddr(d.Local) // invalid when unset
				rem, _ := netip.ParseAddr(d.Remote)
				l.Vxlan = &VxlanInfo{VNI: d.ID, Port: d.Port, Local: local, Remote: rem, Learning: d.Learning}
			}
		}
		for _, f := range r.Flags {
			if f == "UP" {
				l.Up = true
			}
		}
		for _, a := range r.AddrInfo {
			if a.Family != "inet" {
				continue
			}
			ip, err := netip.ParseAddr(a.Local)
			if err != nil || a.Prefixlen < 0 || a.Prefixlen > 32 {
				continue
			}
			l.Addrs = append(l.Addrs, netip.PrefixFrom(ip, a.Prefixlen))
		}
		links[l.Name] = l
	}
	return links
}

// parseNetnsJSON reads the two JSON arrays printed by `addr show` and
// `route show default` in one batch.
func parseNetnsJSON(data []byte) (*Netns, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	var links []ipLink
	if err := dec.Decode(&links); err != nil {
		return nil, err
	}
	ns := &Netns{Links: linksFrom(links)}
	var routes []ipRoute
	if err := dec.Decode(&routes); err != nil && err != io.EOF {
		return nil, err
	}
	for _, r := range routes {
		if r.Dst == "default" && r.Gateway != "" {
			if gw, err := netip.ParseAddr(r.Gateway); err == nil {
				ns.DefaultGw = gw
			}
		}
	}
	return ns, nil
}

// nft -j shapes, as far as labnet's own rules go.
type nftDoc struct {
	Nftables []map[string]json.RawMessage `json:"nftables"`
}

type nftRule struct {
	Chain   string            `json:"chain"`
	Comment string            `json:"comment"`
	Expr    []json.RawMessage `json:"expr"`
}

type nftMatch struct {
	Op    string          `json:"op"`
	Left  json.RawMessage `json:"left"`
	Right json.RawMessage `json:"right"`
}

// ParseNftJSON reads `nft -j list table` and returns the lab's rules that
// are present in every chain they must be in (dnat: prerouting and output;
// masquerade: postrouting). Rules it does not recognise are ignored, so
// they show up as missing wanted rules, never as trusted ones.
func ParseNftJSON(data []byte) ([]NatRule, error) {
	var doc nftDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	byChain := map[string]map[NatRule]bool{}
	for _, obj := range doc.Nftables {
		raw, ok := obj["rule"]
		if !ok {
			continue
		}
		var r nftRule
		if err := json.Unmarshal(raw, &r); err != nil {
			return nil, err
		}
		nr, ok := parseRule(r)
		if !ok {
			continue
		}
		if byChain[r.Chain] == nil {
			byChain[r.Chain] = map[NatRule]bool{}
		}
		byChain[r.Chain][nr] = true
	}
	var rules []NatRule
	for r := range byChain["postrouting"] {
		if r.Kind == "masquerade" || r.Kind == "accept" {
			rules = append(rules, r)
		}
	}
	for r := range byChain["prerouting"] {
		if r.Kind == "dnat" && byChain["output"][r] {
			rules = append(rules, r)
		}
	}
	SortRules(rules)
	return rules, nil
}

func parseRule(r nftRule) (nr NatRule, ok bool) {
	nr = NatRule{Owner: ownerOf(r.Comment)}
	defer func() {
		// A destination match means DstAddr for dnat, Dest for accept.
		if nr.Kind == "accept" && nr.DstAddr.IsValid() {
			nr.Dest, nr.DstAddr = netip.PrefixFrom(nr.DstAddr, 32), netip.Addr{}
		}
		// A shape labnet never writes is not labnet's rule.
		if nr.Kind == "masquerade" && (nr.Dest.IsValid() || nr.DstAddr.IsValid()) {
			ok = false
		}
	}()
	for _, e := range r.Expr {
		var m map[string]json.RawMessage
		if json.Unmarshal(e, &m) != nil {
			return nr, false
		}
		switch {
		case m["match"] != nil:
			var mt nftMatch
			if json.Unmarshal(m["match"], &mt) != nil {
				return nr, false
			}
			if !applyMatch(&nr, mt) {
				return nr, false
			}
		case m["dnat"] != nil:
			var d struct {
				Family string `json:"family"`
				Addr   string `json:"addr"`
				Port   int    `json:"port"`
			}
			if json.Unmarshal(m["dnat"], &d) != nil {
				return nr, false
			}
			a, err := netip.ParseAddr(d.Addr)
			if err != nil {
				return nr, false
			}
			nr.Kind, nr.ToAddr, nr.ToPort = "dnat", a, d.Port
		case len(m) == 1 && m["masquerade"] != nil:
			nr.Kind = "masquerade"
		case len(m) == 1 && m["accept"] != nil:
			nr.Kind = "accept"
		default:
			return nr, false
		}
	}
	return nr, nr.Kind != ""
}

func applyMatch(nr *NatRule, m nftMatch) bool {
	var left struct {
		Payload *struct {
			Protocol string `json:"protocol"`
			Field    string `json:"field"`
		} `json:"payload"`
		Meta *struct {
			Key string `json:"key"`
		} `json:"meta"`
	}
	if json.Unmarshal(m.Left, &left) != nil {
		return false
	}
	switch {
	case left.Payload != nil && left.Payload.Protocol == "ip" && left.Payload.Field == "daddr" && m.Op == "==":
		var s string
		if json.Unmarshal(m.Right, &s) == nil {
			a, err := netip.ParseAddr(s)
			if err != nil {
				return false
			}
			nr.DstAddr = a
			return true
		}
		pf, ok := parsePrefix(m.Right)
		if !ok {
			return false
		}
		nr.Dest = pf
	case left.Payload != nil && left.Payload.Protocol == "ip" && left.Payload.Field == "saddr" && m.Op == "==":
		pf, ok := parsePrefix(m.Right)
		if !ok {
			return false
		}
		nr.Source = pf
	case left.Payload != nil && (left.Payload.Protocol == "tcp" || left.Payload.Protocol == "udp") && left.Payload.Field == "dport" && m.Op == "==":
		var port int
		if json.Unmarshal(m.Right, &port) != nil {
			return false
		}
		nr.Proto, nr.DstPort = left.Payload.Protocol, port
	case left.Payload != nil && left.Payload.Protocol == "ip" && left.Payload.Field == "daddr" && m.Op == "!=":
		pf, ok := parsePrefix(m.Right)
		if !ok {
			return false
		}
		nr.NotDest = pf
	default:
		return false
	}
	return true
}

func parseRoutes(data []byte) ([]Route, error) {
	var raw []struct {
		Dst     string   `json:"dst"`
		Gateway string   `json:"gateway"`
		Dev     string   `json:"dev"`
		Flags   []string `json:"flags"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, err
	}
	var out []Route
	for _, r := range raw {
		var dst netip.Prefix
		switch {
		case r.Dst == "default":
			dst = netip.MustParsePrefix("0.0.0.0/0")
		case strings.Contains(r.Dst, "/"):
			p, err := netip.ParsePrefix(r.Dst)
			if err != nil {
				continue
			}
			dst = p
		default:
			a, err := netip.ParseAddr(r.Dst)
			if err != nil || !a.Is4() {
				continue
			}
			dst = netip.PrefixFrom(a, 32)
		}
		rt := Route{Dst: dst, Dev: r.Dev}
		rt.Gateway, _ = netip.ParseAddr(r.Gateway)
		for _, f := range r.Flags {
			if f == "onlink" {
				rt.Onlink = true
			}
		}
		out = append(out, rt)
	}
	return out, nil
}

// parsePrefix reads nft's {"prefix":{"addr":..,"len":..}} or a plain address (a /32).
func parsePrefix(raw json.RawMessage) (netip.Prefix, bool) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		a, err := netip.ParseAddr(s)
		return netip.PrefixFrom(a, 32), err == nil
	}
	var p struct {
		Prefix struct {
			Addr string `json:"addr"`
			Len  int    `json:"len"`
		} `json:"prefix"`
	}
	if json.Unmarshal(raw, &p) != nil {
		return netip.Prefix{}, false
	}
	pf, err := netip.ParsePrefix(p.Prefix.Addr + "/" + strconv.Itoa(p.Prefix.Len))
	return pf, err == nil
}

// OwnedNetns lists the lab's namespaces on the host, sorted.
func (o *Observed) OwnedNetns() []string {
	var names []string
	for n := range o.Netns {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// OwnedLinks lists the host-namespace links that carry the lab's alias.
func (o *Observed) OwnedLinks(n Names) []Link {
	var links []Link
	for _, l := range o.Links {
		if strings.HasPrefix(l.Alias, n.AliasPrefix()) {
			links = append(links, l)
		}
	}
	sort.Slice(links, func(i, j int) bool { return links[i].Name < links[j].Name })
	return links
}

// SweepScript removes everything of the lab that o shows on a host, found
// by its marks: processes, namespaces, aliased links, the nft table, files.
// Used by destroy when the state is lost or a host is left half-made.
func SweepScript(n Names, hostName string, o *Observed) string {
	var b strings.Builder
	b.WriteString(KillOwned(n.Owner(hostName, "")) + " || true\n")
	for _, ns := range o.OwnedNetns() {
		fmt.Fprintf(&b, "ip netns del %s\n", remote.Quote(ns))
	}
	for _, l := range o.OwnedLinks(n) {
		if l.Kind == "bridge" {
			// A bridge holding the host's LAN interface gives it back
			// its addresses and routes first (LanBridge).
			fmt.Fprintf(&b, "{\n%s\n} 2>/dev/null || true\n", LanBridgeRestoreShell(n, l.Name))
		}
		fmt.Fprintf(&b, "ip link del dev %s 2>/dev/null || true\n", remote.Quote(l.Name))
	}
	b.WriteString(NftDeleteShell(n) + "\n")
	// Image containers, found by their runc id, then their overlays.
	b.WriteString(remote.Join("sh", "-c", `command -v runc >/dev/null || exit 0
runc list -q 2>/dev/null | while read -r id; do case $id in "$1"*) runc delete -f "$id" >/dev/null 2>&1;; esac; done
awk -v d="$2/" '$3 == "overlay" && index($2, d) == 1 { print $2 }' /proc/self/mounts | while read -r m; do umount -l "$m"; done`, "labnet-sweep", n.RuncPrefix(), n.RunDir()) + "\n")
	// The isolation dir is a mount: letting go of it lets go of the
	// containers' namespace files bound under it (rm cannot remove those).
	fmt.Fprintf(&b, "umount -l %s 2>/dev/null; rm -rf %s\n", remote.Quote(n.IsoDir()), remote.Quote(n.RunDir()))
	return b.String()
}
