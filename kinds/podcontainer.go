package kinds

import (
	"maps"
	"slices"
	"strings"

	"github.com/labnet-dev/labnet/config"
	"github.com/labnet-dev/labnet/hostnet"
	"github.com/labnet-dev/labnet/remote"
)

// PodContainer is a pod's container run from an image: a runc container
// in the pod's network namespace and the pod's UTS namespace (hostname:
// the pod's name), with its own root (an overlay over the image), mounts,
// PIDs and IPC. Its address is the pod's and its label, pod.web[0]/app, as
// a pod's command containers (processes) have.
const PodContainer = "pod_container"

type podContainer struct{}

func init() {
	register(podContainer{})
	expands(phaseOnNodes, expandPodContainers)
}

// expandPodContainers: a pod's containers with an image; named, as runc
// containers, POD.NAME.
func expandPodContainers(x *Expansion) {
	for _, p := range x.Lab.Pods() {
		for _, c := range p.Containers {
			if c.Image == nil {
				continue // a process (process.go)
			}
			addr, at := p.Addr+"/"+c.Name, x.nodes[p.Addr]
			a := imageAttrs(x.Names, &config.Container{Resource: config.Resource{Addr: addr, Name: p.Name + "." + c.Name}, Image: c.Image}, x.host(at.host).Name)
			a["pod"], a["host"], a["netns"], a["uts_ns"], a["hostname"] = p.Addr, at.host, at.netns, x.Names.PodUTSNS(p.Name), p.Name
			if len(c.PrivateDirs) > 0 {
				a["private_dirs"] = CommandAttr(c.PrivateDirs)
			}
			for _, f := range c.Files {
				a[FilePrefix+f.Path] = FileAttr(f.Mode, f.Content)
			}
			x.add(&Resource{Addr: addr, Kind: PodContainer, Host: at.host, Attrs: a, Deps: []string{p.Addr}})
		}
	}
}

func (podContainer) Info() Info {
	return Info{Name: PodContainer, Order: 13, Parents: []string{"pod"}, WithHost: true, ForceNew: podContainerForceNew()}
}

// podContainerForceNew: what replaces an image container (its image,
// process and layer: made again, it restarts) but what puts one on a
// bridge in a namespace of its own, and the pod it is in.
func podContainerForceNew() []string {
	own := []string{"pod"}
	for _, a := range Of(Container).ForceNew {
		if !slices.Contains([]string{"bridge", "bridge_ifname", "veth", "mount_ns"}, a) {
			own = append(own, a)
		}
	}
	return own
}

// podContainerSpec is its typed spec: the pod it is in, and an image
// container's spec (kinds/runc.go) whose network namespace is the pod's
// and whose UTS namespace is the pod's, named by uts_ns.
type podContainerSpec struct {
	Pod string `json:"pod,omitzero"`
	guestSpec
}

func podContainerSpecOf(addr string, a Attrs) (*podContainerSpec, error) {
	p := parser{a: a}
	s := &podContainerSpec{Pod: p.str("pod")}
	s.Host, s.Netns, s.UTSNS = p.str("host"), p.name("netns"), p.path("uts_ns")
	s.runc(&p)
	s.rc.UTSNS = s.UTSNS
	return s, p.done(addr)
}

func (s *podContainerSpec) Attrs() Attrs {
	o := make(out, 20)
	o.str("pod", s.Pod)
	o.str("host", s.Host)
	o.str("netns", s.Netns)
	o.str("uts_ns", s.UTSNS)
	o.str("hostname", s.Hostname)
	s.ownAttrs(o)
	return Attrs(o)
}

func (podContainer) Spec(addr string, a Attrs) (Spec, error) { return podContainerSpecOf(addr, a) }
func (podContainer) NewSpec() Spec                           { return &podContainerSpec{} }

// PodContainerOf is the runc container of a pod's image container (labnet
// exec and logs run in it).
func PodContainerOf(addr string, a Attrs) (*hostnet.RuncContainer, error) {
	s, err := podContainerSpecOf(addr, a)
	return s.rc, err
}

// Reads: its runc container, image and overlay, and the pod's UTS
// namespace.
func (podContainer) Reads(r *Reads, a Attrs) {
	r.Tool("runc", "nsenter", "unshare") // unshare makes the pod's UTS namespace, nsenter names it
	r.Runc(runcRead(a), a["image_digest"])
	r.Iso(hostnet.PodUTSRead(a["uts_ns"], a["hostname"]))
}

