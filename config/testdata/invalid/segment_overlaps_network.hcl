# error: segment cidr 192.168.50.0/25 of segment.s overlaps network.lan @ 6:11
network "lan" { cidr = "192.168.50.0/24" }
host "h" { network = network.lan }
segment "s" {
  vni   = 100
  cidr  = "192.168.50.0/25"
  hosts = [host.h]
}
