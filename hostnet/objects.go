package hostnet

import (
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"

	"github.com/labnet-dev/labnet/remote"
)

// Bridge is a Linux bridge on a host holding its network's gateway address.
type Bridge struct {
	Addr    string // owning resource
	Ifname  string
	CIDR    netip.Prefix
	Gateway netip.Addr
}

// Container is a guest: a netns with eth0, a veth whose peer is on a bridge.
type Container struct {
	Addr     string
	Netns    string
	HostVeth string
	Bridge   string // bridge ifname
	Address  netip.Addr
	Bits     int
	Gateway  netip.Addr     // invalid: no default route (tenant segments)
	MTU      int            // 0: the kernel's default
	Host     string         // the host resource it is on, for messages
	Shape    Shaping        // egress shaping of eth0
	Iso      *Isolation     // its own mount and UTS namespaces (top-level containers); nil for VMs and pods
	Runc     *RuncContainer // run by runc from an image (Iso is nil then)
}

// Process is a long-running command in a host's or a guest's namespace.
type Process struct {
	Addr  string
	Owner string // LABNET_OWNER value
	Netns string // "" for the host's own namespace
	// MountNS and UTSNS: the files of its container's own namespaces,
	// which it enters with the network namespace ("" for none).
	MountNS, UTSNS string
	// Runc: the image container it runs in (runc exec -d, in all of the
	// container's namespaces and its root); "" for none.
	Runc    string
	Command []string
	Log     string
	// Spec marks what it was started from (SpecEnvName): refresh reads it
	// back, so a process started otherwise under its owner mark is drift.
	Spec string
}

// HostPrep is run at the top of every stage script that changes a host:
// the lab's directory, and forwarding (bridges and NAT need it).
func HostPrep(n Names) string {
	return fmt.Sprintf("mkdir -p %s && chmod 700 %s && sysctl -qw net.ipv4.ip_forward=1", remote.Quote(n.RunDir()), remote.Quote(n.RunDir()))
}

// BridgeAdd makes a bridge with a MAC address of its own. A bridge without
// one takes the lowest MAC of its ports and changes it when that port
// leaves; every neighbour that cached the old one (guests' ARP entries for
// their gateway, netns hosts' for labnet's address on the LAN bridge) then
// sends into the void until the entry expires: SSH to a netns host stalled
// 26 s after another host left the LAN (TCP retransmitting until ARP
// re-resolved). Docker sets docker0's MAC for the same reason.
//
// Its MTU is set too, so that it is fixed (a bridge without one follows its
// smallest port) and refresh can judge it.
func BridgeAdd(name, mac string, mtu int) string {
	return fmt.Sprintf("link add name %s address %s mtu %d type bridge", name, mac, mtu)
}

// DefaultMTU is the MTU of the links labnet makes without one of their own.
const DefaultMTU = 1500

// Verdict is how refresh found one object: whether any of it is there,
// each way it differs from what its create step sets, and whether an
// update can put that right (otherwise the object is replaced).
type Verdict struct {
	Exists       bool
	Drift        []string
	Unrepairable bool
	// Restarts: its repair starts it again, and what runs inside it (the
	// processes of an image container) with it.
	Restarts bool
}

// linkDrift compares the properties create sets on a link that every
// kind shares: up, MTU and (where labnet sets one) MAC.
// what names the link in the reasons ("docker0", "veth ln0123456789").
func linkDrift(l Link, what string, mtu int, mac string) []string {
	var d []string
	if !l.Up {
		d = append(d, what+" is down")
	}
	if l.MTU != mtu {
		d = append(d, fmt.Sprintf("%s has MTU %d, wants %d", what, l.MTU, mtu))
	}
	if mac != "" && !strings.EqualFold(l.MAC, mac) {
		d = append(d, fmt.Sprintf("%s has MAC %s, wants %s", what, l.MAC, mac))
	}
	return d
}

// judgeBridge compares a bridge labnet made (marked as addr's, with its
// MTU and MAC) with what refresh read; ok is false when it is missing.
func judgeBridge(n Names, k *Observed, ifname, addr string, mtu int) (v Verdict, l Link, ok bool) {
	l, ok = k.Links[ifname]
	if !ok {
		return Verdict{Drift: []string{"bridge " + ifname + " is missing"}}, l, false
	}
	v = Verdict{Exists: true}
	if l.Kind != "bridge" {
		v.Drift = append(v.Drift, fmt.Sprintf("%s is a %q link, not a bridge", l.Name, l.Kind))
		v.Unrepairable = true
	}
	if l.Alias != n.Alias(addr) {
		v.Drift = append(v.Drift, fmt.Sprintf("%s is not marked as labnet's (alias %q)", l.Name, l.Alias))
	}
	v.Drift = append(v.Drift, linkDrift(l, l.Name, mtu, n.MAC(addr))...)
	return v, l, true
}

