package config

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

var podContainerType = cty.Object(map[string]cty.Type{"name": cty.String, "command": cty.List(cty.String)})

const kindPod = "pod"

func init() {
	registerKind(kindDef{
		name: kindPod, seq: 7, decode: (*loader).decodePod, node: true, collected: (*loader).checkPodContainers,
		faults: []string{"stop", "start"},
		schema: blockSchema{attrs: []string{"host", "network", "address", "rate", "delay", "loss"}, required: []string{"host", "network"},
			blocks: []nested{podContainerBlock, nicBlock}},
		counts: func(lab *Lab) []Count {
			n := 0
			for _, p := range lab.Pods() {
				n += len(p.Containers)
			}
			return []Count{{"pod", len(lab.Pods())}, {"pod container", n}}
		},
	})
}

// Pods are the lab's pod blocks' instances, in declaration order.
func (l *Lab) Pods() []*Pod { return listOf[*Pod](l, kindPod) }

// podContainerBlock is a process of a pod, sharing its namespace, or a
// container run from an image, sharing its network and UTS namespaces;
// command is required without image (decodePodContainer says so).
var podContainerBlock = nested{hcl.BlockHeaderSchema{Type: "container", LabelNames: []string{"name"}},
	blockSchema{attrs: []string{"command", "image", "entrypoint", "env", "workdir", "privileged", "cap_add", "private_dirs"},
		blocks: []nested{fileBlock, mountBlock}}}

func (l *loader) decodePod(d *dec, n *node, ctx *hcl.EvalContext, res Resource, id cty.Value) (*instance, func()) {
	hostInst := d.ref("host", kindHost)
	pnInst := d.ref("network", kindPodNetwork)
	var addr netip.Addr
	explicit := d.has("address")
	if explicit {
		addr, _ = d.ipv4("address")
	}
	shaping, shapeVals := d.shaping()
	var containers []*PodContainer
	var cvals []cty.Value
	for _, sb := range n.blocksOf("container") {
		label := sb.block.Labels[0] // checked by checkPodContainers
		pc := l.decodePodContainer(sb, ctx, res.Addr+"/"+label)
		if pc == nil {
			d.ok = false
			continue
		}
		containers = append(containers, pc)
		// stringList: an image container's command is empty when its image
		// was not opened (config.Options.NoImages).
		cvals = append(cvals, cty.ObjectVal(map[string]cty.Value{"name": cty.StringVal(label), "command": stringList(pc.Command)}))
	}
	if !d.ok || hostInst == nil || pnInst == nil {
		return nil, nil
	}
	pn := pnInst.res.(*PodNetwork)
	subnet, ok := pn.Subnets[hostInst.addr]
	if !ok {
		d.fail("host", "No pod subnet", "%s has no pod subnet in %s (its hosts are %s).", hostInst.addr, pn.Addr, orNone(pn.Hosts))
		return nil, nil
	}
	// The host's cni bridge holds the subnet's first address; pods get
	// the next ones, unique per subnet.
	pool := subnet.String()
	addr = l.poolAddress(d, &n.rng, addrPool{cidr: subnet, first: 2, gateway: BridgeGateway(subnet),
		name: fmt.Sprintf("the pod subnet of %s in %s", hostInst.addr, pn.Addr), gwWhat: "the host's cni bridge address",
		taken: l.podTaken[pool]}, res.Addr, addr, explicit)
	nics, nicVals, commitNICs := l.decodeNICs(d, n, ctx, hostInst.addr, res.Addr)
	if !d.ok {
		return nil, nil
	}
	pod := &Pod{Resource: res, Host: hostInst.addr, Network: pn.Addr, Address: addr, Containers: containers, Shaping: shaping, NICs: nics}
	clist := cty.ListValEmpty(podContainerType)
	if len(cvals) > 0 {
		clist = cty.ListVal(cvals)
	}
	v := cty.ObjectVal(withShaping(map[string]cty.Value{
		"id":        id,
		"name":      cty.StringVal(res.Name),
		"host":      hostInst.value,
		"network":   pnInst.value,
		"address":   cty.StringVal(addr.String()),
		"container": clist,
		"nic":       nicVals,
	}, shapeVals))
	return &instance{value: v, res: pod}, func() {
		commitNICs()
		l.take(l.podTaken, pool, addr, res.Addr)
		add(l.lab, kindPod, pod)
	}
}

