lab { name = "k8s-flat" }
variable "backend" {
  type    = string
  default = "vxlan"
}
network "lan" { cidr = "192.168.50.0/24" }
host "node" {
  count   = 3
  network = network.lan
}
pod_network "cluster" {
  cidr    = "10.244.0.0/16"
  backend = var.backend
}
pod "web" {
  count   = 3
  host    = host.node[count.index]
  network = pod_network.cluster
  container "app" {
    command = ["python3", "-m", "http.server", "8080"]
  }
  container "sidecar" {
    command = ["sh", "-c", "while sleep 5; do wget -qO- localhost:8080; done"]
  }
}
pod "client" {
  host    = host.node[0]
  network = pod_network.cluster
  address = "10.244.1.100"
  rate    = "10mbit"
  delay   = "1.5s"
  loss    = "100%"
  container "curl" {
    command = ["sleep", "infinity"]
  }
}
pod "empty" {
  host    = host.node[2]
  network = pod_network.cluster
}
process "probe" {
  on      = pod.client
  command = ["wget", "-qO-", "${pod.web[2].address}:8080"]
}
check "cross-node" {
  from = pod.client
  to   = pod.web[2]
  tcp  = 8080
}
check "pod-to-host" {
  from = pod.web[1]
  to   = host.node[0]
  ping = true
}
output "cluster" {
  value = {
    backend = pod_network.cluster.backend
    vni     = pod_network.cluster.vni
    port    = pod_network.cluster.port
    bits    = pod_network.cluster.subnet_bits
    hosts   = [for h in pod_network.cluster.hosts : h.id]
    subnets = pod_network.cluster.subnets
    web     = pod.web[*].address
    names   = [for c in pod.web[0].container : c.name]
    cmd     = pod.web[0].container[1].command[0]
    net     = pod.client.network.id
    ids     = [pod_network.cluster.id, pod_network.cluster.name, pod.client.id, pod.client.name, pod.client.host.id]
  }
}
