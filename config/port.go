package config

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

var (
	labSchema      = blockSchema{attrs: []string{"name"}}
	variableSchema = blockSchema{attrs: []string{"type", "default", "description"}}
	outputSchema   = blockSchema{attrs: []string{"value", "description", "sensitive"}, required: []string{"value"}}
	// portBlock publishes a guest's port on its host's address.
	portBlock = nested{hcl.BlockHeaderSchema{Type: "port"},
		blockSchema{attrs: []string{"host_port", "port", "protocol"}, required: []string{"host_port", "port"}}}
)

var portType = cty.Object(map[string]cty.Type{"host_port": cty.Number, "port": cty.Number, "protocol": cty.String})

// decodePorts decodes the port blocks of n (a container or nat VM of
// owner) published on host ("" when the host did not decode). It returns
// the ports, their values and the "8080/tcp" keys to record with
// publishPorts on commit; errors clear d.ok.
func (l *loader) decodePorts(d *dec, n *node, ctx *hcl.EvalContext, host, owner string) ([]Port, []cty.Value, map[string]bool) {
	var ports []Port
	var portVals []cty.Value
	published := map[string]bool{}
	hostPorts := l.hostPorts[host]
	for _, pb := range n.blocksOf("port") {
		pd := l.newDec(pb.attrs, ctx)
		pd.required(portBlock.schema.required...)
		hp, _ := pd.port("host_port")
		cp, _ := pd.port("port")
		proto := "tcp"
		if s, ok := pd.str("protocol"); ok {
			if s != "tcp" && s != "udp" {
				pd.fail("protocol", "Invalid protocol", "The protocol must be \"tcp\" or \"udp\", got %q.", s)
			}
			proto = s
		}
		if pd.ok && host != "" {
			key := fmt.Sprintf("%d/%s", hp, proto)
			if other := hostPorts[key]; other != "" {
				pd.fail("host_port", "Duplicate published port", "The host port %s on %s is already published by %s.", key, host, other)
			} else if published[key] {
				pd.fail("host_port", "Duplicate published port", "The host port %s on %s is already published by %s.", key, host, owner)
			}
			published[key] = true
		}
		if !pd.ok {
			d.ok = false
			continue
		}
		ports = append(ports, Port{HostPort: hp, Port: cp, Protocol: proto, Range: pb.block.DefRange})
		portVals = append(portVals, cty.ObjectVal(map[string]cty.Value{
			"host_port": cty.NumberIntVal(int64(hp)),
			"port":      cty.NumberIntVal(int64(cp)),
			"protocol":  cty.StringVal(proto),
		}))
	}
	return ports, portVals, published
}

// publishPorts records host ports published by owner.
func (l *loader) publishPorts(host string, published map[string]bool, owner string) {
	if l.hostPorts[host] == nil {
		l.hostPorts[host] = map[string]string{}
	}
	for key := range published {
		l.hostPorts[host][key] = owner
	}
}

func portList(vals []cty.Value) cty.Value {
	if len(vals) == 0 {
		return cty.ListValEmpty(portType)
	}
	return cty.ListVal(vals)
}

// noPorts reports every port block of n, which cannot publish ports.
func (l *loader) noPorts(d *dec, n *node, summary, format string, args ...any) {
	for _, pb := range n.blocksOf("port") {
		l.errorf(&pb.block.DefRange, summary, format, args...)
		d.ok = false
	}
}

type Port struct {
	HostPort int
	Port     int
	Protocol string // "tcp" or "udp"
	Range    hcl.Range
}
