package acceptance

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/labnet-dev/labnet/internal/testutil"
)

// newImagesSSHLab applies the machines lab (netns hosts with a real sshd)
// and returns it with testdata/images-ssh set up to run on its hosts over
// the ssh provider, its image built.
func newImagesSSHLab(t *testing.T) (machines, l *lab) {
	t.Helper()
	testutil.NeedTools(t, "runc", "busybox")
	machines = newLab(t, "testdata/machines")
	machines.must(0, "apply", "-auto-approve")
	l = newLab(t, "testdata/images-ssh")
	l.vars = []string{
		"-var", `addresses=["192.168.50.11","192.168.50.12"]`,
		"-var", "key=" + filepath.Join(machines.dir, ".labnet", "id_ed25519"),
		"-var", "netns=/run/netns/labnet-" + machines.name,
	}
	buildBusybox(t, l.dir)
	return machines, l
}

// onMachines lists what the machines still hold of lab: runc containers,
// mounts under its run dir, its run dir, and its cgroups and processes
// (the machines are netns hosts: cgroups and processes are this
// machine's).
func onMachines(t *testing.T, machines *lab, name string) []string {
	t.Helper()
	var left []string
	for _, m := range []string{"host.m[0]", "host.m[1]"} {
		out := machines.must(0, "exec", m, "--", "sh", "-c",
			"runc list -q | grep -F labnet."+name+". ; grep -F /run/labnet/"+name+"/ /proc/self/mounts; ls -d /run/labnet/"+name+" 2>/dev/null; true")
		if s := strings.TrimSpace(out); s != "" {
			left = append(left, m+": "+s)
		}
	}
	return append(append(append(left, labCgroups(t, name)...), labMounts(name)...), leftovers(name)...)
}

// TestImageDestroyLostState: with the state file deleted after an apply
// of image containers, destroy finds what they left by its names and
// marks and removes it all. On netns hosts that is the hosts themselves
// and the cgroups in this machine's hierarchies; on existing machines
// (ssh) the supervisors and processes (by mark), the runc containers (by
// id), the overlays and bundles (under the lab's run dir) and the cgroups
// (under /labnet/<lab>).
func TestImageDestroyLostState(t *testing.T) {
	testutil.NeedRoot(t)
	t.Run("netns", func(t *testing.T) {
		testutil.NeedTools(t, "runc", "busybox")
		l := newLab(t, "testdata/images-life")
		buildBusybox(t, l.dir)
		l.must(0, "apply", "-auto-approve")
		if len(labCgroups(t, l.name)) == 0 || len(leftovers(l.name)) == 0 {
			t.Fatalf("the apply made no cgroup or process to lose")
		}
		if err := os.Remove(filepath.Join(l.dir, ".labnet", "state.json")); err != nil {
			t.Fatal(err)
		}
		l.must(0, "destroy", "-auto-approve")
		if left := append(append(labCgroups(t, l.name), labMounts(l.name)...), leftovers(l.name)...); len(left) > 0 {
			t.Errorf("destroy without a state left:\n%s", strings.Join(left, "\n"))
		}
	})
	t.Run("ssh", func(t *testing.T) {
		machines, l := newImagesSSHLab(t)
		l.must(0, append([]string{"apply", "-auto-approve"}, l.vars...)...)
		l.must(0, append([]string{"test"}, l.vars...)...)
		if got := onMachines(t, machines, l.name); len(got) < 4 {
			t.Fatalf("the apply left too little to lose: %v", got)
		}
		if err := os.Remove(filepath.Join(l.dir, ".labnet", "state.json")); err != nil {
			t.Fatal(err)
		}
		l.must(0, append([]string{"destroy", "-auto-approve"}, l.vars...)...)
		if left := onMachines(t, machines, l.name); len(left) > 0 {
			t.Errorf("destroy without a state left:\n%s", strings.Join(left, "\n"))
		}
		machines.must(0, "plan", "-detailed-exitcode")
	})
}
