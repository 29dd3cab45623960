lab { name = "vms" }
network "lan" { cidr = "192.168.50.0/24" }
host "node" {
  count   = 2
  network = network.lan
}
host "edge" {
  network     = network.lan
  address     = "192.168.50.13"
  nat_network = "10.123.0.0/24"
}
# Bridged VMs share the hosts' pool: the first free address after the hosts.
vm "web" {
  host = host.node[0]
  mode = "bridged"
  rate = "100Mbit" # canonical: "100mbit"
}
vm "db" {
  host    = host.node[1]
  mode    = "bridged"
  address = "192.168.50.40"
}
vm "late" {
  host = host.edge
  mode = "bridged"
}
# NAT VMs: each host has its own nat_network, so both get .2.
vm "app" {
  count = 2
  host  = host.node[count.index]
  mode  = "nat"
  delay = "${10 * (count.index + 1)}ms"
  loss  = "0.50%"
  rate  = "1.5gbit"
  port {
    host_port = 8080
    port      = 80
  }
  port {
    host_port = 5353
    port      = 53
    protocol  = "udp"
  }
}
vm "worker" {
  host = host.node[0]
  mode = "nat"
}
vm "gw" {
  host    = host.edge
  mode    = "nat"
  address = "10.123.0.9"
}
bridge "br" {
  host = host.node[0]
  cidr = "172.17.0.0/16"
}
container "c" {
  host   = host.node[0]
  bridge = bridge.br
  rate   = "125kbps"
  delay  = "0s" # zero: nothing to emulate
  loss   = "0%"
  port {
    host_port = 8081
    port      = 80
  }
}
process "srv" {
  on      = vm.app[1]
  command = ["nc", "-l", "80"]
}
check "bridged" {
  from = vm.web
  to   = vm.db
  ping = true
}
check "published" {
  from    = host.node[0]
  to      = vm.app[1]
  tcp     = 80
  address = "${host.node[1].address}:8080"
}
check "nat-out" {
  from = vm.worker
  to   = host.edge
  ping = true
}
output "vm" {
  value = {
    web    = [vm.web.id, vm.web.name, vm.web.mode, vm.web.address, vm.web.host.id]
    app    = vm.app[*].address
    ports  = [for p in vm.app[0].port : "${p.host_port}/${p.protocol}"]
    nat    = host.edge.nat_network
    gw     = vm.gw.address
    worker = vm.worker.address
    shaping = {
      web   = [vm.web.rate, vm.web.delay, vm.web.loss]
      app   = [for v in vm.app : "${v.rate} ${v.delay} ${v.loss}"]
      c     = [container.c.rate, container.c.delay, container.c.loss]
      unset = vm.worker.rate == null
    }
  }
}
