# error: the bridge's own address @ 11:13
network "lan" { cidr = "192.168.50.0/24" }
host "h" { network = network.lan }
bridge "br" {
  host = host.h
  cidr = "172.17.0.0/16"
}
container "a" {
  host    = host.h
  bridge  = bridge.br
  address = "172.17.0.1"
}
