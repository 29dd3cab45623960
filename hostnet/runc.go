package hostnet

import (
	"bytes"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/labnet-dev/labnet/remote"
)

// ImageRoot holds the images unpacked on a host, one directory per digest
// (ImageDir): shared by every lab and container on the host, never
// written once complete, and left in place by destroy (a cache; remove
// the directory to prune it).
const ImageRoot = "/var/lib/labnet/images"

// ImageDir is where the image with digest ("sha256:HEX") is unpacked: its
// rootfs, and the file saying it is complete.
func ImageDir(digest string) string {
	return ImageRoot + "/" + strings.TrimPrefix(digest, "sha256:")
}

// imageComplete is made in ImageDir once its rootfs is unpacked.
const imageComplete = ".labnet-complete"

// RuncPrefix starts the runc id of every image container of the lab.
func (n Names) RuncPrefix() string { return "labnet." + n.Lab + "." }

// RuncID is the runc id of the lab's image container named name.
func (n Names) RuncID(name string) string { return n.RuncPrefix() + name }

// Bundle is the OCI bundle of the image container named name.
func (n Names) Bundle(name string) string { return n.RunDir() + "/runc/" + name }

// Cgroup is the cgroup (the path below every hierarchy's root) of the
// image container named name on host: /labnet/<lab>/<host>/<name>. The
// host is in it because netns hosts share their machine's hierarchies.
func (n Names) Cgroup(host, name string) string { return n.CgroupDir(host) + "/" + name }

// CgroupDir holds the cgroups of the lab's image containers on host;
// CgroupDir("") holds the whole lab's. /labnet itself is shared by labs
// and stays (as /run/labnet does).
func (n Names) CgroupDir(host string) string {
	if host == "" {
		return "/labnet/" + n.Lab
	}
	return "/labnet/" + n.Lab + "/" + host
}

// CPUPeriod is the CFS period an image container's cpus are a share of (µs).
const CPUPeriod = 100000

// RuncContainer is a container run by runc from an image: an OCI bundle
// whose rootfs is an overlay (the image's unpacked rootfs, shared, under a
// writable layer of its own), in the container's network namespace, in a
// cgroup of labnet's, started and waited for by labnet's supervisor
// (supervise.py), which records how its init ended.
type RuncContainer struct {
	ID       string
	Bundle   string
	Netns    string
	Hostname string
	// UTSNS: a UTS namespace to join (a pod's, see podrunc.go) instead of
	// a new one; it holds the hostname, which Hostname then does not set.
	UTSNS    string
	Digest   string
	Args     []string
	Env      []string
	Cwd      string
	UID, GID uint32
	// Caps are the process's capabilities (CAP_...); Privileged: every
	// capability, every device, no masked paths.
	Caps       []string
	Privileged bool
	Dirs       []string // private dirs: directories of its own layer
	Files      []File   // written in its own layer before it starts
	Owner      string   // LABNET_OWNER in its environment: netns hosts kill it with theirs
	Mounts     []BindMount
	Log        string // its stdout and stderr
	Cgroup     string // its cgroup (Names.Cgroup)
	// Memory is its memory limit in bytes, CPUQuota its CPU time per
	// CPUPeriod in µs (cpus x CPUPeriod); 0: none.
	Memory, CPUQuota int64
	// Fresh: refresh found neither a runc container of its id nor its
	// overlay, so CreateShell neither deletes an old container nor looks
	// for a mounted overlay first (two processes a container fewer).
	Fresh bool
}

// BindMount is a host path bound into the container.
type BindMount struct {
	Source   string `json:"source"`
	Target   string `json:"target"`
	ReadOnly bool   `json:"read_only,omitempty"`
}

// DefaultCaps are Docker's default capabilities.
var DefaultCaps = []string{"CAP_AUDIT_WRITE", "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_MKNOD",
	"CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP", "CAP_SETUID", "CAP_SYS_CHROOT"}

// AllCaps are the capabilities of a privileged container.
var AllCaps = []string{"CAP_AUDIT_CONTROL", "CAP_AUDIT_READ", "CAP_AUDIT_WRITE", "CAP_BLOCK_SUSPEND", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_KILL",
	"CAP_LEASE", "CAP_LINUX_IMMUTABLE", "CAP_MAC_ADMIN", "CAP_MAC_OVERRIDE", "CAP_MKNOD", "CAP_NET_ADMIN", "CAP_NET_BIND_SERVICE",
	"CAP_NET_BROADCAST", "CAP_NET_RAW", "CAP_PERFMON", "CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP", "CAP_SETUID", "CAP_SYSLOG",
	"CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_CHROOT", "CAP_SYS_MODULE", "CAP_SYS_NICE", "CAP_SYS_PACCT", "CAP_SYS_PTRACE",
	"CAP_SYS_RAWIO", "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_WAKE_ALARM"}

