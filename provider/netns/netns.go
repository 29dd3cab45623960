// Package netns is the embedded provider: each host is an isolated node on
// this machine, a holder process in its own network and mount namespaces
// (with a private /run, so its `ip netns` names, sshd and logs are its own,
// and a /sys of its own), joined to the lab's LAN by a veth to a bridge that
// lives in the lab's underlay namespace "labnet-<lab>". Each host runs a real
// OpenSSH sshd on its LAN address, and labnet reaches it over SSH from inside
// the underlay namespace, exactly as it reaches a VM. Nothing is added to the
// machine's own namespace but the underlay namespace's name.
package netns

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/labnet-dev/labnet/hostnet"
	"github.com/labnet-dev/labnet/provider"
	"github.com/labnet-dev/labnet/remote"
	"golang.org/x/crypto/ssh"
	"golang.org/x/sys/unix"
)

// OwnerEnv marks every process labnet starts: LABNET_OWNER=<lab>/<host>/<resource>.
const OwnerEnv = "LABNET_OWNER"

// sshdDir is inside the holder's private /run.
const sshdDir = "/run/labnet-sshd"

// sshdConfig names the host's sshd configuration so that the sshd's
// process title ("sshd: /usr/sbin/sshd -f <this>") says whose it is: sshd
// overwrites its environment, and an sshd left in the namespace of a
// holder that was killed must still be found. '.' cannot occur in names.
func sshdConfig(lab string, h provider.Host) string {
	return sshdDir + "/sshd." + lab + "." + h.Name + ".conf"
}

type Provider struct {
	// Sshd is the sshd binary; default /usr/sbin/sshd.
	Sshd string
}

func New() *Provider { return &Provider{Sshd: "/usr/sbin/sshd"} }

func (p *Provider) Name() string { return "netns" }

// UseHost: a netns host has no settings of its own.
func (p *Provider) UseHost(string, map[string]string) error { return nil }

// ContentsGoWithHost: a host's namespaces live in its holder's private
// /run and its processes are killed with it.
func (p *Provider) ContentsGoWithHost() bool { return true }

// UnderlayNS is the name of the lab's underlay network namespace.
func UnderlayNS(lab string) string { return "labnet-" + lab }

// UnderlayPath is the namespace file labnet dials from.
func UnderlayPath(lab string) string { return "/run/netns/" + UnderlayNS(lab) }

// bridgeName is the network's bridge inside the underlay namespace.
func bridgeName(n provider.Network) string { return shortName("n-", n.Name) }

// uplinkName is the host's veth end inside the underlay namespace.
func uplinkName(h provider.Host) string { return shortName("u-", h.Name) }

func shortName(prefix, name string) string {
	if len(prefix)+len(name) <= 15 {
		return prefix + name
	}
	sum := sha256.Sum256([]byte(name))
	return prefix + hex.EncodeToString(sum[:])[:15-len(prefix)]
}

