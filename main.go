// Command labnet is a declarative network-lab provisioner: see README.md.
package main

import (
	"os"

	"github.com/labnet-dev/labnet/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