// Annotations runc keeps with the container (runc state shows them).
const (
	AnnotationDigest = "dev.labnet.image.digest"
	AnnotationOwner  = "dev.labnet.owner"
)

// Spec is the container's config.json.
func (r RuncContainer) Spec() *specs.Spec {
	caps := r.Caps
	if r.Privileged {
		caps = AllCaps
	}
	env := append(append([]string{}, r.Env...), OwnerEnvName+"="+r.Owner)
	s := &specs.Spec{
		// The version Debian 12's runc (1.1) implements; the fields used are in it.
		Version:  "1.0.2",
		Root:     &specs.Root{Path: "rootfs"},
		Hostname: r.Hostname,
		Process: &specs.Process{
			User: specs.User{UID: r.UID, GID: r.GID}, Args: r.Args, Env: env, Cwd: r.Cwd,
			Capabilities: &specs.LinuxCapabilities{Bounding: caps, Effective: caps, Permitted: caps},
		},
		Mounts: []specs.Mount{
			{Destination: "/proc", Type: "proc", Source: "proc"},
			{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
			{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}},
			{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
			{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}},
			{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}},
		},
		Annotations: map[string]string{AnnotationDigest: r.Digest, AnnotationOwner: r.Owner},
		Linux: &specs.Linux{
			Namespaces: []specs.LinuxNamespace{
				{Type: specs.PIDNamespace}, {Type: specs.NetworkNamespace, Path: netnsPath(r.Netns)},
				{Type: specs.IPCNamespace}, {Type: specs.UTSNamespace, Path: r.UTSNS}, {Type: specs.MountNamespace},
			},
			CgroupsPath: r.Cgroup,
			Resources:   r.resources(),
		},
	}
	if r.UTSNS != "" {
		s.Hostname = "" // runc sets none in a namespace it joins
	}
	for _, m := range r.Mounts {
		mode := "rw"
		if m.ReadOnly {
			mode = "ro"
		}
		s.Mounts = append(s.Mounts, specs.Mount{Destination: m.Target, Type: "bind", Source: m.Source, Options: []string{"rbind", "rprivate", mode}})
	}
	if !r.Privileged {
		s.Linux.MaskedPaths = []string{"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
			"/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"}
		s.Linux.ReadonlyPaths = []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}
	}
	return s
}

// resources are the container's cgroup settings: its devices, and its
// memory and CPU limits when it has them.
func (r RuncContainer) resources() *specs.LinuxResources {
	res := &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Allow: r.Privileged, Access: "rwm"}}}
	if r.Memory > 0 {
		res.Memory = &specs.LinuxMemory{Limit: &r.Memory}
	}
	if r.CPUQuota > 0 {
		period := uint64(CPUPeriod)
		res.CPU = &specs.LinuxCPU{Quota: &r.CPUQuota, Period: &period}
	}
	return res
}

// limitsUpdate is what `runc update -r` reads to set the container's
// limits in place: -1 lifts one.
func (r RuncContainer) limitsUpdate() []byte {
	mem, quota, period := int64(-1), int64(-1), uint64(CPUPeriod)
	if r.Memory > 0 {
		mem = r.Memory
	}
	if r.CPUQuota > 0 {
		quota = r.CPUQuota
	}
	b, _ := json.Marshal(specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: &mem}, CPU: &specs.LinuxCPU{Quota: &quota, Period: &period}})
	return b
}

// SpecJSON is config.json's content.
func (r RuncContainer) SpecJSON() []byte {
	b, _ := json.MarshalIndent(r.Spec(), "", "  ")
	return append(b, '\n')
}

// runcCreate makes the bundle's rootfs (the overlay, mounted once) and its
// private dirs: $1 the image dir, $2 the bundle, $3 "fresh" when refresh
// found no overlay there, then the private dirs. A path inside the rootfs
// that resolves elsewhere (a symlink of the image) is refused: nothing is
// written outside the container.
const runcCreate = `set -e
[ -e "$1/` + imageComplete + `" ] || { echo "image $1 is not on the host" >&2; exit 1; }
b=$2; img=$1; fresh=$3; shift 3
mkdir -p "$b/upper" "$b/work" "$b/rootfs"
[ "$fresh" != fresh ] && grep -qs " $b/rootfs overlay " /proc/self/mounts ||
  mount -t overlay -o "lowerdir=$img/rootfs,upperdir=$b/upper,workdir=$b/work" labnet "$b/rootfs"
for d in "$@"; do
  # Checked before it is made: mkdir would follow the image's symlinks
  # (/var/run -> /run) out of the container onto the host.
  [ "$(realpath -m "$b/rootfs$d")" = "$b/rootfs$d" ] || { echo "private dir $d leaves the container" >&2; exit 1; }
  mkdir -p "$b/rootfs$d"
done`

