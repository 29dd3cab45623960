package lima

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
)

// Instance is one line of `limactl list --json`.
type Instance struct {
	Name          string            `json:"name"`
	Status        string            `json:"status"` // "Running", "Stopped", "Broken", ...
	Dir           string            `json:"dir"`
	SSHLocalPort  int               `json:"sshLocalPort"` // 0 while stopped
	SSHAddress    string            `json:"sshAddress"`
	SSHConfigFile string            `json:"sshConfigFile"`
	IdentityFile  string            `json:"IdentityFile"`
	LimaHome      string            `json:"LimaHome"`
	LimaVersion   string            `json:"limaVersion"`
	Networks      []InstanceNetwork `json:"network"`
}

// InstanceNetwork is one of an instance's Lima networks.
type InstanceNetwork struct {
	Lima       string `json:"lima"`
	Socket     string `json:"socket"`
	MACAddress string `json:"macAddress"`
	Interface  string `json:"interface"`
}

// SSHAddrPort is where the instance's sshd is forwarded to on this machine.
func (in Instance) SSHAddrPort() (netip.AddrPort, error) {
	host := in.SSHAddress
	if host == "" {
		host = "127.0.0.1"
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("instance %s: sshAddress %q: %w", in.Name, in.SSHAddress, err)
	}
	if in.SSHLocalPort <= 0 || in.SSHLocalPort > 65535 {
		return netip.AddrPort{}, fmt.Errorf("instance %s has no SSH port (status %s)", in.Name, in.Status)
	}
	return netip.AddrPortFrom(a, uint16(in.SSHLocalPort)), nil
}

// ParseList parses `limactl list --json`: one JSON object per line (a JSON
// array is accepted too). No output means no instances.
func ParseList(data []byte) ([]Instance, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return nil, nil
	}
	if data[0] == '[' {
		var list []Instance
		if err := json.Unmarshal(data, &list); err != nil {
			return nil, fmt.Errorf("limactl list --json: %w", err)
		}
		return list, nil
	}
	var list []Instance
	dec := json.NewDecoder(bytes.NewReader(data))
	for {
		var in Instance
		err := dec.Decode(&in)
		if err == io.EOF {
			return list, nil
		}
		if err != nil {
			return nil, fmt.Errorf("limactl list --json: instance %d: %w", len(list)+1, err)
		}
		if in.Name == "" {
			return nil, fmt.Errorf("limactl list --json: instance %d has no name", len(list)+1)
		}
		list = append(list, in)
	}
}
