// Command labnet is a declarative network-lab provisioner: see README.md.
package main

import (
	"os"
	"runtime/debug"

	"github.com/labnet-dev/labnet/cli"
)

func main() {
	// labnet runs for a fraction of a second and keeps little: the default
	// GOGC=100 collects its few MB of garbage (the decoded state of a
	// large lab) several times on the critical path. At 400 a removal of
	// 1,000 containers costs 25-30 ms of CPU instead of 33-43, and the
	// peak stays near 30 MB. GOGC in the environment still decides.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