func run(ctx context.Context, stdin []byte, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

func output(ctx context.Context, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

func nsExists(name string) bool {
	_, err := os.Stat("/run/netns/" + name)
	return err == nil
}

// nsMounted says whether a network namespace is mounted on /run/netns/NAME
// (not only the file `ip netns add` makes first).
func nsMounted(name string) bool {
	var st unix.Statfs_t
	return unix.Statfs("/run/netns/"+name, &st) == nil && st.Type == unix.NSFS_MAGIC
}

// neighbourFloor is what the netns provider raises the kernel's neighbour
// (ARP/NDP) table limits to. They are one table for ALL network namespaces,
// with defaults (128/512/1024) that a lab of a few hundred guests overflows
// ("neighbor table overflow": packets silently dropped). Only the machine's
// own namespace can change them, and labnet only ever raises them.
var neighbourFloor = [3]int{1024, 4096, 8192}

func raiseNeighbourLimits() error {
	for _, fam := range []string{"ipv4", "ipv6"} {
		for i, floor := range neighbourFloor {
			path := fmt.Sprintf("/proc/sys/net/%s/neigh/default/gc_thresh%d", fam, i+1)
			b, err := os.ReadFile(path)
			if err != nil {
				continue // no such table here
			}
			if cur, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && cur < floor {
				if err := os.WriteFile(path, []byte(strconv.Itoa(floor)), 0o644); err != nil {
					return fmt.Errorf("raise %s to %d: %w", path, floor, err)
				}
			}
		}
	}
	return nil
}

func (p *Provider) EnsureNetwork(ctx context.Context, lab string, n provider.Network) error {
	if err := raiseNeighbourLimits(); err != nil {
		return err
	}
	ns := UnderlayNS(lab)
	if nsExists(ns) && !nsMounted(ns) {
		// Left by a run killed between `ip netns add` making the file and
		// mounting the namespace on it: remove it and make it again.
		if err := run(ctx, nil, "ip", "netns", "del", ns); err != nil {
			return err
		}
	}
	if !nsExists(ns) {
		if err := run(ctx, nil, "ip", "netns", "add", ns); err != nil {
			return err
		}
	}
	br := bridgeName(n)
	bits := n.CIDR.Bits()
	// Idempotent: "replace" and "|| true"-free; each line must succeed.
	script := fmt.Sprintf("link set dev lo up\n")
	if !linkExists(ctx, ns, br) {
		script += hostnet.BridgeAdd(br, hostnet.Names{Lab: lab}.MAC(n.Addr), hostnet.DefaultMTU) + "\n"
	}
	script += fmt.Sprintf("link set dev %s alias labnet:%s:%s\naddr replace %s/%d dev %s\nlink set dev %s up\n",
		br, lab, n.Addr, n.Gateway, bits, br, br)
	// labnet's SSH connections start here. sshd turns Nagle off only when a
	// session starts, so before that it holds a reply until the client's
	// delayed ACK (40 ms) whenever it sends two packets in a row (host keys
	// after authentication, then the channel confirmation): every new
	// connection lost 40 ms. Quick ACKs on this route remove the wait.
	script += fmt.Sprintf("route replace %s dev %s proto kernel scope link src %s quickack 1\n", n.CIDR.Masked(), br, n.Gateway)
	return run(ctx, []byte(script), "ip", "-n", ns, "-batch", "-")
}

// hasPrefix says whether addrs (as net.Interface.Addrs gives them) hold p.
func hasPrefix(addrs []net.Addr, p netip.Prefix) bool {
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok {
			ip, ok := netip.AddrFromSlice(ipn.IP)
			ones, _ := ipn.Mask.Size()
			if ok && netip.PrefixFrom(ip.Unmap(), ones) == p {
				return true
			}
		}
	}
	return false
}

func linkExists(ctx context.Context, ns, name string) bool {
	return run(ctx, nil, "ip", "-n", ns, "link", "show", "dev", name) == nil
}

func (p *Provider) ObserveNetwork(ctx context.Context, lab string, n provider.Network) (bool, string, error) {
	ns := UnderlayNS(lab)
	if !nsExists(ns) {
		return false, "underlay namespace " + ns + " is missing", nil
	}
	if !nsMounted(ns) {
		return false, "underlay namespace " + ns + " is a file with no namespace on it (a run was killed while making it)", nil
	}
	// Read over netlink from a thread inside the underlay, not by an
	// `ip -n` process: a fork, an exec and a /sys remount, on the CPUs
	// that the login to the lab's hosts needs at that very moment (the
	// refresh runs while it is in flight).
	var found, up bool
	var addrs []net.Addr
	err := remote.InNetns(UnderlayPath(lab), func() error {
		ifs, err := net.Interfaces()
		if err != nil {
			return err
		}
		for _, ifi := range ifs {
			if ifi.Name == bridgeName(n) {
				// Up is the administrative flag: a bridge with a MAC of its
				// own has no carrier until its first port comes up.
				found, up = true, ifi.Flags&net.FlagUp != 0
				addrs, err = ifi.Addrs()
				return err
			}
		}
		return nil
	})
	if err != nil {
		return false, "", fmt.Errorf("read bridge %s in %s: %w", bridgeName(n), ns, err)
	}
	if !found {
		return false, "bridge " + bridgeName(n) + " is missing in " + ns, nil
	}
	want := netip.PrefixFrom(n.Gateway, n.CIDR.Bits())
	if !up || !hasPrefix(addrs, want) {
		return false, "bridge " + bridgeName(n) + " lacks " + want.String() + " or is down", nil
	}
	return true, "", nil
}

func (p *Provider) DestroyNetwork(ctx context.Context, lab string, n provider.Network) error {
	ns := UnderlayNS(lab)
	if !nsExists(ns) {
		return nil
	}
	if !nsMounted(ns) {
		return run(ctx, nil, "ip", "netns", "del", ns) // the file of a run killed inside `ip netns add`
	}
	out, err := output(ctx, "ip", "-n", ns, "-o", "link", "show", "type", "bridge")
	if err != nil {
		return err
	}
	others := false
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if f := strings.Fields(l); len(f) > 1 && strings.TrimSuffix(f[1], ":") != bridgeName(n) {
			others = true
		}
	}
	if !others {
		// The namespace goes with its last network, and the bridge with
		// it: a namespace is torn down in one batch, which is much faster
		// than deleting its links one by one first.
		return run(ctx, nil, "ip", "netns", "del", ns)
	}
	return run(ctx, nil, "ip", "-n", ns, "link", "del", "dev", bridgeName(n))
}

