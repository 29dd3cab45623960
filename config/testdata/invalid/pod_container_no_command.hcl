# error: The argument "command" is required @ 8:3
network "lan" { cidr = "192.168.50.0/24" }
host "h" { network = network.lan }
pod_network "cluster" { cidr = "10.244.0.0/16" }
pod "p" {
  host    = host.h
  network = pod_network.cluster
  container "app" {}
}
