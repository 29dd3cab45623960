package lima

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labnet-dev/labnet/internal/testutil"
	"github.com/labnet-dev/labnet/provider"
	"github.com/labnet-dev/labnet/remote"
)

// TestLimaAcceptance boots two real Lima VMs on user-v2, proves they reach
// each other at the LAN addresses labnet read, stops and repairs one,
// destroys one and sweeps the rest. It needs limactl on PATH and a normal
// user, and takes minutes (about 150 s per boot under TCG): run it with
// -timeout 30m. The VM image comes from
//
//	LABNET_LIMA_TEMPLATE  a Lima template (e.g. shared/lima/template-offline.yaml, no download), or
//	LABNET_LIMA_IMAGE     a disk image path or URL,
//
// else Lima's Debian 12 image template (downloads an image).
func TestLimaAcceptance(t *testing.T) {
	if _, err := exec.LookPath("limactl"); err != nil {
		t.Skip("limactl is not on PATH (no package registry here serves Lima): run on a machine with Lima (https://lima-vm.io)")
	}
	if os.Geteuid() == 0 {
		t.Skip("limactl refuses to run as root: run this test as a normal user")
	}
	if testing.Short() {
		t.Skip("boots real VMs (minutes)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 28*time.Minute)
	defer cancel()
	s := Settings{CPUs: 1, Memory: "1GiB", Template: "template://_images/debian-12"}
	if v := os.Getenv("LABNET_LIMA_TEMPLATE"); v != "" {
		s.Template = v
	} else if v := os.Getenv("LABNET_LIMA_IMAGE"); v != "" {
		s.Template, s.Image = "", v
	}
	lab := testutil.LabName("lt")
	p := New()
	p.Progress = func(h, msg string) { t.Logf("%s: %s", h, msg) }
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		if err := p.Sweep(ctx, lab); err != nil {
			t.Error(err)
		}
		list, err := p.List(ctx)
		if err != nil {
			t.Error(err)
		}
		for _, in := range list {
			if strings.HasPrefix(in.Name, lab+"-") {
				t.Errorf("VM %s left behind", in.Name)
			}
		}
	})
	hosts := []provider.Host{host("a"), host("b")}
	recs := make([]provider.Record, len(hosts))
	errs := make([]error, len(hosts))
	var wg sync.WaitGroup
	for i, h := range hosts {
		p.Configure(h.Addr, s)
		wg.Add(1)
		go func() {
			defer wg.Done()
			recs[i], errs[i] = p.CreateHost(ctx, lab, h, provider.Keys{})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("%s: %v", hosts[i].Addr, err)
		}
	}
	lanB, err := p.LANAddress(ctx, lab, hosts[1], recs[1])
	if err != nil {
		t.Fatal(err)
	}
	lanA, _ := p.LANAddress(ctx, lab, hosts[0], recs[0])
	if lanA == lanB || !lanA.IsValid() {
		t.Fatalf("LAN addresses %s and %s", lanA, lanB)
	}
	tg, err := p.Target(lab, hosts[0], recs[0], provider.Keys{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := remote.Dial(ctx, tg)
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.Must(ctx, "id -u && command -v ip nft python3 >/dev/null && ping -c 1 -W 5 "+lanB.String()+" >/dev/null && echo ok")
	c.Close()
	if err != nil || !strings.HasSuffix(strings.TrimSpace(string(out)), "ok") || !strings.HasPrefix(string(out), "0\n") {
		t.Fatalf("a -> b: %q %v", out, err)
	}
	for i, h := range hosts {
		if st, err := p.ObserveHost(ctx, lab, h, recs[i]); err != nil || !st.SSHUp {
			t.Fatalf("%s: %+v %v", h.Addr, st, err)
		}
	}

	// Stopped outside labnet, then repaired.
	name, _ := p.VMName(lab, hosts[1])
	if _, err := p.run(ctx, "stop", name); err != nil {
		t.Fatal(err)
	}
	if st, _ := p.ObserveHost(ctx, lab, hosts[1], recs[1]); !st.Exists || st.SSHUp || st.Reason != "stopped" {
		t.Fatalf("stopped VM observed as %+v", st)
	}
	if recs[1], err = p.RepairHost(ctx, lab, hosts[1], recs[1], provider.Keys{}); err != nil {
		t.Fatal(err)
	}
	if st, _ := p.ObserveHost(ctx, lab, hosts[1], recs[1]); !st.SSHUp {
		t.Fatalf("repaired VM observed as %+v", st)
	}

	if err := p.DestroyHost(ctx, lab, hosts[0], recs[0]); err != nil {
		t.Fatal(err)
	}
	if st, _ := p.ObserveHost(ctx, lab, hosts[0], recs[0]); st.Exists {
		t.Fatalf("destroyed VM observed as %+v", st)
	}
}
