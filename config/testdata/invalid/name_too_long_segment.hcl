# error: segment names may be at most 10 characters @ 4:9
network "lan" { cidr = "192.168.50.0/24" }
host "h" { network = network.lan }
segment "tenant-long" {
  vni   = 100
  cidr  = "10.100.0.0/24"
  hosts = [host.h]
}