// runcFile writes one file of the container ($1 its dir in the rootfs,
// $2 its path there, $3 its mode) from base64 on stdin.
const runcFile = `[ "$(realpath -m "$1")" = "$1" ] && mkdir -p "$1" || { echo "$1 leaves the container" >&2; exit 1; }
base64 -d >"$2.labnet-new" && chmod "$3" "$2.labnet-new" && { [ -f "$2" ] || [ ! -e "$2" ] || rm -rf "$2"; } && mv -f "$2.labnet-new" "$2"`

// supervisorOf is a shell function: labnet_sup BUNDLE prints the pid of
// the bundle's supervisor when it is alive (not a zombie: killed, it may
// wait for a parent that does not reap). Its pid file holds its start
// time too, so a pid reused by another process is not taken for it.
const supervisorOf = `labnet_sup() { read -r p t 2>/dev/null <"$1/supervisor" && read -r s 2>/dev/null <"/proc/$p/stat" || return 1
s=${s##*) }; set -- $s; [ "$1" != Z ] && shift 19 && [ "$1" = "$t" ] && echo "$p"; }`

// runcRun (re)starts the container: $1 the bundle, $2 its id, $3 its log,
// $4 its owner mark, $5 "fresh" when refresh found no container of that id
// (nothing to delete first), then the cgroup controllers its limits need.
// An old supervisor goes first (it would record the old container's end),
// then the old container. The new supervisor starts in the background, so the
// supervisors and runc of a stage's containers start at once; Verify waits
// for each to say how runc did.
const runcRun = supervisorOf + `
b=$1 id=$2 log=$3 owner=$4 fresh=$5; shift 5
p=$(labnet_sup "$b") && kill -9 "$p" 2>/dev/null
[ "$fresh" = fresh ] || { runc kill "$id" KILL >/dev/null 2>&1; runc delete -f "$id" >/dev/null 2>&1; }
rm -f "$b/exit" "$b/pid" "$b/started" "$b/supervisor"
for c in "$@"; do
  if [ -f /sys/fs/cgroup/cgroup.controllers ]; then grep -qw "$c" /sys/fs/cgroup/cgroup.controllers
  else awk -v c="$c" '$3 == "cgroup" { n = split($4, o, ","); for (i = 1; i <= n; i++) if (o[i] == c) f = 1 } END { exit !f }' /proc/self/mounts
  fi || { echo "this host has no $c cgroup controller: the container's $c limit cannot be set" >&2; exit 1; }
done
command -v python3 >/dev/null || { echo "python3 is not on the host: it supervises image containers" >&2; exit 1; }
(cd / && exec env ` + OwnerEnvName + `="$owner" python3 -S "$b/supervise.py" "$b" "$id" "$log") </dev/null >/dev/null 2>&1 &`

//go:embed supervise.py
var supervisepy []byte

// heredoc is a here-document of content in base64 lines, ended by end.
func heredoc(content []byte, end string) string {
	var b strings.Builder
	enc := base64.StdEncoding.EncodeToString(content)
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\n")
		enc = enc[76:]
	}
	if enc != "" {
		b.WriteString(enc + "\n")
	}
	return b.String() + end + "\n"
}

// CreateShell makes the bundle (overlay rootfs, private dirs, files,
// config.json, the supervisor) and starts the container; the image must be
// on the host. Run again on an existing bundle it keeps the container's
// own layer and restarts it (a repair).
func (r RuncContainer) CreateShell() string {
	root := r.Bundle + "/rootfs"
	fresh := "again"
	if r.Fresh {
		fresh = "fresh"
	}
	cmds := []shellCmd{{line: remote.Join(append([]string{"sh", "-c", runcCreate, "labnet-runc", ImageDir(r.Digest), r.Bundle, fresh}, r.Dirs...)...)}}
	for _, f := range r.Files {
		line := remote.Join("sh", "-c", runcFile, "labnet-file", root+dirOf(f.Path), root+f.Path, fmt.Sprintf("%04o", f.Mode))
		cmds = append(cmds, shellCmd{line: line + " <<'LABNET_FILE'", heredoc: heredoc(f.Content, "LABNET_FILE")})
	}
	cmds = append(cmds, shellCmd{line: "base64 -d >" + remote.Quote(r.Bundle+"/config.json") + " <<'LABNET_SPEC'", heredoc: heredoc(r.SpecJSON(), "LABNET_SPEC")},
		shellCmd{line: "base64 -d >" + remote.Quote(r.Bundle+"/supervise.py") + " <<'LABNET_SUP'", heredoc: heredoc(supervisepy, "LABNET_SUP")})
	run := []string{"sh", "-c", runcRun, "labnet-runc", r.Bundle, r.ID, r.Log, r.Owner, fresh}
	if r.Memory > 0 {
		run = append(run, "memory")
	}
	if r.CPUQuota > 0 {
		run = append(run, "cpu")
	}
	cmds = append(cmds, shellCmd{line: remote.Join(run...)})
	return chain(cmds)
}