// Judge compares the bridge with what CreateBatch makes.
func (b Bridge) Judge(n Names, k *Observed) Verdict {
	v, l, ok := judgeBridge(n, k, b.Ifname, b.Addr, DefaultMTU)
	if ok {
		if want := netip.PrefixFrom(b.Gateway, b.CIDR.Bits()); !slices.Contains(l.Addrs, want) {
			v.Drift = append(v.Drift, fmt.Sprintf("%s lacks address %s", l.Name, want))
		}
	}
	return v
}

func (b Bridge) CreateBatch(n Names) []string {
	return []string{
		BridgeAdd(b.Ifname, n.MAC(b.Addr), DefaultMTU),
		fmt.Sprintf("link set dev %s alias %s", b.Ifname, n.Alias(b.Addr)),
		fmt.Sprintf("addr add %s/%d dev %s", b.Gateway, b.CIDR.Bits(), b.Ifname),
		fmt.Sprintf("link set dev %s up", b.Ifname),
	}
}

// RepairBatch puts a bridge that exists back in shape.
func (b Bridge) RepairBatch(n Names) []string {
	return []string{
		fmt.Sprintf("link set dev %s address %s mtu %d alias %s", b.Ifname, n.MAC(b.Addr), DefaultMTU, n.Alias(b.Addr)),
		fmt.Sprintf("addr replace %s/%d dev %s", b.Gateway, b.CIDR.Bits(), b.Ifname),
		fmt.Sprintf("link set dev %s up", b.Ifname),
	}
}

func (b Bridge) DeleteBatch() []string {
	return []string{fmt.Sprintf("link del dev %s", b.Ifname)}
}

// CreateBatch makes the namespace and the veth with its peer born inside
// it (moving a link into a namespace later costs several times more).
func (c Container) CreateBatch(n Names) []string {
	if c.HostVeth == "" {
		return []string{fmt.Sprintf("netns add %s", c.Netns)} // wired by links alone
	}
	l := []string{
		fmt.Sprintf("netns add %s", c.Netns),
		fmt.Sprintf("link add name %s type veth peer name eth0 address %s netns %s", c.HostVeth, n.MAC(c.Addr), c.Netns),
		fmt.Sprintf("link set dev %s alias %s", c.HostVeth, n.Alias(c.Addr)),
		fmt.Sprintf("link set dev %s master %s up", c.HostVeth, c.Bridge),
	}
	if c.MTU > 0 {
		l = append(l, fmt.Sprintf("link set dev %s mtu %d", c.HostVeth, c.MTU))
	}
	return l
}

// RepairBatch fixes the host side of an existing guest.
func (c Container) RepairBatch(n Names) []string {
	if c.HostVeth == "" {
		return nil
	}
	return []string{
		fmt.Sprintf("link set dev %s alias %s mtu %d", c.HostVeth, n.Alias(c.Addr), c.mtu()),
		fmt.Sprintf("link set dev %s master %s up", c.HostVeth, c.Bridge),
	}
}

// mtu is the MTU of both ends of the guest's veth.
func (c Container) mtu() int {
	if c.MTU > 0 {
		return c.MTU
	}
	return DefaultMTU
}

// There says whether any of the guest is there: its namespace, its
// host-side veth, or the file of its mount or UTS namespace.
func (c Container) There(k *Observed) bool {
	_, veth := k.Links[c.HostVeth]
	return k.Netns[c.Netns] != nil || (veth && c.HostVeth != "") || (c.Iso != nil && IsoThere(k, c.Iso.MountNS, c.Iso.UTSNS))
}

