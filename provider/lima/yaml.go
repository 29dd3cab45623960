package lima

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"github.com/labnet-dev/labnet/provider"
	"gopkg.in/yaml.v3"
)

// The parts of Lima's template (lima.yaml) that labnet writes. Field order
// is the document's order.
type limaYAML struct {
	MinimumLimaVersion string      `yaml:"minimumLimaVersion,omitempty"`
	Base               string      `yaml:"base,omitempty"`
	Images             []limaImage `yaml:"images,omitempty"`
	CPUs               int         `yaml:"cpus,omitempty"`
	Memory             string      `yaml:"memory,omitempty"`
	Disk               string      `yaml:"disk,omitempty"`
	Mounts             []struct{}  `yaml:"mounts"` // always [], no host directory in a lab VM
	Containerd         containerd  `yaml:"containerd"`
	Networks           []limaNet   `yaml:"networks,omitempty"`
	Provision          []provision `yaml:"provision,omitempty"`
}

type limaImage struct {
	Location string `yaml:"location"`
	Arch     string `yaml:"arch"`
}

type containerd struct {
	System bool `yaml:"system"`
	User   bool `yaml:"user"`
}

type limaNet struct {
	Lima string `yaml:"lima"`
}

type provision struct {
	Mode        string `yaml:"mode"`
	Script      string `yaml:"script,omitempty"`
	Path        string `yaml:"path,omitempty"`
	Content     string `yaml:"content,omitempty"`
	Permissions string `yaml:"permissions,omitempty"`
}

// keepHostKeys stops cloud-init from making new SSH host keys at every
// boot: Lima gives cloud-init a new instance id on each start, so a VM
// restarted outside labnet would otherwise present a new key and be
// refused as a changed host. (Found on a real Lima run.)
var keepHostKeys = provision{Mode: "data", Path: "/etc/cloud/cloud.cfg.d/99-labnet-keep-ssh-host-keys.cfg",
	Content: "ssh_deletekeys: false\n", Permissions: "644"}

// provisionScript makes sure the tools labnet drives exist. It installs
// nothing when they do (the offline image has them all) and tries apt only
// when something is missing; a failure is left for labnet's own checks to
// report, so a VM without network access still boots.
const provisionScript = `#!/bin/sh
# written by labnet: ensure ip, nft, python3 and runc exist; install nothing else
# The VM's own name resolves (sudo warns "unable to resolve host" on every
# command otherwise, into the output of labnet exec).
h=$(hostname)
if [ -n "$h" ] && ! grep -qE "^[^#]*[[:space:]]$h([[:space:]]|$)" /etc/hosts; then
  echo "127.0.1.1 $h" >> /etc/hosts
fi
missing=""
command -v ip >/dev/null 2>&1 || missing="$missing iproute2"
command -v nft >/dev/null 2>&1 || missing="$missing nftables"
command -v python3 >/dev/null 2>&1 || missing="$missing python3"
command -v runc >/dev/null 2>&1 || missing="$missing runc"
[ -z "$missing" ] && exit 0
if command -v apt-get >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing ||
    echo "labnet: could not install$missing" >&2
fi
exit 0
`

// DefaultNetwork is the Lima network lab VMs join unless configured
// otherwise: user-v2 lets VMs reach each other (on Lima's default user-mode
// network every VM has the same address, 192.168.5.15).
const DefaultNetwork = "user-v2"

// markerPrefix starts the comment that marks a VM as a lab's; Lima keeps
// the template's comments in the instance's lima.yaml.
const markerPrefix = "# labnet: lab="

func marker(lab, hostAddr string) string {
	return markerPrefix + lab + " host=" + hostAddr
}

// limaArch is Lima's name for the architecture labnet runs on.
func limaArch(goarch string) string {
	switch goarch {
	case "amd64":
		return "x86_64"
	case "arm64":
		return "aarch64"
	case "riscv64":
		return "riscv64"
	case "arm":
		return "armv7l"
	}
	return goarch
}

// RenderYAML renders the Lima template for one VM of the lab:
//   - image: Settings.Image (a path or URL) for this machine's architecture;
//   - template: Settings.Template as Lima's `base:` (Lima 1.1 or later): a
//     template name ("debian-12", "template://debian-12"), a URL, or a local
//     file (made absolute). Lima appends list entries of a base to the
//     VM's own, so a template's own mounts and networks stay: prefer image
//     templates (template://_images/...) that have none;
//   - cpus, memory, disk when set; no host mounts; containerd off;
//   - networks: [{lima: Network}], where Network defaults to "user-v2"; it
//     is left out when a local template file already names that network
//     (or any, with Network unset): two NICs on one network would make the
//     LAN address ambiguous;
//   - a provision script (mode: system) ensuring iproute2, nftables and
//     python3 when apt is there, then Settings.Provision, the lab's own.
//
// The first line is a comment marking the VM as the lab's (see Sweep).
func RenderYAML(lab string, h provider.Host, s Settings) ([]byte, error) {
	return renderYAML(lab, h, s, runtime.GOARCH)
}

