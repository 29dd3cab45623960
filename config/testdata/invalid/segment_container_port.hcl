# error: a tenant segment has no NAT @ 12:3
network "lan" { cidr = "192.168.50.0/24" }
host "h" { network = network.lan }
segment "s" {
  vni   = 100
  cidr  = "10.100.0.0/24"
  hosts = [host.h]
}
container "c" {
  host    = host.h
  segment = segment.s
  port {
    host_port = 8080
    port      = 80
  }
}
