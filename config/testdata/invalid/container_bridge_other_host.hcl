# error: bridge bridge.br is on host.h @ 11:12
network "lan" { cidr = "192.168.50.0/24" }
host "h" { network = network.lan }
bridge "br" {
  host = host.h
  cidr = "172.17.0.0/16"
}
host "g" { network = network.lan }
container "c" {
  host   = host.g
  bridge = bridge.br
}
