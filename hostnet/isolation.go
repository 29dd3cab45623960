package hostnet

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/labnet-dev/labnet/remote"
)

// Isolation is what a container has of its own besides its network
// namespace: a mount namespace and a UTS namespace, kept by binding them on
// files under Names.IsoDir (the way `ip netns` keeps network namespaces),
// with its hostname, private dirs (an empty tmpfs each, in its mount
// namespace only) and the files written there.
type Isolation struct {
	MountNS, UTSNS string // the files the namespaces are bound on
	Hostname       string
	Dirs           []string // private dirs
	Files          []File
}

// File is a file labnet writes inside a container's mount namespace.
type File struct {
	Path    string
	Mode    uint32 // permission bits
	Content []byte
}

// Digest is the hex SHA-256 of the file's content, as refresh reads it.
func (f File) Digest() string {
	sum := sha256.Sum256(f.Content)
	return hex.EncodeToString(sum[:])
}

// netnsPath is the file `ip netns` binds a network namespace on.
func netnsPath(netns string) string { return "/run/netns/" + netns }

// isoSetup runs in the container's mount, UTS and network namespaces: $1
// the hostname, $2 the lab's isolation dir, then the private dirs.
// isoHosts makes the container's hostname resolve without DNS (python's
// http.server, sudo and the like look their own name up: 10 s of DNS
// timeouts otherwise): its /etc/hosts is the host's with the name on
// 127.0.1.1 (as Debian names a machine), kept in a tmpfs of its own view
// on the isolation dir's path ($2, which it no longer sees), so that a
// repair finds it there too. $1 is the hostname.
const isoHosts = `if [ -e /etc/hosts ]; then
  mountpoint -q "$2" || mount -t tmpfs -o mode=0755,size=1m labnet "$2"
  umount /etc/hosts 2>/dev/null || true
  { cat /etc/hosts; printf '127.0.1.1\t%s\n' "$1"; } >"$2/hosts" && mount --bind "$2/hosts" /etc/hosts
fi`

const isoSetup = `set -e
hostname "$1"
# The host's namespace files, copied into this view, would keep other
# guests' namespaces alive after they are deleted: let go of them.
umount -l /run/netns "$2" 2>/dev/null || true
` + isoHosts + `
shift 2
# /sys shows this network namespace's links, as under ip netns exec.
mount -t sysfs labnet /sys
for d in "$@"; do mkdir -p "$d" && mount -t tmpfs -o mode=0755 labnet "$d"; done`

// isoDirShell makes the lab's isolation dir a small tmpfs of its own,
// private, once: a mount namespace cannot be bound on a shared mount (the
// kernel would propagate it into itself), and on a systemd host /run is
// shared. Its mark file is there only while it is mounted, so a shell test
// says so (mountpoint would read the host's whole mount table, three
// lines per container, for every container made).
func isoDirShell(n Names) string {
	d, mark := remote.Quote(n.IsoDir()), remote.Quote(n.IsoDir()+"/"+isoDirMark)
	return fmt.Sprintf("{ [ -e %s ] || { mkdir -p %s && mount -t tmpfs -o mode=0700,size=64k labnet %s && mount --make-private %s && : >%s; }; }", mark, d, d, d, mark)
}

// isoDirMark is the file in the lab's isolation dir that says it is
// mounted; isoDirCPU names the CPU on which a mount namespace was last
// bound there after a first try failed (see IsoCreateShell).
const (
	isoDirMark = ".labnet"
	isoDirCPU  = ".cpu"
)

