// mkimage builds a small busybox image offline, from a static busybox
// binary (Debian's busybox-static): /bin/busybox and a symlink in /bin for
// each of its applets, as a docker-archive, an oci-archive or an OCI layout
// directory (-format oci). The Makefile's images target runs it for
// labs/docker.
//
//	go run ./hack/mkimage -busybox /bin/busybox -o labs/docker/images/busybox.tar
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/labnet-dev/labnet/image"
)

func main() {
	bb := flag.String("busybox", "/bin/busybox", "a statically linked busybox")
	out := flag.String("o", "busybox.tar", "the archive to write")
	format := flag.String("format", image.DockerArchive, "docker-archive, oci-archive or oci (a layout directory)")
	flag.Parse()
	if err := run(*bb, *out, *format); err != nil {
		fmt.Fprintln(os.Stderr, "mkimage:", err)
		os.Exit(1)
	}
}

func run(bb, out, format string) error {
	files, err := image.BusyboxFiles(bb, func() ([]byte, error) { return exec.Command(bb, "--list").Output() })
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dirOf(out), 0o755); err != nil {
		return err
	}
	return image.Build(files, image.BusyboxConfig, format, out)
}

func dirOf(p string) string {
	if i := strings.LastIndex(p, "/"); i > 0 {
		return p[:i]
	}
	return "."
}
