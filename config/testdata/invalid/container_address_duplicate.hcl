# error: address 172.17.0.2 of container.b is already used by container.a @ 15:13
network "lan" { cidr = "192.168.50.0/24" }
host "h" { network = network.lan }
bridge "br" {
  host = host.h
  cidr = "172.17.0.0/16"
}
container "a" {
  host   = host.h
  bridge = bridge.br
}
container "b" {
  host    = host.h
  bridge  = bridge.br
  address = "172.17.0.2"
}
