# error: container.c is on host.b, which segment.s does not reach @ 12:13
network "lan" { cidr = "192.168.50.0/24" }
host "a" { network = network.lan }
host "b" { network = network.lan }
segment "s" {
  vni   = 100
  cidr  = "10.100.0.0/24"
  hosts = [host.a]
}
container "c" {
  host    = host.b
  segment = segment.s
}
