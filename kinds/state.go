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

// Check parses one resource's attributes: its kind's spec, and the
// references every kind shares (the resource it lives inside, its host).
func Check(kind, addr string, a Attrs) error {
	k, err := Get(kind)
	if err != nil {
		return fmt.Errorf("%s: %w", addr, err)
	}
	in := k.Info()
	p := parser{a: a}
	if len(in.Parents) > 0 && !in.Guest { // a guest's bridge is checked by its spec: it may have none
		p.str(in.Parents[0]) // the first is where it lives: always set
	}
	if in.Provider == "" {
		p.str("host")
	}
	if err := p.done(addr); err != nil {
		return err
	}
	return k.Check(addr, a)
}