// IsoCreateShell makes the container's mount and UTS namespaces (its
// network namespace exists already) and, inside them, sets it up
// (isoSetup) and writes its files: all before any process of it starts.
//
// Linux numbers namespaces from per-CPU batches (6.18 does), so a mount
// namespace made now may number below the host's own, and the kernel then
// refuses to bind it there (EINVAL: it takes the lower number for an older
// namespace, which could make a loop; 6 first tries in 40 failed on this
// 2-CPU machine). On the CPU that made the host's namespace the numbers
// only grow, so unshare is tried again on each CPU in turn, after letting
// go of a UTS namespace bound by the failed try; the CPU that works is
// noted, and the next container tries it first (half the first tries
// failed in some runs, each costing an unshare). A try whose namespaces
// were bound but whose setup failed is not tried again.
func (c Container) IsoCreateShell(n Names) string {
	i := c.Iso
	m, u := remote.Quote(i.MountNS), remote.Quote(i.UTSNS)
	unshare := remote.Join(append([]string{"nsenter", "--net=" + netnsPath(c.Netns), "--",
		"unshare", "--uts=" + i.UTSNS, "--mount=" + i.MountNS, "--propagation", "private", "--",
		"sh", "-c", isoSetup, "labnet-iso", i.Hostname, n.IsoDir()}, i.Dirs...)...)
	cpu := remote.Quote(n.IsoDir() + "/" + isoDirCPU)
	mk := fmt.Sprintf(`%s && : >%s && : >%s &&
{ { read cpu <%s; } 2>/dev/null || cpu=''; } &&
if ${cpu:+taskset -c "$cpu"} %s; then :
elif mountpoint -q %s; then false
else
  n=$(getconf _NPROCESSORS_CONF) c=0 ok=''
  while [ -z "$ok" ] && [ "$c" -lt "$n" ]; do
    umount %s 2>/dev/null
    if taskset -c "$c" %s; then ok=1; echo "$c" >%s; elif mountpoint -q %s; then break; fi
    c=$((c+1))
  done
  [ -n "$ok" ] || { echo "cannot bind a new mount namespace on "%s" from any CPU" >&2; false; }
fi`, isoDirShell(n), m, u, cpu, unshare, m, u, unshare, cpu, m, m)
	cmds := []shellCmd{{line: mk}}
	for _, f := range i.Files {
		cmds = append(cmds, i.writeFile(f))
	}
	return chain(cmds)
}

// shellCmd is one command of a chain, with the here-document it reads.
type shellCmd struct{ line, heredoc string }