// Judge compares a guest that was read inside with what CreateBatch,
// Inside and ShapeShell make. Without its namespace or its eth0 it is
// remade; everything else is repaired in place.
func (c Container) Judge(n Names, k *Observed) Verdict {
	if !c.There(k) {
		return Verdict{Drift: []string{"netns " + c.Netns + " is missing"}}
	}
	v := Verdict{Exists: true}
	ns := k.Netns[c.Netns]
	if ns == nil {
		v.Drift = append(v.Drift, "netns "+c.Netns+" is missing")
		v.Unrepairable = true
	}
	if c.HostVeth == "" {
		if ns != nil {
			if lo, ok := ns.Links["lo"]; !ok || !lo.Up {
				v.Drift = append(v.Drift, "lo is down")
			}
		}
		c.namespacesDrift(n, k, &v)
		return v
	}
	if veth, ok := k.Links[c.HostVeth]; !ok {
		v.Drift = append(v.Drift, "veth "+c.HostVeth+" is missing")
		v.Unrepairable = true
	} else {
		if veth.Master != c.Bridge {
			v.Drift = append(v.Drift, fmt.Sprintf("veth %s is not on bridge %s", veth.Name, c.Bridge))
		}
		if veth.Alias != n.Alias(c.Addr) {
			v.Drift = append(v.Drift, fmt.Sprintf("veth %s is not marked as labnet's (alias %q)", veth.Name, veth.Alias))
		}
		v.Drift = append(v.Drift, linkDrift(veth, "veth "+veth.Name, c.mtu(), "")...)
	}
	if ns == nil {
		return v
	}
	eth0, ok := ns.Links["eth0"]
	if !ok {
		v.Drift = append(v.Drift, "eth0 is missing in "+c.Netns)
		v.Unrepairable = true
	} else {
		want := netip.PrefixFrom(c.Address, c.Bits)
		v.Drift = append(v.Drift, linkDrift(eth0, "eth0", c.mtu(), n.MAC(c.Addr))...)
		if len(eth0.Addrs) != 1 || eth0.Addrs[0] != want {
			v.Drift = append(v.Drift, fmt.Sprintf("eth0 has %v, wants %s", eth0.Addrs, want))
		}
	}
	if lo, ok := ns.Links["lo"]; !ok || !lo.Up {
		v.Drift = append(v.Drift, "lo is down")
	}
	if c.Gateway.IsValid() && ns.DefaultGw != c.Gateway {
		v.Drift = append(v.Drift, "default route via "+c.Gateway.String()+" is missing")
	}
	if ok {
		// The root qdisc is replaced in place.
		v.Drift = append(v.Drift, c.ShapeDrift(ns)...)
	}
	c.namespacesDrift(n, k, &v)
	return v
}

// namespacesDrift adds to v how a container's own namespaces (its mount
// and UTS ones, or its runc container's) differ from what its steps make.
func (c Container) namespacesDrift(n Names, k *Observed, v *Verdict) {
	var d []string
	unrepairable := false
	switch {
	case c.Iso != nil:
		d, unrepairable = c.isoDrift(n, k)
	case c.Runc != nil:
		d, unrepairable = c.Runc.Drift(k)
		v.Restarts = c.Runc.Restarts(k)
	}
	v.Drift = append(v.Drift, d...)
	v.Unrepairable = v.Unrepairable || unrepairable
}

// DeleteBatch removes what exists of a guest: deleting one veth end removes
// both, deleting the namespace removes what is left inside.
func (c Container) DeleteBatch(vethExists, netnsExists bool) []string {
	var l []string
	if vethExists && c.HostVeth != "" {
		l = append(l, "link del dev "+c.HostVeth)
	}
	if netnsExists {
		l = append(l, "netns del "+c.Netns)
	}
	return l
}

// StartShell starts the process detached, marked with its owner, output
// appended to its log; Verify then proves it is still running.
func (p Process) StartShell() string {
	if p.Runc != "" {
		// In an image container: runc exec starts it in all of the
		// container's namespaces and its root, with the marks in its own
		// environment (runc passes the caller's to nobody). runc stays
		// its parent and reaps it: an orphan left to a host's init that
		// does not reap would keep the container's PID namespace, and so
		// its init, from ever ending.
		argv := []string{"runc", "exec", "--env", OwnerEnvName + "=" + p.Owner}
		if p.Spec != "" {
			argv = append(argv, "--env", SpecEnvName+"="+p.Spec)
		}
		argv = append(append(argv, "--", p.Runc), p.Command...)
		return fmt.Sprintf("(cd / && exec setsid %s) >>%s 2>&1 </dev/null &", remote.Join(argv...), remote.Quote(p.Log))
	}
	argv := p.InNamespaces(p.Command)
	// The group's redirections make the background job let go of the
	// step's output pipe at once, whatever shell /bin/sh is.
	spec := ""
	if p.Spec != "" {
		spec = " " + remote.Quote(SpecEnvName+"="+p.Spec)
	}
	return fmt.Sprintf("(cd / && exec env %s%s setsid %s) >>%s 2>&1 </dev/null &",
		remote.Quote(OwnerEnvName+"="+p.Owner), spec, remote.Join(argv...), remote.Quote(p.Log))
}

