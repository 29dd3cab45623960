# Kubernetes' flat pod network (stage 4 of the source document), built the
# way flannel builds it.
#
#            pod_network "cluster" 10.244.0.0/16, one /24 per node
#   host.node[0] .11           host.node[1] .12           host.node[2] .13
#   cni0 10.244.1.1/24         cni0 10.244.2.1/24         cni0 10.244.3.1/24
#   flannel.1 10.244.1.0/32    flannel.1 10.244.2.0/32    flannel.1 10.244.3.0/32
#   pods 10.244.1.2, .3        pods 10.244.2.2, .3        pods 10.244.3.2, .3
#        \___________________ VXLAN (UDP 8472) over the LAN ________/
#                         LAN 192.168.80.0/24          host.outside .14
#
# Every pod has one address, unique in the cluster and routable from every
# pod and every node: no port forwarding, no NAT inside the cluster, and the
# address a pod reads from its own eth0 is the one its peers see. Each node
# knows, for every other node, its pod subnet, its address and its VXLAN
# device's MAC: a neighbour entry, a forwarding entry and a route per node.
# With backend = "host-gw" (nodes on one L2 LAN) the same is done with
# plain routes via the other nodes' addresses. Only traffic that leaves the
# cluster (to host.outside here) is masqueraded.
#
#   labnet apply -var backend=host-gw    # the same lab without VXLAN
#   labnet apply -var provider=lima -var nodes=2 -var lima_template=/path/template.yaml
#                                        # on three Lima VMs: two nodes and the outside

lab {
  name = "tsk8s"
}

variable "backend" {
  type        = string
  default     = "vxlan"
  description = "vxlan (flannel's default) or host-gw."
}

variable "nodes" {
  type    = number
  default = 3
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
  cidr = "192.168.80.0/24"
}

host "node" {
  count    = var.nodes
  network  = network.lan
  provider = var.provider
  lima {
    template = var.lima_template # used only on Lima
    cpus     = 1
    memory   = "1GiB"
  }
}

# Not part of the cluster: "the outside", for masquerade.
host "outside" {
  network  = network.lan
  provider = var.provider
  address  = "192.168.80.200"
  lima {
    template = var.lima_template # used only on Lima
    cpus     = 1
    memory   = "1GiB"
  }
}

pod_network "cluster" {
  cidr        = "10.244.0.0/16"
  subnet_bits = 8
  backend     = var.backend
  vni         = 1
  port        = 8472
  hosts       = host.node[*]
}

# Two pods per node. Each pod is one network namespace; its containers are
# processes that share it and talk over localhost.
pod "web" {
  count   = var.nodes * 2
  host    = host.node[floor(count.index / 2)] # web[0], web[1] on node[0]; ...
  network = pod_network.cluster
  container "app" {
    command = ["python3", "-m", "http.server", "8000", "--bind", "0.0.0.0"]
  }
  container "sidecar" {
    # Fetches the app over localhost, as a log shipper or a proxy would.
    command = ["sh", "-c", "while true; do python3 -c 'import urllib.request; urllib.request.urlopen(\"http://127.0.0.1:8000/\", timeout=2)' && echo ok; sleep 5; done"]
  }
}

check "pod-to-pod-across-nodes" {
  from   = pod.web[0]
  to     = pod.web[2]
  tcp    = 80
  source = pod.web[0].address
}

# The checks name pods and nodes relative to var.nodes, so that the lab also
# runs on two nodes (as on Lima VMs); with three nodes they are pod.web[5],
# pod.web[4] and host.node[2].
check "pod-to-pod-other-direction" {
  from   = pod.web[var.nodes * 2 - 1] # the last node's second pod
  to     = pod.web[1]
  udp    = 53
  source = pod.web[var.nodes * 2 - 1].address
}

check "node-to-pod" {
  from   = host.node[0]
  to     = pod.web[var.nodes * 2 - 2] # the last node's first pod
  tcp    = 80
  source = host.node[0].address
}

check "pod-to-node" {
  from   = pod.web[2]               # on node 1
  to     = host.node[2 % var.nodes] # another node: node 2, or node 0 of two
  tcp    = 9000
  source = pod.web[2].address
}

check "pod-sees-its-own-ip" {
  from = pod.web[var.nodes * 2 - 1]
  exec = "ip -4 -o addr show dev eth0 | grep -q ' ${pod.web[var.nodes * 2 - 1].address}/'"
}

check "containers-of-a-pod-on-localhost" {
  from = pod.web[0]
  exec = "python3 -c 'import urllib.request; urllib.request.urlopen(\"http://127.0.0.1:8000/\", timeout=3)'"
  # The server may still be starting right after apply: try for a while.
  within = "15s"
}

check "pod-to-outside-is-masqueraded" {
  from   = pod.web[0]
  to     = host.outside
  tcp    = 9000
  source = host.node[0].address
}

output "pods" {
  value = { for p in pod.web : p.id => "${p.address} on ${p.host.name}" }
}
