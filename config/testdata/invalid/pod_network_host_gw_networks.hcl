# error: every host must be on one network @ 8:13
network "lan" { cidr = "192.168.50.0/24" }
network "wan" { cidr = "10.0.0.0/24" }
host "a" { network = network.lan }
host "b" { network = network.wan }
pod_network "cluster" {
  cidr    = "10.244.0.0/16"
  backend = "host-gw"
}
