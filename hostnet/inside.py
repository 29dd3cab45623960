# labnet's guest configurator: one process per host per stage configures
# the inside of every new or repaired guest namespace (addresses, MTU, MAC,
# up, default route) over netlink, after setns into each; then each
# address is announced with a gratuitous ARP sent by the guest's bridge. One `ip -n NS -batch`
# per guest costs a process start and a namespace switch with a /sys
# remount each: about 2 ms a guest, most of a container's creation time.
#
# A container's own mount and UTS namespaces ("iso", isolation.py, which
# comes before this file) are made or repaired here too, after its network
# namespace is configured: one process for all of them.
#
# argv[1]: the line numbers of the host's ip batch that failed; a guest
# whose own batch lines (from..to) are among them is skipped (its step has
# failed already). stdin: one JSON object per guest (hostnet.Inside). For a
# guest that fails it prints "@@fail ID" and "@@err ID <message>"; nothing
# for one that succeeds.
# (hostnet/netlink.py comes first: Netlink, Fail, attr, the constants.)
failed_lines = {int(x) for x in (sys.argv[1] if len(sys.argv) > 1 else "").split()}
IFF_UP = 1


class Guest(Netlink):
    """The netlink calls that configure a guest's namespace."""

    def index(self, name):
        try:
            return socket.if_nametoindex(name)
        except OSError:
            raise Fail("no interface %s" % name)

    def link(self, name, mtu=0, mac="", alias=""):
        # ip link set dev NAME [mtu N] [address MAC] [alias ALIAS] up
        body = struct.pack("BxHiII", 0, 0, self.index(name), IFF_UP, IFF_UP)
        if mtu:
            body += attr(4, struct.pack("I", mtu))
        if mac:
            body += attr(1, bytes.fromhex(mac.replace(":", "")))
        if alias:
            body += attr(20, alias.encode())  # IFLA_IFALIAS
        self.call(RTM_NEWLINK, NLM_F_ACK, body, "link set dev %s%s%s%s up" % (
            name, " mtu %d" % mtu if mtu else "", " address " + mac if mac else "", " alias " + alias if alias else ""))

    def no_autoconf6(self, name):
        # ip link set dev NAME addrgenmode none, before the link is first up:
        # no IPv6 link-local address, so no duplicate address detection and
        # no router solicitations. The kernel's default (router_solicitations
        # -1) has every guest solicit forever, and each solicitation floods
        # the bridge to every port: 1,000 guests made ~6,500 multicasts and
        # 6.5 million copies, both CPUs busy for seconds, again at every
        # back-off step. labnet's guests are IPv4-only. A kernel without
        # IPv6 refuses the attribute; then there is nothing to turn off.
        inet6 = attr(10, attr(8, struct.pack("B", 1)))  # AF_INET6 { IFLA_INET6_ADDR_GEN_MODE: NONE }
        body = struct.pack("BxHiII", 0, 0, self.index(name), 0, 0) + attr(26, inet6)  # IFLA_AF_SPEC
        try:
            self.call(RTM_NEWLINK, NLM_F_ACK, body, "link set dev %s addrgenmode none" % name)
        except Fail:
            pass

    def addresses(self, name, prefixes):
        # The IPv4 addresses it must have; every other IPv4 address goes
        # (as `addr flush` + `addr add` did, but IPv6 link-local stays).
        idx = self.index(name)
        wanted = []
        for prefix in prefixes:
            ip, bits = prefix.split("/")
            wanted.append((socket.inet_aton(ip), int(bits)))
        have = set()
        for m in self.call(RTM_GETADDR, NLM_F_DUMP, struct.pack("BBBBI", socket.AF_INET, 0, 0, 0, 0), "addr show dev " + name):
            fam, plen, _, _, i = struct.unpack_from("BBBBI", m, 0)
            if i != idx or fam != socket.AF_INET:
                continue
            off, local = 8, None
            while off + 4 <= len(m):
                ln, ty = struct.unpack_from("HH", m, off)
                if ln < 4:
                    break
                if ty in (1, 2):
                    local = m[off + 4:off + 8] if ty == 2 or local is None else local
                off += (ln + 3) & ~3
            if (local, plen) in wanted:
                have.add((local, plen))
                continue
            body = struct.pack("BBBBI", socket.AF_INET, plen, 0, 0, idx) + attr(2, local)
            self.call(RTM_DELADDR, NLM_F_ACK, body, "addr del %s/%d dev %s" % (socket.inet_ntoa(local), plen, name))
        for want in wanted:
            if want in have:
                continue
            body = struct.pack("BBBBI", socket.AF_INET, want[1], 0, 0, idx) + attr(2, want[0]) + attr(1, want[0])
            self.call(RTM_NEWADDR, NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE, body,
                      "addr add %s/%d dev %s" % (socket.inet_ntoa(want[0]), want[1], name))

    def default_route(self, gw, name):
        # ip route replace default via GW dev NAME (main table, proto boot)
        body = struct.pack("BBBBBBBBI", socket.AF_INET, 0, 0, 0, 254, 3, 0, 1, 0)
        body += attr(5, socket.inet_aton(gw)) + attr(4, struct.pack("i", self.index(name)))
        self.call(RTM_NEWROUTE, NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE, body, "route replace default via %s dev %s" % (gw, name))


