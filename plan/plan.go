// Package plan compares what the lab wants with what the state says labnet
// made and what is really on the hosts, and lists the changes, with a
// reason for each. It is pure.
package plan

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/labnet-dev/labnet/hostnet"
	"github.com/labnet-dev/labnet/kinds"
	"github.com/labnet-dev/labnet/provider"
	"github.com/labnet-dev/labnet/state"
)

// Action of a change.
type Action string

const (
	NoOp    Action = "no-op"
	Create  Action = "create"
	Update  Action = "update"
	Replace Action = "replace"
	Delete  Action = "delete"
)

// Symbol is how a plan prints an action.
func (a Action) Symbol() string {
	switch a {
	case Create:
		return "+"
	case Update:
		return "~"
	case Replace:
		return "-/+"
	case Delete:
		return "-"
	}
	return " "
}

// Change is one resource's planned change.
type Change struct {
	ID      int
	Addr    string
	Kind    string
	Host    string
	Action  Action
	Reasons []string          // why (drift, tainted, forced attributes)
	Forced  []string          // attributes that force replacement
	Before  map[string]string // state attributes (nil when new)
	After   map[string]string // wanted attributes (nil when deleted)
	Deps    []string          // wanted dependencies (create/update order)
	OldDeps []string          // state dependencies (delete order)
	Status  Status            // what refresh saw
}

// Status is what refresh saw of one resource.
type Status struct {
	Exists     bool     // some of it is there
	Complete   bool     // all of it is there and right
	Repairable bool     // what is wrong can be fixed in place
	Restarts   bool     // fixing it starts it again, and what runs in it
	Drift      []string // what is wrong
	Unknown    bool     // it could not be read (its host is unreachable)
	// Shared: it is there whether or not the lab made it (the LAN of
	// existing machines, a Lima network), so finding it without state is
	// no leftover to replace.
	Shared bool
	// Removed: the refresh itself removed it (a guest that went whatever
	// the read found, see EarlyRemovals); only the state changes.
	Removed bool
}

// Observations are what refresh read.
type Observations struct {
	Networks map[string]Status            // by network address
	Hosts    map[string]provider.Status   // by host address
	Kernel   map[string]*hostnet.Observed // by host address; nil when unreadable
	Removed  map[string]bool              // guests the refresh removed (EarlyRemovals)
}

// Plan is the list of changes, in a stable order.
type Plan struct {
	Lab     string
	Changes []*Change // only real changes (no no-ops)
	NoOps   []*Change
	Serial  int64
	Lineage string
}

// Options change what is planned.
type Options struct {
	Destroy     bool     // plan to delete everything
	RefreshOnly bool     // report drift, plan nothing
	Replace     []string // resources to replace even if unchanged (-replace)
	Targets     []string // plan only these and what they need (-target); a
	// target names an instance ("container.web[0]") or all of a block's
	// instances ("container.web")
}

// Make diffs wanted resources against prior state and observations.
func Make(lab string, want []*kinds.Resource, prior *state.State, obs Observations, opt Options) *Plan {
	p := &Plan{Lab: lab}
	names := hostnet.Names{Lab: lab}
	if prior != nil {
		p.Serial, p.Lineage = prior.Serial, prior.Lineage
	} else {
		prior = &state.State{}
	}
	if opt.Destroy {
		want = nil
	}
	wanted := map[string]*kinds.Resource{}
	for _, w := range want {
		wanted[w.Addr] = w
	}
	var all []*Change
	for _, w := range want {
		c := &Change{Addr: w.Addr, Kind: w.Kind, Host: w.Host, After: w.Attrs, Deps: w.Deps}
		if old := prior.Get(w.Addr); old != nil {
			c.Before, c.OldDeps = old.Attrs, old.Deps
			c.Status = observe(names, c.Kind, c.Addr, old.Attrs, c.Host, obs, false)
			decide(c, old.Tainted)
		} else {
			c.Status = observe(names, c.Kind, c.Addr, w.Attrs, c.Host, obs, false)
			c.Action = Create
			if c.Status.Exists && !c.Status.Shared {
				c.Action = Replace
				c.Reasons = append(c.Reasons, "found on the host but not in the state: it is remade")
			}
		}
		all = append(all, c)
	}
	for _, old := range prior.Resources {
		if wanted[old.Addr] != nil {
			continue
		}
		c := &Change{Addr: old.Addr, Kind: old.Kind, Host: old.Host, Action: Delete, Before: old.Attrs, OldDeps: old.Deps}
		c.Status = observeGoing(names, c.Kind, c.Addr, old.Attrs, c.Host, obs)
		if !opt.Destroy {
			c.Reasons = append(c.Reasons, "not in the lab any more")
		}
		switch {
		case obs.Removed[old.Addr]:
			c.Status = Status{Removed: true}
			c.Reasons = append(c.Reasons, "removed while its host was read")
		case !c.Status.Exists && !c.Status.Unknown:
			c.Reasons = append(c.Reasons, "already gone from the host")
		}
		all = append(all, c)
	}
	for _, c := range all {
		if c.Before != nil && c.Action != Delete && slices.Contains(opt.Replace, c.Addr) && c.Action != Replace {
			c.Action = Replace
			c.Reasons = append(c.Reasons, "replacement requested with -replace")
		}
	}
	cascade(all)
	if len(opt.Targets) > 0 {
		keep := targeted(all, opt.Targets)
		for _, c := range all {
			if !keep[c.Addr] {
				c.Action = NoOp
			}
		}
	}
	if opt.RefreshOnly {
		for _, c := range all {
			c.Action = NoOp
		}
	}
	sortChanges(all)
	for i, c := range all {
		c.ID = i
		if c.Action == NoOp {
			p.NoOps = append(p.NoOps, c)
		} else {
			p.Changes = append(p.Changes, c)
		}
	}
	return p
}