func owner(lab, host string) string { return lab + "/" + host + "/" }

// CreateHost starts the holder, wires it to the LAN and starts its sshd.
func (p *Provider) CreateHost(ctx context.Context, lab string, h provider.Host, keys provider.Keys) (provider.Record, error) {
	// A half-made earlier attempt (crash) is removed first.
	if err := killOwned(owner(lab, h.Name)); err != nil {
		return provider.Record{}, err
	}
	if err := removeCgroups(lab, h.Name); err != nil {
		return provider.Record{}, err
	}
	ns := UnderlayNS(lab)
	if linkExists(ctx, ns, uplinkName(h)) {
		_ = run(ctx, nil, "ip", "-n", ns, "link", "del", "dev", uplinkName(h))
	}
	// unshare execs in place, so the holder's PID is this child's PID.
	// The host gets a /sys of its own, as `ip netns exec` gives: sysfs
	// shows the network namespace of whoever mounts it, so the machine's
	// /sys would list the machine's interfaces (a lab process reading
	// /sys/class/net/eth0/address got the machine's MAC).
	holder := exec.Command("unshare", "--net", "--mount", "--propagation", "private", "--",
		"/bin/sh", "-c", "mount -t tmpfs -o mode=0755 labnet-run /run && "+keepCgroups+" && mkdir -p /run/netns "+sshdDir+" /run/sshd && chmod 700 "+sshdDir+" && exec sleep infinity")
	holder.Env = []string{OwnerEnv + "=" + owner(lab, h.Name) + "holder", "PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
	holder.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := holder.Start(); err != nil {
		return provider.Record{}, fmt.Errorf("%s: start holder: %w", h.Addr, err)
	}
	pid := holder.Process.Pid
	// Reap it if it dies while we are still running; it outlives us otherwise.
	go func() { _ = holder.Wait() }()
	rec := provider.Record{PID: pid, User: "root", SSHAddr: netip.AddrPortFrom(h.Address, 22).String()}
	if err := waitFor(ctx, 5*time.Second, func() bool {
		_, err := os.Stat(fmt.Sprintf("/proc/%d/root%s", pid, sshdDir))
		return err == nil
	}); err != nil {
		return rec, fmt.Errorf("%s: holder did not come up: %w", h.Addr, err)
	}
	up := uplinkName(h)
	gw := h.Network.Gateway
	batch := fmt.Sprintf("link add name %s type veth peer name eth0 address %s netns %d\nlink set dev %s alias labnet:%s:%s\nlink set dev %s master %s up\n",
		up, hostnet.Names{Lab: lab}.MAC(h.Addr), pid, up, lab, h.Addr, up, bridgeName(h.Network))
	if err := run(ctx, []byte(batch), "ip", "-n", ns, "-batch", "-"); err != nil {
		return rec, fmt.Errorf("%s: %w", h.Addr, err)
	}
	inside := fmt.Sprintf("link set dev lo up\naddr add %s/%d dev eth0\nlink set dev eth0 up\nroute add default via %s dev eth0\n",
		h.Address, h.Network.CIDR.Bits(), gw)
	if err := run(ctx, []byte(inside), "nsenter", "-t", strconv.Itoa(pid), "-n", "ip", "-batch", "-"); err != nil {
		return rec, fmt.Errorf("%s: %w", h.Addr, err)
	}
	hostKey, err := p.writeSshd(pid, lab, h, keys)
	if err != nil {
		return rec, fmt.Errorf("%s: %w", h.Addr, err)
	}
	rec.HostKey = hostKey
	if err := p.startSshd(ctx, lab, h, pid); err != nil {
		return rec, err
	}
	return rec, nil
}

// writeSshd writes the sshd configuration, a fresh host key and the lab's
// client key into the holder's private /run and returns the host public key.
func (p *Provider) writeSshd(pid int, lab string, h provider.Host, keys provider.Keys) (string, error) {
	dir := fmt.Sprintf("/proc/%d/root%s", pid, sshdDir)
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", err
	}
	block, err := ssh.MarshalPrivateKey(priv, "labnet "+h.Addr)
	if err != nil {
		return "", err
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		return "", err
	}
	cfg := strings.Join([]string{
		"# written by labnet: accepts only the lab's key, on the host's LAN address",
		"ListenAddress " + netip.AddrPortFrom(h.Address, 22).String(),
		"HostKey " + sshdDir + "/host_key",
		"AuthorizedKeysFile " + sshdDir + "/authorized_keys",
		"PidFile " + sshdDir + "/sshd.pid",
		"PermitRootLogin prohibit-password",
		"AllowUsers root",
		"PubkeyAuthentication yes",
		"PasswordAuthentication no",
		"KbdInteractiveAuthentication no",
		"UsePAM no",
		"PrintMotd no",
		"MaxSessions 100",
		"MaxStartups 100:30:200",
		"Subsystem sftp internal-sftp",
		// bash sources ~/.bashrc for every command sshd runs when it thinks
		// it is the session's top-level shell (SHLVL unset). On machines with
		// a heavy rc (pyenv, conda) that is ~100 ms per session, paid by
		// every check and every connection, and it would let the machine's
		// rc files change what labnet's commands do. Interactive shells
		// (labnet ssh) still read their rc files.
		"SetEnv SHLVL=1",
		"",
	}, "\n")
	files := []struct {
		name string
		data []byte
	}{
		{filepath.Base(sshdConfig(lab, h)), []byte(cfg)},
		{"host_key", pem.EncodeToMemory(block)},
		{"authorized_keys", []byte(remote.AuthorizedKey(keys.Client.PublicKey()) + "\n")},
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(dir, f.name), f.data, 0o600); err != nil {
			return "", err
		}
	}
	return remote.AuthorizedKey(sshPub), nil
}

