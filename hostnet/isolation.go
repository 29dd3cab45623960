package hostnet

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strings"
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

// IsoStep is what inside.py does in a container's mount and UTS namespaces,
// in the one python3 that configures every guest of the stage (a few
// processes of util-linux per container cost ~7 ms a container, as much as
// everything else a container needs). Make: it makes both namespaces (after
// setns into the network namespace, so that /sys shows it) and binds them
// on their files, all set up and every file written before any process
// starts; otherwise it enters the bound ones and does only what is asked
// (a repair).
//
// Why they are made as they are:
//   - their files live in the lab's isolation dir, a small tmpfs of its
//     own, private, made once: a mount namespace cannot be bound on a
//     shared mount (the kernel would propagate it into itself), and on a
//     systemd host /run is shared;
//   - the host's namespace files, copied into a new view, would keep other
//     guests' namespaces alive after they are deleted: every view is copied
//     from one template per stage that has let go of /run/netns and the
//     isolation dir (and of /sys, which each view mounts afresh); copied
//     from the host's view, they were copied, three mounts a container, only
//     to be let go of again, which made creation quadratic;
//   - the hostname resolves without DNS (python's http.server, sudo and
//     the like look their own name up: 10 s of DNS timeouts otherwise): the
//     view's /etc/hosts is the host's with the name on 127.0.1.1 (as Debian
//     names a machine), kept in a tmpfs of the view's own on the isolation
//     dir's path (which it no longer sees), so that a repair finds it too;
//   - /sys shows the network namespace's links, as under ip netns exec;
//   - Linux numbers namespaces from per-CPU batches (6.18 does), so a mount
//     namespace made now may number below the host's own, and the kernel
//     then refuses to bind it there (EINVAL: it takes the lower number for
//     an older namespace, which could make a loop; 6 first tries in 40
//     failed on a 2-CPU machine). On the CPU that made the host's namespace
//     the numbers only grow, so the namespaces are made again on each CPU
//     in turn; the CPU that works is kept for the rest of the stage and
//     noted in the isolation dir (.cpu), where the next stage starts.
type IsoStep struct {
	Make    bool   `json:"make,omitempty"`
	Dir     string `json:"dir"` // the lab's isolation dir
	MountNS string `json:"mnt"`
	UTSNS   string `json:"uts"`
	// Hostname: set it; Hosts: give the view an /etc/hosts of its own
	// naming this on 127.0.1.1; Sys: mount the network namespace's sysfs
	// on /sys (over one labnet mounted before).
	Hostname string `json:"hostname,omitempty"`
	Hosts    string `json:"hosts,omitempty"`
	Sys      bool   `json:"sys,omitempty"`
	// Mount: private dirs to mount an empty tmpfs on; MountIfNone: only
	// where nothing is mounted yet (what refresh read is unknown).
	Mount       []string  `json:"mount,omitempty"`
	MountIfNone bool      `json:"mount_if_none,omitempty"`
	Files       []IsoFile `json:"files,omitempty"`
	Remove      []string  `json:"rm,omitempty"` // files the lab no longer has
}

// IsoFile is a file inside.py writes: never when its private dir is not
// mounted (it would land on the host's own filesystem); its content
// reaches the host as base64 in JSON, never as shell text.
type IsoFile struct {
	Path    string `json:"path"`
	Mode    string `json:"mode"` // octal, as chmod takes it
	Dir     string `json:"dir"`  // the private dir it is in
	Content []byte `json:"content,omitempty"`
}

// IsoCreate makes the container's mount and UTS namespaces (its network
// namespace exists already), sets them up and writes its files.
func (c Container) IsoCreate(n Names) *IsoStep {
	i := c.Iso
	s := &IsoStep{Make: true, Dir: n.IsoDir(), MountNS: i.MountNS, UTSNS: i.UTSNS, Hostname: i.Hostname, Hosts: i.Hostname, Sys: true, Mount: i.Dirs}
	for _, f := range i.Files {
		s.Files = append(s.Files, i.isoFile(f))
	}
	return s
}

// isoFile is one file as inside.py writes it.
func (i Isolation) isoFile(f File) IsoFile {
	return IsoFile{Path: f.Path, Mode: fmt.Sprintf("%04o", f.Mode), Dir: f.dir(i.Dirs), Content: f.Content}
}

// IsoRepair puts an existing container's hostname, /etc/hosts, /sys,
// private dirs and files right, and removes the files of gone (the
// state's, no longer in the lab). k is what refresh read (nil: unknown, so
// everything is done): only what differs is touched, and nil when nothing
// does (an update for another reason costs nothing here). A private dir
// mounted again is empty: every file under it is written again.
func (c Container) IsoRepair(n Names, k *Observed, gone []string) *IsoStep {
	i := c.Iso
	var seen *IsoSeen
	if k != nil {
		seen = k.Iso[i.MountNS]
	}
	s := &IsoStep{Dir: n.IsoDir(), MountNS: i.MountNS, UTSNS: i.UTSNS, MountIfNone: seen == nil, Remove: gone}
	if seen == nil || seen.Hostname != i.Hostname {
		s.Hostname = i.Hostname
	}
	if seen == nil || !seen.Hosts {
		s.Hosts = i.Hostname
	}
	s.Sys = seen == nil || !c.sysRight(n, k, seen)
	remounted := map[string]bool{}
	for _, d := range i.Dirs {
		if seen == nil || !slices.Contains(seen.Tmpfs, d) {
			// Known not to be labnet's tmpfs: one goes on top.
			remounted[d] = true
			s.Mount = append(s.Mount, d)
		}
	}
	for _, f := range i.Files {
		if seen != nil && !remounted[f.dir(i.Dirs)] {
			if fs, ok := seen.Files[f.Path]; ok && fs.SHA256 == f.Digest() && fs.Mode == f.Mode {
				continue
			}
		}
		s.Files = append(s.Files, i.isoFile(f))
	}
	if s.Hostname == "" && s.Hosts == "" && !s.Sys && len(s.Mount) == 0 && len(s.Files) == 0 && len(s.Remove) == 0 {
		return nil
	}
	return s
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
