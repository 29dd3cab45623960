# Network virtualisation (stage 5 of the source document): tenant
# segments stretched across hosts over VXLAN.
#
#   host.node[0]                         host.node[1]
#   +----------------------------+       +----------------------------+
#   | lns-tenant-a  (VNI 100)    |=======| lns-tenant-a  (VNI 100)    |
#   |   a[0] 10.100.0.1          | VXLAN |   a[1] 10.100.0.2, a-vm .3 |
#   | lns-tenant-b  (VNI 200)    |=======| lns-tenant-b  (VNI 200)    |
#   |   b[0] 10.100.0.1          |       |   b[1] 10.100.0.2          |
#   +----------------------------+       +----------------------------+
#                    LAN 192.168.90.0/24 (the underlay)
#
# Each tenant is one L2 network across the hosts: a bridge per host and a
# VXLAN device that carries the tenant's frames to the other hosts, tagged
# with the tenant's VNI. Tenants use the same addresses and never see each
# other: a frame only ever reaches bridges of its own VNI.

lab {
  name = "tssdn"
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
  cidr = "192.168.90.0/24"
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

segment "tenant-a" {
  vni   = 100
  cidr  = "10.100.0.0/24"
  hosts = host.node[*]
}

segment "tenant-b" {
  vni   = 200
  cidr  = "10.100.0.0/24" # the same range as tenant-a, on purpose
  hosts = host.node[*]
}

container "a" {
  count   = 2
  host    = host.node[count.index]
  segment = segment.tenant-a
}

container "b" {
  count   = 2
  host    = host.node[count.index]
  segment = segment.tenant-b
}

# A VM joins a tenant segment too: its NIC is a port of the segment's bridge.
vm "a-vm" {
  host    = host.node[1]
  mode    = "segment"
  segment = segment.tenant-a
}

# An operators' segment, and a container on it that also has a second
# interface, eth1, on tenant a (a nic block; containers, VMs and pods take
# them). A namespace on two segments must not see one range twice, so mgmt
# has its own.
segment "mgmt" {
  vni   = 300
  cidr  = "10.200.0.0/24"
  hosts = host.node[*]
}

container "edge" {
  host    = host.node[0]
  segment = segment.mgmt
  nic {
    segment = segment.tenant-a
  }
}

check "tenant-a-across-hosts" {
  from   = container.a[0]
  to     = container.a[1]
  tcp    = 80
  source = container.a[0].address
}

check "tenant-b-across-hosts" {
  from   = container.b[1]
  to     = container.b[0]
  udp    = 53
  source = container.b[1].address
}

# a[0] dials b[1]'s address; in tenant a that address is a[1]'s, so b[1]
# hears nothing.
check "tenants-isolated" {
  from    = container.a[0]
  to      = container.b[1]
  tcp     = 80
  expect  = "blocked"
  timeout = "2s"
}

check "tenant-a-container-to-vm" {
  from   = container.a[0]
  to     = vm.a-vm
  tcp    = 22
  source = container.a[0].address
}

check "second-nic-on-tenant-a" {
  from   = container.edge
  to     = container.a[1]
  tcp    = 23
  source = container.edge.nic[0].address
}

# Tenants are not routed to the LAN either.
check "tenant-cannot-reach-the-lan" {
  from    = container.a[0]
  to      = host.node[1]
  tcp     = 9000
  expect  = "blocked"
  timeout = "2s"
}
