package ssh

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/labnet-dev/labnet/provider"
	gossh "golang.org/x/crypto/ssh"
)

func init() {
	provider.Register(provider.Registration{Name: "ssh", New: func() provider.Provider { return New() }, Block: &block})
}

var userRe = regexp.MustCompile(`^[a-zA-Z0-9_][a-zA-Z0-9_.-]*$`)

// block is a host's `ssh { ... }`: how to reach an existing machine.
var block = provider.Block{
	Args: []provider.Arg{
		{Name: "user", Default: "root", Check: func(v string) error {
			if !userRe.MatchString(v) {
				return fmt.Errorf("The ssh user %q must match %s.", v, userRe)
			}
			return nil
		}},
		{Name: "private_key_file", Type: provider.PathArg, Check: func(v string) error {
			if v == "" {
				return errors.New("private_key_file must not be empty; remove it to use the lab's own key.")
			}
			return nil
		}},
		{Name: "port", Type: provider.IntArg, Default: "22", Min: 1, Max: 65535},
		{Name: "host_key", Check: func(v string) error {
			if _, _, _, _, err := gossh.ParseAuthorizedKey([]byte(v)); err != nil {
				return fmt.Errorf("The host_key must be a public key in authorized_keys form, like \"ssh-ed25519 AAAA...\": %v.", err)
			}
			return nil
		}},
		{Name: "known_hosts", Type: provider.PathArg, Check: func(v string) error {
			if v == "" {
				return errors.New("known_hosts must not be empty.")
			}
			return nil
		}},
		// A network namespace to dial from: a management namespace, or
		// another lab's underlay in labnet's own tests.
		{Name: "netns", Check: func(v string) error {
			if !strings.HasPrefix(v, "/") || strings.ContainsAny(v, "\n\x00") {
				return errors.New("netns must be the absolute path of a network namespace file, like /run/netns/mgmt.")
			}
			return nil
		}},
	},
	Finish: func(v map[string]string, set map[string]bool) (string, error) {
		if set["host_key"] && set["known_hosts"] {
			return "known_hosts", errors.New("Set either host_key (a pinned key) or known_hosts (a file to check against), not both.")
		}
		return "", nil
	},
}