// UpdateShell sets the running container's limits in place (runc
// update), and writes its config.json again so that a restart keeps them.
func (r RuncContainer) UpdateShell() string {
	return chain([]shellCmd{
		{line: "base64 -d >" + remote.Quote(r.Bundle+"/config.json") + " <<'LABNET_SPEC'", heredoc: heredoc(r.SpecJSON(), "LABNET_SPEC")},
		{line: remote.Join("runc", "update", "-r", "-", r.ID) + " <<'LABNET_LIMITS'", heredoc: string(r.limitsUpdate()) + "\nLABNET_LIMITS\n"},
	})
}

func dirOf(p string) string {
	if i := strings.LastIndex(p, "/"); i > 0 {
		return p[:i]
	}
	return ""
}

// verifyRunc waits (up to 10 s) for the supervisor of bundle $1 to say
// how runc did, then fails, with how the container ended and the tail of
// its log $3, unless its init runs: it reads that with the shell's read
// from /proc (runc state, a process each, was a tenth of the time of
// making 100 containers).
const verifyRunc = `b=$1 i=0
until [ -e "$b/started" ]; do i=$((i + 1)); [ $i -le 1000 ] || break; sleep 0.01; done
s=; read -r s 2>/dev/null <"$b/started"
case $s in
started*) p=${s#started } st=; read -r st 2>/dev/null <"/proc/$p/stat"; st=${st##*) }
  case $st in ''|Z*|X*) ;; *) exit 0;; esac
  i=0; until [ -e "$b/exit" ]; do i=$((i + 1)); [ $i -le 100 ] || break; sleep 0.01; done
  x=; read -r x 2>/dev/null <"$b/exit"
  case $x in "exit "*) x="exit code ${x#exit }";; "signal "*) x="killed by signal ${x#signal }";; *) x="its end was not recorded";; esac
  echo "container exited at once ($x); last lines of $3:";;
"") echo "its supervisor did not start it in 10s; last lines of $3:";;
*) echo "runc did not start it (${s#failed: }); last lines of $3:";;
esac
tail -n 5 "$3"; exit 1`

// Verify fails, with how it ended and the tail of its log, when the
// container is not running.
func (r RuncContainer) Verify() string {
	return remote.Join("sh", "-c", verifyRunc, "labnet-verify", r.Bundle, r.ID, r.Log)
}

// cgroupRemove defines labnet_cgroots, where the cgroup hierarchies are
// mounted as systemd and Debian mount them (v2 at /sys/fs/cgroup, v1 in
// its subdirectories: a glob, no process), and two shell functions.
// labnet_cgrm CGROUP removes the cgroup and every cgroup below it from
// every hierarchy, killing what still runs in them (whatever is in a
// cgroup of labnet's is the lab's), and waits for the kernel to let go of
// them.
const cgroupRemove = `labnet_cgroots=
for m in /sys/fs/cgroup /sys/fs/cgroup/*; do [ -d "$m" ] && [ ! -L "$m" ] && labnet_cgroots="$labnet_cgroots $m"; done
labnet_cgrm() {
  i=0
  while :; do
    left=
    for m in $labnet_cgroots; do
      [ -d "$m$1" ] || continue
      find "$m$1" -name cgroup.procs -exec cat {} + 2>/dev/null | while read -r p; do kill -9 "$p" 2>/dev/null; done
      find "$m$1" -depth -type d -exec rmdir {} + 2>/dev/null
      [ -d "$m$1" ] && left=$m$1
    done
    [ -z "$left" ] && return 0
    i=$((i + 1))
    [ $i -lt 100 ] || { echo "cgroup $left is still in use" >&2; return 1; }
    sleep 0.05
  done
}
labnet_cgrmdir() {
  # Only a dir without subdirs goes (a glob, no process: the host's dir
  # stays while other containers are in it).
  for m in $labnet_cgroots; do
    [ -d "$m$1" ] || continue
    set -- "$1" "$m$1"/*/
    [ -d "$2" ] || rmdir "$m$1" 2>/dev/null
    set -- "$1"
  done
  true
}`

