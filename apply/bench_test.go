package apply

import (
	"testing"

	"github.com/labnet-dev/labnet/hostnet"
	"github.com/labnet-dev/labnet/kinds"
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
		case r.Kind == kinds.Network:
			obs.Networks[r.Addr] = plan.Status{Exists: true, Complete: true}
		case r.Kind == kinds.Host:
			obs.Hosts[r.Addr] = provider.Status{Exists: true, SSHUp: true}
			obs.Kernel[r.Addr] = &hostnet.Observed{Links: map[string]hostnet.Link{}, Netns: map[string]*hostnet.Netns{}}
		}
	}
	for _, r := range prior.Resources {
		if r.Kind == kinds.Container {
			obs.Kernel[r.Host].Netns[r.Attrs["netns"]] = &hostnet.Netns{}
		}
	}
	b.ResetTimer()
	for b.Loop() {
		p := plan.Make("scale", want, prior, obs, plan.Options{})
		var scripts []hostnet.Script
		for _, stage := range stages(p) {
			byHost := map[string][]*node{}
			for _, n := range stage {
				byHost[n.change.Host] = append(byHost[n.change.Host], n)
			}
			for h, nodes := range byHost {
				s, bad := hostScript(hostnet.Names{Lab: "scale"}, nodes, obs.Kernel[h])
				if len(bad) > 0 {
					b.Fatal(bad)
				}
				scripts = append(scripts, s)
			}
		}
		for _, s := range scripts {
			_ = s.Render()
			_ = s.ParseOutcome([]byte("@@batch\n@@end\n"))
		}
	}
}

// BenchmarkStateLoadSave: what every command on scaleLab's 1,000
// containers (and their 1,000 processes) pays to read its state and check
// every value, and what every stage of an apply pays to write it.
func BenchmarkStateLoadSave(b *testing.B) {
	st := state.New("scale")
	for _, w := range scaleLab(b, 1000) {
		st.Put(&state.Resource{Addr: w.Addr, Kind: w.Kind, Host: w.Host, Attrs: w.Attrs, Deps: w.Deps})
	}
	d := state.Dir{Path: b.TempDir()}
	if err := d.Save(st, kinds.StateCodec); err != nil {
		b.Fatal(err)
	}
	b.Run("load", func(b *testing.B) {
		for b.Loop() {
			// Load checks every value as it decodes it.
			if _, err := d.Load(kinds.StateCodec); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("save", func(b *testing.B) {
		for b.Loop() {
			if err := d.Save(st, kinds.StateCodec); err != nil {
				b.Fatal(err)
			}
		}
	})
}