// decodePodContainer reads one container block of a pod: a command run in
// the pod's namespace, or an image (with what overrides its process, its
// private dirs and files) run by runc in the pod's network and UTS
// namespaces. nil after reporting errors.
func (l *loader) decodePodContainer(sb *subBlock, ctx *hcl.EvalContext, addr string) *PodContainer {
	cd := l.newDec(sb.attrs, ctx)
	pc := &PodContainer{Name: sb.block.Labels[0], Range: sb.block.DefRange}
	files := &node{subs: sb.subs} // decodeFiles reads a node's file blocks
	if !cd.has("image") {
		if _, ok := sb.attrs["command"]; !ok && cd.ok {
			r := sb.block.DefRange
			l.errorf(&r, "Missing required argument",
				"The argument \"command\" is required in a pod's container block without image, but no definition was found.")
			return nil
		}
		cd.required("command")
		for _, a := range append(slices.Clone(imageOnly), "private_dirs") {
			if a != "command" && cd.has(a) {
				cd.fail(a, "Argument needs an image", "%s sets %s, which only a container with image = \"...\" has.", addr, a)
			}
		}
		for _, fb := range files.blocksOf("file") {
			l.errorf(&fb.block.DefRange, "File without an image",
				"%s has a file block, which only a container with image = \"...\" has (it is written in the container's own layer).", addr)
			cd.ok = false
		}
		l.decodeMounts(cd, files, ctx, false, addr) // refused: no image
		pc.Command = cd.command("command")
		if !cd.ok {
			return nil
		}
		return pc
	}
	before := len(l.diags.Errs())
	pc.Image = l.decodeImage(cd, addr)
	pc.PrivateDirs = cd.privateDirs("private_dirs")
	pc.Files, _ = l.decodeFiles(cd, files, ctx, pc.PrivateDirs, len(l.diags.Errs()) == before, addr)
	mounts := l.decodeMounts(cd, files, ctx, true, addr)
	if !cd.ok || pc.Image == nil {
		return nil
	}
	pc.Command = pc.Image.Args
	pc.Image.Mounts = mounts
	return pc
}

// checkPodContainers checks the labels of a pod's container blocks once
// per pod block: valid names, unique in the pod.
func (l *loader) checkPodContainers(n *node) {
	labels := map[string]*hcl.Block{}
	for _, sb := range n.blocksOf("container") {
		label, lrng := sb.block.Labels[0], sb.block.LabelRanges[0]
		switch {
		case !labelRe.MatchString(label) || len(label) > MaxNodeName:
			l.errorf(&lrng, "Invalid name",
				"The pod container name %q must start with a lowercase letter, contain only lowercase letters, digits, '-' and '_' (%s) and be at most %d characters.",
				label, labelRe, MaxNodeName)
			n.bad = true
		case labels[label] != nil:
			l.errorf(&lrng, "Duplicate pod container",
				"A container %q was already declared in %s at %s; container names must be unique in a pod.", label, n.addr, posString(labels[label].DefRange))
			n.bad = true
		default:
			labels[label] = sb.block
		}
	}
}

func orNone(list []string) string {
	if len(list) == 0 {
		return "none"
	}
	return strings.Join(list, ", ")
}

// Pod is one network namespace on a host with an address from the host's
// pod subnet; its containers are processes sharing that namespace.
type Pod struct {
	Resource
	Host       string
	Network    string // pod_network address
	Address    netip.Addr
	Containers []*PodContainer
	Shaping          // rate, delay, loss on the pod's eth0
	NICs       []NIC // nic blocks: eth1, eth2, ... on tenant segments
}

// PodContainer is a `container "app" { ... }` block inside a pod: a
// process in the pod's namespace (command), or a container run from an
// image that shares the pod's network and UTS namespaces (Image).
type PodContainer struct {
	Name    string // label, [a-z][a-z0-9_-]*
	Command []string
	Range   hcl.Range
	// Image: run by runc from an image (Command is then its arguments),
	// with PrivateDirs and Files in its own layer.
	Image       *ContainerImage
	PrivateDirs []string
	Files       []File
}