def configure(g):
    if g["netns"]:  # "": the host's own namespace (a wire's host end)
        fd = os.open("/run/netns/" + g["netns"], os.O_RDONLY)
        try:
            if libc.setns(fd, CLONE_NEWNET) != 0:
                raise Fail("setns: " + os.strerror(ctypes.get_errno()))
        finally:
            os.close(fd)
    nl = Guest()  # made after setns: it talks to the guest's namespace
    try:
        if g.get("lo"):
            nl.link("lo")
        for l in g["links"]:
            nl.no_autoconf6(l["name"])
            nl.addresses(l["name"], l["addrs"] if "addrs" in l else [l["addr"]] if l.get("addr") else [])
            nl.link(l["name"], l.get("mtu", 0), l.get("mac", ""), l.get("alias", ""))
        if g.get("gw"):
            nl.default_route(g["gw"], g["gwdev"])
    finally:
        nl.close()
    for more in g.get("more") or []:
        libc.setns(home, CLONE_NEWNET)
        configure(more)


def announce_all(done):
    """A gratuitous ARP for every address set up, in the guest's name, sent
    by its bridge on the host: the bridge floods it to its other ports (and
    the LAN, for a bridged VM) at once, while the guest's own new port may
    not forward yet (a veth's carrier is handled asynchronously: a frame
    sent from the guest as it comes up is often dropped)."""
    if not done:
        return
    a = Announcer()
    try:
        for g in done:
            for l in g["links"]:
                if l.get("bridge") and l.get("mac"):
                    try:
                        a.send(l["bridge"], l["addr"].split("/")[0], l["mac"])
                    except OSError:
                        pass  # the guest works without it: a peer asks in time
    finally:
        a.close()


home = os.open("/proc/self/ns/net", os.O_RDONLY)
iso = None  # made for the first container that has its own namespaces
done = []
for line in sys.stdin:
    g = json.loads(line)
    if any(g["from"] <= n <= g["to"] for n in failed_lines):
        continue
    try:
        configure(g)
        if g.get("iso"):
            iso = iso or Iso()
            iso.run(g["iso"], g["netns"])
        done.append(g)
    except (Fail, OSError) as e:
        msg = str(e) if isinstance(e, Fail) else "%s: %s" % (e.filename or "", e.strerror or e)
        print("@@fail %d\n@@err %d %s: %s" % (g["id"], g["id"], g["netns"], msg), flush=True)
    libc.setns(home, CLONE_NEWNET)
announce_all(done)
