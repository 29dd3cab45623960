# error: is not an interface name @ 21:14
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
    ifname = "eth1 up"
  }
  endpoint {
    node   = container.r3
    ifname = "eth1"
  }
}
