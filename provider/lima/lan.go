package lima

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"github.com/labnet-dev/labnet/provider"
	"github.com/labnet-dev/labnet/remote"
	"gopkg.in/yaml.v3"
)

// userNet is Lima's default user-mode network: every VM has 192.168.5.15
// there, so it is never a LAN address.
var userNet = netip.MustParsePrefix("192.168.5.0/24")

// builtinSubnets are the subnets of Lima's default networks.yaml, used when
// $LIMA_HOME/_config/networks.yaml does not say otherwise.
var builtinSubnets = map[string]netip.Prefix{
	"user-v2": netip.MustParsePrefix("192.168.104.0/24"),
	"shared":  netip.MustParsePrefix("192.168.105.0/24"),
	"host":    netip.MustParsePrefix("192.168.106.0/24"),
}

// subnetOf is the subnet of a Lima network: from networks.yaml (gateway
// and netmask) when it defines one, else Lima's default.
func (p *Provider) subnetOf(network string) (netip.Prefix, bool) {
	if b, err := os.ReadFile(filepath.Join(p.Home, "_config", "networks.yaml")); err == nil {
		var cfg struct {
			Networks map[string]struct {
				Gateway string `yaml:"gateway"`
				Netmask string `yaml:"netmask"`
			} `yaml:"networks"`
		}
		if yaml.Unmarshal(b, &cfg) == nil {
			if n, ok := cfg.Networks[network]; ok {
				gw, err1 := netip.ParseAddr(n.Gateway)
				mask := net.ParseIP(n.Netmask)
				if err1 == nil && gw.Is4() && mask != nil {
					ones, bits := net.IPMask(mask.To4()).Size()
					if bits == 32 {
						return netip.PrefixFrom(gw, ones).Masked(), true
					}
				}
			}
		}
	}
	pfx, ok := builtinSubnets[network]
	return pfx, ok
}

// lanScript lists the guest's interfaces with their IPv4 addresses.
const lanScript = "ip -j -4 addr show"

type ipLink struct {
	IfName   string `json:"ifname"`
	Address  string `json:"address"` // MAC
	AddrInfo []struct {
		Family string `json:"family"`
		Local  string `json:"local"`
		Scope  string `json:"scope"`
	} `json:"addr_info"`
}

// PickLAN chooses the VM's LAN address from `ip -j -4 addr show` output,
// for the instance's Lima networks as `limactl list --json` reports them.
// The rule, first match wins:
//  1. the global IPv4 address of the interface whose MAC address is the
//     one Lima gave the VM's first Lima network (the guest may name that
//     interface lima0 or eth0: the MAC is what both sides agree on);
//  2. a global IPv4 address inside that network's subnet (subnet(name),
//     e.g. 192.168.104.0/24 for user-v2);
//  3. with no Lima network known: the first global IPv4 address outside
//     Lima's user-mode network 192.168.5.0/24 (where every VM has
//     192.168.5.15), on any interface but lo.
func PickLAN(ipAddrJSON []byte, nets []InstanceNetwork, subnet func(string) (netip.Prefix, bool)) (netip.Addr, error) {
	var links []ipLink
	dec := json.NewDecoder(bytes.NewReader(ipAddrJSON))
	if err := dec.Decode(&links); err != nil && err != io.EOF {
		return netip.Addr{}, fmt.Errorf("parse `%s`: %w", lanScript, err)
	}
	globals := func(l ipLink) []netip.Addr {
		var out []netip.Addr
		for _, a := range l.AddrInfo {
			if a.Family != "inet" || a.Scope != "global" {
				continue
			}
			if ip, err := netip.ParseAddr(a.Local); err == nil {
				out = append(out, ip)
			}
		}
		return out
	}
	var seen []string
	for _, l := range links {
		for _, a := range globals(l) {
			seen = append(seen, l.IfName+" "+a.String())
		}
	}
	for _, n := range nets {
		if n.Lima == "" && n.Socket == "" {
			continue
		}
		if n.MACAddress != "" {
			for _, l := range links {
				if strings.EqualFold(l.Address, n.MACAddress) {
					if as := globals(l); len(as) > 0 {
						return as[0], nil
					}
				}
			}
		}
		if pfx, ok := subnet(n.Lima); ok {
			for _, l := range links {
				for _, a := range globals(l) {
					if pfx.Contains(a) {
						return a, nil
					}
				}
			}
			return netip.Addr{}, fmt.Errorf("no address in %s (Lima network %s) on the VM; it has: %s", pfx, n.Lima, strings.Join(seen, ", "))
		}
		return netip.Addr{}, fmt.Errorf("no address on the VM's interface with MAC %s (Lima network %s); it has: %s", n.MACAddress, n.Lima, strings.Join(seen, ", "))
	}
	for _, l := range links {
		if l.IfName == "lo" {
			continue
		}
		for _, a := range globals(l) {
			if !userNet.Contains(a) {
				return a, nil
			}
		}
	}
	return netip.Addr{}, fmt.Errorf("the VM has no address but on Lima's user-mode network (where every VM is 192.168.5.15): give it a Lima network such as user-v2; it has: %s", strings.Join(seen, ", "))
}

func (p *Provider) readLAN(ctx context.Context, c *remote.Conn, in *Instance) (netip.Addr, error) {
	out, err := c.Must(ctx, lanScript)
	if err != nil {
		return netip.Addr{}, err
	}
	return PickLAN(out, in.Networks, p.subnetOf)
}

// LANAddress is the VM's address on the lab's Lima network, where the other
// VMs reach it (not the address labnet dials: that is 127.0.0.1:port). It
// is read over SSH at CreateHost and RepairHost and kept for this process;
// otherwise it is read again. provider.Record has no field for it yet.
func (p *Provider) LANAddress(ctx context.Context, lab string, h provider.Host, rec provider.Record) (netip.Addr, error) {
	name, err := p.VMName(lab, h)
	if err != nil {
		return netip.Addr{}, err
	}
	p.mu.Lock()
	a, ok := p.lan[name]
	p.mu.Unlock()
	if ok {
		return a, nil
	}
	in, err := p.find(ctx, name)
	if err != nil {
		return netip.Addr{}, err
	}
	if in == nil {
		return netip.Addr{}, fmt.Errorf("%s: Lima VM %s does not exist", h.Addr, name)
	}
	t, err := p.target(h, in, rec)
	if err != nil {
		return netip.Addr{}, err
	}
	t.Timeout = p.sshTimeout
	c, err := remote.Dial(ctx, t)
	if err != nil {
		return netip.Addr{}, err
	}
	defer c.Close()
	if a, err = p.readLAN(ctx, c, in); err != nil {
		return netip.Addr{}, fmt.Errorf("%s: %w", h.Addr, err)
	}
	p.setLAN(name, a)
	return a, nil
}
