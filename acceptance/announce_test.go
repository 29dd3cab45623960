package acceptance

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/labnet-dev/labnet/hostnet"
)

// TestGuestsAnnouncedOnEveryLab: on each network model, a guest made
// again (apply -replace) is announced with a gratuitous ARP in its name
// on its bridge, captured there with labnet capture: a bridged VM on the
// host's LAN bridge, a container on docker0, a pod on cni0, a segment
// member and its NIC on the segment's bridge.
func TestGuestsAnnouncedOnEveryLab(t *testing.T) {
	for _, c := range []struct {
		lab, replace, bridge string
		announced            []string // resources whose address is announced
	}{
		{"vms", "vm.bridged", "lanbr", []string{"vm.bridged"}},
		{"docker", "container.web[0]", "docker0", []string{"container.web[0]"}},
		{"kubernetes-flat", "pod.web[0]", "cni0", []string{"pod.web[0]"}},
		{"sdn", "container.edge", "lns-tenant-a", []string{"container.edge/nic[0]"}},
		{"sdn", "container.a[0]", "lns-tenant-a", []string{"container.a[0]"}},
	} {
		t.Run(c.lab+"/"+c.replace, func(t *testing.T) {
			l := newLab(t, c.lab)
			l.must(0, "apply", "-auto-approve")
			host, addrs := "", map[string]string{}
			var st struct {
				Resources []struct {
					Addr, Host string
					Attrs      map[string]string
				}
			}
			if err := json.Unmarshal([]byte(l.must(0, "show", "-json")), &st); err != nil {
				t.Fatal(err)
			}
			for _, r := range st.Resources {
				if r.Addr == c.replace {
					host = r.Host
				}
				addrs[r.Addr] = r.Attrs["address"]
			}
			pcap := filepath.Join(t.TempDir(), "arp.pcap")
			capture := exec.Command(labnetBin, "-chdir="+l.dir, "capture", "-i", c.bridge, "-w", pcap, host, "arp")
			var errOut bytes.Buffer
			capture.Stderr = &errOut
			if err := capture.Start(); err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 100 && !strings.Contains(errOut.String(), "listening"); i++ {
				time.Sleep(50 * time.Millisecond)
			}
			l.must(0, "apply", "-auto-approve", "-replace="+c.replace)
			// The capture streams back over SSH: wait for packets (a pcap
			// header is 24 bytes), at most 5 s.
			for i := 0; i < 100; i++ {
				if fi, err := os.Stat(pcap); err == nil && fi.Size() > 24*int64(len(c.announced)+1) {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			time.Sleep(200 * time.Millisecond)
			_ = capture.Process.Signal(syscall.SIGINT)
			_ = capture.Wait()
			text, err := exec.Command("tcpdump", "-n", "-e", "-r", pcap).CombinedOutput()
			if err != nil {
				t.Fatalf("tcpdump -r: %v\n%s\ncapture: %s", err, text, errOut.String())
			}
			n := hostnet.Names{Lab: l.name}
			for _, res := range c.announced {
				ip := strings.SplitN(addrs[res], "/", 2)[0]
				want := regexp.MustCompile(regexp.QuoteMeta(n.MAC(res)+" > ff:ff:ff:ff:ff:ff") + `.*Request who-has ` + regexp.QuoteMeta(ip) + ` tell ` + regexp.QuoteMeta(ip) + `,`)
				if !want.Match(text) {
					t.Errorf("%s (%s, %s) was not announced on %s of %s:\n%s\ncapture: %s", res, ip, n.MAC(res), c.bridge, host, text, errOut.String())
				}
			}
		})
	}
}
