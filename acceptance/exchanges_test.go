package acceptance

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestExchangesDoNotGrowWithContainers applies bench/labs/scale (one netns
// host, one bridge, var.n containers) with 10 and with 100 containers and
// proves, from LABNET_STATS, that labnet talks to the host the same number
// of times either way: one script per host per stage, not one per object.
// It counts SSH exchanges; it does not time anything.
func TestExchangesDoNotGrowWithContainers(t *testing.T) {
	l := newBenchLab(t, "scale")
	type run struct{ create, destroy int64 }
	runs := map[int]run{}
	for _, n := range []int{10, 100} {
		nv := "n=" + itoa(n)
		// From nothing to N containers, then the containers away again.
		create, _ := l.exchanges("host.h", "apply", "-auto-approve", "-var", nv)
		if out := l.must(0, "state", "list"); strings.Count(out, "container.c[") != n {
			t.Fatalf("N=%d: state lists %d containers:\n%s", n, strings.Count(out, "container.c["), out)
		}
		l.must(0, "plan", "-detailed-exitcode", "-var", nv)
		// Removing them is not drift (refresh only lists what goes).
		if out := l.must(2, "plan", "-detailed-exitcode", "-var", "n=0"); strings.Contains(out, "Changes outside labnet") {
			t.Fatalf("N=%d: removing the containers shows drift:\n%s", n, out)
		}
		destroy, early := l.exchanges("host.h", "apply", "-auto-approve", "-var", "n=0")
		// The login to the host began while labnet read the state.
		if !early {
			t.Errorf("N=%d: the removal did not use its early login to host.h", n)
		}
		l.must(0, "destroy", "-auto-approve")
		runs[n] = run{create, destroy}
		t.Logf("N=%d: %d exchanges with host.h to create, %d to remove the containers", n, create, destroy)
	}
	if runs[10].create != runs[100].create {
		t.Errorf("applying 10 containers took %d exchanges with host.h, 100 took %d: the count must not depend on the number of containers",
			runs[10].create, runs[100].create)
	}
	if runs[10].destroy != runs[100].destroy {
		t.Errorf("removing 10 containers took %d exchanges with host.h, 100 took %d: the count must not depend on the number of containers",
			runs[10].destroy, runs[100].destroy)
	}
}

// exchanges runs labnet with LABNET_STATS set, fails unless it exits 0,
// and returns the SSH exchanges it counted with host and whether its login
// to host began before the state was read.
func (l *lab) exchanges(host string, args ...string) (int64, bool) {
	l.t.Helper()
	stats := filepath.Join(l.t.TempDir(), "stats.json")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, labnetBin, append([]string{"-chdir=" + l.dir}, args...)...)
	cmd.Env = append(os.Environ(), "LABNET_STATS="+stats)
	cmd.Stdin = strings.NewReader("")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		l.t.Fatalf("labnet %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
	b, err := os.ReadFile(stats)
	if err != nil {
		l.t.Fatalf("labnet %s wrote no LABNET_STATS file: %v", strings.Join(args, " "), err)
	}
	var s struct {
		Exchanges   map[string]int64 `json:"exchanges"`
		EarlyLogins []string         `json:"early_logins"`
	}
	if err := json.Unmarshal(b, &s); err != nil {
		l.t.Fatalf("LABNET_STATS of labnet %s: %v\n%s", strings.Join(args, " "), err, b)
	}
	n, ok := s.Exchanges[host]
	if !ok || n == 0 {
		l.t.Fatalf("labnet %s: LABNET_STATS counts no exchange with %s:\n%s", strings.Join(args, " "), host, b)
	}
	return n, slices.Contains(s.EarlyLogins, host)
}

// newBenchLab is newLab for the labs in bench/labs/.
func newBenchLab(t *testing.T, src string) *lab {
	t.Helper()
	return newLab(t, "bench/labs/"+src)
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
