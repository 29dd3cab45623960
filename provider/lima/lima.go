// Package lima makes each host a Lima VM by driving the `limactl` command
// (labnet never imports Lima). A lab's VM is named "<lab>-<host name>" and
// its lima.yaml carries a comment naming the lab and host, so Sweep and
// DestroyHost touch only the lab's own VMs. The VMs share a Lima network
// (user-v2 by default), on which they reach each other; labnet reaches
// each VM over SSH on the port Lima forwards to 127.0.0.1, as the guest
// user (the user running labnet, with passwordless sudo) with Lima's key
// $LIMA_HOME/_config/user.
package lima

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labnet-dev/labnet/hostnet"
	"github.com/labnet-dev/labnet/provider"
	"github.com/labnet-dev/labnet/remote"
	"golang.org/x/crypto/ssh"
)

// Settings are one VM's settings from the lab configuration.
type Settings struct {
	CPUs     int
	Memory   string // Lima size, "2GiB"
	Disk     string // Lima size, "10GiB"
	Template string // Lima base template: "debian-12", "template://debian-12", a URL or a local file
	Image    string // disk image path or URL for this machine's architecture
	Network  string // Lima network name; default "user-v2"
	// Provision is the lab's own script, run as root at every boot after
	// labnet's (Lima "system" provisioning).
	Provision string
}

// Provider drives limactl.
type Provider struct {
	// The LAN is a Lima network; Lima runs it as VMs join it.
	provider.ExistingNetwork

	Limactl  string                 // the limactl binary; default "limactl" from PATH
	Home     string                 // LIMA_HOME; default $LIMA_HOME, else ~/.lima
	Timeout  time.Duration          // boot timeout of `limactl start`; default 10 min
	Progress func(host, msg string) // called every 10 s while a VM boots; may be nil
	Log      func(host, msg string) // notes (sweeps, skipped VMs); may be nil

	// test hooks
	geteuid       func() int
	progressEvery time.Duration
	sshTimeout    time.Duration

	// firstCreate runs creates one at a time while the Lima home has no
	// user key yet (see create).
	firstCreate sync.Mutex

	mu       sync.Mutex
	settings map[string]Settings
	version  string // checked limactl version
	signer   ssh.Signer
	lan      map[string]netip.Addr // VM name -> LAN address
}

func New() *Provider {
	home := os.Getenv("LIMA_HOME")
	if home == "" {
		if h, err := os.UserHomeDir(); err == nil {
			home = filepath.Join(h, ".lima")
		}
	}
	return &Provider{
		Limactl:       "limactl",
		Home:          home,
		Timeout:       10 * time.Minute,
		geteuid:       os.Geteuid,
		progressEvery: 10 * time.Second,
		sshTimeout:    30 * time.Second,
		settings:      map[string]Settings{},
		lan:           map[string]netip.Addr{},
	}
}

func (p *Provider) Name() string { return "lima" }

// Configure sets the VM settings of the host with resource address hostAddr.
// UseHost reads the host's lima_* attributes (the VM's size and image,
// used when it is created).
func (p *Provider) UseHost(hostAddr string, a map[string]string) error {
	cpus := 0
	if a["lima_cpus"] != "" {
		var err error
		if cpus, err = strconv.Atoi(a["lima_cpus"]); err != nil {
			return fmt.Errorf("attribute \"lima_cpus\": %w", err)
		}
	}
	p.Configure(hostAddr, Settings{CPUs: cpus, Memory: a["lima_memory"], Disk: a["lima_disk"],
		Template: a["lima_template"], Image: a["lima_image"], Network: a["lima_network"], Provision: a["lima_provision"]})
	return nil
}

// ContentsGoWithHost: deleting the VM deletes everything in it (a stopped
// or half-made VM too).
func (p *Provider) ContentsGoWithHost() bool { return true }

func (p *Provider) Configure(hostAddr string, s Settings) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.settings == nil {
		p.settings = map[string]Settings{}
	}
	p.settings[hostAddr] = s
}

func (p *Provider) settingsFor(hostAddr string) Settings {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.settings[hostAddr]
}

