package hostnet

// toolPackages are the Debian/Ubuntu packages of the programs labnet's
// steps run on a host.
var toolPackages = map[string]string{
	"ip": "iproute2", "tc": "iproute2", "bridge": "iproute2",
	"nft": "nftables", "python3": "python3-minimal", "runc": "runc",
	"nsenter": "util-linux", "unshare": "util-linux", "tcpdump": "tcpdump",
}

// ToolPackage is the package that installs a program (the program's own
// name when labnet does not know it).
func ToolPackage(tool string) string {
	if p, ok := toolPackages[tool]; ok {
		return p
	}
	return tool
}
