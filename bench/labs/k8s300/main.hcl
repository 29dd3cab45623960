# A kubernetes-flat-style lab at scale (bench/run.sh): like
# labs/kubernetes-flat (flannel's VXLAN backend, one /24 per node, an
# outside host), but var.pods pods spread evenly over var.nodes nodes, each
# pod with one container process (sleep, so 300 pods fit in memory).

lab {
  name = "bench-k8s"
}

variable "nodes" {
  type    = number
  default = 3
}

variable "pods" {
  type    = number
  default = 300
}

network "lan" {
  cidr = "192.168.233.0/24"
}

host "node" {
  count   = var.nodes
  network = network.lan
}

host "outside" {
  network = network.lan
  address = "192.168.233.200"
}

pod_network "cluster" {
  cidr        = "10.245.0.0/16"
  subnet_bits = 8
  backend     = "vxlan"
  vni         = 1
  port        = 8472
  hosts       = host.node[*]
}

pod "web" {
  count   = var.pods
  host    = host.node[count.index % var.nodes]
  network = pod_network.cluster
  container "app" {
    command = ["sleep", "infinity"]
  }
}

check "pod-to-pod-across-nodes" {
  from = pod.web[0]
  to   = pod.web[1]
  tcp  = 80
}
