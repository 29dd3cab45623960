# error: overlaps bridge.cni0 (10.244.0.0/24) on host.h @ 4:32
network "lan" { cidr = "192.168.50.0/24" }
host "h" { network = network.lan }
pod_network "cluster" { cidr = "10.244.0.0/16" }
bridge "cni0" {
  host = host.h
  cidr = "10.244.0.0/24"
}
