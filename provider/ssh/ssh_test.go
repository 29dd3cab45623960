package ssh

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/labnet-dev/labnet/internal/testutil"
	"github.com/labnet-dev/labnet/provider"
	"github.com/labnet-dev/labnet/provider/netns"
	"github.com/labnet-dev/labnet/remote"
	gossh "golang.org/x/crypto/ssh"
)

func newKey(t *testing.T) (gossh.Signer, []byte) {
	t.Helper()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	s, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	block, err := gossh.MarshalPrivateKey(priv, "test")
	if err != nil {
		t.Fatal(err)
	}
	return s, pem.EncodeToMemory(block)
}

func TestTarget(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	lab, _ := newKey(t)
	file, pemBytes := newKey(t)
	if err := os.WriteFile(filepath.Join(home, "id"), pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	pinned, _ := newKey(t)
	recorded, _ := newKey(t)
	h := provider.Host{Addr: "host.a", Name: "a", Address: netip.MustParseAddr("192.0.2.7")}
	p := New()

	// Defaults: root on port 22 with the lab key, no sudo, the recorded pin.
	tg, err := p.Target("x", h, provider.Record{HostKey: remote.AuthorizedKey(recorded.PublicKey())}, provider.Keys{Client: lab})
	if err != nil {
		t.Fatal(err)
	}
	if tg.Addr.String() != "192.0.2.7:22" || tg.User != "root" || tg.Sudo || tg.Signer != lab || tg.Host != "host.a" {
		t.Fatalf("defaults: %+v", tg)
	}
	if remote.AuthorizedKey(tg.HostKey) != remote.AuthorizedKey(recorded.PublicKey()) {
		t.Fatal("recorded host key not pinned")
	}

	// A non-root user goes through sudo; the key file (with ~/) replaces the
	// lab key; a configured pin wins over the recorded one.
	p.Configure("host.a", Settings{User: "lab", Port: 2222, PrivateKeyFile: "~/id", HostKey: remote.AuthorizedKey(pinned.PublicKey()), Netns: "/run/netns/x"})
	tg, err = p.Target("x", h, provider.Record{HostKey: remote.AuthorizedKey(recorded.PublicKey())}, provider.Keys{Client: lab})
	if err != nil {
		t.Fatal(err)
	}
	if tg.Addr.String() != "192.0.2.7:2222" || tg.User != "lab" || !tg.Sudo || tg.Netns != "/run/netns/x" {
		t.Fatalf("configured: %+v", tg)
	}
	if remote.AuthorizedKey(tg.Signer.PublicKey()) != remote.AuthorizedKey(file.PublicKey()) {
		t.Fatal("private_key_file not used")
	}
	if remote.AuthorizedKey(tg.HostKey) != remote.AuthorizedKey(pinned.PublicKey()) {
		t.Fatal("configured host key does not win")
	}

	p.Configure("host.a", Settings{PrivateKeyFile: "~/missing"})
	if _, err := p.Target("x", h, provider.Record{}, provider.Keys{Client: lab}); err == nil || !strings.Contains(err.Error(), "private_key_file") {
		t.Fatalf("missing key file: %v", err)
	}
	p.Configure("host.a", Settings{HostKey: "not a key"})
	if _, err := p.Target("x", h, provider.Record{}, provider.Keys{Client: lab}); err == nil {
		t.Fatal("a malformed pinned key was accepted")
	}
	p.Configure("host.a", Settings{Port: 70000})
	if _, err := p.Target("x", h, provider.Record{}, provider.Keys{Client: lab}); err == nil {
		t.Fatal("port 70000 accepted")
	}
}

func TestExpandHome(t *testing.T) {
	t.Setenv("HOME", "/home/u")
	for in, want := range map[string]string{"~/a/b": "/home/u/a/b", "~": "/home/u", "/abs": "/abs", "rel/~/x": "rel/~/x", "~other/x": "~other/x"} {
		if got, err := ExpandHome(in); err != nil || got != want {
			t.Errorf("ExpandHome(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestNetworkIsThere(t *testing.T) {
	p := New()
	n := provider.Network{Addr: "network.lan", Name: "lan"}
	ctx := context.Background()
	if p.Name() != "ssh" || p.EnsureNetwork(ctx, "x", n) != nil || p.DestroyNetwork(ctx, "x", n) != nil || p.Sweep(ctx, "x") != nil {
		t.Fatal("network methods must be no-ops")
	}
	if ok, why, err := p.ObserveNetwork(ctx, "x", n); !ok || why != "" || err != nil {
		t.Fatalf("ObserveNetwork = %v %q %v", ok, why, err)
	}
}

// TestExistingMachine makes a real host with the netns provider (an
// isolated node running OpenSSH, reachable from the lab's underlay
// namespace) and drives it as an existing machine.
func TestExistingMachine(t *testing.T) {
	testutil.NeedRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	lab := testutil.LabName("ss")
	np := netns.New()
	t.Cleanup(func() {
		if err := np.Sweep(context.Background(), lab); err != nil {
			t.Error(err)
		}
		if _, err := os.Stat(netns.UnderlayPath(lab)); err == nil {
			t.Error("underlay namespace left behind")
		}
	})
	labKey, labPEM := newKey(t)
	keys := provider.Keys{Client: labKey}
	n := provider.Network{Addr: "network.lan", Name: "lan", CIDR: netip.MustParsePrefix("10.78.0.0/24"), Gateway: netip.MustParseAddr("10.78.0.254")}
	if err := np.EnsureNetwork(ctx, lab, n); err != nil {
		t.Fatal(err)
	}
	h := provider.Host{Addr: "host.m", Name: "m", Network: n, Address: netip.MustParseAddr("10.78.0.11")}
	nrec, err := np.CreateHost(ctx, lab, h, keys)
	if err != nil {
		t.Fatal(err)
	}
	under := netns.UnderlayPath(lab)
	p := New()
	p.Timeout = 3 * time.Second
	p.Configure(h.Addr, Settings{Netns: under})

	// Trust on first use: the key the machine shows is recorded.
	rec, err := p.CreateHost(ctx, lab, h, keys)
	if err != nil {
		t.Fatal(err)
	}
	if rec.HostKey != nrec.HostKey || rec.User != "root" || rec.SSHAddr != "10.78.0.11:22" {
		t.Fatalf("record %+v, want host key %s", rec, nrec.HostKey)
	}
	if st, err := p.ObserveHost(ctx, lab, h, rec); err != nil || !st.Exists || !st.SSHUp {
		t.Fatalf("observe: %+v %v", st, err)
	}
	tg, err := p.Target(lab, h, rec, keys)
	if err != nil {
		t.Fatal(err)
	}
	c, err := remote.Dial(ctx, tg)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := c.Must(ctx, "ip -br addr show dev eth0"); err != nil || !strings.Contains(string(out), "10.78.0.11/24") {
		t.Fatalf("not the machine: %s %v", out, err)
	}
	// The shell goes on after a script with a syntax error, and a script
	// does not see the here-document it was read from (fd 3).
	if r, err := c.Run(ctx, "if then fi ("); err != nil || r.Code == 0 || len(r.Stderr) == 0 {
		t.Fatalf("syntax error: %+v %v", r, err)
	}
	if r, err := c.Run(ctx, "echo a; exit 7; echo b"); err != nil || r.Code != 7 || string(r.Stdout) != "a\n" {
		t.Fatalf("exit 7: %+v %v", r, err)
	}
	if out, err := c.Must(ctx, "ls /proc/$$/fd | grep -x 3; sh -c 'ls /proc/$$/fd' | grep -x 3; true"); err != nil || len(out) > 0 {
		t.Fatalf("fd 3 is open in the script or its children: %q %v", out, err)
	}
	if n := c.Exchanges(); n != 4 {
		t.Errorf("%d exchanges for 4 scripts: the shell's start must cost none of its own", n)
	}
	c.Close()

	// A different pinned key is refused, at create and observe.
	other, _ := newKey(t)
	otherKey := remote.AuthorizedKey(other.PublicKey())
	p.Configure(h.Addr, Settings{Netns: under, HostKey: otherKey})
	var mismatch *remote.HostKeyMismatchError
	if _, err := p.CreateHost(ctx, lab, h, keys); !errors.As(err, &mismatch) {
		t.Fatalf("wrong configured host key: %v", err)
	}
	p.Configure(h.Addr, Settings{Netns: under})
	if st, _ := p.ObserveHost(ctx, lab, h, provider.Record{HostKey: otherKey}); !st.Exists || st.SSHUp || !strings.Contains(st.Reason, "host key changed") {
		t.Fatalf("wrong recorded host key observed as %+v", st)
	}
	if _, err := p.RepairHost(ctx, lab, h, provider.Record{HostKey: otherKey}, keys); !errors.As(err, &mismatch) {
		t.Fatalf("repair with wrong recorded host key: %v", err)
	}
	// The right key pinned in the configuration, in both forms.
	hostKey, _ := remote.ParseAuthorizedKey(nrec.HostKey)
	for _, pin := range []string{nrec.HostKey, gossh.FingerprintSHA256(hostKey)} {
		p.Configure(h.Addr, Settings{Netns: under, HostKey: pin})
		if r, err := p.CreateHost(ctx, lab, h, keys); err != nil || r.HostKey != nrec.HostKey {
			t.Fatalf("pin %s: %+v %v", pin, r, err)
		}
		if st, _ := p.ObserveHost(ctx, lab, h, provider.Record{}); !st.SSHUp {
			t.Fatalf("pin %s: observed %+v", pin, st)
		}
	}
	p.Configure(h.Addr, Settings{Netns: under, HostKey: gossh.FingerprintSHA256(other.PublicKey())})
	if _, err := p.CreateHost(ctx, lab, h, keys); !errors.As(err, &mismatch) {
		t.Fatalf("wrong fingerprint: %v", err)
	}

	// known_hosts: listed key accepted, another key of the type refused,
	// an unlisted host refused.
	dir := t.TempDir()
	kh := filepath.Join(dir, "known_hosts")
	for _, c := range []struct {
		content string
		ok      bool
		want    string
	}{
		{"10.78.0.11 " + nrec.HostKey + "\n", true, ""},
		{"10.78.0.11 " + otherKey + "\n", false, "host key changed"},
		{"10.78.0.99 " + nrec.HostKey + "\n", false, "is not in"},
	} {
		if err := os.WriteFile(kh, []byte(c.content), 0o600); err != nil {
			t.Fatal(err)
		}
		p.Configure(h.Addr, Settings{Netns: under, KnownHosts: kh})
		r, err := p.CreateHost(ctx, lab, h, keys)
		if c.ok && (err != nil || r.HostKey != nrec.HostKey) {
			t.Fatalf("known_hosts %q: %+v %v", c.content, r, err)
		}
		if !c.ok && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Fatalf("known_hosts %q: want %q, got %v", c.content, c.want, err)
		}
		if st, _ := p.ObserveHost(ctx, lab, h, provider.Record{}); st.SSHUp != c.ok {
			t.Fatalf("known_hosts %q: observed %+v", c.content, st)
		}
	}

	// A private key file replaces the lab key; the lab key is not needed.
	t.Setenv("HOME", dir)
	if err := os.WriteFile(filepath.Join(dir, "id_lab"), labPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	p.Configure(h.Addr, Settings{Netns: under, PrivateKeyFile: "~/id_lab"})
	if _, err := p.CreateHost(ctx, lab, h, provider.Keys{}); err != nil {
		t.Fatalf("private_key_file: %v", err)
	}
	// A key the machine does not accept fails the create.
	foreign, _ := newKey(t)
	p.Configure(h.Addr, Settings{Netns: under})
	if _, err := p.CreateHost(ctx, lab, h, provider.Keys{Client: foreign}); err == nil {
		t.Fatal("a foreign client key was accepted")
	}

	// Unreachable: the machine exists, its SSH is not up.
	p.Timeout = 300 * time.Millisecond
	p.Configure(h.Addr, Settings{Netns: under, Port: 2222})
	st, err := p.ObserveHost(ctx, lab, h, rec)
	if err != nil || !st.Exists || st.SSHUp || !strings.Contains(st.Reason, "refused") {
		t.Fatalf("unreachable observed as %+v %v", st, err)
	}
	if _, err := p.RepairHost(ctx, lab, h, rec, keys); err == nil || !strings.Contains(err.Error(), "does not manage") {
		t.Fatalf("repair of unreachable machine: %v", err)
	}

	// Destroy leaves the machine alone.
	p.Configure(h.Addr, Settings{Netns: under})
	if err := p.DestroyHost(ctx, lab, h, rec); err != nil {
		t.Fatal(err)
	}
	if st, _ := p.ObserveHost(ctx, lab, h, rec); !st.SSHUp {
		t.Fatalf("machine gone after DestroyHost: %+v", st)
	}
	if r, err := p.RepairHost(ctx, lab, h, rec, keys); err != nil || r.HostKey != rec.HostKey {
		t.Fatalf("repair of a healthy machine: %+v %v", r, err)
	}

	// sudo wrapping: a Target with Sudo runs labnet's shell through
	// `sudo -n`; as root on the machine that needs no password (make test
	// installs sudo).
	testutil.NeedTools(t, "sudo")
	tg.Sudo = true
	c, err = remote.Dial(ctx, tg)
	if err != nil {
		t.Fatalf("dial with sudo: %v", err)
	}
	defer c.Close()
	// The shell is sudo's child (root would be root without it too).
	out, err := c.Must(ctx, "id -u; cat /proc/$PPID/comm")
	if f := strings.Fields(string(out)); err != nil || len(f) != 2 || f[0] != "0" || f[1] != "sudo" {
		t.Fatalf("sudo shell: %q %v, want uid 0 under sudo", out, err)
	}
}