// targeted is the set of addresses -target keeps: the targets, what they
// depend on (to be made first), and what depends on them (to be removed
// first, or remade with them).
func targeted(all []*Change, targets []string) map[string]bool {
	match := func(addr string) bool {
		for _, t := range targets {
			if addr == t || strings.HasPrefix(addr, t+"[") || strings.HasPrefix(addr, t+"/") {
				return true
			}
		}
		return false
	}
	byAddr := map[string]*Change{}
	for _, c := range all {
		byAddr[c.Addr] = c
	}
	keep := map[string]bool{}
	var up func(a string)
	up = func(a string) {
		if keep[a] {
			return
		}
		keep[a] = true
		if c := byAddr[a]; c != nil {
			for _, d := range append(append([]string{}, c.Deps...), c.OldDeps...) {
				up(d)
			}
		}
	}
	for _, c := range all {
		if match(c.Addr) {
			up(c.Addr)
		}
	}
	// Dependants of a targeted resource that is replaced or deleted.
	for changed := true; changed; {
		changed = false
		for _, c := range all {
			if keep[c.Addr] {
				continue
			}
			for _, d := range append(append([]string{}, c.Deps...), c.OldDeps...) {
				if dc := byAddr[d]; dc != nil && keep[d] && match(d) && (dc.Action == Replace || dc.Action == Delete) {
					keep[c.Addr], changed = true, true
					break
				}
			}
		}
	}
	return keep
}

func decide(c *Change, tainted bool) {
	info := kinds.Of(c.Kind)
	for _, k := range info.ForceNew {
		if c.Before[k] != c.After[k] {
			c.Forced = append(c.Forced, k)
		}
	}
	if info.Why != nil {
		c.Reasons = append(c.Reasons, info.Why(c.Before, c.After)...)
	}
	st := c.Status
	switch {
	case tainted:
		c.Action = Replace
		c.Reasons = append(c.Reasons, "tainted: an earlier apply did not finish it")
	case len(c.Forced) > 0:
		c.Action = Replace
	case st.Unknown:
		c.Action = NoOp
		if !sameAttrs(c.Before, c.After) {
			c.Action = Update
		}
	case !st.Exists:
		c.Action = Create
		c.Reasons = append(c.Reasons, prefixAll("missing: ", st.Drift)...)
	case !st.Complete && !st.Repairable:
		c.Action = Replace
		c.Reasons = append(c.Reasons, prefixAll("drift: ", st.Drift)...)
	case !st.Complete || !sameAttrs(c.Before, c.After):
		c.Action = Update
		c.Reasons = append(c.Reasons, prefixAll("drift: ", st.Drift)...)
	default:
		c.Action = NoOp
	}
}

