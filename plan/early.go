package plan

import (
	"github.com/labnet-dev/labnet/kinds"
	"github.com/labnet-dev/labnet/state"
)

// EarlyRemovals lists, per host, the guest deletions an apply makes
// whatever a refresh finds: guests in the state and not in the lab, with
// nothing in the state depending on them, on a host that stays as it is.
// Deleting such a guest is one `netns del`, and a read changes nothing of
// it but "delete" into "already gone", so `apply -auto-approve` sends these
// in the refresh's own exchange (apply.Engine.Refresh) and the plan made
// afterwards finds them removed: removing N containers costs one exchange
// with their host instead of two (~5 ms of ~100 at N = 1,000).
//
// Left to the plan as usual: a guest something depends on (a process must
// stop before its namespace goes; `netns del` does not kill it), deletions
// with -target or -refresh-only, guests on a host that goes or is remade,
// and every guest of a host where the refresh may still refuse the whole
// plan (netem probed there), because a refused plan must change nothing.
func EarlyRemovals(lab string, want []*kinds.Resource, prior *state.State, opt Options) map[string][]*Change {
	if prior == nil || len(opt.Targets) > 0 || opt.RefreshOnly {
		return nil
	}
	// A plan from the state alone: every status unknown, so an action comes
	// from the lab and the state only (as with -refresh=false).
	p := Make(lab, want, prior, Observations{}, opt)
	hostChanges := map[string]bool{}
	for _, c := range p.Changes {
		if kinds.Of(c.Kind).Provider == "host" {
			hostChanges[c.Addr] = true
		}
	}
	if !opt.Destroy {
		for _, w := range want {
			if kinds.NeedsNetem(w.Kind, w.Attrs) {
				hostChanges[w.Host] = true // netem is probed there (apply.checkNetem)
			}
		}
	}
	hasDependants := map[string]bool{}
	for _, r := range prior.Resources {
		for _, d := range r.Deps {
			hasDependants[d] = true
		}
	}
	var out map[string][]*Change
	for _, c := range p.Changes {
		if c.Action != Delete || !kinds.RemovableWithTheRead(c.Kind, c.Before) ||
			hasDependants[c.Addr] || hostChanges[c.Host] || prior.Get(c.Host) == nil {
			continue
		}
		if out == nil {
			out = map[string][]*Change{}
		}
		out[c.Host] = append(out[c.Host], c)
	}
	return out
}
