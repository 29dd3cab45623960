package acceptance

import (
	"bytes"
	"os"
	"os/exec"
	"syscall"
	"testing"
)

// A reader that stops early (`labnet plan | head`) must not kill labnet
// half-way: it died of SIGPIPE holding the lab's lock (an apply would have
// stopped mid-way), and the next command refused to run until
// force-unlock.
func TestClosedStdoutLeavesNoLock(t *testing.T) {
	l := newLab(t, "docker")
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	cmd := exec.Command(labnetBin, "-chdir="+l.dir, "plan")
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = w, &stderr
	_ = cmd.Run()
	w.Close()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		t.Fatalf("labnet plan with its output closed died of %v\n%s", ws.Signal(), stderr.String())
	}
	l.must(2, "plan", "-detailed-exitcode")
}