func (p *Provider) startSshd(ctx context.Context, lab string, h provider.Host, pid int) error {
	// -r -w: the holder's root and directory too. Entering a mount
	// namespace resets both to the namespace's; where labnet runs in a
	// chroot (a minimal build root, some CI containers) sshd then looked
	// for its files outside it.
	cmd := exec.CommandContext(ctx, "nsenter", "-t", strconv.Itoa(pid), "-n", "-m", "-r", "-w", "--",
		p.Sshd, "-f", sshdConfig(lab, h), "-E", sshdDir+"/sshd.log")
	cmd.Env = []string{OwnerEnv + "=" + owner(lab, h.Name) + "sshd", "PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if out, err := cmd.CombinedOutput(); err != nil {
		logTail, _ := os.ReadFile(fmt.Sprintf("/proc/%d/root%s/sshd.log", pid, sshdDir))
		return fmt.Errorf("%s: start sshd: %v: %s %s", h.Addr, err, out, logTail)
	}
	return nil
}

func (p *Provider) sshdRunning(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/root%s/sshd.pid", pid, sshdDir))
	if err != nil {
		return false
	}
	spid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return false
	}
	// sshd rewrites its process title over its environment, so it is
	// known by its title and by living in the holder's network namespace.
	cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", spid))
	return bytes.HasPrefix(cmd, []byte("sshd")) && !zombie(spid) && netnsOf(spid) == netnsOf(pid) && netnsOf(pid) != ""
}

