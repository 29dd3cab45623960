# Containers' own mount and UTS namespaces (hostnet.IsoStep; hostnet puts
# this file between netlink.py and inside.py, whose process runs it for
# every guest that has one): made or repaired in this one process, which
# enters namespaces and comes back (setns) instead of starting
# nsenter/unshare/sh/mount per container. Why each thing is done is said
# at hostnet.IsoStep.
import binascii, errno

CLONE_NEWNS, CLONE_NEWUTS = 0x00020000, 0x04000000
MS_BIND, MS_REC, MS_PRIVATE, MNT_DETACH = 0x1000, 0x4000, 0x40000, 2
libc.mount.argtypes = (ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p)
libc.umount2.argtypes = (ctypes.c_char_p, ctypes.c_int)
libc.sethostname.argtypes = (ctypes.c_char_p, ctypes.c_size_t)


def _b(s):
    return None if s is None else s.encode()


def _errno(what):
    e = ctypes.get_errno()
    return Fail("%s: %s" % (what, os.strerror(e)))


def mount(src, target, fstype, flags=0, data=None, what=None):
    if libc.mount(_b(src), _b(target), _b(fstype), flags, _b(data)) != 0:
        raise _errno(what or "mount %s on %s" % (fstype or src, target))


def umount(target, flags):
    """umount2, an unmounted or missing target being no error."""
    return libc.umount2(_b(target), flags) == 0


def setns(fd, kind, what):
    if libc.setns(fd, kind) != 0:
        raise _errno(what)


def mounted(d):
    """Whether something is mounted on directory d (as mountpoint -q)."""
    try:
        a, b = os.stat(d), os.stat(d + "/..")
    except OSError:
        return False
    return a.st_dev != b.st_dev or a.st_ino == b.st_ino


