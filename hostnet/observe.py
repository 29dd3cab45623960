# labnet's refresh reader (hostnet/observe.go, ObserveScript): one
# process reads a host over netlink, entering each namespace with setns(2).
#
# argv[1]: the prefix of the lab's namespaces; argv[2]: the ones to read
# inside (space-separated); argv[3]: the host links to print ("*": all).
# Prints "@@links" and those host links with their IPv4 addresses as one
# JSON array in `ip -j`'s shape (the fields labnet reads); then "@@ns NAME"
# for every lab namespace, followed, for those read inside, by its links and
# its default routes as two JSON arrays; and "@@tc NAME" with eth0's qdisc
# where it is tbf or netem.
# With argv[4] "iso", stdin lists containers' mount and UTS namespaces to
# read, one JSON object a line ({"mnt", "uts", "name", "dirs", "files"}): for each,
# "@@iso MNT" and one JSON object with what is there (read_iso).
# (hostnet/netlink.py comes first: Netlink, attrs, the constants.)
prefix, inside = sys.argv[1], set(sys.argv[2].split())
wanted = None if sys.argv[3] == "*" else set(sys.argv[3].split())


def dump(nl, ty, body):
    try:
        return nl.call(ty, NLM_F_DUMP, body, "")
    except Fail:
        return []  # seen as empty, as an unreadable namespace is


def s(b):
    return b.split(b"\0", 1)[0].decode()

def read():
    nl = Netlink()
    links, names = [], {}
    for m in dump(nl, RTM_GETLINK, struct.pack("BxHiII", 0, 0, 0, 0, 0)):
        _, _, idx, flags, _ = struct.unpack_from("BxHiII", m, 0)
        a = attrs(m, 16, len(m))
        l = {"ifindex": idx, "ifname": s(a.get(3, b"")), "flags": ["UP"] if flags & 1 else [], "addr_info": []}
        if 20 in a: l["ifalias"] = s(a[20])
        if 6 in a: l["qdisc"] = s(a[6])
        if 4 in a: l["mtu"] = struct.unpack("I", a[4][:4])[0]
        if 1 in a and len(a[1]) == 6: l["address"] = ":".join("%02x" % c for c in a[1])
        if 10 in a: l["_master"] = struct.unpack("i", a[10][:4])[0]
        if 5 in a: l["link_index"] = struct.unpack("i", a[5][:4])[0]  # a veth's peer
        if 18 in a:
            li = attrs(a[18], 0, len(a[18]))
            if 1 in li: l["linkinfo"] = {"info_kind": s(li[1])}
            if 1 in li and s(li[1]) == "vxlan" and 2 in li:
                # IFLA_VXLAN_ID 1, _GROUP 2 (the remote), _LOCAL 4, _LEARNING 7,
                # _PORT 15 (big endian)
                d = attrs(li[2], 0, len(li[2]))
                l["linkinfo"]["info_data"] = {
                    "id": struct.unpack("I", d[1][:4])[0] if 1 in d else 0,
                    "local": socket.inet_ntoa(d[4][:4]) if 4 in d else "",
                    "remote": socket.inet_ntoa(d[2][:4]) if 2 in d else "",
                    "port": struct.unpack("!H", d[15][:2])[0] if 15 in d else 0,
                    "learning": bool(d[7][0]) if 7 in d else False}
        names[idx] = l["ifname"]
        links.append(l)
    byidx = {l["ifindex"]: l for l in links}
    for m in dump(nl, RTM_GETADDR, struct.pack("BBBBI", socket.AF_INET, 0, 0, 0, 0)):
        fam, plen, _, _, idx = struct.unpack_from("BBBBI", m, 0)
        a = attrs(m, 8, len(m))
        ip = a.get(2) or a.get(1)
        if fam == socket.AF_INET and ip and idx in byidx:
            byidx[idx]["addr_info"].append({"family": "inet", "local": socket.inet_ntoa(ip[:4]), "prefixlen": plen})
    for l in links:
        if "_master" in l:
            l["master"] = names.get(l.pop("_master"), "")
    routes = []
    for m in dump(nl, RTM_GETROUTE, struct.pack("BBBBBBBBI", socket.AF_INET, 0, 0, 0, 0, 0, 0, 0, 0)):
        fam, dlen, _, _, table, _, _, rtype, _ = struct.unpack_from("BBBBBBBBI", m, 0)
        a = attrs(m, 12, len(m))
        if 15 in a: table = struct.unpack("I", a[15][:4])[0]
        if table != 254 or rtype != 1 or dlen != 0 or 5 not in a:
            continue
        r = {"dst": "default", "gateway": socket.inet_ntoa(a[5][:4])}
        if 4 in a: r["dev"] = names.get(struct.unpack("i", a[4][:4])[0], "")
        routes.append(r)
    nl.close()
    return links, routes

