# VMs, bridged and behind NAT (stage 2 of the source document).
#
#                       LAN 192.168.70.0/24
#   ---+----------------------+------------------------+-------------
#      |                      |                        |
#   host.node[0] .11 on lanbr  vm.bridged .21 (on the LAN itself)
#   +--------------------------------+     host.node[1] .12
#   | virbr0 192.168.122.1 (NAT)     |     +----------------------------+
#   |   vm.nat[0]   192.168.122.2:80 |     | virbr0 192.168.122.1 (NAT) |
#   |   vm.peer     192.168.122.3    |     |   vm.nat[1] 192.168.122.2  |
#   |   host :8080 -> vm.nat[0]:80   |     |   host :8080 -> vm.nat[1]  |
#   +--------------------------------+     +----------------------------+
#
# Bridged: the VM's NIC is on a bridge that holds the host's own LAN
# interface (the one with the host's address; its addresses and routes
# move to that bridge), so the VM is one more machine on the LAN: everyone
# reaches it at its own LAN address.
# NAT: each host runs a virtual router (virbr0) that hands its guests
# private addresses and masquerades them on the way out. From another host
# a NAT VM is reached only through its host's IP and a forwarded port; two
# hosts give their VMs the SAME private address at once.

lab {
  name = "tsvms"
}

variable "provider" {
  type        = string
  default     = "netns"
  description = "Where the hosts come from: netns (this machine), ssh (existing machines at the hosts' addresses), lima (VMs)."
}

variable "lima_template" {
  type        = string
  default     = "template://_images/debian-12"
  description = "The Lima template of the VMs; used only with provider = \"lima\" (e.g. the offline template of shared/lima, an absolute path). The default is Lima's Debian 12 image (downloaded) without template://debian-12's mount of the home directory."
}

network "lan" {
  cidr = "192.168.70.0/24"
}

host "node" {
  count    = 2
  network  = network.lan
  provider = var.provider
  lima {
    template = var.lima_template # used only on Lima
    cpus     = 1
    memory   = "1GiB"
  }
}

vm "bridged" {
  host    = host.node[0]
  mode    = "bridged"
  address = "192.168.70.21"
}

# One NAT VM per host, both at 192.168.122.2 (each host's first guest).
vm "nat" {
  count = 2
  host  = host.node[count.index]
  mode  = "nat"
  port {
    host_port = 8080
    port      = 80
  }
}

vm "peer" {
  host = host.node[0]
  mode = "nat"
}

check "bridged-reachable-on-the-lan" {
  from   = host.node[1]
  to     = vm.bridged
  tcp    = 80
  source = host.node[1].address
}

check "bridged-reaches-hosts-directly" {
  from   = vm.bridged
  to     = host.node[1]
  tcp    = 9000
  source = vm.bridged.address
}

# host.node[1] dials 192.168.122.2: its own NAT VM answers to that address,
# so vm.nat[0] hears nothing.
check "nat-not-reachable-directly" {
  from    = host.node[1]
  to      = vm.nat[0]
  tcp     = 80
  address = vm.nat[0].address
  expect  = "blocked"
  timeout = "2s"
}

check "nat-through-forwarded-port" {
  from    = host.node[1]
  to      = vm.nat[0]
  tcp     = 80
  address = "${host.node[0].address}:8080"
  source  = host.node[1].address
}

# The other host's VM has the same private address and answers through its
# own host's forward.
check "same-address-other-host" {
  from    = host.node[0]
  to      = vm.nat[1]
  tcp     = 80
  address = "${host.node[1].address}:8080"
  source  = host.node[0].address
}

check "same-private-address" {
  from = host.node[0]
  exec = "test ${vm.nat[0].address} = ${vm.nat[1].address}"
}

check "nat-masquerades-out" {
  from   = vm.nat[0]
  to     = host.node[1]
  tcp    = 9001
  source = host.node[0].address
}

check "same-guest-localhost" {
  from    = vm.nat[0]
  to      = vm.nat[0]
  tcp     = 7000
  address = "127.0.0.1"
  source  = "127.0.0.1"
}

check "same-host-guest-to-guest" {
  from   = vm.peer
  to     = vm.nat[0]
  tcp    = 81
  source = vm.peer.address
}

output "vms" {
  value = {
    bridged = vm.bridged.address
    nat     = [for v in vm.nat : "${v.address} on ${v.host.name}"]
  }
}
