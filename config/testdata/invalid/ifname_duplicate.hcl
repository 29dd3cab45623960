# error: already used on host.h by bridge.a @ 12:10
network "lan" { cidr = "192.168.50.0/24" }
host "h" { network = network.lan }
bridge "a" {
  host = host.h
  cidr = "172.17.0.0/16"
  name = "br0"
}
bridge "b" {
  host = host.h
  cidr = "172.18.0.0/16"
  name = "br0"
}