// RuncDeleteShell removes a runc container, its supervisor, its overlay,
// its bundle (its own layer with it) and its cgroup, and its host's
// cgroup dir when it was the last there; the image stays. The container
// is killed before it is deleted: runc delete -f of a running container
// signals it and then sleeps 100 ms before it looks again, while one
// killed first is found stopped (~6 ms each instead of ~105).
func RuncDeleteShell(id, bundle, cgroup string) string {
	script := supervisorOf + "\n" + cgroupRemove + `
p=$(labnet_sup "$2") && kill -9 "$p" 2>/dev/null
runc kill "$1" KILL >/dev/null 2>&1; runc delete -f "$1" >/dev/null 2>&1
umount "$2/rootfs" 2>/dev/null || { grep -qs " $2/rootfs overlay " /proc/self/mounts && umount -l "$2/rootfs"; }
rm -rf "$2"
[ -z "$3" ] || { labnet_cgrm "$3" && labnet_cgrmdir "${3%/*}"; }`
	return remote.Join("sh", "-c", script, "labnet-runc", id, bundle, cgroup)
}

// RuncSweepShell removes every image container of the lab on a host by
// its marks: runc containers by id, overlays under the lab's run dir, the
// host's cgroups (and the lab's cgroup dir, when no other host of the lab
// is left in it). The lab's processes (supervisors too) are killed before.
func RuncSweepShell(n Names, hostName string) string {
	return remote.Join("sh", "-c", cgroupRemove+`
if command -v runc >/dev/null; then
  runc list -q 2>/dev/null | while read -r id; do case $id in "$1"*) runc delete -f "$id" >/dev/null 2>&1;; esac; done
fi
awk -v d="$2/" '$3 == "overlay" && index($2, d) == 1 { print $2 }' /proc/self/mounts | while read -r m; do umount -l "$m"; done
labnet_cgrm "$3" && labnet_cgrmdir "$4"`, "labnet-sweep", n.RuncPrefix(), n.RunDir(), n.CgroupDir(hostName), n.CgroupDir(""))
}

// ImageShipShell unpacks an image's flattened rootfs (a tar, sent in
// base64) into its ImageDir, unless it is there already: into a new
// directory renamed in place when complete, so a half-unpacked image is
// never used. Unpacking holds a lock beside it (two hosts sharing a
// filesystem, netns hosts all do, take turns), so a new directory found
// under the lock was left by an unpacking that died (a killed labnet's):
// it is removed.
//
// then runs after it, if it succeeded.
func ImageShipShell(digest string, rootfsTar []byte, then string) string {
	script := `d=$1; [ -e "$d/` + imageComplete + `" ] && { cat >/dev/null; exit 0; }
mkdir -p "$(dirname "$d")" && exec 9>>"$d.lock" && flock 9 || exit 1
[ -e "$d/` + imageComplete + `" ] && { cat >/dev/null; exit 0; }
rm -rf "$d.new" && mkdir -p "$d.new/rootfs" &&
base64 -d | tar -x --numeric-owner -p -C "$d.new/rootfs" && : >"$d.new/` + imageComplete + `" && mv -T "$d.new" "$d"`
	return remote.Join("sh", "-c", script, "labnet-image", ImageDir(digest)) + " <<'LABNET_IMAGE' &&\n" + heredoc(rootfsTar, "LABNET_IMAGE") +
		"{\n" + then + "\n}"
}

// RuncRead is what refresh reads of one image container: runc's state of
// ID, how its supervisor saw it end (in Bundle), and its Cgroup's limits.
type RuncRead struct {
	ID, Bundle, Cgroup string
	Mounts             []string // the targets of its bind mounts
	Files, Dirs        []string // its files and private dirs, in its rootfs
	Hostname           bool     // read its hostname (it has a UTS namespace of its own)
}

