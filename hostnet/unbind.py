# labnet's namespace-file unbinder: one process per host per stage lets go
# of the mount and UTS namespaces of every container deleted there
# (umount2 detach, unlink: what `ip netns del` does for a network
# namespace). umount(8) reads the whole mount table, three lines per
# container on the host, for each file: removing 300 containers took
# seconds that way.
#
# stdin: one JSON object per container, {"id": ID, "files": [...], "dir":
# the lab's isolation dir}. A file that is not mounted or is gone is no
# error. The dir, a tmpfs of its own, is unmounted and removed when no
# namespace file is left in it. For a container that fails it prints
# "@@fail ID" and "@@err ID <message>"; nothing for one that succeeds.
import ctypes, errno, json, os, sys

libc = ctypes.CDLL(None, use_errno=True)
MNT_DETACH = 2


def umount(path, flags):
    if libc.umount2(path.encode(), flags) != 0:
        e = ctypes.get_errno()
        if e not in (errno.EINVAL, errno.ENOENT):  # not a mount point, gone
            raise OSError(e, os.strerror(e), path)


for line in sys.stdin:
    if not line.strip():
        continue
    r = json.loads(line)
    try:
        for f in r["files"]:
            umount(f, MNT_DETACH)
            try:
                os.unlink(f)
            except FileNotFoundError:
                pass
        d = r.get("dir")
        try:
            left = [n for n in os.listdir(d) if not n.startswith(".")] if d else ["-"]
        except FileNotFoundError:
            left = ["-"]
        if not left:
            umount(d, 0)
            os.rmdir(d)
    except OSError as e:
        print("@@fail %d" % r["id"])
        print("@@err %d %s" % (r["id"], e))
sys.stdout.flush()
