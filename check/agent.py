# labnet's check agent: one per host per `labnet test`, started over one SSH
# session. It reads JSON requests on stdin, one per line, and answers with
# JSON events on stdout, each tagged with its request's id. Every request
# runs in a thread of its own that first joins the node's network namespace
# (setns affects only the calling thread), so a socket it makes lives in
# that namespace: probes cost a thread, not a process. EOF on stdin (labnet
# is done, or its connection died) ends the agent and everything it runs.
#
# requests                                             events
#   {"op":"ping","addr","timeout"}                       ok | fail(msg)
#   {"op":"exec","cmd","timeout"}                        exit(code, out)
#   {"op":"listen","proto","port","token","wait"}        ready | error(msg), then peer(addr, port) | nothing
#   {"op":"connect","proto","addr","port","token","timeout"}  ok | fail(msg)
#   {"op":"stop","of":id}                                the listener `of` says nothing, if it has not heard
# plus "netns" (empty: the host's own namespace) on all but stop.
import ctypes, json, os, select, socket, struct, sys, threading, time

libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNET = 0x40000000
out_lock = threading.Lock()
stops = {}  # listener id -> threading.Event


def emit(rid, event, **kw):
    kw["id"], kw["event"] = rid, event
    line = json.dumps(kw) + "\n"
    with out_lock:
        sys.stdout.write(line)
        sys.stdout.flush()


def enter(netns):
    if not netns:
        return
    fd = os.open("/run/netns/" + netns, os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            e = ctypes.get_errno()
            raise OSError(e, "setns %s: %s" % (netns, os.strerror(e)))
    finally:
        os.close(fd)


def checksum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def ping(rid, r):
    # An ICMP echo every second until the first reply or the timeout, as
    # `ping -c 1 -w timeout` does: one lost packet (500 guests resolving
    # their gateway at once flood the bridge with ARP) is not an
    # unreachable address, and an unreachable one never answers.
    dst, start = r["addr"], time.monotonic()
    end = start + r["timeout"]
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    ident, seq = (os.getpid() ^ rid) & 0xFFFF, 0
    body = b"labnet" + struct.pack("!d", time.time())
    sent, err = 0, None

    def send():
        nonlocal seq, sent, err
        seq += 1
        hdr = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
        try:
            s.sendto(struct.pack("!BBHHH", 8, 0, checksum(hdr + body), ident, seq) + body, (dst, 0))
            sent += 1
        except OSError as e:
            err = e

    send()
    if err is not None:
        emit(rid, "fail", msg="ping %s: %s" % (dst, err.strerror or err))
        return
    while True:
        now = time.monotonic()
        if now >= end:
            why = " (last: %s)" % (err.strerror or err) if err is not None else ""
            emit(rid, "fail", msg="no echo reply from %s within %gs (%d echo requests)%s" % (dst, r["timeout"], sent, why))
            return
        if now >= start + seq:
            send()
            continue
        if not select.select([s], [], [], min(end, start + seq) - now)[0]:
            continue
        data, src = s.recvfrom(2048)
        ihl = (data[0] & 0x0F) * 4
        if len(data) < ihl + 8 or src[0] != dst:
            continue
        typ, _, _, rid_, rseq = struct.unpack("!BBHHH", data[ihl:ihl + 8])
        if typ == 0 and rid_ == ident and 1 <= rseq <= seq:
            emit(rid, "ok")
            return


def run_exec(rid, r):
    import subprocess  # only exec checks need it; the agent starts faster without
    argv = ["sh", "-c", r["cmd"]]
    if r.get("mnt"):
        # A container with mount and UTS namespaces of its own: the
        # command sees its files and hostname, as its processes do.
        argv = ["nsenter", "--net=/run/netns/" + r["netns"], "--mount=" + r["mnt"], "--uts=" + r["uts"], "--"] + argv
    elif r.get("netns"):
        # ip netns exec also gives the command the namespace's /sys and
        # /etc/netns files, as a process of the node would see them.
        argv = ["ip", "netns", "exec", r["netns"]] + argv
    try:
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=r["timeout"])
        emit(rid, "exit", code=p.returncode, out=p.stdout.decode(errors="replace")[-65536:])  # expect_output matches within it
    except subprocess.TimeoutExpired:
        emit(rid, "exit", code=-1, out="timed out after %gs" % r["timeout"])


def listen(rid, r):
    # Answers only the client that sends this check's token: checks run in
    # parallel, and another check's client may knock on the same address
    # and port. Anyone else is hung up on.
    tcp = r["proto"] == "tcp"
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM if tcp else socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("0.0.0.0", r["port"]))
        if tcp:
            s.listen(64)
    except OSError as e:
        emit(rid, "error", msg="cannot listen on %s/%d: %s" % (r["proto"], r["port"], e.strerror or e))
        return
    token, stop = r["token"].encode(), stops.setdefault(rid, threading.Event())
    emit(rid, "ready")
    end, heard = time.monotonic() + r["wait"], None
    try:
        while heard is None and not stop.is_set() and time.monotonic() < end:
            if not select.select([s], [], [], 0.05)[0]:
                continue
            if tcp:
                c, a = s.accept()
                c.settimeout(2)
                try:
                    got = c.recv(64).strip()
                except OSError:
                    got = b""
                if got == token:
                    c.sendall(b"labnet\n")
                    heard = a
                c.close()
            else:
                d, a = s.recvfrom(2048)
                if d.strip() == token:
                    s.sendto(b"labnet\n", a)
                    heard = a
    finally:
        s.close()  # before the answer: whoever hears it may reuse the port
    if heard:
        emit(rid, "peer", addr=heard[0], port=heard[1])
    else:
        emit(rid, "nothing")


def connect(rid, r):
    token = r["token"].encode() + b"\n"
    try:
        if r["proto"] == "tcp":
            s = socket.create_connection((r["addr"], r["port"]), timeout=r["timeout"])
            s.settimeout(r["timeout"])
            s.sendall(token)
            if not s.recv(64):
                raise OSError("connection closed by the server")
        else:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.settimeout(r["timeout"])
            s.sendto(token, (r["addr"], r["port"]))
            s.recvfrom(64)
        s.close()
        emit(rid, "ok")
    except socket.timeout:
        emit(rid, "fail", msg="timed out")
    except OSError as e:
        emit(rid, "fail", msg=str(e.strerror or e))


OPS = {"ping": ping, "exec": run_exec, "listen": listen, "connect": connect}


def serve(r):
    rid = r["id"]
    try:
        enter(r.get("netns", ""))
        OPS[r["op"]](rid, r)
    except Exception as e:
        emit(rid, "error", msg=str(e))


for line in sys.stdin:
    r = json.loads(line)
    if r["op"] == "stop":
        stops.setdefault(r["of"], threading.Event()).set()
        continue
    threading.Thread(target=serve, args=(r,), daemon=True).start()

# EOF: end now. A daemon thread may still be writing an event; exiting
# through the interpreter's shutdown then aborts ("could not acquire lock
# for stdout", seen with Debian's python3.11), so take the lock, flush and
# leave without finalization.
with out_lock:
    sys.stdout.flush()
    os._exit(0)
