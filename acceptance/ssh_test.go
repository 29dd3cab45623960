package acceptance

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestSSHProvider runs the Docker model on machines that exist already,
// reached over SSH: labnet makes and removes only what the lab owns on
// them and never the machines themselves.
func TestSSHProvider(t *testing.T) {
	machines := newLab(t, "testdata/machines")
	machines.must(0, "apply", "-auto-approve")

	l := newLab(t, "testdata/ssh-docker")
	vars := []string{
		"-var", `addresses=["192.168.50.11","192.168.50.12"]`,
		"-var", "key=" + filepath.Join(machines.dir, ".labnet", "id_ed25519"),
		"-var", "netns=/run/netns/labnet-" + machines.name,
	}
	l.vars = vars
	l.must(0, append([]string{"apply", "-auto-approve"}, vars...)...)
	out := l.must(0, append([]string{"test"}, vars...)...)
	if !strings.Contains(out, "5 passed, 0 failed") {
		t.Fatalf("checks over the ssh provider:\n%s", out)
	}
	l.must(0, append([]string{"plan", "-detailed-exitcode"}, vars...)...)
	// The host keys were pinned on first use.
	if show := l.must(0, "show", "-json"); strings.Count(show, `"host_key": "ssh-ed25519 `) != 2 {
		t.Fatalf("host keys not pinned:\n%s", show)
	}
	l.must(0, append([]string{"destroy", "-auto-approve"}, vars...)...)

	// The machines are still there, and nothing of the lab is left on them.
	machines.must(0, "plan", "-detailed-exitcode")
	for _, m := range []string{"host.m[0]", "host.m[1]"} {
		// (netns hosts share this machine's process table, so processes are
		// told apart by the lab's mark in their environment.)
		out := machines.must(0, "exec", m, "--", "sh", "-c",
			"ip -o link; ip netns list; nft list ruleset; ls /run/labnet 2>/dev/null; grep -lsz LABNET_OWNER="+l.name+"/ /proc/[0-9]*/environ; true")
		for _, trace := range []string{l.name, "docker0", "environ"} {
			if strings.Contains(out, trace) {
				t.Errorf("%s keeps %q after destroy:\n%s", m, trace, out)
			}
		}
	}
}
