// mkimage builds a small busybox image offline, from a static busybox
// binary (Debian's busybox-static): /bin/busybox and a symlink in /bin for
// each of its applets, as a docker-archive, an oci-archive or an OCI layout
// directory (-format oci). The Makefile's images target runs it for
// labs/docker; bench/run.sh gives its image an -env of its own, so that the
// image is its own (another digest) and the benchmark ships it and removes
// it from the hosts' cache without touching an image another lab uses.
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
	var env envFlag
	flag.Var(&env, "env", "NAME=VALUE added to the image's environment (repeatable); another value makes another digest")
	flag.Parse()
	if err := run(*bb, *out, *format, env); err != nil {
		fmt.Fprintln(os.Stderr, "mkimage:", err)
		os.Exit(1)
	}
}

// envFlag collects -env NAME=VALUE.
type envFlag []string

func (e *envFlag) String() string { return strings.Join(*e, ",") }

func (e *envFlag) Set(v string) error {
	if name, _, ok := strings.Cut(v, "="); !ok || name == "" {
		return fmt.Errorf("%q is not NAME=VALUE", v)
	}
	*e = append(*e, v)
	return nil
}

func run(bb, out, format string, env []string) error {
	files, err := image.BusyboxFiles(bb, func() ([]byte, error) { return exec.Command(bb, "--list").Output() })
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dirOf(out), 0o755); err != nil {
		return err
	}
	cfg := image.BusyboxConfig
	cfg.Env = append(append([]string{}, cfg.Env...), env...)
	return image.Build(files, cfg, format, out)
}

func dirOf(p string) string {
	if i := strings.LastIndex(p, "/"); i > 0 {
		return p[:i]
	}
	return "."
}
