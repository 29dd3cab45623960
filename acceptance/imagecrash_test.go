package acceptance

import (
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/labnet-dev/labnet/hostnet"
	"github.com/labnet-dev/labnet/image"
	"github.com/labnet-dev/labnet/internal/testutil"
)

// imageCrashKills is how many applies of image containers are killed: at
// that many points spread over the apply's duration (one in each of as
// many equal slices of it, at a seeded-random moment of the slice).
const imageCrashKills = 10

// TestCrashKillImageApply kills labnet with SIGKILL at imageCrashKills
// points of an apply of a lab of image containers (with limits, private
// dirs and files), and of some destroys. After every kill, apply makes the
// whole lab (its checks pass, a new plan is empty) and destroy leaves
// nothing: no runc container, supervisor or other process, no overlay or
// bundle mount in any mount namespace, no run dir (bundles, upper and
// work dirs), no cgroup, no half-unpacked image. On netns hosts
// (images-life) and on existing machines over ssh (images-ssh on the
// machines lab), where labnet itself must remove each container.
func TestCrashKillImageApply(t *testing.T) {
	testutil.NeedRoot(t)
	testutil.NeedTools(t, "runc", "busybox")
	t.Run("netns", func(t *testing.T) {
		l := newLab(t, "testdata/images-life")
		digest := ownImage(t, l)
		crashImageLab(t, l, digest, func() []string { return nil })
	})
	t.Run("ssh", func(t *testing.T) {
		machines, l := newImagesSSHLab(t)
		digest := ownImage(t, l)
		crashImageLab(t, l, digest, func() []string { return onMachines(t, machines, l.name) })
		machines.must(0, "plan", "-detailed-exitcode")
	})
}

func crashImageLab(t *testing.T, l *lab, digest string, onHosts func() []string) {
	seed := uint64(crashSeed)
	if s := os.Getenv("LABNET_CRASH_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("LABNET_CRASH_SEED: %v", err)
		}
		seed = v
	}
	t.Logf("seed %d (set LABNET_CRASH_SEED to replay another)", seed)
	rng := rand.New(rand.NewPCG(seed, 0x696d616765))
	args := func(verb ...string) []string { return append(verb, l.vars...) }
	// left is everything of the lab the machine (and its hosts) still hold.
	left := func() []string {
		out := append(append(append(labCgroups(t, l.name), labMounts(l.name)...), leftovers(l.name)...), onHosts()...)
		if halfImage(t, digest) {
			out = append(out, "a half-unpacked image "+digest)
		}
		return out
	}
	if got := left(); len(got) > 0 {
		t.Fatalf("the lab exists before the test: %v", got)
	}
	start := time.Now()
	l.must(0, args("apply", "-auto-approve")...)
	applyTime := time.Since(start)
	start = time.Now()
	l.must(0, args("destroy", "-auto-approve")...)
	destroyTime := time.Since(start)
	t.Logf("clean apply %v, clean destroy %v", applyTime.Round(time.Millisecond), destroyTime.Round(time.Millisecond))
	if got := left(); len(got) > 0 {
		t.Fatalf("a clean apply and destroy left:\n%s", strings.Join(got, "\n"))
	}

	const lo = 20 * time.Millisecond
	slice := (applyTime - lo) / imageCrashKills
	var summary []string
	kills, destroyKills := 0, 0
	for round := 0; kills < imageCrashKills; round++ {
		if round >= 2*imageCrashKills {
			t.Fatalf("only %d of %d applies were killed before they ended (clean apply %v)", kills, imageCrashKills, applyTime)
		}
		// The kill lands in the next slice of the apply not killed yet.
		d := lo + time.Duration(kills)*slice + time.Duration(rng.Int64N(int64(slice)))
		began := time.Now()
		if l.killAfter(d, args("apply", "-auto-approve")...) {
			kills++
			summary = append(summary, l.afterKill(round, "apply", 0, d))
		} else {
			// This machine got faster than the clean apply said: the
			// slices left are cut from what this apply took.
			ran := time.Since(began)
			summary = append(summary, "round "+strconv.Itoa(round)+": apply finished after "+ran.String()+", before the kill at "+d.String())
			slice = max((ran-lo)/imageCrashKills, time.Millisecond)
		}
		unlockStaleVars(l)
		l.must(0, args("apply", "-auto-approve")...)
		if out := l.must(0, args("test")...); !strings.Contains(out, "1 passed, 0 failed") {
			t.Fatalf("round %d: checks after a killed apply:\n%s", round, out)
		}
		l.must(0, args("plan", "-detailed-exitcode")...)

		// Every other round, the destroy is killed too.
		if round%2 == 1 {
			d := time.Duration(rng.Int64N(int64(destroyTime) + 1))
			if l.killAfter(d, args("destroy", "-auto-approve")...) {
				destroyKills++
				summary = append(summary, l.afterKill(round, "destroy", 0, d))
			}
			unlockStaleVars(l)
		}
		start := time.Now()
		l.must(0, args("destroy", "-auto-approve")...)
		destroyTime = max(destroyTime, time.Since(start))
		if got := left(); len(got) > 0 {
			t.Fatalf("round %d: destroy after a killed run left:\n%s", round, strings.Join(got, "\n"))
		}
		dropImage(digest) // the next apply ships it again
		if t.Failed() {
			break
		}
	}
	t.Logf("%d applies and %d destroys killed:\n%s", kills, destroyKills, strings.Join(summary, "\n"))
}

// unlockStaleVars is unlockStale for a lab that needs its variables.
func unlockStaleVars(l *lab) {
	l.t.Helper()
	if _, err := os.Stat(filepath.Join(l.dir, ".labnet", "lock")); err != nil {
		return
	}
	_, errOut, code := l.run(append([]string{"plan"}, l.vars...)...)
	if code != 1 || !strings.Contains(errOut, "force-unlock") || !(strings.Contains(errOut, "stale") || strings.Contains(errOut, "unreadable")) {
		l.t.Errorf("a lock left by a killed labnet is not reported as stale: exit %d: %s", code, errOut)
	}
	l.must(0, "force-unlock")
}

// ownImage builds the lab's busybox image with a file naming the lab: an
// image no other test uses, so each round can remove it from the machine's
// cache and the next apply ships and unpacks it again (and is killed doing
// so, sometimes). It goes from the cache when the test ends.
func ownImage(t *testing.T, l *lab) string {
	digest := buildBusyboxWith(t, l.dir, map[string]image.File{"/etc/labnet-test": {Mode: 0o644, Content: []byte(l.name + "\n")}})
	t.Cleanup(func() { dropImage(digest) })
	return digest
}

// dropImage removes the image from the machine's cache (hosts of both
// kinds here share this machine's /var/lib).
func dropImage(digest string) {
	dir := hostnet.ImageDir("sha256:" + digest)
	for _, p := range []string{dir, dir + ".new", dir + ".lock"} {
		os.RemoveAll(p)
	}
}

// halfImage says whether an unpacking of the image was left half-done:
// its new directory is there while nobody holds its lock.
func halfImage(t *testing.T, digest string) bool {
	dir := hostnet.ImageDir("sha256:" + digest)
	if _, err := os.Stat(dir + ".new"); err != nil {
		return false
	}
	f, err := os.OpenFile(dir+".lock", os.O_RDWR|os.O_APPEND, 0)
	if err != nil {
		return true
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); errors.Is(err, syscall.EWOULDBLOCK) {
		return false // being unpacked right now
	}
	_, err = os.Stat(filepath.Join(dir + ".new"))
	return err == nil
}
