package lima

import (
	"errors"
	"fmt"
	"regexp"

	"github.com/labnet-dev/labnet/provider"
)

func init() {
	provider.Register(provider.Registration{Name: "lima", New: func() provider.Provider { return New() }, Block: &block})
}

// DefaultTemplate is Lima's Debian 12 image template (Lima 1.1+; the
// image is downloaded). It is the image alone: Lima's template://debian-12
// also mounts the user's home directory into the VM (Lima appends a base's
// mounts to the VM's own `mounts: []`), which a lab VM must not have.
const DefaultTemplate = "template://_images/debian-12"

var (
	sizeRe = regexp.MustCompile(`(?i)^[0-9]+(\.[0-9]+)?\s*([kmgtp]i?b?|b)?$`)
	nameRe = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)
)

func size(name string) func(string) error {
	return func(v string) error {
		if !sizeRe.MatchString(v) {
			return fmt.Errorf("The %s %q is not a size like \"2GiB\" or \"512MiB\".", name, v)
		}
		return nil
	}
}

func nonEmpty(name string) func(string) error {
	return func(v string) error {
		if v == "" {
			return fmt.Errorf("%s must not be empty.", name)
		}
		return nil
	}
}

// block is a host's `lima { ... }`: the VM labnet creates. A lab switched
// to Lima with only `-var provider=lima` gets Lima's Debian image template.
var block = provider.Block{
	Args: []provider.Arg{
		{Name: "cpus", Type: provider.IntArg, Default: "1", Min: 1, Max: 1024},
		{Name: "memory", Default: "1GiB", Check: size("memory")},
		{Name: "disk", Default: "10GiB", Check: size("disk")},
		{Name: "template", Default: DefaultTemplate, Check: nonEmpty("template")},
		{Name: "image", Check: nonEmpty("image")},
		{Name: "network", Default: DefaultNetwork, Check: func(v string) error {
			if !nameRe.MatchString(v) {
				return fmt.Errorf("The Lima network name %q must match %s.", v, nameRe)
			}
			return nil
		}},
		// Run as root at every boot (a Lima "system" provision step).
		{Name: "provision"},
	},
	Finish: func(v map[string]string, set map[string]bool) (string, error) {
		if set["template"] && set["image"] {
			return "image", errors.New("A lima block sets either template (a Lima template) or image (a disk image), not both.")
		}
		if set["image"] {
			v["template"] = "" // an image replaces the default template
		}
		return "", nil
	},
}
