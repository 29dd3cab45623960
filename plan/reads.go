package plan

import (
	"github.com/labnet-dev/labnet/hostnet"
	"github.com/labnet-dev/labnet/kinds"
	"github.com/labnet-dev/labnet/state"
)

// HostReads says, per host, what a refresh must read there to judge the
// lab's resources on it (want: what the lab keeps, nil when all of it goes;
// prior: the state): what the kinds' Judge and Step look at, and nothing
// else (kinds.HostReads).
func HostReads(want []*kinds.Resource, prior *state.State) map[string]*hostnet.Reads {
	var w, p []kinds.Res
	for _, r := range want {
		w = append(w, kinds.Res{Kind: r.Kind, Host: r.Host, Attrs: r.Attrs})
	}
	if prior != nil {
		for _, r := range prior.Resources {
			p = append(p, kinds.Res{Kind: r.Kind, Host: r.Host, Attrs: r.Attrs})
		}
	}
	return kinds.HostReads(w, p)
}
