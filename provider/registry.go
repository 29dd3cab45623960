package provider

import (
	"fmt"
	"sort"
	"strconv"
)

// A provider registers itself (Register, from its package's init): its
// name, how to make it, and the settings block a host block of the lab
// language may carry for it (`ssh { user = "lab" }`). The language, the
// state and the engine learn the providers from here; no provider's name
// is written anywhere else.

// Block describes a provider's settings block in a host block.
type Block struct {
	Args []Arg
	// Finish judges the arguments together once each passed its own
	// check, and may derive values (nil: nothing to do). v holds every
	// argument's value (defaults included), set those the block wrote. It
	// returns the argument at fault with the error.
	Finish func(v map[string]string, set map[string]bool) (arg string, err error)
}

// Arg is one argument of a provider's block.
type Arg struct {
	Name string
	Type ArgType
	// Default is the value of a host of this provider that does not set
	// it ("" for none).
	Default  string
	Min, Max int // IntArg's range
	// Check judges the value as written (nil: any value of its type);
	// its error is shown at the argument.
	Check func(v string) error
}

// ArgType is the type of a provider block's argument.
type ArgType int

const (
	StringArg ArgType = iota
	IntArg
	PathArg // a file on the machine labnet runs on: relative to the lab's directory
)

// Registration is one provider.
type Registration struct {
	Name  string
	New   func() Provider
	Block *Block // nil: no settings block
}

var registered = map[string]Registration{}

// Register adds a provider; each provider's package calls it from init.
func Register(r Registration) {
	if _, dup := registered[r.Name]; dup {
		panic("provider: " + r.Name + " registered twice")
	}
	registered[r.Name] = r
}

// Names lists the registered providers, Default first, then by name.
func Names() []string {
	var out []string
	for n := range registered {
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool {
		if (out[i] == Default) != (out[j] == Default) {
			return out[i] == Default
		}
		return out[i] < out[j]
	})
	return out
}

// BlockOf is a provider's settings block (nil when it has none or is not
// registered).
func BlockOf(name string) *Block { return registered[name].Block }

// Arg returns the argument of the block by name.
func (b *Block) Arg(name string) (Arg, bool) {
	for _, a := range b.Args {
		if a.Name == name {
			return a, true
		}
	}
	return Arg{}, false
}

// SettingAttr is the host attribute that holds a provider's setting:
// "ssh_user" for ssh's user.
func SettingAttr(provider, arg string) string { return provider + "_" + arg }

// Registered makes a Set of every registered provider.
func Registered() Set {
	s := Set{}
	for _, n := range Names() {
		s[n] = registered[n].New()
	}
	return s
}

// Setting finds the provider block argument a host attribute holds
// ("ssh_port": ssh's port).
func Setting(attr string) (Arg, bool) {
	for name, r := range registered {
		if r.Block == nil {
			continue
		}
		for _, a := range r.Block.Args {
			if SettingAttr(name, a.Name) == attr {
				return a, true
			}
		}
	}
	return Arg{}, false
}

// CheckSetting judges one host attribute that is a provider's setting, as
// a state holds it; known is false for an attribute that is none.
func CheckSetting(attr, value string) (known bool, err error) {
	a, ok := Setting(attr)
	if !ok {
		return false, nil
	}
	if a.Type == IntArg {
		n, err := strconv.Atoi(value)
		if err != nil || n < a.Min || n > a.Max {
			return true, fmt.Errorf("must be a whole number from %d to %d, not %q", a.Min, a.Max, value)
		}
	}
	if a.Check != nil {
		return true, a.Check(value)
	}
	return true, nil
}
