package kinds

import (
	"fmt"

	"github.com/labnet-dev/labnet/state"
)

// CheckState parses every resource of a state into its kind's spec: a
// hand-broken value stops a command with the resource and the attribute
// named, before any host is touched.
func CheckState(st *state.State) error {
	if st == nil {
		return nil
	}
	for _, r := range st.Resources {
		if err := Check(r.Kind, r.Addr, r.Attrs); err != nil {
			return fmt.Errorf("state: %w", err)
		}
	}
	return nil
}

// Check parses one resource's attributes: what its kind shares with every
// other (the resource it lives inside, its host), then its spec.
func Check(kind, addr string, a Attrs) error {
	k, err := Get(kind)
	if err != nil {
		return fmt.Errorf("%s: %w", addr, err)
	}
	if err := checkShared(k.Info(), addr, a); err != nil {
		return err
	}
	_, err = k.Spec(addr, a)
	return err
}

// checkShared: plan relies on these references whatever the kind.
func checkShared(in Info, addr string, a Attrs) error {
	p := parser{a: a}
	if in.Parent != "" {
		p.str(in.Parent)
	}
	if in.Provider == "" {
		p.str("host")
	}
	// Not p.done: the kind's spec says which other attributes it has.
	if p.err != nil {
		return fmt.Errorf("%s: %w", addr, p.err)
	}
	return nil
}
