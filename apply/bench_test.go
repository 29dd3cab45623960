package apply

import (
	"testing"

	"github.com/labnet-dev/labnet/expand"
	"github.com/labnet-dev/labnet/hostnet"
	"github.com/labnet-dev/labnet/plan"
	"github.com/labnet-dev/labnet/provider"
	"github.com/labnet-dev/labnet/state"
)

// BenchmarkRemovalStage: labnet's own work between a refresh and the
// state's save when the containers of scaleLab (1,000 on two hosts) go:
// plan, stages, each host's script and reading its outcome. It runs on the
// critical path of every removal (bench/run.sh's destroy rows).
func BenchmarkRemovalStage(b *testing.B) {
	prior := state.New("scale")
	for _, w := range scaleLab(b, 500) {
		prior.Put(&state.Resource{Addr: w.Addr, Kind: w.Kind, Host: w.Host, Attrs: w.Attrs, Deps: w.Deps})
	}
	want := scaleLab(b, 0)
	obs := plan.Observations{Networks: map[string]plan.Status{}, Hosts: map[string]provider.Status{}, Kernel: map[string]*hostnet.Observed{}}
	for _, r := range prior.Resources {
		switch {
		case r.Kind == expand.KindNetwork:
			obs.Networks[r.Addr] = plan.Status{Exists: true, Complete: true}
		case r.Kind == expand.KindHost:
			obs.Hosts[r.Addr] = provider.Status{Exists: true, SSHUp: true}
			obs.Kernel[r.Addr] = &hostnet.Observed{Links: map[string]hostnet.Link{}, Netns: map[string]*hostnet.Netns{}}
		}
	}
	for _, r := range prior.Resources {
		if r.Kind == expand.KindContainer {
			obs.Kernel[r.Host].Netns[r.Attrs["netns"]] = &hostnet.Netns{}
		}
	}
	b.ResetTimer()
	for b.Loop() {
		p := plan.Make("scale", want, prior, obs, plan.Options{})
		scripts := map[string]*hostnet.Script{}
		for _, stage := range stages(p) {
			for i, n := range stage {
				s := scripts[n.change.Host]
				if s == nil {
					s = &hostnet.Script{}
					scripts[n.change.Host] = s
				}
				step := Step(hostnet.Names{Lab: "scale"}, n.change, n.delete, obs.Kernel[n.change.Host])
				step.ID = i
				s.Steps = append(s.Steps, step)
			}
		}
		for _, s := range scripts {
			_ = s.Render()
			_ = s.ParseOutcome([]byte("@@batch\n@@end\n"))
		}
	}
}
