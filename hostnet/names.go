// Package hostnet knows the kernel objects labnet makes on a host: how each
// is named and marked, the commands that create, change and delete it (as
// `ip -batch` lines, `nft -f` files and small shell steps), and how to read
// what is really there from `ip -j` and `nft -j` output. It is pure: it
// builds text and parses text; apply sends it over SSH.
package hostnet

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// Names for one lab. Everything labnet makes on a host carries the lab's
// name: netns names start with "ln.<lab>.", links carry the alias
// "labnet:<lab>:<resource>", the nft table is "labnet_<lab>", files live in
// /run/labnet/<lab> (containers' mount and UTS namespaces are bound there),
// processes carry LABNET_OWNER=<lab>/<host>/<resource>.
type Names struct{ Lab string }

// NetnsPrefix starts every namespace the lab makes on a host.
func (n Names) NetnsPrefix() string { return "ln." + n.Lab + "." }

// Netns is the namespace of a guest (container) named name.
func (n Names) Netns(name string) string { return n.NetnsPrefix() + name }

// Alias marks a link as the lab's.
func (n Names) Alias(addr string) string { return "labnet:" + n.Lab + ":" + addr }

// AliasPrefix is what every alias of the lab starts with.
func (n Names) AliasPrefix() string { return "labnet:" + n.Lab + ":" }

// HostVeth is the host-side end of a guest's veth: hashed so that it fits
// IFNAMSIZ and cannot collide with another lab's on the same host.
func (n Names) HostVeth(addr string) string {
	sum := sha256.Sum256([]byte(n.Lab + "\x00" + addr))
	return "ln" + hex.EncodeToString(sum[:])[:10]
}

// Table is the lab's nft table (family inet) on every host.
func (n Names) Table() string { return "labnet_" + strings.ReplaceAll(n.Lab, "-", "_") }

// RunDir holds the lab's files on a host (logs); /run is private per netns host.
func (n Names) RunDir() string { return "/run/labnet/" + n.Lab }

// IsoDir holds the files the lab's containers' mount and UTS namespaces
// are bound on (as `ip netns` binds network namespaces in /run/netns).
func (n Names) IsoDir() string { return n.RunDir() + "/ns" }

// MountNS and UTSNS are the files of the container named name.
func (n Names) MountNS(name string) string { return n.IsoDir() + "/" + name + ".mnt" }
func (n Names) UTSNS(name string) string   { return n.IsoDir() + "/" + name + ".uts" }

// Owner is the value of LABNET_OWNER for a process labnet starts.
func (n Names) Owner(hostName, addr string) string { return n.Lab + "/" + hostName + "/" + addr }

// LogFile is where a process's output is kept on its host.
func (n Names) LogFile(procName string) string { return n.RunDir() + "/" + procName + ".log" }

// MAC is the fixed MAC of the eth0 of a guest or of a netns host (addr is
// its resource address): one made again keeps its MAC, so the ARP caches
// of its neighbours stay right. Locally administered, unicast.
func (n Names) MAC(addr string) string {
	sum := sha256.Sum256([]byte(n.Lab + "\x00mac\x00" + addr))
	return fmt.Sprintf("02:%02x:%02x:%02x:%02x:%02x", sum[0], sum[1], sum[2], sum[3], sum[4])
}