// InNamespaces wraps argv so it runs in the process's namespaces: a
// container's network, mount and UTS namespaces through nsenter (its
// private dirs and hostname are there), a guest's network namespace alone
// through ip netns exec, the host's own as it is.
func (p Process) InNamespaces(argv []string) []string {
	switch {
	case p.MountNS != "":
		return append([]string{"nsenter", "--net=" + netnsPath(p.Netns), "--mount=" + p.MountNS, "--uts=" + p.UTSNS, "--"}, argv...)
	case p.Netns != "":
		return append([]string{"ip", "netns", "exec", p.Netns}, argv...)
	}
	return append([]string{}, argv...)
}

// Verify fails, with the tail of the log, when the process is not running.
func (p Process) Verify() string {
	if p.Runc != "" {
		// runc exec takes a moment to start it.
		return fmt.Sprintf("i=0; until %s >/dev/null; do i=$((i+1)); if [ $i -gt 100 ]; then echo 'process did not start; last lines of %s:'; tail -n 5 %s; exit 1; fi; sleep 0.02; done",
			FindOwned(p.Owner), p.Log, remote.Quote(p.Log))
	}
	return fmt.Sprintf("if %s >/dev/null; then :; else echo 'process exited at once; last lines of %s:'; tail -n 5 %s; exit 1; fi",
		FindOwned(p.Owner), p.Log, remote.Quote(p.Log))
}

// StopShell kills every process carrying the owner mark.
func (p Process) StopShell() string {
	return KillOwned(p.Owner)
}

// OwnerEnvName is the environment variable that marks labnet's processes.
const OwnerEnvName = "LABNET_OWNER"

// SpecEnvName marks what a process was started from: a digest of its
// command and namespaces. Its command line cannot say (programs rewrite
// their titles; a shell wrapper execs another program).
const SpecEnvName = "LABNET_SPEC"

// readOwned prints "PID OWNER" for processes whose owner mark starts with
// prefix and "PID =SPEC" for every process with a spec mark: one grep.
func readOwned(prefix string) string {
	pat := "^" + OwnerEnvName + "=" + regexpQuote(prefix)
	return fmt.Sprintf("grep -azH -e %s -e '^%s=' /proc/[0-9]*/environ 2>/dev/null | tr '\\0' '\\n' | sed -n -e 's|^/proc/\\([0-9]*\\)/environ:%s=|\\1 |p' -e 's|^/proc/\\([0-9]*\\)/environ:%s=|\\1 =|p'",
		remote.Quote(pat), SpecEnvName, OwnerEnvName, SpecEnvName)
}

// FindOwned is a shell command printing "PID OWNER" for processes whose
// mark equals owner, or starts with it when owner ends in "/".
func FindOwned(owner string) string {
	if strings.ContainsAny(owner, "\n\x00") {
		return "false" // owners are validated names; never let one split grep's pattern
	}
	pat := "^" + OwnerEnvName + "=" + regexpQuote(owner)
	if !strings.HasSuffix(owner, "/") {
		pat += "$"
	}
	return fmt.Sprintf("grep -azH -- %s /proc/[0-9]*/environ 2>/dev/null | tr '\\0' '\\n' | sed -n 's|^/proc/\\([0-9]*\\)/environ:%s=|\\1 |p' | grep .", remote.Quote(pat), OwnerEnvName)
}

// KillOwned kills every process FindOwned lists and waits for them.
func KillOwned(owner string) string {
	find := FindOwned(owner)
	return fmt.Sprintf("for i in 1 2 3 4 5 6 7 8 9 10; do pids=$(%s | cut -d' ' -f1); [ -z \"$pids\" ] && break; kill -9 $pids 2>/dev/null; sleep 0.05; done; [ -z \"$pids\" ]", find)
}

