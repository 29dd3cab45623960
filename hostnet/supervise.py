# labnet's supervisor of one image container (hostnet/runc.go).
#
# runc's detached mode leaves a container's init without a parent that
# waits for it: its exit status is lost, and runc's state only says
# "stopped". This program starts the container with `runc run -d` as a
# child subreaper (as containerd's shim and conmon do), so the init becomes
# its child when runc exits; it waits for it and records in the bundle how
# it ended, "exit N" or "signal N", for refresh to judge.
#
# argv: BUNDLE ID LOG. Started in the background with no stdio, it leaves
# the session it was started from (so it outlives the SSH session, and
# labnet) and writes in BUNDLE:
#   supervisor  "PID STARTTIME", before anything else (refresh reads it
#               back to tell whether it still runs);
#   started     "started PID" once runc has started the container, or
#               "failed HOW" when runc failed (its message is in LOG);
#   exit        how the container's init ended.
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
    at = lambda f: os.path.join(bundle, f)
    os.setsid()
    me = os.getpid()
    put(at("supervisor"), "%d %s" % (me, starttime(me)))
    # PR_SET_CHILD_SUBREAPER: orphaned descendants (the container's init,
    # once runc exits) become this process's children.
    if ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0) != 0:
        put(at("started"), "failed: prctl(PR_SET_CHILD_SUBREAPER): errno %d" % ctypes.get_errno())
        return
    out = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    runc = os.fork()
    if runc == 0:
        os.dup2(out, 1)
        os.dup2(out, 2)
        os.chdir("/")
        try:
            os.execvp("runc", ["runc", "run", "-d", "--pid-file", at("pid"), "-b", bundle, cid])
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
        put(at("started"), "failed: runc run: " + describe(status))
        return
    with open(at("pid")) as f:
        init = int(f.read().strip())
    put(at("started"), "started %d" % init)
    status = ended.get(init)
    while status is None:
        try:
            pid, st = os.wait()
        except ChildProcessError:
            # Not our child after all: nothing can be recorded.
            return
        if pid == init:
            status = st
    put(at("exit"), describe(status))


main()