func (podContainer) Judge(n hostnet.Names, addr string, a Attrs, k *hostnet.Observed, going bool) (hostnet.Verdict, error) {
	id := a["runc_id"]
	there := k.Runc[id] != nil || slices.Contains(k.Overlays, a["bundle"]+"/rootfs")
	if going {
		if there {
			return hostnet.Verdict{Exists: true}, nil
		}
		return hostnet.Verdict{Drift: []string{"runc container " + id + " is missing"}}, nil
	}
	s, err := podContainerSpecOf(addr, a)
	if err != nil {
		return hostnet.Verdict{}, err
	}
	d, unrepairable := s.rc.Drift(k)
	ud, utsGone := hostnet.PodUTSDrift(k, s.UTSNS, s.Hostname)
	return hostnet.Verdict{Exists: there, Drift: append(d, ud...), Unrepairable: unrepairable || utsGone, Restarts: s.rc.Restarts(k)}, nil
}

func (podContainer) Step(n hostnet.Names, op Op, k *hostnet.Observed) (hostnet.Step, error) {
	a := op.Attrs()
	if op.Delete {
		// The pod's UTS namespace goes with its last container.
		return hostnet.Step{Shell: thenShell(hostnet.RuncDeleteShell(a["runc_id"], a["bundle"], a["cgroup"]), hostnet.PodUTSReleaseShell(n, a["uts_ns"]))}, nil
	}
	s, err := podContainerSpecOf(op.Addr, a)
	if err != nil {
		return hostnet.Step{}, err
	}
	var st hostnet.Step
	if ud, _ := podUTSDrift(k, s); !op.Update || len(ud) > 0 {
		// Made before its process starts, which joins it.
		st.Shell = hostnet.PodUTSShell(n, s.UTSNS, s.Hostname)
	}
	run := op
	if op.Update && filesChanged(op.Before, op.After) {
		// Its files are written into its layer again and it restarts, as
		// the processes on a container do when its files change.
		run = Op{Addr: op.Addr, After: a}
		st.Shell = thenShell(st.Shell, removeFilesShell(s.Bundle+"/rootfs", goneFiles(op.Before, op.After)))
	}
	runcStep(&st, hostnet.Container{Addr: op.Addr, Netns: s.Netns, Runc: s.rc}, a, run, k)
	return st, nil
}

// podUTSDrift is the pod's UTS namespace's drift; unknown (nothing read)
// counts as drift.
func podUTSDrift(k *hostnet.Observed, s *podContainerSpec) ([]string, bool) {
	if k == nil {
		return []string{"not read"}, false
	}
	return hostnet.PodUTSDrift(k, s.UTSNS, s.Hostname)
}

// filesChanged says whether a container's files differ between its state
// and its lab.
func filesChanged(before, after Attrs) bool {
	files := func(a Attrs) map[string]string {
		m := map[string]string{}
		for k, v := range a {
			if strings.HasPrefix(k, FilePrefix) {
				m[k] = v
			}
		}
		return m
	}
	return !maps.Equal(files(before), files(after))
}

// removeFilesShell removes files the lab no longer has from a container's
// root, where its directory is inside it (a symlink of the image could
// lead out).
func removeFilesShell(root string, paths []string) string {
	if len(paths) == 0 {
		return ""
	}
	return remote.Join(append([]string{"sh", "-c", `r=$1; shift
for p in "$@"; do d=$r${p%/*}; [ "$(realpath "$d" 2>/dev/null)" = "$d" ] && rm -f "$r$p"; done; true`, "labnet-files", root}, paths...)...)
}

// Describe: inspect lists it, in its pod (whose address it has).
func (podContainer) Describe(a Attrs) []string { return []string{"in " + a["pod"]} }

// Faults: its process can be killed (it stays, stopped: drift), and started
// again.
func (podContainer) Faults() []string { return []string{"stop", "start"} }

func (podContainer) Fault(n hostnet.Names, addr string, a Attrs, action string) (hostnet.Step, error) {
	s, err := podContainerSpecOf(addr, a)
	if err != nil {
		return hostnet.Step{}, err
	}
	if action == "stop" {
		return hostnet.Step{Shell: hostnet.RuncStopShell(s.RuncID)}, nil
	}
	start := thenShell(hostnet.PodUTSShell(n, s.UTSNS, s.Hostname), s.rc.CreateShell())
	return hostnet.Step{Shell: "if " + hostnet.RuncRunning(s.RuncID) + "; then :; else\n" + start + "\nfi", Verify: s.rc.Verify()}, nil
}

// Place: a pod's image container; exec, ssh and logs run in it.
func (podContainer) Place(addr string, a Attrs) (Place, error) {
	rc, err := PodContainerOf(addr, a)
	if err != nil {
		return Place{}, err
	}
	return Place{Netns: rc.Netns, Runc: rc.ID, Log: rc.Log}, nil
}