out = sys.stdout
try:
    names = sorted(n for n in os.listdir("/run/netns") if n.startswith(prefix))
except OSError:
    names = []
links, _ = read()
out.write("@@links\n" + json.dumps([l for l in links if wanted is None or l["ifname"] in wanted]) + "\n")
if inside:
    orig = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
for name in names:
    if name not in inside:
        out.write("@@ns %s\n" % name)
        continue
    try:
        fd = os.open("/run/netns/" + name, os.O_RDONLY)
    except OSError:
        continue
    ok = libc.setns(fd, CLONE_NEWNET) == 0
    os.close(fd)
    out.write("@@ns %s\n" % name)
    if not ok:
        continue  # not a namespace (left by a crash): seen as empty
    links, routes = read()
    libc.setns(orig, CLONE_NEWNET)
    out.write(json.dumps(links) + "\n" + json.dumps(routes) + "\n")
    for l in links:
        if l.get("qdisc") not in ("tbf", "netem"):
            continue
        # eth0's as "@@tc NS" (a guest's shaping), another's (a link's end)
        # as "@@tc NS DEV".
        dev = l["ifname"]
        out.write("@@tc %s\n" % name if dev == "eth0" else "@@tc %s %s\n" % (name, dev))
        out.flush()
        import subprocess
        subprocess.call(["tc", "-j", "-n", name, "qdisc", "show", "dev", dev])
        out.write("\n")
CLONE_NEWNS, CLONE_NEWUTS = 0x00020000, 0x04000000


def mounts():
    """Mount point -> (fstype, source) of this mount namespace, the topmost
    mount of each point winning (mountinfo lists later mounts later)."""
    out = {}
    with open("/proc/self/mountinfo") as f:
        for line in f:
            pre, _, post = line.partition(" - ")
            point, post = pre.split()[4], post.split()
            out[point.replace("\\040", " ")] = (post[0], post[1] if len(post) > 1 else "")
    return out


def read_iso(r, home_mnt, home_uts):
    """What is in one container's namespaces: whether each file holds its
    namespace, the hostname and whether its /etc/hosts has it, eth0's MAC
    as its /sys shows it, which private dirs are labnet's tmpfs, and each
    file's digest and mode."""
    res = {"mnt": False, "uts": False}
    try:
        fd = os.open(r["uts"], os.O_RDONLY)
        if libc.setns(fd, CLONE_NEWUTS) == 0:  # fails on a file no namespace is bound on
            res["uts"], res["hostname"] = True, os.uname().nodename
            libc.setns(home_uts, CLONE_NEWUTS)
        os.close(fd)
    except OSError:
        pass
    try:
        fd = os.open(r["mnt"], os.O_RDONLY)
    except OSError:
        return res
    entered = libc.setns(fd, CLONE_NEWNS) == 0
    os.close(fd)
    if not entered:
        return res
    try:
        res["mnt"] = True
        m = mounts()
        res["tmpfs"] = [d for d in r.get("dirs") or [] if m.get(os.path.realpath(d)) == ("tmpfs", "labnet")]
        res["hosts"] = False
        try:
            with open("/etc/hosts") as f:
                res["hosts"] = any(r.get("name") in line.split("#")[0].split()[1:] for line in f)
        except FileNotFoundError:
            # A machine without /etc/hosts (a minimal Debian): the setup
            # binds none over it (it has nothing to add the name to), and
            # there is nothing to judge.
            res["hosts"] = True
        except OSError:
            pass
        try:
            with open("/sys/class/net/eth0/address") as f:
                res["sysmac"] = f.read().strip()
        except OSError:
            res["sysmac"] = ""
        files = {}
        for p in r.get("files") or []:
            try:
                st = os.lstat(p)
                digest = ""
                if stat.S_ISREG(st.st_mode):
                    with open(p, "rb") as f:
                        digest = hashlib.sha256(f.read()).hexdigest()
                files[p] = {"sha256": digest, "mode": st.st_mode & 0o7777}
            except OSError:
                pass  # missing
        res["files"] = files
    finally:
        libc.setns(home_mnt, CLONE_NEWNS)
    return res


if len(sys.argv) > 4 and sys.argv[4] == "iso":
    import hashlib, stat
    home_mnt = os.open("/proc/self/ns/mnt", os.O_RDONLY)
    home_uts = os.open("/proc/self/ns/uts", os.O_RDONLY)
    for line in sys.stdin:
        if line.strip():
            r = json.loads(line)
            try:
                res = read_iso(r, home_mnt, home_uts)
            except Exception:
                # Unreadable (a private dir mounted by hand on /proc, say):
                # seen as missing, so the plan remakes it, rather than
                # failing the read of the whole host.
                res = {"mnt": False, "uts": False}
            out.write("@@iso %s\n%s\n" % (r["mnt"], json.dumps(res)))
out.flush()
