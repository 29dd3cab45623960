# error: joins a segment with mode = "segment" @ 12:13
network "lan" { cidr = "192.168.50.0/24" }
host "h" { network = network.lan }
segment "t" {
  vni   = 100
  cidr  = "10.100.0.0/24"
  hosts = [host.h]
}
vm "v" {
  host    = host.h
  mode    = "nat"
  segment = segment.t
}
