// Package ssh is the provider for machines that exist already: labnet
// reaches them over SSH and never creates, stops or deletes them. The LAN
// they share exists already too, so the network methods only report it
// present. What labnet builds on such a machine (namespaces, links, nft
// tables) is removed over SSH by the engine before DestroyHost, which
// leaves the machine alone.
//
// Host keys: a key pinned in the configuration (host_key) is enforced; with
// none, the key seen at CreateHost is recorded (trust on first use) and
// pinned from then on through provider.Record.HostKey. A known_hosts file,
// when configured, is checked as well.
package ssh

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labnet-dev/labnet/provider"
	"github.com/labnet-dev/labnet/remote"
	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// Settings are one host's SSH settings from the lab configuration.
type Settings struct {
	User           string // login user; default "root". Any other user runs labnet's shell through `sudo -n`.
	Port           int    // default 22
	PrivateKeyFile string // client key; default the lab's key (provider.Keys.Client). "~/" is expanded.
	HostKey        string // pinned host key: authorized_keys form ("ssh-ed25519 AAAA...") or a "SHA256:..." fingerprint
	KnownHosts     string // a known_hosts file the host key must be listed in; "~/" is expanded
	// Netns, when set, is the network namespace (a path such as
	// /run/netns/labnet-x) the TCP connection is made from: for machines
	// that are only reachable from inside one (tests, labs nested in a
	// netns lab).
	Netns string
}

// Provider reaches existing machines. Configure each host before use.
type Provider struct {
	// The LAN of existing machines is not labnet's: it is always there.
	provider.ExistingNetwork

	// Timeout is the connect timeout; default 10 s.
	Timeout time.Duration

	mu       sync.Mutex
	settings map[string]Settings
}

func New() *Provider { return &Provider{settings: map[string]Settings{}} }

func (p *Provider) Name() string { return "ssh" }

// Configure sets the SSH settings of the host with resource address hostAddr.
// UseHost reads the host's ssh_* attributes.
func (p *Provider) UseHost(hostAddr string, a map[string]string) error {
	port := 0
	if a["ssh_port"] != "" {
		var err error
		if port, err = strconv.Atoi(a["ssh_port"]); err != nil {
			return fmt.Errorf("attribute \"ssh_port\": %w", err)
		}
	}
	p.Configure(hostAddr, Settings{User: a["ssh_user"], Port: port, PrivateKeyFile: a["ssh_private_key_file"],
		HostKey: a["ssh_host_key"], KnownHosts: a["ssh_known_hosts"], Netns: a["ssh_netns"]})
	return nil
}

// ContentsGoWithHost: the machine stays when the lab lets it go.
func (p *Provider) ContentsGoWithHost() bool { return false }

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
	s := p.settings[hostAddr]
	if s.User == "" {
		s.User = "root"
	}
	if s.Port == 0 {
		s.Port = 22
	}
	return s
}

// CreateHost creates nothing: it checks that labnet can log in and become
// root, and records the host key it sees (or the pinned one).
func (p *Provider) CreateHost(ctx context.Context, lab string, h provider.Host, keys provider.Keys) (provider.Record, error) {
	t, err := p.Target(lab, h, provider.Record{}, keys)
	if err != nil {
		return provider.Record{}, err
	}
	c, err := p.connect(ctx, h, t)
	if err != nil {
		return provider.Record{}, err
	}
	defer c.Close()
	return provider.Record{
		HostKey: remote.AuthorizedKey(c.HostKey()),
		User:    t.User,
		SSHAddr: t.Addr.String(),
	}, nil
}

// ObserveHost: a machine labnet cannot reach still exists (labnet never
// deletes it); it is reported with SSHUp false and the error as Reason.
// ObserveHost gets no keys, so it does not log in: it runs the SSH handshake
// as far as the host key and checks that key (pin, fingerprint,
// known_hosts). CreateHost and RepairHost log in and check root.
func (p *Provider) ObserveHost(ctx context.Context, lab string, h provider.Host, rec provider.Record) (provider.Status, error) {
	t, err := p.Target(lab, h, rec, provider.Keys{})
	if err != nil {
		return provider.Status{Exists: true, Reason: err.Error()}, nil
	}
	key, err := probeHostKey(ctx, t, p.timeout())
	if err == nil {
		err = p.verifyKey(t, key)
	}
	if err != nil {
		return provider.Status{Exists: true, Reason: err.Error()}, nil
	}
	return provider.Status{Exists: true, SSHUp: true}, nil
}

// RepairHost can only check again: labnet does not run these machines.
func (p *Provider) RepairHost(ctx context.Context, lab string, h provider.Host, rec provider.Record, keys provider.Keys) (provider.Record, error) {
	t, err := p.Target(lab, h, rec, keys)
	if err != nil {
		return rec, err
	}
	c, err := p.connect(ctx, h, t)
	if err != nil {
		return rec, fmt.Errorf("%w (labnet does not manage this machine: start it or its sshd, then apply again)", err)
	}
	defer c.Close()
	if rec.HostKey == "" {
		rec.HostKey = remote.AuthorizedKey(c.HostKey())
	}
	rec.User, rec.SSHAddr = t.User, t.Addr.String()
	return rec, nil
}

