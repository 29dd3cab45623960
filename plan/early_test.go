package plan

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/labnet-dev/labnet/kinds"
)

// without is the docker lab minus the resources whose address has one of
// the prefixes.
func without(all []*kinds.Resource, prefixes ...string) []*kinds.Resource {
	var out []*kinds.Resource
	for _, w := range all {
		if !slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(w.Addr, p) }) {
			out = append(out, w)
		}
	}
	return out
}

func TestEarlyRemovals(t *testing.T) {
	all := dockerLab(t)
	clients := map[string][]string{"host.node[0]": {"container.client[0]"}, "host.node[1]": {"container.client[1]"}}
	shaped := without(all, "container.client[")
	for i, w := range shaped {
		if w.Addr == "container.web[1]" {
			c := *w
			c.Attrs = copyAttrs(w.Attrs)
			c.Attrs["delay"] = "10ms"
			shaped[i] = &c
		}
	}
	cases := []struct {
		name  string
		want  []*kinds.Resource
		opt   Options
		taint string
		out   map[string][]string // host -> guests removed early
	}{
		{"guests that go, nothing inside them", without(all, "container.client["), Options{}, "", clients},
		{"nothing goes", all, Options{}, "", nil},
		// web[*] holds a process, which stops first: the usual stages.
		{"a process lives in the guest", without(all, "container.web[", "process.web["), Options{}, "", nil},
		{"with its process", without(all, "container.client[", "container.web[", "process.web["), Options{}, "", clients},
		{"the host goes too", without(all, "container.client[", "host.node[1]", "bridge.docker0[1]", "container.web[1]", "process.web[1]", "nat_table.node-1"),
			Options{}, "", map[string][]string{"host.node[0]": {"container.client[0]"}}},
		{"the host is remade", without(all, "container.client["), Options{}, "host.node[0]", map[string][]string{"host.node[1]": {"container.client[1]"}}},
		{"destroy", all, Options{Destroy: true}, "", nil},
		{"-target", without(all, "container.client["), Options{Targets: []string{"container.client"}}, "", nil},
		{"-refresh-only", without(all, "container.client["), Options{RefreshOnly: true}, "", nil},
		// The netem probe may refuse the plan after the read: nothing may have changed on that host.
		{"netem is probed on the host", shaped, Options{}, "", map[string][]string{"host.node[0]": {"container.client[0]"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := applied(all)
			if tc.taint != "" {
				st.Get(tc.taint).Tainted = true
			}
			got := map[string][]string{}
			for host, cs := range EarlyRemovals("docker", tc.want, st, tc.opt) {
				for _, c := range cs {
					if c.Action != Delete || c.Host != host || c.Before["netns"] == "" {
						t.Errorf("%s: %s on %s, netns %q", c.Addr, c.Action, c.Host, c.Before["netns"])
					}
					got[host] = append(got[host], c.Addr)
				}
			}
			if len(got) == 0 {
				got = nil
			}
			if !reflect.DeepEqual(got, tc.out) {
				t.Errorf("removed early: %v, want %v", got, tc.out)
			}
		})
	}
}

// A guest the refresh removed is a deletion of the state only, and no drift.
func TestMakeRemovedEarly(t *testing.T) {
	all := dockerLab(t)
	st := applied(all)
	obs := observed(all)
	c0 := st.Get("container.client[0]").Attrs
	delete(obs.Kernel["host.node[0]"].Netns, c0["netns"])
	delete(obs.Kernel["host.node[0]"].Links, c0["veth"])
	obs.Removed = map[string]bool{"container.client[0]": true}
	p := mk(t, without(all, "container.client[0]"), st, obs, Options{})
	c := change(p, "container.client[0]")
	if c.Action != Delete || c.Status.Exists || c.Status.Unknown || !c.Status.Removed ||
		!reflect.DeepEqual(c.Reasons, []string{"not in the lab any more", "removed while its host was read"}) {
		t.Errorf("client[0]: %s %+v %q", c.Action, c.Status, c.Reasons)
	}
	if d := p.Drifted(); len(d) != 0 {
		t.Errorf("drift reported for %s: %v", d[0].Addr, d[0].Status.Drift)
	}
	if len(p.Changes) != 1 {
		t.Errorf("%d changes, want only the removal", len(p.Changes))
	}
}
