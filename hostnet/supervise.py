# labnet's supervisor of one image container (hostnet/runc.go).
#
# runc's detached mode leaves a container's init without a parent that
# waits for it: its exit status is lost, and runc's state only says
# "stopped". This program starts the container with `runc run -d` as a
# child subreaper (as containerd's shim and conmon do), so the init becomes
# its child when runc exits; it waits for it and records in the bundle how
# it ended, "exit N" or "signal N", for refresh to judge.
#
# argv: BUNDLE ID LOG. The first process reports "started PID" (exit 0) or
# "failed N" (runc's exit code, exit 1) on stdout and exits; the supervisor
# is its child, in a session of its own, with no stdio, so it survives the
# SSH session (and labnet) that started it. It writes BUNDLE/supervisor
# ("PID STARTTIME", read back by refresh) before it starts anything, and
# BUNDLE/exit when the container's init ends.
import ctypes
import os
import sys


def put(path, text):
    # Written whole, then renamed: a reader never sees half of it.
    with open(path + ".tmp", "w") as f:
        f.write(text + "\n")
    os.rename(path + ".tmp", path)


def starttime(pid):
    with open("/proc/%d/stat" % pid) as f:
        return f.read().rsplit(")", 1)[1].split()[19]


def describe(status):
    if os.WIFSIGNALED(status):
        return "signal %d" % os.WTERMSIG(status)
    return "exit %d" % os.WEXITSTATUS(status)


def main():
    bundle, cid, log = sys.argv[1:4]
    r, w = os.pipe()
    if os.fork():
        os.close(w)
        got = b""
        while True:
            b = os.read(r, 512)
            if not b:
                break
            got += b
        sys.stdout.write(got.decode() or "failed: the supervisor died\n")
        sys.exit(0 if got.startswith(b"started ") else 1)
    os.close(r)
    os.setsid()
    null = os.open("/dev/null", os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    # PR_SET_CHILD_SUBREAPER: orphaned descendants (the container's init,
    # once runc exits) become this process's children.
    if ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0) != 0:
        os.write(w, b"failed: prctl(PR_SET_CHILD_SUBREAPER): errno %d\n" % ctypes.get_errno())
        sys.exit(1)
    for f in ("exit", "pid"):
        try:
            os.unlink(os.path.join(bundle, f))
        except FileNotFoundError:
            pass
    me = os.getpid()
    put(os.path.join(bundle, "supervisor"), "%d %s" % (me, starttime(me)))
    out = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    runc = os.fork()
    if runc == 0:
        os.dup2(out, 1)
        os.dup2(out, 2)
        os.closerange(3, 1 << 16)
        os.chdir("/")
        try:
            os.execvp("runc", ["runc", "run", "-d", "--pid-file", os.path.join(bundle, "pid"), "-b", bundle, cid])
        finally:
            os._exit(127)
    os.close(out)
    ended = {}  # children reaped before the init's pid was known
    while True:
        pid, status = os.wait()
        if pid == runc:
            break
        ended[pid] = status
    if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
        os.write(w, b"failed %s\n" % describe(status).encode())
        sys.exit(1)
    with open(os.path.join(bundle, "pid")) as f:
        init = int(f.read().strip())
    os.write(w, b"started %d\n" % init)
    os.close(w)
    status = ended.get(init)
    while status is None:
        try:
            pid, st = os.wait()
        except ChildProcessError:
            # Not our child after all (runc's init was not reparented
            # here): nothing can be recorded.
            return
        if pid == init:
            status = st
    put(os.path.join(bundle, "exit"), describe(status))


main()
