// Package testutil holds what root-only tests share: the skip rule and a
// unique lab name so parallel runs never collide.
package testutil

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"testing"
)

// NeedRoot skips t unless it runs as root with the tools the netns provider needs.
func NeedRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (network namespaces); run the suite with sudo")
	}
	for _, tool := range []string{"ip", "nft", "unshare", "nsenter", "/usr/sbin/sshd", "python3"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found: run `make deps` (installs iproute2, nftables, openssh-server, python3)", tool)
		}
	}
}

// NeedTools skips t when a program it needs is not on PATH, unless the
// suite runs strict (LABNET_TEST_STRICT, set by make test) or as root: then
// the missing program is a missing install step and the test fails.
func NeedTools(t testing.TB, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("LABNET_TEST_STRICT") != "" || os.Geteuid() == 0 {
				t.Fatalf("%s is not installed: run `make test-deps`", tool)
			}
			t.Skipf("%s is not installed", tool)
		}
	}
}

// LabName returns a short unique lab name with the given prefix.
func LabName(prefix string) string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}
