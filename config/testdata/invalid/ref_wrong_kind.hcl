# error: host must be a host, got container.c @ 13:10
network "lan" { cidr = "192.168.50.0/24" }
host "h" { network = network.lan }
bridge "br" {
  host = host.h
  cidr = "172.17.0.0/16"
}
container "c" {
  host   = host.h
  bridge = bridge.br
}
bridge "x" {
  host = container.c
  cidr = "172.18.0.0/16"
}
