# error: must be greater than 0 @ 11:12
network "lan" { cidr = "192.168.50.0/24" }
host "h" { network = network.lan }
bridge "br" {
  host = host.h
  cidr = "172.17.0.0/16"
}
container "c" {
  host   = host.h
  bridge = bridge.br
  rate   = "0mbit"
}
