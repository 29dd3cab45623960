# error: not inside the pod subnet of host.h in pod_network.cluster (10.244.1.0/24) @ 8:13
network "lan" { cidr = "192.168.50.0/24" }
host "h" { network = network.lan }
pod_network "cluster" { cidr = "10.244.0.0/16" }
pod "p" {
  host    = host.h
  network = pod_network.cluster
  address = "10.244.2.5"
}
