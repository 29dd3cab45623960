package hostnet

import (
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/labnet-dev/labnet/internal/testutil"
)

// sandbox is a throwaway network and mount namespace (with its own /run)
// in which a real-kernel test runs shell scripts; files live in dir.
type sandbox struct {
	t   *testing.T
	dir string
}

// newSandbox skips the test unless it runs as root with tools installed.
func newSandbox(t *testing.T, tools ...string) *sandbox {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (namespaces)")
	}
	testutil.NeedTools(t, append([]string{"ip", "unshare"}, tools...)...)
	return &sandbox{t: t, dir: t.TempDir()}
}

// write puts a file into the sandbox's directory.
func (s *sandbox) write(name, text string) {
	s.t.Helper()
	if err := os.WriteFile(filepath.Join(s.dir, name), []byte(text), 0o600); err != nil {
		s.t.Fatal(err)
	}
}

// run runs driver (sh, in the sandbox's directory, after a fresh tmpfs on
// /run) in new namespaces that vanish with it.
func (s *sandbox) run(driver string) {
	s.t.Helper()
	cmd := exec.Command("unshare", "--net", "--mount", "--propagation", "private", "sh", "-c",
		"set -e\nmount -t tmpfs labnet-test /run && mkdir -p /run/netns\n"+driver)
	cmd.Dir = s.dir
	if out, err := cmd.CombinedOutput(); err != nil {
		s.t.Fatalf("driver: %v\n%s", err, out)
	}
}

// read returns a file the driver wrote.
func (s *sandbox) read(name string) []byte {
	s.t.Helper()
	b, err := os.ReadFile(filepath.Join(s.dir, name))
	if err != nil {
		s.t.Fatal(err)
	}
	return b
}

// TestBridgeKeepsItsMAC: a bridge labnet makes keeps its own MAC when a
// port with a lower one joins and leaves (without it the bridge takes the
// lowest port MAC, and its neighbours' ARP entries go stale when that port
// leaves: a 26 s SSH stall to netns hosts).
func TestBridgeKeepsItsMAC(t *testing.T) {
	sb := newSandbox(t)
	n := Names{Lab: "mactest"}
	b := Bridge{Addr: "bridge.br", Ifname: "br0", Gateway: netip.MustParseAddr("10.5.0.1"), CIDR: netip.MustParsePrefix("10.5.0.0/24")}
	sb.write("create.batch", strings.Join(b.CreateBatch(n), "\n")+"\n")
	sb.run(strings.Join([]string{
		"ip -batch create.batch",
		"ip -br link show dev br0 | awk '{print $3}' >before",
		"ip link add name lnlow address 00:00:00:00:00:01 type veth peer name lnlowp",
		"ip link set dev lnlow master br0 up && ip link set dev lnlowp up",
		"ip -br link show dev br0 | awk '{print $3}' >joined",
		"ip link del dev lnlow",
		"ip -br link show dev br0 | awk '{print $3}' >left",
	}, "\n"))
	want := n.MAC(b.Addr) + "\n"
	for _, f := range []string{"before", "joined", "left"} {
		if got := string(sb.read(f)); got != want {
			t.Errorf("br0's MAC %s: %q, want %q", f, got, want)
		}
	}
}