var vmNameRe = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// unixPathMax is the limit Lima checks socket paths against (sun_path).
func unixPathMax() int {
	if runtime.GOOS == "linux" {
		return 108
	}
	return 104
}

// longestSock is the longest socket name Lima makes in an instance
// directory (ssh's control socket with its random suffix).
const longestSock = "ssh.sock.1234567890123456"

// VMName is the lab's name for a host's VM, "<lab>-<host name>". It must be
// lower-case letters, digits and single dashes, at most 58 characters (so
// that the guest's hostname "lima-<name>" is a DNS label), and short enough
// for Lima's socket paths under Home.
func (p *Provider) VMName(lab string, h provider.Host) (string, error) {
	name := lab + "-" + h.Name
	if !vmNameRe.MatchString(name) {
		return "", fmt.Errorf("%s: VM name %q: Lima VM names here must be lower-case letters, digits and single dashes: rename the lab or host", h.Addr, name)
	}
	if len(name) > 58 {
		return "", fmt.Errorf("%s: VM name %q is %d characters; at most 58 fit a hostname: shorten the lab or host name", h.Addr, name, len(name))
	}
	if sock := filepath.Join(p.Home, name, longestSock); len(sock) >= unixPathMax() {
		return "", fmt.Errorf("%s: VM name %q is too long for Lima's socket paths (%s is %d characters, the limit is %d): shorten the lab or host name, or use a shorter LIMA_HOME", h.Addr, name, sock, len(sock), unixPathMax())
	}
	return name, nil
}

// Errors that say what to do.
var (
	ErrNotFound = errors.New(`limactl not found on PATH: install Lima (https://lima-vm.io) or use provider = "netns"`)
	ErrRoot     = errors.New("limactl refuses to run as root: run labnet as a normal user for Lima labs")
)

// minVersion is the oldest Lima labnet drives; templates need 1.1 (`base:`).
var minVersion = [2]int{1, 0}

// check finds limactl, refuses root and checks the version, once.
func (p *Provider) check(ctx context.Context) (string, error) {
	p.mu.Lock()
	v := p.version
	p.mu.Unlock()
	if v != "" {
		return v, nil
	}
	if _, err := exec.LookPath(p.bin()); err != nil {
		if strings.Contains(p.bin(), "/") {
			return "", fmt.Errorf("limactl not found at %s: install Lima (https://lima-vm.io) or use provider = \"netns\"", p.bin())
		}
		return "", ErrNotFound
	}
	euid := os.Geteuid
	if p.geteuid != nil {
		euid = p.geteuid
	}
	if euid() == 0 {
		return "", ErrRoot
	}
	out, err := p.run(ctx, "--version")
	if err != nil {
		return "", err
	}
	v, ok := parseVersion(string(out))
	if !ok {
		return "", fmt.Errorf("cannot read the Lima version from `limactl --version`: %q", strings.TrimSpace(string(out)))
	}
	if versionLess(v, minVersion) {
		return "", fmt.Errorf("limactl version %s is too old: labnet needs Lima %d.%d or later (https://lima-vm.io)", v, minVersion[0], minVersion[1])
	}
	p.mu.Lock()
	p.version = v
	p.mu.Unlock()
	return v, nil
}

var versionRe = regexp.MustCompile(`v?(\d+)\.(\d+)(\.\d+)?\S*`)

// parseVersion reads "limactl version 1.0.3" (or "v2.2.0-153-g183a60d7").
func parseVersion(out string) (string, bool) {
	m := versionRe.FindString(strings.TrimSpace(out))
	return strings.TrimPrefix(m, "v"), m != ""
}

func versionLess(v string, min [2]int) bool {
	m := versionRe.FindStringSubmatch(v)
	if m == nil {
		return true
	}
	major, _ := strconv.Atoi(m[1])
	minor, _ := strconv.Atoi(m[2])
	return major < min[0] || major == min[0] && minor < min[1]
}

func (p *Provider) bin() string {
	if p.Limactl == "" {
		return "limactl"
	}
	return p.Limactl
}

