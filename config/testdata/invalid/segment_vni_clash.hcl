# error: vni 100 of segment.b is already used by segment.a @ 10:11
network "lan" { cidr = "192.168.50.0/24" }
host "h" { network = network.lan }
segment "a" {
  vni   = 100
  cidr  = "10.100.0.0/24"
  hosts = [host.h]
}
segment "b" {
  vni   = 100
  cidr  = "10.101.0.0/24"
  hosts = [host.h]
}
