package apply

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/labnet-dev/labnet/config"
	"github.com/labnet-dev/labnet/hostnet"
	"github.com/labnet-dev/labnet/kinds"
	"github.com/labnet-dev/labnet/plan"
	"github.com/labnet-dev/labnet/state"
)

// TestLabScriptsGolden renders, for every lab in labs/, what a first apply
// sends: per stage, the provider work and each host's one script. The
// golden files are the review copy of the commands labnet runs.
func TestLabScriptsGolden(t *testing.T) {
	cases := []struct {
		lab, golden string
		vars        map[string]string
	}{
		{"bare-metal", "bare-metal", nil},
		{"vms", "vms", nil},
		// labs/docker's image is built by make images: a tiny one stands in.
		{"docker", "docker", map[string]string{"image": "docker-archive:../../config/testdata/valid/images/images/tiny.tar"}},
		{"kubernetes-flat", "kubernetes-flat-vxlan", nil},
		{"kubernetes-flat", "kubernetes-flat-host-gw", map[string]string{"backend": "host-gw"}},
		{"sdn", "sdn", nil},
		{"routing", "routing", nil},
		{"../acceptance/testdata/links", "links", nil},
	}
	for _, tc := range cases {
		t.Run(tc.golden, func(t *testing.T) {
			lab, _, diags := config.Load(filepath.Join("..", "labs", tc.lab), config.Options{Vars: tc.vars})
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			want := kinds.Expand(lab)
			p := plan.Make(lab.Name, want, state.New(lab.Name), plan.Observations{}, plan.Options{})
			names := hostnet.Names{Lab: lab.Name}
			var b strings.Builder
			for i, stage := range stages(p) {
				fmt.Fprintf(&b, "=== stage %d\n", i+1)
				byHost := map[string]*hostnet.Script{}
				for _, n := range stage {
					c := n.change
					if kinds.Of(c.Kind).Provider != "" {
						fmt.Fprintf(&b, "provider: %s %s\n", act(n), c.Addr)
						continue
					}
					s := byHost[c.Host]
					if s == nil {
						s = &hostnet.Script{Header: hostnet.HostPrep(names)}
						byHost[c.Host] = s
					}
					st := mustStep(t, names, c, n.delete, nil)
					st.ID = c.ID
					s.Steps = append(s.Steps, st)
				}
				hosts := make([]string, 0, len(byHost))
				for h := range byHost {
					hosts = append(hosts, h)
				}
				sort.Strings(hosts)
				for _, h := range hosts {
					fmt.Fprintf(&b, "--- %s\n%s", h, byHost[h].Render())
				}
			}
			golden(t, filepath.Join("labs", tc.golden+".golden"), []byte(b.String()))
		})
	}
}
