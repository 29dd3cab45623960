package acceptance

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// crashSeed fixes where the kills land; LABNET_CRASH_SEED replays another.
const crashSeed = 7151

// crashRounds: each round kills one apply (sometimes its retry too) and
// one destroy, so 8 rounds are at least 16 kill points.
const crashRounds = 8

// TestCrashKillApplyAndDestroy kills labnet with SIGKILL at seeded-random
// moments during apply and during destroy. After every kill the state
// file is whole JSON (atomic writes) with a backup beside it, the lock left
// behind is reported as stale and removed by force-unlock; the next apply
// makes the whole lab (its checks pass, a new plan is empty), and the next
// destroy leaves the machine exactly as it was.
func TestCrashKillApplyAndDestroy(t *testing.T) {
	l := newLab(t, "docker")
	seed := uint64(crashSeed)
	if s := os.Getenv("LABNET_CRASH_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("LABNET_CRASH_SEED: %v", err)
		}
		seed = v
	}
	t.Logf("seed %d (set LABNET_CRASH_SEED to replay another)", seed)
	rng := rand.New(rand.NewPCG(seed, 0x6c61626e6574))

	if left := leftovers(l.name); len(left) > 0 {
		t.Fatalf("the lab exists before the test: %v", left)
	}
	// One clean run tells how long apply and destroy take here; it also
	// leaves a state.json.backup, which must then exist after every kill.
	start := time.Now()
	l.must(0, "apply", "-auto-approve")
	applyTime := time.Since(start)
	start = time.Now()
	l.must(0, "destroy", "-auto-approve")
	destroyTime := time.Since(start)
	t.Logf("clean apply %v, clean destroy %v", applyTime.Round(time.Millisecond), destroyTime.Round(time.Millisecond))
	if left := leftovers(l.name); len(left) > 0 {
		t.Fatalf("a clean apply and destroy left:\n%s", strings.Join(left, "\n"))
	}

	// delay draws a kill moment between lo and the whole run. A whole-lab
	// destroy of netns hosts takes tens of milliseconds (no kernel is read,
	// each host dies with its holder), so its kills start earlier and its
	// length is re-measured every round.
	delay := func(lo, full time.Duration) time.Duration {
		if full <= lo {
			return lo
		}
		return lo + time.Duration(rng.Int64N(int64(full-lo)))
	}
	kills := 0
	var summary []string
	for round := range crashRounds {
		// Apply, killed; sometimes its first retry is killed too.
		for k := range 1 + rng.IntN(2) {
			d := delay(20*time.Millisecond, applyTime)
			if l.killAfter(d, "apply", "-auto-approve") {
				kills++
				summary = append(summary, l.afterKill(round, "apply", k, d))
			} else {
				summary = append(summary, "round "+strconv.Itoa(round)+": apply finished before the kill at "+d.String())
			}
		}
		l.unlockStale()
		l.must(0, "apply", "-auto-approve")
		if out := l.must(0, "test"); !strings.Contains(out, "5 passed, 0 failed") {
			t.Fatalf("round %d: checks after a killed apply:\n%s", round, out)
		}
		l.must(0, "plan", "-detailed-exitcode")

		// Destroy, killed.
		d := delay(2*time.Millisecond, destroyTime)
		if l.killAfter(d, "destroy", "-auto-approve") {
			kills++
			summary = append(summary, l.afterKill(round, "destroy", 0, d))
		} else {
			summary = append(summary, "round "+strconv.Itoa(round)+": destroy finished before the kill at "+d.String())
		}
		l.unlockStale()
		start := time.Now()
		l.must(0, "destroy", "-auto-approve")
		destroyTime = time.Since(start)
		if left := leftovers(l.name); len(left) > 0 {
			t.Fatalf("round %d: destroy after a killed destroy left:\n%s", round, strings.Join(left, "\n"))
		}
		if t.Failed() {
			break
		}
	}
	t.Logf("kill points:\n%s", strings.Join(summary, "\n"))
	if kills < 10 {
		t.Fatalf("only %d of the runs were killed before they ended (apply %v, destroy %v)", kills, applyTime, destroyTime)
	}
	// newLab's cleanup destroys once more and compares the machine.
}

