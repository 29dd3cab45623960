# error: overlaps bridge.a @ 10:10
network "lan" { cidr = "192.168.50.0/24" }
host "h" { network = network.lan }
bridge "a" {
  host = host.h
  cidr = "172.17.0.0/16"
}
bridge "b" {
  host = host.h
  cidr = "172.17.5.0/24"
}
