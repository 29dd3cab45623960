# error: at most 40 characters @ 9:14
network "lan" { cidr = "192.168.50.0/24" }
host "h" { network = network.lan }
bridge "br" {
  host = host.h
  cidr = "172.17.0.0/16"
}
container "c" {
  for_each = toset(["abcdefghijklmnopqrstuvwxyz0123456789abcdefgh"])
  host     = host.h
  bridge   = bridge.br
}
