package kinds

import (
	"encoding/json"
	"path"
	"strings"

	"github.com/labnet-dev/labnet/hostnet"
)

// guest: a network namespace with eth0, whose veth peer is on a bridge of
// its host. Containers, VMs and pods share it; each is a kind of its own
// for what replaces it.
type guest struct {
	name     string
	order    int
	forceNew []string
}

func init() {
	base := []string{"host", "bridge", "bridge_ifname", "netns", "veth"}
	// A container's own mount and UTS namespaces hold its processes: made
	// again, they are restarted. New private dirs are empty: likewise.
	register(guest{Container, 6, append(append([]string{}, base...), "mount_ns", "uts_ns", "private_dirs")})
	register(guest{VM, 7, append(append([]string{}, base...), "mode")})
	register(guest{Pod, 8, append(append([]string{}, base...), "network")})
}

func (g guest) Info() Info {
	return Info{Name: g.name, Order: g.order, Parent: "bridge", WithHost: true, Guest: true, Node: true, ForceNew: g.forceNew}
}

// GuestOf is a container's, VM's or pod's namespace and eth0.
func GuestOf(addr string, a Attrs) (hostnet.Container, error) {
	p := parser{a: a}
	c := hostnet.Container{Addr: addr, Netns: p.name("netns"), HostVeth: p.name("veth"), Bridge: p.name("bridge_ifname"),
		Address: p.addr("address"), Bits: p.num("bits", 0, 32), Gateway: p.optAddr("gateway"), MTU: p.optNum("mtu", 68, 65535),
		Host: p.str("host"), Shape: p.shaping(), Iso: p.isolation()}
	return c, p.done(addr)
}

func (guest) Check(addr string, a Attrs) error { _, err := GuestOf(addr, a); return err }

// Reads: a kept guest is read inside; of one that goes, only whether its
// namespace is listed (and its veth, when the namespace is not).
func (guest) Reads(r *Reads, a Attrs) {
	switch {
	case a["netns"] == "":
	case r.Kept(a["netns"]):
		r.Link(a["veth"])
		r.Inside(a["netns"])
		if a["mount_ns"] != "" {
			r.Iso(isoRead(a))
		}
	case a["veth"] != "":
		r.Gone(a["veth"], a["netns"])
	}
	if a["mount_ns"] != "" {
		r.IsoList() // whether its namespace files are there, kept or going
	}
}

// isoRead is what refresh reads in a container's own namespaces: its
// private dirs and files, by path (the attributes are parsed by Check).
func isoRead(a Attrs) hostnet.IsoRead {
	ir := hostnet.IsoRead{MountNS: a["mount_ns"], UTSNS: a["uts_ns"], Hostname: a["hostname"]}
	if a["private_dirs"] != "" {
		_ = json.Unmarshal([]byte(a["private_dirs"]), &ir.Dirs)
	}
	for k := range a {
		if strings.HasPrefix(k, FilePrefix) {
			ir.Files = append(ir.Files, strings.TrimPrefix(k, FilePrefix))
		}
	}
	return ir
}

func (guest) Judge(n hostnet.Names, addr string, a Attrs, k *hostnet.Observed, going bool) (hostnet.Verdict, error) {
	if going {
		// Only listed, not read inside: only whether it is there counts.
		if (hostnet.Container{Netns: a["netns"], HostVeth: a["veth"]}).There(k) || hostnet.IsoThere(k, a["mount_ns"], a["uts_ns"]) {
			return hostnet.Verdict{Exists: true}, nil
		}
		return hostnet.Verdict{Drift: []string{"netns " + a["netns"] + " is missing"}}, nil
	}
	return judge(GuestOf, n, addr, a, k)
}

func (guest) Step(n hostnet.Names, op Op, k *hostnet.Observed) (hostnet.Step, error) {
	a := op.Attrs()
	if op.Delete {
		// A deletion needs the names only (parsing addresses and shaping
		// was a third of the stage's building for 1,000 guests).
		ct := hostnet.Container{Addr: op.Addr, Netns: a["netns"], HostVeth: a["veth"]}
		veth, ns := true, true
		if k != nil {
			veth, ns = hasLink(k, ct.HostVeth), k.Netns[ct.Netns] != nil
		}
		if !op.Replace && ns {
			// Deleting the namespace takes both veth ends with it, and the
			// kernel unregisters them in one batch: ten times faster than a
			// `link del` each. A replacement deletes the veth itself,
			// because its name is reused at once.
			veth = false
		}
		s := hostnet.Step{Batch: ct.DeleteBatch(veth, ns)}
		if m := a["mount_ns"]; m != "" && (k == nil || hostnet.IsoThere(k, m, a["uts_ns"])) {
			s.Unbind = hostnet.IsoUnbind(m, a["uts_ns"])
		}
		return s, nil
	}
	ct, err := GuestOf(op.Addr, a)
	if err != nil {
		return hostnet.Step{}, err
	}
	var s hostnet.Step
	var iso string
	if op.Update {
		s.Batch = ct.RepairBatch(n)
		if ct.Iso != nil {
			iso = ct.IsoRepairShell(n, k, goneFiles(op.Before, op.After))
		}
	} else {
		s.Batch = ct.CreateBatch(n)
		if ct.Iso != nil {
			iso = ct.IsoCreateShell(n)
		}
	}
	s.Inside = ct.Inside(n)
	shape := ""
	if shapeNeeded(ct, op.Update, k) {
		shape = ct.ShapeShell()
	}
	s.Shell = thenShell(iso, shape)
	return s, nil
}

// thenShell runs b after a, if a succeeded (either may be empty).
func thenShell(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return "{\n" + a + "\n} && {\n" + b + "\n}"
}

// shapeNeeded says whether a guest's step must touch eth0's root qdisc:
// always when it is shaped; when it is not, only on an update whose
// namespace may hold a tbf or netem root (a new namespace has none, so
// unshaped guests cost no tc at all).
func shapeNeeded(ct hostnet.Container, update bool, k *hostnet.Observed) bool {
	if !ct.Shape.IsZero() {
		return true
	}
	if !update {
		return false
	}
	if k == nil || k.Netns[ct.Netns] == nil {
		return true
	}
	return len(ct.ShapeDrift(k.Netns[ct.Netns])) > 0
}

// NeedsNetem says whether a resource asks for delay or loss (the kernel's
// netem, probed on its host before anything changes).
func NeedsNetem(kind string, a Attrs) bool {
	return Of(kind).Guest && (a["delay"] != "" || a["loss"] != "")
}

// RemovableWithTheRead says whether a going resource is removed by
// deleting its namespace alone (see plan.EarlyRemovals).
func RemovableWithTheRead(kind string, before Attrs) bool {
	return Of(kind).Guest && before["netns"] != ""
}

// ForgetRemoved drops from a read what it listed of a guest that was
// removed right after it (RemovableWithTheRead): its namespace, its veth,
// which goes with the namespace, and its mount and UTS namespace files.
func ForgetRemoved(before Attrs, k *hostnet.Observed, r *hostnet.Reads) {
	delete(k.Netns, before["netns"])
	delete(k.Links, before["veth"])
	delete(r.Gone, before["veth"])
	for _, f := range hostnet.IsoUnbind(before["mount_ns"], before["uts_ns"]).Files {
		delete(k.IsoFiles, path.Base(f))
	}
}
