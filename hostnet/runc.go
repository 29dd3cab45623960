package hostnet

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
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

// RuncContainer is a container run by runc from an image: an OCI bundle
// whose rootfs is an overlay (the image's unpacked rootfs, shared, under a
// writable layer of its own), in the container's network namespace.
type RuncContainer struct {
	ID       string
	Bundle   string
	Netns    string
	Hostname string
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
	Log        string   // its stdout and stderr
	// Fresh: refresh found neither a runc container of its id nor its
	// overlay, so CreateShell neither deletes an old container nor looks
	// for a mounted overlay first (two processes a container fewer).
	Fresh bool
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
				{Type: specs.IPCNamespace}, {Type: specs.UTSNamespace}, {Type: specs.MountNamespace},
			},
			Resources: &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Allow: r.Privileged, Access: "rwm"}}},
		},
	}
	if !r.Privileged {
		s.Linux.MaskedPaths = []string{"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
			"/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"}
		s.Linux.ReadonlyPaths = []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}
	}
	return s
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
  mkdir -p "$b/rootfs$d"
  [ "$(realpath "$b/rootfs$d")" = "$b/rootfs$d" ] || { echo "private dir $d leaves the container" >&2; exit 1; }
done`

// runcFile writes one file of the container ($1 its dir in the rootfs,
// $2 its path there, $3 its mode) from base64 on stdin.
const runcFile = `mkdir -p "$1" && [ "$(realpath "$1")" = "$1" ] || { echo "$1 leaves the container" >&2; exit 1; }
base64 -d >"$2.labnet-new" && chmod "$3" "$2.labnet-new" && { [ -f "$2" ] || [ ! -e "$2" ] || rm -rf "$2"; } && mv -f "$2.labnet-new" "$2"`

// runcRun (re)starts the container: $1 the bundle, $2 its id, $3 its log,
// $4 "fresh" when refresh found no container of that id (nothing to
// delete first). runc's detached mode hands its own stdio to the
// container's process: the log file, and /dev/null for stdin.
const runcRun = `[ "$4" = fresh ] || runc delete -f "$2" >/dev/null 2>&1
runc run -d --pid-file "$1/pid" -b "$1" "$2" >>"$3" 2>&1 </dev/null || { echo "runc run failed; last lines of $3:" >&2; tail -n 5 "$3" >&2; exit 1; }`

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
// config.json) and starts the container; the image must be on the host.
// Run again on an existing bundle it keeps the container's own layer and
// restarts it (a repair).
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
	cmds = append(cmds, shellCmd{line: "base64 -d >" + remote.Quote(r.Bundle+"/config.json") + " <<'LABNET_SPEC'", heredoc: heredoc(r.SpecJSON(), "LABNET_SPEC")})
	cmds = append(cmds, shellCmd{line: remote.Join("sh", "-c", runcRun, "labnet-runc", r.Bundle, r.ID, r.Log, fresh)})
	return chain(cmds)
}

func dirOf(p string) string {
	if i := strings.LastIndex(p, "/"); i > 0 {
		return p[:i]
	}
	return ""
}

// Verify fails, with the tail of its log, when the container is not running:
// its init (the pid runc run wrote) is gone or a zombie. It reads that
// with the shell's read, as runc state would (a process each: a tenth of
// the time of making 100 containers).
func (r RuncContainer) Verify() string {
	return fmt.Sprintf(`p= s=; read -r p <%s 2>/dev/null; [ -n "$p" ] && read -r s </proc/"$p"/stat 2>/dev/null; s=${s##*) }
case $s in ''|Z*|X*) echo 'container exited at once; last lines of %s:'; tail -n 5 %s; exit 1;; esac`,
		remote.Quote(r.Bundle+"/pid"), r.Log, remote.Quote(r.Log))
}

// RuncDeleteShell removes a runc container, its overlay and its bundle
// (its own layer with it); the image stays. The container is killed
// before it is deleted: runc delete -f of a running container signals it
// and then sleeps 100 ms before it looks again, while one killed first is
// found stopped (a tenth of the time of removing 100 containers, ~6 ms
// each instead of ~105).
func RuncDeleteShell(id, bundle string) string {
	return remote.Join("sh", "-c", `runc kill "$1" KILL >/dev/null 2>&1; runc delete -f "$1" >/dev/null 2>&1
if grep -qs " $2/rootfs overlay " /proc/self/mounts; then umount "$2/rootfs" 2>/dev/null || umount -l "$2/rootfs"; fi
rm -rf "$2"`, "labnet-runc", id, bundle)
}

// ImageShipShell unpacks an image's flattened rootfs (a tar, sent in
// base64) into its ImageDir, unless it is there already: into a new
// directory renamed in place when complete, so a half-unpacked image is
// never used and two hosts sharing a filesystem do not collide.
//
// then runs after it, if it succeeded.
func ImageShipShell(digest string, rootfsTar []byte, then string) string {
	script := `d=$1; [ -e "$d/` + imageComplete + `" ] && { cat >/dev/null; exit 0; }
mkdir -p "$(dirname "$d")" && t=$(mktemp -d "$d.new.XXXXXX") && mkdir "$t/rootfs" &&
base64 -d | tar -x --numeric-owner -p -C "$t/rootfs" && : >"$t/` + imageComplete + `" &&
{ mv -T "$t" "$d" 2>/dev/null || { rm -rf "$t"; [ -e "$d/` + imageComplete + `" ]; }; }`
	return remote.Join("sh", "-c", script, "labnet-image", ImageDir(digest)) + " <<'LABNET_IMAGE' &&\n" + heredoc(rootfsTar, "LABNET_IMAGE") +
		"{\n" + then + "\n}"
}

// RuncSeen is a runc container as `runc state` shows it.
type RuncSeen struct {
	Status string // running, stopped, created, paused
	Pid    int
	Digest string // its image's, from the annotation
	Bundle string
}

// parseRuncState reads `runc state`'s JSON.
func parseRuncState(body []byte) (*RuncSeen, error) {
	var raw struct {
		Status      string            `json:"status"`
		Pid         int               `json:"pid"`
		Bundle      string            `json:"bundle"`
		Annotations map[string]string `json:"annotations"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, err
	}
	return &RuncSeen{Status: raw.Status, Pid: raw.Pid, Bundle: raw.Bundle, Digest: raw.Annotations[AnnotationDigest]}, nil
}

// Drift compares what refresh read of the container with what
// CreateShell makes. An image of another digest is a replacement (the
// plan names image_digest); anything else is repaired by CreateShell.
func (r RuncContainer) Drift(k *Observed) (drift []string, unrepairable bool) {
	if !k.Images[r.Digest] {
		drift = append(drift, "image "+r.Digest+" is not on the host")
	}
	if !slices.Contains(k.Overlays, r.Bundle+"/rootfs") {
		drift = append(drift, "overlay "+r.Bundle+"/rootfs is not mounted")
	}
	seen := k.Runc[r.ID]
	switch {
	case seen == nil:
		drift = append(drift, "runc container "+r.ID+" is missing")
	case seen.Digest != r.Digest:
		return append(drift, fmt.Sprintf("runc container %s runs image %q, wants %s", r.ID, seen.Digest, r.Digest)), true
	case seen.Status != "running":
		drift = append(drift, "runc container "+r.ID+" is "+seen.Status)
	}
	return drift, false
}
