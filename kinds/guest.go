package kinds

import (
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
	register(guest{Container, 6, base})
	register(guest{VM, 7, append(append([]string{}, base...), "mode")})
	register(guest{Pod, 8, append(append([]string{}, base...), "network")})
}

func (g guest) Info() Info {
	return Info{Name: g.name, Order: g.order, Parents: []string{"bridge"}, WithHost: true, Guest: true, Node: true, ForceNew: g.forceNew}
}

// GuestOf is a container's, VM's or pod's namespace and eth0.
func GuestOf(addr string, a Attrs) (hostnet.Container, error) {
	p := parser{a: a}
	if a["bridge_ifname"] == "" && a["bridge"] == "" && a["veth"] == "" {
		// A container wired by links alone: no eth0.
		c := hostnet.Container{Addr: addr, Netns: p.name("netns"), Host: p.str("host")}
		return c, p.done(addr)
	}
	p.str("bridge")
	c := hostnet.Container{Addr: addr, Netns: p.name("netns"), HostVeth: p.name("veth"), Bridge: p.name("bridge_ifname"),
		Address: p.addr("address"), Bits: p.num("bits", 0, 32), Gateway: p.optAddr("gateway"), MTU: p.optNum("mtu", 68, 65535),
		Host: p.str("host"), Shape: p.shaping()}
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
	case a["veth"] != "":
		r.Gone(a["veth"], a["netns"])
	}
}

func (guest) Judge(n hostnet.Names, addr string, a Attrs, k *hostnet.Observed, going bool) (hostnet.Verdict, error) {
	if going {
		// Only listed, not read inside: only whether it is there counts.
		if (hostnet.Container{Netns: a["netns"], HostVeth: a["veth"]}).There(k) {
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
		return hostnet.Step{Batch: ct.DeleteBatch(veth, ns)}, nil
	}
	ct, err := GuestOf(op.Addr, a)
	if err != nil {
		return hostnet.Step{}, err
	}
	var s hostnet.Step
	if op.Update {
		s.Batch = ct.RepairBatch(n)
	} else {
		s.Batch = ct.CreateBatch(n)
	}
	s.Inside = ct.Inside(n)
	if shapeNeeded(ct, op.Update, k) {
		s.Shell = ct.ShapeShell()
	}
	return s, nil
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
	return a["delay"] != "" || a["loss"] != "" // guests' and links' shaping
}

// RemovableWithTheRead says whether a going resource is removed by
// deleting its namespace alone (see plan.EarlyRemovals).
func RemovableWithTheRead(kind string, before Attrs) bool {
	return Of(kind).Guest && before["netns"] != ""
}

// ForgetRemoved drops from a read what it listed of a guest that was
// removed right after it (RemovableWithTheRead): its namespace, and its
// veth, which goes with the namespace.
func ForgetRemoved(before Attrs, k *hostnet.Observed, r *hostnet.Reads) {
	delete(k.Netns, before["netns"])
	delete(k.Links, before["veth"])
	delete(r.Gone, before["veth"])
}
