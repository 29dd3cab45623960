# labnet's netlink helpers: hostnet puts this file before inside.py and
# observe.py (each runs as one `python3 -I -S -c`), so both speak netlink
# the same way without a module to install on the host.
import ctypes, json, os, socket, struct, sys

libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNET = 0x40000000
NLM_F_REQUEST, NLM_F_ACK, NLM_F_REPLACE, NLM_F_CREATE, NLM_F_DUMP = 1, 4, 0x100, 0x400, 0x300
RTM_NEWLINK, RTM_GETLINK, RTM_NEWADDR, RTM_DELADDR, RTM_GETADDR = 16, 18, 20, 21, 22
RTM_NEWROUTE, RTM_GETROUTE = 24, 26
NLMSG_ERROR, NLMSG_DONE = 2, 3


class Fail(Exception):
    pass


def attr(ty, data):
    """One attribute, padded to 4 bytes."""
    return struct.pack("HH", 4 + len(data), ty) + data + b"\0" * ((4 - len(data) % 4) % 4)


def attrs(buf, off, end):
    """The attributes in buf[off:end] by type (nested flag bits dropped)."""
    out = {}
    while off + 4 <= end:
        ln, ty = struct.unpack_from("HH", buf, off)
        if ln < 4:
            break
        out[ty & 0x3fff] = buf[off + 4:off + ln]
        off += (ln + 3) & ~3
    return out


class Netlink:
    """A NETLINK_ROUTE socket of the namespace the thread is in when made."""

    def __init__(self):
        self.sk = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)
        self.seq = 0

    def call(self, ty, flags, body, what):
        """Sends one request; returns the messages of a dump, or raises Fail."""
        self.seq += 1
        self.sk.send(struct.pack("IHHII", 16 + len(body), ty, NLM_F_REQUEST | flags, self.seq, 0) + body)
        msgs = []
        while True:
            data = self.sk.recv(1 << 16)  # a dump skb is at most 32 KiB
            off = 0
            while off + 16 <= len(data):
                ln, mty, _, seq, _ = struct.unpack_from("IHHII", data, off)
                if seq == self.seq:
                    if mty == NLMSG_ERROR:
                        err = struct.unpack_from("i", data, off + 16)[0]
                        if err:
                            raise Fail("%s: %s" % (what, os.strerror(-err)))
                        return msgs
                    if mty == NLMSG_DONE:
                        return msgs
                    msgs.append(data[off + 16:off + ln])
                off += (ln + 3) & ~3

    def close(self):
        self.sk.close()


class Announcer:
    """Sends gratuitous ARPs (a request for ip from ip, to everyone), as
    `arping -U` does: peers whose entry for ip names an old MAC take the
    new one at once, and a switch that forgot the MAC learns it (a remade
    guest otherwise sends nothing until someone asks). One packet socket
    for all, bound to no protocol: closing a socket that receives costs a
    synchronize_net() (~10 ms each)."""

    def __init__(self):
        self.sk = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)

    def send(self, ifname, ip, mac=None):
        """Out of ifname, from mac (default: ifname's own)."""
        if mac:
            src = bytes.fromhex(mac.replace(":", ""))
        else:  # SIOCGIFHWADDR (no /sys: a host's /sys may be the machine's)
            import fcntl
            src = fcntl.ioctl(self.sk.fileno(), 0x8927, struct.pack("256s", ifname.encode()[:15]))[18:24]
        spa = socket.inet_aton(ip)
        arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, src, spa, b"\0" * 6, spa)
        self.sk.sendto(b"\xff" * 6 + src + struct.pack("!H", 0x0806) + arp, (ifname, 0x0806))

    def close(self):
        self.sk.close()