// netnsOf identifies a process's network namespace ("net:[4026532]").
func netnsOf(pid int) string {
	s, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", pid))
	return s
}

func markerOf(pid int) string {
	env, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	if err != nil {
		return ""
	}
	for _, kv := range bytes.Split(env, []byte{0}) {
		if v, ok := bytes.CutPrefix(kv, []byte(OwnerEnv+"=")); ok {
			return string(v)
		}
	}
	return ""
}

func (p *Provider) holderAlive(lab string, h provider.Host, pid int) bool {
	return pid > 0 && markerOf(pid) == owner(lab, h.Name)+"holder"
}

func (p *Provider) ObserveHost(ctx context.Context, lab string, h provider.Host, rec provider.Record) (provider.Status, error) {
	if !p.holderAlive(lab, h, rec.PID) {
		return provider.Status{Reason: "holder process is gone"}, nil
	}
	if !p.sshdRunning(rec.PID) {
		return provider.Status{Exists: true, Reason: "sshd is not running"}, nil
	}
	return provider.Status{Exists: true, SSHUp: true}, nil
}

func (p *Provider) RepairHost(ctx context.Context, lab string, h provider.Host, rec provider.Record, keys provider.Keys) (provider.Record, error) {
	if !p.holderAlive(lab, h, rec.PID) {
		return rec, fmt.Errorf("%s: holder is gone; the host must be replaced", h.Addr)
	}
	if p.sshdRunning(rec.PID) {
		return rec, nil
	}
	return rec, p.startSshd(ctx, lab, h, rec.PID)
}

func (p *Provider) DestroyHost(ctx context.Context, lab string, h provider.Host, rec provider.Record) error {
	// The holder's namespace dies with its last process, and the kernel
	// removes both ends of the uplink with it (deleting the uplink here
	// first would cost a link deletion of its own). CreateHost removes an
	// uplink that still lingers from a namespace being torn down.
	if err := killOwned(owner(lab, h.Name)); err != nil {
		return err
	}
	return removeCgroups(lab, h.Name)
}

