package graph

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/labnet-dev/labnet/config"
)

// TestLinksDrawn: a link is an edge between its two nodes labelled with
// its ends; a tunnel across hosts is dashed and names its VNI.
func TestLinksDrawn(t *testing.T) {
	lab, _, diags := config.Load(filepath.Join("..", "acceptance", "testdata", "links"), config.Options{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	var b strings.Builder
	Dot(&b, lab)
	out := b.String()
	for _, want := range []string{
		`n_container_a -- n_container_r [label="eth1 10.0.1.2/24 -- eth1 10.0.1.1/24"];`,
		`n_container_web -- n_host_h_0 [label="eth1 10.0.3.2/30 -- lk0 10.0.3.1/30"];`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %s in:\n%s", want, out)
		}
	}
	var tunnel string
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "n_container_r -- n_container_b") {
			tunnel = line
		}
	}
	if !strings.Contains(tunnel, "(vxlan vni ") || !strings.Contains(tunnel, "style=dashed") {
		t.Errorf("the cross-host link is not a dashed tunnel: %q", tunnel)
	}
	b.Reset()
	Mermaid(&b, lab)
	if !strings.Contains(b.String(), "eth1 10.0.1.2/24 -- eth1 10.0.1.1/24") {
		t.Errorf("mermaid lacks the link:\n%s", b.String())
	}
}