func (p *Provider) command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, p.bin(), args...)
	cmd.Env = os.Environ()
	if p.Home != "" {
		cmd.Env = append(cmd.Env, "LIMA_HOME="+p.Home)
	}
	// limactl start leaves the host agent running; it must not keep our
	// pipes (and so us) waiting.
	cmd.WaitDelay = 3 * time.Second
	return cmd
}

// run runs limactl and returns its stdout; errors carry the end of stderr.
func (p *Provider) run(ctx context.Context, args ...string) ([]byte, error) {
	cmd := p.command(ctx, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), fmt.Errorf("limactl %s: %v: %s", strings.Join(args, " "), err, tail(stderr.String(), 10))
	}
	return stdout.Bytes(), nil
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// List runs `limactl list --json`.
func (p *Provider) List(ctx context.Context) ([]Instance, error) {
	if _, err := p.check(ctx); err != nil {
		return nil, err
	}
	out, err := p.run(ctx, "list", "--json")
	if err != nil {
		return nil, err
	}
	return ParseList(out)
}

func (p *Provider) find(ctx context.Context, name string) (*Instance, error) {
	list, err := p.List(ctx)
	if err != nil {
		return nil, err
	}
	for i := range list {
		if list[i].Name == name {
			return &list[i], nil
		}
	}
	return nil, nil
}

func (p *Provider) instanceDir(in *Instance, name string) string {
	if in != nil && in.Dir != "" {
		return in.Dir
	}
	return filepath.Join(p.Home, name)
}

// ownedElsewhere says whether an existing VM of this name was made for
// another lab or host (its lima.yaml mark says so).
func (p *Provider) ownedElsewhere(in *Instance, lab, hostAddr string) error {
	l, h, err := ownerOf(filepath.Join(p.instanceDir(in, in.Name), "lima.yaml"))
	if err != nil {
		return nil // unmarked or unreadable: the name is all we have
	}
	if l != lab || h != hostAddr {
		return fmt.Errorf("%s: Lima VM %s belongs to lab %q, host %s; labnet leaves it alone: rename the lab or host", hostAddr, in.Name, l, h)
	}
	return nil
}