// runcReader defines labnet_runc ID BUNDLE CGROUP, which prints `runc
// state` (nothing when there is no such container), then "=" lines: the
// supervisor's record of its end, whether the supervisor is alive, and
// from its cgroup its memory limit, OOM kills and CPU quota (cgroup v1 or
// v2, whichever holds the memory and cpu controllers).
const runcReader = supervisorOf + `
cgm= cgc= cg2=
eval "$(awk '$3 == "cgroup2" && !u { u = 1; print "cg2=" $2 }
$3 == "cgroup" { n = split($4, o, ","); for (i = 1; i <= n; i++) { if (o[i] == "memory") print "cgm=" $2; if (o[i] == "cpu") print "cgc=" $2 } }' /proc/self/mounts)"
labnet_runc() {
  b=$2 cg=$3
  echo "@@runc $1"
  case $runcs in *" $1 "*) ;; *) return 0;; esac
  runc state "$1" 2>/dev/null || return 0
  echo
  read -r x 2>/dev/null <"$b/exit" && echo "=exit $x"
  labnet_sup "$b" >/dev/null && echo "=supervised"
  # runc's pid file has no newline: read fails at its end, yet reads it.
  p=; read -r p 2>/dev/null <"$b/pid"
  shift 3
  # What else it was made with: m:TARGET a bind mount (its init's mount
  # table), f:PATH a file and d:PATH a private dir of its rootfs (the
  # overlay, mounted on the host), h its hostname.
  for a in "$@"; do
    case $a in
    m:*) [ -n "$p" ] && awk -v t="${a#m:}" '$5 == t { print "=mount " $5 " " $6 }' "/proc/$p/mountinfo" 2>/dev/null;;
    f:*) f=$b/rootfs${a#f:}
      if [ -f "$f" ] && [ ! -L "$f" ]; then x=$(sha256sum <"$f") && echo "=file ${a#f:} $(stat -c %a "$f") ${x%% *}"; else echo "=file ${a#f:} missing"; fi;;
    d:*) [ -d "$b/rootfs${a#d:}" ] && echo "=dir ${a#d:}";;
    h) [ -n "$p" ] && x=$(nsenter -t "$p" -u hostname 2>/dev/null) && echo "=hostname $x";;
    esac
  done
  [ -n "$cg" ] || return 0
  # In its cgroup: a line of its init's cgroup file ends in it (v1: one
  # per hierarchy; v2: "0::PATH"); read by the shell, no process.
  [ -n "$p" ] && while IFS= read -r l; do case $l in *":$cg") echo "=cgroup"; break;; esac; done <"/proc/$p/cgroup" 2>/dev/null
  if [ -n "$cgm" ]; then m=$cgm$cg/memory.limit_in_bytes e=$cgm$cg/memory.oom_control
  else m=$cg2$cg/memory.max e=$cg2$cg/memory.events; fi
  read -r x 2>/dev/null <"$m" && echo "=memory $x" && while read -r k v; do [ "$k" = oom_kill ] && echo "=oom $v"; done <"$e"
  if [ -n "$cgc" ]; then read -r q 2>/dev/null <"$cgc$cg/cpu.cfs_quota_us" && read -r x <"$cgc$cg/cpu.cfs_period_us" && echo "=cpu $q $x"
  elif [ -z "$cgm" ]; then read -r x 2>/dev/null <"$cg2$cg/cpu.max" && echo "=cpu $x"; fi
  return 0
}`

// RuncReadShell reads the image containers rs (sections "@@runc ID").
func RuncReadShell(rs []RuncRead) string {
	if len(rs) == 0 {
		return ""
	}
	var b strings.Builder
	// One runc list says which containers are there; runc state (a
	// process each) reads only those: a refresh before creating N
	// containers runs one runc, not N.
	b.WriteString(runcReader + "\nruncs=' '; for id in $(runc list -q 2>/dev/null); do runcs=\"$runcs$id \"; done\n")
	for _, r := range rs {
		args := []string{"labnet_runc", r.ID, r.Bundle, r.Cgroup}
		for _, m := range r.Mounts {
			args = append(args, "m:"+m)
		}
		for _, f := range r.Files {
			args = append(args, "f:"+f)
		}
		for _, d := range r.Dirs {
			args = append(args, "d:"+d)
		}
		if r.Hostname {
			args = append(args, "h")
		}
		b.WriteString(remote.Join(args...) + "\n")
	}
	return b.String()
}

// RuncSeen is a runc container as refresh read it.
type RuncSeen struct {
	Status string // running, stopped, created, paused
	Pid    int
	Digest string // its image's, from the annotation
	Bundle string
	// Exit is how its init ended, as its supervisor recorded it ("exit
	// 137", "signal 9"; "" when nothing was recorded), Supervised whether
	// the supervisor still waits for it.
	Exit       string
	Supervised bool
	// Mounts: the bind mounts found in its init's mount table, target ->
	// options ("ro,relatime").
	Mounts map[string]string
	// Files: path -> "MODE SHA256" (octal mode) or "missing"; Dirs: the
	// private dirs found; Hostname: its UTS namespace's, when read.
	Files        map[string]string
	Dirs         map[string]bool
	Hostname     string
	HostnameRead bool
	// Cgroup: its init is in its cgroup (its /proc cgroup file says so).
	// Memory is its limit (-1: none),
	// OOMKills how many of its processes the kernel killed for memory,
	// CPUQuota and CPUPeriod its CPU quota (quota -1: none; period 0: the
	// cpu controller was not read).
	Cgroup              bool
	Memory              int64
	OOMKills            int
	CPUQuota, CPUPeriod int64
}

// unlimited: cgroup v1 shows "no limit" as the largest page-aligned
// int64; anything this large limits nothing.
const unlimited = 1 << 62