func regexpQuote(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`.[]*^$\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// NatRule is one rule of the lab's nft table on a host. Rules are compared
// by value, so the same struct describes what labnet wants and what it read.
type NatRule struct {
	Owner string // resource address, kept in the rule's comment
	Kind  string // "masquerade", "dnat", or "accept" (exempt from masquerade)
	// masquerade: traffic from Source to anywhere but NotDest (a bridge's
	// own subnet: matching on the destination rather than on the outgoing
	// interface keeps working when br_netfilter shows bridged frames to
	// nftables); accept: traffic from Source to Dest is never masqueraded
	// (it is matched first)
	Source  netip.Prefix
	NotDest netip.Prefix
	Dest    netip.Prefix
	// dnat: Proto to DstAddr:DstPort goes to ToAddr:ToPort
	Proto   string
	DstAddr netip.Addr
	DstPort int
	ToAddr  netip.Addr
	ToPort  int
}

func (r NatRule) String() string {
	switch r.Kind {
	case "masquerade":
		if !r.NotDest.IsValid() {
			return fmt.Sprintf("masquerade %s (%s)", r.Source, r.Owner)
		}
		return fmt.Sprintf("masquerade %s -> !%s (%s)", r.Source, r.NotDest, r.Owner)
	case "accept":
		return fmt.Sprintf("no nat %s -> %s (%s)", r.Source, r.Dest, r.Owner)
	}
	return fmt.Sprintf("dnat %s %s:%d -> %s:%d (%s)", r.Proto, r.DstAddr, r.DstPort, r.ToAddr, r.ToPort, r.Owner)
}

// SortRules orders rules canonically.
func SortRules(rs []NatRule) {
	sort.Slice(rs, func(i, j int) bool { return rs[i].String() < rs[j].String() })
}

// NftFile replaces the lab's table atomically: create-if-missing, delete,
// define, all in one `nft -f` transaction.
func NftFile(n Names, rules []NatRule) string {
	var pre, post, exempt []string
	for _, r := range rules {
		c := fmt.Sprintf("comment \"%s\"", commentOf(r.Owner))
		switch r.Kind {
		case "accept":
			exempt = append(exempt, fmt.Sprintf("ip saddr %s ip daddr %s accept %s", r.Source, r.Dest, c))
		case "masquerade":
			if !r.NotDest.IsValid() {
				post = append(post, fmt.Sprintf("ip saddr %s masquerade %s", r.Source, c))
				continue
			}
			post = append(post, fmt.Sprintf("ip saddr %s ip daddr != %s masquerade %s", r.Source, r.NotDest, c))
		case "dnat":
			pre = append(pre, fmt.Sprintf("ip daddr %s %s dport %d dnat ip to %s:%d %s", r.DstAddr, r.Proto, r.DstPort, r.ToAddr, r.ToPort, c))
		}
	}
	t := n.Table()
	var b strings.Builder
	fmt.Fprintf(&b, "table inet %s\ndelete table inet %s\ntable inet %s {\n", t, t, t)
	chain := func(name, hook string, prio int, rules []string) {
		fmt.Fprintf(&b, "\tchain %s {\n\t\ttype nat hook %s priority %d; policy accept;\n", name, hook, prio)
		for _, r := range rules {
			fmt.Fprintf(&b, "\t\t%s\n", r)
		}
		b.WriteString("\t}\n")
	}
	// Published ports answer on the host's LAN address both for traffic
	// arriving from the LAN (prerouting) and from the host itself (output).
	chain("prerouting", "prerouting", -100, pre)
	chain("output", "output", -100, pre)
	chain("postrouting", "postrouting", 100, append(exempt, post...))
	b.WriteString("}\n")
	return b.String()
}

// nft strings have no escapes: a for_each key's quotes in an owner
// address (container.app["one"]) are written as single quotes, which
// addresses never contain otherwise, and read back.
func commentOf(owner string) string { return strings.ReplaceAll(owner, `"`, "'") }
func ownerOf(comment string) string { return strings.ReplaceAll(comment, "'", `"`) }

// NftApplyShell loads the table.
func NftApplyShell(n Names, rules []NatRule) string {
	return "nft -f - <<'LABNET_NFT'\n" + NftFile(n, rules) + "LABNET_NFT"
}

// NftDeleteShell removes the table if it is there.
func NftDeleteShell(n Names) string {
	return fmt.Sprintf("if nft list table inet %s >/dev/null 2>&1; then nft delete table inet %s; fi", n.Table(), n.Table())
}
