package hostnet

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// sandbox is a throwaway network and mount namespace (with its own /run)
// in which a real-kernel test runs shell scripts; files live in dir.
type sandbox struct {
	t   *testing.T
	dir string
}

// newSandbox skips the test unless it runs as root with tools installed.
func newSandbox(t *testing.T, tools ...string) *sandbox {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (namespaces)")
	}
	for _, tool := range append([]string{"ip", "unshare"}, tools...) {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
	return &sandbox{t: t, dir: t.TempDir()}
}

// write puts a file into the sandbox's directory.
func (s *sandbox) write(name, text string) {
	s.t.Helper()
	if err := os.WriteFile(filepath.Join(s.dir, name), []byte(text), 0o600); err != nil {
		s.t.Fatal(err)
	}
}

// run runs driver (sh, in the sandbox's directory, after a fresh tmpfs on
// /run) in new namespaces that vanish with it.
func (s *sandbox) run(driver string) {
	s.t.Helper()
	cmd := exec.Command("unshare", "--net", "--mount", "--propagation", "private", "sh", "-c",
		"set -e\nmount -t tmpfs labnet-test /run && mkdir -p /run/netns\n"+driver)
	cmd.Dir = s.dir
	if out, err := cmd.CombinedOutput(); err != nil {
		s.t.Fatalf("driver: %v\n%s", err, out)
	}
}

// read returns a file the driver wrote.
func (s *sandbox) read(name string) []byte {
	s.t.Helper()
	b, err := os.ReadFile(filepath.Join(s.dir, name))
	if err != nil {
		s.t.Fatal(err)
	}
	return b
}
