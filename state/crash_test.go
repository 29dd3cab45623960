package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
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

// crashChildEnv, when set to a directory, turns this test binary into the
// child of TestCrashSaveLoop: it takes the lock and saves the state in
// that directory in a tight loop until it is killed.
const crashChildEnv = "LABNET_STATE_CRASH_CHILD"

// crashSeed fixes the kill delays; LABNET_CRASH_SEED overrides it to
// explore other points.
const crashSeed = 20260401

// crashKills is how many times the saving child is SIGKILLed.
const crashKills = 300

// crashState is a state the size of a real lab's (a few dozen resources),
// so that one save takes a measurable share of the loop.
func crashState(lab string) *State {
	s := New(lab)
	for i := range 40 {
		s.Put(&Resource{
			Addr: fmt.Sprintf("container.web[%d]", i), Kind: "container", Host: fmt.Sprintf("host.node[%d]", i%4),
			Attrs: map[string]string{"address": fmt.Sprintf("172.17.0.%d", i+2), "bridge": "bridge.docker0[0]", "ports": `[{"host_port":8080,"port":80}]`},
			Deps:  []string{"bridge.docker0[0]", fmt.Sprintf("host.node[%d]", i%4)},
		})
	}
	return s
}

// saveLoop is the child: load what is there (so serials keep growing
// across kills, as with successive labnet runs), then save for ever.
func saveLoop(dir string) {
	d := Dir{Path: dir}
	if _, err := d.Lock("apply"); err != nil {
		fmt.Fprintln(os.Stderr, "child lock:", err)
		os.Exit(3)
	}
	s, err := d.Load(tc)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child load:", err)
		os.Exit(3)
	}
	if s == nil {
		s = crashState("crash")
	}
	fmt.Println("ready")
	for i := 0; ; i++ {
		// Change something each time, as apply does between stages.
		s.Resources[i%len(s.Resources)].Tainted = i%2 == 0
		if err := d.Save(s, tc); err != nil {
			fmt.Fprintln(os.Stderr, "child save:", err)
			os.Exit(3)
		}
	}
}

type crashHeader struct {
	Version   int               `json:"version"`
	Serial    int64             `json:"serial"`
	Lineage   string            `json:"lineage"`
	Resources []json.RawMessage `json:"resources"`
}

func readCrashHeader(path string) (*crashHeader, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if !json.Valid(b) {
		return nil, fmt.Errorf("%s is not valid JSON (%d bytes)", filepath.Base(path), len(b))
	}
	var h crashHeader
	if err := json.Unmarshal(b, &h); err != nil {
		return nil, err
	}
	return &h, nil
}

