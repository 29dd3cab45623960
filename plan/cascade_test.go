package plan

import (
	"reflect"
	"testing"

	"github.com/labnet-dev/labnet/kinds"
)

// An image container whose repair starts it again takes the processes run
// in it along; one whose repair only sets its limits does not.
func TestCascadeRestart(t *testing.T) {
	for _, c := range []struct {
		restarts bool
		want     Action
		reasons  []string
	}{
		{true, Replace, []string{"container.web is started again"}},
		{false, NoOp, nil},
	} {
		ct := &Change{Addr: "container.web", Kind: kinds.Container, Action: Update, Before: map[string]string{"host": "host.h"},
			Status: Status{Exists: true, Repairable: true, Restarts: c.restarts}}
		pr := &Change{Addr: "process.side", Kind: kinds.Process, Action: NoOp, Before: map[string]string{"on": "container.web", "host": "host.h"},
			Status: Status{Exists: true, Complete: true}}
		cascade([]*Change{ct, pr})
		if pr.Action != c.want || !reflect.DeepEqual(pr.Reasons, c.reasons) {
			t.Errorf("restarts %v: process %v %q, want %v %q", c.restarts, pr.Action, pr.Reasons, c.want, c.reasons)
		}
	}
}
