package cli

import (
	"testing"

	"github.com/labnet-dev/labnet/check"
)

// TestInNode: exec, ssh and capture enter a container's network, mount and
// UTS namespaces (its private dirs and hostname), a VM's or pod's network
// namespace, nothing on a host; always with the node's owner mark, and the
// command as quoted arguments.
func TestInNode(t *testing.T) {
	argv := []string{"cat", "/var/run/demo/pid", "$(x)"}
	for _, tc := range []struct {
		n    check.Node
		want string
	}{
		{check.Node{Owner: "l/h/check", Netns: "ln.l.c", MountNS: "/run/labnet/l/ns/c.mnt", UTSNS: "/run/labnet/l/ns/c.uts"},
			`env LABNET_OWNER=l/h/check nsenter --net=/run/netns/ln.l.c --mount=/run/labnet/l/ns/c.mnt --uts=/run/labnet/l/ns/c.uts -- cat /var/run/demo/pid '$(x)'`},
		{check.Node{Owner: "l/h/check", Netns: "ln.l.p"}, `env LABNET_OWNER=l/h/check ip netns exec ln.l.p cat /var/run/demo/pid '$(x)'`},
		{check.Node{Owner: "l/h/check"}, `env LABNET_OWNER=l/h/check cat /var/run/demo/pid '$(x)'`},
	} {
		if got := inNode(tc.n, argv); got != tc.want {
			t.Errorf("inNode(%+v):\n got %s\nwant %s", tc.n, got, tc.want)
		}
	}
}
