package plan

import (
	"reflect"
	"testing"
	"time"

	"github.com/labnet-dev/labnet/hostnet"
)

// setQdisc makes refresh see q as eth0's root qdisc of netns on host
// (nil: the default noqueue, which tc is not asked about).
func setQdisc(o Observations, host, netns string, q *hostnet.Qdisc) {
	ns := o.Kernel[host].Netns[netns]
	eth0 := ns.Links["eth0"]
	eth0.Qdisc = "noqueue"
	if q != nil {
		eth0.Qdisc = q.Kind
	}
	ns.Links["eth0"] = eth0
	ns.Qdisc = q
}

func shape(a map[string]string, rate, delay, loss string) {
	a["rate"], a["delay"], a["loss"] = rate, delay, loss
}

func TestShapingDriftAndChanges(t *testing.T) {
	const addr, host, netns = "container.web[0]", "host.node[0]", "ln.docker.web-0"
	tbf := func(bytesPerSec float64) *hostnet.Qdisc {
		return &hostnet.Qdisc{Kind: "tbf", Read: true, Rate: bytesPerSec}
	}
	netem := func(delay time.Duration, loss, rate float64) *hostnet.Qdisc {
		return &hostnet.Qdisc{Kind: "netem", Read: true, Delay: delay, Loss: loss, Rate: rate}
	}
	tests := []struct {
		name       string
		state, lab [3]string // rate, delay, loss
		seen       *hostnet.Qdisc
		oldState   bool // the state predates shaping: no such attributes
		action     Action
		reasons    []string
	}{
		{name: "rate in place", state: [3]string{"100mbit"}, lab: [3]string{"100mbit"}, seen: tbf(12.5e6), action: NoOp},
		{name: "rate qdisc deleted by hand", state: [3]string{"100mbit"}, lab: [3]string{"100mbit"}, seen: nil, action: Update,
			reasons: []string{"drift: eth0 has no tbf rate 100mbit (its root qdisc is noqueue)"}},
		{name: "rate changed by hand", state: [3]string{"100mbit"}, lab: [3]string{"100mbit"}, seen: tbf(6.25e6), action: Update,
			reasons: []string{"drift: eth0 has tbf rate 50mbit, wants tbf rate 100mbit"}},
		{name: "rate unreadable", state: [3]string{"100mbit"}, lab: [3]string{"100mbit"}, seen: &hostnet.Qdisc{Kind: "tbf"}, action: Update,
			reasons: []string{"drift: eth0's tbf qdisc could not be read, wants tbf rate 100mbit"}},
		{name: "rate changed in the lab", state: [3]string{"100mbit"}, lab: [3]string{"200mbit"}, seen: tbf(12.5e6), action: Update},
		{name: "rate removed from the lab", state: [3]string{"100mbit"}, lab: [3]string{}, seen: tbf(12.5e6), action: Update},
		{name: "rate added to the lab", state: [3]string{}, lab: [3]string{"1.5kbps"}, seen: nil, action: Update},
		{name: "fractional bytes per second", state: [3]string{"1.5kbit"}, lab: [3]string{"1.5kbit"}, seen: tbf(187), action: NoOp},
		{name: "unasked netem found", state: [3]string{}, lab: [3]string{}, seen: netem(time.Second, 0, 0), action: Update,
			reasons: []string{"drift: eth0 has a netem qdisc the lab does not ask for"}},
		{name: "another qdisc is not labnet's", state: [3]string{}, lab: [3]string{}, seen: &hostnet.Qdisc{Kind: "fq_codel", Read: true}, action: NoOp},
		{name: "state from before shaping", oldState: true, lab: [3]string{}, seen: nil, action: NoOp},
		{name: "netem in place", state: [3]string{"10mbit", "20ms", "0.5%"}, lab: [3]string{"10mbit", "20ms", "0.5%"},
			seen: netem(20*time.Millisecond, 0.500001, 1.25e6), action: NoOp},
		{name: "netem delay changed by hand", state: [3]string{"", "20ms", "1%"}, lab: [3]string{"", "20ms", "1%"},
			seen: netem(10*time.Millisecond, 1, 0), action: Update,
			reasons: []string{"drift: eth0 has netem delay 10ms loss 1%, wants netem delay 20ms loss 1%"}},
		{name: "netem replaced by tbf", state: [3]string{"10mbit", "", "1%"}, lab: [3]string{"10mbit", "", "1%"},
			seen: tbf(1.25e6), action: Update,
			reasons: []string{"drift: eth0 has no netem loss 1% rate 10mbit (its root qdisc is tbf)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := dockerLab(t)
			st := applied(want)
			obs := observed(want)
			old := st.Get(addr).Attrs
			shape(old, tt.state[0], tt.state[1], tt.state[2])
			if tt.oldState {
				delete(old, "rate")
				delete(old, "delay")
				delete(old, "loss")
			}
			shape(find(want, addr).Attrs, tt.lab[0], tt.lab[1], tt.lab[2])
			setQdisc(obs, host, netns, tt.seen)
			p := mk(t, want, st, obs, Options{})
			c := change(p, addr)
			if c.Action != tt.action || !reflect.DeepEqual(c.Reasons, tt.reasons) || len(c.Forced) != 0 {
				t.Errorf("%s: %s %q forced %q, want %s %q", addr, c.Action, c.Reasons, c.Forced, tt.action, tt.reasons)
			}
			if got := actions(p); len(got) > 1 {
				t.Errorf("other changes: %v", got)
			}
		})
	}
}

// A guest whose shaping attributes are missing from an old state is the
// same as one whose lab leaves them unset, for any kind.
func TestSameAttrsMissingIsEmpty(t *testing.T) {
	a := map[string]string{"x": "1", "rate": ""}
	b := map[string]string{"x": "1"}
	if !sameAttrs(a, b) || !sameAttrs(b, a) {
		t.Error("a missing attribute differs from an empty one")
	}
	if sameAttrs(map[string]string{"x": "1", "rate": "1mbit"}, b) || sameAttrs(b, map[string]string{"x": "2"}) {
		t.Error("different attributes compare equal")
	}
}
