// Package labs embeds the example labs, one per network model, so that
// `labnet init TEMPLATE` can start a new lab from any of them.
package labs

import (
	"embed"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/labnet-dev/labnet/image"
)

// FS holds every lab's *.hcl files, under the lab's directory name, and
// the files they read (routing's FRR configuration templates).
//
//go:embed */*.hcl routing/frr
var FS embed.FS

// Built are the images a template's lab runs that `labnet init` builds on
// the machine rather than carries (the binary stays small, the image
// matches the machine): template -> files of the new lab.
var Built = map[string][]BuiltImage{
	"docker": {{Path: "images/busybox.tar", Build: BusyboxImage, Needs: "busybox-static"}},
}

// BuiltImage is one image file a template's lab reads.
type BuiltImage struct {
	Path  string             // in the lab directory
	Build func(string) error // writes it there
	Needs string             // the Debian package it is built from
}

// BusyboxImage writes a docker-archive of a small busybox image built from
// the machine's static busybox (/bin/busybox and a link per applet), as
// the Makefile's images target does.
func BusyboxImage(out string) error {
	const bb = "/bin/busybox"
	files, err := image.BusyboxFiles(bb, func() ([]byte, error) { return exec.Command(bb, "--list").Output() })
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	return image.Build(files, image.BusyboxConfig, image.DockerArchive, out)
}
