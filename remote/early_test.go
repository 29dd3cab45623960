package remote_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
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

func newSigner(t *testing.T) gossh.Signer {
	t.Helper()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	s, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// sshdTitles lists the process titles of the sshd processes in the network
// namespace of pid. OpenSSH retitles a connection's processes: "sshd:
// [accepted]", "sshd: [net]" until the client names its user (which it
// does only after the key exchange, and so after the host key check), then
// "sshd: root [net]", "sshd: root [priv]", "sshd: root", "sshd: root@notty".
func sshdTitles(t *testing.T, pid int) []string {
	t.Helper()
	want, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", pid))
	if err != nil {
		t.Fatal(err)
	}
	var titles []string
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		if ns, err := os.Readlink(d + "/ns/net"); err != nil || ns != want {
			continue
		}
		b, err := os.ReadFile(d + "/cmdline")
		if err != nil {
			continue
		}
		if title := strings.TrimRight(strings.ReplaceAll(string(b), "\x00", " "), " "); strings.HasPrefix(title, "sshd") {
			titles = append(titles, title)
		}
	}
	return titles
}

// userSent says whether some connection got as far as naming its user.
func userSent(titles []string) bool {
	for _, s := range titles {
		if strings.HasPrefix(s, "sshd: root") {
			return true
		}
	}
	return false
}

// TestEarly logs in to a real sshd (a netns host) before the host key is
// known, as labnet does while it reads the state.
func TestEarly(t *testing.T) {
	testutil.NeedRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	lab := testutil.LabName("re")
	np := netns.New()
	t.Cleanup(func() {
		if err := np.Sweep(context.Background(), lab); err != nil {
			t.Error(err)
		}
	})
	keys := provider.Keys{Client: newSigner(t)}
	n := provider.Network{Addr: "network.lan", Name: "lan", CIDR: netip.MustParsePrefix("10.79.0.0/24"), Gateway: netip.MustParseAddr("10.79.0.254")}
	if err := np.EnsureNetwork(ctx, lab, n); err != nil {
		t.Fatal(err)
	}
	h := provider.Host{Addr: "host.m", Name: "m", Network: n, Address: netip.MustParseAddr("10.79.0.11")}
	rec, err := np.CreateHost(ctx, lab, h, keys)
	if err != nil {
		t.Fatal(err)
	}
	// What labnet knows before the state is read: no pinned key.
	early, err := np.Target(lab, h, provider.Record{}, keys)
	if err != nil {
		t.Fatal(err)
	}
	pinned, err := np.Target(lab, h, rec, keys)
	if err != nil || pinned.HostKey == nil {
		t.Fatalf("target with the record: %+v %v", pinned, err)
	}
	// Wait for sshd before the first login: a refused early login is
	// simply not used (covered below), which is not what this part tests.
	if c, err := remote.Dial(ctx, pinned); err != nil {
		t.Fatal(err)
	} else {
		c.Close()
	}

	t.Run("claimed with the pinned key", func(t *testing.T) {
		e := remote.DialEarly(ctx, early)
		// The login stops at the host key check until it is claimed: it
		// does not even name its user meanwhile.
		time.Sleep(300 * time.Millisecond)
		if titles := sshdTitles(t, rec.PID); userSent(titles) {
			t.Fatalf("the login went past the host key check before it was claimed: %q", titles)
		}
		c, ok := e.Claim(ctx, pinned)
		if !ok {
			t.Fatal("early login not usable")
		}
		defer c.Close()
		if titles := sshdTitles(t, rec.PID); !userSent(titles) {
			t.Fatalf("no logged-in session after the claim: %q", titles)
		}
		if out, err := c.Must(ctx, "ip -br addr show dev eth0"); err != nil || !strings.Contains(string(out), "10.79.0.11/24") {
			t.Fatalf("not the host: %s %v", out, err)
		}
		if c.Host() != "host.m" || remote.AuthorizedKey(c.HostKey()) != rec.HostKey {
			t.Errorf("connection to %s presenting %s", c.Host(), remote.AuthorizedKey(c.HostKey()))
		}
	})

	t.Run("another pinned key", func(t *testing.T) {
		wrong := pinned
		wrong.HostKey = newSigner(t).PublicKey()
		e := remote.DialEarly(ctx, early)
		if c, ok := e.Claim(ctx, wrong); ok {
			c.Close()
			t.Fatal("early login used although the host presented another key")
		}
		var mismatch *remote.HostKeyMismatchError
		if _, err := remote.Dial(ctx, wrong); !errors.As(err, &mismatch) {
			t.Fatalf("dial with the wrong key: %v", err)
		}
	})

	t.Run("another target or nothing pinned", func(t *testing.T) {
		other := pinned
		other.User = "nobody"
		for name, tg := range map[string]remote.Target{"user": other, "first use": early} {
			e := remote.DialEarly(ctx, early)
			if c, ok := e.Claim(ctx, tg); ok {
				c.Close()
				t.Errorf("%s: early login used for a target it was not made for", name)
			}
		}
	})

	t.Run("abandoned while it waits", func(t *testing.T) {
		e := remote.DialEarly(ctx, early)
		time.Sleep(200 * time.Millisecond)
		start := time.Now()
		e.Abandon()
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("abandon took %s", d)
		}
		if titles := sshdTitles(t, rec.PID); userSent(titles) {
			t.Errorf("an abandoned login went on: %q", titles)
		}
	})

	t.Run("refused", func(t *testing.T) {
		closed := pinned
		closed.Addr = netip.AddrPortFrom(h.Address, 2222)
		early2 := early
		early2.Addr = closed.Addr
		e := remote.DialEarly(ctx, early2)
		start := time.Now()
		if c, ok := e.Claim(ctx, closed); ok {
			c.Close()
			t.Fatal("a refused login was used")
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("a refused early login took %s to give up (it must not retry)", d)
		}
	})
}
