# error: hosts lists host.h more than once @ 7:20
network "lan" { cidr = "192.168.50.0/24" }
host "h" { network = network.lan }
segment "s" {
  vni   = 100
  cidr  = "10.100.0.0/24"
  hosts = [host.h, host.h]
}
