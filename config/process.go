package config

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

const kindProcess = "process"

func init() {
	registerKind(kindDef{
		name: kindProcess, seq: 11, decode: (*loader).decodeProcess,
		schema: blockSchema{attrs: []string{"on", "command"}, required: []string{"on", "command"}},
	})
}

// Processes are the lab's process blocks' instances, in declaration order.
func (l *Lab) Processes() []*Process { return listOf[*Process](l, kindProcess) }

func (l *loader) decodeProcess(d *dec, _ *node, _ *hcl.EvalContext, res Resource, id cty.Value) (*instance, func()) {
	on := d.ref("on", nodeKinds()...)
	command := d.command("command")
	if !d.ok || on == nil {
		return nil, nil
	}
	p := &Process{Resource: res, On: on.addr, Command: command}
	cmd := make([]cty.Value, len(command))
	for i, s := range command {
		cmd[i] = cty.StringVal(s)
	}
	v := cty.ObjectVal(map[string]cty.Value{
		"id":      id,
		"name":    cty.StringVal(res.Name),
		"on":      on.value,
		"command": cty.ListVal(cmd),
	})
	return &instance{value: v, res: p}, func() { add(l.lab, kindProcess, p) }
}

type Process struct {
	Resource
	On      string // address of a host, container, vm or pod
	Command []string
}
