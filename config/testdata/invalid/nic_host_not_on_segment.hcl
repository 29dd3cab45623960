# error: which segment.t does not reach @ 19:15
network "lan" { cidr = "192.168.50.0/24" }
host "a" { network = network.lan }
host "b" { network = network.lan }
segment "t" {
  vni   = 100
  cidr  = "10.100.0.0/24"
  hosts = [host.a]
}
segment "u" {
  vni   = 200
  cidr  = "10.200.0.0/24"
  hosts = [host.b]
}
container "c" {
  host    = host.b
  segment = segment.u
  nic {
    segment = segment.t
  }
}