// chain joins commands with && (written before each here-document's body,
// where the shell wants it).
func chain(cmds []shellCmd) string {
	var b strings.Builder
	for i, c := range cmds {
		b.WriteString(c.line)
		if i < len(cmds)-1 {
			b.WriteString(" &&")
		}
		b.WriteString("\n")
		b.WriteString(c.heredoc)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// writeFile writes one file in the container's mount namespace: its
// content base64-encoded in a here-document (nothing of it reaches a shell
// as text, and no base64 line is the terminator), then moved in place over
// whatever has its path (a directory made there by hand included). Never
// when its private dir ($4) is not mounted: it would land on the host's
// own filesystem.
func (i Isolation) writeFile(f File) shellCmd {
	const script = `mountpoint -q "$4" || { echo "private dir $4 is not mounted" >&2; exit 1; }
mkdir -p "$1" && base64 -d >"$2.labnet-new" && chmod "$3" "$2.labnet-new" &&
{ [ -f "$2" ] || [ ! -e "$2" ] || rm -rf "$2"; } && mv -f "$2.labnet-new" "$2"`
	var b strings.Builder
	enc := base64.StdEncoding.EncodeToString(f.Content)
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\n")
		enc = enc[76:]
	}
	if enc != "" {
		b.WriteString(enc + "\n")
	}
	b.WriteString("LABNET_FILE\n")
	line := remote.Join("nsenter", "--mount="+i.MountNS, "--", "sh", "-c", script, "labnet-file", path.Dir(f.Path), f.Path, fmt.Sprintf("%04o", f.Mode), f.dir(i.Dirs))
	return shellCmd{line: line + " <<'LABNET_FILE'", heredoc: b.String()}
}

// IsoRepairShell puts an existing container's hostname, /sys, private dirs
// and files right, and removes the files of gone (the state's, no longer in
// the lab). k is what refresh read (nil: unknown, so everything is
// done): only what differs is touched, so an update for another reason
// (an address) costs no process here. A private dir mounted again is empty:
// every file under it is written again.
func (c Container) IsoRepairShell(n Names, k *Observed, gone []string) string {
	i := c.Iso
	var seen *IsoSeen
	if k != nil {
		seen = k.Iso[i.MountNS]
	}
	var cmds []shellCmd
	if seen == nil || seen.Hostname != i.Hostname {
		cmds = append(cmds, shellCmd{line: remote.Join("nsenter", "--uts="+i.UTSNS, "--", "hostname", i.Hostname)})
	}
	if seen == nil || !seen.Hosts {
		cmds = append(cmds, shellCmd{line: remote.Join("nsenter", "--mount="+i.MountNS, "--", "sh", "-c", isoHosts, "labnet-iso", i.Hostname, n.IsoDir())})
	}
	if seen == nil || !c.sysRight(n, k, seen) {
		// Ours goes first if it is there (mount refuses the same one twice).
		cmds = append(cmds, shellCmd{line: remote.Join("nsenter", "--net="+netnsPath(c.Netns), "--mount="+i.MountNS, "--", "sh", "-c",
			"umount -l /sys 2>/dev/null; mount -t sysfs labnet /sys")})
	}
	remounted := map[string]bool{}
	for _, d := range i.Dirs {
		if seen != nil && slices.Contains(seen.Tmpfs, d) {
			continue
		}
		remounted[d] = true
		mount := `mkdir -p "$1" && mount -t tmpfs -o mode=0755 labnet "$1"`
		if seen == nil {
			// Unknown (no read): mounted only if it is not a mount point
			// already. Known not to be labnet's tmpfs: one goes on top.
			mount = `mountpoint -q "$1" || { ` + mount + `; }`
		}
		cmds = append(cmds, shellCmd{line: remote.Join("nsenter", "--mount="+i.MountNS, "--", "sh", "-c", mount, "labnet-iso", d)})
	}
	for _, f := range i.Files {
		if seen != nil && !remounted[f.dir(i.Dirs)] {
			if s, ok := seen.Files[f.Path]; ok && s.SHA256 == f.Digest() && s.Mode == f.Mode {
				continue
			}
		}
		cmds = append(cmds, i.writeFile(f))
	}
	if len(gone) > 0 {
		cmds = append(cmds, shellCmd{line: remote.Join(append([]string{"nsenter", "--mount=" + i.MountNS, "--", "rm", "-f", "--"}, gone...)...)})
	}
	return chain(cmds)
}

// sysRight says whether the container's /sys shows its network namespace:
// eth0 there has the MAC eth0 has in the namespace, read by the same
// refresh (eth0's own MAC changed by hand is eth0's drift, not /sys's).
func (c Container) sysRight(n Names, k *Observed, seen *IsoSeen) bool {
	want := n.MAC(c.Addr)
	if ns := k.Netns[c.Netns]; ns != nil {
		if eth0, ok := ns.Links["eth0"]; ok && eth0.MAC != "" {
			want = eth0.MAC
		} else if !c.Address.IsValid() {
			want = "" // wired by links alone: its /sys has no eth0 (the host's has)
		}
	}
	return strings.EqualFold(seen.SysMAC, want)
}

// dir is the private dir the file is in.
func (f File) dir(dirs []string) string {
	for _, d := range dirs {
		if strings.HasPrefix(f.Path, d+"/") {
			return d
		}
	}
	return ""
}

// IsoUnbind lets go of a container's namespace files (Step.Unbind): its
// mount and UTS namespaces go with the last reference (a process still in
// them keeps them until it ends). The lab's isolation dir goes with the
// last of its files (deletions never share a stage with creations).
func IsoUnbind(mountNS, utsNS string) *Unbind {
	return &Unbind{Files: []string{mountNS, utsNS}, Dir: path.Dir(mountNS)}
}

// IsoSeen is what refresh read inside a container's mount and UTS
// namespaces.
type IsoSeen struct {
	Mount    bool                // the mount namespace file holds a mount namespace
	UTS      bool                // the UTS namespace file holds a UTS namespace
	Hostname string              // in the UTS namespace
	Hosts    bool                // the hostname is in the view's /etc/hosts
	SysMAC   string              // eth0's MAC as its /sys shows it: whose network namespace /sys shows
	Tmpfs    []string            // private dirs that are a tmpfs mount point labnet made
	Files    map[string]FileSeen // by path: files that are there
}

// FileSeen is one file as refresh read it.
type FileSeen struct {
	SHA256 string // "" when it is not a regular file
	Mode   uint32
}

// IsoRead is what refresh reads inside one container's namespaces.
type IsoRead struct {
	MountNS  string   `json:"mnt"`
	UTSNS    string   `json:"uts"`
	Hostname string   `json:"name"` // looked for in its /etc/hosts
	Dirs     []string `json:"dirs"`
	Files    []string `json:"files"`
}

// IsoThere says whether either namespace file of the container is listed.
func IsoThere(k *Observed, mountNS, utsNS string) bool {
	return k.IsoFiles[path.Base(mountNS)] || k.IsoFiles[path.Base(utsNS)]
}

// isoDrift compares what refresh read inside the container's namespaces
// with what IsoCreateShell makes. Without either namespace it is remade
// (its processes run in them); the rest is repaired in place.
func (c Container) isoDrift(n Names, k *Observed) (drift []string, unrepairable bool) {
	i := c.Iso
	seen := k.Iso[i.MountNS]
	if seen == nil || !seen.Mount {
		return []string{"mount namespace " + i.MountNS + " is missing"}, true
	}
	if !seen.UTS {
		return []string{"uts namespace " + i.UTSNS + " is missing"}, true
	}
	if seen.Hostname != i.Hostname {
		drift = append(drift, fmt.Sprintf("hostname is %q, wants %q", seen.Hostname, i.Hostname))
	}
	if !seen.Hosts {
		drift = append(drift, "hostname "+i.Hostname+" is not in /etc/hosts")
	}
	if !c.sysRight(n, k, seen) {
		drift = append(drift, fmt.Sprintf("/sys shows another network namespace (eth0 MAC %q)", seen.SysMAC))
	}
	for _, d := range i.Dirs {
		if !slices.Contains(seen.Tmpfs, d) {
			drift = append(drift, "private dir "+d+" is not mounted")
		}
	}
	for _, f := range i.Files {
		s, ok := seen.Files[f.Path]
		switch {
		case !ok:
			drift = append(drift, "file "+f.Path+" is missing")
		case s.SHA256 == "":
			drift = append(drift, "file "+f.Path+" is not a regular file")
		default:
			if s.SHA256 != f.Digest() {
				drift = append(drift, "file "+f.Path+": content differs")
			}
			if s.Mode != f.Mode {
				drift = append(drift, fmt.Sprintf("file %s: mode is %04o, wants %04o", f.Path, s.Mode, f.Mode))
			}
		}
	}
	return drift, false
}

// parseIsoJSON reads one container's part of observe.py's output (read_iso).
func parseIsoJSON(body []byte) (*IsoSeen, error) {
	var raw struct {
		Mount    bool     `json:"mnt"`
		UTS      bool     `json:"uts"`
		Hostname string   `json:"hostname"`
		Hosts    bool     `json:"hosts"`
		SysMAC   string   `json:"sysmac"`
		Tmpfs    []string `json:"tmpfs"`
		Files    map[string]struct {
			SHA256 string `json:"sha256"`
			Mode   uint32 `json:"mode"`
		} `json:"files"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, err
	}
	seen := &IsoSeen{Mount: raw.Mount, UTS: raw.UTS, Hostname: raw.Hostname, Hosts: raw.Hosts, SysMAC: strings.ToLower(raw.SysMAC), Tmpfs: raw.Tmpfs,
		Files: map[string]FileSeen{}}
	for p, f := range raw.Files {
		seen.Files[p] = FileSeen{SHA256: f.SHA256, Mode: f.Mode}
	}
	return seen, nil
}