// DestroyHost leaves the machine alone: the engine has removed the lab's
// objects on it over SSH before.
func (p *Provider) DestroyHost(ctx context.Context, lab string, h provider.Host, rec provider.Record) error {
	return nil
}

// Sweep has nothing of its own to remove: labnet made no machines here.
func (p *Provider) Sweep(ctx context.Context, lab string) error { return nil }

func (p *Provider) timeout() time.Duration {
	if p.Timeout > 0 {
		return p.Timeout
	}
	return 10 * time.Second
}

// Target is the host's LAN address and configured port, the configured user
// (sudo for any user but root), the configured private key or else the lab
// key, and the pinned host key: the configured one, else the recorded one.
func (p *Provider) Target(lab string, h provider.Host, rec provider.Record, keys provider.Keys) (remote.Target, error) {
	s := p.settingsFor(h.Addr)
	if !h.Address.IsValid() {
		return remote.Target{}, fmt.Errorf("%s: no address to reach the machine at", h.Addr)
	}
	if s.Port < 1 || s.Port > 65535 {
		return remote.Target{}, fmt.Errorf("%s: port %d is out of range", h.Addr, s.Port)
	}
	t := remote.Target{
		Host:    h.Addr,
		Addr:    netip.AddrPortFrom(h.Address, uint16(s.Port)),
		User:    s.User,
		Signer:  keys.Client,
		Netns:   s.Netns,
		Sudo:    s.User != "root",
		Timeout: p.Timeout,
	}
	if s.PrivateKeyFile != "" {
		signer, err := loadKey(s.PrivateKeyFile)
		if err != nil {
			return t, fmt.Errorf("%s: private_key_file: %w", h.Addr, err)
		}
		t.Signer = signer
	}
	pin := rec.HostKey
	if s.HostKey != "" && !isFingerprint(s.HostKey) {
		pin = s.HostKey
	}
	if pin != "" {
		k, err := remote.ParseAuthorizedKey(pin)
		if err != nil {
			return t, fmt.Errorf("%s: pinned host key %q: %w", h.Addr, pin, err)
		}
		t.HostKey = k
	}
	return t, nil
}

// connect logs in to the host as t says, after checking its host key
// against what the configuration demands, and proves the shell is root's.
func (p *Provider) connect(ctx context.Context, h provider.Host, t remote.Target) (*remote.Conn, error) {
	if t.Signer == nil {
		return nil, fmt.Errorf("%s: no client key: configure private_key_file or pass the lab key", h.Addr)
	}
	s := p.settingsFor(h.Addr)
	if t.HostKey != nil {
		// Dial enforces the pin; known_hosts must agree with it too.
		if err := p.verifyKey(t, t.HostKey); err != nil {
			return nil, err
		}
	} else if s.KnownHosts != "" || isFingerprint(s.HostKey) {
		// Check the key before logging in, then pin it for the login.
		key, err := probeHostKey(ctx, t, p.timeout())
		if err != nil {
			return nil, fmt.Errorf("%s: %w", h.Addr, err)
		}
		if err := p.verifyKey(t, key); err != nil {
			return nil, err
		}
		t.HostKey = key
	}
	c, err := remote.Dial(ctx, t)
	if err != nil {
		return nil, err
	}
	out, err := c.Must(ctx, "id -u")
	if err != nil {
		c.Close()
		var exit *remote.ExitError
		if t.Sudo && !errors.As(err, &exit) {
			// The shell itself did not start: sudo asked for a password.
			return nil, fmt.Errorf("%w (user %s must be able to run `sudo -n` without a password)", err, t.User)
		}
		return nil, err
	}
	if strings.TrimSpace(string(out)) != "0" {
		c.Close()
		return nil, fmt.Errorf("%s: the shell of user %s is not root (id -u = %s); labnet needs root on the machine: log in as root, or as a user with passwordless sudo", h.Addr, t.User, strings.TrimSpace(string(out)))
	}
	return c, nil
}

// verifyKey checks a host key against the pin in t, a pinned fingerprint
// and the known_hosts file, as configured.
func (p *Provider) verifyKey(t remote.Target, key gossh.PublicKey) error {
	s := p.settingsFor(t.Host)
	if t.HostKey != nil && remote.AuthorizedKey(t.HostKey) != remote.AuthorizedKey(key) {
		return &remote.HostKeyMismatchError{Host: t.Host, Want: remote.AuthorizedKey(t.HostKey), Got: remote.AuthorizedKey(key)}
	}
	if isFingerprint(s.HostKey) {
		if got := gossh.FingerprintSHA256(key); got != s.HostKey {
			return &remote.HostKeyMismatchError{Host: t.Host, Want: s.HostKey, Got: got}
		}
	}
	if s.KnownHosts != "" {
		check, err := loadKnownHosts(s.KnownHosts)
		if err != nil {
			return fmt.Errorf("%s: known_hosts: %w", t.Host, err)
		}
		return check(t, key)
	}
	return nil
}