// parseRuncState reads labnet_runc's output: `runc state`'s JSON, then
// its "=" lines.
func parseRuncState(body []byte) (*RuncSeen, error) {
	js, rest := body, []byte(nil)
	if i := bytes.Index(body, []byte("\n=")); i >= 0 {
		js, rest = body[:i+1], body[i+1:]
	}
	var raw struct {
		Status      string            `json:"status"`
		Pid         int               `json:"pid"`
		Bundle      string            `json:"bundle"`
		Annotations map[string]string `json:"annotations"`
	}
	if err := json.Unmarshal(js, &raw); err != nil {
		return nil, err
	}
	s := &RuncSeen{Status: raw.Status, Pid: raw.Pid, Bundle: raw.Bundle, Digest: raw.Annotations[AnnotationDigest], Memory: -1, CPUQuota: -1}
	for _, line := range strings.Split(string(rest), "\n") {
		key, val, _ := strings.Cut(strings.TrimPrefix(line, "="), " ")
		f := strings.Fields(val)
		var err error
		switch key {
		case "":
		case "exit":
			s.Exit = val
		case "supervised":
			s.Supervised = true
		case "file":
			path, what, _ := strings.Cut(val, " ")
			if s.Files == nil {
				s.Files = map[string]string{}
			}
			s.Files[path] = what
		case "dir":
			if s.Dirs == nil {
				s.Dirs = map[string]bool{}
			}
			s.Dirs[val] = true
		case "hostname":
			s.Hostname, s.HostnameRead = val, true
		case "mount":
			if len(f) != 2 {
				return nil, fmt.Errorf("mount %q is not TARGET OPTIONS", val)
			}
			if s.Mounts == nil {
				s.Mounts = map[string]string{}
			}
			s.Mounts[f[0]] = f[1]
		case "cgroup":
			s.Cgroup = true
		case "memory":
			if val != "max" {
				if s.Memory, err = strconv.ParseInt(val, 10, 64); err == nil && s.Memory >= unlimited {
					s.Memory = -1
				}
			}
		case "oom":
			s.OOMKills, err = strconv.Atoi(val)
		case "cpu":
			// v1: "QUOTA PERIOD" with -1 for none; v2: "max PERIOD" or "QUOTA PERIOD".
			if len(f) != 2 {
				return nil, fmt.Errorf("cpu %q is not QUOTA PERIOD", val)
			}
			if f[0] != "max" && f[0] != "-1" {
				if s.CPUQuota, err = strconv.ParseInt(f[0], 10, 64); err != nil {
					break
				}
			}
			s.CPUPeriod, err = strconv.ParseInt(f[1], 10, 64)
		default:
			return nil, fmt.Errorf("unknown line %q", line)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
	}
	return s, nil
}

// Drift compares what refresh read of the container with what
// CreateShell makes. An image of another digest is a replacement (the
// plan names image_digest); anything else is repaired by RepairShell.
func (r RuncContainer) Drift(k *Observed) (drift []string, unrepairable bool) {
	restart, update, unrepairable := r.judge(k)
	return append(restart, update...), unrepairable
}

// Restarts says whether the repair of what refresh found starts the
// container again (a restart, not limits set in place).
func (r RuncContainer) Restarts(k *Observed) bool {
	restart, _, _ := r.judge(k)
	return len(restart) > 0
}

// RepairShell is what repairs the drift refresh found: nothing, the
// limits set in place (UpdateShell), or the container made and started
// again (CreateShell).
func (r RuncContainer) RepairShell(k *Observed) string {
	restart, update, _ := r.judge(k)
	switch {
	case len(restart) > 0:
		return r.CreateShell()
	case len(update) > 0:
		return r.UpdateShell()
	}
	return ""
}

// judge sorts the drift into what only a restart repairs and what runc
// update sets in place (the limits of a running container).
func (r RuncContainer) judge(k *Observed) (restart, update []string, unrepairable bool) {
	if !k.Images[r.Digest] {
		restart = append(restart, "image "+r.Digest+" is not on the host")
	}
	if !slices.Contains(k.Overlays, r.Bundle+"/rootfs") {
		restart = append(restart, "overlay "+r.Bundle+"/rootfs is not mounted")
	}
	seen := k.Runc[r.ID]
	switch {
	case seen == nil:
		return append(restart, "runc container "+r.ID+" is missing"), nil, false
	case seen.Digest != r.Digest:
		return append(restart, fmt.Sprintf("runc container %s runs image %q, wants %s", r.ID, seen.Digest, r.Digest)), nil, true
	case seen.Status == "stopped":
		return append(restart, "runc container "+r.ID+" stopped, "+seen.ended()), nil, false
	case seen.Status != "running":
		return append(restart, "runc container "+r.ID+" is "+seen.Status), nil, false
	case !seen.Supervised:
		return append(restart, "runc container "+r.ID+" runs without its supervisor (its end would not be recorded)"), nil, false
	}
	for _, f := range r.Files {
		switch got := seen.Files[f.Path]; got {
		case fmt.Sprintf("%o %s", f.Mode, f.Digest()):
		case "", "missing":
			restart = append(restart, "file "+f.Path+" is missing")
		default:
			restart = append(restart, fmt.Sprintf("file %s is mode %s, sha256 %.12s, wants mode %o, sha256 %.12s",
				f.Path, strings.Fields(got)[0], strings.Fields(got + " ?")[1], f.Mode, f.Digest()))
		}
	}
	for _, d := range r.Dirs {
		if !seen.Dirs[d] {
			restart = append(restart, "private dir "+d+" is missing")
		}
	}
	if seen.HostnameRead && r.UTSNS == "" && seen.Hostname != r.Hostname {
		restart = append(restart, fmt.Sprintf("hostname is %q, wants %q", seen.Hostname, r.Hostname))
	}
	for _, m := range r.Mounts {
		opts, ok := seen.Mounts[m.Target]
		ro := slices.Contains(strings.Split(opts, ","), "ro")
		switch {
		case !ok:
			restart = append(restart, "mount "+m.Target+" is missing")
		case ro && !m.ReadOnly:
			restart = append(restart, "mount "+m.Target+" is read-only, wants read-write")
		case !ro && m.ReadOnly:
			restart = append(restart, "mount "+m.Target+" is read-write, wants read-only")
		}
	}
	switch {
	case r.Cgroup == "":
		return restart, nil, false // made by a labnet that gave it none
	case !seen.Cgroup:
		return append(restart, "runc container "+r.ID+" is not in its cgroup "+r.Cgroup), nil, false
	}
	if !memoryMatches(seen.Memory, r.Memory) {
		want := r.Memory
		if want == 0 {
			want = -1
		}
		update = append(update, fmt.Sprintf("memory limit is %s, wants %s", FormatMemory(seen.Memory), FormatMemory(want)))
	}
	wantQ := r.CPUQuota
	if wantQ == 0 {
		wantQ = -1
	}
	if seen.CPUQuota != wantQ || (wantQ > 0 && seen.CPUPeriod != CPUPeriod) {
		update = append(update, fmt.Sprintf("cpus is %s, wants %s", formatCPUs(seen.CPUQuota, seen.CPUPeriod), formatCPUs(wantQ, CPUPeriod)))
	}
	return restart, update, false
}

// memoryMatches: the kernel keeps a limit rounded down to its page size.
func memoryMatches(seen, want int64) bool {
	if want <= 0 {
		return seen < 0
	}
	return seen > 0 && seen <= want && want-seen < 64<<10
}

// ended says how a stopped container's init ended.
func (s *RuncSeen) ended() string {
	kind, n, _ := strings.Cut(s.Exit, " ")
	var why string
	switch kind {
	case "exit":
		why = "exit code " + n
	case "signal":
		why = "killed by signal " + n
		if num, err := strconv.Atoi(n); err == nil && signalNames[num] != "" {
			why += " (" + signalNames[num] + ")"
		}
	default:
		return "its end was not recorded (its supervisor is gone)"
	}
	if s.OOMKills > 0 {
		why += fmt.Sprintf(", out of memory (%d OOM kill(s) in its cgroup)", s.OOMKills)
	}
	return why
}

// signalNames are Linux's signal numbers (the hosts run Linux, whatever
// labnet runs on).
var signalNames = map[int]string{1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 5: "SIGTRAP", 6: "SIGABRT", 7: "SIGBUS", 8: "SIGFPE",
	9: "SIGKILL", 10: "SIGUSR1", 11: "SIGSEGV", 12: "SIGUSR2", 13: "SIGPIPE", 14: "SIGALRM", 15: "SIGTERM", 24: "SIGXCPU", 25: "SIGXFSZ", 31: "SIGSYS"}

// FormatMemory writes bytes in the largest binary unit that holds them
// whole, else the largest decimal one, else in bytes; -1 is "none".
func FormatMemory(b int64) string {
	if b < 0 {
		return "none"
	}
	for _, u := range []struct {
		n    int64
		name string
	}{{1 << 40, "TiB"}, {1 << 30, "GiB"}, {1 << 20, "MiB"}, {1 << 10, "KiB"}, {1e12, "TB"}, {1e9, "GB"}, {1e6, "MB"}, {1e3, "kB"}} {
		if b >= u.n && b%u.n == 0 {
			return strconv.FormatInt(b/u.n, 10) + u.name
		}
	}
	return strconv.FormatInt(b, 10) + "B"
}

// formatCPUs writes a CPU quota as a number of CPUs; -1 is "unlimited".
func formatCPUs(quota, period int64) string {
	switch {
	case quota < 0:
		return "unlimited"
	case period <= 0:
		return "unknown"
	case period != CPUPeriod:
		return fmt.Sprintf("%s (%d µs per %d)", FormatCPUs(float64(quota)/float64(period)), quota, period)
	}
	return FormatCPUs(float64(quota) / CPUPeriod)
}

// FormatCPUs writes a number of CPUs as the lab does (0.5, 2).
func FormatCPUs(c float64) string { return strconv.FormatFloat(c, 'f', -1, 64) }