// removeCgroups removes the cgroups of the image containers of a host of
// the lab ("": the lab's whole cgroup dir, when the lab goes), which live
// in the machine's hierarchies and do not go with the holder. (The lab's
// dir stays when one host goes: another host's container may be making
// its cgroup in it at that moment.) Their processes are gone already
// (killOwned), but the kernel may take a moment to let go of a cgroup: it
// is tried again for up to 5 s.
func removeCgroups(lab, host string) error {
	n := hostnet.Names{Lab: lab}
	mounts, _ := os.ReadFile("/proc/self/mounts")
	var roots []string
	for _, l := range strings.Split(string(mounts), "\n") {
		if f := strings.Fields(l); len(f) > 2 && (f[2] == "cgroup" || f[2] == "cgroup2") {
			roots = append(roots, f[1])
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for _, root := range roots {
		for {
			err := removeTree(root + n.CgroupDir(host))
			if err == nil || errors.Is(err, os.ErrNotExist) {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("cgroup of %s: %w", strings.TrimSuffix(owner(lab, host), "/"), err)
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
	return nil
}

// removeTree removes a cgroup and the cgroups below it (rmdir: a cgroup's
// files are not removed, they go with it).
func removeTree(dir string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if e.IsDir() {
			if err := removeTree(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
		}
	}
	return syscall.Rmdir(dir)
}

func (p *Provider) Target(lab string, h provider.Host, rec provider.Record, keys provider.Keys) (remote.Target, error) {
	t := remote.Target{
		Host:   h.Addr,
		Addr:   netip.AddrPortFrom(h.Address, 22),
		User:   "root",
		Signer: keys.Client,
		Netns:  UnderlayPath(lab),
	}
	if rec.HostKey != "" {
		k, err := remote.ParseAuthorizedKey(rec.HostKey)
		if err != nil {
			return t, fmt.Errorf("%s: pinned host key: %w", h.Addr, err)
		}
		t.HostKey = k
	}
	return t, nil
}

// Sweep kills every process marked for the lab (holders, sshd, and what
// labnet started on netns hosts) and deletes the underlay namespace; the
// hosts' namespaces, links, nft tables and /run files go with their holders.
func (p *Provider) Sweep(ctx context.Context, lab string) error {
	if err := killOwned(lab + "/"); err != nil {
		return err
	}
	if err := removeCgroups(lab, ""); err != nil {
		return err
	}
	if nsExists(UnderlayNS(lab)) {
		return run(ctx, nil, "ip", "netns", "del", UnderlayNS(lab))
	}
	return nil
}

// killOwned kills every process whose owner mark starts with prefix and
// waits until they are gone.
func killOwned(prefix string) error {
	deadline := time.Now().Add(5 * time.Second)
	for {
		pids := ownedPIDs(prefix)
		if len(pids) == 0 {
			return nil
		}
		for _, pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("processes %v of %s survive SIGKILL", pids, strings.TrimSuffix(prefix, "/"))
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// ownedPIDs lists live (non-zombie) processes marked with prefix.
func ownedPIDs(prefix string) []int {
	ents, _ := os.ReadDir("/proc")
	var pids []int
	holderNets := map[string]bool{}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if m := markerOf(pid); m != "" && strings.HasPrefix(m, prefix) && !zombie(pid) {
			pids = append(pids, pid)
			if strings.HasSuffix(m, "/holder") {
				holderNets[netnsOf(pid)] = true
			}
		}
	}
	// sshd overwrites its environment with its title, which names its
	// configuration file: see sshdConfig.
	title := sshdDir + "/sshd." + strings.ReplaceAll(strings.TrimSuffix(prefix, "/"), "/", ".") + "."
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || slices.Contains(pids, pid) || zombie(pid) {
			continue
		}
		if cmd, err := os.ReadFile("/proc/" + e.Name() + "/cmdline"); err == nil && bytes.Contains(cmd, []byte(title)) {
			pids = append(pids, pid)
		}
	}
	// Whatever else lives in a holder's network namespace (sshd's
	// sessions) belongs to that host too.
	if len(holderNets) > 0 {
		for _, e := range ents {
			pid, err := strconv.Atoi(e.Name())
			if err != nil || slices.Contains(pids, pid) || zombie(pid) {
				continue
			}
			if ns := netnsOf(pid); ns != "" && holderNets[ns] {
				pids = append(pids, pid)
			}
		}
	}
	return pids
}

func zombie(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	i := bytes.LastIndexByte(b, ')')
	return i > 0 && i+2 < len(b) && b[i+2] == 'Z'
}

func waitFor(ctx context.Context, d time.Duration, ok func() bool) error {
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			return errors.New("timed out")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
	return nil
}

// keepCgroups mounts the holder's own sysfs on /sys (its network
// namespace's links), keeping the machine's cgroup hierarchies visible
// under it as on a real machine: runc (image containers) places its
// containers in cgroups, and a bare sysfs on /sys hides them. They are
// bound aside before the new sysfs covers them, then moved back.
const keepCgroups = `mkdir /run/.labnet-cg && mount --rbind /sys/fs/cgroup /run/.labnet-cg && mount -t sysfs labnet-sys /sys && ` +
	`mount --move /run/.labnet-cg /sys/fs/cgroup && rmdir /run/.labnet-cg`

func init() {
	provider.Register(provider.Registration{Name: provider.Default, New: func() provider.Provider { return New() }})
}
