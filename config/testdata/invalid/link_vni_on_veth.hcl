# error: it is a veth pair, without a VXLAN vni @ 27:9
network "lan" { cidr = "192.168.50.0/24" }
host "h" {
  count   = 2
  network = network.lan
}
bridge "br" {
  host = host.h[0]
  cidr = "172.20.0.0/24"
}
container "r1" { host = host.h[0] }
container "r2" { host = host.h[0] }
container "r3" { host = host.h[1] }
container "web" {
  host   = host.h[0]
  bridge = bridge.br
}
link "x" {
  endpoint {
    node   = container.r1
    ifname = "eth1"
  }
  endpoint {
    node   = container.r2
    ifname = "eth1"
  }
  vni = 10
}
