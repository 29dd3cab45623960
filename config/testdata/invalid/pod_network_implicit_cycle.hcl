# error: every pod_network is evaluated after every network, host and bridge @ 4:1
network "lan" { cidr = "192.168.50.0/24" }
host "h" { network = network.lan }
pod_network "k" { cidr = "10.244.0.0/16" }
bridge "b" {
  host = host.h
  cidr = cidrsubnet(pod_network.k.cidr, 8, 200)
}