func isFingerprint(s string) bool { return strings.HasPrefix(s, "SHA256:") }

type knownhostsCheck func(t remote.Target, key gossh.PublicKey) error

func loadKnownHosts(path string) (knownhostsCheck, error) {
	path, err := ExpandHome(path)
	if err != nil {
		return nil, err
	}
	cb, err := knownhosts.New(path)
	if err != nil {
		return nil, err
	}
	return func(t remote.Target, key gossh.PublicKey) error {
		hostport := net.JoinHostPort(t.Addr.Addr().String(), strconv.Itoa(int(t.Addr.Port())))
		tcp := &net.TCPAddr{IP: t.Addr.Addr().AsSlice(), Port: int(t.Addr.Port())}
		err := cb(hostport, tcp, key)
		var ke *knownhosts.KeyError
		switch {
		case err == nil:
			return nil
		case errors.As(err, &ke) && len(ke.Want) > 0:
			var want, types []string
			for _, w := range ke.Want {
				if w.Key.Type() == key.Type() {
					want = append(want, remote.AuthorizedKey(w.Key))
				}
				types = append(types, w.Key.Type())
			}
			if len(want) == 0 {
				return fmt.Errorf("%s: %s lists only %s keys for %s, but the host presents its %s key %s: add that key (ssh-keyscan -t %s)", t.Host, path, strings.Join(types, ", "), knownhosts.Normalize(hostport), key.Type(), gossh.FingerprintSHA256(key), key.Type())
			}
			return &remote.HostKeyMismatchError{Host: t.Host, Want: strings.Join(want, " or ") + " (from " + path + ")", Got: remote.AuthorizedKey(key)}
		case errors.As(err, &ke):
			return fmt.Errorf("%s: host key %s of %s is not in %s: add it (ssh-keyscan) or remove known_hosts from the configuration to trust it on first use", t.Host, gossh.FingerprintSHA256(key), knownhosts.Normalize(hostport), path)
		default:
			return fmt.Errorf("%s: known_hosts %s: %w", t.Host, path, err)
		}
	}, nil
}

var errGotKey = errors.New("host key received")

// probeHostKey runs a handshake only as far as the host key and returns it;
// it never authenticates.
func probeHostKey(ctx context.Context, t remote.Target, timeout time.Duration) (gossh.PublicKey, error) {
	addr := net.JoinHostPort(t.Addr.Addr().String(), strconv.Itoa(int(t.Addr.Port())))
	tcp, err := remote.DialTCP(ctx, t.Netns, addr, timeout)
	if err != nil {
		return nil, err
	}
	defer tcp.Close()
	_ = tcp.SetDeadline(time.Now().Add(timeout))
	var key gossh.PublicKey
	cfg := &gossh.ClientConfig{
		User: t.User,
		HostKeyCallback: func(_ string, _ net.Addr, k gossh.PublicKey) error {
			key = k
			return errGotKey
		},
		Timeout: timeout,
	}
	if t.HostKey != nil {
		// Ask for the pinned key's algorithm so that a host with several
		// keys shows the one we compare with.
		cfg.HostKeyAlgorithms = algorithmsFor(t.HostKey.Type())
	}
	_, _, _, err = gossh.NewClientConn(tcp, addr, cfg)
	if key != nil {
		return key, nil
	}
	return nil, fmt.Errorf("ssh handshake with %s: %w", addr, err)
}

func algorithmsFor(keyType string) []string {
	if keyType == gossh.KeyAlgoRSA {
		return []string{gossh.KeyAlgoRSASHA512, gossh.KeyAlgoRSASHA256, gossh.KeyAlgoRSA}
	}
	return []string{keyType}
}

// loadKey reads an unencrypted private key file.
func loadKey(path string) (gossh.Signer, error) {
	path, err := ExpandHome(path)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s, err := gossh.ParsePrivateKey(b)
	var pp *gossh.PassphraseMissingError
	if errors.As(err, &pp) {
		return nil, fmt.Errorf("%s is encrypted with a passphrase; labnet needs an unencrypted key file", path)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// ExpandHome turns a leading "~/" (or a lone "~") into the user's home directory.
func ExpandHome(path string) (string, error) {
	if path != "~" && !strings.HasPrefix(path, "~/") {
		return path, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("expand %s: %w", path, err)
	}
	return filepath.Join(home, strings.TrimPrefix(path, "~")), nil
}
