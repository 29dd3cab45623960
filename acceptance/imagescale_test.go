package acceptance

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/labnet-dev/labnet/image"
	"github.com/labnet-dev/labnet/internal/testutil"
)

// TestImageContainersScale applies bench/labs/images (one netns host, one
// bridge, var.n containers run by runc from one busybox image) at 2 and
// at 12 containers and proves by counting, from LABNET_STATS and apply's
// output, that labnet talks to the host the same number of times either
// way (one script per stage, not one exchange per container), and that
// the image goes to the host once: the first apply sends it, a second
// apply, an apply adding containers of the same image and one making
// them again after their removal send none of it. The containers are
// proved to run by runc's state and by HTTP between two of them; one
// whose process exits at once fails the apply.
func TestImageContainersScale(t *testing.T) {
	testutil.NeedRoot(t)
	testutil.NeedTools(t, "runc", "busybox")
	l := newBenchLab(t, "images")
	// An image of this test's own (its environment names the lab): no
	// other lab or test has its digest, so the first apply must send it,
	// and the host's image cache can be rid of it at the end.
	bb, _ := exec.LookPath("busybox")
	files, err := image.BusyboxFiles(bb, func() ([]byte, error) { return exec.Command(bb, "--list").Output() })
	if err != nil {
		t.Fatal(err)
	}
	cfg := image.BusyboxConfig
	cfg.Env = append(append([]string{}, cfg.Env...), "LABNET_TEST="+l.name)
	archive := filepath.Join(l.dir, "images", "busybox.tar")
	if err := os.MkdirAll(filepath.Dir(archive), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := image.Build(files, cfg, image.DockerArchive, archive); err != nil {
		t.Fatal(err)
	}
	im, err := image.Open(image.DockerArchive, archive)
	if err != nil {
		t.Fatal(err)
	}
	digest := im.Digest
	var rootfs bytes.Buffer
	err = im.Rootfs(&rootfs)
	im.Close()
	if err != nil {
		t.Fatal(err)
	}
	cache := "/var/lib/labnet/images/" + strings.TrimPrefix(digest, "sha256:")
	if _, err := os.Stat(cache); err == nil {
		t.Fatalf("%s is on the machine before the test sent it", cache)
	}
	// Runs before the lab's destroy (cleanups run last first): the
	// containers go first, then the image they were made from.
	t.Cleanup(func() {
		l.run("apply", "-auto-approve", "-var", "n=0")
		os.RemoveAll(cache)
	})
	l.must(0, "apply", "-auto-approve", "-var", "n=0") // the host and its bridge

	host := func(script string) string { return l.must(0, "exec", "host.h", "--", "sh", "-c", script) }
	prefix := "labnet." + l.name + ".c-"
	running := func(n int) {
		t.Helper()
		out := host("runc list -f json")
		var cs []struct{ ID, Status string }
		if err := json.Unmarshal([]byte(out), &cs); err != nil {
			t.Fatalf("runc list: %v\n%s", err, out)
		}
		got := 0
		for _, c := range cs {
			if strings.HasPrefix(c.ID, prefix) && c.Status == "running" {
				got++
			}
		}
		if got != n {
			t.Fatalf("runc runs %d of the lab's containers, wants %d:\n%s", got, n, out)
		}
	}
	// HTTP from the last container to the first, across the bridge: both
	// run the image's busybox, one serving, one fetching.
	serves := func(n int) {
		t.Helper()
		addr := containerAddress(t, l, "container.c[0]")
		out := l.must(0, "exec", "container.c["+itoa(n-1)+"]", "--", "wget", "-qO-", "http://"+addr+"/etc/group")
		if !strings.HasPrefix(out, "root:x:0:") {
			t.Fatalf("container.c[%d] fetched %q from container.c[0]'s httpd", n-1, out)
		}
	}
	type step struct {
		n      int
		what   string
		images map[string]int64 // images_sent for host.h
		exch   int64
	}
	apply := func(n int, what string) step {
		t.Helper()
		s := imageApply(t, l, "-var", "n="+itoa(n))
		t.Logf("%s (n=%d): %d exchanges with host.h, %d bytes sent, images sent %v", what, n, s.exch, s.sent, s.images)
		return step{n: n, what: what, images: s.images, exch: s.exch}
	}
	noImage := func(s step) {
		t.Helper()
		if len(s.images) > 0 {
			t.Errorf("%s sent host.h an image again: %v", s.what, s.images)
		}
	}

	first := apply(2, "first apply of 2 containers")
	if got := first.images[digest]; got != int64(rootfs.Len()) || len(first.images) != 1 {
		t.Errorf("the first apply sent host.h images %v, wants %s with its %d bytes of rootfs", first.images, digest, rootfs.Len())
	}
	if out := host("ls " + cache + "/.labnet-complete"); !strings.Contains(out, ".labnet-complete") {
		t.Fatalf("the image is not unpacked in %s", cache)
	}
	running(2)
	serves(2)
	noImage(apply(2, "second apply"))
	added := apply(12, "apply adding 10 containers")
	noImage(added)
	running(12)
	serves(12)
	l.must(0, "plan", "-detailed-exitcode", "-var", "n=12")
	remove12 := apply(0, "removal of 12 containers")
	running(0)
	again := apply(2, "apply of 2 containers after their removal")
	noImage(again)
	running(2)
	remove2 := apply(0, "removal of 2 containers")
	running(0)
	if out := host("grep -F ' /run/labnet/" + l.name + "/runc/' /proc/self/mounts; ls /run/labnet/" + l.name + "/runc 2>/dev/null; true"); strings.TrimSpace(out) != "" {
		t.Errorf("after the removals the host still has:\n%s", out)
	}

	// A container whose process ends at once fails the apply, which says
	// so with the end of its log.
	out, errOut, code := l.run("apply", "-auto-approve", "-var", "n=1", "-var", `command=["sh", "-c", "echo bye; exit 3"]`)
	if code != 1 || !strings.Contains(errOut, "container exited at once") || !strings.Contains(errOut, "bye") {
		t.Errorf("apply of a container that exits at once: exit %d, wants 1 with its log's end:\n%s%s", code, out, errOut)
	}
	l.must(0, "apply", "-auto-approve", "-var", "n=0")
	running(0)

	// Exchanges: making 2 containers (the image sent with them), adding
	// 10, and making 2 again all cost the host the same; so do removing
	// 12 and removing 2.
	for _, s := range []step{added, again} {
		if s.exch != first.exch {
			t.Errorf("%s took %d exchanges with host.h, the first apply of 2 took %d: the count must not depend on the number of containers",
				s.what, s.exch, first.exch)
		}
	}
	if remove12.exch != remove2.exch {
		t.Errorf("removing 12 image containers took %d exchanges with host.h, removing 2 took %d: the count must not depend on the number of containers",
			remove12.exch, remove2.exch)
	}
}

// imageStats is what one labnet apply cost, from LABNET_STATS.
type imageStats struct {
	exch   int64            // SSH exchanges with host.h
	sent   int64            // bytes of scripts sent to host.h
	images map[string]int64 // the images sent to host.h: digest -> bytes
}

// imageApply runs `labnet apply -auto-approve ARGS` with LABNET_STATS set,
// fails unless it exits 0, and checks that its output names exactly the
// images the stats say it sent to host.h.
func imageApply(t *testing.T, l *lab, args ...string) imageStats {
	t.Helper()
	stats := filepath.Join(t.TempDir(), "stats.json")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, labnetBin, append([]string{"-chdir=" + l.dir, "apply", "-auto-approve"}, args...)...)
	cmd.Env = append(os.Environ(), "LABNET_STATS="+stats)
	cmd.Stdin = strings.NewReader("")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("labnet apply %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
	b, err := os.ReadFile(stats)
	if err != nil {
		t.Fatalf("labnet apply %s wrote no LABNET_STATS file: %v", strings.Join(args, " "), err)
	}
	var s struct {
		Exchanges map[string]int64            `json:"exchanges"`
		Sent      map[string]int64            `json:"sent_bytes"`
		Images    map[string]map[string]int64 `json:"images_sent"`
	}
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("LABNET_STATS: %v\n%s", err, b)
	}
	if s.Exchanges["host.h"] == 0 {
		t.Fatalf("labnet apply %s: LABNET_STATS counts no exchange with host.h:\n%s", strings.Join(args, " "), b)
	}
	said := map[string]bool{}
	for _, m := range imageSentLine.FindAllStringSubmatch(out.String(), -1) {
		if m[2] != "host.h" {
			t.Errorf("apply says it sent an image to %s: %s", m[2], m[0])
		}
		said[m[1]] = true
	}
	for d := range s.Images["host.h"] {
		if !said[d] {
			t.Errorf("LABNET_STATS says apply sent %s to host.h; its output does not:\n%s", d, out.String())
		}
		delete(said, d)
	}
	if len(said) > 0 {
		t.Errorf("apply's output names images LABNET_STATS does not count (%v):\n%s", said, out.String())
	}
	return imageStats{exch: s.Exchanges["host.h"], sent: s.Sent["host.h"], images: s.Images["host.h"]}
}

var imageSentLine = regexp.MustCompile(`(?m)^Image (sha256:[0-9a-f]{64}) sent to (\S+) \([0-9.]+ MB\)\.$`)

// containerAddress is a container's address, from `labnet show -json`.
func containerAddress(t *testing.T, l *lab, addr string) string {
	t.Helper()
	out := l.must(0, "show", "-json")
	var st struct {
		Resources []struct {
			Addr  string            `json:"addr"`
			Attrs map[string]string `json:"attrs"`
		} `json:"resources"`
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("show -json: %v\n%s", err, out)
	}
	for _, r := range st.Resources {
		if r.Addr == addr && r.Attrs["address"] != "" {
			return r.Attrs["address"]
		}
	}
	t.Fatalf("show -json has no address of %s:\n%s", addr, out)
	return ""
}