class Iso:
    """Makes and repairs containers' namespaces; it holds the host's own
    mount and UTS namespaces, to come back to."""

    def __init__(self):
        self.mnt = os.open("/proc/self/ns/mnt", os.O_RDONLY)
        self.uts = os.open("/proc/self/ns/uts", os.O_RDONLY)
        self.noted = False  # the isolation dir's .cpu has been read
        self.templates = {}  # by isolation dir: see template

    def template(self, d):
        """A mount namespace that every container's is copied from: the
        host's, private, without the host's namespace files (/run/netns
        and the isolation dir d), which a copy would keep alive after their
        guests are deleted. Copied from the host's instead, every new view
        copied them all (three mounts a container) only to let go of them:
        quadratic, 155 ms for 300 containers against 21."""
        if d not in self.templates:
            if libc.unshare(CLONE_NEWNS) != 0:
                raise _errno("unshare")
            try:
                mount(None, "/", None, MS_REC | MS_PRIVATE, what="make / private")
                umount("/run/netns", MNT_DETACH)
                umount(d, MNT_DETACH)
                # Every view mounts its own sysfs on /sys, over the host's
                # sysfs and its cgroup mounts, which it can never see: not
                # copied, they cost nothing to copy and to tear down (a
                # dozen of a view's ~30 mounts here).
                for _ in range(8):
                    if not umount("/sys", MNT_DETACH):
                        break
                self.templates[d] = os.open("/proc/self/ns/mnt", os.O_RDONLY)
            finally:
                self.home()
        return self.templates[d]

    def home(self):
        setns(self.mnt, CLONE_NEWNS, "setns back to the host's mount namespace")
        setns(self.uts, CLONE_NEWUTS, "setns back to the host's UTS namespace")

    @staticmethod
    def pin(cpu):
        """Moves this process to cpu, for the rest of its life (every
        namespace it makes is made there); False if it may not run there."""
        try:
            os.sched_setaffinity(0, {cpu})
        except OSError:
            return False
        return True

    def run(self, s, netns):
        fd = os.open("/run/netns/" + netns, os.O_RDONLY)
        try:
            setns(fd, CLONE_NEWNET, "setns into " + netns)
        finally:
            os.close(fd)
        if s.get("make"):
            self.make(s)
        else:
            self.repair(s)

    def make(self, s):
        d = s["dir"]
        if not os.path.exists(d + "/.labnet"):  # there only while the tmpfs is
            os.makedirs(d, exist_ok=True)
            mount("labnet", d, "tmpfs", 0, "mode=0700,size=64k")
            mount(None, d, None, MS_PRIVATE, what="make %s private" % d)
            os.close(os.open(d + "/.labnet", os.O_CREAT | os.O_WRONLY, 0o600))
        for f in (s["mnt"], s["uts"]):
            os.close(os.open(f, os.O_CREAT | os.O_RDONLY, 0o644))
        if not self.noted:
            self.noted = True
            try:
                with open(d + "/.cpu") as f:
                    self.pin(int(f.read()))
            except (OSError, ValueError):
                pass
        if self.make_here(s):
            return
        # Every CPU, not only those this process was started on (as taskset
        # would): the host's may be another.
        for cpu in range(os.cpu_count() or 1):
            if self.pin(cpu) and self.make_here(s):
                with open(d + "/.cpu", "w") as f:
                    f.write("%d\n" % cpu)
                return
        raise Fail("cannot bind a new mount namespace on %s from any CPU" % s["mnt"])

    def make_here(self, s):
        """Makes the namespaces on this CPU, sets them up and binds them;
        False when the kernel refuses the mount namespace's bind (EINVAL:
        it numbers below the host's)."""
        setns(self.template(s["dir"]), CLONE_NEWNS, "setns into the template mount namespace")
        try:
            if libc.unshare(CLONE_NEWNS | CLONE_NEWUTS) != 0:
                raise _errno("unshare")
            self.setup(s)
            mnt = os.open("/proc/self/ns/mnt", os.O_RDONLY)
            uts = os.open("/proc/self/ns/uts", os.O_RDONLY)
        finally:
            self.home()
        try:
            if libc.mount(b"/proc/self/fd/%d" % mnt, _b(s["mnt"]), None, MS_BIND, None) != 0:
                if ctypes.get_errno() == errno.EINVAL:
                    return False
                raise _errno("bind the mount namespace on " + s["mnt"])
            mount("/proc/self/fd/%d" % uts, s["uts"], None, MS_BIND, what="bind the UTS namespace on " + s["uts"])
        finally:
            os.close(mnt)
            os.close(uts)
        return True

    def repair(self, s):
        # Both opened first: the container's view does not show the files.
        enter = [(s["mnt"], CLONE_NEWNS)] + ([(s["uts"], CLONE_NEWUTS)] if s.get("hostname") else [])
        fds = []
        try:
            for path, kind in enter:
                fds.append((os.open(path, os.O_RDONLY), path, kind))
            for fd, path, kind in fds:
                setns(fd, kind, "setns into " + path)
            self.setup(s)
            for p in s.get("rm") or []:
                try:
                    os.unlink(p)
                except FileNotFoundError:
                    pass
        finally:
            self.home()
            for fd, _, _ in fds:
                os.close(fd)

    def setup(self, s):
        """In the container's namespaces: what s asks for."""
        if s.get("hostname"):
            h = s["hostname"].encode()
            if libc.sethostname(h, len(h)) != 0:
                raise _errno("sethostname " + s["hostname"])
        if s.get("hosts") and os.path.exists("/etc/hosts"):
            d = s["dir"]
            if not mounted(d):
                mount("labnet", d, "tmpfs", 0, "mode=0755,size=1m")
            if not s.get("make"):
                umount("/etc/hosts", 0)  # the one a repair replaces (a new view has the host's)
            with open("/etc/hosts", "rb") as f:
                text = f.read()
            if text and not text.endswith(b"\n"):
                text += b"\n"
            with open(d + "/hosts", "wb") as f:
                f.write(text + b"127.0.1.1\t" + s["hosts"].encode() + b"\n")
            mount(d + "/hosts", "/etc/hosts", None, MS_BIND, what="bind /etc/hosts")
        if s.get("sys"):
            if not s.get("make"):
                umount("/sys", MNT_DETACH)  # labnet's, if there: sysfs is not mounted twice
            mount("labnet", "/sys", "sysfs")
        for d in s.get("mount") or []:
            if s.get("mount_if_none") and mounted(d):
                continue
            os.makedirs(d, exist_ok=True)
            mount("labnet", d, "tmpfs", 0, "mode=0755")
        for f in s.get("files") or []:
            write_file(f)


def write_file(f):
    """Writes it next to its path, then moves it in place over whatever has
    the path (a directory made there by hand included)."""
    p = f["path"]
    if not mounted(f["dir"]):
        raise Fail("private dir %s is not mounted" % f["dir"])
    os.makedirs(os.path.dirname(p), exist_ok=True)
    new = p + ".labnet-new"
    with open(new, "wb") as out:
        out.write(binascii.a2b_base64(f.get("content") or ""))
    os.chmod(new, int(f["mode"], 8))
    if os.path.lexists(p) and not os.path.isfile(p):
        if os.path.isdir(p) and not os.path.islink(p):
            import shutil
            shutil.rmtree(p)
        else:
            os.unlink(p)
    os.rename(new, p)