// CreateHost creates and boots the VM, then logs in over SSH (trusting the
// host key on first use) and reads the VM's LAN address (see LANAddress).
// A VM of the same name and lab left by an earlier failed attempt is
// deleted first.
func (p *Provider) CreateHost(ctx context.Context, lab string, h provider.Host, keys provider.Keys) (provider.Record, error) {
	version, err := p.check(ctx)
	if err != nil {
		return provider.Record{}, err
	}
	name, err := p.VMName(lab, h)
	if err != nil {
		return provider.Record{}, err
	}
	s := p.settingsFor(h.Addr)
	if s.Template != "" && versionLess(version, [2]int{1, 1}) {
		return provider.Record{}, fmt.Errorf("%s: a Lima template needs Lima 1.1 or later (for `base:`), limactl is %s: upgrade Lima or use an image", h.Addr, version)
	}
	doc, err := RenderYAML(lab, h, s)
	if err != nil {
		return provider.Record{}, err
	}
	old, err := p.find(ctx, name)
	if err != nil {
		return provider.Record{}, err
	}
	if old != nil {
		if err := p.ownedElsewhere(old, lab, h.Addr); err != nil {
			return provider.Record{}, err
		}
		if _, err := p.run(ctx, "delete", "--force", name); err != nil {
			return provider.Record{}, fmt.Errorf("%s: remove the VM left by an earlier attempt: %w", h.Addr, err)
		}
	}
	f, err := os.CreateTemp("", "labnet-lima-*.yaml")
	if err != nil {
		return provider.Record{}, err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(doc); err != nil {
		f.Close()
		return provider.Record{}, err
	}
	if err := f.Close(); err != nil {
		return provider.Record{}, err
	}
	if err := p.create(ctx, name, f.Name()); err != nil {
		return provider.Record{}, fmt.Errorf("%s: %w", h.Addr, err)
	}
	return p.boot(ctx, h, name, nil, provider.Record{})
}

// create runs `limactl create`. Lima makes the user's SSH key
// ($LIMA_HOME/_config/user) on the first create of a home, checking for it
// before it takes its lock: two first creates at once race, and one fails
// ("... already exists. Overwrite (y/n)?"). Until the key exists, creates
// run one at a time; after that, in parallel.
func (p *Provider) create(ctx context.Context, name, file string) error {
	if _, err := os.Stat(filepath.Join(p.Home, "_config", "user")); err != nil {
		p.firstCreate.Lock()
		defer p.firstCreate.Unlock()
	}
	_, err := p.run(ctx, "create", "--name="+name, "--tty=false", file)
	return err
}

// boot starts the VM when in (its listing) says it is not running, then
// connects and reads its address. rec.HostKey, when set, is enforced.
func (p *Provider) boot(ctx context.Context, h provider.Host, name string, in *Instance, rec provider.Record) (provider.Record, error) {
	if in == nil || in.Status != "Running" {
		if err := p.start(ctx, h, name, in); err != nil {
			return rec, err
		}
		var err error
		if in, err = p.find(ctx, name); err != nil {
			return rec, err
		}
		if in == nil || in.Status != "Running" {
			return rec, fmt.Errorf("%s: Lima VM %s is not running after `limactl start`", h.Addr, name)
		}
	}
	t, err := p.target(h, in, rec)
	if err != nil {
		return rec, err
	}
	t.Timeout = p.sshTimeout
	c, err := remote.Dial(ctx, t)
	if err != nil {
		return rec, err
	}
	defer c.Close()
	addr, err := p.readLAN(ctx, c, in)
	if err != nil {
		return rec, fmt.Errorf("%s: %w", h.Addr, err)
	}
	p.setLAN(name, addr)
	// The lab's own address for the host goes on the same interface, beside
	// the one Lima handed out: the VMs share Lima's L2 network, so the lab
	// keeps the addresses it was written with on every provider.
	if h.Address.IsValid() && h.Address != addr {
		bits := 32
		if h.Network.CIDR.IsValid() {
			bits = h.Network.CIDR.Bits()
		}
		if err := addLabAddress(ctx, c, addr, netip.PrefixFrom(h.Address, bits)); err != nil {
			return rec, fmt.Errorf("%s: put the lab address %s on the Lima network: %w", h.Addr, h.Address, err)
		}
	}
	return provider.Record{
		HostKey: remote.AuthorizedKey(c.HostKey()),
		User:    t.User,
		SSHAddr: t.Addr.String(),
		LANAddr: addr.String(),
	}, nil
}

// start runs `limactl start` within Timeout, reporting progress every 10 s.
func (p *Provider) start(ctx context.Context, h provider.Host, name string, in *Instance) error {
	timeout := p.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Minute
	}
	sctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	done := make(chan struct{})
	defer close(done)
	if p.Progress != nil {
		every := p.progressEvery
		if every <= 0 {
			every = 10 * time.Second
		}
		began := time.Now()
		go func() {
			tick := time.NewTicker(every)
			defer tick.Stop()
			for {
				select {
				case <-done:
					return
				case <-tick.C:
					p.Progress(h.Addr, fmt.Sprintf("still booting Lima VM %s (%s)", name, time.Since(began).Round(time.Second)))
				}
			}
		}()
	}
	_, err := p.run(sctx, "start", "--tty=false", name)
	if err == nil {
		return nil
	}
	logFile := filepath.Join(p.instanceDir(in, name), "ha.stderr.log")
	logTail := "(no " + logFile + ")"
	if b, rerr := os.ReadFile(logFile); rerr == nil {
		logTail = tail(string(b), 20)
	}
	if errors.Is(sctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil {
		return fmt.Errorf("%s: Lima VM %s did not boot within %s; last lines of %s:\n%s", h.Addr, name, timeout, logFile, logTail)
	}
	return fmt.Errorf("%s: %w\nlast lines of %s:\n%s", h.Addr, err, logFile, logTail)
}

// ObserveHost: absent, stopped, or running with SSH up (a login with the
// recorded host key pinned). A running VM whose SSH port moved (restarted
// outside labnet) is reported not up, so that RepairHost records the port.
func (p *Provider) ObserveHost(ctx context.Context, lab string, h provider.Host, rec provider.Record) (provider.Status, error) {
	name, err := p.VMName(lab, h)
	if err != nil {
		return provider.Status{}, err
	}
	in, err := p.find(ctx, name)
	if err != nil {
		return provider.Status{}, err
	}
	if in == nil {
		return provider.Status{Reason: "Lima VM " + name + " does not exist"}, nil
	}
	if err := p.ownedElsewhere(in, lab, h.Addr); err != nil {
		return provider.Status{}, err
	}
	switch in.Status {
	case "Running":
	case "Stopped":
		return provider.Status{Exists: true, Reason: "stopped"}, nil
	default:
		return provider.Status{Exists: true, Reason: "Lima status " + in.Status}, nil
	}
	t, err := p.target(h, in, rec)
	if err != nil {
		return provider.Status{Exists: true, Reason: err.Error()}, nil
	}
	if rec.SSHAddr != "" && rec.SSHAddr != t.Addr.String() {
		return provider.Status{Exists: true, Reason: fmt.Sprintf("SSH moved from %s to %s (the VM was restarted outside labnet)", rec.SSHAddr, t.Addr)}, nil
	}
	t.Timeout = 5 * time.Second
	c, err := remote.Dial(ctx, t)
	if err != nil {
		return provider.Status{Exists: true, Reason: err.Error()}, nil
	}
	c.Close()
	return provider.Status{Exists: true, SSHUp: true}, nil
}

// RepairHost starts a stopped VM (and records where its SSH is now); a
// running one is reconnected. A VM that is gone must be replaced.
func (p *Provider) RepairHost(ctx context.Context, lab string, h provider.Host, rec provider.Record, keys provider.Keys) (provider.Record, error) {
	if _, err := p.check(ctx); err != nil {
		return rec, err
	}
	name, err := p.VMName(lab, h)
	if err != nil {
		return rec, err
	}
	in, err := p.find(ctx, name)
	if err != nil {
		return rec, err
	}
	if in == nil {
		return rec, fmt.Errorf("%s: Lima VM %s is gone; the host must be replaced", h.Addr, name)
	}
	if err := p.ownedElsewhere(in, lab, h.Addr); err != nil {
		return rec, err
	}
	return p.boot(ctx, h, name, in, rec)
}

// DestroyHost deletes the VM; a VM that is already gone is fine.
func (p *Provider) DestroyHost(ctx context.Context, lab string, h provider.Host, rec provider.Record) error {
	name, err := p.VMName(lab, h)
	if err != nil {
		return err
	}
	if _, err := p.check(ctx); err != nil {
		return err
	}
	if l, host, oerr := ownerOf(filepath.Join(p.Home, name, "lima.yaml")); oerr == nil && (l != lab || host != h.Addr) {
		return fmt.Errorf("%s: Lima VM %s belongs to lab %q, host %s; labnet leaves it alone", h.Addr, name, l, host)
	}
	_, err = p.run(ctx, "delete", "--force", name)
	if err != nil {
		in, lerr := p.find(ctx, name)
		if lerr == nil && in == nil {
			err = nil
		}
	}
	p.setLAN(name, netip.Addr{})
	return err
}

// Sweep deletes every VM named "<lab>-..." whose lima.yaml marks it as the
// lab's (a VM of that name marked for another lab, such as lab "a-b"
// against lab "a", is left alone; so is an unmarked one, with a note).
func (p *Provider) Sweep(ctx context.Context, lab string) error {
	list, err := p.List(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, in := range list {
		if !strings.HasPrefix(in.Name, lab+"-") {
			continue
		}
		l, _, oerr := ownerOf(filepath.Join(p.instanceDir(&in, in.Name), "lima.yaml"))
		if oerr != nil || l != lab {
			if p.Log != nil && oerr != nil {
				p.Log(in.Name, fmt.Sprintf("not swept: Lima VM %s is not marked as lab %s's (%v)", in.Name, lab, oerr))
			}
			continue
		}
		if _, err := p.run(ctx, "delete", "--force", in.Name); err != nil {
			errs = append(errs, err)
		}
		p.setLAN(in.Name, netip.Addr{})
	}
	return errors.Join(errs...)
}

// Target reaches the VM's sshd where Lima forwards it (rec.SSHAddr) as the
// guest user, with Lima's key, through sudo. The lab key is not used: Lima
// authorizes its own key in the guest.
func (p *Provider) Target(lab string, h provider.Host, rec provider.Record, keys provider.Keys) (remote.Target, error) {
	if rec.SSHAddr == "" {
		return remote.Target{}, fmt.Errorf("%s: no SSH address recorded for the Lima VM", h.Addr)
	}
	ap, err := netip.ParseAddrPort(rec.SSHAddr)
	if err != nil {
		return remote.Target{}, fmt.Errorf("%s: recorded SSH address: %w", h.Addr, err)
	}
	return p.target(h, &Instance{SSHAddress: ap.Addr().String(), SSHLocalPort: int(ap.Port())}, rec)
}

func (p *Provider) target(h provider.Host, in *Instance, rec provider.Record) (remote.Target, error) {
	ap, err := in.SSHAddrPort()
	if err != nil {
		return remote.Target{}, fmt.Errorf("%s: %w", h.Addr, err)
	}
	sshUser, keyFile := p.sshConfig(in)
	if rec.User != "" {
		sshUser = rec.User
	}
	signer, err := p.loadSigner(keyFile)
	if err != nil {
		return remote.Target{}, fmt.Errorf("%s: %w", h.Addr, err)
	}
	t := remote.Target{Host: h.Addr, Addr: ap, User: sshUser, Signer: signer, Sudo: true}
	if rec.HostKey != "" {
		k, err := remote.ParseAuthorizedKey(rec.HostKey)
		if err != nil {
			return t, fmt.Errorf("%s: pinned host key: %w", h.Addr, err)
		}
		t.HostKey = k
	}
	return t, nil
}

// sshConfig reads the guest user and key from the ssh.config Lima wrote for
// the instance; the defaults are the current user and $LIMA_HOME/_config/user.
func (p *Provider) sshConfig(in *Instance) (userName, keyFile string) {
	keyFile = in.IdentityFile
	if keyFile == "" {
		keyFile = filepath.Join(p.Home, "_config", "user")
	}
	if u, err := user.Current(); err == nil {
		userName = u.Username
	}
	if in.SSHConfigFile == "" {
		return userName, keyFile
	}
	f, err := os.Open(in.SSHConfigFile)
	if err != nil {
		return userName, keyFile
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), " ")
		if !ok {
			continue
		}
		v = strings.Trim(strings.TrimSpace(v), `"`)
		switch strings.ToLower(k) {
		case "user":
			userName = v
		case "identityfile":
			if in.IdentityFile == "" {
				keyFile = v
			}
		}
	}
	return userName, keyFile
}