func renderYAML(lab string, h provider.Host, s Settings, goarch string) ([]byte, error) {
	if s.Image == "" && s.Template == "" {
		return nil, fmt.Errorf("%s: a Lima VM needs an image or a template", h.Addr)
	}
	if s.CPUs < 0 {
		return nil, fmt.Errorf("%s: cpus %d is negative", h.Addr, s.CPUs)
	}
	for _, v := range []struct{ name, val string }{{"memory", s.Memory}, {"disk", s.Disk}} {
		if strings.ContainsAny(v.val, "\t\r\n") {
			return nil, fmt.Errorf("%s: %s %q: write a size such as \"2GiB\"", h.Addr, v.name, v.val)
		}
	}
	y := limaYAML{
		CPUs:       s.CPUs,
		Memory:     s.Memory,
		Disk:       s.Disk,
		Mounts:     []struct{}{},
		Containerd: containerd{System: false, User: false},
		Provision:  []provision{keepHostKeys, {Mode: "system", Script: provisionScript}},
	}
	if s.Provision != "" {
		// set -e: a step that fails shows in Lima's log instead of being
		// hidden by the ones after it.
		y.Provision = append(y.Provision, provision{Mode: "system", Script: "#!/bin/sh\n# the lab's provision script\nset -e\n" + strings.TrimRight(s.Provision, "\n") + "\n"})
	}
	network := s.Network
	if s.Template != "" {
		base, file, err := baseLocator(s.Template)
		if err != nil {
			return nil, fmt.Errorf("%s: template: %w", h.Addr, err)
		}
		y.Base, y.MinimumLimaVersion = base, "1.1.0"
		if file != "" {
			names, err := templateNetworks(file)
			if err != nil {
				return nil, fmt.Errorf("%s: template: %w", h.Addr, err)
			}
			// Lima appends the template's networks to ours: add ours
			// only when the template lacks it.
			if len(names) > 0 && (network == "" || slices.Contains(names, network)) {
				network = "-"
			}
		}
	}
	if s.Image != "" {
		loc, err := expandLocal(s.Image)
		if err != nil {
			return nil, fmt.Errorf("%s: image: %w", h.Addr, err)
		}
		y.Images = []limaImage{{Location: loc, Arch: limaArch(goarch)}}
	}
	switch network {
	case "":
		y.Networks = []limaNet{{Lima: DefaultNetwork}}
	case "-":
	default:
		y.Networks = []limaNet{{Lima: network}}
	}
	var doc yaml.Node
	if err := doc.Encode(y); err != nil {
		return nil, err
	}
	doc.HeadComment = strings.TrimPrefix(marker(lab, h.Addr), "# ") + "\nwritten by labnet; limactl create reads it once"
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// baseLocator turns Settings.Template into what Lima's `base:` takes, and
// returns the local file it names, if any.
func baseLocator(t string) (locator, file string, err error) {
	switch {
	case strings.Contains(t, "://"):
		if rest, ok := strings.CutPrefix(t, "file://"); ok {
			return t, rest, nil
		}
		return t, "", nil
	case strings.HasPrefix(t, "template:"):
		return "template://" + strings.TrimPrefix(t, "template:"), "", nil
	case strings.HasPrefix(t, "/") || strings.HasPrefix(t, "./") || strings.HasPrefix(t, "../") ||
		strings.HasPrefix(t, "~/") || strings.HasSuffix(t, ".yaml") || strings.HasSuffix(t, ".yml"):
		p, err := expandLocal(t)
		if err != nil {
			return "", "", err
		}
		return p, p, nil
	default:
		return "template://" + t, "", nil
	}
}

// expandLocal makes a local path absolute ("~/" expanded); URLs pass.
func expandLocal(p string) (string, error) {
	if strings.Contains(p, "://") {
		return p, nil
	}
	if p == "~" || strings.HasPrefix(p, "~/") {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		p = filepath.Join(home, strings.TrimPrefix(p, "~"))
	}
	return filepath.Abs(p)
}

// templateNetworks lists the Lima networks a local template file names.
func templateNetworks(file string) ([]string, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var t struct {
		Networks []struct {
			Lima   string `yaml:"lima"`
			Socket string `yaml:"socket"`
		} `yaml:"networks"`
	}
	if err := yaml.Unmarshal(b, &t); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	var names []string
	for _, n := range t.Networks {
		names = append(names, n.Lima+n.Socket)
	}
	return names, nil
}

var errNoMarker = errors.New("no labnet mark")

// ownerOf reads the lab and host address a VM was made for from the mark in
// its lima.yaml.
func ownerOf(limaYAMLPath string) (lab, host string, err error) {
	b, err := os.ReadFile(limaYAMLPath)
	if err != nil {
		return "", "", err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), markerPrefix); ok {
			lab, host, _ = strings.Cut(rest, " host=")
			return lab, host, nil
		}
	}
	return "", "", errNoMarker
}