// killAfter starts labnet, SIGKILLs it after d, and says whether it was
// still running then (false: it had finished).
func (l *lab) killAfter(d time.Duration, args ...string) bool {
	l.t.Helper()
	cmd := exec.Command(labnetBin, append([]string{"-chdir=" + l.dir}, args...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Stdin = strings.NewReader("")
	if err := cmd.Start(); err != nil {
		l.t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		l.t.Logf("$ labnet %s finished before the kill at %v (%v)\n%s", strings.Join(args, " "), d, err, out.String())
		return false
	case <-time.After(d):
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	err := <-done
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
			l.t.Logf("$ labnet %s killed after %v\n%s", strings.Join(args, " "), d, out.String())
			return true
		}
	}
	l.t.Logf("$ labnet %s ended by itself just before the kill at %v (%v)\n%s", strings.Join(args, " "), d, err, out.String())
	return false
}

type stateHeader struct {
	Version   int               `json:"version"`
	Serial    int64             `json:"serial"`
	Lineage   string            `json:"lineage"`
	Resources []json.RawMessage `json:"resources"`
}

func readStateHeader(path string) (*stateHeader, []byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	if !json.Valid(b) {
		return nil, b, errors.New("not valid JSON")
	}
	var h stateHeader
	if err := json.Unmarshal(b, &h); err != nil {
		return nil, b, err
	}
	return &h, b, nil
}

// afterKill checks the state directory a killed labnet left and returns
// one line for the summary.
func (l *lab) afterKill(round int, verb string, k int, d time.Duration) string {
	t := l.t
	t.Helper()
	where := "round " + strconv.Itoa(round) + ": " + verb
	if k > 0 {
		where += " (retry killed again)"
	}
	where += " killed after " + d.String()
	dir := filepath.Join(l.dir, ".labnet")
	st, b, err := readStateHeader(filepath.Join(dir, "state.json"))
	switch {
	case errors.Is(err, os.ErrNotExist):
		// Killed before the first save of an apply, or after destroy moved
		// the state to the backup.
		where += ": no state.json"
	case err != nil:
		t.Fatalf("%s: state.json is broken: %v\n%s", where, err, b)
	default:
		tainted := bytes.Count(b, []byte(`"tainted": true`))
		where += ": state serial " + strconv.FormatInt(st.Serial, 10) + ", " + strconv.Itoa(len(st.Resources)) + " resources, " + strconv.Itoa(tainted) + " tainted"
	}
	bk, b, err := readStateHeader(filepath.Join(dir, "state.json.backup"))
	switch {
	case errors.Is(err, os.ErrNotExist):
		t.Errorf("%s: state.json.backup is missing (state.Dir.Save removes the backup before linking the new one; see state.TestCrashSaveLoop)", where)
	case err != nil:
		t.Fatalf("%s: state.json.backup is broken: %v\n%s", where, err, b)
	case st != nil && bk.Lineage == st.Lineage && bk.Serial > st.Serial:
		t.Errorf("%s: backup serial %d is newer than state serial %d", where, bk.Serial, st.Serial)
	}
	if info, err := os.ReadFile(filepath.Join(dir, "lock")); err == nil {
		where += ", lock left: " + strings.TrimSpace(string(info))
	}
	if tmps, _ := filepath.Glob(filepath.Join(dir, ".state-*.tmp")); len(tmps) > 0 {
		where += ", " + strconv.Itoa(len(tmps)) + " temporary state files left"
	}
	return where
}

// unlockStale proves a lock left by a killed labnet is reported as stale
// (naming force-unlock) and removes it.
func (l *lab) unlockStale() {
	l.t.Helper()
	if _, err := os.Stat(filepath.Join(l.dir, ".labnet", "lock")); err != nil {
		return
	}
	_, errOut, code := l.run("plan")
	// A lock killed before its holder was written cannot name one; it
	// must still send the user to force-unlock.
	if code != 1 || !strings.Contains(errOut, "force-unlock") || !(strings.Contains(errOut, "stale") || strings.Contains(errOut, "unreadable")) {
		l.t.Errorf("a lock left by a killed labnet is not reported as stale: exit %d: %s", code, errOut)
	}
	l.must(0, "force-unlock")
}

// leftovers lists what of lab the machine still shows: its namespaces,
// links and nft tables, and live processes carrying its mark or its sshd
// title. Unlike
// snapshot it looks only at this lab, so labs that other tests apply on
// the machine at the same time do not count.
func leftovers(lab string) []string {
	var left []string
	out, _ := exec.Command("ip", "netns", "list").Output()
	for _, l := range strings.Split(string(out), "\n") {
		if f := strings.Fields(l); len(f) > 0 && strings.Contains(f[0], lab) {
			left = append(left, "netns "+f[0])
		}
	}
	out, _ = exec.Command("ip", "-o", "link", "show").Output()
	for _, l := range strings.Split(string(out), "\n") {
		if strings.Contains(l, lab) {
			left = append(left, "link "+l)
		}
	}
	out, _ = exec.Command("nft", "list", "tables").Output()
	for _, l := range strings.Split(string(out), "\n") {
		if strings.Contains(l, strings.ReplaceAll(lab, "-", "_")) {
			left = append(left, "nft "+l)
		}
	}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		// sshd overwrites its environment with its title, which names
		// the lab and the host (/run/labnet-sshd/sshd.<lab>.<host>.conf).
		env, _ := os.ReadFile("/proc/" + e.Name() + "/environ")
		cmd, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if !bytes.Contains(env, []byte("LABNET_OWNER="+lab+"/")) && !bytes.Contains(cmd, []byte("/sshd."+lab+".")) {
			continue
		}
		if stat, _ := os.ReadFile("/proc/" + e.Name() + "/stat"); len(stat) == 0 || bytes.Contains(stat, []byte(") Z")) {
			continue
		}
		left = append(left, "process "+e.Name()+" "+string(bytes.ReplaceAll(cmd, []byte{0}, []byte{' '})))
	}
	return left
}
