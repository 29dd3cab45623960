package netns

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/labnet-dev/labnet/internal/testutil"
	"github.com/labnet-dev/labnet/provider"
	"github.com/labnet-dev/labnet/remote"
	"golang.org/x/crypto/ssh"
)

func TestShortName(t *testing.T) {
	if got := shortName("u-", "node-0"); got != "u-node-0" {
		t.Fatalf("got %q", got)
	}
	long := shortName("u-", "a-very-long-host-name")
	if len(long) != 15 || !strings.HasPrefix(long, "u-") {
		t.Fatalf("got %q", long)
	}
	if long == shortName("u-", "a-very-long-host-namf") {
		t.Fatal("different names hash alike")
	}
}

// TestHostOverSSH makes a real netns host, reaches its sshd from inside the
// underlay namespace, checks the pinned key is enforced, and removes it all.
func TestHostOverSSH(t *testing.T) {
	testutil.NeedRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	lab := testutil.LabName("pt")
	p := New()
	t.Cleanup(func() {
		if err := p.Sweep(context.Background(), lab); err != nil {
			t.Error(err)
		}
		if _, err := os.Stat(UnderlayPath(lab)); err == nil {
			t.Error("underlay namespace left behind")
		}
		if pids := ownedPIDs(lab + "/"); len(pids) > 0 {
			t.Errorf("processes left: %v", pids)
		}
	})
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	signer, _ := ssh.NewSignerFromKey(priv)
	keys := provider.Keys{Client: signer}
	n := provider.Network{Addr: "network.lan", Name: "lan", CIDR: netip.MustParsePrefix("10.77.0.0/24"), Gateway: netip.MustParseAddr("10.77.0.254")}
	if err := p.EnsureNetwork(ctx, lab, n); err != nil {
		t.Fatal(err)
	}
	if err := p.EnsureNetwork(ctx, lab, n); err != nil {
		t.Fatalf("EnsureNetwork is not idempotent: %v", err)
	}
	if ok, why, err := p.ObserveNetwork(ctx, lab, n); !ok || err != nil {
		t.Fatalf("network not observed: %s %v", why, err)
	}
	// Drift of the underlay bridge, read in-process from inside the
	// underlay: down, without its address, gone; an underlay file with no
	// namespace mounted on it (a run killed half-way through making it);
	// EnsureNetwork repairs.
	br, ns := bridgeName(n), UnderlayNS(lab)
	for _, tc := range []struct{ tamper, reason string }{
		{"link set dev " + br + " down", "or is down"},
		{"addr flush dev " + br, "lacks 10.77.0.254/24"},
		{"link del dev " + br, "is missing"},
		{"unmount", "no namespace on it"},
	} {
		cmd := exec.Command("ip", append([]string{"-n", ns}, strings.Fields(tc.tamper)...)...)
		if tc.tamper == "unmount" {
			cmd = exec.Command("umount", UnderlayPath(lab))
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v %s", tc.tamper, err, out)
		}
		if ok, why, err := p.ObserveNetwork(ctx, lab, n); ok || err != nil || !strings.Contains(why, tc.reason) {
			t.Errorf("after %q: observed %v %q %v, want not ok, %q", tc.tamper, ok, why, err, tc.reason)
		}
		if err := p.EnsureNetwork(ctx, lab, n); err != nil {
			t.Fatal(err)
		}
		if ok, why, err := p.ObserveNetwork(ctx, lab, n); !ok || err != nil {
			t.Fatalf("after repairing %q: %s %v", tc.tamper, why, err)
		}
	}
	h := provider.Host{Addr: "host.a", Name: "a", Network: n, Address: netip.MustParseAddr("10.77.0.11")}
	rec, err := p.CreateHost(ctx, lab, h, keys)
	if err != nil {
		t.Fatal(err)
	}
	target, err := p.Target(lab, h, rec, keys)
	if err != nil {
		t.Fatal(err)
	}
	c, err := remote.Dial(ctx, target)
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.Must(ctx, "ip -br addr show dev eth0; ip netns list | wc -l")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "10.77.0.11/24") {
		t.Fatalf("eth0 lacks its address: %s", out)
	}
	// The host's /sys is its own: eth0 there is the host's eth0 (its MAC
	// is labnet's), not the machine's.
	out, err = c.Must(ctx, "cat /sys/class/net/eth0/address; ip -br link show dev eth0")
	if err != nil {
		t.Fatal(err)
	}
	if f := strings.Fields(string(out)); len(f) < 4 || f[0] != f[3] {
		t.Errorf("/sys/class/net/eth0/address and ip's eth0 differ (the machine's /sys?): %q", out)
	}
	r, err := c.Run(ctx, "echo out; echo err >&2; exit 3")
	if err != nil || r.Code != 3 || string(r.Stdout) != "out\n" || string(r.Stderr) != "err\n" {
		t.Fatalf("run: %+v %v", r, err)
	}
	c.Close()
	if st, _ := p.ObserveHost(ctx, lab, h, rec); !st.Exists || !st.SSHUp {
		t.Fatalf("host not observed: %+v", st)
	}

	// A different pinned key is refused.
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	osigner, _ := ssh.NewSignerFromKey(other)
	target.HostKey = osigner.PublicKey()
	if _, err := remote.Dial(ctx, target); err == nil || !strings.Contains(err.Error(), "host key changed") {
		t.Fatalf("changed host key not refused: %v", err)
	}
	// The lab key is the only one accepted.
	target, _ = p.Target(lab, h, rec, keys)
	target.Signer = osigner
	target.Timeout = 2 * time.Second
	if _, err := remote.Dial(ctx, target); err == nil {
		t.Fatal("a foreign client key was accepted")
	}

	if err := p.DestroyHost(ctx, lab, h, rec); err != nil {
		t.Fatal(err)
	}
	if st, _ := p.ObserveHost(ctx, lab, h, rec); st.Exists {
		t.Fatal("host still exists after destroy")
	}
	if err := p.DestroyNetwork(ctx, lab, n); err != nil {
		t.Fatal(err)
	}
}

// TestDestroyNetworkStaleFile: a run killed inside `ip netns add` leaves the
// underlay's file with no namespace mounted on it; destroy removes it.
func TestDestroyNetworkStaleFile(t *testing.T) {
	testutil.NeedRoot(t)
	lab := testutil.LabName("ps")
	path := UnderlayPath(lab)
	if out, err := exec.Command("sh", "-c", "ip netns add "+UnderlayNS(lab)+" && umount "+path).CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	t.Cleanup(func() { _ = os.Remove(path) })
	n := provider.Network{Addr: "network.lan", Name: "lan", CIDR: netip.MustParsePrefix("10.77.0.0/24"), Gateway: netip.MustParseAddr("10.77.0.254")}
	if err := New().DestroyNetwork(context.Background(), lab, n); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err == nil {
		t.Errorf("%s is still there", path)
	}
}