// cascade: a resource remade (or made again) takes what lives inside it
// along: a new host has no bridges, a new bridge no containers; an image
// container started again by its repair ends the processes run in it.
func cascade(all []*Change) {
	byAddr := map[string]*Change{}
	for _, c := range all {
		byAddr[c.Addr] = c
	}
	remade := func(c *Change) bool {
		return c != nil && c.Before != nil && (c.Action == Replace || c.Action == Create || c.Action == Update && c.Status.Restarts)
	}
	for changed := true; changed; {
		changed = false
		for _, c := range all {
			if c.Action == Delete || c.Action == Replace || c.Before == nil {
				continue
			}
			info := kinds.Of(c.Kind)
			if len(info.Parents) == 0 {
				continue
			}
			var parents []string
			for _, pa := range info.Parents {
				if c.Before[pa] != "" {
					parents = append(parents, c.Before[pa])
				}
			}
			if info.WithHost {
				parents = append(parents, c.Before["host"])
			}
			for _, pa := range parents {
				if p := byAddr[pa]; remade(p) {
					action := Create
					if c.Status.Exists {
						action = Replace
					}
					if c.Action == action {
						break // already remade: nothing changes, so the loop ends
					}
					c.Action = action
					how := "made anew"
					if p.Action == Update {
						how = "started again"
					}
					c.Reasons = append(c.Reasons, fmt.Sprintf("%s is %s", pa, how))
					changed = true
					break
				}
			}
		}
	}
}

// sameAttrs compares attributes, a missing one being "": a state written
// before an attribute existed (rate, delay, loss) equals a lab that leaves
// it unset.
func sameAttrs(a, b map[string]string) bool {
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	for k, v := range b {
		if a[k] != v {
			return false
		}
	}
	return true
}

func prefixAll(p string, s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = p + v
	}
	return out
}

func sortChanges(all []*Change) {
	sort.SliceStable(all, func(i, j int) bool {
		if oi, oj := kinds.Of(all[i].Kind).Order, kinds.Of(all[j].Kind).Order; oi != oj {
			return oi < oj
		}
		return all[i].Addr < all[j].Addr
	})
}

// Counts returns how many resources are added, changed and destroyed
// (a replacement counts as one added and one destroyed, as in Terraform).
func (p *Plan) Counts() (add, change, destroy int) {
	for _, c := range p.Changes {
		switch c.Action {
		case Create:
			add++
		case Update:
			change++
		case Replace:
			add++
			destroy++
		case Delete:
			destroy++
		}
	}
	return
}

// Drifted lists resources whose observed state differs from the state.
func (p *Plan) Drifted() []*Change {
	var out []*Change
	for _, c := range append(append([]*Change{}, p.Changes...), p.NoOps...) {
		if c.Before != nil && (!c.Status.Exists || !c.Status.Complete) && !c.Status.Unknown && !c.Status.Removed {
			out = append(out, c)
		}
	}
	sortChanges(out)
	return out
}

// observeGoing judges a resource that is deleted: only whether it is there
// counts. Refresh does not read inside what goes (a guest's namespace is
// only listed, its veth left out), so drift would be made up.
func observeGoing(n hostnet.Names, kind, addr string, a map[string]string, host string, obs Observations) Status {
	st := observe(n, kind, addr, a, host, obs, true)
	if st.Exists {
		st.Complete, st.Drift = true, nil
	}
	return st
}

// observe judges one resource against what refresh read; of one that
// goes only whether it is there. Networks and hosts are judged by their
// providers; every other kind by its own Judge.
func observe(n hostnet.Names, kind, addr string, a map[string]string, host string, obs Observations, going bool) Status {
	k, err := kinds.Get(kind)
	if err != nil {
		return Status{Unknown: true, Drift: []string{err.Error()}}
	}
	switch k.Info().Provider {
	case "network":
		if st, ok := obs.Networks[addr]; ok {
			return st
		}
		return Status{Unknown: true}
	case "host":
		st, ok := obs.Hosts[addr]
		if !ok {
			return Status{Unknown: true}
		}
		s := Status{Exists: st.Exists, Complete: st.Exists && st.SSHUp, Repairable: true}
		if st.Reason != "" {
			s.Drift = []string{st.Reason}
		}
		return s
	}
	hs, ok := obs.Hosts[host]
	if ok && !hs.Exists {
		return Status{Drift: []string{host + " is gone"}}
	}
	kernel := obs.Kernel[host]
	if kernel == nil {
		return Status{Unknown: true}
	}
	v, err := k.Judge(n, addr, a, kernel, going)
	if err != nil {
		// The state was checked when it was read: only a lab's own
		// attributes could be wrong here, and expand makes them.
		return Status{Unknown: true, Drift: []string{err.Error()}}
	}
	return verdict(v)
}

// verdict is a status from what a kind's judge found.
func verdict(v hostnet.Verdict) Status {
	return Status{Exists: v.Exists, Complete: v.Exists && len(v.Drift) == 0, Repairable: !v.Unrepairable, Drift: v.Drift, Restarts: v.Restarts}
}
