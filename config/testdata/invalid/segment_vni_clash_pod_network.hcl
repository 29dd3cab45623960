# error: vni 1 of segment.s clashes with pod_network.cluster @ 5:11
network "lan" { cidr = "192.168.50.0/24" }
host "h" { network = network.lan }
segment "s" {
  vni   = 1
  cidr  = "10.100.0.0/24"
  hosts = [host.h]
  port  = 8472
}
pod_network "cluster" { cidr = "10.244.0.0/16" }
