# error: sets both bridge and segment @ 16:3
network "lan" { cidr = "192.168.50.0/24" }
host "h" { network = network.lan }
bridge "br" {
  host = host.h
  cidr = "172.17.0.0/16"
}
segment "s" {
  vni   = 100
  cidr  = "10.100.0.0/24"
  hosts = [host.h]
}
container "c" {
  host    = host.h
  bridge  = bridge.br
  segment = segment.s
}