// setLAN remembers (or, with an invalid address, forgets) a VM's LAN address.
func (p *Provider) setLAN(name string, a netip.Addr) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.lan == nil {
		p.lan = map[string]netip.Addr{}
	}
	if a.IsValid() {
		p.lan[name] = a
	} else {
		delete(p.lan, name)
	}
}

func (p *Provider) loadSigner(file string) (ssh.Signer, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.signer != nil {
		return p.signer, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("Lima's SSH key: %w (it is made by the first `limactl start`)", err)
	}
	s, err := ssh.ParsePrivateKey(b)
	if err != nil {
		return nil, fmt.Errorf("Lima's SSH key %s: %w", file, err)
	}
	p.signer = s
	return s, nil
}

// addLabAddress puts the lab's address on the interface that holds the
// address Lima gave the VM.
func addLabAddress(ctx context.Context, c *remote.Conn, limaAddr netip.Addr, lab netip.Prefix) error {
	out, err := c.Must(ctx, lanScript)
	if err != nil {
		return err
	}
	links, err := hostnet.ParseAddrJSON(out)
	if err != nil {
		return err
	}
	for _, l := range links {
		for _, a := range l.Addrs {
			if a.Addr() == limaAddr {
				_, err := c.Must(ctx, remote.Join("ip", "addr", "replace", lab.String(), "dev", l.Name))
				return err
			}
		}
	}
	return fmt.Errorf("no interface holds %s", limaAddr)
}