// TestCrashSaveLoop kills a process that saves the state in a tight loop,
// again and again at seeded-random moments, and proves after every kill
// that state.json parses (the write is atomic), that its serial never goes
// back, that the lock left behind is reported as stale, and that the
// backup holds the previous version.
func TestCrashSaveLoop(t *testing.T) {
	if dir := os.Getenv(crashChildEnv); dir != "" {
		saveLoop(dir)
		return
	}
	if testing.Short() {
		t.Skip("kills a child process a few hundred times")
	}
	seed := uint64(crashSeed)
	if s := os.Getenv("LABNET_CRASH_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("LABNET_CRASH_SEED: %v", err)
		}
		seed = v
	}
	t.Logf("seed %d (set LABNET_CRASH_SEED to replay another)", seed)
	rng := rand.New(rand.NewPCG(seed, seed))

	d := Dir{Path: filepath.Join(t.TempDir(), ".labnet")}
	var (
		lastSerial      int64
		lineage         string
		noBackup        []string // kills after which state.json.backup was missing
		backupIsCurrent int      // kills after which the backup equals state.json
		tmpLeft         int
	)
	start := time.Now()
	for i := range crashKills {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashSaveLoop$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+d.Path)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		pid := cmd.Process.Pid
		killed := false
		t.Cleanup(func() {
			if !killed {
				_ = syscall.Kill(pid, syscall.SIGKILL)
				_ = cmd.Wait()
			}
		})
		// Wait for "ready": the child holds the lock and starts saving.
		buf := make([]byte, 6)
		if _, err := io.ReadFull(stdout, buf); err != nil || string(buf) != "ready\n" {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			killed = true
			t.Fatalf("kill %d: child did not start (%q, %v): %s", i, buf, err, stderr.String())
		}
		// Some kills land in the first save, most in the middle of the loop.
		delay := time.Duration(rng.Int64N(int64(15 * time.Millisecond)))
		time.Sleep(delay)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		werr := cmd.Wait()
		killed = true
		var ee *exec.ExitError
		if !errors.As(werr, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("kill %d: child ended by itself (%v): %s", i, werr, stderr.String())
		}

		st, err := readCrashHeader(filepath.Join(d.Path, "state.json"))
		if errors.Is(err, os.ErrNotExist) && lastSerial == 0 {
			// Killed before the very first save completed.
			t.Logf("kill %d after %v: no state yet", i, delay)
		} else {
			if err != nil {
				t.Fatalf("kill %d after %v: state.json: %v", i, delay, err)
			}
			if _, err := d.Load(tc); err != nil {
				t.Fatalf("kill %d after %v: Load: %v", i, delay, err)
			}
			if st.Serial < lastSerial || (lineage != "" && st.Lineage != lineage) {
				t.Fatalf("kill %d after %v: state went back: serial %d lineage %s, had serial %d lineage %s", i, delay, st.Serial, st.Lineage, lastSerial, lineage)
			}
			if len(st.Resources) != 40 {
				t.Fatalf("kill %d: state.json has %d resources, want 40", i, len(st.Resources))
			}
			lastSerial, lineage = st.Serial, st.Lineage
			// The first save has no previous version to keep.
			if st.Serial > 1 {
				bk, err := readCrashHeader(filepath.Join(d.Path, "state.json.backup"))
				switch {
				case errors.Is(err, os.ErrNotExist):
					noBackup = append(noBackup, fmt.Sprintf("kill %d (serial %d)", i, st.Serial))
				case err != nil:
					t.Fatalf("kill %d after %v: backup: %v", i, delay, err)
				case bk.Lineage != st.Lineage:
					t.Fatalf("kill %d: backup lineage %s, state lineage %s", i, bk.Lineage, st.Lineage)
				case bk.Serial == st.Serial-1:
					// the previous version: what a backup is for
				case bk.Serial == st.Serial:
					// Killed between linking the backup and renaming the
					// new file over state.json: both names are the same
					// file for that instant. Two names cannot be replaced
					// in one atomic step, so this is tolerated.
					backupIsCurrent++
				default:
					t.Fatalf("kill %d: backup serial %d, state serial %d: want the previous serial", i, bk.Serial, st.Serial)
				}
			}
		}

		// The killed child's lock is left behind and reported as stale.
		unlock, err := d.Lock("apply")
		var le *LockedError
		switch {
		case errors.As(err, &le):
			if !le.Stale || le.Info.PID != pid {
				t.Fatalf("kill %d: lock of dead pid %d not reported stale: %v", i, pid, err)
			}
			if err := d.ForceUnlock(); err != nil {
				t.Fatal(err)
			}
		case err == nil:
			unlock() // only possible when killed before the lock was written; the child printed ready after it
			t.Fatalf("kill %d: the child held the lock, yet none was left behind", i)
		default:
			// A lock file killed half-written (empty) cannot be read: the
			// message sends the user to force-unlock.
			if !strings.Contains(err.Error(), "force-unlock") {
				t.Fatalf("kill %d: lock: %v", i, err)
			}
			if err := d.ForceUnlock(); err != nil {
				t.Fatal(err)
			}
		}
		tmps, _ := filepath.Glob(filepath.Join(d.Path, ".state-*.tmp"))
		tmpLeft = len(tmps)
	}
	t.Logf("%d kills in %v; last serial %d; backup equal to state.json after %d kills; %d temporary files left behind",
		crashKills, time.Since(start).Round(time.Millisecond), lastSerial, backupIsCurrent, tmpLeft)
	if lastSerial < crashKills {
		t.Errorf("only %d saves in %d runs: the kills did not land inside the loop", lastSerial, crashKills)
	}
	if len(noBackup) > 0 {
		t.Errorf("state.json.backup was missing after %d of %d kills (%s)",
			len(noBackup), crashKills, strings.Join(noBackup, ", "))
	}
}
