package apply

import (
	"testing"

	"github.com/labnet-dev/labnet/provider"
	"github.com/labnet-dev/labnet/state"
)

// Deleting a netns host or a Lima VM takes what is on it along, so a
// destroy sends nothing to it before deleting it (a stopped or half-made
// VM cannot be reached, and must still be deleted: found on a real Lima
// run). An ssh host's machine stays, so what the lab put there is removed.
func TestContentsGoWithHost(t *testing.T) {
	for p, want := range map[string]bool{"": true, "netns": true, "lima": true, "ssh": false} {
		if got := New("x", state.Dir{}, provider.Keys{}).contentsGoWithHost(map[string]string{"provider": p}); got != want {
			t.Errorf("provider %q: %v, want %v", p, got, want)
		}
	}
}
