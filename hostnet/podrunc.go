package hostnet

import (
	"fmt"

	"github.com/labnet-dev/labnet/remote"
)

// A pod's image containers (kinds/podcontainer.go) are runc containers
// (RuncContainer) that join the pod's network namespace and a UTS
// namespace of the pod's, bound on a file of the lab's isolation dir
// (PodUTSNS), whose hostname is the pod's name: as in a Kubernetes pod,
// they reach each other on localhost and share a hostname, while each has
// its own root, mounts, PIDs and IPC. The first of them to start makes the
// UTS namespace (PodUTSShell); the last to go lets go of it
// (PodUTSReleaseShell).

// PodUTSNS is the file the UTS namespace of the pod named pod is bound on;
// ".pod" keeps it apart from a container's (names have no dots).
func (n Names) PodUTSNS(pod string) string { return n.IsoDir() + "/" + pod + ".pod.uts" }

// RuncDir holds the bundles of the lab's image containers (Bundle).
func (n Names) RuncDir() string { return n.RunDir() + "/runc" }

// podUTSCreate makes the UTS namespace bound on $1 unless one is (a file
// no namespace is bound on cannot be entered) and gives it the hostname
// $2. A failed bind leaves no file behind.
const podUTSCreate = `nsenter --uts="$1" true 2>/dev/null || { : >"$1" && unshare --uts="$1" true; } || { umount "$1" 2>/dev/null; rm -f "$1"; exit 1; }
[ "$(nsenter --uts="$1" hostname)" = "$2" ] || nsenter --uts="$1" hostname "$2"`

// PodUTSShell makes the pod's UTS namespace, bound on file, with its
// hostname, unless it is there with that hostname already: a container of
// the pod joins it (RuncContainer.UTSNS), so it runs before the container
// starts, and again to repair the hostname.
func PodUTSShell(n Names, file, hostname string) string {
	return isoDirShell(n) + " &&\n" + remote.Join("sh", "-c", podUTSCreate, "labnet-uts", file, hostname)
}

// podUTSRelease lets go of the UTS namespace bound on $1 when no bundle in
// $2 joins it any more (their config.json names the file), of $2 when it
// is empty, and of the lab's isolation dir $3 when no namespace file is
// left in it (as unbind.py does).
const podUTSRelease = `for c in "$2"/*/config.json; do grep -qsF "\"$1\"" "$c" && exit 0; done
umount "$1" 2>/dev/null; rm -f "$1"; rmdir "$2" 2>/dev/null
cd "$3" 2>/dev/null || exit 0
for f in *; do [ -e "$f" ] && exit 0; done
cd / && umount "$3" && rmdir "$3"`

// PodUTSReleaseShell runs after a pod's container is deleted (its bundle
// removed): the pod's UTS namespace goes with its last container.
func PodUTSReleaseShell(n Names, file string) string {
	return remote.Join("sh", "-c", podUTSRelease, "labnet-uts", file, n.RuncDir(), n.IsoDir())
}

// PodUTSRead is what refresh reads of a pod's UTS namespace: observe.py's
// reader of a container's namespaces, keyed by the UTS file (it holds no
// mount namespace, so only the UTS part is read: whether the file holds a
// namespace, and its hostname).
func PodUTSRead(file, hostname string) IsoRead {
	return IsoRead{MountNS: file, UTSNS: file, Hostname: hostname}
}

// PodUTSDrift compares what refresh read of a pod's UTS namespace with
// what PodUTSShell makes. Without it the container is remade (it runs in
// the namespace it joined, which nothing names any more); a hostname is
// set again in place.
func PodUTSDrift(k *Observed, file, hostname string) (drift []string, unrepairable bool) {
	seen := k.Iso[file]
	if seen == nil || !seen.UTS {
		return []string{"uts namespace " + file + " is missing"}, true
	}
	if seen.Hostname != hostname {
		drift = append(drift, fmt.Sprintf("hostname is %q, wants %q", seen.Hostname, hostname))
	}
	return drift, false
}

// RuncStopShell kills a runc container's processes (labnet fault ... stop):
// it stays, stopped, which refresh reads as drift.
func RuncStopShell(id string) string {
	return remote.Join("sh", "-c", `runc kill "$1" KILL 2>/dev/null; i=0
while [ $i -lt 50 ] && runc state "$1" 2>/dev/null | grep -q '"status": "running"'; do sleep 0.1; i=$((i+1)); done`, "labnet-runc", id)
}

// RuncRunning is a shell test: the runc container is running.
func RuncRunning(id string) string {
	return "runc state " + remote.Quote(id) + ` 2>/dev/null | grep -q '"status": "running"'`
}

// isoDirShell makes the lab's isolation dir a small private tmpfs of its
// own, once, as isolation.py's iso_dir does (the same mark file says it is
// mounted): a namespace cannot be bound on a shared mount, and on a
// systemd host /run is shared.
func isoDirShell(n Names) string {
	d, mark := remote.Quote(n.IsoDir()), remote.Quote(n.IsoDir()+"/.labnet")
	return fmt.Sprintf("{ [ -e %s ] || { mkdir -p %s && mount -t tmpfs -o mode=0700,size=64k labnet %s && mount --make-private %s && : >%s; }; }", mark, d, d, d, mark)
}
